//! kill(-1, sig) as Linux's kill_something_info: every process the caller sees except its own
//! PID container's init and itself; 0 when there were targets, even if it may signal none of
//! them (Linux counts only errors other than EPERM); ESRCH when there is nobody. The suite's
//! init cleans up after each program this way. Each case runs inside a PID container of its
//! own, so the broadcast stays there.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use ulib::container::{CLONE_NEWPID, SIGCHLD_EXIT, clone_run, sleep_forever};
    use ulib::cred::setresuid;
    use ulib::sys::{self, SIGKILL, SIGTERM, errno::*};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{check_eq, test_main};

    /// Runs `f` as the init of a new PID container and checks that it passed.
    fn in_container(f: impl FnOnce()) {
        let pid = clone_run(CLONE_NEWPID | SIGCHLD_EXIT, f);
        check_eq!(
            pid.map(wait_exit),
            Ok(Exit::Code(0)),
            "the container's init"
        );
    }

    fn sleeper() -> i32 {
        fork_run(|| sleep_forever())
    }

    fn kill_minus_one_kills_all_but_the_init_and_the_caller() {
        in_container(|| {
            let a = sleeper();
            let b = sleeper();
            let killer = fork_run(|| {
                check_eq!(sys::kill(-1, SIGKILL), Ok(0));
            });
            check_eq!(wait_exit(killer), Exit::Code(0), "the caller survives");
            check_eq!(wait_exit(a), Exit::Signal(SIGKILL));
            check_eq!(wait_exit(b), Exit::Signal(SIGKILL));
            // This init was spared: it is still here to check.
            check_eq!(sys::getpid(), 1);
        });
    }

    fn kill_minus_one_is_0_when_no_target_may_be_signalled() {
        in_container(|| {
            let root_owned = sleeper();
            let user = fork_run(|| {
                check_eq!(setresuid(1000, 1000, 1000), Ok(0));
                check_eq!(sys::kill(root_owned, 0), Err(EPERM), "not allowed");
                check_eq!(sys::kill(-1, 0), Ok(0), "Linux: EPERMs are not counted");
                check_eq!(sys::kill(-1, SIGTERM), Ok(0));
            });
            check_eq!(wait_exit(user), Exit::Code(0));
            check_eq!(sys::kill(root_owned, 0), Ok(0), "the root-owned one lives");
            check_eq!(sys::kill(root_owned, SIGKILL), Ok(0));
            check_eq!(wait_exit(root_owned), Exit::Signal(SIGKILL));
        });
    }

    fn kill_minus_one_with_nobody_else_is_esrch() {
        in_container(|| {
            check_eq!(sys::kill(-1, 0), Err(ESRCH));
            check_eq!(sys::kill(-1, SIGKILL), Err(ESRCH));
        });
    }

    test_main!(
        kill_minus_one_kills_all_but_the_init_and_the_caller,
        kill_minus_one_is_0_when_no_target_may_be_signalled,
        kill_minus_one_with_nobody_else_is_esrch,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
