//! `bkrun` end to end (issue 14): this program runs `/bin/bkrun` with itself as CMD in a
//! payload mode (`--payload NAME`) and checks what the payload saw inside and the status
//! bkrun exits with: the host name, PID 1 alone in `/proc`, `NoNewPrivs: 1`, `Seccomp: 2`,
//! the capability sets asked for, the default seccomp profile stopping mount, reboot,
//! unshare, setns, chroot and `clone(CLONE_NEW*)` even with `--cap-add ALL` (and all of them
//! working under `--seccomp unconfined`), `/proc/meminfo` showing `--memory`, a memory hog
//! killed (137), a fork bomb stopped at `--pids`, `--cpus 0.5` holding a busy loop near half
//! the CPU, no way out of `--rootfs` (`..`, symbolic links, `/proc/1/root`, `/proc/self/cwd`,
//! open fds), a
//! read-only `--volume`, the statuses 125/126/127, the cgroup container (`/proc/self/cgroup`
//! is `0::/`, `/sys/fs/cgroup` is the limits group: `cgroup.procs` holds CMD alone,
//! `memory.max` and `pids.max` are the limits), `-t` (a pty on 0/1/2 controlling CMD, input
//! and output relayed, the container's own /dev/ptmx), `--net` (only `lo` and `veth0` inside, the
//! root's `veth<N>` gone afterwards), and every count back at the end (no container of any
//! type, plimits group, mount or directory left behind, free memory where it was).
//!
//! Bulkhead-only: bkrun and plimits are Bulkhead's.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::{
        CLONE_NEWUTS, clone_probe, counts_back_to_start, cpu_ticks, hostname, list_dir, list_pids,
        mem_free_kb, read_text, record_start_counts, status_field, unshare, write_text,
    };
    use ulib::cred::{self, REBOOT_CMD_INVALID, chroot, mount, reboot_invalid_cmd};
    use ulib::mnt::{mkdir_p, rmdir, touch};
    use ulib::sys::{self, errno::*};
    use ulib::{Args, check, check_eq, println};

    const ME: &str = "/tests/t_bkrun";
    const ROOT: &str = "/t_bkrun.root";
    const ALL_CAPS: u64 = (1 << 41) - 1;
    /// Docker's default set (bkrun's default).
    const DOCKER_CAPS: u64 = 0xa80425fb;
    const EROFS: i32 = 30;

    /// Runs bkrun with `args`; returns its exit status and what it and CMD wrote.
    fn bkrun(args: &[&str]) -> (i32, String) {
        bkrun_with(args, None)
    }

    /// bkrun `args` with `input` on its stdin (a pipe) and stdout/stderr a pipe.
    fn bkrun_io(args: &[&str], input: &[u8]) -> (i32, String) {
        bkrun_with(args, Some(input))
    }

    /// bkrun `args`, its stdout and stderr a pipe read to the end; its stdin a pipe
    /// holding `input`, or this program's own without one.
    fn bkrun_with(args: &[&str], input: Option<&[u8]>) -> (i32, String) {
        let mut all: Vec<CString> = Vec::new();
        all.push(CString::new("/bin/bkrun").unwrap());
        for a in args {
            all.push(CString::new(*a).unwrap());
        }
        let mut argv: Vec<*const u8> = all.iter().map(|c| c.as_ptr().cast()).collect();
        argv.push(core::ptr::null());
        let stdin = input.map(|_| sys::pipe().expect("pipe"));
        let [r, w] = sys::pipe().expect("pipe");
        let pid = match sys::fork() {
            Ok(0) => {
                if let Some([ir, iw]) = stdin {
                    let _ = sys::dup2(ir, 0);
                    let _ = sys::close(ir);
                    let _ = sys::close(iw);
                }
                let _ = sys::dup2(w, 1);
                let _ = sys::dup2(w, 2);
                let _ = sys::close(r);
                let _ = sys::close(w);
                let _ = sys::execve(c"/bin/bkrun", &argv, &[core::ptr::null()]);
                sys::exit(99)
            }
            Ok(p) => p,
            Err(e) => return (-e, String::new()),
        };
        let _ = sys::close(w);
        if let (Some([ir, iw]), Some(input)) = (stdin, input) {
            let _ = sys::close(ir);
            check_eq!(sys::write(iw, input), Ok(input.len()));
            let _ = sys::close(iw);
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match sys::read(r, &mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(EINTR) => {}
                Err(_) => break,
            }
        }
        let _ = sys::close(r);
        let status = match sys::waitpid(pid) {
            Ok(st) if sys::wifexited(st) => sys::wexitstatus(st),
            Ok(st) => 1000 + sys::wtermsig(st),
            Err(e) => -e,
        };
        (status, String::from_utf8_lossy(&out).into())
    }

    /// bkrun `opts` -- this program `--payload name args...`; checks the status.
    fn payload(opts: &[&str], name: &str, args: &[&str], want: i32) -> String {
        let mut v: Vec<&str> = opts.to_vec();
        v.extend(["--", ME, "--payload", name]);
        v.extend(args);
        let (st, out) = bkrun(&v);
        check_eq!(st, want, "bkrun {:?}: output:\n{}", v, out);
        out
    }

    // ----------------------------------------------------------------------------------
    // Payloads (run inside the container as its PID 1). Each failed expectation prints a
    // line; the exit status is the number of failures.

    struct P(i32);
    impl P {
        fn expect(&mut self, ok: bool, what: &str) {
            if !ok {
                println!("payload: failed: {}", what);
                self.0 += 1;
            }
        }
    }

    fn p_inside(args: &[&str]) -> i32 {
        let mut p = P(0);
        let host = args.first().copied().unwrap_or("bkrun");
        let caps: u64 = args
            .get(1)
            .and_then(|c| u64::from_str_radix(c, 16).ok())
            .unwrap_or(0);
        let h = hostname();
        p.expect(h == host, &format!("hostname {h}"));
        p.expect(sys::getpid() == 1, "pid 1");
        let pids = list_pids();
        p.expect(pids == Ok(alloc::vec![1]), &format!("/proc lists {pids:?}"));
        let st = |k| status_field("self", k);
        p.expect(st("NoNewPrivs").as_deref() == Some("1"), "NoNewPrivs 1");
        p.expect(st("Seccomp").as_deref() == Some("2"), "Seccomp 2");
        for k in ["CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"] {
            let v = st(k);
            p.expect(
                v.as_deref() == Some(format!("{caps:016x}").as_str()),
                &format!("{k} {v:?}"),
            );
        }
        // The default profile, whatever the capabilities.
        let _ = mkdir_p("/tmp/m", 0o755);
        p.expect(
            mount("tmpfs", "/tmp/m", "tmpfs", 0) == Err(EPERM),
            "mount EPERM",
        );
        p.expect(unshare(CLONE_NEWUTS) == Err(EPERM), "unshare EPERM");
        p.expect(reboot_invalid_cmd() == Err(EPERM), "reboot EPERM");
        p.expect(chroot("/") == Err(EPERM), "chroot EPERM");
        // SAFETY: no pointers.
        let setns = sys::check(unsafe { sys::syscall2(308, 0, 0) });
        p.expect(setns == Err(EPERM), "setns EPERM");
        p.expect(
            clone_probe(CLONE_NEWUTS | 17, 0) == Err(EPERM),
            "clone(CLONE_NEWUTS) EPERM",
        );
        // SAFETY: no pointers to follow (the kernel never reads them).
        let c3 = sys::check(unsafe { sys::syscall2(435, 0, 0) });
        p.expect(c3 == Err(ENOSYS), "clone3 ENOSYS");
        // A plain fork is allowed.
        match sys::fork() {
            Ok(0) => sys::exit(0),
            Ok(c) => p.expect(sys::waitpid(c).is_ok_and(|s| s == 0), "fork"),
            Err(_) => p.expect(false, "fork"),
        }
        p.0
    }

    fn p_unconfined() -> i32 {
        let mut p = P(0);
        let st = |k| status_field("self", k);
        p.expect(st("Seccomp").as_deref() == Some("0"), "Seccomp 0");
        let _ = mkdir_p("/tmp/m", 0o755);
        p.expect(mount("tmpfs", "/tmp/m", "tmpfs", 0) == Ok(0), "mount works");
        p.expect(unshare(CLONE_NEWUTS) == Ok(0), "unshare works");
        // With CAP_SYS_BOOT an unknown command gets EINVAL (and does nothing).
        p.expect(
            reboot_invalid_cmd() == Err(EINVAL),
            "reboot reaches the kernel",
        );
        let _ = REBOOT_CMD_INVALID;
        match clone_probe(CLONE_NEWUTS | 17, 0) {
            Ok(c) => p.expect(sys::waitpid(c).is_ok_and(|s| s == 0), "clone(NEWUTS) child"),
            Err(e) => p.expect(false, &format!("clone(CLONE_NEWUTS): {e}")),
        }
        p.expect(chroot("/") == Ok(0), "chroot works");
        p.0
    }

    fn p_meminfo(args: &[&str]) -> i32 {
        let want = args.first().copied().unwrap_or("");
        let m = read_text("/proc/meminfo").unwrap_or_default();
        let total = m
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .map(|v| v.trim().trim_end_matches(" kB").trim());
        let mut p = P(0);
        p.expect(total == Some(want), &format!("MemTotal {total:?}"));
        p.0
    }

    fn p_hog() -> i32 {
        // 64 MiB, touched page by page: the group's limit kills us first.
        let len = 64 << 20;
        let Ok(a) = sys::mmap_anon(len) else {
            return 2;
        };
        for off in (0..len).step_by(4096) {
            // SAFETY: inside the fresh mapping.
            unsafe { sys::poke(a + off, 1) };
        }
        0
    }

    fn p_forkbomb() -> i32 {
        let mut n = 0;
        loop {
            match sys::fork() {
                Ok(0) => loop {
                    let _ = sys::sleep_ms(100_000);
                },
                Ok(_) => n += 1,
                Err(_) => break,
            }
            if n > 100 {
                break;
            }
        }
        // Exiting ends the container: the children go with it.
        n
    }

    /// Three busy processes in CMD's group against the reference process that keeps its
    /// CPU ticks (20 digits) in the file t_bkrun left open on fd `args[0]`, for 2 s: CMD's
    /// share of their ticks (unlimited, 3 of 4 busy processes would get 75%).
    fn p_spin(args: &[&str]) -> i32 {
        let Some(fd) = args.first().and_then(|a| a.parse::<i32>().ok()) else {
            return 97;
        };
        let reference = || {
            let mut buf = [0u8; 20];
            (0..100)
                .find_map(|_| {
                    let n = sys::pread(fd, &mut buf, 0).ok()?;
                    core::str::from_utf8(&buf[..n]).ok()?.parse::<u64>().ok()
                })
                .unwrap_or(0)
        };
        let kids: Vec<i32> = (0..2)
            .filter_map(|_| match sys::fork() {
                Ok(0) => loop {
                    core::hint::spin_loop();
                },
                r => r.ok(),
            })
            .collect();
        let ours = || cpu_ticks(sys::getpid()) + kids.iter().map(|&k| cpu_ticks(k)).sum::<u64>();
        let (o0, r0) = (ours(), reference());
        let t0 = sys::monotonic_ns();
        while sys::monotonic_ns() - t0 < 2_000_000_000 {
            core::hint::spin_loop();
        }
        let (o1, r1) = (ours(), reference());
        for &k in &kids {
            let _ = sys::kill(k, sys::SIGKILL);
            let _ = sys::waitpid(k);
        }
        let (o, r) = (o1.saturating_sub(o0), r1.saturating_sub(r0));
        println!(
            "cpu {}% ({} of {} ticks)",
            o * 100 / (o + r).max(1),
            o,
            o + r
        );
        0
    }

    fn p_escape() -> i32 {
        let mut p = P(0);
        let host_only = "/init";
        let here = || sys::access(c"/init", 0).is_ok();
        p.expect(!here(), "the host's /init is not visible");
        for _ in 0..5 {
            let _ = sys::chdir(c"..");
        }
        p.expect(!here(), "after chdir ..");
        p.expect(sys::access(c"../../init", 0).is_err(), "../../init");
        // Symbolic links made outside, relative and absolute, resolve inside the rootfs.
        for l in [c"/up", c"/abs", c"/up/init"] {
            let r = sys::access(l, 0);
            p.expect(r == Err(ENOENT), &format!("{l:?} {r:?}"));
        }
        p.expect(
            sys::access(c"/proc/1/root/init", 0).is_err(),
            "/proc/1/root",
        );
        p.expect(
            sys::access(c"/proc/self/cwd/../init", 0).is_err(),
            "/proc/self/cwd",
        );
        p.expect(
            sys::access(c"/proc/1/cwd/../../init", 0).is_err(),
            "/proc/1/cwd",
        );
        let root = list_dir("/").unwrap_or_default();
        p.expect(
            !root.iter().any(|n| n == "init" || n.starts_with(".bkrun")),
            &format!("/ holds {root:?} ({host_only})"),
        );
        // Nothing open beyond 0, 1, 2.
        let open: Vec<i32> = (3..64).filter(|&fd| sys::fcntl(fd, 1, 0).is_ok()).collect();
        p.expect(open.is_empty(), &format!("open fds {open:?}"));
        p.expect(sys::access(c"/tests/t_bkrun", 0).is_ok(), "the volume");
        p.expect(touch("/tests/x") == Err(EROFS), "read-only volume");
        p.0
    }

    /// Expects `/proc/self/cgroup` `0::/` and `/sys/fs/cgroup` showing CMD's own group:
    /// CMD (PID 1) alone in `cgroup.procs`, and the files named in the arguments
    /// (`memory.max=50331648`...) with those values.
    fn p_cgroup(args: &[&str]) -> i32 {
        let mut p = P(0);
        let cg = read_text("/proc/self/cgroup");
        p.expect(
            cg.as_deref() == Ok("0::/\n"),
            &format!("/proc/self/cgroup {cg:?}"),
        );
        let procs = read_text("/sys/fs/cgroup/cgroup.procs");
        p.expect(
            procs.as_deref() == Ok("1\n"),
            &format!("cgroup.procs {procs:?}"),
        );
        let mi = read_text("/proc/self/mountinfo").unwrap_or_default();
        p.expect(
            mi.lines()
                .any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" cgroup2 ")),
            &format!("cgroup2 on /sys/fs/cgroup in {mi}"),
        );
        p.expect(
            mi.lines()
                .any(|l| l.contains(" /sys ") && l.contains(" sysfs ")),
            "sysfs on /sys",
        );
        for a in args {
            let (file, want) = a.split_once('=').unwrap_or((a, ""));
            let v = read_text(&format!("/sys/fs/cgroup/{file}"));
            p.expect(
                v.as_deref().map(str::trim_end) == Ok(want),
                &format!("{file}: {v:?}, want {want}"),
            );
        }
        p.0
    }

    /// Expects exactly the links named in the arguments in `/proc/net/dev`.
    fn p_net(args: &[&str]) -> i32 {
        let mut p = P(0);
        let links = net_links();
        p.expect(links == args, &format!("links {links:?}, want {args:?}"));
        p.0
    }

    /// Expects uid, gid and the effective set given as arguments, and one mapped id.
    fn p_ids(args: &[&str]) -> i32 {
        let mut p = P(0);
        let num = |i: usize| args.get(i).and_then(|v| v.parse::<u32>().ok());
        p.expect(Some(sys::getuid()) == num(0), "uid");
        p.expect(Some(sys::getgid()) == num(1), "gid");
        let eff = status_field("self", "CapEff");
        p.expect(
            eff.as_deref() == args.get(2).copied(),
            &format!("CapEff {eff:?}"),
        );
        let map = read_text("/proc/self/uid_map").unwrap_or_default();
        let fields: Vec<&str> = map.split_whitespace().collect();
        p.expect(
            fields.len() == 3
                && fields[0] == "0"
                && fields[2] == args.get(3).copied().unwrap_or(""),
            &format!("uid_map {map:?}"),
        );
        p.0
    }

    const TCGETS: usize = 0x5401;
    const TIOCGPGRP: usize = 0x540F;
    const ENOTTY: i32 = 25;

    /// isatty(3): TCGETS succeeds.
    fn isatty(fd: i32) -> bool {
        let mut termios = [0u8; 60];
        ulib::container::ioctl(fd, TCGETS, termios.as_mut_ptr() as usize).is_ok()
    }

    /// Under `-t`: a terminal on 0/1/2 controlling this session (its foreground group is
    /// ours), and the container's own /dev/ptmx works; then echoes a
    /// line read from stdin and exits 7.
    fn p_tty() -> i32 {
        let mut p = P(0);
        for fd in 0..3 {
            p.expect(isatty(fd), &format!("isatty({fd})"));
        }
        let mut pgrp = 0i32;
        let r = ulib::container::ioctl(0, TIOCGPGRP, &mut pgrp as *mut i32 as usize);
        let me = ulib::container::getpgrp();
        p.expect(
            r.is_ok() && pgrp == me,
            &format!("TIOCGPGRP {r:?} {pgrp} pgrp {me}"),
        );
        p.expect(me == sys::getpid(), "own process group (setsid)");
        let own = sys::open(c"/dev/ptmx", sys::O_RDWR, 0);
        let mut num = 99u32;
        let got = own.and_then(|m| {
            let r = ulib::container::ioctl(m, 0x8004_5430, &mut num as *mut u32 as usize);
            let _ = sys::close(m);
            r
        });
        p.expect(
            got.is_ok() && num == 0,
            &format!("own ptmx {got:?} pty {num}"),
        );
        let mut line = Vec::new();
        let mut b = [0u8; 64];
        while let Ok(n) = sys::read(0, &mut b) {
            if n == 0 {
                break;
            }
            line.extend_from_slice(&b[..n]);
            if line.contains(&b'\n') {
                break;
            }
        }
        println!("got [{}]", String::from_utf8_lossy(&line).trim_end());
        if p.0 == 0 { 7 } else { p.0 }
    }

    /// Without `-t`: stdin (a pipe) is no terminal.
    fn p_notty() -> i32 {
        let mut termios = [0u8; 60];
        match ulib::container::ioctl(0, TCGETS, termios.as_mut_ptr() as usize) {
            Err(ENOTTY) => 0,
            r => {
                println!("payload: failed: TCGETS on stdin {r:?}");
                1
            }
        }
    }

    /// `-t`: CMD has the pty (see p_tty), its output comes back through the relay with the
    /// line discipline's \r\n, stdin reaches it (echoed too), its status passes through;
    /// without `-t` stdin stays a pipe.
    fn tty_option() {
        let (st, out) = bkrun_io(&["-t", "--", ME, "--payload", "tty"], b"hello\n");
        check_eq!(st, 7, "output:\n{}", out);
        check!(out.contains("got [hello]\r\n"), "output: {:?}", out);
        check!(out.starts_with("hello"), "the echo first: {:?}", out);
        check!(!out.contains("failed"), "output: {:?}", out);
        let (st, out) = bkrun_io(&["--", ME, "--payload", "notty"], b"");
        check_eq!(st, 0, "output:\n{}", out);
        let (st, _) = bkrun_io(&["--tty", "--", ME, "--payload", "exit", "42"], b"");
        check_eq!(st, 42);
    }

    fn payload_main(args: &Args) -> i32 {
        let rest: Vec<&str> = (3..args.argc()).filter_map(|i| args.arg_str(i)).collect();
        match args.arg_str(2).unwrap_or("") {
            "inside" => p_inside(&rest),
            "unconfined" => p_unconfined(),
            "exit" => rest.first().and_then(|c| c.parse().ok()).unwrap_or(99),
            "meminfo" => p_meminfo(&rest),
            "hog" => p_hog(),
            "forkbomb" => p_forkbomb(),
            "spin" => p_spin(&rest),
            "escape" => p_escape(),
            "ids" => p_ids(&rest),
            "cgroup" => p_cgroup(&rest),
            "net" => p_net(&rest),
            "tty" => p_tty(),
            "notty" => p_notty(),
            _ => 98,
        }
    }

    /// The link names in `/proc/net/dev` (the reader's network container), sorted.
    fn net_links() -> Vec<String> {
        let text = read_text("/proc/net/dev").unwrap_or_default();
        let mut v: Vec<String> = text
            .lines()
            .skip(2)
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().into()))
            .collect();
        v.sort();
        v
    }

    // ----------------------------------------------------------------------------------
    // Cases

    fn help_and_bad_options() {
        let (st, out) = bkrun(&["--help"]);
        check_eq!(st, 0);
        check!(out.contains("Usage: bkrun"), "{}", out);
        check!(out.contains("--seccomp"), "{}", out);
        for bad in [
            &["--bogus", "x"][..],
            &["--memory", "12x", "/x"],
            &["--cpus", "2", "/x"],
            &["--seccomp", "strict", "/x"],
            &["--cap-add", "CAP_NOPE", "/x"],
            &[],
        ] {
            let (st, out) = bkrun(bad);
            check_eq!(st, 125, "{:?}: {}", bad, out);
            check!(
                out.starts_with("bkrun: "),
                "{:?}: one clear line: {}",
                bad,
                out
            );
        }
    }

    fn exit_statuses() {
        payload(&[], "exit", &["3"], 3);
        payload(&[], "exit", &["0"], 0);
        let (st, out) = bkrun(&["--", "/no/such/program"]);
        check_eq!(st, 127, "{}", out);
        check!(out.contains("ENOENT"), "{}", out);
        let (st, out) = bkrun(&["--", "/tests"]);
        check_eq!(st, 126, "{}", out);
        let (st, out) = bkrun(&["--rootfs", "/no/such/dir", "--", "/x"]);
        check_eq!(st, 125, "{}", out);
        check!(out.contains("bind the rootfs"), "names the step: {}", out);
        // A program found in PATH.
        let (st, out) = bkrun(&["--", "t_bkrun"]);
        check_eq!(st, 127, "not in PATH: {}", out);
    }

    fn isolated_and_confined() {
        payload(&[], "inside", &["bkrun", &format!("{DOCKER_CAPS:x}")], 0);
        payload(
            &["--hostname", "box1", "--cap-add", "ALL"],
            "inside",
            &["box1", &format!("{ALL_CAPS:x}")],
            0,
        );
        let few = (1u64 << 0) | (1 << 5);
        payload(
            &[
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CHOWN",
                "--cap-add",
                "cap_kill",
            ],
            "inside",
            &["bkrun", &format!("{few:x}")],
            0,
        );
        // The filter, not a missing capability, is what stops them.
        payload(
            &["--seccomp", "unconfined", "--cap-add", "ALL"],
            "unconfined",
            &[],
            0,
        );
        // The host's name is untouched.
        check!(hostname() != "box1");
    }

    fn user_and_user_container() {
        let caps = format!("{DOCKER_CAPS:016x}");
        // A non-root CMD keeps the set through the ambient capabilities.
        payload(
            &["--user", "7:8"],
            "ids",
            &["7", "8", &caps, "4294967295"],
            0,
        );
        // In a new user container root is the caller, the only id mapped.
        payload(&["--userns"], "ids", &["0", "0", &caps, "1"], 0);
        let (st, out) = bkrun(&["--userns", "--user", "5", "/x"]);
        check_eq!(st, 125, "{}", out);
        let (st, out) = bkrun(&["--userns", "--pids", "5", "/x"]);
        check_eq!(st, 125, "{}", out);
    }

    fn memory_limit_shows_and_kills() {
        payload(&["--memory", "48m"], "meminfo", &["49152"], 0);
        payload(&["--memory", "16m"], "hog", &[], 137);
    }

    fn pids_limit_stops_a_fork_bomb() {
        payload(&["--pids", "5"], "forkbomb", &[], 4);
    }

    /// `--cpus 0.5`: CMD's three busy processes get half of the CPU against a busy reference
    /// in this (unlimited) group, in the guest's ticks (see `p_spin`), so the share holds on
    /// a loaded host too; without the limit they would get 75%.
    fn cpus_limit_holds_half_a_cpu() {
        // The reference's ticks go through a file: CMD cannot see its /proc entry.
        let path = c"/.t_bkrun_reference";
        let fd = sys::open(path, sys::O_RDWR | sys::O_CREAT, 0o600).expect("open");
        let _ = sys::unlink(path);
        let reference = match sys::fork() {
            Ok(0) => loop {
                for _ in 0..20_000 {
                    core::hint::spin_loop();
                }
                let ticks = format!("{:020}", cpu_ticks(sys::getpid()));
                let _ = sys::lseek(fd, 0, 0);
                let _ = sys::write(fd, ticks.as_bytes());
            },
            r => r.expect("fork"),
        };
        let out = payload(&["--cpus", "0.5"], "spin", &[&format!("{fd}")], 0);
        let _ = sys::kill(reference, sys::SIGKILL);
        let _ = sys::waitpid(reference);
        let _ = sys::close(fd);
        let share = out.lines().find_map(|l| {
            let (pct, ticks) = l.strip_prefix("cpu ")?.split_once("% (")?;
            let (_, total) = ticks.strip_suffix(" ticks)")?.split_once(" of ")?;
            Some((pct.parse::<u64>().ok()?, total.parse::<u64>().ok()?))
        });
        println!("  --cpus 0.5 (percent, ticks): {:?}", share);
        check!(
            share.is_some_and(|(p, total)| (40..=60).contains(&p) && total >= 20),
            "busy processes under --cpus 0.5 (percent, ticks): {:?}\n{}",
            share,
            out
        );
    }

    /// CMD's cgroup container is rooted at its group. The root's `subtree_control`
    /// enables memory and pids for the case (through a cgroup2 mount here) so that the
    /// group's `memory.max` and `pids.max` are there to read; plimits enforces them either
    /// way.
    fn cgroup_container_and_cgroup2() {
        // Without a limit: the container's root is bkrun's group (the root group).
        payload(&[], "cgroup", &[], 0);
        check_eq!(mkdir_p("/sys", 0o755), Ok(0));
        check_eq!(mount("sysfs", "/sys", "sysfs", 0), Ok(0));
        check_eq!(mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0), Ok(0));
        let ctl = "/sys/fs/cgroup/cgroup.subtree_control";
        check_eq!(write_text(ctl, b"+memory +pids"), Ok(13));
        payload(
            &["--memory", "48m", "--pids", "7"],
            "cgroup",
            &["memory.max=50331648", "pids.max=7", "cgroup.type=domain"],
            0,
        );
        check_eq!(write_text(ctl, b"-memory -pids"), Ok(13));
        check_eq!(read_text(ctl).as_deref(), Ok("\n"));
        check_eq!(cred::umount2("/sys/fs/cgroup", 0), Ok(0));
        check_eq!(cred::umount2("/sys", 0), Ok(0));
    }

    fn net_container_with_its_veth_pair() {
        let before = net_links();
        check!(before.iter().any(|l| l == "lo"), "{:?}", before);
        payload(&["--net"], "net", &["lo", "veth0"], 0);
        // The container went with CMD, and its pair with it (the peer was veth<N> here).
        let mut after = net_links();
        for _ in 0..50 {
            if after == before {
                break;
            }
            let _ = sys::sleep_ms(20);
            after = net_links();
        }
        check_eq!(after, before, "the root's links after bkrun --net");
        // Without --net CMD shares the root's links.
        let names: Vec<&str> = before.iter().map(String::as_str).collect();
        payload(&[], "net", &names, 0);
    }

    fn no_way_out_of_the_rootfs() {
        check_eq!(mkdir_p(ROOT, 0o755), Ok(0));
        check_eq!(symlink("../../../../init", &format!("{ROOT}/up")), Ok(0));
        check_eq!(symlink("/init", &format!("{ROOT}/abs")), Ok(0));
        payload(
            &["--rootfs", ROOT, "--volume", "/tests:/tests:ro"],
            "escape",
            &[],
            0,
        );
        for d in ["tests", "proc", "sys", "dev", "tmp"] {
            let _ = rmdir(&format!("{ROOT}/{d}"));
        }
        for l in ["up", "abs"] {
            let p = CString::new(format!("{ROOT}/{l}")).unwrap();
            check_eq!(sys::unlink(&p), Ok(0));
        }
        check_eq!(rmdir(ROOT), Ok(0), "the rootfs holds nothing bkrun made");
    }

    /// symlink(2) (nr 88).
    fn symlink(target: &str, path: &str) -> sys::SysResult {
        let (t, p) = (CString::new(target).unwrap(), CString::new(path).unwrap());
        // SAFETY: two NUL-terminated strings that outlive the call.
        sys::check(unsafe { sys::syscall2(88, t.as_ptr() as usize, p.as_ptr() as usize) })
    }

    fn mount_count() -> usize {
        read_text("/proc/self/mountinfo").map_or(0, |t| t.lines().count())
    }

    static MOUNTS_AT_START: core::sync::atomic::AtomicUsize =
        core::sync::atomic::AtomicUsize::new(0);

    fn nothing_left_behind() {
        check_eq!(
            mount_count(),
            MOUNTS_AT_START.load(core::sync::atomic::Ordering::Relaxed),
            "mounts"
        );
        // Frames: after a warm-up of each kind of run, more runs leave free memory where
        // it was (a first net container may take a heap class page the later ones reuse).
        payload(&["--memory", "32m", "--pids", "9"], "exit", &["0"], 0);
        payload(&["--net", "--cpus", "0.5"], "exit", &["0"], 0);
        let before = mem_free_kb();
        for _ in 0..3 {
            payload(&["--memory", "32m", "--pids", "9"], "exit", &["0"], 0);
            counts_back_to_start();
            payload(&["--net", "--cpus", "0.5"], "exit", &["0"], 0);
            counts_back_to_start();
            check_eq!(
                mount_count(),
                MOUNTS_AT_START.load(core::sync::atomic::Ordering::Relaxed),
                "mounts after a run"
            );
        }
        let after = mem_free_kb();
        check!(
            before.is_some() && after >= before,
            "MemFree before {:?} after {:?} kB",
            before,
            after
        );
        let groups = list_dir("/proc/plimits").unwrap_or_default();
        check!(
            !groups.iter().any(|g| g.starts_with("bkrun.")),
            "plimits: {:?}",
            groups
        );
        let root = list_dir("/").unwrap_or_default();
        check!(
            !root.iter().any(|n| n.starts_with(".bkrun")),
            "/: {:?}",
            root
        );
        counts_back_to_start();
    }

    fn main(args: Args) -> i32 {
        if args.arg_str(1) == Some("--payload") {
            return payload_main(&args);
        }
        let _ = sys::mkdir(c"/proc", 0o755);
        let _ = mount("proc", "/proc", "proc", 0);
        // The host's ptys for -t: devtmpfs (/dev/ptmx) and devpts on /dev/pts.
        let _ = mkdir_p("/dev", 0o755);
        if sys::access(c"/dev/ptmx", 0).is_err() {
            let _ = mount("devtmpfs", "/dev", "devtmpfs", 0);
        }
        let _ = mkdir_p("/dev/pts", 0o755);
        if sys::access(c"/dev/pts/ptmx", 0).is_err() {
            let _ = mount("devpts", "/dev/pts", "devpts", 0);
        }
        record_start_counts();
        MOUNTS_AT_START.store(mount_count(), core::sync::atomic::Ordering::Relaxed);
        ulib::test::run(ulib::cases![
            help_and_bad_options,
            exit_statuses,
            isolated_and_confined,
            user_and_user_container,
            memory_limit_shows_and_kills,
            pids_limit_stops_a_fork_bomb,
            cpus_limit_holds_half_a_cpu,
            cgroup_container_and_cgroup2,
            net_container_with_its_veth_pair,
            tty_option,
            no_way_out_of_the_rootfs,
            nothing_left_behind,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
