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

    const WAITID: usize = 247;
    const VFORK: usize = 58;
    const SIGALTSTACK: usize = 131;
    const RT_SIGSUSPEND: usize = 130;
    const P_PID: usize = 1;
    const WEXITED: usize = 4;
    const WNOWAIT: usize = 0x0100_0000;
    const CLD_EXITED: i32 = 1;
    const CLD_KILLED: i32 = 2;
    const SA_ONSTACK: u64 = 0x0800_0000;
    const SS_ONSTACK: i32 = 1;
    const SS_DISABLE: i32 = 2;

    /// The fields of a `siginfo_t` that waitid fills for SIGCHLD.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct ChildInfo {
        signo: i32,
        code: i32,
        pid: i32,
        status: i32,
    }

    fn waitid(idtype: usize, id: i32, options: usize) -> SysResult<ChildInfo> {
        let mut si = [0i32; 32]; // siginfo_t is 128 bytes
        si[0] = -1;
        // SAFETY: `si` is 128 live bytes; no rusage.
        check(unsafe {
            syscall5(
                WAITID,
                idtype,
                id as isize as usize,
                si.as_mut_ptr() as usize,
                options,
                0,
            )
        })?;
        // si_signo, si_errno, si_code, pad, then si_pid, si_uid, si_status.
        Ok(ChildInfo {
            signo: si[0],
            code: si[2],
            pid: si[4],
            status: si[6],
        })
    }

    /// waitid(P_PID, pid, WEXITED) fills the siginfo as Linux does: si_signo SIGCHLD, si_code
    /// CLD_EXITED (1) with si_status the exit code, or CLD_KILLED (2) with the signal. With
    /// WNOWAIT the child stays a zombie: a second waitid reaps it, a third gives ECHILD.
    fn waitid_fills_siginfo_and_wnowait_keeps_zombie() {
        let pid = check_ok!(fork());
        if pid == 0 {
            exit(37);
        }
        let info = check_ok!(waitid(P_PID, pid, WEXITED | WNOWAIT));
        let expected = ChildInfo {
            signo: SIGCHLD,
            code: CLD_EXITED,
            pid,
            status: 37,
        };
        check_eq!(info, expected, "WNOWAIT");
        check_eq!(kill(pid, 0), Ok(0), "still a zombie after WNOWAIT");
        check_eq!(
            waitid(P_PID, pid, WEXITED),
            Ok(expected),
            "the reaping waitid"
        );
        check_eq!(waitid(P_PID, pid, WEXITED), Err(ECHILD));
        check_eq!(kill(pid, 0), Err(ESRCH));
        let pid = fork_run(|| sleep_forever());
        check_ok!(kill(pid, SIGKILL));
        let info = check_ok!(waitid(P_PID, pid, WEXITED));
        check_eq!(
            (info.code, info.pid, info.status),
            (CLD_KILLED, pid, SIGKILL)
        );
        // WNOHANG with nothing to report: 0 and si_pid 0 (Linux zeroes the siginfo).
        let pid = fork_run(|| sleep_forever());
        let info = check_ok!(waitid(P_PID, pid, WEXITED | WNOHANG));
        check_eq!(info.pid, 0);
        check_ok!(kill(pid, SIGKILL));
        check_eq!(wait_exit(pid), Exit::Signal(SIGKILL));
    }

    /// waitid needs at least one of WEXITED, WSTOPPED, WCONTINUED (EINVAL otherwise, even with
    /// WNOHANG); an unknown idtype is EINVAL too.
    fn waitid_without_event_flags_is_einval() {
        let pid = fork_run(|| {});
        check_eq!(waitid(P_PID, pid, 0), Err(EINVAL));
        check_eq!(waitid(P_PID, pid, WNOHANG), Err(EINVAL));
        check_eq!(waitid(P_PID, pid, WNOWAIT), Err(EINVAL));
        check_eq!(waitid(7, pid, WEXITED), Err(EINVAL), "idtype 7");
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    static VFORK_TS: Timespec = Timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    static VFORK_VAR: AtomicUsize = AtomicUsize::new(0);

    /// vfork shares memory with the parent and suspends it until the child exits (or execs):
    /// the child sleeps 50 ms, then writes a variable and _exits; when vfork returns in the
    /// parent the write is already there.
    fn vfork_suspends_parent_until_child_exits() {
        VFORK_VAR.store(0, Ordering::SeqCst);
        let start = monotonic_ns();
        let ret: isize;
        // SAFETY: the child runs on the parent's stack, so it only uses registers and the two
        // statics, makes raw system calls (nanosleep, exit_group) and never returns.
        unsafe {
            core::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                // Child: nanosleep(&VFORK_TS, NULL); VFORK_VAR = 1234; exit_group(7).
                "mov eax, 35",
                "mov rdi, {ts}",
                "xor esi, esi",
                "syscall",
                "mov qword ptr [{var}], 1234",
                "mov eax, 231",
                "mov edi, 7",
                "syscall",
                "ud2",
                "2:",
                ts = in(reg) &VFORK_TS as *const Timespec,
                var = in(reg) VFORK_VAR.as_ptr(),
                inlateout("rax") VFORK as isize => ret,
                out("rdi") _,
                out("rsi") _,
                out("rcx") _,
                out("r11") _,
            );
        }
        let elapsed = monotonic_ns() - start;
        let pid = check_ok!(check(ret)) as i32;
        check!(pid > 0);
        check_eq!(
            VFORK_VAR.load(Ordering::SeqCst),
            1234,
            "the parent ran first"
        );
        check!(elapsed >= 50_000_000, "vfork returned after {} ns", elapsed);
        check_eq!(wait_exit(pid), Exit::Code(7));
    }

    /// clone3 with flags 0 and exit_signal SIGCHLD is a fork: 0 in the child, its pid in the
    /// parent, the child's getppid is the parent, wait4 sees its exit code. Both the first
    /// published size (64) and the current one (88) are accepted; a size below 64 is EINVAL,
    /// as is an exit_signal above 64.
    fn clone3_basic_is_fork() {
        let me = getpid();
        for size in [64, core::mem::size_of::<CloneArgs>()] {
            let args = CloneArgs {
                exit_signal: SIGCHLD as u64,
                ..Default::default()
            };
            let pid = check_ok!(clone3(&args, size));
            if pid == 0 {
                exit(if getppid() == me { 5 } else { 1 });
            }
            check!(pid > 0);
            check_eq!(wait_exit(pid), Exit::Code(5), "clone_args size {}", size);
        }
        let args = CloneArgs {
            exit_signal: SIGCHLD as u64,
            ..Default::default()
        };
        check_eq!(clone3(&args, 32), Err(EINVAL));
        let args = CloneArgs {
            exit_signal: 65,
            ..Default::default()
        };
        check_eq!(clone3(&args, 64), Err(EINVAL));
    }

    /// A shared (non-private) futex on a MAP_SHARED anonymous page works across processes: the
    /// child's FUTEX_WAIT is woken by the parent's FUTEX_WAKE (which reports 1 woken).
    fn futex_across_processes_on_shared_page() {
        // SAFETY: no MAP_FIXED.
        let page = check_ok!(unsafe {
            mmap(
                0,
                4096,
                PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS,
                -1,
                0,
            )
        });
        // SAFETY: page aligned, zeroed, mapped until the munmap below.
        let (word, ready) = unsafe {
            (
                &*(page as *const AtomicU32),
                &*((page + 64) as *const AtomicU32),
            )
        };
        let pid = fork_run(|| {
            ready.store(1, Ordering::SeqCst);
            while word.load(Ordering::SeqCst) == 0 {
                let _ = futex_wait(word, 0, None);
            }
        });
        while ready.load(Ordering::SeqCst) == 0 {
            let _ = sleep_ms(1);
        }
        let _ = sleep_ms(50); // let the child reach FUTEX_WAIT
        word.store(1, Ordering::SeqCst);
        check_eq!(futex_wake(word, 1), Ok(1), "the child was waiting");
        // The child should exit now; kill it if the wake did not reach it.
        let mut done = None;
        for _ in 0..200 {
            if let Ok((p, st)) = wait4(pid, WNOHANG)
                && p == pid
            {
                done = Some(Exit::from_status(st));
                break;
            }
            let _ = sleep_ms(10);
        }
        if done.is_none() {
            let _ = kill(pid, SIGKILL);
            let _ = waitpid(pid);
        }
        check_eq!(done, Some(Exit::Code(0)), "the woken child exits");
        // SAFETY: ours, no longer used.
        unsafe { munmap(page, 4096).ok() };
    }

    /// A SIGCHLD handler installed with SA_RESTART does not break a blocking pipe read: the
    /// read is restarted after the handler and returns the data a second child writes later.
    /// Without SA_RESTART the same read fails with EINTR.
    fn sa_restart_restarts_blocking_read() {
        for restart in [true, false] {
            CHLD_COUNT.store(0, Ordering::SeqCst);
            check_ok!(set_handler(
                SIGCHLD,
                on_chld,
                if restart { SA_RESTART } else { 0 },
                0
            ));
            let [r, w] = check_ok!(pipe());
            let quick = fork_run(|| {
                let _ = sleep_ms(30);
            });
            let writer = fork_run(|| {
                let _ = sleep_ms(200);
                let _ = write_all(w, b"hi");
            });
            check_ok!(close(w));
            let mut buf = [0u8; 8];
            let got = read(r, &mut buf);
            check!(
                CHLD_COUNT.load(Ordering::SeqCst) >= 1,
                "SIGCHLD handler did not run"
            );
            if restart {
                check_eq!(got, Ok(2), "SA_RESTART");
                check_eq!(&buf[..2], b"hi");
            } else {
                check_eq!(got, Err(EINTR), "no SA_RESTART");
            }
            check_eq!(wait_exit(quick), Exit::Code(0));
            check_eq!(wait_exit(writer), Exit::Code(0));
            check_ok!(close(r));
        }
        check_ok!(set_disposition(SIGCHLD, SIG_DFL));
    }

    /// `stack_t`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    struct StackT {
        sp: usize,
        flags: i32,
        size: usize,
    }

    fn sigaltstack(new: Option<&StackT>) -> SysResult<StackT> {
        let mut old = StackT::default();
        let n = new.map_or(0, |s| s as *const StackT as usize);
        // SAFETY: both structs are live.
        check(unsafe { syscall2(SIGALTSTACK, n, &mut old as *mut StackT as usize) })?;
        Ok(old)
    }

    static ONSTACK_ADDR: AtomicUsize = AtomicUsize::new(0);
    static ONSTACK_FLAGS: AtomicUsize = AtomicUsize::new(usize::MAX);
    extern "C" fn on_usr2_onstack(_: i32) {
        let local = 0u8;
        ONSTACK_ADDR.store(
            core::hint::black_box(&local) as *const u8 as usize,
            Ordering::SeqCst,
        );
        let flags = sigaltstack(None).map_or(-1, |s| s.flags);
        ONSTACK_FLAGS.store(flags as usize, Ordering::SeqCst);
    }

    /// sigaltstack + SA_ONSTACK: the handler runs on the alternate stack (a local variable's
    /// address lies inside it, and sigaltstack reports SS_ONSTACK there); outside a handler the
    /// flags read 0; SS_DISABLE turns it off; a stack smaller than MINSIGSTKSZ (2048) is ENOMEM.
    fn sigaltstack_onstack_handler_runs_on_alt_stack() {
        let pid = fork_run(|| {
            let size = 64 * 1024;
            let base = check_ok!(mmap_anon(size));
            let ss = StackT {
                sp: base,
                flags: 0,
                size,
            };
            let old = check_ok!(sigaltstack(Some(&ss)));
            check_eq!(old.flags, SS_DISABLE, "no alternate stack at first");
            let cur = check_ok!(sigaltstack(None));
            check_eq!((cur.sp, cur.flags, cur.size), (base, 0, size));
            check_ok!(set_handler(SIGUSR2, on_usr2_onstack, SA_ONSTACK, 0));
            check_ok!(kill(getpid(), SIGUSR2));
            let addr = ONSTACK_ADDR.load(Ordering::SeqCst);
            check!(
                (base..base + size).contains(&addr),
                "handler local at {:#x}, altstack {:#x}..{:#x}",
                addr,
                base,
                base + size
            );
            check_eq!(ONSTACK_FLAGS.load(Ordering::SeqCst), SS_ONSTACK as usize);
            // Without SA_ONSTACK the handler stays on the normal stack.
            check_ok!(set_handler(SIGUSR2, on_usr2_onstack, 0, 0));
            check_ok!(kill(getpid(), SIGUSR2));
            let addr = ONSTACK_ADDR.load(Ordering::SeqCst);
            check!(
                !(base..base + size).contains(&addr),
                "handler local at {:#x}",
                addr
            );
            check_eq!(ONSTACK_FLAGS.load(Ordering::SeqCst), 0);
            let off = StackT {
                flags: SS_DISABLE,
                ..Default::default()
            };
            check_ok!(sigaltstack(Some(&off)));
            check_eq!(check_ok!(sigaltstack(None)).flags, SS_DISABLE);
            let tiny = StackT {
                sp: base,
                flags: 0,
                size: 1024,
            };
            check_eq!(sigaltstack(Some(&tiny)).map(|_| ()), Err(ENOMEM));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn sigsuspend(mask: u64) -> SysResult {
        // SAFETY: `mask` is 8 live bytes.
        check(unsafe { syscall2(RT_SIGSUSPEND, &mask as *const u64 as usize, 8) })
    }

    /// rt_sigsuspend swaps in a temporary mask and sleeps until a handler has run, then fails
    /// with EINTR and puts the old mask back: for a signal already pending (blocked before) and
    /// for one sent later by a child.
    fn rt_sigsuspend_returns_eintr_and_restores_mask() {
        USR1_COUNT.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGUSR1, on_usr1, 0, 0));
        let old = check_ok!(sigprocmask(SIG_BLOCK, Some(sigbit(SIGUSR1))));
        check_ok!(kill(getpid(), SIGUSR1));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 0);
        let blocked = check_ok!(sigprocmask(SIG_BLOCK, None));
        check_eq!(sigsuspend(blocked & !sigbit(SIGUSR1)), Err(EINTR));
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 1);
        check_eq!(
            check_ok!(sigprocmask(SIG_BLOCK, None)),
            blocked,
            "mask restored"
        );
        check_eq!(check_ok!(sigpending()) & sigbit(SIGUSR1), 0);
        // Sent later, by a child, while we are suspended.
        let parent = getpid();
        let pid = fork_run(move || {
            let _ = sleep_ms(50);
            let _ = kill(parent, SIGUSR1);
        });
        let start = monotonic_ns();
        check_eq!(sigsuspend(blocked & !sigbit(SIGUSR1)), Err(EINTR));
        check!(
            monotonic_ns() - start >= 40_000_000,
            "returned before the signal"
        );
        check_eq!(USR1_COUNT.load(Ordering::SeqCst), 2);
        check_eq!(
            check_ok!(sigprocmask(SIG_BLOCK, None)),
            blocked,
            "mask restored"
        );
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_ok!(sigprocmask(SIG_SETMASK, Some(old)));
        check_ok!(set_disposition(SIGUSR1, SIG_DFL));
        // A mask size other than 8 is EINVAL.
        let m = 0u64;
        // SAFETY: `m` is live.
        check_eq!(
            check(unsafe { syscall2(RT_SIGSUSPEND, &m as *const u64 as usize, 4) }),
            Err(EINVAL)
        );
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
            waitid_fills_siginfo_and_wnowait_keeps_zombie,
            waitid_without_event_flags_is_einval,
            vfork_suspends_parent_until_child_exits,
            clone3_basic_is_fork,
            futex_across_processes_on_shared_page,
            sa_restart_restarts_blocking_read,
            sigaltstack_onstack_handler_runs_on_alt_stack,
            rt_sigsuspend_returns_eintr_and_restores_mask,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
