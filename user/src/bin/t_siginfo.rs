//! Signal details and the signal calls LTP and libc use: `si_pid`/`si_code` as the
//! receiver's PID container sees the sender (`kill`, `SIGCHLD`), `rt_sigtimedwait`,
//! `rt_sigqueueinfo`/`rt_tgsigqueueinfo`, `pidfd_send_signal` through a `CLONE_PIDFD`
//! pidfd, `F_SETOWN`/`F_SETSIG`/`O_ASYNC` on a pipe, `clone3` errno order, `wait4(__WALL)`
//! against its child's exit signal, and `nanosleep` letting a runnable peer run.
//!
//! Runs as root on a Linux host too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use ulib::container::{CLONE_NEWNET, CLONE_NEWPID};
    use ulib::signal::{SigInfo, block, sigqueueinfo, sigtimedwait};
    use ulib::sys::{self, CloneArgs, SIGUSR1, SIGUSR2, SysResult, errno::*, sigbit};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{check, check_eq, check_ok};

    const NR_RT_SIGTIMEDWAIT: usize = 128;
    const NR_RT_TGSIGQUEUEINFO: usize = 297;
    const NR_PIDFD_SEND_SIGNAL: usize = 424;
    const NR_NANOSLEEP: usize = 35;
    const SI_USER: i32 = 0;
    const SI_QUEUE: i32 = -1;
    const SI_TKILL: i32 = -6;
    const CLD_EXITED: i32 = 1;
    const POLL_IN: i32 = 1;
    const SIGCHLD: i32 = 17;
    const CLONE_PIDFD: u64 = 0x1000;
    const WALL: usize = 0x4000_0000;
    const F_SETFL: usize = 4;
    const F_GETFL: usize = 3;
    const F_SETOWN: usize = 8;
    const F_GETOWN: usize = 9;
    const F_SETSIG: usize = 10;
    const F_GETSIG: usize = 11;
    const O_ASYNC: usize = 0o20000;

    fn pidfd_send_signal(fd: i32, sig: i32, info: Option<&SigInfo>, flags: usize) -> SysResult {
        let p = info.map_or(0, |i| i as *const SigInfo as usize);
        // SAFETY: a live siginfo or NULL.
        sys::check(unsafe {
            sys::syscall4(NR_PIDFD_SEND_SIGNAL, fd as usize, sig as usize, p, flags)
        })
    }

    /// A child that blocks SIGUSR1, says it is ready on `w`, waits for SIGUSR1 and writes
    /// back (si_pid, si_code, si_value) on `back`.
    fn reporting_child(ready: i32, back: i32) {
        block(sigbit(SIGUSR1));
        check_ok!(sys::write(ready, b"r"));
        let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), Some(10_000_000_000)));
        check_eq!(sig, SIGUSR1);
        let mut out = [0u8; 16];
        out[0..4].copy_from_slice(&info.pid().to_le_bytes());
        out[4..8].copy_from_slice(&info.code.to_le_bytes());
        out[8..16].copy_from_slice(&info.third().to_le_bytes());
        check_ok!(sys::write(back, &out));
    }

    /// Runs `send(child_pid)` once a [`reporting_child`] cloned with `flags` is ready;
    /// returns what it saw (si_pid, si_code, si_value).
    fn child_report(flags: u64, send: impl FnOnce(i32)) -> Option<(u32, i32, u64)> {
        let [r1, w1] = sys::pipe().ok()?;
        let [r2, w2] = sys::pipe().ok()?;
        let args = CloneArgs {
            flags,
            exit_signal: SIGCHLD as u64,
            ..Default::default()
        };
        let pid = sys::clone3(&args, core::mem::size_of::<CloneArgs>()).ok()?;
        if pid == 0 {
            reporting_child(w1, w2);
            sys::exit(if ulib::test::case_failed() { 1 } else { 0 });
        }
        let mut b = [0u8; 16];
        check_eq!(sys::read(r1, &mut b[..1]), Ok(1));
        send(pid);
        let n = sys::read(r2, &mut b);
        check_eq!(wait_exit(pid), Exit::Code(0));
        for fd in [r1, w1, r2, w2] {
            let _ = sys::close(fd);
        }
        if n != Ok(16) {
            return None;
        }
        let word = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        Some((word(0) as u32, (word(0) >> 32) as i32, word(8)))
    }

    /// pidns12/16/20: a signal from outside a PID container reads `si_pid` 0; from the
    /// same container, the sender's number.
    fn kill_si_pid_is_as_the_receiver_sees_the_sender() {
        let me = sys::getpid() as u32;
        let same = child_report(0, |pid| check_eq!(sys::kill(pid, SIGUSR1), Ok(0)));
        check_eq!(same, Some((me, SI_USER, 0)), "same PID container");
        let inner = child_report(CLONE_NEWPID as u64, |pid| {
            check_eq!(sys::kill(pid, SIGUSR1), Ok(0))
        });
        check_eq!(inner, Some((0, SI_USER, 0)), "from the parent container");
        let t = child_report(0, |pid| check_eq!(sys::tgkill(pid, pid, SIGUSR1), Ok(0)));
        check_eq!(t, Some((me, SI_TKILL, 0)), "tgkill");
    }

    /// SIGCHLD names the child, CLD_EXITED and its exit status.
    fn sigchld_carries_the_childs_pid_and_status() {
        let outer = fork_run(|| {
            block(sigbit(SIGCHLD));
            let pid = check_ok!(sys::fork());
            if pid == 0 {
                sys::exit(7);
            }
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGCHLD), Some(10_000_000_000)));
            check_eq!(sig, SIGCHLD);
            check_eq!(info.pid(), pid as u32, "si_pid");
            check_eq!(info.code, CLD_EXITED);
            check_eq!(info.third() as u32, 7, "si_status");
            check_eq!(info.uid(), sys::getuid(), "si_uid");
            check_eq!(wait_exit(pid), Exit::Code(7));
        });
        check_eq!(wait_exit(outer), Exit::Code(0));
    }

    /// rt_sigtimedwait: a pending signal at once, EAGAIN at the timeout, EINVAL for a
    /// bad size or timeout.
    fn sigtimedwait_takes_pending_and_times_out() {
        let pid = fork_run(|| {
            block(sigbit(SIGUSR2));
            check_eq!(
                sigtimedwait(sigbit(SIGUSR2), Some(20_000_000)).map(|r| r.0),
                Err(EAGAIN)
            );
            check_eq!(
                sigtimedwait(sigbit(SIGUSR2), Some(0)).map(|r| r.0),
                Err(EAGAIN)
            );
            check_ok!(sys::kill(sys::getpid(), SIGUSR2));
            check_eq!(
                check_ok!(sys::sigpending()) & sigbit(SIGUSR2),
                sigbit(SIGUSR2)
            );
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGUSR2), None));
            check_eq!(sig, SIGUSR2);
            check_eq!(info.pid(), sys::getpid() as u32);
            check_eq!(check_ok!(sys::sigpending()) & sigbit(SIGUSR2), 0, "taken");
            let set = sigbit(SIGUSR2);
            let bad = sys::Timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000_000,
            };
            // SAFETY: live set and timespec; deliberately bad size, then bad nsec.
            unsafe {
                check_eq!(
                    sys::check(sys::syscall4(
                        NR_RT_SIGTIMEDWAIT,
                        &set as *const u64 as usize,
                        0,
                        0,
                        4
                    )),
                    Err(EINVAL)
                );
                check_eq!(
                    sys::check(sys::syscall4(
                        NR_RT_SIGTIMEDWAIT,
                        &set as *const u64 as usize,
                        0,
                        &bad as *const sys::Timespec as usize,
                        8
                    )),
                    Err(EINVAL)
                );
            }
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// rt_sigqueueinfo delivers si_code and si_value as given to oneself; to another
    /// process only with a negative code other than SI_TKILL (else EPERM).
    fn sigqueueinfo_passes_the_value() {
        let pid = fork_run(|| {
            block(sigbit(SIGUSR1));
            let me = sys::getpid();
            check_ok!(sigqueueinfo(
                me,
                SIGUSR1,
                &SigInfo::new(SIGUSR1, SI_QUEUE, 4242, 77)
            ));
            let (_, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), None));
            check_eq!((info.code, info.pid(), info.third()), (SI_QUEUE, 4242, 77));
            check_eq!(
                sigqueueinfo(
                    sys::getppid(),
                    SIGUSR1,
                    &SigInfo::new(SIGUSR1, SI_USER, 1, 0)
                ),
                Err(EPERM)
            );
            let tk = SigInfo::new(SIGUSR1, SI_QUEUE, 5, 9);
            // SAFETY: a live siginfo.
            let r = sys::check(unsafe {
                sys::syscall4(
                    NR_RT_TGSIGQUEUEINFO,
                    me as usize,
                    sys::gettid() as usize,
                    SIGUSR1 as usize,
                    &tk as *const SigInfo as usize,
                )
            });
            check_eq!(r, Ok(0));
            let (_, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), None));
            check_eq!((info.code, info.third()), (SI_QUEUE, 9));
            check_eq!(sigqueueinfo(-5, SIGUSR1, &tk), Err(ESRCH));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// clone301: clone3(CLONE_PIDFD) returns a pidfd (close-on-exec) that
    /// pidfd_send_signal uses; si_value arrives.
    fn clone_pidfd_and_pidfd_send_signal() {
        let mut pidfd: i32 = -7;
        let [r, w] = check_ok!(sys::pipe());
        let [r2, w2] = check_ok!(sys::pipe());
        let args = CloneArgs {
            flags: CLONE_PIDFD,
            pidfd: &mut pidfd as *mut i32 as u64,
            exit_signal: SIGCHLD as u64,
            ..Default::default()
        };
        let pid = check_ok!(sys::clone3(&args, core::mem::size_of::<CloneArgs>()));
        if pid == 0 {
            reporting_child(w, w2);
            sys::exit(if ulib::test::case_failed() { 1 } else { 0 });
        }
        check!(pidfd >= 0, "pidfd {}", pidfd);
        check_eq!(sys::fcntl(pidfd, 1, 0), Ok(1), "FD_CLOEXEC");
        let mut b = [0u8; 16];
        check_eq!(sys::read(r, &mut b[..1]), Ok(1));
        let info = SigInfo::new(SIGUSR1, SI_QUEUE, sys::getpid() as u32, 777);
        check_eq!(
            pidfd_send_signal(pidfd, SIGUSR1, Some(&info), 1),
            Err(EINVAL)
        );
        check_eq!(
            pidfd_send_signal(pidfd, SIGUSR2, Some(&info), 0),
            Err(EINVAL)
        );
        check_eq!(pidfd_send_signal(r, SIGUSR1, None, 0), Err(EBADF));
        check_eq!(pidfd_send_signal(pidfd, SIGUSR1, Some(&info), 0), Ok(0));
        check_eq!(sys::read(r2, &mut b), Ok(16));
        check_eq!(
            u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])),
            777
        );
        check_eq!(
            i32::from_le_bytes(b[4..8].try_into().unwrap_or([0; 4])),
            SI_QUEUE
        );
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(
            pidfd_send_signal(pidfd, SIGUSR1, None, 0),
            Err(ESRCH),
            "reaped"
        );
        for fd in [pidfd, r, w, r2, w2] {
            let _ = sys::close(fd);
        }
    }

    /// clone302: a bad pidfd pointer fails with EFAULT before any child exists.
    fn clone_pidfd_bad_pointer_is_efault() {
        let args = CloneArgs {
            flags: CLONE_PIDFD,
            pidfd: 8,
            exit_signal: SIGCHLD as u64,
            ..Default::default()
        };
        check_eq!(
            sys::clone3(&args, core::mem::size_of::<CloneArgs>()),
            Err(EFAULT)
        );
        check_eq!(
            sys::wait4(-1, 1).map(|r| r.0),
            Err(ECHILD),
            "no child was made"
        );
        let both = CloneArgs {
            flags: CLONE_PIDFD | 0x0001_0000 | 0x100 | 0x800, // THREAD|SIGHAND|VM
            pidfd: 8,
            ..Default::default()
        };
        check_eq!(
            sys::clone3(&both, core::mem::size_of::<CloneArgs>()),
            Err(EINVAL)
        );
    }

    /// clone304: without CAP_SYS_ADMIN, new containers and set_tid give EPERM even for a
    /// type this kernel does not create; set_tid without its size is EINVAL.
    fn clone3_eperm_comes_before_einval() {
        let tid: i32 = 1;
        let mismatch = CloneArgs {
            set_tid: &tid as *const i32 as u64,
            exit_signal: SIGCHLD as u64,
            ..Default::default()
        };
        check_eq!(
            sys::clone3(&mismatch, core::mem::size_of::<CloneArgs>()),
            Err(EINVAL)
        );
        let pid = fork_run(|| {
            check_ok!(ulib::cred::drop_cap(21)); // CAP_SYS_ADMIN
            for flags in [CLONE_NEWPID as u64, CLONE_NEWNET as u64, 0x0200_0000] {
                let a = CloneArgs {
                    flags,
                    exit_signal: SIGCHLD as u64,
                    ..Default::default()
                };
                check_eq!(
                    sys::clone3(&a, core::mem::size_of::<CloneArgs>()),
                    Err(EPERM),
                    "flags {:#x}",
                    flags
                );
            }
            let a = CloneArgs {
                set_tid: &tid as *const i32 as u64,
                set_tid_size: 1,
                exit_signal: SIGCHLD as u64,
                ..Default::default()
            };
            check_eq!(
                sys::clone3(&a, core::mem::size_of::<CloneArgs>()),
                Err(EPERM)
            );
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    static SIGNALLED: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

    extern "C" fn on_usr2(_sig: i32) {
        SIGNALLED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }

    /// clone301: a child whose exit signal (SIGUSR2, a handler without SA_RESTART)
    /// arrives during wait4(__WALL) is still reaped by that call.
    fn wait_all_reaps_despite_the_exit_signal() {
        check_ok!(ulib::rt::set_handler(SIGUSR2, on_usr2, 0, 0));
        for _ in 0..20 {
            let args = CloneArgs {
                exit_signal: SIGUSR2 as u64,
                ..Default::default()
            };
            let pid = check_ok!(sys::clone3(&args, core::mem::size_of::<CloneArgs>()));
            if pid == 0 {
                let _ = sys::sleep_ms(2);
                sys::exit(0);
            }
            check_eq!(sys::wait4(pid, WALL).map(|r| r.0), Ok(pid));
        }
        check_eq!(SIGNALLED.load(core::sync::atomic::Ordering::Relaxed), 20);
        let _ = ulib::rt::set_disposition(SIGUSR2, 0);
    }

    /// pidns13: F_SETOWN + F_SETSIG + O_ASYNC on a pipe's read end: a write sends the
    /// F_SETSIG signal with si_code POLL_IN, si_fd and si_band; the values read back.
    fn o_async_pipe_signals_its_owner() {
        let pid = fork_run(|| {
            let [r, w] = check_ok!(sys::pipe());
            block(sigbit(SIGUSR1) | sigbit(29));
            let me = sys::getpid();
            check_eq!(sys::fcntl(r, F_SETOWN, me as usize), Ok(0));
            check_eq!(sys::fcntl(r, F_GETOWN, 0), Ok(me as usize));
            check_eq!(sys::fcntl(r, F_SETSIG, 65), Err(EINVAL));
            check_eq!(sys::fcntl(r, F_SETSIG, SIGUSR1 as usize), Ok(0));
            check_eq!(sys::fcntl(r, F_GETSIG, 0), Ok(SIGUSR1 as usize));
            check_eq!(sys::fcntl(r, F_SETOWN, 30000), Err(ESRCH));
            let fl = check_ok!(sys::fcntl(r, F_GETFL, 0));
            check_ok!(sys::fcntl(r, F_SETFL, fl | O_ASYNC));
            check_eq!(check_ok!(sys::fcntl(r, F_GETFL, 0)) & O_ASYNC, O_ASYNC);
            check_ok!(sys::write(w, b"x"));
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), Some(1_000_000_000)));
            check_eq!(sig, SIGUSR1);
            check_eq!(info.code, POLL_IN);
            check_eq!(info.third() as i32, r, "si_fd");
            check_eq!(info.words[0], 0x41, "si_band POLLIN|POLLRDNORM");
            // Without F_SETSIG: plain SIGIO.
            check_ok!(sys::fcntl(r, F_SETSIG, 0));
            check_ok!(sys::write(w, b"y"));
            check_eq!(
                sigtimedwait(sigbit(29), Some(1_000_000_000)).map(|r| r.0),
                Ok(29)
            );
            // O_ASYNC off: nothing more.
            check_ok!(sys::fcntl(r, F_SETFL, fl));
            check_ok!(sys::write(w, b"z"));
            check_eq!(
                check_ok!(sys::sigpending()) & (sigbit(29) | sigbit(SIGUSR1)),
                0
            );
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// A zero-length nanosleep gives the CPU to a runnable peer (Linux schedules):
    /// polling a flag with it sees the peer's write within a few rounds.
    fn nanosleep_zero_lets_a_peer_run() {
        // SAFETY: a fresh shared anonymous page, unmapped below.
        let page = check_ok!(unsafe {
            sys::mmap(
                0,
                4096,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED | sys::MAP_ANONYMOUS,
                -1,
                0,
            )
        });
        // SAFETY: the page is mapped, aligned and only used through atomics.
        let flag = unsafe { &*(page as *const core::sync::atomic::AtomicU32) };
        let pid = check_ok!(sys::fork());
        if pid == 0 {
            flag.store(1, core::sync::atomic::Ordering::SeqCst);
            sys::exit(0);
        }
        let zero = sys::Timespec::default();
        let mut rounds = 0;
        while flag.load(core::sync::atomic::Ordering::SeqCst) == 0 && rounds < 200 {
            // SAFETY: a live timespec.
            let _ =
                unsafe { sys::syscall2(NR_NANOSLEEP, &zero as *const sys::Timespec as usize, 0) };
            rounds += 1;
        }
        check!(rounds < 200, "the child never ran during {} sleeps", rounds);
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: ours.
        let _ = unsafe { sys::munmap(page, 4096) };
    }

    const NR_SIGNALFD4: usize = 289;
    const SFD_NONBLOCK: usize = 0o4000;
    const SFD_CLOEXEC: usize = 0o2000000;

    fn signalfd4(fd: i32, mask: u64, flags: usize) -> SysResult<i32> {
        // SAFETY: a live mask.
        sys::check(unsafe {
            sys::syscall4(
                NR_SIGNALFD4,
                fd as usize,
                &mask as *const u64 as usize,
                8,
                flags,
            )
        })
        .map(|f| f as i32)
    }

    /// `struct signalfd_siginfo` fields: (signo, code, pid, int).
    fn ssi(b: &[u8; 128]) -> (u32, i32, u32, i32) {
        let w = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        (w(0), w(8) as i32, w(12), w(44) as i32)
    }

    /// signalfd: pending signals of its mask are read as records (sender, code, value),
    /// `poll` says POLLIN, the mask can be replaced, a blocking read waits for one.
    fn signalfd_reads_pending_signals() {
        let pid = fork_run(|| {
            block(sigbit(SIGUSR1) | sigbit(SIGUSR2));
            let fd = check_ok!(signalfd4(-1, sigbit(SIGUSR1), SFD_NONBLOCK | SFD_CLOEXEC));
            check_eq!(sys::fcntl(fd, 1, 0), Ok(1), "SFD_CLOEXEC");
            let mut rec = [0u8; 128];
            check_eq!(sys::read(fd, &mut rec), Err(EAGAIN));
            check_eq!(ulib::mq::poll_one(fd, 1, 0), Ok(0), "nothing pending");
            check_ok!(sys::kill(sys::getpid(), SIGUSR1));
            check_eq!(ulib::mq::poll_one(fd, 1, 0), Ok(1), "POLLIN");
            check_eq!(sys::read(fd, &mut rec[..64]), Err(EINVAL), "short buffer");
            check_eq!(sys::read(fd, &mut rec), Ok(128));
            check_eq!(
                ssi(&rec),
                (SIGUSR1 as u32, SI_USER, sys::getpid() as u32, 0)
            );
            check_eq!(check_ok!(sys::sigpending()) & sigbit(SIGUSR1), 0, "taken");
            check_eq!(signalfd4(fd, sigbit(SIGUSR2), 0), Ok(fd));
            check_ok!(sigqueueinfo(
                sys::getpid(),
                SIGUSR2,
                &SigInfo::new(SIGUSR2, SI_QUEUE, 1, 5)
            ));
            check_eq!(sys::read(fd, &mut rec), Ok(128));
            check_eq!(
                (ssi(&rec).0, ssi(&rec).1, ssi(&rec).3),
                (SIGUSR2 as u32, SI_QUEUE, 5)
            );
            let [r, w] = check_ok!(sys::pipe());
            check_eq!(
                signalfd4(r, sigbit(SIGUSR1), 0),
                Err(EINVAL),
                "not a signalfd"
            );
            check_eq!(signalfd4(-1, 0, 0x1), Err(EINVAL), "bad flags");
            // A blocking one waits for the signal a child sends.
            let bfd = check_ok!(signalfd4(-1, sigbit(SIGUSR1), 0));
            let me = sys::getpid();
            let child = check_ok!(sys::fork());
            if child == 0 {
                let _ = sys::sleep_ms(20);
                let _ = sys::kill(me, SIGUSR1);
                sys::exit(0);
            }
            check_eq!(sys::read(bfd, &mut rec), Ok(128));
            check_eq!(ssi(&rec).0, SIGUSR1 as u32);
            check_eq!(ssi(&rec).2, child as u32, "ssi_pid: the child");
            check_eq!(wait_exit(child), Exit::Code(0));
            for f in [fd, bfd, r, w] {
                let _ = sys::close(f);
            }
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    const NR_TIMER_CREATE: usize = 222;
    const NR_TIMER_SETTIME: usize = 223;
    const NR_TIMER_GETTIME: usize = 224;
    const NR_TIMER_GETOVERRUN: usize = 225;
    const NR_TIMER_DELETE: usize = 226;
    const SI_TIMER: i32 = -2;
    const SIGALRM: i32 = 14;

    /// `struct sigevent`: value, signo, notify, thread id (then padding to 64 bytes).
    #[repr(C)]
    struct SigEvent {
        value: u64,
        signo: i32,
        notify: i32,
        tid: i32,
        pad: [i32; 11],
    }

    fn sigevent(notify: i32, signo: i32, value: u64, tid: i32) -> SigEvent {
        SigEvent {
            value,
            signo,
            notify,
            tid,
            pad: [0; 11],
        }
    }

    fn timer_create(clock: usize, ev: Option<&SigEvent>) -> SysResult<i32> {
        let mut id: i32 = -1;
        let evp = ev.map_or(0, |e| e as *const SigEvent as usize);
        // SAFETY: live sigevent and id.
        sys::check(unsafe {
            sys::syscall3(NR_TIMER_CREATE, clock, evp, &mut id as *mut i32 as usize)
        })?;
        Ok(id)
    }

    /// Arms timer `id`: first expiry after `value_ns`, then every `interval_ns`.
    fn timer_settime(id: i32, value_ns: u64, interval_ns: u64) -> SysResult {
        let its = [
            sys::Timespec::from_nanos(interval_ns),
            sys::Timespec::from_nanos(value_ns),
        ];
        // SAFETY: a live itimerspec.
        sys::check(unsafe {
            sys::syscall4(NR_TIMER_SETTIME, id as usize, 0, its.as_ptr() as usize, 0)
        })
    }

    /// (remaining, interval) in nanoseconds.
    fn timer_gettime(id: i32) -> SysResult<(u64, u64)> {
        let mut its = [sys::Timespec::default(); 2];
        // SAFETY: a live itimerspec.
        sys::check(unsafe {
            sys::syscall2(NR_TIMER_GETTIME, id as usize, its.as_mut_ptr() as usize)
        })?;
        Ok((its[1].as_nanos(), its[0].as_nanos()))
    }

    fn timer_call(nr: usize, id: i32) -> SysResult {
        // SAFETY: no pointer.
        sys::check(unsafe { sys::syscall1(nr, id as usize) })
    }

    /// POSIX timers: a one-shot SIGEV_SIGNAL timer delivers SI_TIMER with its id and
    /// value; a fast periodic one blocked for a while reports overruns; SIGEV_NONE only
    /// counts down; SIGEV_THREAD_ID targets a thread; a NULL sigevent is SIGALRM with the
    /// id; errnos for bad clocks, sigevents, times and ids.
    fn posix_timers_signal_and_count_overruns() {
        let pid = fork_run(|| {
            block(sigbit(SIGUSR1) | sigbit(SIGUSR2) | sigbit(SIGALRM));
            let ev = sigevent(0, SIGUSR1, 42, 0);
            let id = check_ok!(timer_create(1, Some(&ev)));
            check_eq!(id, 0, "the first timer of a process");
            check_eq!(timer_gettime(id), Ok((0, 0)), "disarmed");
            check_ok!(timer_settime(id, 20_000_000, 0));
            let (left, iv) = check_ok!(timer_gettime(id));
            check!(left > 0 && left <= 20_000_000 && iv == 0, "{} {}", left, iv);
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), Some(2_000_000_000)));
            check_eq!(sig, SIGUSR1);
            check_eq!(info.code, SI_TIMER);
            check_eq!(info.pid(), id as u32, "si_timerid");
            check_eq!(info.third(), 42, "si_value");
            check_eq!(timer_gettime(id), Ok((0, 0)), "a one-shot timer is done");
            // Periodic every 1 ms while the signal stays pending for 50 ms.
            check_ok!(timer_settime(id, 1_000_000, 1_000_000));
            let _ = sys::sleep_ms(50);
            let (_, info) = check_ok!(sigtimedwait(sigbit(SIGUSR1), Some(2_000_000_000)));
            let over = info.uid();
            check!(over >= 20, "si_overrun {}", over);
            check_eq!(timer_call(NR_TIMER_GETOVERRUN, id), Ok(over as usize));
            check_ok!(timer_settime(id, 0, 0));
            // One more may have been sent before the disarm.
            let _ = sigtimedwait(sigbit(SIGUSR1), Some(0));
            // SIGEV_NONE counts down silently.
            let quiet = check_ok!(timer_create(1, Some(&sigevent(1, 0, 0, 0))));
            check_eq!(quiet, 1);
            check_ok!(timer_settime(quiet, 5_000_000, 0));
            let _ = sys::sleep_ms(20);
            check_eq!(timer_gettime(quiet), Ok((0, 0)));
            // SIGEV_THREAD_ID to this thread.
            let te = sigevent(4, SIGUSR2, 7, sys::gettid());
            let tid_timer = check_ok!(timer_create(0, Some(&te)));
            check_ok!(timer_settime(tid_timer, 5_000_000, 0));
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGUSR2), Some(2_000_000_000)));
            check_eq!((sig, info.code, info.third()), (SIGUSR2, SI_TIMER, 7));
            // NULL sigevent: SIGALRM carrying the id.
            let a = check_ok!(timer_create(7, None));
            check_ok!(timer_settime(a, 5_000_000, 0));
            let (sig, info) = check_ok!(sigtimedwait(sigbit(SIGALRM), Some(2_000_000_000)));
            check_eq!((sig, info.third()), (SIGALRM, a as u64));
            check_eq!(
                check_ok!(sys::sigpending()) & sigbit(SIGUSR1),
                0,
                "nothing else"
            );
            // Errors.
            check_eq!(timer_create(2, Some(&ev)), Err(EINVAL), "CPU clock");
            check_eq!(timer_create(99, Some(&ev)), Err(EINVAL));
            check_eq!(
                timer_create(1, Some(&sigevent(99, SIGUSR1, 0, 0))),
                Err(EINVAL)
            );
            check_eq!(timer_create(1, Some(&sigevent(0, 65, 0, 0))), Err(EINVAL));
            check_eq!(
                timer_create(1, Some(&sigevent(4, SIGUSR1, 0, 99999))),
                Err(EINVAL)
            );
            let bad = [
                sys::Timespec::default(),
                sys::Timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000_000,
                },
            ];
            // SAFETY: a live itimerspec with a bad nsec.
            let r = sys::check(unsafe {
                sys::syscall4(NR_TIMER_SETTIME, id as usize, 0, bad.as_ptr() as usize, 0)
            });
            check_eq!(r, Err(EINVAL));
            for t in [id, quiet, tid_timer, a] {
                check_eq!(timer_call(NR_TIMER_DELETE, t), Ok(0));
            }
            check_eq!(timer_call(NR_TIMER_DELETE, id), Err(EINVAL), "gone");
            check_eq!(timer_gettime(id), Err(EINVAL));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    const NR_SETITIMER: usize = 38;
    const NR_GETITIMER: usize = 36;
    const SIGVTALRM: i32 = 26;
    const SIGPROF: i32 = 27;

    /// setitimer(which, value µs, interval µs); returns the old (value, interval) in µs.
    fn setitimer(which: usize, value_us: i64, interval_us: i64) -> SysResult<(i64, i64)> {
        let new = [0, interval_us, 0, value_us];
        let mut old = [0i64; 4];
        // SAFETY: live itimervals.
        sys::check(unsafe {
            sys::syscall3(
                NR_SETITIMER,
                which,
                new.as_ptr() as usize,
                old.as_mut_ptr() as usize,
            )
        })?;
        Ok((old[2] * 1_000_000 + old[3], old[0] * 1_000_000 + old[1]))
    }

    fn getitimer(which: usize) -> SysResult<(i64, i64)> {
        let mut cur = [0i64; 4];
        // SAFETY: a live itimerval.
        sys::check(unsafe { sys::syscall2(NR_GETITIMER, which, cur.as_mut_ptr() as usize) })?;
        Ok((cur[2] * 1_000_000 + cur[3], cur[0] * 1_000_000 + cur[1]))
    }

    /// Busy-loops until `sig` is pending or 10 s of wall time pass; whether it came.
    fn spin_until_pending(sig: i32) -> bool {
        let end = sys::monotonic_ns() + 10_000_000_000;
        while sys::monotonic_ns() < end {
            if sys::sigpending().is_ok_and(|s| s & sigbit(sig) != 0) {
                return true;
            }
        }
        false
    }

    /// ITIMER_VIRTUAL and ITIMER_PROF count CPU time, not sleep: SIGVTALRM and SIGPROF
    /// after 20 ms of spinning, nothing after a 60 ms sleep.
    fn cpu_itimers_count_cpu_time_not_sleep() {
        let pid = fork_run(|| {
            block(sigbit(SIGVTALRM) | sigbit(SIGPROF));
            check_eq!(setitimer(1, 20_000, 0), Ok((0, 0)));
            let (left, iv) = check_ok!(getitimer(1));
            check!(left > 0 && left <= 20_000 && iv == 0, "{} {}", left, iv);
            check!(
                spin_until_pending(SIGVTALRM),
                "SIGVTALRM after 20 ms of CPU"
            );
            check_eq!(getitimer(1), Ok((0, 0)), "a one-shot timer is done");
            check_eq!(setitimer(2, 20_000, 5_000), Ok((0, 0)));
            check!(spin_until_pending(SIGPROF), "SIGPROF after 20 ms of CPU");
            let (_, iv) = check_ok!(setitimer(2, 0, 0));
            check_eq!(iv, 5_000, "the old interval");
            let _ = sigtimedwait(sigbit(SIGVTALRM) | sigbit(SIGPROF), Some(0));
            let _ = sigtimedwait(sigbit(SIGVTALRM) | sigbit(SIGPROF), Some(0));
            check_ok!(setitimer(1, 50_000, 0));
            let _ = sys::sleep_ms(60);
            check_eq!(
                check_ok!(sys::sigpending()) & sigbit(SIGVTALRM),
                0,
                "sleeping uses no CPU time"
            );
            check_ok!(setitimer(1, 0, 0));
            check_eq!(setitimer(3, 1, 0), Err(EINVAL));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    ulib::test_main!(
        cpu_itimers_count_cpu_time_not_sleep,
        posix_timers_signal_and_count_overruns,
        signalfd_reads_pending_signals,
        kill_si_pid_is_as_the_receiver_sees_the_sender,
        sigchld_carries_the_childs_pid_and_status,
        sigtimedwait_takes_pending_and_times_out,
        sigqueueinfo_passes_the_value,
        clone_pidfd_and_pidfd_send_signal,
        clone_pidfd_bad_pointer_is_efault,
        clone3_eperm_comes_before_einval,
        wait_all_reaps_despite_the_exit_signal,
        o_async_pipe_signals_its_owner,
        nanosleep_zero_lets_a_peer_run,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
