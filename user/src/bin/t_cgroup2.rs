//! cgroup2 (`mount -t cgroup2 none /sys/fs/cgroup`): the plimits groups through Linux's
//! cgroup v2 files. sysfs's `/sys/fs/cgroup`, every file of the root and of a group with
//! its errnos, a group changed through each interface and read back through the other,
//! every limit enforced through the cgroup2 face (pids.max, memory.max, cpu.max), Linux's
//! moves (back to the root, `cgroup.kill`, `cgroup.freeze`, `clone3` with
//! `CLONE_INTO_CGROUP`), and no group left behind.
//!
//! Linux's errno where plimits keeps its own rule is named in each case (pids.max refuses
//! a fork with plimits' EACCES, Linux's EAGAIN).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::sys::{errno::*, *};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok, println};

    const CG: &str = "/sys/fs/cgroup";
    const T: &str = "/sys/fs/cgroup/t";
    const PL_T: &str = "/proc/plimits/t";
    const SIGKILL: i32 = 9;
    const EOPNOTSUPP: i32 = 95;
    const PAGE: usize = 4096;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

    fn cpath(p: &str) -> alloc::ffi::CString {
        alloc::ffi::CString::new(p).unwrap_or_default()
    }

    fn mkdir(p: &str) -> SysResult {
        ulib::sys::mkdir(&cpath(p), 0o755)
    }

    fn rmdir(p: &str) -> SysResult {
        ulib::sys::rmdir(&cpath(p))
    }

    fn read(dir: &str, name: &str) -> String {
        read_text(&format!("{dir}/{name}")).unwrap_or_else(|e| format!("errno {e}"))
    }

    fn write(dir: &str, name: &str, text: &str) -> SysResult {
        write_text(&format!("{dir}/{name}"), text.as_bytes())
    }

    /// Opening `dir/name` with `flags`: the errno, or 0.
    fn open_errno(dir: &str, name: &str, flags: usize) -> i32 {
        match open_path(&format!("{dir}/{name}"), flags) {
            Ok(fd) => {
                let _ = close(fd);
                0
            }
            Err(e) => e,
        }
    }

    fn pids(text: &str) -> Vec<i32> {
        text.split_ascii_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect()
    }

    /// The number after `key ` in a flat-keyed file (`cpu.stat`, `memory.events`).
    fn field(text: &str, key: &str) -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(u64::MAX)
    }

    /// sysfs on /sys and cgroup2 on /sys/fs/cgroup (once per boot), every controller on
    /// for the children.
    fn mounted() {
        if stat_path(&format!("{CG}/cgroup.controllers")).is_err() {
            let _ = mkdir("/sys");
            if stat_path("/sys/fs/cgroup").is_err() {
                check_eq!(ulib::cred::mount("sysfs", "/sys", "sysfs", 0), Ok(0));
            }
            check_eq!(ulib::cred::mount("none", CG, "cgroup2", 0), Ok(0));
        }
        check_eq!(
            write(CG, "cgroup.subtree_control", "+memory +pids +cpu"),
            Ok(18)
        );
    }

    /// A fresh group `t` made through cgroup2 (a leftover killed and removed first).
    fn setup() {
        mounted();
        cleanup();
        check_eq!(mkdir(T), Ok(0));
    }

    /// Kills what is left in `t`, reaps it and removes the group.
    fn cleanup() {
        if stat_path(T).is_ok() {
            let _ = write(T, "cgroup.freeze", "0");
            let _ = write(T, "cgroup.kill", "1");
            for p in pids(&read(T, "cgroup.procs")) {
                let _ = wait_exit(p);
            }
            reap_all();
            check_eq!(rmdir(T), Ok(0));
        }
    }

    /// A child that waits for a byte on pipe `[r, w]`, then runs `f` and exits.
    fn parked(fds: [i32; 2], f: impl FnOnce()) -> i32 {
        let [r, w] = fds;
        clone_run(SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
            f();
        })
        .expect("clone")
    }

    /// A child that sleeps until killed.
    fn sleeper() -> i32 {
        clone_run(SIGCHLD_EXIT, || sleep_forever()).expect("clone")
    }

    fn spinner() -> i32 {
        clone_run(SIGCHLD_EXIT, || {
            loop {
                core::hint::spin_loop();
            }
        })
        .expect("clone")
    }

    /// Writes `pid` to `dir`'s cgroup.procs (one whole write, as `echo`).
    fn move_to(dir: &str, pid: i32) -> SysResult<()> {
        let text = format!("{pid}\n");
        write(dir, "cgroup.procs", &text).map(|n| check_eq!(n, text.len()))
    }

    /// Touches `len` bytes of fresh anonymous memory, one write per page.
    fn touch(len: usize) -> SysResult {
        let addr = mmap_anon(len)?;
        // SAFETY: a private mapping of `len` bytes this process just made and owns alone.
        let mem = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) };
        for i in (0..len).step_by(PAGE) {
            mem[i] = 0x5a;
        }
        Ok(addr)
    }

    // ---------------------------------------------------------------------------------------

    /// sysfs has /sys/fs/cgroup (and nothing can be made there); cgroup2 mounts on it and
    /// shows in /proc/mounts and /proc/filesystems.
    fn sysfs_holds_the_mount_point() {
        mounted();
        let st = check_ok!(stat_path("/sys/fs"));
        check_eq!(st.st_mode & 0o170000, 0o040000);
        check_eq!(mkdir("/sys/fs/other"), Err(EPERM));
        check_eq!(mkdir("/sys/fs/cgroup"), Err(EEXIST));
        let mounts = read_text("/proc/mounts").unwrap_or_default();
        check!(
            mounts
                .lines()
                .any(|l| l.starts_with("none /sys/fs/cgroup cgroup2 ")),
            "{mounts}"
        );
        check!(
            mounts.lines().any(|l| l.starts_with("sysfs /sys sysfs ")),
            "{mounts}"
        );
        let fs = read_text("/proc/filesystems").unwrap_or_default();
        check!(fs.contains("nodev\tcgroup2\n"), "{fs}");
    }

    /// The root's files: controllers, subtree_control (+/- words), procs, type, events,
    /// cpu.stat, memory.stat; no limits; the errnos of bad writes and of making files.
    fn root_files_and_errnos() {
        mounted();
        check_eq!(read(CG, "cgroup.controllers"), "cpu memory pids\n");
        check_eq!(read(CG, "cgroup.subtree_control"), "cpu memory pids\n");
        check_eq!(write(CG, "cgroup.subtree_control", "-cpu"), Ok(4));
        check_eq!(read(CG, "cgroup.subtree_control"), "memory pids\n");
        check_eq!(write(CG, "cgroup.subtree_control", "+cpu\n"), Ok(5));
        check_eq!(read(CG, "cgroup.subtree_control"), "cpu memory pids\n");
        for bad in ["+io", "memory", "+cpu -cpu", "*pids"] {
            check_eq!(
                write(CG, "cgroup.subtree_control", bad),
                Err(EINVAL),
                "{bad}"
            );
        }
        check!(pids(&read(CG, "cgroup.procs")).contains(&getpid()));
        check_eq!(read(CG, "cgroup.type"), "domain\n");
        check_eq!(write(CG, "cgroup.type", "threaded"), Err(EOPNOTSUPP));
        check_eq!(write(CG, "cgroup.type", "domain"), Err(EINVAL));
        check_eq!(read(CG, "cgroup.events"), "populated 1\nfrozen 0\n");
        let cpu = read(CG, "cpu.stat");
        check!(field(&cpu, "usage_usec") > 0, "{cpu}");
        check!(field(&cpu, "nr_throttled") == 0, "{cpu}");
        let mem = read(CG, "memory.stat");
        check!(field(&mem, "anon") > 0, "{mem}");
        check!(field(&mem, "kernel_stack") >= 16384, "{mem}");
        for name in [
            "memory.max",
            "pids.max",
            "cpu.max",
            "cgroup.kill",
            "cgroup.freeze",
        ] {
            check_eq!(open_errno(CG, name, O_RDONLY), ENOENT, "{name} at the root");
        }
        check_eq!(open_errno(CG, "cgroup.controllers", O_WRONLY), EACCES);
        check_eq!(open_errno(CG, "cgroup.events", O_RDWR), EACCES);
        check_eq!(open_errno(CG, "new", O_WRONLY | O_CREAT), EACCES);
        check_eq!(mkdir(&format!("{CG}/cgroup.procs")), Err(EEXIST));
        check_eq!(rmdir(&format!("{CG}/cgroup.procs")), Err(ENOTDIR));
        check_eq!(rmdir(&format!("{CG}/none")), Err(ENOENT));
        check_eq!(
            ulib::sys::unlink(&cpath(&format!("{CG}/cgroup.procs"))),
            Err(EPERM)
        );
        check_eq!(move_to(CG, 999_999), Err(ESRCH));
        check_eq!(move_to(CG, -1), Err(EINVAL));
        check_eq!(write(CG, "cgroup.procs", "abc"), Err(EINVAL));
    }

    /// mkdir makes a group without moving the caller (plimits' mkdir would); the group is
    /// the plimits group of the same name; nothing below a group on either side (EPERM);
    /// rmdir of a group with members EBUSY, of an empty one removes it on both sides.
    fn mkdir_and_rmdir_as_linux() {
        setup();
        check_eq!(read(T, "cgroup.procs"), "");
        check!(pids(&read(CG, "cgroup.procs")).contains(&getpid()));
        check!(stat_path(PL_T).is_ok(), "the plimits group");
        check_eq!(
            read_text(&format!("{PL_T}/plimits.procs")),
            Err(EINVAL),
            "empty"
        );
        check_eq!(mkdir(T), Err(EEXIST));
        check_eq!(mkdir(&format!("{T}/sub")), Err(EPERM));
        check_eq!(mkdir(&format!("{PL_T}/sub")), Err(EPERM));
        check_eq!(mkdir(&format!("{T}/memory.max")), Err(EEXIST));
        check_eq!(
            mkdir(&format!("{CG}/pids.max")),
            Err(EEXIST),
            "a group file name"
        );
        let s = sleeper();
        check_eq!(move_to(T, s), Ok(()));
        check_eq!(rmdir(T), Err(EBUSY));
        let _ = kill(s, SIGKILL);
        check_eq!(wait_exit(s), Exit::Signal(SIGKILL));
        check_eq!(rmdir(T), Ok(0));
        check_eq!(stat_path(PL_T).map(|_| ()), Err(ENOENT));
        check_eq!(stat_path(T).map(|_| ()), Err(ENOENT));
        // A group made through plimits shows in cgroup2 (its maker moved, as LiteOS-A).
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(mkdir(PL_T), Ok(0));
            check_eq!(pids(&read(T, "cgroup.procs")), [getpid()].to_vec());
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(read(T, "cgroup.events"), "populated 0\nfrozen 0\n");
        check_eq!(rmdir(T), Ok(0));
    }

    /// Every file of a group, its default and its errnos; the controller files follow the
    /// root's subtree_control.
    fn group_files_and_errnos() {
        setup();
        let mut names = read_dir_names(T);
        names.sort();
        check_eq!(
            names.join(" "),
            "cgroup.controllers cgroup.events cgroup.freeze cgroup.kill cgroup.procs \
             cgroup.subtree_control cgroup.type cpu.max cpu.stat memory.current \
             memory.events memory.max memory.peak memory.stat pids.current pids.max"
        );
        check_eq!(read(T, "cgroup.controllers"), "cpu memory pids\n");
        check_eq!(read(T, "cgroup.subtree_control"), "\n");
        check_eq!(read(T, "cgroup.type"), "domain\n");
        check_eq!(read(T, "cgroup.events"), "populated 0\nfrozen 0\n");
        check_eq!(read(T, "cgroup.freeze"), "0\n");
        check_eq!(write(T, "cgroup.freeze", "2"), Err(EINVAL));
        check_eq!(open_errno(T, "cgroup.kill", O_RDONLY), EACCES);
        check_eq!(write(T, "cgroup.kill", "0"), Err(EINVAL));
        check_eq!(read(T, "pids.max"), "max\n");
        check_eq!(read(T, "pids.current"), "0\n");
        check_eq!(read(T, "memory.max"), "max\n");
        check_eq!(read(T, "memory.current"), "0\n");
        check_eq!(read(T, "memory.peak"), "0\n");
        check_eq!(
            read(T, "memory.events"),
            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"
        );
        check_eq!(
            read(T, "memory.stat"),
            "anon 0\nfile 0\nkernel 0\nkernel_stack 0\nshmem 0\nslab 0\nslab_reclaimable 0\nslab_unreclaimable 0\n"
        );
        check_eq!(read(T, "cpu.max"), "max 100000\n");
        check_eq!(field(&read(T, "cpu.stat"), "usage_usec"), 0);
        check_eq!(open_errno(T, "pids.current", O_WRONLY), EACCES);
        // Bad values: Linux's EINVAL; plimits' own ranges (one CPU: no quota above the
        // period; at most 32768 processes; a memory limit not 0).
        for (name, bad) in [
            ("pids.max", "abc"),
            ("pids.max", "-1"),
            ("pids.max", "40000"),
            ("memory.max", "0"),
            ("memory.max", "12Q"),
            ("cpu.max", "500 100000"),
            ("cpu.max", "200000 100000"),
            ("cpu.max", "20000 999"),
            ("cpu.max", " \n"),
        ] {
            check_eq!(write(T, name, bad), Err(EINVAL), "{name} {bad}");
        }
        // A child's subtree_control: the controllers it is offered; the root cannot take
        // back one a child enables (EBUSY).
        check_eq!(write(T, "cgroup.subtree_control", "+memory"), Ok(7));
        check_eq!(read(T, "cgroup.subtree_control"), "memory\n");
        check_eq!(write(CG, "cgroup.subtree_control", "-memory"), Err(EBUSY));
        let s = sleeper();
        check_eq!(move_to(T, s), Err(EBUSY), "not a leaf");
        check_eq!(write(T, "cgroup.subtree_control", "-memory"), Ok(7));
        check_eq!(move_to(T, s), Ok(()));
        check_eq!(
            write(T, "cgroup.subtree_control", "+pids"),
            Err(EBUSY),
            "has members"
        );
        let _ = kill(s, SIGKILL);
        check_eq!(wait_exit(s), Exit::Signal(SIGKILL));
        // Controllers off at the root: their files leave the child.
        check_eq!(
            write(CG, "cgroup.subtree_control", "-memory -pids -cpu"),
            Ok(18)
        );
        check_eq!(read(T, "cgroup.controllers"), "\n");
        check_eq!(open_errno(T, "memory.max", O_RDONLY), ENOENT);
        check_eq!(open_errno(T, "pids.max", O_RDONLY), ENOENT);
        check_eq!(open_errno(T, "cpu.max", O_RDONLY), ENOENT);
        check_eq!(read(T, "cpu.stat").starts_with("usage_usec "), true);
        check_eq!(write(T, "cgroup.subtree_control", "+memory"), Err(ENOENT));
        check_eq!(
            write(CG, "cgroup.subtree_control", "+memory +pids +cpu"),
            Ok(18)
        );
        cleanup();
    }

    /// A limit written through cgroup2 reads back through plimits and the other way,
    /// units converted (`max` ↔ the defaults, cpu.max ↔ sched.quota/sched.period in µs).
    fn limits_read_back_on_the_other_side() {
        setup();
        check_eq!(write(T, "pids.max", "10\n"), Ok(3));
        check_eq!(read(PL_T, "pids.max"), "10\n");
        check_eq!(write(PL_T, "pids.max", "7"), Ok(1));
        check_eq!(read(T, "pids.max"), "7\n");
        check_eq!(write(T, "pids.max", "max"), Ok(3));
        check_eq!(read(PL_T, "pids.max"), "32768\n");
        check_eq!(write(T, "memory.max", "16M"), Ok(3));
        check_eq!(read(PL_T, "memory.limit"), "16777216\n");
        check_eq!(read(T, "memory.max"), "16777216\n");
        check_eq!(write(PL_T, "memory.limit", "8388608"), Ok(7));
        check_eq!(read(T, "memory.max"), "8388608\n");
        check_eq!(write(T, "memory.max", "max"), Ok(3));
        check_eq!(read(T, "memory.max"), "max\n");
        check_eq!(
            read(PL_T, "memory.limit"),
            read("/proc/plimits", "memory.limit")
        );
        check_eq!(write(T, "cpu.max", "20000 100000"), Ok(12));
        check_eq!(read(PL_T, "sched.quota"), "20000\n");
        check_eq!(read(PL_T, "sched.period"), "100000\n");
        check_eq!(write(PL_T, "sched.period", "200000"), Ok(6));
        check_eq!(read(T, "cpu.max"), "20000 200000\n");
        check_eq!(write(T, "cpu.max", "50000"), Ok(5), "the period stays");
        check_eq!(read(PL_T, "sched.quota"), "50000\n");
        check_eq!(read(T, "cpu.max"), "50000 200000\n");
        check_eq!(write(T, "cpu.max", "max"), Ok(3));
        check_eq!(read(PL_T, "sched.quota"), "0\n");
        check_eq!(read(T, "cpu.max"), "max 200000\n");
        // Members and counts: the same on both sides.
        let s = sleeper();
        check_eq!(
            write(PL_T, "plimits.procs", &format!("{s}")),
            Err(EPERM),
            "plimits: not from the root"
        );
        check_eq!(move_to(T, s), Ok(()));
        check_eq!(pids(&read(PL_T, "plimits.procs")), [s].to_vec());
        check_eq!(read(T, "pids.current"), "1\n");
        check_eq!(read(PL_T, "memory.usage"), read(T, "memory.current"));
        cleanup();
    }

    /// cgroup.procs moves a process into a group and back to the root (plimits refuses
    /// the root: EPERM); `0` is the writer; a reader in a PID container sees its numbers.
    fn procs_moves_both_ways() {
        setup();
        let s = sleeper();
        check_eq!(move_to(T, s), Ok(()));
        check_eq!(pids(&read(T, "cgroup.procs")), [s].to_vec());
        check_eq!(read(T, "cgroup.events"), "populated 1\nfrozen 0\n");
        check!(!pids(&read(CG, "cgroup.procs")).contains(&s));
        check_eq!(
            write("/proc/plimits", "plimits.procs", &format!("{s}")),
            Err(EPERM)
        );
        check_eq!(move_to(CG, s), Ok(()));
        check!(pids(&read(CG, "cgroup.procs")).contains(&s));
        check_eq!(read(T, "pids.current"), "0\n");
        let _ = kill(s, SIGKILL);
        check_eq!(wait_exit(s), Exit::Signal(SIGKILL));
        check_eq!(move_to(T, s), Err(ESRCH), "reaped");
        // A process in a new PID container moves itself ("0") and reads its own number.
        let c = check_ok!(clone_run(SIGCHLD_EXIT | CLONE_NEWPID, || {
            check_eq!(write(T, "cgroup.procs", "0"), Ok(1));
            check_eq!(read(T, "cgroup.procs"), "1\n");
            check_eq!(move_to(T, 2), Err(ESRCH), "not in its view");
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(read(T, "pids.current"), "0\n");
        let _ = rmdir("/cgview");
        cleanup();
    }

    /// pids.max through cgroup2: a member's second fork at the limit is refused with
    /// plimits' EACCES (Linux: EAGAIN).
    fn pids_max_refuses_the_fork_over_it() {
        setup();
        check_eq!(write(T, "pids.max", "2"), Ok(1));
        let fds = pipe_pair();
        let m = parked(fds, || {
            let c = check_ok!(fork());
            if c == 0 {
                sleep_forever();
            }
            check_eq!(fork().map(|_| ()), Err(EACCES));
            check_eq!(read(T, "pids.current"), "2\n");
            let _ = kill(c, SIGKILL);
            check_eq!(wait_exit(c), Exit::Signal(SIGKILL));
        });
        check_eq!(move_to(T, m), Ok(()));
        go(fds[1]);
        close_all(&fds);
        check_eq!(wait_exit(m), Exit::Code(0));
        check_eq!(read(T, "pids.current"), "0\n");
        let _ = rmdir("/cgview");
        cleanup();
    }

    /// memory.max through cgroup2: a 64 MiB toucher under 16 MiB is killed with SIGKILL;
    /// memory.events counts the kill, memory.peak stays under the limit, usage goes back
    /// to 0.
    fn memory_max_kills_the_toucher() {
        setup();
        check_eq!(write(T, "memory.max", "16M"), Ok(3));
        let fds = pipe_pair();
        let hog = parked(fds, || {
            let _ = touch(64 << 20);
        });
        check_eq!(move_to(T, hog), Ok(()));
        let cur: u64 = read(T, "memory.current").trim().parse().unwrap_or(0);
        check!(cur > 0 && cur < 16 << 20, "current {}", cur);
        go(fds[1]);
        close_all(&fds);
        check_eq!(wait_exit(hog), Exit::Signal(SIGKILL));
        let ev = read(T, "memory.events");
        check_eq!(field(&ev, "oom_kill"), 1, "{ev}");
        check!(field(&ev, "max") >= 1, "{ev}");
        let peak: u64 = read(T, "memory.peak").trim().parse().unwrap_or(0);
        check!(peak > 8 << 20 && peak <= 16 << 20, "peak {}", peak);
        check_eq!(read(T, "memory.current"), "0\n");
        check_eq!(
            read(PL_T, "memory.failcnt"),
            format!("{}\n", field(&ev, "max"))
        );
        cleanup();
    }

    /// A busy child in a group with cpu.max `quota 100000`: its share of the CPU over
    /// 1.5 s from cpu.stat's usage_usec, in percent; and cpu.stat's nr_throttled.
    fn share(quota: &str) -> (u64, u64) {
        setup();
        check_eq!(
            write(T, "cpu.max", &format!("{quota} 100000")),
            Ok(quota.len() + 7)
        );
        let s = spinner();
        check_eq!(move_to(T, s), Ok(()));
        let t0 = monotonic_ns();
        let u0 = field(&read(T, "cpu.stat"), "usage_usec");
        let _ = sleep_ms(1500);
        let st = read(T, "cpu.stat");
        let wall_us = (monotonic_ns() - t0) / 1000;
        let used = field(&st, "usage_usec").saturating_sub(u0);
        cleanup();
        (used * 100 / wall_us.max(1), field(&st, "nr_throttled"))
    }

    /// cpu.max 20000 100000: 20% ± 10%, throttled; 60000: 60% ± 15%.
    fn cpu_max_throttles() {
        let (pct, throttled) = share("20000");
        println!("  cpu.max 20000 100000: {pct}% of the CPU, throttled {throttled} times");
        check!((10..=30).contains(&pct), "share {}%", pct);
        check!(
            (5..=20).contains(&throttled),
            "throttled {} times in 15 periods",
            throttled
        );
        let (pct, _) = share("60000");
        println!("  cpu.max 60000 100000: {pct}% of the CPU");
        check!((45..=75).contains(&pct), "share {}%", pct);
    }

    /// cgroup.kill: every member gets SIGKILL, the group is empty after.
    fn kill_kills_every_member() {
        setup();
        let kids: Vec<i32> = (0..3).map(|_| sleeper()).collect();
        for &k in &kids {
            check_eq!(move_to(T, k), Ok(()));
        }
        check_eq!(read(T, "pids.current"), "3\n");
        check_eq!(write(T, "cgroup.kill", "1"), Ok(1));
        for &k in &kids {
            check_eq!(wait_exit(k), Exit::Signal(SIGKILL));
        }
        check_eq!(read(T, "cgroup.events"), "populated 0\nfrozen 0\n");
        check_eq!(rmdir(T), Ok(0));
    }

    /// A member that exited leaves cgroup.procs and `populated` at once (Linux), while
    /// pids.current counts it until it is reaped (Linux's pids controller too); its group
    /// can be removed before that.
    fn exited_members_leave_before_reaping() {
        setup();
        let fds = pipe_pair();
        let c = parked(fds, || {});
        check_eq!(move_to(T, c), Ok(()));
        go(fds[1]);
        close_all(&fds);
        let mut events = String::new();
        for _ in 0..200 {
            events = read(T, "cgroup.events");
            if events.starts_with("populated 0") {
                break;
            }
            let _ = sleep_ms(10);
        }
        check_eq!(events, "populated 0\nfrozen 0\n");
        check_eq!(read(T, "cgroup.procs"), "");
        check_eq!(read(T, "pids.current"), "1\n", "a zombie");
        check_eq!(rmdir(T), Ok(0));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// cgroup.freeze: a busy member gets no CPU while frozen (cgroup.events `frozen 1`)
    /// and runs again when thawed; a frozen member can still be killed.
    fn freeze_stops_and_resumes() {
        setup();
        let s = spinner();
        check_eq!(move_to(T, s), Ok(()));
        let _ = sleep_ms(100);
        check_eq!(write(T, "cgroup.freeze", "1"), Ok(1));
        check_eq!(read(T, "cgroup.freeze"), "1\n");
        check_eq!(read(T, "cgroup.events"), "populated 1\nfrozen 1\n");
        let u0 = field(&read(T, "cpu.stat"), "usage_usec");
        let _ = sleep_ms(300);
        let frozen_us = field(&read(T, "cpu.stat"), "usage_usec") - u0;
        check!(frozen_us < 20_000, "ran {} us frozen", frozen_us);
        check_eq!(write(T, "cgroup.freeze", "0\n"), Ok(2));
        check_eq!(read(T, "cgroup.events"), "populated 1\nfrozen 0\n");
        let u1 = field(&read(T, "cpu.stat"), "usage_usec");
        let _ = sleep_ms(300);
        let thawed_us = field(&read(T, "cpu.stat"), "usage_usec") - u1;
        check!(thawed_us > 100_000, "ran {} us thawed", thawed_us);
        check_eq!(write(T, "cgroup.freeze", "1"), Ok(1));
        let _ = kill(s, SIGKILL);
        check_eq!(wait_exit(s), Exit::Signal(SIGKILL), "killed while frozen");
        cleanup();
    }

    fn clone_into(fd: i32, size: usize) -> SysResult<i32> {
        let args = CloneArgs {
            flags: CLONE_INTO_CGROUP,
            exit_signal: SIGCHLD as u64,
            cgroup: fd as u64,
            ..Default::default()
        };
        clone3(&args, size)
    }

    /// clone3 with CLONE_INTO_CGROUP starts the child in the group of a directory fd
    /// (its pages charged there); another fd EBADF, a version-1 structure EINVAL, the
    /// group's pids.max EACCES.
    fn clone_into_cgroup() {
        setup();
        let dir = check_ok!(open_path(T, O_RDONLY | O_DIRECTORY));
        let [r, w] = pipe_pair();
        let c = check_ok!(clone_into(dir, 88));
        if c == 0 {
            let _ = close(w);
            let me = getpid();
            let ok = pids(&read(T, "cgroup.procs")) == [me].to_vec();
            wait_go(r);
            exit(if ok { 0 } else { 1 });
        }
        let _ = close(r);
        check_eq!(pids(&read(T, "cgroup.procs")), [c].to_vec());
        check_eq!(read(T, "pids.current"), "1\n");
        let cur: u64 = read(T, "memory.current").trim().parse().unwrap_or(0);
        check!(cur > 65536, "the child's pages and stack: {}", cur);
        check_eq!(
            write(T, "pids.max", "1"),
            Err(EPERM),
            "plimits: not at the count"
        );
        check_eq!(write(T, "pids.max", "2"), Ok(1));
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(read(T, "memory.current"), "0\n");
        let file = check_ok!(open_path(&format!("{T}/cgroup.procs"), O_RDONLY));
        check_eq!(clone_into(file, 88), Err(EBADF), "a file, not a group");
        check_eq!(clone_into(999, 88), Err(EBADF));
        check_eq!(clone_into(-1, 88), Err(EINVAL));
        check_eq!(
            clone_into(dir, 64),
            Err(EINVAL),
            "version 1 has no cgroup field"
        );
        let _ = close(file);
        // pids.max of the target applies.
        check_eq!(write(T, "pids.max", "1"), Ok(1));
        let s = sleeper();
        check_eq!(move_to(T, s), Ok(()));
        check_eq!(clone_into(dir, 88), Err(EACCES));
        let _ = close(dir);
        cleanup();
        // A removed group's fd: EBADF.
        check_eq!(mkdir(T), Ok(0));
        let dir = check_ok!(open_path(T, O_RDONLY | O_DIRECTORY));
        check_eq!(rmdir(T), Ok(0));
        check_eq!(clone_into(dir, 88), Err(EBADF));
        let _ = close(dir);
    }

    /// /proc/meminfo and /proc/stat of a member still follow its group.
    fn proc_files_follow_the_group() {
        setup();
        check_eq!(write(T, "memory.max", "32M"), Ok(3));
        let fds = pipe_pair();
        let c = parked(fds, || {
            check_eq!(mem_total_kb(), 32768);
        });
        check_eq!(move_to(T, c), Ok(()));
        go(fds[1]);
        close_all(&fds);
        check_eq!(wait_exit(c), Exit::Code(0));
        cleanup();
    }

    fn mem_total_kb() -> u64 {
        read_text("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("MemTotal:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }

    /// No group is left on either side; the mounts go.
    fn no_group_left() {
        mounted();
        cleanup();
        let left: Vec<String> = read_dir_names(CG)
            .into_iter()
            .filter(|n| !n.contains('.'))
            .collect();
        check_eq!(left, Vec::<String>::new());
        let plimits: Vec<String> = read_dir_names("/proc/plimits")
            .into_iter()
            .filter(|n| !n.contains('.'))
            .collect();
        check_eq!(plimits, Vec::<String>::new());
        check_eq!(ulib::cred::umount2(CG, 0), Ok(0));
        check_eq!(ulib::cred::umount2("/sys", 0), Ok(0));
        check_eq!(rmdir("/sys"), Ok(0), "made by mounted()");
    }

    /// Inside a cgroup container rooted at group `t`, a new cgroup2 mount's root is `t`
    /// (its parents and siblings invisible): its `cgroup.procs` lists the member, its files
    /// are `t`'s, nothing can be made below it, and `/proc/self/cgroup` reads `0::/`.
    fn a_cgroup_container_sees_its_group_as_the_root() {
        setup();
        check_eq!(write(T, "memory.max", "33554432"), Ok(8));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let mut bad = 0;
            if write(T, "cgroup.procs", "0").is_err() {
                bad |= 1;
            }
            if unshare(CLONE_NEWCGROUP | CLONE_NEWNS).is_err() {
                bad |= 2;
            }
            let _ = mkdir("/cgview");
            if ulib::cred::mount("none", "/cgview", "cgroup2", 0).is_err() {
                bad |= 4;
            }
            if pids(&read("/cgview", "cgroup.procs")) != [getpid()].to_vec() {
                bad |= 8;
            }
            if read("/cgview", "memory.max") != "33554432\n" {
                bad |= 16;
            }
            if stat_path("/cgview/t").is_ok() || mkdir("/cgview/x") != Err(EPERM) {
                bad |= 32;
            }
            if read_text("/proc/self/cgroup").ok().as_deref() != Some("0::/\n") {
                bad |= 64;
            }
            exit(bad);
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        // Outside, the same process was in /t.
        check_eq!(read(T, "pids.current"), "0\n");
        let _ = rmdir("/cgview");
        cleanup();
    }

    fn read_dir_names(path: &str) -> Vec<String> {
        let mut names = Vec::new();
        let Ok(fd) = open_path(path, O_RDONLY | O_DIRECTORY) else {
            return names;
        };
        let mut buf = [0u8; 2048];
        while let Ok(n) = getdents64(fd, &mut buf) {
            if n == 0 {
                break;
            }
            let mut off = 0;
            while off < n {
                let reclen = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let name = &buf[off + 19..off + reclen];
                let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                let name = String::from_utf8_lossy(&name[..end]).into_owned();
                if name != "." && name != ".." {
                    names.push(name);
                }
                off += reclen;
            }
        }
        let _ = close(fd);
        names
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            sysfs_holds_the_mount_point,
            root_files_and_errnos,
            mkdir_and_rmdir_as_linux,
            group_files_and_errnos,
            limits_read_back_on_the_other_side,
            procs_moves_both_ways,
            pids_max_refuses_the_fork_over_it,
            memory_max_kills_the_toucher,
            cpu_max_throttles,
            kill_kills_every_member,
            exited_members_leave_before_reaping,
            freeze_stops_and_resumes,
            clone_into_cgroup,
            proc_files_follow_the_group,
            a_cgroup_container_sees_its_group_as_the_root,
            no_group_left,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
