//! Job control: stop signals and SIGCONT, the wait4/waitid statuses of stopped and
//! continued children, SIGCHLD with SA_NOCLDSTOP, orphaned process groups, and the
//! setpgid/setsid/getpgid/getsid errnos. Every case holds on Linux.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::sync::atomic::{AtomicU32, Ordering};
    use ulib::container::{getpgrp, setpgid, setsid};
    use ulib::rt::set_handler;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, wait_exit};
    use ulib::{Args, check_eq, check_ok};

    const SIGINT: i32 = 2;
    const SIGKILL: i32 = 9;
    const SIGCHLD: i32 = 17;
    const SIGCONT: i32 = 18;
    const SIGSTOP: i32 = 19;
    const SIGTSTP: i32 = 20;
    const SIGTTIN: i32 = 21;
    const WNOHANG: usize = 1;
    const WUNTRACED: usize = 2;
    const WSTOPPED: usize = 2;
    const WEXITED: usize = 4;
    const WCONTINUED: usize = 8;
    const WNOWAIT: usize = 0x0100_0000;
    const SA_NOCLDSTOP: u64 = 1;
    const NR_WAITID: usize = 247;
    const NR_GETPGID: usize = 121;
    const NR_GETSID: usize = 124;

    fn sleep_forever() -> ! {
        loop {
            let _ = sleep_ms(1000);
        }
    }

    /// A child that sleeps forever, in its own process group when `own_group`.
    fn sleeper(own_group: bool) -> i32 {
        let pid = fork().expect("fork");
        if pid == 0 {
            if own_group {
                let _ = setpgid(0, 0);
            }
            sleep_forever();
        }
        if own_group {
            // Both sides set it (the usual race-free shell idiom).
            let _ = setpgid(pid, pid);
        }
        pid
    }

    /// wait4 retrying EINTR.
    fn wait_opts(pid: i32, options: usize) -> SysResult<(i32, i32)> {
        loop {
            match wait4(pid, options) {
                Err(EINTR) => continue,
                r => return r,
            }
        }
    }

    fn kill_and_reap(pid: i32) {
        let _ = kill(pid, SIGKILL);
        check_eq!(wait_exit(pid), Exit::Signal(SIGKILL));
    }

    /// `waitid(P_PID, pid, &info, options)`: (si_signo, si_code, si_pid, si_status).
    fn waitid_pid(pid: i32, options: usize) -> SysResult<(i32, i32, i32, i32)> {
        let mut info = [0i32; 32];
        // SAFETY: the kernel writes 128 bytes into `info`.
        let r = unsafe {
            syscall5(
                NR_WAITID,
                1,
                pid as usize,
                info.as_mut_ptr() as usize,
                options,
                0,
            )
        };
        check(r)?;
        Ok((info[0], info[2], info[4], info[6]))
    }

    /// SIGSTOP stops: wait4(WUNTRACED) reports 0x7f | SIGSTOP << 8; SIGCONT continues:
    /// wait4(WCONTINUED) reports 0xffff; each report is collected once.
    fn sigstop_then_sigcont_statuses() {
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        check_eq!(wait_opts(pid, WUNTRACED | WNOHANG), Ok((0, 0)));
        check_eq!(kill(pid, SIGCONT), Ok(0));
        check_eq!(wait_opts(pid, WCONTINUED), Ok((pid, 0xffff)));
        check_eq!(wait_opts(pid, WCONTINUED | WNOHANG), Ok((0, 0)));
        kill_and_reap(pid);
    }

    /// Without WUNTRACED a stop is not reported; the report waits for a later call.
    fn stop_not_reported_without_wuntraced() {
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        let _ = sleep_ms(50);
        check_eq!(wait_opts(pid, WNOHANG), Ok((0, 0)));
        check_eq!(wait_opts(pid, WUNTRACED | WNOHANG), Ok((pid, 0x137f)));
        kill_and_reap(pid);
    }

    /// A stopped process does not run: a pipe it would write to stays empty until SIGCONT.
    fn stopped_child_does_not_run() {
        let [r, w] = check_ok!(pipe());
        let pid = check_ok!(fork());
        if pid == 0 {
            let _ = close(r);
            loop {
                let _ = write(w, b"x");
                let _ = sleep_ms(10);
            }
        }
        let _ = close(w);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        // Drain what it wrote before it stopped, then nothing more comes.
        check_ok!(fcntl(r, 4, O_NONBLOCK)); // F_SETFL
        let mut buf = [0u8; 256];
        while read(r, &mut buf).is_ok_and(|n| n > 0) {}
        let _ = sleep_ms(100);
        check_eq!(read(r, &mut buf), Err(EAGAIN));
        check_eq!(kill(pid, SIGCONT), Ok(0));
        let _ = sleep_ms(100);
        check_eq!(read(r, &mut buf).is_ok_and(|n| n > 0), true);
        kill_and_reap(pid);
        let _ = close(r);
    }

    /// SIGKILL ends a stopped process.
    fn sigkill_ends_stopped_process() {
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        kill_and_reap(pid);
    }

    /// SIGTSTP and SIGTTIN stop a child in its own (non-orphaned) process group with
    /// their own number in the status.
    fn sigtstp_and_sigttin_stop() {
        let pid = sleeper(true);
        check_eq!(kill(pid, SIGTSTP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x7f | SIGTSTP << 8)));
        check_eq!(kill(pid, SIGCONT), Ok(0));
        check_eq!(wait_opts(pid, WCONTINUED), Ok((pid, 0xffff)));
        check_eq!(kill(pid, SIGTTIN), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x7f | SIGTTIN << 8)));
        kill_and_reap(pid);
    }

    /// In an orphaned process group (a new session) SIGTSTP does not stop; SIGSTOP does.
    fn orphaned_group_ignores_sigtstp() {
        let pid = check_ok!(fork());
        if pid == 0 {
            let _ = setsid();
            sleep_forever();
        }
        let _ = sleep_ms(50);
        check_eq!(kill(pid, SIGTSTP), Ok(0));
        let _ = sleep_ms(50);
        check_eq!(wait_opts(pid, WUNTRACED | WNOHANG), Ok((0, 0)));
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        kill_and_reap(pid);
    }

    /// waitid: WSTOPPED gives CLD_STOPPED (5) with si_status SIGSTOP, WCONTINUED gives
    /// CLD_CONTINUED (6) with SIGCONT; WNOWAIT leaves the report; WEXITED alone ignores it.
    fn waitid_stopped_and_continued() {
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        let _ = sleep_ms(50);
        check_eq!(waitid_pid(pid, WEXITED | WNOHANG).map(|i| i.2), Ok(0));
        check_eq!(
            waitid_pid(pid, WSTOPPED | WNOWAIT),
            Ok((SIGCHLD, 5, pid, SIGSTOP))
        );
        check_eq!(waitid_pid(pid, WSTOPPED), Ok((SIGCHLD, 5, pid, SIGSTOP)));
        check_eq!(kill(pid, SIGCONT), Ok(0));
        check_eq!(waitid_pid(pid, WCONTINUED), Ok((SIGCHLD, 6, pid, SIGCONT)));
        kill_and_reap(pid);
    }

    static CHLD: AtomicU32 = AtomicU32::new(0);
    extern "C" fn on_chld(_: i32) {
        CHLD.fetch_add(1, Ordering::SeqCst);
    }

    /// The parent gets SIGCHLD when a child stops or continues, unless SA_NOCLDSTOP.
    fn sigchld_on_stop_unless_nocldstop() {
        check_ok!(set_handler(SIGCHLD, on_chld, 0, 0));
        CHLD.store(0, Ordering::SeqCst);
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        let _ = sleep_ms(20);
        check_eq!(CHLD.load(Ordering::SeqCst), 1);
        check_eq!(kill(pid, SIGCONT), Ok(0));
        check_eq!(wait_opts(pid, WCONTINUED), Ok((pid, 0xffff)));
        let _ = sleep_ms(20);
        check_eq!(CHLD.load(Ordering::SeqCst), 2);
        check_ok!(set_handler(SIGCHLD, on_chld, SA_NOCLDSTOP, 0));
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        let _ = sleep_ms(20);
        check_eq!(CHLD.load(Ordering::SeqCst), 2);
        kill_and_reap(pid);
        let _ = ulib::rt::set_disposition(SIGCHLD, 0);
    }

    /// SIGCONT discards a pending (blocked) stop signal; a stop signal discards a
    /// pending SIGCONT.
    fn sigcont_discards_pending_stop() {
        let pid = check_ok!(fork());
        if pid == 0 {
            let set = 1u64 << (SIGTSTP - 1) | 1u64 << (SIGCONT - 1);
            let _ = sigprocmask(0, Some(set));
            let _ = kill(getpid(), SIGTSTP);
            let p1 = sigpending().unwrap_or(0);
            let _ = kill(getpid(), SIGCONT);
            let p2 = sigpending().unwrap_or(0);
            let _ = kill(getpid(), SIGTSTP);
            let p3 = sigpending().unwrap_or(0);
            let (tstp, cont) = (1u64 << (SIGTSTP - 1), 1u64 << (SIGCONT - 1));
            let ok = p1 == tstp && p2 & tstp == 0 && p3 & cont == 0 && p3 & tstp != 0;
            exit(if ok { 0 } else { 1 });
        }
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// setpgid/setsid/getpgid/getsid errnos and values.
    fn setpgid_setsid_errnos() {
        // SAFETY: no pointers.
        let getpgid = |p: i32| check(unsafe { syscall1(NR_GETPGID, p as usize) });
        // SAFETY: no pointers.
        let getsid = |p: i32| check(unsafe { syscall1(NR_GETSID, p as usize) });
        check_eq!(setpgid(0, -1), Err(EINVAL));
        check_eq!(setpgid(-1, 0), Err(EINVAL));
        check_eq!(getpgid(0), Ok(getpgrp() as usize));
        check_eq!(getpgid(-5), Err(ESRCH));
        let pid = sleeper(true);
        check_eq!(getpgid(pid), Ok(pid as usize));
        check_eq!(getsid(pid), getsid(0));
        // A group in another session cannot be joined; a process not our child: ESRCH.
        let leader = check_ok!(fork());
        if leader == 0 {
            // A group leader cannot setsid; after leaving the group... it is the leader.
            let _ = setpgid(0, 0);
            let first = setsid();
            exit(if first == Err(EPERM) { 0 } else { 1 });
        }
        check_eq!(wait_exit(leader), Exit::Code(0));
        let s = check_ok!(fork());
        if s == 0 {
            let _ = setsid();
            sleep_forever();
        }
        let _ = sleep_ms(50);
        check_eq!(getsid(s), Ok(s as usize));
        // Our child in another session: EPERM; a session leader cannot change group.
        check_eq!(setpgid(s, pid), Err(EPERM));
        check_eq!(setpgid(s, s), Err(EPERM));
        check_eq!(setpgid(1, 1).is_err(), true);
        kill_and_reap(s);
        kill_and_reap(pid);
    }

    /// SIGINT still terminates a continued process (signals queued while stopped run after).
    fn pending_signal_acts_after_continue() {
        let pid = sleeper(false);
        check_eq!(kill(pid, SIGSTOP), Ok(0));
        check_eq!(wait_opts(pid, WUNTRACED), Ok((pid, 0x137f)));
        check_eq!(kill(pid, SIGINT), Ok(0));
        let _ = sleep_ms(50);
        check_eq!(wait_opts(pid, WNOHANG), Ok((0, 0)));
        check_eq!(kill(pid, SIGCONT), Ok(0));
        check_eq!(wait_exit(pid), Exit::Signal(SIGINT));
    }

    const TCGETS: usize = 0x5401;
    const TCSETS: usize = 0x5402;
    const TIOCSCTTY: usize = 0x540E;
    const TIOCGPGRP: usize = 0x540F;
    const TIOCSPGRP: usize = 0x5410;
    const TIOCGWINSZ: usize = 0x5413;
    const TIOCSWINSZ: usize = 0x5414;
    const TIOCNOTTY: usize = 0x5422;
    const SIGWINCH: i32 = 28;
    const ENOTTY: i32 = 25;
    const SIGTTOU: i32 = 22;
    const TOSTOP: u32 = 0o400;

    fn ioctl_ptr<T>(fd: i32, req: usize, arg: &mut T) -> SysResult {
        ulib::container::ioctl(fd, req, arg as *mut T as usize)
    }

    fn tcgetpgrp(fd: i32) -> SysResult<i32> {
        let mut g = 0i32;
        ioctl_ptr(fd, TIOCGPGRP, &mut g).map(|_| g)
    }

    fn tcsetpgrp(fd: i32, pgid: i32) -> SysResult {
        let mut g = pgid;
        ioctl_ptr(fd, TIOCSPGRP, &mut g)
    }

    /// Whether fd 1 is our controlling terminal (Bulkhead's console in init's session).
    fn have_ctty() -> bool {
        tcgetpgrp(1).is_ok()
    }

    /// The console: TIOCGPGRP is our group; TIOCSPGRP moves the foreground (EINVAL for
    /// a negative, EPERM for a group that does not exist); from the background it raises
    /// SIGTTOU unless ignored; a background reader stops with SIGTTIN.
    fn console_foreground_group_and_sigttin() {
        if !have_ctty() {
            return;
        }
        check_eq!(tcgetpgrp(1), Ok(getpgrp()));
        check_eq!(tcsetpgrp(1, -1), Err(EINVAL));
        check_eq!(tcsetpgrp(1, 0x7ffff), Err(EPERM));
        let reader = check_ok!(fork());
        if reader == 0 {
            let _ = setpgid(0, 0);
            let mut b = [0u8; 1];
            let _ = read(0, &mut b);
            exit(3);
        }
        let _ = setpgid(reader, reader);
        check_eq!(
            wait_opts(reader, WUNTRACED),
            Ok((reader, 0x7f | SIGTTIN << 8))
        );
        kill_and_reap(reader);
        // Give the foreground away and take it back while ignoring SIGTTOU.
        let fg = sleeper(true);
        check_eq!(tcsetpgrp(1, fg), Ok(0));
        check_eq!(tcgetpgrp(1), Ok(fg));
        check_ok!(ulib::rt::set_disposition(SIGTTOU, 1));
        check_eq!(tcsetpgrp(1, getpgrp()), Ok(0));
        check_ok!(ulib::rt::set_disposition(SIGTTOU, 0));
        check_eq!(tcgetpgrp(1), Ok(getpgrp()));
        kill_and_reap(fg);
    }

    /// With TOSTOP a background writer stops with SIGTTOU; TCSETS from the background
    /// does too.
    fn console_tostop_stops_background_writer() {
        if !have_ctty() {
            return;
        }
        let mut t = [0u32; 9];
        check_ok!(ioctl_ptr(1, TCGETS, &mut t));
        let saved = t;
        t[3] |= TOSTOP;
        check_ok!(ioctl_ptr(1, TCSETS, &mut t));
        let w = check_ok!(fork());
        if w == 0 {
            let _ = setpgid(0, 0);
            let _ = write(1, b"");
            let _ = write(1, b"background write\n");
            exit(3);
        }
        let _ = setpgid(w, w);
        check_eq!(wait_opts(w, WUNTRACED), Ok((w, 0x7f | SIGTTOU << 8)));
        kill_and_reap(w);
        let mut t2 = saved;
        check_ok!(ioctl_ptr(1, TCSETS, &mut t2));
        let c = check_ok!(fork());
        if c == 0 {
            let _ = setpgid(0, 0);
            let mut t3 = saved;
            let _ = ioctl_ptr(1, TCSETS, &mut t3);
            exit(3);
        }
        let _ = setpgid(c, c);
        check_eq!(wait_opts(c, WUNTRACED), Ok((c, 0x7f | SIGTTOU << 8)));
        kill_and_reap(c);
    }

    static WINCH: AtomicU32 = AtomicU32::new(0);
    extern "C" fn on_winch(_: i32) {
        WINCH.fetch_add(1, Ordering::SeqCst);
    }

    /// TIOCSWINSZ stores the size (TIOCGWINSZ reads it back) and sends SIGWINCH to the
    /// foreground group when it changes; TIOCSCTTY by a non-leader is EPERM; outside the
    /// session TIOCGPGRP and TIOCNOTTY give ENOTTY.
    fn console_winsize_and_ctty_errnos() {
        if !have_ctty() {
            return;
        }
        let mut old = [0u16; 4];
        check_ok!(ioctl_ptr(1, TIOCGWINSZ, &mut old));
        check_ok!(set_handler(SIGWINCH, on_winch, 0, 0));
        WINCH.store(0, Ordering::SeqCst);
        let mut ws = [33u16, 101, 0, 0];
        check_ok!(ioctl_ptr(1, TIOCSWINSZ, &mut ws));
        let mut back = [0u16; 4];
        check_ok!(ioctl_ptr(1, TIOCGWINSZ, &mut back));
        check_eq!(back, [33, 101, 0, 0]);
        let _ = sleep_ms(10);
        check_eq!(WINCH.load(Ordering::SeqCst), 1);
        check_ok!(ioctl_ptr(1, TIOCSWINSZ, &mut old));
        let _ = ulib::rt::set_disposition(SIGWINCH, 0);
        let c = check_ok!(fork());
        if c == 0 {
            let a = ulib::container::ioctl(1, TIOCSCTTY, 0);
            let _ = setsid();
            let b = tcgetpgrp(1);
            let d = ulib::container::ioctl(1, TIOCNOTTY, 0);
            let ok = a == Err(EPERM) && b == Err(ENOTTY) && d == Err(ENOTTY);
            exit(if ok { 0 } else { 1 });
        }
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            sigstop_then_sigcont_statuses,
            stop_not_reported_without_wuntraced,
            stopped_child_does_not_run,
            sigkill_ends_stopped_process,
            sigtstp_and_sigttin_stop,
            orphaned_group_ignores_sigtstp,
            waitid_stopped_and_continued,
            sigchld_on_stop_unless_nocldstop,
            sigcont_discards_pending_stop,
            setpgid_setsid_errnos,
            pending_signal_acts_after_continue,
            console_foreground_group_and_sigttin,
            console_tostop_stops_background_writer,
            console_winsize_and_ctty_errnos,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
