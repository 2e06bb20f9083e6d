//! seccomp (issue 14): seccomp(2) and the seccomp `prctl`s as Linux documents them. Every
//! action (KILL_PROCESS, KILL_THREAD, TRAP with its SIGSYS siginfo, ERRNO, TRACE as ENOSYS
//! without a tracer, LOG, ALLOW), filters on arguments, inheritance across fork and clone,
//! filters kept across execve, stacking (the strictest action wins), the checker refusing bad
//! programs (EINVAL) and bad pointers (EFAULT), the EACCES rule, the path-length bound
//! (ENOMEM), TSYNC with threads, strict mode, GET_ACTION_AVAIL, GET_NOTIF_SIZES, and the
//! `Seccomp:` / `Seccomp_filters:` lines of `/proc/[pid]/status`.
//!
//! Every filter is installed in a forked child (a filter can never be removed). Linux is the
//! oracle: the same binary, as /init of Debian's 6.1 kernel in QEMU, passes every case.
//! Bulkhead-only expectations are marked (`NEW_LISTENER` and `USER_NOTIF`, which
//! need the notification listener Bulkhead does not have yet).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicI64, AtomicU32, Ordering};
    use ulib::container::{go, pipe_pair, status_field};
    use ulib::cred::{CAP_SYS_ADMIN, drop_cap, get_no_new_privs, prctl, set_no_new_privs};
    use ulib::seccomp::*;
    use ulib::sys::{self, errno::*, nr};
    use ulib::test::{Exit, fork_run, on_bulkhead, wait_exit};
    use ulib::{Args, check, check_eq, check_ok};

    const EXEC_FLAG: &str = "--seccomp-exec-report";
    const SIGSYS: i32 = 31;
    const EDOM: i32 = 33;
    const PRCTL: usize = 157;
    const ENOTTY: i32 = 25;
    const EOPNOTSUPP: i32 = 95;

    /// `getppid` without the wrapper: the raw return value.
    fn raw_getppid() -> isize {
        // SAFETY: no pointers.
        unsafe { sys::syscall0(nr::GETPPID) }
    }

    fn in_child(f: impl FnOnce()) {
        let pid = fork_run(f);
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// Runs `f` in a child that is expected to end by signal `sig`.
    fn child_killed_by(sig: i32, f: impl FnOnce()) {
        let pid = fork_run(f);
        check_eq!(wait_exit(pid), Exit::Signal(sig));
    }

    fn nnp() {
        check_eq!(set_no_new_privs(), Ok(0));
    }

    fn status(key: &str) -> Option<String> {
        status_field("self", key)
    }

    fn mount_proc() {
        // Run alone as init, nothing has mounted /proc (EBUSY under the suite's init).
        let _ = sys::mkdir(c"/proc", 0o755);
        let _ = ulib::cred::mount("proc", "/proc", "proc", 0);
    }

    // ---------------------------------------------------------------------------------------

    fn get_action_avail_and_notif_sizes() {
        let avail = |a: u32| seccomp(GET_ACTION_AVAIL, 0, &a as *const u32 as usize);
        for a in [
            RET_KILL_PROCESS,
            RET_KILL_THREAD,
            RET_TRAP,
            RET_ERRNO,
            RET_TRACE,
            RET_LOG,
            RET_ALLOW,
        ] {
            check_eq!(avail(a), Ok(0), "action {:#x}", a);
        }
        check_eq!(avail(0x0001_0000), Err(EOPNOTSUPP));
        check_eq!(avail(RET_ERRNO | 1), Err(EOPNOTSUPP));
        if on_bulkhead() {
            // No notification listener yet (Linux: available).
            check_eq!(avail(RET_USER_NOTIF), Err(EOPNOTSUPP));
        }
        check_eq!(seccomp(GET_ACTION_AVAIL, 0, 8), Err(EFAULT));
        let a = RET_ALLOW;
        check_eq!(
            seccomp(GET_ACTION_AVAIL, 1, &a as *const u32 as usize),
            Err(EINVAL)
        );
        let mut sizes = [0u16; 3];
        check_eq!(
            seccomp(GET_NOTIF_SIZES, 0, sizes.as_mut_ptr() as usize),
            Ok(0)
        );
        check_eq!(sizes, [80, 24, 64]);
        check_eq!(seccomp(GET_NOTIF_SIZES, 0, 8), Err(EFAULT));
        check_eq!(seccomp(99, 0, 0), Err(EINVAL));
    }

    fn eacces_without_no_new_privs_or_cap_sys_admin() {
        let allow = [stmt(RET_K, RET_ALLOW)];
        in_child(|| {
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            check_eq!(install(&allow, 0), Err(EACCES));
            check_eq!(
                prctl(PR_SET_SECCOMP, MODE_FILTER, 8, 0, 0),
                Err(EFAULT),
                "the fprog is read before the rule"
            );
            check_eq!(status("Seccomp").as_deref(), Some("0"));
            nnp();
            check_eq!(install(&allow, 0), Ok(0));
            check_eq!(status("Seccomp").as_deref(), Some("2"));
        });
        in_child(|| {
            // CAP_SYS_ADMIN is enough, and does not set no_new_privs.
            check_eq!(install(&allow, 0), Ok(0));
            check_eq!(get_no_new_privs(), Ok(0));
        });
    }

    fn checker_refuses_bad_programs() {
        in_child(|| {
            nnp();
            let ret = stmt(RET_K, RET_ALLOW);
            let bad: [&[Insn]; 9] = [
                &[],
                &[jump(JEQ_K, 0, 5, 0), ret],
                &[jump(JEQ_K, 0, 0, 1), ret],
                &[stmt(JMP_JA, 1), ret],
                &[stmt(LD_W_ABS, OFF_NR)],
                &[stmt(LD_W_ABS, 64), ret],
                &[stmt(LD_W_ABS, 2), ret],
                &[stmt(LD_H_ABS, 0), ret],
                &[stmt(ALU_MOD_K, 3), ret],
            ];
            for (i, p) in bad.iter().enumerate() {
                check_eq!(install(p, 0), Err(EINVAL), "bad program {}", i);
            }
            check_eq!(install(&[stmt(ALU_DIV_K, 0), ret], 0), Err(EINVAL));
            check_eq!(install(&[stmt(LD_MEM, 0), ret], 0), Err(EINVAL));
            check_eq!(install(&[stmt(ST, 16), ret], 0), Err(EINVAL));
            check_eq!(install(&[stmt(ST, 15), stmt(LD_MEM, 15), ret], 0), Ok(0));
            let long = vec![ret; 4097];
            check_eq!(install(&long, 0), Err(EINVAL));
            check_eq!(install(&long[..4096], 0), Ok(0));
            // Bad pointers: the fprog, then the instructions.
            check_eq!(seccomp(SET_MODE_FILTER, 0, 8), Err(EFAULT));
            let f = Fprog {
                len: 1,
                filter: 8 as *const Insn,
            };
            check_eq!(
                seccomp(SET_MODE_FILTER, 0, &f as *const Fprog as usize),
                Err(EFAULT)
            );
            check_eq!(install(&[ret], 1 << 10), Err(EINVAL), "unknown flag");
            if on_bulkhead() {
                check_eq!(install(&[ret], FLAG_NEW_LISTENER), Err(EINVAL));
            }
            check_eq!(install(&[ret], FLAG_LOG | FLAG_SPEC_ALLOW), Ok(0));
            // Only the three good programs were installed.
            check_eq!(status("Seccomp_filters").as_deref(), Some("3"));
        });
    }

    fn errno_action_and_its_data() {
        in_child(|| {
            nnp();
            let before = raw_getppid();
            check!(before > 0);
            check_eq!(
                install(&on_nr(nr::GETPPID, RET_ERRNO | EDOM as u32), 0),
                Ok(0)
            );
            check_eq!(raw_getppid(), -(EDOM as isize));
            // Other calls run.
            check_eq!(sys::getpid() > 0, true);
        });
        in_child(|| {
            nnp();
            // Data 0: the call "succeeds" with 0 without running.
            check_eq!(install(&on_nr(nr::GETPPID, RET_ERRNO), 0), Ok(0));
            check_eq!(raw_getppid(), 0);
        });
        in_child(|| {
            nnp();
            // Data above MAX_ERRNO is capped at 4095.
            check_eq!(install(&on_nr(nr::GETPPID, RET_ERRNO | 0xffff), 0), Ok(0));
            check_eq!(raw_getppid(), -4095);
        });
        in_child(|| {
            nnp();
            // EINTR from a filter is returned, not taken for an interrupted call to restart.
            check_eq!(
                install(&on_nr(nr::GETPPID, RET_ERRNO | EINTR as u32), 0),
                Ok(0)
            );
            check_eq!(raw_getppid(), -(EINTR as isize));
        });
    }

    fn filters_on_arguments() {
        in_child(|| {
            nnp();
            // dup(fd): ENOTTY when fd (arg 0) is 100.
            let p = [
                stmt(LD_W_ABS, OFF_NR),
                jump(JEQ_K, nr::DUP as u32, 0, 3),
                stmt(LD_W_ABS, off_arg(0)),
                jump(JEQ_K, 100, 0, 1),
                stmt(RET_K, RET_ERRNO | ENOTTY as u32),
                stmt(RET_K, RET_ALLOW),
            ];
            check_eq!(install(&p, 0), Ok(0));
            check_eq!(sys::dup(100), Err(ENOTTY));
            check_eq!(sys::dup(101), Err(EBADF));
            let fd = sys::dup(1);
            check!(matches!(fd, Ok(f) if f > 2), "dup(1): {:?}", fd);
            // lseek(fd, offset, whence): EDOM when the offset's high word is 1.
            let p = [
                stmt(LD_W_ABS, OFF_NR),
                jump(JEQ_K, nr::LSEEK as u32, 0, 3),
                stmt(LD_W_ABS, off_arg(1) + 4),
                jump(JEQ_K, 1, 0, 1),
                stmt(RET_K, RET_ERRNO | EDOM as u32),
                stmt(RET_K, RET_ALLOW),
            ];
            check_eq!(install(&p, 0), Ok(0));
            check_eq!(sys::lseek(-1, 1 << 32, 0), Err(EDOM));
            check_eq!(sys::lseek(-1, 1, 0), Err(EBADF));
            check_eq!(sys::lseek(-1, 1 << 33, 0), Err(EBADF));
            // The instruction pointer and the architecture are there too.
            let p = [
                stmt(LD_W_ABS, OFF_IP),
                jump(JEQ_K, 0, 1, 0),
                stmt(RET_K, RET_ALLOW),
                stmt(RET_K, RET_KILL_PROCESS),
            ];
            check_eq!(install(&p, 0), Ok(0));
            check!(sys::getpid() > 0);
        });
    }

    fn log_allow_and_trace() {
        in_child(|| {
            nnp();
            let ppid = raw_getppid();
            check_eq!(install(&on_nr(nr::GETPPID, RET_LOG), 0), Ok(0));
            check_eq!(raw_getppid(), ppid);
            check_eq!(install(&on_nr(nr::GETPPID, RET_ALLOW | 5), 0), Ok(0));
            check_eq!(raw_getppid(), ppid);
            // No tracer: TRACE fails the call with ENOSYS.
            check_eq!(install(&on_nr(nr::GETPPID, RET_TRACE | 1), 0), Ok(0));
            check_eq!(raw_getppid(), -(ENOSYS as isize));
        });
    }

    fn kill_process_and_kill_thread() {
        child_killed_by(SIGSYS, || {
            nnp();
            check_eq!(install(&on_nr(nr::GETPPID, RET_KILL_PROCESS), 0), Ok(0));
            raw_getppid();
            sys::exit(3);
        });
        // KILL_THREAD of the only thread ends the process, as KILL_PROCESS.
        child_killed_by(SIGSYS, || {
            nnp();
            check_eq!(install(&on_nr(nr::GETPPID, RET_KILL_THREAD), 0), Ok(0));
            raw_getppid();
            sys::exit(3);
        });
        // An unknown action kills the process.
        child_killed_by(SIGSYS, || {
            nnp();
            check_eq!(install(&on_nr(nr::GETPPID, 0x0001_0000), 0), Ok(0));
            raw_getppid();
            sys::exit(3);
        });
        // Of several threads only the caller ends; the filter reaches threads made after it.
        static AFTER: AtomicU32 = AtomicU32::new(0);
        in_child(|| {
            nnp();
            check_eq!(install(&on_nr(nr::GETPPID, RET_KILL_THREAD), 0), Ok(0));
            let t = ulib::thread::spawn(|| {
                raw_getppid();
                AFTER.store(1, Ordering::SeqCst);
            });
            check_ok!(t.as_ref().map(|_| ()));
            if let Ok(t) = t {
                t.join();
            }
            check_eq!(AFTER.load(Ordering::SeqCst), 0);
        });
    }

    static INFO: [AtomicI64; 8] = [const { AtomicI64::new(-1) }; 8];

    /// Records the SIGSYS siginfo and the saved rax and rip, and makes the call return 4242.
    extern "C" fn on_sigsys(sig: i32, info: *const u8, uc: *mut u8) {
        // SAFETY: the kernel passes a siginfo_t and a ucontext_t (gregs at offset 40:
        // REG_RAX is 13, REG_RIP 16).
        unsafe {
            let i32_at = |o: usize| (info.add(o) as *const i32).read_unaligned() as i64;
            INFO[0].store(sig as i64, Ordering::SeqCst);
            INFO[1].store(i32_at(4), Ordering::SeqCst);
            INFO[2].store(i32_at(8), Ordering::SeqCst);
            INFO[3].store(
                (info.add(16) as *const u64).read_unaligned() as i64,
                Ordering::SeqCst,
            );
            INFO[4].store(i32_at(24), Ordering::SeqCst);
            INFO[5].store(
                (info.add(28) as *const u32).read_unaligned() as i64,
                Ordering::SeqCst,
            );
            let rax = uc.add(40 + 13 * 8) as *mut u64;
            INFO[6].store(rax.read_unaligned() as i64, Ordering::SeqCst);
            INFO[7].store(
                (uc.add(40 + 16 * 8) as *const u64).read_unaligned() as i64,
                Ordering::SeqCst,
            );
            rax.write_unaligned(4242);
        }
    }

    fn trap_sends_sigsys_with_siginfo() {
        in_child(|| {
            nnp();
            let act = sys::SigAction {
                handler: on_sigsys as *const () as usize,
                flags: sys::SA_SIGINFO | sys::SA_RESTORER,
                restorer: ulib::rt::sigreturn_restorer as *const () as usize,
                mask: 0,
            };
            check_eq!(sys::sigaction(SIGSYS, Some(&act), None), Ok(0));
            check_eq!(install(&on_nr(nr::GETPPID, RET_TRAP | 42), 0), Ok(0));
            check_eq!(raw_getppid(), 4242, "the handler's rax");
            let v: Vec<i64> = INFO.iter().map(|a| a.load(Ordering::SeqCst)).collect();
            check_eq!(v[0], SIGSYS as i64, "si_signo");
            check_eq!(v[1], 42, "si_errno: the action's data");
            check_eq!(v[2], SYS_SECCOMP_CODE as i64, "si_code");
            check_eq!(v[4], nr::GETPPID as i64, "si_syscall");
            check_eq!(v[5], AUDIT_ARCH_X86_64 as i64, "si_arch");
            check_eq!(v[6], nr::GETPPID as i64, "rax at the trap: the number");
            check!(
                v[3] != 0 && v[3] == v[7],
                "si_call_addr {:#x} rip {:#x}",
                v[3],
                v[7]
            );
        });
        // A blocked or ignored SIGSYS is forced: the default action kills.
        child_killed_by(SIGSYS, || {
            nnp();
            check_ok!(sys::sigprocmask(sys::SIG_BLOCK, Some(sys::sigbit(SIGSYS))));
            check_eq!(install(&on_nr(nr::GETPPID, RET_TRAP), 0), Ok(0));
            raw_getppid();
            sys::exit(3);
        });
        child_killed_by(SIGSYS, || {
            nnp();
            check_eq!(ulib::rt::set_disposition(SIGSYS, sys::SIG_IGN), Ok(0));
            check_eq!(install(&on_nr(nr::GETPPID, RET_TRAP), 0), Ok(0));
            raw_getppid();
            sys::exit(3);
        });
    }

    fn stacked_filters_strictest_wins() {
        child_killed_by(SIGSYS, || {
            nnp();
            check_eq!(install(&on_nr(nr::GETPPID, RET_ERRNO | 5), 0), Ok(0));
            check_eq!(install(&[stmt(RET_K, RET_ALLOW)], 0), Ok(0));
            check_eq!(install(&on_nr(nr::GETPPID, RET_LOG), 0), Ok(0));
            check_eq!(raw_getppid(), -5, "ERRNO beats ALLOW and LOG");
            check_eq!(install(&on_nr(nr::GETPPID, RET_TRACE), 0), Ok(0));
            check_eq!(raw_getppid(), -5, "ERRNO beats TRACE");
            check_eq!(install(&on_nr(nr::GETPPID, RET_ERRNO | 6), 0), Ok(0));
            check_eq!(raw_getppid(), -6, "equal actions: the newest filter's data");
            check_eq!(status("Seccomp_filters").as_deref(), Some("5"));
            check_eq!(install(&on_nr(nr::GETPPID, RET_KILL_PROCESS), 0), Ok(0));
            if ulib::test::case_failed() {
                sys::exit(1);
            }
            raw_getppid();
            sys::exit(3);
        });
    }

    fn inherited_across_fork() {
        in_child(|| {
            nnp();
            check_eq!(
                install(&on_nr(nr::GETPPID, RET_ERRNO | EDOM as u32), 0),
                Ok(0)
            );
            let pid = fork_run(|| {
                check_eq!(raw_getppid(), -(EDOM as isize));
                check_eq!(status("Seccomp").as_deref(), Some("2"));
                check_eq!(status("Seccomp_filters").as_deref(), Some("1"));
                // A filter added in the child stays there.
                check_eq!(install(&on_nr(nr::GETPID, RET_ERRNO | 7), 0), Ok(0));
                check_eq!(status("Seccomp_filters").as_deref(), Some("2"));
            });
            check_eq!(wait_exit(pid), Exit::Code(0));
            check_eq!(status("Seccomp_filters").as_deref(), Some("1"));
            check!(sys::getpid() > 0);
        });
    }

    /// The re-executed program: reports what it sees of the filters through its status.
    fn exec_report() -> i32 {
        if raw_getppid() != -(EDOM as isize) {
            return 10;
        }
        if status("Seccomp").as_deref() != Some("2") {
            return 11;
        }
        if status("Seccomp_filters").as_deref() != Some("1") {
            return 12;
        }
        if get_no_new_privs() != Ok(1) {
            return 13;
        }
        0
    }

    fn kept_across_exec() {
        let Some(me) = Args::get().arg(0).and_then(|a| CString::new(a).ok()) else {
            check!(false, "no argv[0]");
            return;
        };
        let pid = fork_run(|| {
            nnp();
            check_eq!(
                install(&on_nr(nr::GETPPID, RET_ERRNO | EDOM as u32), 0),
                Ok(0)
            );
            let argv = [
                me.as_ptr().cast(),
                c"--seccomp-exec-report".as_ptr().cast(),
                core::ptr::null(),
            ];
            let e = sys::execve(&me, &argv, &[core::ptr::null()]);
            check!(false, "execve: {:?}", e);
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn path_length_bound_gives_enomem() {
        // Linux counts a filter's length after converting it to eBPF: a RET K is 2
        // instructions, every program has 3 more, and each filter on the path 4 more.
        let big = vec![stmt(RET_K, RET_ALLOW); 4096];
        let one = [stmt(RET_K, RET_ALLOW)];
        in_child(|| {
            nnp();
            // 8195 + 4 each: three fit (24,597 of 32,768), a fourth does not.
            for i in 0..3 {
                check_eq!(install(&big, 0), Ok(0), "filter {}", i);
            }
            check_eq!(install(&big, 0), Err(ENOMEM));
            check_eq!(install(&big[..4069], 0), Ok(0));
            check_eq!(install(&big[..4068], 0), Err(ENOMEM));
            check_eq!(install(&one, 0), Ok(0));
            check_eq!(status("Seccomp_filters").as_deref(), Some("5"));
        });
        in_child(|| {
            nnp();
            for _ in 0..3 {
                check_eq!(install(&big, 0), Ok(0));
            }
            // Then one-instruction filters (5 + 4) until the bound: (32768 - 24597 - 5) / 9 + 1.
            let mut n = 0;
            let err = loop {
                match install(&one, 0) {
                    Ok(_) => n += 1,
                    Err(e) => break e,
                }
            };
            check_eq!((n, err), (908, ENOMEM));
            check_eq!(status("Seccomp_filters").as_deref(), Some("911"));
            check!(sys::getpid() > 0);
        });
    }

    fn tsync_synchronises_threads() {
        static GO: AtomicU32 = AtomicU32::new(0);
        static READY: AtomicU32 = AtomicU32::new(0);
        static SEEN: AtomicI64 = AtomicI64::new(0);
        fn wait_for(a: &AtomicU32, v: u32) {
            while a.load(Ordering::SeqCst) != v {
                sys::sched_yield();
            }
        }
        in_child(|| {
            nnp();
            let t = ulib::thread::spawn(|| {
                wait_for(&GO, 1);
                SEEN.store(raw_getppid() as i64, Ordering::SeqCst);
            });
            check_ok!(t.as_ref().map(|_| ()));
            check_eq!(
                install(&on_nr(nr::GETPPID, RET_ERRNO | 7), FLAG_TSYNC),
                Ok(0)
            );
            GO.store(1, Ordering::SeqCst);
            if let Ok(t) = t {
                t.join();
            }
            check_eq!(
                SEEN.load(Ordering::SeqCst),
                -7,
                "the other thread's getppid"
            );
        });
        // A thread with a filter of its own cannot follow: TSYNC gives its tid, or ESRCH
        // with TSYNC_ESRCH, and installs nothing.
        in_child(|| {
            nnp();
            GO.store(0, Ordering::SeqCst);
            let t = ulib::thread::spawn(|| {
                let _ = install(&on_nr(nr::GETUID, RET_ERRNO | 1), 0);
                READY.store(1, Ordering::SeqCst);
                wait_for(&GO, 1);
                SEEN.store(raw_getppid() as i64, Ordering::SeqCst);
            });
            let Ok(t) = t else {
                check!(false, "spawn");
                return;
            };
            wait_for(&READY, 1);
            let p = on_nr(nr::GETPPID, RET_ERRNO | 7);
            check_eq!(install(&p, FLAG_TSYNC), Ok(t.tid() as usize));
            check_eq!(install(&p, FLAG_TSYNC | FLAG_TSYNC_ESRCH), Err(ESRCH));
            check_eq!(status("Seccomp_filters").as_deref(), Some("0"));
            check!(raw_getppid() > 0);
            GO.store(1, Ordering::SeqCst);
            t.join();
            check!(SEEN.load(Ordering::SeqCst) > 0, "the thread's getppid ran");
        });
    }

    fn strict_mode() {
        // Child to parent: the mode is on; parent to child: the status was read.
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let pid = fork_run(|| {
            check_eq!(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), Ok(0));
            // SAFETY: no pointers.
            let ok = unsafe { sys::syscall2(PRCTL, PR_SET_SECCOMP, MODE_STRICT) };
            let b = if ok == 0 { b"s" } else { b"f" };
            let _ = sys::write(w, b);
            let mut x = [0u8; 1];
            let _ = sys::read(r2, &mut x);
            // SAFETY: plain exit of this thread.
            unsafe { sys::syscall1(nr::EXIT, 7) };
        });
        let mut b = [0u8; 1];
        check_eq!(sys::read(r, &mut b), Ok(1));
        check_eq!(&b, b"s");
        let p = alloc::format!("{}", pid);
        check_eq!(status_field(&p, "Seccomp").as_deref(), Some("1"));
        check_eq!(status_field(&p, "Seccomp_filters").as_deref(), Some("0"));
        go(w2);
        check_eq!(wait_exit(pid), Exit::Code(7));
        ulib::container::close_all(&[r, w, r2, w2]);
        // Anything else is SIGKILL, PR_GET_SECCOMP included.
        child_killed_by(sys::SIGKILL, || {
            check_eq!(seccomp(SET_MODE_STRICT, 1, 0), Err(EINVAL));
            check_eq!(seccomp(SET_MODE_STRICT, 0, 8), Err(EINVAL));
            check_eq!(seccomp(SET_MODE_STRICT, 0, 0), Ok(0));
            // SAFETY: no pointers.
            unsafe { sys::syscall0(nr::GETPID) };
            sys::exit(3);
        });
        child_killed_by(sys::SIGKILL, || {
            check_eq!(seccomp(SET_MODE_STRICT, 0, 0), Ok(0));
            // SAFETY: no pointers.
            unsafe { sys::syscall2(PRCTL, PR_GET_SECCOMP, 0) };
            sys::exit(3);
        });
        // A mode never changes: no strict mode over filters, no filters in strict mode.
        in_child(|| {
            nnp();
            check_eq!(install(&[stmt(RET_K, RET_ALLOW)], 0), Ok(0));
            check_eq!(seccomp(SET_MODE_STRICT, 0, 0), Err(EINVAL));
            check_eq!(prctl(PR_SET_SECCOMP, MODE_STRICT, 0, 0, 0), Err(EINVAL));
        });
    }

    fn prctl_seccomp_and_proc_status() {
        check_eq!(status("Seccomp").as_deref(), Some("0"));
        check_eq!(status("Seccomp_filters").as_deref(), Some("0"));
        in_child(|| {
            nnp();
            check_eq!(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), Ok(0));
            let p = on_nr(nr::GETPPID, RET_ERRNO | EDOM as u32);
            let f = Fprog {
                len: p.len() as u16,
                filter: p.as_ptr(),
            };
            check_eq!(
                prctl(
                    PR_SET_SECCOMP,
                    MODE_FILTER,
                    &f as *const Fprog as usize,
                    0,
                    0
                ),
                Ok(0)
            );
            check_eq!(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), Ok(2));
            check_eq!(raw_getppid(), -(EDOM as isize));
            check_eq!(prctl(PR_SET_SECCOMP, 7, 0, 0, 0), Err(EINVAL));
            check_eq!(install(&[stmt(RET_K, RET_ALLOW)], 0), Ok(0));
            check_eq!(status("NoNewPrivs").as_deref(), Some("1"));
            check_eq!(status("Seccomp").as_deref(), Some("2"));
            check_eq!(status("Seccomp_filters").as_deref(), Some("2"));
        });
    }

    fn main(args: Args) -> i32 {
        if args.arg_str(1) == Some(EXEC_FLAG) {
            return exec_report();
        }
        mount_proc();
        ulib::test::run(ulib::cases![
            get_action_avail_and_notif_sizes,
            eacces_without_no_new_privs_or_cap_sys_admin,
            checker_refuses_bad_programs,
            errno_action_and_its_data,
            filters_on_arguments,
            log_allow_and_trace,
            kill_process_and_kill_thread,
            trap_sends_sigsys_with_siginfo,
            stacked_filters_strictest_wins,
            inherited_across_fork,
            kept_across_exec,
            path_length_bound_gives_enomem,
            tsync_synchronises_threads,
            strict_mode,
            prctl_seccomp_and_proc_status,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
