//! Real-time signal queueing and pending-signal bookkeeping: a second instance of a
//! real-time signal is queued with its own `si_value` (a standard one is merged),
//! `RLIMIT_SIGPENDING` makes `rt_sigqueueinfo` fail with `EAGAIN`, a blocked signal
//! whose action is to ignore it stays pending, and (LTP kill10's mechanism) a signal
//! sent to a process group reaches every member, whose replies name them in `si_pid`.
//!
//! Runs as root on a Linux host too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use ulib::signal::{SigInfo, block, sigqueueinfo, sigtimedwait};
    use ulib::sys::{self, SIGUSR1, SIGUSR2, SysResult, errno::*, sigbit};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{check, check_eq, check_ok};

    const NR_SETRLIMIT: usize = 160;
    const RLIMIT_SIGPENDING: usize = 11;
    const SI_USER: i32 = 0;
    const SI_QUEUE: i32 = -1;
    const SIG_UNBLOCK: usize = 1;
    const SIG_IGN: usize = 1;
    const SIGCHLD: i32 = 17;
    const SIGURG: i32 = 23;
    const SIGWINCH: i32 = 28;
    /// Linux's SIGRTMIN is 32; libc keeps a few for itself, so use ones above.
    const RT_A: i32 = 40;
    const RT_B: i32 = 41;

    fn sigqueue(pid: i32, sig: i32, value: u64) -> SysResult<()> {
        let info = SigInfo::new(sig, SI_QUEUE, sys::getpid() as u32, value);
        sigqueueinfo(pid, sig, &info).map(|_| ())
    }

    /// A pending signal of `set`, waiting up to `wait_ms`: (signo, si_code, si_pid, si_value).
    fn take(set: u64, wait_ms: u64) -> SysResult<(i32, i32, u32, u64)> {
        let (sig, i) = sigtimedwait(set, Some(wait_ms * 1_000_000))?;
        Ok((sig, i.code, i.pid(), i.third()))
    }

    fn setrlimit(res: usize, cur: u64, max: u64) -> SysResult<()> {
        let lim = [cur, max];
        // SAFETY: a live rlimit.
        sys::check(unsafe { sys::syscall2(NR_SETRLIMIT, res, &lim as *const _ as usize) })
            .map(|_| ())
    }

    fn rt_signal_instances_queue_with_their_values() {
        let pid = fork_run(|| {
            let me = sys::getpid();
            block(sigbit(RT_A) | sigbit(SIGUSR1));
            check_ok!(sigqueue(me, RT_A, 7));
            check_ok!(sigqueue(me, RT_A, 9));
            check_ok!(sigqueue(me, RT_A, 11));
            check_eq!(check_ok!(sys::sigpending()) & sigbit(RT_A), sigbit(RT_A));
            check_eq!(take(sigbit(RT_A), 0), Ok((RT_A, SI_QUEUE, me as u32, 7)));
            check_eq!(
                check_ok!(sys::sigpending()) & sigbit(RT_A),
                sigbit(RT_A),
                "still pending: two more queued"
            );
            check_eq!(take(sigbit(RT_A), 0), Ok((RT_A, SI_QUEUE, me as u32, 9)));
            check_eq!(take(sigbit(RT_A), 0), Ok((RT_A, SI_QUEUE, me as u32, 11)));
            check_eq!(take(sigbit(RT_A), 0), Err(EAGAIN));
            check_eq!(check_ok!(sys::sigpending()) & sigbit(RT_A), 0);
            // A standard signal is not queued: the second merges into the first.
            check_ok!(sigqueue(me, SIGUSR1, 1));
            check_ok!(sigqueue(me, SIGUSR1, 2));
            check_eq!(
                take(sigbit(SIGUSR1), 0),
                Ok((SIGUSR1, SI_QUEUE, me as u32, 1))
            );
            check_eq!(take(sigbit(SIGUSR1), 0), Err(EAGAIN));
            // Ignoring a real-time signal drops every queued instance.
            check_ok!(sigqueue(me, RT_A, 1));
            check_ok!(sigqueue(me, RT_A, 2));
            let ign = sys::SigAction {
                handler: SIG_IGN,
                ..Default::default()
            };
            check_ok!(sys::sigaction(RT_A, Some(&ign), None));
            check_eq!(take(sigbit(RT_A), 0), Err(EAGAIN));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn rlimit_sigpending_refuses_sigqueue_with_eagain() {
        let pid = fork_run(|| {
            let me = sys::getpid();
            block(sigbit(RT_A) | sigbit(RT_B));
            check_ok!(setrlimit(RLIMIT_SIGPENDING, 2, 2));
            check_ok!(sigqueue(me, RT_A, 1));
            check_ok!(sigqueue(me, RT_B, 2));
            check_eq!(sigqueue(me, RT_A, 3), Err(EAGAIN), "two queued of two");
            check_eq!(sigqueue(me, RT_B, 4), Err(EAGAIN));
            // kill's real-time signal is kept over the limit (Linux drops only its info).
            check_ok!(sys::kill(me, RT_A));
            check_eq!(take(sigbit(RT_A), 0), Ok((RT_A, SI_QUEUE, me as u32, 1)));
            check_eq!(sigqueue(me, RT_A, 5), Ok(()), "room again");
            check_eq!(take(sigbit(RT_A), 0), Ok((RT_A, SI_QUEUE, me as u32, 5)));
            check_eq!(take(sigbit(RT_B), 0), Ok((RT_B, SI_QUEUE, me as u32, 2)));
            check_eq!(take(sigbit(RT_A) | sigbit(RT_B), 0), Err(EAGAIN));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn blocked_ignored_signals_stay_pending() {
        let pid = fork_run(|| {
            let me = sys::getpid();
            let set = sigbit(SIGURG) | sigbit(SIGWINCH) | sigbit(SIGUSR2) | sigbit(SIGCHLD);
            block(set);
            let ign = sys::SigAction {
                handler: SIG_IGN,
                ..Default::default()
            };
            check_ok!(sys::sigaction(SIGUSR2, Some(&ign), None));
            check_ok!(sys::kill(me, SIGURG));
            check_ok!(sys::kill(me, SIGWINCH));
            check_ok!(sys::kill(me, SIGUSR2));
            let child = fork_run(|| {});
            check_eq!(wait_exit(child), Exit::Code(0));
            check_eq!(
                check_ok!(sys::sigpending()) & set,
                set,
                "default-ignore and SIG_IGN signals stay pending while blocked"
            );
            check_ok!(sys::sigprocmask(SIG_UNBLOCK, Some(set)));
            check_eq!(
                check_ok!(sys::sigpending()) & set,
                0,
                "unblocked: discarded"
            );
            check_ok!(sys::kill(me, SIGURG));
            check_eq!(
                check_ok!(sys::sigpending()) & set,
                0,
                "unblocked: never pending"
            );
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// LTP kill10's mechanism: a manager leads a process group of children; a signal
    /// to the group reaches all of them, and each child's reply (a real-time signal, so
    /// replies arriving together are all kept) names it in `si_pid`.
    fn group_signal_reaches_members_and_replies_name_them() {
        const N: usize = 4;
        let manager = fork_run(|| {
            check_ok!(ulib::container::setpgid(0, 0));
            block(sigbit(SIGUSR1) | sigbit(RT_B));
            let mut kids = [0i32; N];
            for k in kids.iter_mut() {
                *k = fork_run(|| {
                    let go = take(sigbit(SIGUSR1), 10_000);
                    check_eq!(go.map(|g| (g.0, g.1)), Ok((SIGUSR1, SI_USER)));
                    check_ok!(sys::kill(sys::getppid(), RT_B));
                });
            }
            // Every member of the group, the manager too, gets one SIGUSR1.
            check_ok!(sys::kill(0, SIGUSR1));
            check_eq!(take(sigbit(SIGUSR1), 1000).map(|g| g.0), Ok(SIGUSR1));
            let mut seen = [false; N];
            for _ in 0..N {
                let (sig, code, from, _) = check_ok!(take(sigbit(RT_B), 10_000));
                check_eq!((sig, code), (RT_B, SI_USER));
                match kids.iter().position(|&k| k as u32 == from) {
                    Some(i) => {
                        check!(!seen[i], "one reply per child");
                        seen[i] = true;
                    }
                    None => check!(false, "si_pid is none of the children"),
                }
            }
            for k in kids {
                check_eq!(wait_exit(k), Exit::Code(0));
            }
        });
        check_eq!(wait_exit(manager), Exit::Code(0));
    }

    ulib::test_main!(
        rt_signal_instances_queue_with_their_values,
        rlimit_sigpending_refuses_sigqueue_with_eagain,
        blocked_ignored_signals_stay_pending,
        group_signal_reaches_members_and_replies_name_them,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
