//! Pseudo-terminals: /dev/ptmx and devpts (per-mount numbering, locked slaves,
//! TIOCGPTN/TIOCSPTLCK), the line discipline through a pair (echo, canonical lines,
//! ONLCR, ^C/^Z to the foreground group of the slave's session), poll on both ends,
//! and busybox `sh -i` job control driven through the master when /bin/busybox is
//! there (tests/pty.rs adds it).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::{ioctl, setpgid, setsid};
    use ulib::mnt::{access_ok, mkdir_p, mount_dev_pts};
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, wait_exit};
    use ulib::timens::poll_one;
    use ulib::{Args, check_eq, check_ok};

    const TIOCSCTTY: usize = 0x540E;
    const TIOCSPGRP: usize = 0x5410;
    const TIOCGPTN: usize = 0x8004_5430;
    const TIOCSPTLCK: usize = 0x4004_5431;
    const EIO: i32 = 5;
    const SIGINT: i32 = 2;
    const SIGTSTP: i32 = 20;
    const SIGKILL: i32 = 9;
    const WUNTRACED: usize = 2;
    const POLLIN: u16 = 1;
    const POLLOUT: u16 = 4;

    fn cs(s: &str) -> CString {
        CString::new(s).expect("no NUL")
    }

    fn setup() {
        check_ok!(mount_dev_pts());
    }

    /// Opens a master; returns (fd, N) with the slave unlocked when `unlock`.
    fn open_master(ptmx: &str, unlock: bool) -> (i32, u32) {
        let fd = open(&cs(ptmx), O_RDWR, 0).expect("open ptmx");
        let mut n = 0u32;
        ioctl(fd, TIOCGPTN, &mut n as *mut u32 as usize).expect("TIOCGPTN");
        if unlock {
            let mut zero = 0i32;
            ioctl(fd, TIOCSPTLCK, &mut zero as *mut i32 as usize).expect("unlockpt");
        }
        (fd, n)
    }

    /// Reads from `fd` until `pat` shows up (or ~`ms` pass); returns everything read.
    fn expect(fd: i32, pat: &str, ms: i32) -> String {
        let mut got = Vec::new();
        let mut waited = 0;
        while waited < ms {
            if poll_one(fd, POLLIN, 50).unwrap_or(0) & POLLIN != 0 {
                let mut buf = [0u8; 512];
                match read(fd, &mut buf) {
                    Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                    _ => break,
                }
                if String::from_utf8_lossy(&got).contains(pat) {
                    break;
                }
            } else {
                waited += 50;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// /dev/ptmx numbers from 0 in the /dev/pts instance; the slave node appears, is
    /// locked (EIO) until TIOCSPTLCK 0, and goes away with the master.
    fn ptmx_numbering_and_lock() {
        setup();
        let (m0, n0) = open_master("/dev/ptmx", false);
        let (m1, n1) = open_master("/dev/ptmx", false);
        check_eq!(n1, n0 + 1);
        let p0 = format!("/dev/pts/{n0}");
        check_eq!(access_ok(&p0), true);
        check_eq!(open(&cs(&p0), O_RDWR, 0), Err(EIO));
        let mut zero = 0i32;
        check_ok!(ioctl(m0, TIOCSPTLCK, &mut zero as *mut i32 as usize));
        let s0 = check_ok!(open(&cs(&p0), O_RDWR, 0));
        check_eq!(close(s0), Ok(0));
        check_eq!(close(m0), Ok(0));
        check_eq!(access_ok(&p0), false);
        let (m2, n2) = open_master("/dev/ptmx", false);
        check_eq!(n2, n0, "the lowest free number again");
        check_eq!(close(m2), Ok(0));
        check_eq!(close(m1), Ok(0));
    }

    /// Every devpts mount is its own instance: a second mount numbers from 0 while the
    /// first has a pair open, and its nodes are its own.
    fn devpts_mounts_number_separately() {
        setup();
        let (m, _) = open_master("/dev/ptmx", false);
        let (m1, _) = open_master("/dev/ptmx", false);
        check_ok!(mkdir_p("/tmp", 0o777));
        check_ok!(mkdir_p("/tmp/pts2", 0o755));
        check_ok!(ulib::cred::mount("devpts", "/tmp/pts2", "devpts", 0));
        let (o, n) = open_master("/tmp/pts2/ptmx", true);
        check_eq!(n, 0);
        check_eq!(access_ok("/tmp/pts2/0"), true);
        check_eq!(access_ok("/tmp/pts2/1"), false);
        check_eq!(close(o), Ok(0));
        check_eq!(close(m), Ok(0));
        check_eq!(close(m1), Ok(0));
        let _ = ulib::mnt::umount("/tmp/pts2");
    }

    /// Through a pair: the master's bytes are echoed and reach the slave as a line;
    /// the slave's output comes back with ONLCR; poll shows both ends ready.
    fn line_discipline_and_poll_through_a_pair() {
        setup();
        let (m, n) = open_master("/dev/ptmx", true);
        let s = check_ok!(open(&cs(&format!("/dev/pts/{n}")), O_RDWR, 0));
        check_eq!(poll_one(s, POLLIN | POLLOUT, 0), Ok(POLLOUT));
        check_eq!(write(m, b"helo\x7flo\r"), Ok(8));
        check_eq!(poll_one(s, POLLIN, 1000), Ok(POLLIN));
        let mut buf = [0u8; 64];
        check_eq!(read(s, &mut buf), Ok(6));
        check_eq!(&buf[..6], b"hello\n");
        check_eq!(poll_one(m, POLLIN, 1000), Ok(POLLIN));
        let k = read(m, &mut buf).unwrap_or(0);
        check_eq!(&buf[..k], b"helo\x08 \x08lo\n");
        check_eq!(write(s, b"out\n"), Ok(4));
        let k = read(m, &mut buf).unwrap_or(0);
        check_eq!(&buf[..k], b"out\r\n");
        check_eq!(close(s), Ok(0));
        check_eq!(read(m, &mut buf), Err(EIO));
        check_eq!(close(m), Ok(0));
    }

    /// In a session whose controlling terminal is the slave, ^C from the master kills
    /// the foreground group and ^Z stops it (the leader sees WUNTRACED).
    fn ctrl_c_and_ctrl_z_reach_the_foreground_group() {
        setup();
        let (m, n) = open_master("/dev/ptmx", true);
        let path = format!("/dev/pts/{n}");
        let leader = check_ok!(fork());
        if leader == 0 {
            let _ = setsid();
            // A shell ignores SIGTTOU: it moves the foreground from the background.
            let _ = ulib::rt::set_disposition(22, 1);
            let s = open(&cs(&path), O_RDWR, 0).unwrap_or(-1);
            let _ = ioctl(s, TIOCSCTTY, 0);
            let mut codes = 0;
            for (i, want) in [SIGINT, SIGTSTP].into_iter().enumerate() {
                let job = fork().unwrap_or(-1);
                if job == 0 {
                    let _ = setpgid(0, 0);
                    loop {
                        let _ = sleep_ms(1000);
                    }
                }
                let _ = setpgid(job, job);
                let mut g = job;
                let _ = ioctl(s, TIOCSPGRP, &mut g as *mut i32 as usize);
                let _ = write(s, b"ready\n");
                let st = loop {
                    match wait4(job, WUNTRACED) {
                        Err(EINTR) => continue,
                        r => break r.map(|(_, st)| st).unwrap_or(0),
                    }
                };
                let ok = if want == SIGINT {
                    st == SIGINT
                } else {
                    st == 0x7f | SIGTSTP << 8
                };
                if ok {
                    codes |= 1 << i;
                }
                let _ = kill(job, SIGKILL);
                let _ = wait4(job, 0);
            }
            exit(codes);
        }
        check_eq!(expect(m, "ready", 3000).contains("ready"), true);
        let _ = sleep_ms(50);
        check_eq!(write(m, b"\x03"), Ok(1));
        check_eq!(expect(m, "ready", 3000).contains("ready"), true);
        let _ = sleep_ms(50);
        check_eq!(write(m, b"\x1a"), Ok(1));
        check_eq!(wait_exit(leader), Exit::Code(3));
        check_eq!(close(m), Ok(0));
    }

    /// busybox `sh -i` on the slave: `sleep 100 &`, `jobs`, `fg`, ^Z, `bg`, `fg`, ^C.
    fn busybox_sh_job_control() {
        if !access_ok("/bin/busybox") {
            ulib::println!("t_pty: no /bin/busybox, skipping the shell case");
            return;
        }
        setup();
        // For `tty` and `ls -l /proc/self/fd` (ttyname reads /proc/self/fd/0).
        let _ = mkdir_p("/proc", 0o755);
        let _ = ulib::cred::mount("proc", "/proc", "proc", 0);
        let (m, n) = open_master("/dev/ptmx", true);
        let path = format!("/dev/pts/{n}");
        let sh = check_ok!(fork());
        if sh == 0 {
            let _ = setsid();
            let s = open(&cs(&path), O_RDWR, 0).unwrap_or(-1);
            let _ = ioctl(s, TIOCSCTTY, 0);
            for fd in 0..3 {
                let _ = dup2(s, fd);
            }
            let _ = close(s);
            let _ = close(m);
            let argv = [
                c"sh".as_ptr() as *const u8,
                c"-i".as_ptr() as *const u8,
                core::ptr::null(),
            ];
            let envp = [
                c"PS1=PROMPT> ".as_ptr() as *const u8,
                c"PATH=/bin".as_ptr() as *const u8,
                c"HOME=/".as_ptr() as *const u8,
                core::ptr::null(),
            ];
            let _ = execve(c"/bin/busybox", &argv, &envp);
            exit(127);
        }
        let mut log = String::new();
        // Sends `send`, waits for `want` and then (with `prompt`) for the next prompt.
        let mut step = |send: &[u8], want: &str, prompt: bool| -> bool {
            if !send.is_empty() {
                let _ = write(m, send);
            }
            let mut got = expect(m, want, 5000);
            let mut ok = got.contains(want);
            if ok && prompt {
                let at = got.find(want).unwrap_or(0) + want.len();
                if !got[at..].contains("PROMPT> ") {
                    got.push_str(&expect(m, "PROMPT> ", 5000));
                }
                ok = got[at..].contains("PROMPT> ");
            }
            log.push_str(&got);
            if !ok {
                ulib::println!("t_pty: wanted {want:?}, got {got:?}");
            }
            ok
        };
        check_eq!(step(b"", "PROMPT> ", false), true);
        check_eq!(step(b"busybox sleep 100 &\r", "PROMPT> ", false), true);
        check_eq!(step(b"jobs\r", "Running", true), true);
        check_eq!(step(b"fg\r", "sleep 100", false), true);
        let _ = sleep_ms(200);
        check_eq!(step(b"\x1a", "Stopped", true), true);
        check_eq!(step(b"jobs\r", "Stopped", true), true);
        check_eq!(step(b"bg\r", "sleep 100", true), true);
        check_eq!(step(b"jobs\r", "Running", true), true);
        check_eq!(step(b"fg\r", "sleep 100", false), true);
        let _ = sleep_ms(200);
        check_eq!(step(b"\x03", "PROMPT> ", false), true);
        check_eq!(step(b"echo status=$?\r", "status=130", true), true);
        check_eq!(step(b"jobs; echo none\r", "none", true), true);
        check_eq!(step(b"busybox tty\r", &format!("\n{path}\r\n"), true), true);
        let fd0 = format!(" 0 -> {path}\r\n");
        check_eq!(step(b"busybox ls -l /proc/self/fd\r", &fd0, true), true);
        check_eq!(step(b"exit 5\r", "", false), true);
        check_eq!(log.matches("Running").count() >= 2, true);
        check_eq!(wait_exit(sh), Exit::Code(5));
        if log.contains("job control turned off") || log.contains("can't access tty") {
            let i = log.find("tty").unwrap_or(0).saturating_sub(80);
            ulib::println!(
                "t_pty: busybox sh said: {:?}",
                &log[i..(i + 160).min(log.len())]
            );
            check_eq!(true, false);
        }
        let _ = close(m);
    }

    /// When the session leader exits, its controlling terminal is hung up: the
    /// foreground group gets SIGHUP (a sleeping member dies, its pipe end closes).
    fn session_leader_exit_hangs_up_the_terminal() {
        setup();
        let (m, n) = open_master("/dev/ptmx", true);
        let path = format!("/dev/pts/{n}");
        let [r, w] = check_ok!(pipe());
        let leader = check_ok!(fork());
        if leader == 0 {
            let _ = close(r);
            let _ = setsid();
            let s = open(&cs(&path), O_RDWR, 0).unwrap_or(-1);
            let _ = ioctl(s, TIOCSCTTY, 0);
            let member = fork().unwrap_or(-1);
            if member == 0 {
                let _ = write(w, b"x");
                loop {
                    let _ = sleep_ms(1000);
                }
            }
            let _ = close(w);
            let _ = sleep_ms(100);
            exit(0);
        }
        let _ = close(w);
        check_eq!(wait_exit(leader), Exit::Code(0));
        let mut b = [0u8; 4];
        check_eq!(read(r, &mut b), Ok(1));
        // EOF once the member died of SIGHUP (it held the only other write end).
        check_eq!(poll_one(r, POLLIN, 3000).map(|e| e != 0), Ok(true));
        check_eq!(read(r, &mut b), Ok(0));
        let _ = close(r);
        let _ = close(m);
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            ptmx_numbering_and_lock,
            devpts_mounts_number_separately,
            line_discipline_and_poll_through_a_pair,
            ctrl_c_and_ctrl_z_reach_the_foreground_group,
            session_leader_exit_hangs_up_the_terminal,
            busybox_sh_job_control,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
