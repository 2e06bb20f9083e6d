//! plimits (`/proc/plimits`): LiteOS-A's It_process_plimits_* cases (generic, pid, memory,
//! sched, devices, ipc), ported as containers.md says — `pids.max` is the kernel's process
//! limit 32768, `pids.priority` is a Linux nice floor (−20..19, lower → EACCES), sched units
//! are µs, the devices are Bulkhead's `/dev/null` and `/dev/zero`, `/proc/[pid]/stat` replaces
//! `/proc/process` — and Bulkhead's own: a fork bomb contained by `pids.max`, a memory hog
//! killed with SIGKILL while the kernel goes on and the group's usage returns to 0,
//! `/proc/meminfo` inside and outside a group, each bad write with its errno. Every case
//! removes its groups; the last checks that only the root group remains.
//!
//! Bulkhead-only (LiteOS-A's plimits has no Linux counterpart): every case.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::kmem::meminfo_kb;
    use ulib::mq;
    use ulib::sched::{SCHED_RR, setparam, setscheduler};
    use ulib::sys::{errno::*, *};
    use ulib::sysv;
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok};

    const ROOT: &str = "/proc/plimits";
    const TEST: &str = "/proc/plimits/test";
    const ENOSPC: i32 = 28;
    const SIGKILL: i32 = 9;
    const PAGE: usize = 4096;

    /// Every file of a group directory (the root's, and each child's).
    const FILES: [&str; 18] = [
        "plimits.limiters",
        "plimits.procs",
        "pids.max",
        "pids.priority",
        "memory.limit",
        "memory.usage",
        "memory.peak",
        "memory.failcnt",
        "memory.stat",
        "ipc.mq_limit",
        "ipc.shm_limit",
        "ipc.stat",
        "devices.allow",
        "devices.deny",
        "devices.list",
        "sched.period",
        "sched.quota",
        "sched.stat",
    ];

    fn cpath(p: &str) -> alloc::ffi::CString {
        alloc::ffi::CString::new(p).unwrap_or_default()
    }

    fn mkdir(p: &str) -> SysResult {
        ulib::sys::mkdir(&cpath(p), 0o700)
    }

    fn rmdir(p: &str) -> SysResult {
        ulib::sys::rmdir(&cpath(p))
    }

    fn unlink(p: &str) -> SysResult {
        ulib::sys::unlink(&cpath(p))
    }

    fn access(p: &str, mode: usize) -> SysResult {
        ulib::sys::access(&cpath(p), mode)
    }

    fn open_close(p: &str, flags: usize) -> SysResult {
        let fd = ulib::sys::open(&cpath(p), flags, 0o644)?;
        let _ = close(fd);
        Ok(0)
    }

    fn file(group: &str, name: &str) -> String {
        format!("{group}/{name}")
    }

    fn write(group: &str, name: &str, text: &str) -> SysResult {
        write_text(&file(group, name), text.as_bytes())
    }

    fn read(group: &str, name: &str) -> String {
        read_text(&file(group, name)).unwrap_or_default()
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

    /// The pids listed in a `plimits.procs` text.
    fn procs(text: &str) -> Vec<i32> {
        text.split_ascii_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect()
    }

    fn my_pid() -> i32 {
        getpid()
    }

    /// A fresh group `test` (a leftover removed first), which the caller joins.
    fn setup() {
        let _ = rmdir(TEST);
        check_eq!(mkdir(TEST), Ok(0));
    }

    fn teardown() {
        check_eq!(rmdir(TEST), Ok(0));
    }

    /// Forks a child that waits for a byte or EOF on pipe `[r, w]` and exits 0.
    fn waiting_child([r, w]: [i32; 2]) -> SysResult<i32> {
        match fork()? {
            0 => {
                let _ = close(w);
                wait_go(r);
                exit(0)
            }
            pid => Ok(pid),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Generic

    // LiteOS-A: It_process_plimits_001
    /// opendir /proc/plimits; mkdir test1 and rmdir it.
    fn plimits_001_mkdir_rmdir() {
        check!(list_dir(ROOT).is_ok());
        let g = "/proc/plimits/test1";
        let _ = rmdir(g);
        check_eq!(mkdir(g), Ok(0));
        check_eq!(rmdir(g), Ok(0));
    }

    // LiteOS-A: It_process_plimits_002
    /// rmdir /proc/plimits is refused; the directory stays.
    fn plimits_002_root_stays() {
        check!(rmdir(ROOT).is_err());
        check!(list_dir("/proc/plimits/").is_ok());
    }

    // LiteOS-A: It_process_plimits_003
    /// open("/proc/text.txt", O_CREAT) fails.
    fn plimits_003_no_files_in_proc() {
        check!(open_close("/proc/text.txt", O_RDWR | O_CREAT).is_err());
    }

    // LiteOS-A: It_process_plimits_004
    /// A new group's plimits.limiters starts with "pids memory ipc devices sched".
    fn plimits_004_limiters() {
        setup();
        let text = read(TEST, "plimits.limiters");
        check!(
            text.starts_with("pids memory ipc devices sched"),
            "{text:?}"
        );
        check_eq!(text, "pids memory ipc devices sched ");
        teardown();
    }

    // LiteOS-A: It_process_plimits_005
    /// open("/proc/plimits/text.txt", O_CREAT) fails, as in a group directory.
    fn plimits_005_no_new_files() {
        check!(open_close("/proc/plimits/text.txt", O_RDWR | O_CREAT).is_err());
        setup();
        check_eq!(
            open_close("/proc/plimits/test/text.txt", O_RDWR | O_CREAT),
            Err(EACCES)
        );
        teardown();
    }

    // LiteOS-A: It_process_plimits_006
    /// remove() of each root file fails ("limiters", which does not exist, too).
    fn plimits_006_files_cannot_be_removed() {
        for f in FILES.iter().chain(["limiters"].iter()) {
            check!(unlink(&file(ROOT, f)).is_err(), "{f}");
        }
        for f in FILES {
            check!(access(&file(ROOT, f), F_OK).is_ok(), "{f} still there");
        }
    }

    // LiteOS-A: It_process_plimits_007
    /// Only one level: mkdir below a group fails (EPERM).
    fn plimits_007_one_level() {
        setup();
        check_eq!(mkdir("/proc/plimits/test/subtest"), Err(EPERM));
        check!(mkdir("/proc/plimits/test/subtest/deeper").is_err());
        teardown();
    }

    // LiteOS-A: It_process_plimits_008
    /// The root's files are r--r--r-- (memory.failcnt/peak/usage exist: Bulkhead's fix).
    fn plimits_008_root_modes() {
        for f in [
            "plimits.procs",
            "plimits.limiters",
            "pids.max",
            "sched.period",
            "sched.quota",
            "sched.stat",
            "memory.failcnt",
            "memory.limit",
            "memory.peak",
            "memory.usage",
            "memory.stat",
        ] {
            let st = stat_path(&file(ROOT, f));
            check!(st.is_ok(), "{f}");
            if let Ok(st) = st {
                check_eq!(st.st_mode & 0o777, 0o444, "{}", f);
                check_eq!(st.st_mode & S_IFMT, S_IFREG, "{}", f);
            }
        }
        for f in ["devices.allow", "devices.deny"] {
            check_eq!(stat_path(&file(ROOT, f)).map(|s| s.st_mode & 0o777), Ok(0));
        }
    }

    /// A child group's modes: read-write 0644, read-only 0444, write-only 0200; chmod fails.
    fn child_modes() {
        setup();
        for (f, mode) in [
            ("plimits.procs", 0o644),
            ("pids.max", 0o644),
            ("pids.priority", 0o644),
            ("memory.limit", 0o644),
            ("memory.usage", 0o444),
            ("memory.stat", 0o444),
            ("ipc.mq_limit", 0o644),
            ("ipc.stat", 0o444),
            ("devices.allow", 0o200),
            ("devices.deny", 0o200),
            ("devices.list", 0o444),
            ("sched.quota", 0o644),
            ("sched.stat", 0o444),
        ] {
            check_eq!(
                stat_path(&file(TEST, f)).map(|s| s.st_mode & 0o777),
                Ok(mode),
                "{}",
                f
            );
        }
        let mut names = check_ok!(list_dir(TEST));
        let mut want: Vec<String> = FILES.iter().map(|f| String::from(*f)).collect();
        names.sort();
        want.sort();
        check_eq!(names, want);
        teardown();
    }

    // ---------------------------------------------------------------------------------------
    // pids

    // LiteOS-A: It_process_plimits_pid_001
    /// pids.max=5 with the caller inside: 4 forks work, the 5th fails (EACCES).
    fn pid_001_fork_limit() {
        setup();
        check_eq!(write(TEST, "pids.max", "5"), Ok(1));
        let [r, w] = pipe_pair();
        let mut kids = Vec::new();
        for i in 0..4 {
            let c = waiting_child([r, w]);
            check!(c.is_ok(), "fork {}: {:?}", i, c);
            kids.extend(c.ok());
        }
        check_eq!(fork(), Err(EACCES));
        let _ = close(w);
        for k in kids {
            check_eq!(wait_exit(k), Exit::Code(0));
        }
        let _ = close(r);
        check!(fork().map(|p| if p == 0 { exit(0) } else { wait_exit(p) }) == Ok(Exit::Code(0)));
        teardown();
    }

    // LiteOS-A: It_process_plimits_pid_002
    /// pids.max=5; writing the caller's own pid to plimits.procs works; 4 forks, the 5th fails.
    fn pid_002_own_pid_then_forks() {
        setup();
        check_eq!(write(TEST, "pids.max", "5"), Ok(1));
        let me = format!("{}", my_pid());
        check_eq!(write(TEST, "plimits.procs", &me), Ok(me.len()));
        let [r, w] = pipe_pair();
        let mut kids = Vec::new();
        for _ in 0..4 {
            kids.extend(waiting_child([r, w]).ok());
        }
        check_eq!(kids.len(), 4);
        check!(fork().is_err());
        let _ = close(w);
        for k in kids {
            check_eq!(wait_exit(k), Exit::Code(0));
        }
        let _ = close(r);
        teardown();
    }

    // LiteOS-A: It_process_plimits_pid_003
    /// pids.priority is a nice floor (Bulkhead: LiteOS-A's 15 of 10..31 becomes nice 5):
    /// setpriority(4), sched_setscheduler(RR) and sched_setparam fail; nice 5, 6, 7 work.
    fn pid_003_priority_floor() {
        setup();
        check_eq!(write(TEST, "pids.priority", "5"), Ok(1));
        check_eq!(read(TEST, "pids.priority"), "5\n");
        check_eq!(ulib::cred::setpriority(0, 4), Err(EACCES));
        check_eq!(setscheduler(0, SCHED_RR, 14), Err(EACCES));
        // SCHED_OTHER's only priority is 0: any other fails (LiteOS-A expects a failure).
        check!(setparam(0, 14).is_err());
        for n in 5..8 {
            check_eq!(ulib::cred::setpriority(0, n), Ok(0), "nice {}", n);
        }
        check_eq!(ulib::cred::getnice(0), Ok(7));
        teardown();
        check_eq!(
            ulib::cred::setpriority(0, 0),
            Ok(0),
            "the root's floor is -20"
        );
    }

    // LiteOS-A: It_process_plimits_pid_004 / It_process_plimits_pid_006
    /// The root's and a new group's pids.max read the kernel's limit (LiteOS-A: 64).
    fn pid_004_006_default_max() {
        check_eq!(read(ROOT, "pids.max"), "32768\n");
        setup();
        check_eq!(read(TEST, "pids.max"), "32768\n");
        check_eq!(read(TEST, "pids.priority"), "-20\n");
        teardown();
    }

    // LiteOS-A: It_process_plimits_pid_005
    /// plimits.procs refuses root-group processes (pids 1..8), absent pids and text; the
    /// caller's own pid is accepted. Bulkhead: the caller may itself be one of pids 1..8 (the
    /// suite's init is pid 1, this program often 2): it is skipped there; and a zero-length
    /// `write` returns 0 before reaching the file (Linux ABI), so the empty write is not
    /// checked.
    fn pid_005_procs_rules() {
        setup();
        for pid in (1..9).filter(|&p| p != my_pid()) {
            let t = format!("{pid}");
            check!(write(TEST, "plimits.procs", &t).is_err(), "pid {}", pid);
        }
        check_eq!(
            write(TEST, "plimits.procs", "1"),
            Err(EPERM),
            "init is in the root"
        );
        check_eq!(write(TEST, "plimits.procs", "99999"), Err(EINVAL));
        check!(write(TEST, "plimits.procs", "90").is_err());
        check_eq!(
            write(TEST, "plimits.procs", "/proc/plimits/test"),
            Err(EINVAL)
        );
        check_eq!(write(TEST, "plimits.procs", "12a"), Err(EINVAL));
        let me = format!("{}", my_pid());
        check_eq!(write(TEST, "plimits.procs", &me), Ok(me.len()));
        check_eq!(procs(&read(TEST, "plimits.procs")), [my_pid()]);
        check!(read(TEST, "plimits.procs").starts_with('\n'));
        check_eq!(write(ROOT, "plimits.procs", &me), Err(EPERM));
        teardown();
        check!(procs(&read(ROOT, "plimits.procs")).contains(&my_pid()));
    }

    /// A process moved by plimits.procs from one group to another takes its count along;
    /// a full group refuses it (EACCES).
    fn procs_moves_between_groups() {
        setup();
        let other = "/proc/plimits/other";
        let _ = rmdir(other);
        let [r, w] = pipe_pair();
        let kid = check_ok!(waiting_child([r, w]));
        check_eq!(mkdir(other), Ok(0), "the caller moves to other");
        check_eq!(procs(&read(TEST, "plimits.procs")), [kid]);
        check_eq!(write(other, "pids.max", "2"), Ok(1));
        let k = format!("{kid}");
        check_eq!(write(other, "plimits.procs", &k), Ok(k.len()));
        check_eq!(procs(&read(other, "plimits.procs")).len(), 2);
        check_eq!(
            read_text(&file(TEST, "plimits.procs")),
            Err(EINVAL),
            "empty"
        );
        let me = format!("{}", my_pid());
        check_eq!(write(TEST, "pids.max", "1"), Ok(1));
        check_eq!(write(TEST, "plimits.procs", &me), Ok(me.len()));
        check_eq!(
            write(TEST, "plimits.procs", &k),
            Err(EACCES),
            "test is full"
        );
        let _ = close(w);
        check_eq!(wait_exit(kid), Exit::Code(0));
        let _ = close(r);
        check_eq!(rmdir(other), Ok(0));
        teardown();
    }

    /// A fork bomb in a group with pids.max 64 stops at 64 processes; killing it frees the
    /// group and forks work again.
    fn fork_bomb_is_contained() {
        setup();
        check_eq!(write(TEST, "pids.max", "64"), Ok(2));
        let [r, w] = pipe_pair();
        // The bomb runs in its own PID container: killing its init kills the whole tree.
        let bomb = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            let mut forks = 0;
            loop {
                match fork() {
                    Ok(0) => forks = 0,
                    Ok(_) => forks += 1,
                    Err(_) => break,
                }
                if forks > 100 {
                    break;
                }
            }
            if getpid() == 1 {
                send(w, 1);
            }
            sleep_forever()
        }));
        let _ = close(w);
        check_eq!(recv(r), Some(1));
        // Stragglers may still be failing their last fork.
        let _ = sleep_ms(50);
        let members = procs(&read(TEST, "plimits.procs"));
        check_eq!(members.len(), 64, "the caller and 63 bomb processes");
        check_eq!(fork(), Err(EACCES), "the group is full");
        check_eq!(kill(bomb, SIGKILL), Ok(0));
        check_eq!(wait_exit(bomb), Exit::Signal(SIGKILL));
        let _ = close(r);
        check_eq!(procs(&read(TEST, "plimits.procs")), [my_pid()]);
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {}));
        check_eq!(wait_exit(c), Exit::Code(0));
        teardown();
    }

    // ---------------------------------------------------------------------------------------
    // memory

    // LiteOS-A: It_process_plimits_memory_001
    /// memory.limit 10 MiB: a clone child touching 11 MiB is killed (Bulkhead: SIGKILL, reaped
    /// with __WALL as the child has no exit signal); memory.stat stays readable.
    fn memory_001_over_limit_is_killed() {
        setup();
        check_eq!(write(TEST, "memory.limit", "10485760"), Ok(8));
        let c = check_ok!(clone_code(0, || {
            let _ = touch(11534336);
            0
        }));
        check_eq!(wait_exit(c), Exit::Signal(SIGKILL));
        let stat = read(TEST, "memory.stat");
        check!(stat.starts_with("\nMem used: "), "{stat:?}");
        check!(stat.contains("\nMem failed count: 1\n"), "{stat:?}");
        check_eq!(read(TEST, "memory.failcnt"), "1\n");
        teardown();
    }

    // LiteOS-A: It_process_plimits_memory_002
    /// Same limit: a child allocating 1153 bytes exits 0.
    fn memory_002_small_use_is_fine() {
        setup();
        check_eq!(write(TEST, "memory.limit", "10485760"), Ok(8));
        let c = check_ok!(clone_code(0, || if touch(1153).is_ok() { 0 } else { 1 }));
        check_eq!(wait_exit(c), Exit::Code(0));
        teardown();
    }

    fn usage() -> u64 {
        read(TEST, "memory.usage").trim().parse().unwrap_or(0)
    }

    /// memory.usage counts more than user pages: a new process adds at least its kernel
    /// stack (64 KiB) and its top page table, given back when it is reaped; the pages of a
    /// SysV segment count for its creator's group as they are touched, until it is freed.
    fn memory_counts_stacks_tables_and_segments() {
        setup();
        let u0 = usage();
        check!(u0 > 0);
        let [r, w] = pipe_pair();
        let c = check_ok!(waiting_child([r, w]));
        let u1 = usage();
        check!(u1 >= u0 + 64 * 1024 + 4096, "{} -> {}", u0, u1);
        let _ = close(w);
        let _ = close(r);
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(usage(), u0);
        let id = check_ok!(sysv::shmget(
            sysv::IPC_PRIVATE,
            16 * PAGE,
            sysv::IPC_CREAT | 0o600
        ));
        let a = check_ok!(sysv::shmat(id, 0));
        let u2 = usage();
        for i in 0..4 {
            // SAFETY: inside the attached segment.
            unsafe { poke(a + i * PAGE, 1) };
        }
        let u3 = usage();
        // Four pages, and perhaps the tables that map them.
        check!(
            u3 >= u2 + 4 * PAGE as u64 && u3 <= u2 + 7 * PAGE as u64,
            "{} -> {}",
            u2,
            u3
        );
        // SAFETY: the segment is no longer used.
        check_eq!(unsafe { sysv::shmdt(a) }, Ok(0));
        check_eq!(sysv::shm_rmid(id), Ok(0));
        check_eq!(usage(), u3 - 4 * PAGE as u64);
        teardown();
    }

    /// A memory hog is killed with SIGKILL, the kernel goes on, failcnt counts it, the peak
    /// stays at most the limit, and the usage is 0 once the group's processes are gone.
    fn memory_hog_killed_and_usage_back_to_zero() {
        let _ = rmdir(TEST);
        let [r, w] = pipe_pair();
        // A manager child makes the group (and joins it), so the test process stays outside.
        let mgr = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let _ = close(r);
            check_eq!(mkdir(TEST), Ok(0));
            check_eq!(write(TEST, "memory.limit", "8388608"), Ok(7));
            let hog = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let _ = touch(32 << 20);
            }));
            check_eq!(wait_exit(hog), Exit::Signal(SIGKILL));
            send(w, 1);
        }));
        let _ = close(w);
        check_eq!(recv(r), Some(1));
        let _ = close(r);
        check_eq!(wait_exit(mgr), Exit::Code(0));
        check_eq!(read(TEST, "memory.usage"), "0\n");
        check_eq!(read(TEST, "memory.failcnt"), "1\n");
        let peak: u64 = read(TEST, "memory.peak").trim().parse().unwrap_or(0);
        check!(peak > 4 << 20 && peak <= 8 << 20, "peak {}", peak);
        check_eq!(
            read_text(&file(TEST, "memory.stat")),
            Err(EINVAL),
            "no members"
        );
        check_eq!(rmdir(TEST), Ok(0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check!(touch(32 << 20).is_ok(), "outside the group");
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// /proc/meminfo inside a group with a memory limit shows the limit as MemTotal and
    /// the limit less the usage as MemFree/MemAvailable; outside, the machine's figures.
    fn meminfo_shows_the_group_limit() {
        let machine = meminfo_kb("MemTotal");
        check!(machine > 10240, "MemTotal {}", machine);
        setup();
        check_eq!(meminfo_kb("MemTotal"), machine, "no limit yet");
        check_eq!(write(TEST, "memory.limit", "10485760"), Ok(8));
        check_eq!(meminfo_kb("MemTotal"), 10240);
        let usage = usage();
        check!(usage > 0);
        let free = meminfo_kb("MemFree");
        check!(
            free < 10240 && free + 64 >= 10240 - usage / 1024,
            "free {}",
            free
        );
        check_eq!(meminfo_kb("MemAvailable"), free);
        teardown();
        check_eq!(meminfo_kb("MemTotal"), machine);
    }

    /// The first line of /proc/stat: user, nice, system, idle, ... in ticks of 1/100 s.
    fn stat_cpu_line() -> Vec<u64> {
        let text = read_text("/proc/stat").unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("cpu  "))
            .map(|l| l.split(' ').filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Seconds since boot (/proc/uptime), in ticks of 1/100 s.
    fn uptime_ticks() -> u64 {
        let text = read_text("/proc/uptime").unwrap_or_default();
        let first = text.split(' ').next().unwrap_or("");
        let (s, cs) = first.split_once('.').unwrap_or((first, "0"));
        s.parse::<u64>().unwrap_or(0) * 100 + cs.parse::<u64>().unwrap_or(0)
    }

    /// /proc/stat and /proc/cpuinfo (what LXCFS does for containers): outside any group the
    /// machine's CPU times add up to about the uptime; in a group with a 20% sched quota
    /// they add up to 20% of it (the group's CPU time, and the rest of its share as idle);
    /// /proc/cpuinfo shows one CPU either way.
    fn stat_and_cpuinfo_follow_the_sched_quota() {
        let cpu = stat_cpu_line();
        check_eq!(cpu.len(), 10, "{:?}", cpu);
        let up = uptime_ticks();
        let total: u64 = cpu.iter().sum();
        check!(
            total * 2 > up && total < up * 2,
            "machine: {} ticks of CPU time in {} ticks",
            total,
            up
        );
        let stat = read_text("/proc/stat").unwrap_or_default();
        for key in ["cpu0 ", "ctxt ", "btime ", "processes ", "procs_running "] {
            check!(
                stat.lines().any(|l| l.starts_with(key)),
                "{} in {:?}",
                key,
                stat
            );
        }
        let info = read_text("/proc/cpuinfo").unwrap_or_default();
        check_eq!(info.matches("processor\t: ").count(), 1, "{:?}", info);
        check!(info.contains("model name\t: ") && info.contains("flags\t\t: "));
        setup();
        check_eq!(write(TEST, "sched.period", "100000"), Ok(6));
        check_eq!(write(TEST, "sched.quota", "20000"), Ok(5));
        let cpu = stat_cpu_line();
        let up = uptime_ticks();
        let total: u64 = cpu.iter().sum();
        check!(
            total.abs_diff(up / 5) <= up / 50 + 3,
            "group: {:?} for a 20% share of {} ticks",
            cpu,
            up
        );
        check_eq!(
            read_text("/proc/cpuinfo")
                .unwrap_or_default()
                .matches("processor\t: ")
                .count(),
            1
        );
        teardown();
        let total: u64 = stat_cpu_line().iter().sum();
        check!(total * 2 > uptime_ticks(), "the machine's again: {}", total);
    }

    // ---------------------------------------------------------------------------------------
    // sched

    /// CPU time (µs) of the members `pids` of the test group, from its `sched.stat`
    /// (`PID: <pid>  runTime: <µs> us` lines, measured by the TSC: timer ticks go missing
    /// when the host is busy, so /proc/[pid]/stat's tick counts would understate it).
    fn runtime_us(pids: &[i32]) -> u64 {
        read(TEST, "sched.stat")
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("PID: ")?;
                let (pid, rest) = rest.split_once("  runTime: ")?;
                let us = rest.strip_suffix(" us")?;
                pids.contains(&pid.parse().ok()?)
                    .then(|| us.parse::<u64>().ok())
                    .flatten()
            })
            .sum()
    }

    /// `busy` spinning children in a group with `quota` µs per 100 ms period: their share of
    /// the CPU over 1.5 s, in percent.
    fn share(quota: &str, busy: usize) -> u64 {
        setup();
        check_eq!(write(TEST, "sched.period", "100000"), Ok(6));
        check_eq!(write(TEST, "sched.quota", quota), Ok(quota.len()));
        let mut kids = Vec::new();
        for _ in 0..busy {
            kids.extend(
                clone_run(SIGCHLD_EXIT, || {
                    loop {
                        core::hint::spin_loop();
                    }
                })
                .ok(),
            );
        }
        let t0 = monotonic_ns();
        let c0 = runtime_us(&kids);
        let _ = sleep_ms(1500);
        let c1 = runtime_us(&kids);
        let wall_us = (monotonic_ns() - t0) / 1000;
        let stat = read(TEST, "sched.stat");
        check!(stat.starts_with("PID: "), "{stat:?}");
        check!(stat.contains(" us\n"), "{stat:?}");
        for &k in &kids {
            let _ = kill(k, SIGKILL);
            check_eq!(wait_exit(k), Exit::Signal(SIGKILL));
        }
        teardown();
        c1.saturating_sub(c0) * 100 / wall_us.max(1)
    }

    /// Forks a child that spins until killed.
    fn spinner() -> i32 {
        clone_run(SIGCHLD_EXIT, || {
            loop {
                core::hint::spin_loop();
            }
        })
        .expect("fork a spinner")
    }

    // LiteOS-A: IItProcessPlimitsSched001
    /// Quota 20% of a 100 ms period (LiteOS-A: 2 s of 10 s, sampled 11 s from /proc/process):
    /// a busy child gets 20% ± 10% of the CPU. Measured against a busy reference process in
    /// the root group over the same 2 s, in the guest's ticks (`/proc/[pid]/stat`): with
    /// the CPU never idle, the child's share of their ticks is its share of the CPU the guest
    /// got, also when a loaded host takes QEMU's CPU away while the guest's clock runs on.
    /// Without the quota the two would split 50/50.
    fn sched_001_quota_20_percent() {
        let reference = spinner();
        setup();
        check_eq!(write(TEST, "sched.period", "100000"), Ok(6));
        check_eq!(write(TEST, "sched.quota", "20000"), Ok(5));
        let kid = spinner();
        let _ = sleep_ms(100);
        let (k0, r0) = (cpu_ticks(kid), cpu_ticks(reference));
        let _ = sleep_ms(2000);
        let (k1, r1) = (cpu_ticks(kid), cpu_ticks(reference));
        for pid in [kid, reference] {
            let _ = kill(pid, SIGKILL);
            check_eq!(wait_exit(pid), Exit::Signal(SIGKILL));
        }
        teardown();
        let (kid_ticks, ref_ticks) = (k1.saturating_sub(k0), r1.saturating_sub(r0));
        let total = kid_ticks + ref_ticks;
        check!(total >= 20, "{} + {} ticks in 2 s", kid_ticks, ref_ticks);
        let pct = kid_ticks * 100 / total.max(1);
        ulib::println!("  20% quota: {}% ({} of {} ticks)", pct, kid_ticks, total);
        check!(
            (10..=30).contains(&pct),
            "share {}% ({} of {} ticks)",
            pct,
            kid_ticks,
            total
        );
    }

    // LiteOS-A: IItProcessPlimitsSched002
    /// Quota 60%: 60% ± 15%.
    fn sched_002_quota_60_percent() {
        let pct = share("60000", 1);
        check!((45..=75).contains(&pct), "share {}%", pct);
    }

    // LiteOS-A: IItProcessPlimitsSched003 / IItProcessPlimitsSched004
    /// Quota = period (100%): one or two busy children are not held back (one CPU: two
    /// children share it).
    fn sched_003_004_full_quota() {
        let pct = share("100000", 1);
        check!(pct >= 70, "share {}%", pct);
        let pct = share("100000", 2);
        check!(pct >= 70, "share of two {}%", pct);
    }

    /// sched.period/quota rules: quota above the period EINVAL, root EPERM, defaults 0.
    fn sched_values() {
        check_eq!(read(ROOT, "sched.period"), "0\n");
        check_eq!(write(ROOT, "sched.period", "100"), Err(EPERM));
        setup();
        check_eq!(read(TEST, "sched.quota"), "0\n");
        check_eq!(
            write(TEST, "sched.quota", "1"),
            Err(EINVAL),
            "above period 0"
        );
        check_eq!(write(TEST, "sched.period", "1000"), Ok(4));
        check_eq!(write(TEST, "sched.quota", "1001"), Err(EINVAL));
        check_eq!(write(TEST, "sched.quota", "1000"), Ok(4));
        check_eq!(read(TEST, "sched.quota"), "1000\n");
        teardown();
    }

    // ---------------------------------------------------------------------------------------
    // devices (Bulkhead: /dev/null for LiteOS-A's /dev/hi_mipi, /dev/zero for /dev/mem)

    /// A group with the caller's pid written to plimits.procs (as the LiteOS-A cases do).
    fn dev_setup() {
        setup();
        let me = format!("{}", my_pid());
        check_eq!(write(TEST, "plimits.procs", &me), Ok(me.len()));
    }

    // LiteOS-A: It_process_plimits_devices_001
    /// Every device is allowed by default.
    fn devices_001_default_allow() {
        dev_setup();
        check_eq!(read(TEST, "devices.list"), "a * rwm\n");
        check_eq!(open_close("/dev/null", O_RDWR | O_CREAT), Ok(0));
        teardown();
    }

    // LiteOS-A: It_process_plimits_devices_002
    /// deny "a * rwm" then allow "a * r": an `a` allow resets to allow-all.
    fn devices_002_a_allow_resets() {
        dev_setup();
        check_eq!(write(TEST, "devices.deny", "a * rwm"), Ok(7));
        check_eq!(open_close("/dev/null", O_RDWR), Err(EPERM));
        check_eq!(write(TEST, "devices.allow", "a * r"), Ok(5));
        check_eq!(open_close("/dev/null", O_RDWR | O_CREAT), Ok(0));
        teardown();
    }

    // LiteOS-A: It_process_plimits_devices_003
    fn devices_003_a_allow_w() {
        dev_setup();
        check_eq!(write(TEST, "devices.deny", "a"), Ok(1));
        check_eq!(write(TEST, "devices.allow", "a * w"), Ok(5));
        check_eq!(open_close("/dev/null", O_RDWR | O_CREAT), Ok(0));
        teardown();
    }

    // LiteOS-A: It_process_plimits_devices_004
    fn devices_004_a_allow_m() {
        dev_setup();
        check_eq!(write(TEST, "devices.deny", "a"), Ok(1));
        check_eq!(write(TEST, "devices.allow", "a * m"), Ok(5));
        check_eq!(open_close("/dev/null", O_RDONLY | O_CREAT), Ok(0));
        teardown();
    }

    // LiteOS-A: It_process_plimits_devices_005, It_process_plimits_devices_006,
    // It_process_plimits_devices_007, It_process_plimits_devices_008
    /// Deny all, then allow char devices with some access: opens asking for no more work.
    fn devices_005_008_char_rules() {
        for (rule, flags) in [
            ("c * rwm", O_RDWR | O_CREAT),
            ("c * r", O_RDONLY),
            ("c * w", O_WRONLY),
            ("c * rm", O_RDONLY | O_CREAT),
        ] {
            dev_setup();
            check_eq!(write(TEST, "devices.deny", "a"), Ok(1));
            check_eq!(write(TEST, "devices.allow", rule), Ok(rule.len()));
            check_eq!(open_close("/dev/zero", flags), Ok(0), "{}", rule);
            check_eq!(read(TEST, "devices.list"), format!("{rule}\n"));
            teardown();
        }
    }

    // LiteOS-A: It_process_plimits_devices_009
    /// deny "a": every device open fails (EPERM).
    fn devices_009_deny_all() {
        dev_setup();
        check_eq!(write(TEST, "devices.deny", "a"), Ok(1));
        check_eq!(read(TEST, "devices.list"), "");
        check_eq!(open_close("/dev/null", O_RDONLY | O_CREAT), Err(EPERM));
        check_eq!(open_close("/dev/null", O_WRONLY | O_CREAT), Err(EPERM));
        teardown();
        check_eq!(open_close("/dev/null", O_RDWR), Ok(0), "outside the group");
    }

    /// Named rules: in deny mode only the allowed device and access open; in allow mode a
    /// deny item takes away what it names; bad rules and root writes fail.
    fn devices_named_rules_and_errors() {
        dev_setup();
        check_eq!(write(TEST, "devices.deny", "a"), Ok(1));
        check_eq!(write(TEST, "devices.allow", "c /dev/null r"), Ok(13));
        check_eq!(open_close("/dev/null", O_RDONLY), Ok(0));
        check_eq!(open_close("/dev/null", O_WRONLY), Err(EPERM));
        check_eq!(open_close("/dev/zero", O_RDONLY), Err(EPERM));
        check_eq!(read(TEST, "devices.list"), "c /dev/null r\n");
        check_eq!(write(TEST, "devices.allow", "a"), Ok(1));
        check_eq!(write(TEST, "devices.deny", "c /dev/zero w"), Ok(13));
        check_eq!(open_close("/dev/zero", O_RDONLY), Ok(0));
        check_eq!(open_close("/dev/zero", O_RDWR), Err(EPERM));
        check_eq!(open_close("/dev/null", O_RDWR), Ok(0));
        for bad in ["x * r", "c * q", "c", "c * rwmr", "c *"] {
            check_eq!(write(TEST, "devices.allow", bad), Err(EINVAL), "{}", bad);
        }
        check_eq!(write(ROOT, "devices.deny", "a"), Err(EPERM));
        teardown();
    }

    // ---------------------------------------------------------------------------------------
    // ipc

    // LiteOS-A: It_process_plimits_ipc_002
    /// The root's ipc files: not writable-and-executable, present and readable.
    fn ipc_002_root_access() {
        for f in ["ipc.mq_limit", "ipc.shm_limit", "ipc.stat"] {
            check!(access(&file(ROOT, f), W_OK | X_OK).is_err(), "{f}");
            check_eq!(access(&file(ROOT, f), F_OK | R_OK), Ok(0), "{}", f);
        }
        check_eq!(read(ROOT, "ipc.mq_limit"), "1024\n");
    }

    // LiteOS-A: It_process_plimits_ipc_003
    /// A child's limits are read-write; ipc.stat readable, not executable-and-writable.
    fn ipc_003_child_access() {
        setup();
        for f in ["ipc.mq_limit", "ipc.shm_limit"] {
            check_eq!(access(&file(TEST, f), F_OK | W_OK | R_OK), Ok(0), "{}", f);
        }
        check_eq!(access(&file(TEST, "ipc.stat"), R_OK), Ok(0));
        check!(access(&file(TEST, "ipc.stat"), W_OK | X_OK).is_err());
        let stat = read(TEST, "ipc.stat");
        check_eq!(
            stat,
            "mq count: 0\nmq failed count: 0\nshm size: 0\nshm failed count: 0\n"
        );
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_004
    /// chmod of the root's and a child's ipc files fails.
    fn ipc_004_no_chmod() {
        setup();
        for g in [ROOT, TEST] {
            for f in ["ipc.mq_limit", "ipc.shm_limit", "ipc.stat"] {
                check!(ulib::cred::chmod(&file(g, f), 0o777).is_err(), "{g}/{f}");
            }
        }
        teardown();
    }

    fn mq_name(i: usize) -> String {
        format!("/plimits_mq_{i}")
    }

    /// Opens `n` new queues (maxmsg 1, msgsize 50); returns their fds.
    fn open_queues(n: usize, attr: &mq::MqAttr) -> Vec<i32> {
        let mut fds = Vec::new();
        for i in 0..n {
            let _ = mq::unlink(&mq_name(i));
            let r = mq::open(&mq_name(i), O_RDWR | O_CREAT | O_EXCL, 0o600, Some(attr));
            check!(r.is_ok(), "queue {}: {:?}", i, r);
            fds.extend(r.ok());
        }
        fds
    }

    fn close_queues(fds: Vec<i32>) {
        for (i, fd) in fds.into_iter().enumerate() {
            let _ = close(fd);
            let _ = mq::unlink(&mq_name(i));
        }
    }

    // LiteOS-A: It_process_plimits_ipc_005
    /// A child's ipc.mq_limit reads "1024\n"; 255 queues open.
    fn ipc_005_default_mq_limit() {
        setup();
        check_eq!(read(TEST, "ipc.mq_limit"), "1024\n");
        let fds = open_queues(255, &mq::MqAttr::new(1, 50));
        check_eq!(fds.len(), 255);
        check!(read(TEST, "ipc.stat").starts_with("mq count: 255\n"));
        close_queues(fds);
        check!(read(TEST, "ipc.stat").starts_with("mq count: 0\n"));
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_006
    /// mq_limit 10: 10 queues open, the 11th fails (Bulkhead: ENOSPC); ipc.stat counts both.
    fn ipc_006_mq_limit() {
        setup();
        check_eq!(write(TEST, "ipc.mq_limit", "10"), Ok(2));
        let attr = mq::MqAttr::new(1, 50);
        let fds = open_queues(10, &attr);
        let _ = mq::unlink(&mq_name(10));
        check_eq!(
            mq::open(&mq_name(10), O_RDWR | O_CREAT, 0o600, Some(&attr)),
            Err(ENOSPC)
        );
        let stat = read(TEST, "ipc.stat");
        check!(stat.contains("mq count: 10\n"), "{stat:?}");
        check!(stat.contains("mq failed count: 1\n"), "{stat:?}");
        check_eq!(
            write(TEST, "ipc.mq_limit", "9"),
            Err(EINVAL),
            "below the count"
        );
        close_queues(fds);
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_007 / It_process_plimits_ipc_011
    /// "0123" is a number.
    fn ipc_007_011_leading_zero() {
        setup();
        check_eq!(write(TEST, "ipc.mq_limit", "0123"), Ok(4));
        check_eq!(read(TEST, "ipc.mq_limit"), "123\n");
        check_eq!(write(TEST, "ipc.shm_limit", "0123"), Ok(4));
        check_eq!(read(TEST, "ipc.shm_limit"), "123\n");
        teardown();
    }

    const BAD_NUMBERS: [&str; 6] = [
        "111*",
        "123abc",
        "\"123    456\"",
        "\\123",
        "12345678901234567890123456789012345",
        "\x01\x02\x03",
    ];

    // LiteOS-A: It_process_plimits_ipc_008 / It_process_plimits_ipc_012
    /// Text that is not all digits, and a 35-digit number, are refused (EINVAL).
    fn ipc_008_012_bad_numbers() {
        setup();
        for f in ["ipc.mq_limit", "ipc.shm_limit"] {
            for bad in BAD_NUMBERS {
                check_eq!(write(TEST, f, bad), Err(EINVAL), "{} {:?}", f, bad);
            }
        }
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_009
    /// A child's ipc.shm_limit reads "4294967295\n"; a one-page segment is made, attached,
    /// detached and removed, and ipc.stat shows its size while it exists.
    fn ipc_009_default_shm_limit() {
        setup();
        check_eq!(read(TEST, "ipc.shm_limit"), "4294967295\n");
        let id = check_ok!(sysv::shmget(
            sysv::IPC_PRIVATE,
            4096,
            sysv::IPC_CREAT | 0o600
        ));
        check!(read(TEST, "ipc.stat").contains("shm size: 4096\n"));
        let a = check_ok!(sysv::shmat(id, 0));
        // SAFETY: the segment is no longer used.
        check_eq!(unsafe { sysv::shmdt(a) }, Ok(0));
        check_eq!(sysv::shm_rmid(id), Ok(0));
        check!(read(TEST, "ipc.stat").contains("shm size: 0\n"));
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_010
    /// shm_limit 40960: a 9-page segment fits, 2 more pages do not (LiteOS-A's `>=`:
    /// 36864 + 8192 reaches the limit; ENOMEM); ipc.stat says "shm size: 36864" and
    /// "shm failed count: 1".
    fn ipc_010_shm_limit() {
        setup();
        check_eq!(write(TEST, "ipc.shm_limit", "40960"), Ok(5));
        let id = check_ok!(sysv::shmget(
            sysv::IPC_PRIVATE,
            9 * 4096,
            sysv::IPC_CREAT | 0o600
        ));
        check_eq!(
            sysv::shmget(sysv::IPC_PRIVATE, 2 * 4096, sysv::IPC_CREAT | 0o600),
            Err(ENOMEM)
        );
        let stat = read(TEST, "ipc.stat");
        check!(stat.contains("shm size: 36864\n"), "{stat:?}");
        check!(stat.contains("shm failed count: 1\n"), "{stat:?}");
        check_eq!(
            write(TEST, "ipc.shm_limit", "4096"),
            Err(EINVAL),
            "below the size"
        );
        check_eq!(sysv::shm_rmid(id), Ok(0));
        teardown();
    }

    // LiteOS-A: It_process_plimits_ipc_013
    /// mq_limit 11: 10 queues open; an 11th with mq_msgsize 102500 fails in LiteOS-A (its
    /// message size maximum). Bulkhead follows Linux, where a privileged caller may ask for up
    /// to 16 MiB: the 11th opens, and the 12th fails at the limit (ENOSPC); cleanup works.
    fn ipc_013_bad_attr_at_limit() {
        setup();
        check_eq!(write(TEST, "ipc.mq_limit", "11"), Ok(2));
        let mut fds = open_queues(10, &mq::MqAttr::new(1, 50));
        let big = mq::MqAttr::new(1, 102500);
        let _ = mq::unlink(&mq_name(10));
        let r = mq::open(&mq_name(10), O_RDWR | O_CREAT, 0o600, Some(&big));
        check!(r.is_ok(), "{:?}", r);
        fds.extend(r.ok());
        let _ = mq::unlink(&mq_name(11));
        check_eq!(
            mq::open(&mq_name(11), O_RDWR | O_CREAT, 0o600, Some(&big)),
            Err(ENOSPC)
        );
        close_queues(fds);
        check!(read(TEST, "ipc.stat").starts_with(
            "mq count: 0
"
        ));
        teardown();
    }

    // ---------------------------------------------------------------------------------------
    // Bad writes

    /// Each limit's range rule with its errno, and the root refusing every limit.
    fn bad_values_and_errnos() {
        for f in [
            "pids.max",
            "pids.priority",
            "memory.limit",
            "ipc.mq_limit",
            "ipc.shm_limit",
            "sched.quota",
        ] {
            check_eq!(write(ROOT, f, "10"), Err(EPERM), "root {}", f);
        }
        check_eq!(write(ROOT, "memory.usage", "1"), Err(EACCES));
        setup();
        check_eq!(write(TEST, "pids.max", "32769"), Err(EINVAL));
        check_eq!(
            write(TEST, "pids.max", "1"),
            Err(EPERM),
            "not above the count"
        );
        check_eq!(write(TEST, "pids.max", "32768"), Ok(5));
        check_eq!(write(TEST, "pids.max", "12\n"), Err(EINVAL), "digits only");
        check_eq!(write(TEST, "pids.priority", "-21"), Err(EINVAL));
        check_eq!(write(TEST, "pids.priority", "20"), Err(EINVAL));
        check_eq!(write(TEST, "pids.priority", "-20"), Ok(3));
        check_eq!(write(TEST, "memory.limit", "0"), Err(EINVAL));
        check_eq!(
            write(TEST, "memory.limit", "4096"),
            Err(EINVAL),
            "below the usage"
        );
        check_eq!(write(TEST, "ipc.mq_limit", "0"), Err(EINVAL));
        check_eq!(write(TEST, "ipc.mq_limit", "1025"), Err(EINVAL));
        check_eq!(write(TEST, "ipc.shm_limit", "0"), Err(EINVAL));
        check_eq!(write(TEST, "ipc.shm_limit", "4294967296"), Err(EINVAL));
        check_eq!(write(TEST, "memory.stat", "1"), Err(EACCES));
        check_eq!(mkdir(TEST), Err(EEXIST));
        check_eq!(mkdir("/proc/plimits/pids.max"), Err(EEXIST));
        teardown();
        check_eq!(rmdir(TEST), Err(ENOENT));
    }

    // ---------------------------------------------------------------------------------------

    /// Only the root group remains: /proc/plimits holds its files and no directory.
    fn only_the_root_group_remains() {
        let mut names = check_ok!(list_dir(ROOT));
        let mut want: Vec<String> = FILES.iter().map(|f| String::from(*f)).collect();
        names.sort();
        want.sort();
        check_eq!(names, want);
        check!(procs(&read(ROOT, "plimits.procs")).contains(&my_pid()));
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            plimits_001_mkdir_rmdir,
            plimits_002_root_stays,
            plimits_003_no_files_in_proc,
            plimits_004_limiters,
            plimits_005_no_new_files,
            plimits_006_files_cannot_be_removed,
            plimits_007_one_level,
            plimits_008_root_modes,
            child_modes,
            pid_001_fork_limit,
            pid_002_own_pid_then_forks,
            pid_003_priority_floor,
            pid_004_006_default_max,
            pid_005_procs_rules,
            procs_moves_between_groups,
            fork_bomb_is_contained,
            memory_001_over_limit_is_killed,
            memory_002_small_use_is_fine,
            memory_hog_killed_and_usage_back_to_zero,
            memory_counts_stacks_tables_and_segments,
            meminfo_shows_the_group_limit,
            stat_and_cpuinfo_follow_the_sched_quota,
            sched_values,
            sched_001_quota_20_percent,
            sched_002_quota_60_percent,
            sched_003_004_full_quota,
            devices_001_default_allow,
            devices_002_a_allow_resets,
            devices_003_a_allow_w,
            devices_004_a_allow_m,
            devices_005_008_char_rules,
            devices_009_deny_all,
            devices_named_rules_and_errors,
            ipc_002_root_access,
            ipc_003_child_access,
            ipc_004_no_chmod,
            ipc_005_default_mq_limit,
            ipc_006_mq_limit,
            ipc_007_011_leading_zero,
            ipc_008_012_bad_numbers,
            ipc_009_default_shm_limit,
            ipc_010_shm_limit,
            ipc_013_bad_attr_at_limit,
            bad_values_and_errnos,
            only_the_root_group_remains,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
