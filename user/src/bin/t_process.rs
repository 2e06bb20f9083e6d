//! Process life cycle: fork/wait and exit statuses, orphans and zombies, signals (default
//! actions, handlers, masks, SIGCHLD), threads with futex and CLONE_CHILD_CLEARTID, ids,
//! sleeping, execve and exit_group. Every case holds on Linux; the orphan case is stricter
//! when run by Bulkhead's init as PID 1 (`BULKHEAD_INIT=1`).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use ulib::rt::{set_disposition, set_handler};
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check, check_eq, check_ne, check_ok, thread};

    /// Reads a little-endian u32 from `fd` (`None` at EOF or on error).
    fn read_u32(fd: i32) -> Option<u32> {
        let mut b = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match read(fd, &mut b[got..]) {
                Ok(0) | Err(_) => return None,
                Ok(n) => got += n,
            }
        }
        Some(u32::from_le_bytes(b))
    }

    fn sleep_forever() -> ! {
        loop {
            let _ = sleep_ms(1000);
        }
    }

    /// fork returns the child's pid in the parent; the child's exit code reaches wait4.
    fn fork_child_exit_code_reaches_wait4() {
        let pid = check_ok!(fork());
        if pid == 0 {
            exit(42);
        }
        check!(pid > 0);
        let (got, status) = check_ok!(wait4(pid, 0));
        check_eq!(got, pid);
        check!(wifexited(status));
        check_eq!(wexitstatus(status), 42);
    }

    /// wait4 status words as Linux encodes them: exit code << 8, or the signal number.
    fn wait4_status_encoding() {
        let pid = check_ok!(fork());
        if pid == 0 {
            exit(3);
        }
        check_eq!(check_ok!(waitpid(pid)), 3 << 8);
        let pid = fork_run(|| sleep_forever());
        check_ok!(kill(pid, SIGKILL));
        check_eq!(check_ok!(waitpid(pid)), SIGKILL);
    }

    /// WNOHANG returns 0 while the child runs; wait4(-1) then returns it when it exits.
    fn wait4_wnohang_returns_zero_while_child_runs() {
        let [r, w] = check_ok!(pipe());
        let pid = fork_run(|| {
            let _ = close(w);
            let mut b = [0u8; 1];
            let _ = read(r, &mut b);
        });
        check_ok!(close(r));
        check_eq!(wait4(pid, WNOHANG), Ok((0, 0)));
        check_eq!(wait4(-1, WNOHANG).map(|(p, _)| p), Ok(0));
        check_ok!(close(w)); // the child sees EOF and exits 0
        let (got, status) = check_ok!(wait4(-1, 0));
        check_eq!(got, pid);
        check_eq!(Exit::from_status(status), Exit::Code(0));
    }

    /// wait4 with no children gives ECHILD, also for a pid that is not our child.
    fn wait4_without_children_gives_echild() {
        check_eq!(wait4(-1, 0), Err(ECHILD));
        check_eq!(wait4(-1, WNOHANG), Err(ECHILD));
        check_eq!(wait4(getppid(), 0), Err(ECHILD));
    }

    /// A child whose parent exits is re-parented (to init when init is PID 1 and no subreaper).
    fn orphan_is_reparented() {
        let [r, w] = check_ok!(pipe());
        let middle = fork_run(|| {
            let middle = getpid();
            if fork_run(move || {
                // Wait (at most ~2 s) for our parent to be gone, then report the new parent.
                for _ in 0..200 {
                    if getppid() != middle {
                        break;
                    }
                    let _ = sleep_ms(10);
                }
                let _ = write_all(w, &(getppid() as u32).to_le_bytes());
            }) <= 0
            {
                exit(2);
            }
        });
        check_ok!(close(w));
        check_eq!(wait_exit(middle), Exit::Code(0));
        let new_parent = read_u32(r).map(|p| p as i32);
        check_ok!(close(r));
        check!(new_parent.is_some(), "the orphan did not report");
        check_ne!(new_parent, Some(middle));
        check_ne!(new_parent, Some(0));
        // Bulkhead only: under its init (PID 1) orphans go to PID 1. On a Linux host the new
        // parent may be a subreaper, so only "not the dead parent" is checked there.
        if ulib::test::under_pid1_init() {
            check_eq!(new_parent, Some(1));
        }
    }

    /// An exited child is a zombie ("State: Z") in /proc until reaped; then /proc/PID is gone.
    fn zombie_visible_in_proc_until_reaped() {
        let pid = check_ok!(fork());
        if pid == 0 {
            exit(0);
        }
        let path = alloc::ffi::CString::new(alloc::format!("/proc/{}/status", pid)).unwrap();
        let mut zombie = false;
        for _ in 0..200 {
            let mut buf = [0u8; 1024];
            let fd = check_ok!(open(&path, O_RDONLY, 0));
            let n = read(fd, &mut buf).unwrap_or(0);
            let _ = close(fd);
            let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
            let state = text.lines().find(|l| l.starts_with("State:"));
            if state.is_some_and(|l| l["State:".len()..].trim_start().starts_with('Z')) {
                zombie = true;
                break;
            }
            let _ = sleep_ms(10);
        }
        check!(zombie, "/proc/{}/status never showed State: Z", pid);
        check_eq!(check_ok!(waitpid(pid)), 0);
        check_eq!(open(&path, O_RDONLY, 0), Err(ENOENT));
    }

    /// SIGTERM's default action terminates; wait4 reports the signal.
    fn sigterm_default_action_terminates() {
        let pid = fork_run(|| sleep_forever());
        check_ok!(kill(pid, SIGTERM));
        let status = check_ok!(waitpid(pid));
        check!(wifsignaled(status));
        check_eq!(wtermsig(status), SIGTERM);
        check_eq!(kill(pid, 0), Err(ESRCH));
    }

    /// SIGKILL and SIGSTOP cannot get handlers (EINVAL); bad signal numbers give EINVAL.
    fn sigkill_cannot_be_caught() {
        extern "C" fn h(_: i32) {}
        check_eq!(set_handler(SIGKILL, h, 0, 0), Err(EINVAL));
        check_eq!(set_handler(19, h, 0, 0), Err(EINVAL));
        check_eq!(set_handler(0, h, 0, 0), Err(EINVAL));
        check_eq!(set_handler(65, h, 0, 0), Err(EINVAL));
    }

    static USR1_COUNT: AtomicUsize = AtomicUsize::new(0);
    static USR1_SIG: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_usr1(sig: i32) {
        USR1_SIG.store(sig as usize, Ordering::SeqCst);
        USR1_COUNT.fetch_add(1, Ordering::SeqCst);
    }

    /// A handler installed with SA_RESTORER runs for a self-sent signal before kill returns,
    /// and rt_sigreturn resumes the interrupted code with its registers intact.
    fn user_handler_runs_and_returns() {
        USR1_COUNT.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGUSR1, on_usr1, 0, 0));
        let mut old = SigAction::default();
        check_ok!(sigaction(SIGUSR1, None, Some(&mut old)));
        check_eq!(old.handler, on_usr1 as *const () as usize);
        let live = core::hint::black_box(0x1234_5678_u64);
        check_ok!(kill(getpid(), SIGUSR1));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 1);
        check_eq!(USR1_SIG.load(Ordering::SeqCst), SIGUSR1 as usize);
        check_eq!(core::hint::black_box(live), 0x1234_5678);
        check_ok!(tgkill(getpid(), gettid(), SIGUSR1));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 2);
        check_ok!(set_disposition(SIGUSR1, SIG_DFL));
    }

    /// A blocked signal stays pending (rt_sigpending) and is delivered once unblocked.
    fn blocked_signal_pending_until_unblocked() {
        USR1_COUNT.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGUSR1, on_usr1, 0, 0));
        let old = check_ok!(sigprocmask(SIG_BLOCK, Some(sigbit(SIGUSR1))));
        check_eq!(old & sigbit(SIGUSR1), 0);
        check_ok!(kill(getpid(), SIGUSR1));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 0);
        check_eq!(check_ok!(sigpending()) & sigbit(SIGUSR1), sigbit(SIGUSR1));
        let mask = check_ok!(sigprocmask(SIG_UNBLOCK, Some(sigbit(SIGUSR1))));
        check_eq!(mask & sigbit(SIGUSR1), sigbit(SIGUSR1));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 1);
        check_eq!(check_ok!(sigpending()) & sigbit(SIGUSR1), 0);
        // SIGKILL cannot be blocked: the kernel silently drops it from the mask.
        check_ok!(sigprocmask(SIG_BLOCK, Some(sigbit(SIGKILL))));
        check_eq!(check_ok!(sigprocmask(SIG_BLOCK, None)) & sigbit(SIGKILL), 0);
        check_ok!(sigprocmask(SIG_SETMASK, Some(old)));
        check_ok!(set_disposition(SIGUSR1, SIG_DFL));
    }

    /// An ignored signal does nothing; SIG_IGN for SIGTERM keeps the child alive.
    fn ignored_signal_is_discarded() {
        let [r, w] = check_ok!(pipe());
        let pid = fork_run(|| {
            let _ = close(w);
            let _ = set_disposition(SIGTERM, SIG_IGN);
            let _ = kill(getpid(), SIGTERM);
            let mut b = [0u8; 1];
            let _ = read(r, &mut b); // wait for the parent's go
        });
        check_ok!(close(r));
        let _ = sleep_ms(20);
        check_ok!(kill(pid, SIGTERM));
        check_ok!(close(w));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    static CHLD_COUNT: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_chld(_: i32) {
        CHLD_COUNT.fetch_add(1, Ordering::SeqCst);
    }

    /// A child's exit sends SIGCHLD to the parent (pending while blocked, handled on unblock).
    fn sigchld_sent_to_parent() {
        CHLD_COUNT.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGCHLD, on_chld, SA_RESTART, 0));
        let old = check_ok!(sigprocmask(SIG_BLOCK, Some(sigbit(SIGCHLD))));
        let pid = fork_run(|| {});
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(check_ok!(sigpending()) & sigbit(SIGCHLD), sigbit(SIGCHLD));
        check_eq!(CHLD_COUNT.load(Ordering::SeqCst), 0);
        check_ok!(sigprocmask(SIG_SETMASK, Some(old)));
        check_eq!(CHLD_COUNT.load(Ordering::SeqCst), 1);
        check_ok!(set_disposition(SIGCHLD, SIG_DFL));
    }

    /// Threads share memory, have their own tid, the process's pid, and join via the
    /// CLONE_CHILD_CLEARTID futex wake.
    fn threads_share_memory_and_join() {
        let counter = Arc::new(AtomicUsize::new(0));
        let ids = Arc::new([const { AtomicUsize::new(0) }; 8]);
        let mut handles = Vec::new();
        for i in 0..4 {
            let counter = counter.clone();
            let ids = ids.clone();
            handles.push(check_ok!(thread::spawn(move || {
                for _ in 0..1000 {
                    counter.fetch_add(1, Ordering::SeqCst);
                    sched_yield();
                }
                ids[2 * i].store(getpid() as usize, Ordering::SeqCst);
                ids[2 * i + 1].store(gettid() as usize, Ordering::SeqCst);
            })));
        }
        let tids: Vec<i32> = handles.iter().map(|h| h.tid()).collect();
        for h in handles {
            h.join();
        }
        check_eq!(counter.load(Ordering::SeqCst), 4000);
        for (i, &tid) in tids.iter().enumerate() {
            check_eq!(
                ids[2 * i].load(Ordering::SeqCst),
                getpid() as usize,
                "getpid in thread {}",
                i
            );
            check_eq!(
                ids[2 * i + 1].load(Ordering::SeqCst),
                tid as usize,
                "gettid in thread {}",
                i
            );
            check_ne!(tid, getpid());
        }
        check_eq!(gettid(), getpid());
    }

    /// FUTEX_WAIT sleeps until FUTEX_WAKE; a changed value gives EAGAIN; a timeout ETIMEDOUT.
    fn futex_wait_and_wake() {
        let word = Arc::new(AtomicU32::new(0));
        let woke = Arc::new(AtomicU32::new(0));
        let (w2, k2) = (word.clone(), woke.clone());
        let t = check_ok!(thread::spawn(move || {
            while w2.load(Ordering::SeqCst) == 0 {
                let _ = futex_wait(&w2, 0, None);
            }
            k2.store(1, Ordering::SeqCst);
        }));
        let _ = sleep_ms(20);
        check_eq!(woke.load(Ordering::SeqCst), 0);
        word.store(1, Ordering::SeqCst);
        check_ok!(futex_wake(&word, 1));
        t.join();
        check_eq!(woke.load(Ordering::SeqCst), 1);
        check_eq!(futex_wait(&word, 5, None), Err(EAGAIN));
        let start = monotonic_ns();
        check_eq!(
            futex_wait(&word, 1, Some(&Timespec::from_nanos(20_000_000))),
            Err(ETIMEDOUT)
        );
        check!(monotonic_ns() - start >= 20_000_000);
        check_eq!(futex_wake(&word, 1), Ok(0));
    }

    /// getpid/getppid/gettid agree between parent and child.
    fn process_ids_agree() {
        let me = getpid();
        check!(me > 0);
        check_eq!(gettid(), me);
        let [r, w] = check_ok!(pipe());
        let pid = fork_run(|| {
            let _ = write_all(w, &(getpid() as u32).to_le_bytes());
            let _ = write_all(w, &(getppid() as u32).to_le_bytes());
            let _ = write_all(w, &(gettid() as u32).to_le_bytes());
        });
        check_ok!(close(w));
        check_eq!(read_u32(r), Some(pid as u32));
        check_eq!(read_u32(r), Some(me as u32));
        check_eq!(read_u32(r), Some(pid as u32));
        check_ok!(close(r));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// fork copies memory: the child's writes do not reach the parent.
    fn fork_copies_memory() {
        let mut v = alloc::vec![7u8; 10000];
        let pid = fork_run(|| {
            v[5000] = 1;
            check_eq!(v[5000], 1);
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(v[5000], 7);
        v[0] = 0;
    }

    /// sched_yield succeeds.
    fn sched_yield_returns_zero() {
        // SAFETY: no arguments.
        check_eq!(check(unsafe { syscall0(nr::SCHED_YIELD) }), Ok(0));
    }

    /// nanosleep sleeps at least the requested time (CLOCK_MONOTONIC); bad tv_nsec is EINVAL.
    fn nanosleep_sleeps_at_least_requested() {
        for ms in [1u64, 30] {
            let start = monotonic_ns();
            check_ok!(sleep_ms(ms));
            let elapsed = monotonic_ns() - start;
            check!(
                elapsed >= ms * 1_000_000,
                "slept {} ns for {} ms",
                elapsed,
                ms
            );
            check!(
                elapsed < ms * 1_000_000 + 2_000_000_000,
                "slept {} ns for {} ms",
                elapsed,
                ms
            );
        }
        check_eq!(
            nanosleep(&Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000
            }),
            Err(EINVAL)
        );
        check_eq!(
            nanosleep(&Timespec {
                tv_sec: -1,
                tv_nsec: 0
            }),
            Err(EINVAL)
        );
    }

    const EXEC_FLAG: &str = "--exec-child";

    /// execve replaces the image; argv and envp reach the new program (which exits 42).
    fn execve_self_passes_argv_and_env() {
        let args = Args::get();
        let Some(me) = args.arg(0) else {
            check!(false, "no argv[0]");
            return;
        };
        let path = alloc::ffi::CString::new(me).unwrap();
        let pid = fork_run(|| {
            let argv = [
                path.as_ptr().cast(),
                c"--exec-child".as_ptr().cast(),
                c"two words".as_ptr().cast(),
                core::ptr::null(),
            ];
            let envp = [c"ULIB_EXEC=yes".as_ptr().cast(), core::ptr::null()];
            let e = execve(&path, &argv, &envp);
            check!(false, "execve returned {:?}", e);
        });
        check_eq!(wait_exit(pid), Exit::Code(42));
        let argv = [c"/nonexistent".as_ptr().cast(), core::ptr::null()];
        check_eq!(
            execve(c"/nonexistent", &argv, &[core::ptr::null()]),
            Err(ENOENT)
        );
    }

    /// Run in the exec'd child: exit 42 if the arguments and environment arrived intact.
    fn exec_child(args: Args) -> i32 {
        let ok = args.argc() == 3
            && args.arg_str(2) == Some("two words")
            && args.getenv("ULIB_EXEC") == Some("yes");
        if ok { 42 } else { 1 }
    }

    /// exit_group from a second thread ends the whole process with that code.
    fn exit_group_from_thread_ends_all_threads() {
        let pid = fork_run(|| {
            let _t = thread::spawn(|| {
                let _ = sleep_ms(20);
                exit(7)
            });
            sleep_forever()
        });
        check_eq!(wait_exit(pid), Exit::Code(7));
    }

    /// exit (not exit_group) in the main thread leaves the other threads running.
    fn exit_of_main_thread_leaves_others() {
        let pid = fork_run(|| {
            let _t = thread::spawn(|| {
                let _ = sleep_ms(30);
                exit(9)
            });
            exit_thread(0)
        });
        check_eq!(wait_exit(pid), Exit::Code(9));
    }

    /// kill to a reaped pid gives ESRCH; signal 0 only checks existence.
    fn kill_checks_target() {
        check_eq!(kill(getpid(), 0), Ok(0));
        let pid = fork_run(|| {});
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(kill(pid, 0), Err(ESRCH));
        check_eq!(kill(pid, SIGTERM), Err(ESRCH));
        check_eq!(kill(getpid(), 65), Err(EINVAL));
    }

    fn main(args: Args) -> i32 {
        if args.arg_str(1) == Some(EXEC_FLAG) {
            return exec_child(args);
        }
        ulib::test::run(ulib::cases![
            fork_child_exit_code_reaches_wait4,
            wait4_status_encoding,
            wait4_wnohang_returns_zero_while_child_runs,
            wait4_without_children_gives_echild,
            orphan_is_reparented,
            zombie_visible_in_proc_until_reaped,
            sigterm_default_action_terminates,
            sigkill_cannot_be_caught,
            user_handler_runs_and_returns,
            blocked_signal_pending_until_unblocked,
            ignored_signal_is_discarded,
            sigchld_sent_to_parent,
            threads_share_memory_and_join,
            futex_wait_and_wake,
            process_ids_agree,
            fork_copies_memory,
            sched_yield_returns_zero,
            nanosleep_sleeps_at_least_requested,
            execve_self_passes_argv_and_env,
            exit_group_from_thread_ends_all_threads,
            exit_of_main_thread_leaves_others,
            kill_checks_target,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
