//! PID containers: every LiteOS-A PID case of §10.1 (It_pid_container_001–033), ported as
//! containers.md's porting table says (`__WALL` for children cloned without SIGCHLD; pid_010's
//! init calls setsid() first; pid_012: the parent container sends SIGKILL; pid_014: default
//! policy SCHED_OTHER; pid_008: one CPU; pid_011 and 015–019: reads of /proc/[pid]/stat, status
//! and maps instead of `ps`/shell tools; over-limit and depth errno ENOSPC), plus the
//! Linux-side cases of issue 4: getppid 0 for a container init, an invisible parent, orphans
//! re-parented to the container init, the init protected from inside and killable from
//! outside, its death killing the members and freeing the container, fork into a dead
//! container (ENOMEM), numbers in every ancestor, pid_for_children after unshare (Linux's rule:
//! later children keep their real parent), invalid flag combinations, setns into a
//! non-descendant container refused. Ends by checking that no container leaked.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`,
//! `/proc/sys/user/max_*_container`, and the boot `/proc` showing the reader's view from inside
//! a container (containers.md: "a container init reading the boot /proc sees its own view").
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use ulib::container::*;
    use ulib::rt::set_handler;
    use ulib::sched::{self, SCHED_FIFO, SCHED_OTHER, setaffinity};
    use ulib::sys::{errno::*, *};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ne, check_ok, thread};

    const PRIO_PROCESS: usize = 0;
    const P_PID: usize = 1;
    const WEXITED: usize = 4;
    const CLD_EXITED: i32 = 1;
    const CLD_KILLED: i32 = 2;

    fn s(pid: i32) -> String {
        format!("{}", pid)
    }

    /// The number of the caller's PID container (from /proc/self/ns/pid).
    fn own_pid_number() -> u64 {
        ns_number("self", "pid").unwrap_or(0)
    }

    /// The pids (in the caller's view) whose PID container is number `n`.
    fn pids_in_container(n: u64) -> Vec<i32> {
        list_pids()
            .unwrap_or_default()
            .into_iter()
            .filter(|&p| ns_number(&s(p), "pid") == Ok(n))
            .collect()
    }

    fn raw(nr: usize, a: usize, b: usize, c: usize) -> SysResult {
        // SAFETY: callers pass pointers to live locals of the right size, or none.
        check(unsafe { syscall3(nr, a, b, c) })
    }

    fn getpriority(who: i32) -> SysResult {
        raw(cnr::GETPRIORITY, PRIO_PROCESS, who as usize, 0)
    }

    fn setpriority(who: i32, nice: i32) -> SysResult {
        raw(
            cnr::SETPRIORITY,
            PRIO_PROCESS,
            who as usize,
            nice as isize as usize,
        )
    }

    fn getaffinity(pid: i32) -> SysResult<u64> {
        let mut mask = 0u64;
        raw(
            cnr::SCHED_GETAFFINITY,
            pid as usize,
            8,
            &mut mask as *mut u64 as usize,
        )?;
        Ok(mask)
    }

    /// The clock id `clock_getcpuclockid(pid)` builds (musl: `(-pid-1)*8 + 2`, CPUCLOCK_SCHED).
    fn cpu_clock_id(pid: i32) -> usize {
        ((-pid - 1) * 8 + 2) as isize as usize
    }

    fn clock_getres_raw(clk: usize) -> SysResult {
        let mut ts = Timespec::default();
        raw(cnr::CLOCK_GETRES, clk, &mut ts as *mut Timespec as usize, 0)
    }

    fn clock_gettime_raw(clk: usize) -> SysResult<Timespec> {
        let mut ts = Timespec::default();
        raw(nr::CLOCK_GETTIME, clk, &mut ts as *mut Timespec as usize, 0)?;
        Ok(ts)
    }

    /// `waitid(P_PID, pid, &info, WEXITED)`: `(ret, si_code, si_pid, si_status)`.
    fn waitid_pid(pid: i32) -> (SysResult, i32, i32, i32) {
        let mut info = [0i32; 32];
        // SAFETY: `info` is a 128-byte siginfo_t buffer.
        let r = check(unsafe {
            syscall5(
                cnr::WAITID,
                P_PID,
                pid as usize,
                info.as_mut_ptr() as usize,
                WEXITED | WALL,
                0,
            )
        });
        (r, info[2], info[4], info[6])
    }

    /// Forks (retrying EAGAIN a while); `None` when it keeps failing.
    fn fork_retry() -> Option<i32> {
        for _ in 0..100 {
            match fork() {
                Ok(p) => return Some(p),
                Err(EAGAIN) => {
                    let _ = sleep_ms(10);
                }
                Err(_) => return None,
            }
        }
        None
    }

    // LiteOS-A: It_pid_container_001 (full)
    /// A NEWPID child (no SIGCHLD) returns getpid(): exit status 1.
    fn pid_001_child_is_pid_1() {
        let pid = check_ok!(clone_code(CLONE_NEWPID, getpid));
        check!(pid > 1);
        check_eq!(wait_exit(pid), Exit::Code(1));
    }

    // LiteOS-A: It_pid_container_002 (full)
    /// Nested: level-1 init A (pid 1) clones NEWPID B (level 2, pid link differs); B (pid 1)
    /// forks C (getppid 1, pid 2); C's child has pid 3. Exit codes 3, 2, 1 propagate.
    fn pid_002_nested_statuses() {
        let a = check_ok!(clone_code(CLONE_NEWPID | SIGCHLD_EXIT, || {
            if getpid() != 1 {
                return 10;
            }
            let link_a = own_container("pid");
            let b = clone_code(CLONE_NEWPID | SIGCHLD_EXIT, move || {
                if getpid() != 1 || getppid() != 0 {
                    return 20;
                }
                if own_container("pid") == link_a {
                    return 21;
                }
                let c = clone_code(SIGCHLD_EXIT, || {
                    if getppid() != 1 || getpid() != 2 {
                        return 30;
                    }
                    let d = clone_code(SIGCHLD_EXIT, getpid);
                    match d.map(wait_exit) {
                        Ok(Exit::Code(3)) => getpid(),
                        _ => 31,
                    }
                });
                match c.map(wait_exit) {
                    Ok(Exit::Code(2)) => getpid(),
                    Ok(Exit::Code(n)) => n,
                    _ => 22,
                }
            });
            match b.map(wait_exit) {
                Ok(Exit::Code(1)) => getpid(),
                Ok(Exit::Code(n)) => n,
                _ => 11,
            }
        }));
        check_eq!(wait_exit(a), Exit::Code(1));
    }

    // LiteOS-A: It_pid_container_003 (full)
    /// The init of a new container makes 100 children (waiting one when a fork fails), all
    /// alive at once (Bulkhead has no 64-process cap), numbered 2..=101; reaps all; exits 1.
    fn pid_003_hundred_children() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let mut pids = Vec::new();
            let mut reaped = 0;
            while pids.len() < 100 {
                match fork() {
                    Ok(0) => {
                        let _ = close(w);
                        wait_go(r);
                        exit(0)
                    }
                    Ok(p) => pids.push(p),
                    Err(e) => {
                        check!(false, "fork {} failed: {}", pids.len(), e);
                        if wait_all(-1).is_err() {
                            break;
                        }
                        reaped += 1;
                    }
                }
            }
            let _ = close(r);
            let _ = close(w);
            let want: Vec<i32> = (2..=101).collect();
            check_eq!(pids, want);
            while wait_all(-1).is_ok() {
                reaped += 1;
            }
            check_eq!(reaped, 100);
            exit(if ulib::test::case_failed() { 2 } else { 1 })
        }));
        check_eq!(wait_exit(a), Exit::Code(1));
    }

    // LiteOS-A: It_pid_container_004 (full)
    /// Depth: a level-1 init clones NEWPID (level 2) fine; at level 2, clone(CLONE_NEWPID) and
    /// unshare(CLONE_NEWPID) fail with ENOSPC (LiteOS-A: -1) and change nothing.
    fn pid_004_depth_limit() {
        let count = read_limit("pid").map(|(_, c)| c);
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let b = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
                check_eq!(getpid(), 1);
                let link = own_container("pid_for_children");
                let before = read_limit("pid").map(|(_, c)| c);
                check_eq!(clone(CLONE_NEWPID | SIGCHLD_EXIT), Err(ENOSPC));
                check_eq!(unshare(CLONE_NEWPID), Err(ENOSPC));
                check_eq!(own_container("pid_for_children"), link);
                check_eq!(read_limit("pid").map(|(_, c)| c), before);
                // Plain children at level 2 still work.
                let c = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
                check_eq!(wait_exit(c), Exit::Code(2));
            }));
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
        if let Ok(count) = count {
            check_eq!(wait_count("pid", count), count);
        }
    }

    // LiteOS-A: It_pid_container_005 (full)
    /// After unshare(CLONE_NEWPID), clone(CLONE_NEWUTS|SIGCHLD) gives a child with pid 1; its
    /// child gets pid 2.
    fn pid_005_unshare_then_clone_newuts() {
        let f = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            let c = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
                check_eq!(getpid(), 1);
                let g = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
                check_eq!(wait_exit(g), Exit::Code(2));
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
        }));
        check_eq!(wait_exit(f), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_006 (full)
    /// The init forks a child (pid 2, exits 2) and reaps it; the next fork's child is pid 3
    /// (cyclic allocation).
    fn pid_006_cyclic_allocation() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let c = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
            check_eq!(c, 2);
            check_eq!(wait_exit(c), Exit::Code(2));
            let c = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
            check_eq!(c, 3);
            check_eq!(wait_exit(c), Exit::Code(3));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_007 (full)
    /// The init is pid 1, its fork() child pid 2; the init exits 5.
    fn pid_007_init_and_first_fork() {
        let a = check_ok!(clone_code(CLONE_NEWPID | SIGCHLD_EXIT, || {
            if getpid() != 1 {
                return 1;
            }
            match fork() {
                Ok(0) => exit(if getpid() == 2 && getppid() == 1 {
                    0
                } else {
                    1
                }),
                Ok(2) => {}
                _ => return 2,
            }
            match wait_exit(2) {
                Exit::Code(0) => 5,
                _ => 3,
            }
        }));
        check_eq!(wait_exit(a), Exit::Code(5));
    }

    // LiteOS-A: It_pid_container_008 (full)
    /// sched_setaffinity/getaffinity on getpid() (1). Ported to one CPU: pinning CPU0 works
    /// and reads back; a mask of only CPU1 gives EINVAL.
    fn pid_008_affinity() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            check_eq!(getpid(), 1);
            check_eq!(setaffinity(getpid(), 1), Ok(0));
            check_eq!(getaffinity(getpid()).map(|m| m & 1), Ok(1));
            if ulib::test::on_bulkhead() {
                check_eq!(getaffinity(getpid()), Ok(1));
                check_eq!(setaffinity(getpid(), 2), Err(EINVAL));
            }
            check_eq!(setaffinity(2, 1), Err(ESRCH));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_009 (full)
    /// The init forks 100 children that sleep 2 s (retrying EAGAIN) and reaps them all; exits
    /// 255.
    fn pid_009_hundred_sleepers() {
        let a = check_ok!(clone_code(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let mut made = 0;
            for _ in 0..100 {
                match fork_retry() {
                    Some(0) => {
                        let _ = sleep_ms(2000);
                        exit(0)
                    }
                    Some(_) => made += 1,
                    None => break,
                }
            }
            let mut ok = 0;
            while let Ok((_, st)) = wait_all(-1) {
                if Exit::from_status(st) == Exit::Code(0) {
                    ok += 1;
                }
            }
            if made == 100 && ok == 100 { 255 } else { 1 }
        }));
        check_eq!(wait_exit(a), Exit::Code(255));
    }

    // LiteOS-A: It_pid_container_010 (full)
    /// Ported: the init calls setsid() first (it returns 1); then getpgrp()==1 and
    /// setpgid(getpid(), 0) fails (EPERM: a session leader).
    fn pid_010_process_group() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            check_eq!(setsid(), Ok(1));
            check_eq!(getpgrp(), 1);
            check_eq!(setpgid(getpid(), 0), Err(EPERM));
            // A child of the init is in group 1 too.
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(getpgrp(), 1);
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_011 (full)
    /// Ported from `toybox ps` in the init: the init's /proc listing shows only its container
    /// (1 and its child 2), /proc/1/stat says pid 1, ppid 0; /proc/2/stat pid 2, ppid 1; both
    /// name the program. Bulkhead only (reader's view of the boot /proc).
    fn pid_011_ps_reads_proc() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let _ = close(w);
                wait_go(r);
            }));
            let _ = close(r);
            check_eq!(c, 2);
            check_eq!(list_pids(), Ok(alloc::vec![1, 2]));
            check_eq!(readlink_text("/proc/self"), Ok(String::from("1")));
            let me = proc_stat("1");
            check!(me.is_ok(), "{:?}", me);
            if let Ok((pid, comm, rest)) = me {
                check_eq!(pid, 1);
                check_eq!(comm, "t_pid");
                check_eq!(rest[1], "0", "ppid of the init");
            }
            let child = proc_stat("2");
            check!(child.is_ok(), "{:?}", child);
            if let Ok((pid, comm, rest)) = child {
                check_eq!(pid, 2);
                check_eq!(comm, "t_pid");
                check_eq!(rest[1], "1");
                check!(rest[0] == "S" || rest[0] == "R", "state {}", rest[0]);
            }
            go(w);
            let _ = close(w);
            check_eq!(wait_exit(c), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_012 (full)
    /// Ported: the parent container sends SIGKILL to the init (LiteOS-A: `kill -9 1` from
    /// inside); the parent sees WIFSIGNALED with SIGKILL, the init's child dies too (its pipe
    /// end closes), and the container is freed.
    fn pid_012_parent_kills_init() {
        let count = read_limit("pid").map(|(_, c)| c);
        let [r, w] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            if clone(SIGCHLD_EXIT) == Ok(0) {
                sleep_forever();
            }
            let _ = close(w);
            sleep_forever()
        }));
        let _ = close(w);
        let _ = sleep_ms(50);
        check_ok!(kill(a, SIGKILL));
        check_eq!(wait_exit(a), Exit::Signal(SIGKILL));
        let mut b = [0u8; 1];
        check_eq!(
            read(r, &mut b),
            Ok(0),
            "the init's child still holds the pipe"
        );
        let _ = close(r);
        if let Ok(count) = count {
            check_eq!(wait_count("pid", count), count);
        }
    }

    // LiteOS-A: It_pid_container_013 (full)
    /// sched_rr_get_interval(1) in the container returns 0 with tv_nsec in [5e6, 2e7] (or
    /// fails, as LiteOS-A allows).
    fn pid_013_rr_interval() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let mut ts = Timespec::default();
            let r = raw(
                cnr::SCHED_RR_GET_INTERVAL,
                1,
                &mut ts as *mut Timespec as usize,
                0,
            );
            if r.is_ok() {
                check_eq!(r, Ok(0));
                check_eq!(ts.tv_sec, 0);
                check!(
                    (5_000_000..=20_000_000).contains(&ts.tv_nsec),
                    "tv_nsec {}",
                    ts.tv_nsec
                );
            }
            let r2 = raw(
                cnr::SCHED_RR_GET_INTERVAL,
                2,
                &mut ts as *mut Timespec as usize,
                0,
            );
            check_eq!(r2, Err(ESRCH));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_014 (full)
    /// Scheduling calls by pid inside a container. Ported: the default policy is SCHED_OTHER
    /// (LiteOS-A: SCHED_RR); SCHED_FIFO with priority 0 gives EINVAL; pid 2 does not exist in
    /// the container (ESRCH); the same calls on pid 1 (the caller) work.
    fn pid_014_sched_by_pid() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let prio = check_ok!(getpriority(0));
            check_eq!(getpriority(1), Ok(prio));
            check_eq!(sched::getscheduler(0), Ok(SCHED_OTHER));
            check_eq!(sched::getscheduler(1), Ok(SCHED_OTHER));
            check_eq!(sched::getparam(0), Ok(0));
            check_eq!(sched::getparam(1), Ok(0));
            let nice = 20 - prio as i32;
            check_eq!(setpriority(0, nice + 1), Ok(0));
            check_eq!(getpriority(0), Ok(prio - 1));
            check_eq!(sched::setparam(0, 0), Ok(0));
            check_eq!(sched::setscheduler(0, SCHED_FIFO, 0), Err(EINVAL));
            check_eq!(sched::setscheduler(1, SCHED_FIFO, 0), Err(EINVAL));
            check_eq!(sched::setscheduler(2, SCHED_OTHER, 0), Err(ESRCH));
            check_eq!(sched::setparam(2, 0), Err(ESRCH));
            check_eq!(setpriority(2, nice + 1), Err(ESRCH));
            check_eq!(getpriority(2), Err(ESRCH));
            check_eq!(sched::getscheduler(2), Err(ESRCH));
            check_eq!(sched::getparam(2), Err(ESRCH));
            check_eq!(sched::setscheduler(1, SCHED_OTHER, 0), Ok(0));
            check_eq!(sched::setparam(1, 0), Ok(0));
            check_eq!(setpriority(1, nice + 2), Ok(0));
            check_eq!(getpriority(1), Ok(prio - 2));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    static MARKER: AtomicUsize = AtomicUsize::new(0x0100_0000);

    /// Parses a maps line: `(start, end, perms, name)`.
    fn parse_maps_line(l: &str) -> Option<(usize, usize, String, String)> {
        let mut it = l.split_ascii_whitespace();
        let range = it.next()?;
        let perms = String::from(it.next()?);
        let _off = usize::from_str_radix(it.next()?, 16).ok()?;
        let _dev = it.next()?;
        let _ino = it.next()?.parse::<u64>().ok()?;
        let name = String::from(it.next().unwrap_or(""));
        let (a, b) = range.split_once('-')?;
        let a = usize::from_str_radix(a, 16).ok()?;
        let b = usize::from_str_radix(b, 16).ok()?;
        (perms.len() == 4 && a < b).then_some((a, b, perms, name))
    }

    /// The parsed lines of /proc/<pid>/maps (`None` if any line does not parse).
    fn maps_of(pid: &str) -> Option<Vec<(usize, usize, String, String)>> {
        let text = read_text(&format!("/proc/{}/maps", pid)).ok()?;
        text.lines().map(parse_maps_line).collect()
    }

    // LiteOS-A: It_pid_container_015 (full)
    /// Ported from `shell v2p 1 0x1000000`: the init's /proc/1/maps parses and maps the
    /// address of a static of the program (read-write) and of its code (executable).
    fn pid_015_v2p_via_maps() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let maps = maps_of("1");
            check!(maps.as_ref().is_some_and(|m| !m.is_empty()), "{:?}", maps);
            let maps = maps.unwrap_or_default();
            let data = &MARKER as *const AtomicUsize as usize;
            let code = pid_015_v2p_via_maps as *const () as usize;
            let covering = |addr: usize| maps.iter().find(|m| m.0 <= addr && addr < m.1);
            let d = covering(data);
            check!(
                d.is_some_and(|m| m.2.starts_with("rw")),
                "data {:#x}: {:?}",
                data,
                d
            );
            let c = covering(code);
            check!(
                c.is_some_and(|m| m.2.contains('x')),
                "code {:#x}: {:?}",
                code,
                c
            );
            check_eq!(MARKER.load(Ordering::Relaxed), 0x0100_0000);
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_016 (full)
    /// Ported from `shell vmm 1`: /proc/1/maps lists regions in ascending order without
    /// overlap, including a `[stack]` region holding a local variable, and the same file read
    /// from outside (by the init's outer pid) has the same regions.
    fn pid_016_vmm_via_maps() {
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            let _ = close(r2);
            let local = 5u64;
            let maps = maps_of("1").unwrap_or_default();
            check!(!maps.is_empty());
            for pair in maps.windows(2) {
                check!(pair[0].1 <= pair[1].0, "overlap {:?}", pair);
            }
            let addr = core::hint::black_box(&local) as *const u64 as usize;
            let st = maps.iter().find(|m| m.0 <= addr && addr < m.1);
            check!(
                st.is_some_and(|m| m.3 == "[stack]"),
                "{:#x}: {:?}",
                addr,
                st
            );
            send(w2, maps.len() as i64);
            let _ = close(w2);
            wait_go(r);
        }));
        close_all(&[r, w2]);
        let inner_len = recv(r2);
        let _ = close(r2);
        let outer = maps_of(&s(a)).map(|m| m.len() as i64);
        check_eq!(outer, inner_len);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_017 (full)
    /// Ported from `shell cpup 0 1`: after burning CPU, /proc/1/stat of the init reports pid 1
    /// and utime+stime > 0 (clock ticks).
    fn pid_017_cpup_via_stat() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let start = clock_gettime_raw(2).map_or(0, |t| t.as_nanos());
            let mut x = 0u64;
            while clock_gettime_raw(2).map_or(u64::MAX, |t| t.as_nanos()) < start + 60_000_000 {
                x = core::hint::black_box(x.wrapping_add(1));
            }
            let st = proc_stat("1");
            check!(st.is_ok(), "{:?}", st);
            if let Ok((pid, _, rest)) = st {
                check_eq!(pid, 1);
                let ut = rest[11].parse::<u64>();
                let stime = rest[12].parse::<u64>();
                check!(ut.is_ok() && stime.is_ok(), "{:?}", rest);
                let total = ut.unwrap_or(0) + stime.unwrap_or(0);
                check!(total > 0, "utime+stime {}", total);
            }
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_018 (full)
    /// Ported from `task -a` inside and outside: the init forks 2 children (one forks a
    /// grandchild), then a third that lists /proc: exactly 1..=5. Outside, /proc shows the
    /// same 5 processes under outer numbers (their pid link is the container's).
    fn pid_018_task_all_via_proc() {
        let [r, w] = pipe_pair();
        let [rn, wn] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            let _ = close(rn);
            send(wn, own_pid_number() as i64);
            let [r2, w2] = pipe_pair();
            let c1 = clone_run(SIGCHLD_EXIT, || wait_go(r));
            let c2 = clone_run(SIGCHLD_EXIT, || {
                let _ = close(r2);
                let g = clone_run(SIGCHLD_EXIT, || wait_go(r));
                check_eq!(g, Ok(4));
                go(w2);
                if let Ok(g) = g {
                    check_eq!(wait_exit(g), Exit::Code(0));
                }
            });
            let _ = close(w2);
            wait_go(r2);
            let _ = close(r2);
            check_eq!(c1, Ok(2));
            check_eq!(c2, Ok(3));
            let c3 = clone_run(SIGCHLD_EXIT, || {
                check_eq!(getpid(), 5);
                check_eq!(list_pids(), Ok(alloc::vec![1, 2, 3, 4, 5]));
            });
            check_eq!(c3.map(wait_exit), Ok(Exit::Code(0)));
            send(wn, 1);
            let _ = close(wn);
            wait_go(r);
            for c in [c1, c2].into_iter().flatten() {
                check_eq!(wait_exit(c), Exit::Code(0));
            }
        }));
        close_all(&[r, wn]);
        let n = recv(rn).unwrap_or(0) as u64;
        let done = recv(rn);
        let _ = close(rn);
        check_eq!(done, Some(1));
        let outer = pids_in_container(n);
        // The init, c1, c2 and the grandchild (c3 has been reaped).
        check_eq!(outer.len(), 4, "{:?}", outer);
        check!(outer.contains(&a), "{:?} lacks the init {}", outer, a);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_019 (full)
    /// Ported from `task -p`: the init runs 5 more threads; its child reads /proc/1/stat
    /// (num_threads 6) and /proc/1/status (Threads: 6); outside, /proc/<outer>/stat says 6.
    fn pid_019_task_threads_via_proc() {
        let [r, w] = pipe_pair();
        let [rr, wr] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            let _ = close(rr);
            let [tr, tw] = pipe_pair();
            let mut threads = Vec::new();
            for _ in 0..5 {
                match thread::spawn(move || wait_go(tr)) {
                    Ok(t) => threads.push(t),
                    Err(e) => check!(false, "thread: {}", e),
                }
            }
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let st = proc_stat("1");
                check_eq!(st.map(|(_, _, f)| f[17].clone()), Ok(String::from("6")));
                check_eq!(status_field("1", "Threads"), Some(String::from("6")));
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
            go(wr);
            let _ = close(wr);
            wait_go(r);
            let _ = close(tw);
            for t in threads {
                t.join();
            }
            let _ = close(tr);
        }));
        close_all(&[r, wr]);
        wait_go(rr);
        let _ = close(rr);
        let st = proc_stat(&s(a));
        check_eq!(st.map(|(_, _, f)| f[17].clone()), Ok(String::from("6")));
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_020 (full)
    /// Orphans: the init forks P; P forks Q and R and exits; Q and R see getppid()==1 (the
    /// container's init); the init reaps P and then Q and R with wait(); exit 0.
    fn pid_020_orphans_go_to_container_init() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let p = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let me = getpid();
                for _ in 0..2 {
                    let q = clone_code(SIGCHLD_EXIT, move || {
                        for _ in 0..300 {
                            if getppid() != me {
                                break;
                            }
                            let _ = sleep_ms(10);
                        }
                        if getppid() == 1 { 0 } else { 40 + getppid() }
                    });
                    check!(q.is_ok());
                }
            }));
            check_eq!(wait_exit(p), Exit::Code(0));
            for _ in 0..2 {
                let r = wait_all(-1);
                check!(r.is_ok(), "{:?}", r);
                if let Ok((pid, st)) = r {
                    check!(pid == 3 || pid == 4, "reaped {}", pid);
                    check_eq!(Exit::from_status(st), Exit::Code(0));
                }
            }
            check_eq!(wait_all(-1), Err(ECHILD));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_021 (full)
    /// clock_getcpuclockid(2) in a container (no pid 2): the kernel's clock_getres of that CPU
    /// clock gives EINVAL (musl then reports ESRCH; LiteOS-A's libc EINVAL); for getpid() the
    /// clock works and clock_gettime succeeds.
    fn pid_021_cpu_clock_of_invisible_pid() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            check_eq!(clock_getres_raw(cpu_clock_id(2)), Err(EINVAL));
            check_eq!(clock_gettime_raw(cpu_clock_id(2)), Err(EINVAL));
            check_eq!(clock_getres_raw(cpu_clock_id(getpid())), Ok(0));
            check!(clock_gettime_raw(cpu_clock_id(getpid())).is_ok());
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_022 (full)
    /// The init does kill(getpid(), SIGKILL). Ported to Linux's rule (pid_namespaces(7),
    /// containers.md: SIGKILL reaches a container init only from an ancestor container): the
    /// call returns 0 and the init lives on; the parent container then kills it and
    /// waitid(P_PID, WEXITED) returns 0 with CLD_KILLED/SIGKILL. (LiteOS-A's `ohos_capget`
    /// comes with the credentials issue.)
    fn pid_022_init_kills_itself() {
        let [r, w] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            check_eq!(kill(getpid(), SIGKILL), Ok(0));
            check_eq!(kill(1, SIGKILL), Ok(0));
            let _ = sleep_ms(20);
            send(w, 1);
            sleep_forever()
        }));
        let _ = close(w);
        check_eq!(recv(r), Some(1), "the init did not survive its own SIGKILL");
        let _ = close(r);
        check_ok!(kill(a, SIGKILL));
        let (ret, code, pid, status) = waitid_pid(a);
        check_eq!(ret, Ok(0));
        check_eq!(code, CLD_KILLED);
        check_eq!(pid, a);
        check_eq!(status, SIGKILL);
    }

    // LiteOS-A: It_pid_container_023
    /// `clone(CLONE_NEWPID)` without SIGCHLD: the child has getpid()==1 and getppid()==0;
    /// waitpid with __WALL reaps it (exit 0).
    fn pid_023_init_pid_and_ppid() {
        let a = check_ok!(clone_run(CLONE_NEWPID, || {
            check_eq!(getpid(), 1);
            check_eq!(getppid(), 0);
        }));
        let (got, st) = check_ok!(wait_all(a));
        check_eq!(got, a);
        check_eq!(Exit::from_status(st), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_024 (full)
    /// A process in a new PID container does 100 × clone(CLONE_NEWPID) (child exits 5), 10 ms
    /// apart, reaping each: the containers are freed (the count stays put).
    fn pid_024_hundred_nested_containers() {
        let count = read_limit("pid").map(|(_, c)| c);
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let mine = read_limit("pid").map(|(_, c)| c);
            for i in 0..100 {
                let c = clone_code(CLONE_NEWPID, || 5);
                check!(c.is_ok(), "clone {}: {:?}", i, c);
                let Ok(c) = c else { return };
                check_eq!(wait_exit(c), Exit::Code(5));
                let _ = sleep_ms(10);
            }
            if let Ok(mine) = mine {
                check_eq!(wait_count("pid", mine), mine);
            }
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
        if let Ok(count) = count {
            check_eq!(wait_count("pid", count), count);
        }
    }

    // LiteOS-A: It_pid_container_025
    /// The own pid link equals the pid_for_children link; after a NEWPID child ran, the own
    /// pid link is unchanged.
    fn pid_025_pid_equals_pid_for_children() {
        let pid_link = own_container("pid");
        check!(!pid_link.is_empty());
        check_eq!(own_container("pid_for_children"), pid_link);
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {}));
        check_eq!(wait_exit(a), Exit::Code(0));
        check_eq!(own_container("pid"), pid_link);
        check_eq!(own_container("pid_for_children"), pid_link);
    }

    // LiteOS-A: It_pid_container_026
    /// /proc/<NEWPID child>/container/pid differs from the parent's.
    fn pid_026_child_pid_link_differs() {
        let [r, w] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        let theirs = readlink_container(a, "pid");
        check!(
            parse_container_text(&theirs, "pid").is_some(),
            "{:?}",
            theirs
        );
        check_ne!(theirs, own_container("pid"));
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// It_pid_container_027 and 028 (the same code in LiteOS-A).
    fn unshare_newpid_sequence() {
        let c1 = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let me = getpid();
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            check_eq!(getpid(), me);
            check_ne!(own_container("pid"), own_container("pid_for_children"));
            let c2 = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(getpid(), 1);
                let g = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
                check_eq!(wait_exit(g), Exit::Code(2));
            }));
            check_eq!(unshare(CLONE_NEWPID), Err(EINVAL));
            check_eq!(wait_exit(c2), Exit::Code(0));
        }));
        check_eq!(wait_exit(c1), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_027
    /// A plain child unshares NEWPID (getpid unchanged, pid != pid_for_children); its next
    /// child is pid 1 and that one's child pid 2; a second unshare(NEWPID) gives EINVAL.
    fn pid_027_unshare_newpid() {
        unshare_newpid_sequence();
    }

    // LiteOS-A: It_pid_container_028
    /// The same as 027 (LiteOS-A repeats the code): the first round's container is gone.
    fn pid_028_unshare_newpid_again() {
        unshare_newpid_sequence();
    }

    // LiteOS-A: It_pid_container_029
    /// After unshare(NEWPID): clone(CLONE_NEWPID) gives EINVAL; a plain clone gives pid 1; a
    /// second unshare(NEWPID) gives EINVAL.
    fn pid_029_clone_newpid_after_unshare() {
        let f = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            check_eq!(clone(CLONE_NEWPID | SIGCHLD_EXIT), Err(EINVAL));
            let c = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
            check_eq!(wait_exit(c), Exit::Code(1));
            check_eq!(unshare(CLONE_NEWPID), Err(EINVAL));
        }));
        check_eq!(wait_exit(f), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_030
    /// After unshare(NEWPID), two plain clones have pids 1 and 2 and the same pid link; a second
    /// unshare gives EINVAL. Linux's rule (containers.md): the second child keeps its real
    /// parent (getppid() 0 from inside), and the unsharer reaps it with its real status.
    fn pid_030_two_children_after_unshare() {
        let f = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            let [r, w] = pipe_pair();
            let [lr, lw] = pipe_pair();
            let c1 = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let _ = close(w);
                check_eq!(getpid(), 1);
                check_eq!(getppid(), 0);
                send(lw, ns_number("self", "pid").unwrap_or(0) as i64);
                wait_go(r);
            }));
            // The second child waits on its own pipe: it must end before the init, whose
            // death would kill it.
            let [r2, w2] = pipe_pair();
            let c2 = check_ok!(clone_code(SIGCHLD_EXIT, move || {
                close_all(&[w, w2]);
                let ok = getpid() == 2 && getppid() == 0;
                send(lw, ns_number("self", "pid").unwrap_or(0) as i64);
                wait_go(r2);
                if ok { 7 } else { 8 }
            }));
            let n1 = recv(lr);
            let n2 = recv(lr);
            check!(n1.is_some_and(|n| n > 0));
            check_eq!(n1, n2);
            check_eq!(readlink_container(c1, "pid"), readlink_container(c2, "pid"));
            check_eq!(unshare(CLONE_NEWPID), Err(EINVAL));
            close_all(&[r2, w2, lr, lw]);
            let (got, st) = check_ok!(wait_all(c2));
            check_eq!(got, c2);
            check_eq!(Exit::from_status(st), Exit::Code(7));
            close_all(&[r, w]);
            check_eq!(wait_exit(c1), Exit::Code(0));
        }));
        check_eq!(wait_exit(f), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_031
    /// NEWPID child A clones NEWPID B; A's setns(/proc/B/container/pid, CLONE_NEWPID) leaves
    /// A's pid link and sets its pid_for_children to B's; A's next children (plain, and
    /// CLONE_NEWUTS|SIGCHLD) are in B's container (pids 2 and 3, parent invisible).
    fn pid_031_setns_pid_for_children() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
                let _ = close(w);
                wait_go(r);
            }));
            let own = own_container("pid");
            let target = readlink_container(b, "pid");
            check_ne!(own, target);
            let fd = check_ok!(open_path(&container_path(&s(b), "pid"), O_RDONLY));
            check_eq!(setns(fd, CLONE_NEWPID), Ok(0));
            let _ = close(fd);
            check_eq!(own_container("pid"), own);
            check_eq!(own_container("pid_for_children"), target);
            for (flags, want) in [(SIGCHLD_EXIT, 2), (CLONE_NEWUTS | SIGCHLD_EXIT, 3)] {
                let t = target.clone();
                let c = check_ok!(clone_run(flags, move || {
                    check_eq!(own_container("pid"), t);
                    check_eq!(getpid(), want);
                    check_eq!(getppid(), 0);
                }));
                check_eq!(wait_exit(c), Exit::Code(0));
            }
            go(w);
            close_all(&[r, w]);
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_pid_container_032
    /// Limit test (clone) on max_pid_container, `clone(CLONE_NEWPID)` without SIGCHLD (LiteOS-A
    /// sleeps 2 s first so earlier containers are gone; here the count is polled).
    fn pid_032_limit_clone() {
        if let Some(start) = start_count("pid") {
            wait_count("pid", start);
        }
        limit_test_clone("pid", CLONE_NEWPID, 0);
    }

    // LiteOS-A: It_pid_container_033
    /// Limit test (unshare) on max_pid_container: a NEWPID child's unshare(NEWPID) over the
    /// limit fails (ENOSPC).
    fn pid_033_limit_unshare() {
        limit_test_unshare("pid", CLONE_NEWPID);
    }

    static USR1: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_usr1(_: i32) {
        USR1.fetch_add(1, Ordering::SeqCst);
    }

    /// From inside, SIGKILL and SIGTERM to the init (no handlers) have no effect (kill returns
    /// 0); a signal it handles (SIGUSR1) is delivered.
    fn init_protected_from_inside() {
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            check_ok!(set_handler(SIGUSR1, on_usr1, 0, 0));
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(kill(1, SIGKILL), Ok(0));
                check_eq!(kill(1, SIGTERM), Ok(0));
                check_eq!(kill(1, SIGUSR1), Ok(0));
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
            for _ in 0..100 {
                if USR1.load(Ordering::SeqCst) != 0 {
                    break;
                }
                let _ = sleep_ms(10);
            }
            check_eq!(USR1.load(Ordering::SeqCst), 1);
            check_eq!(sigpending(), Ok(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// From the parent container, SIGTERM to the init (no handler) is ignored as from inside
    /// (pid_namespaces(7): only SIGKILL and SIGSTOP are forced from an ancestor); SIGKILL ends
    /// it, its child and grandchild die with it, and the container is freed.
    fn init_killable_from_outside() {
        let count = read_limit("pid").map(|(_, c)| c);
        let [r, w] = pipe_pair();
        let [pr, pw] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            let _ = close(pw);
            // A child and a grandchild hold the pipe too.
            if clone(SIGCHLD_EXIT) == Ok(0) {
                let _ = close(pr);
                if clone(SIGCHLD_EXIT) == Ok(0) {
                    sleep_forever();
                }
                sleep_forever();
            }
            send(w, 1);
            // Answer each ping: the init is alive.
            while recv(pr).is_some() {
                send(w, 2);
            }
            sleep_forever()
        }));
        close_all(&[w, pr]);
        check_eq!(recv(r), Some(1));
        check_ok!(kill(a, SIGTERM));
        let _ = sleep_ms(50);
        send(pw, 0);
        check_eq!(recv(r), Some(2), "SIGTERM from outside ended the init");
        check_eq!(wait4(a, WNOHANG), Ok((0, 0)));
        check_ok!(kill(a, SIGKILL));
        check_eq!(wait_exit(a), Exit::Signal(SIGKILL));
        let _ = close(pw);
        let mut b = [0u8; 1];
        check_eq!(read(r, &mut b), Ok(0), "a member outlived the init");
        let _ = close(r);
        if let Ok(count) = count {
            check_eq!(wait_count("pid", count), count);
        }
    }

    /// When the init exits, the other members get SIGKILL (they vanish from /proc) and the
    /// container is freed once the init is reaped.
    fn init_death_kills_members() {
        let count = read_limit("pid").map(|(_, c)| c);
        let [r, w] = pipe_pair();
        let [gr, gw] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            let _ = close(gw);
            let b = clone(SIGCHLD_EXIT);
            if b == Ok(0) {
                sleep_forever();
            }
            check_eq!(b, Ok(2));
            send(w, own_pid_number() as i64);
            let _ = close(w);
            wait_go(gr);
            // The init exits 0 without reaping its child.
        }));
        close_all(&[w, gr]);
        let n = recv(r).unwrap_or(0) as u64;
        let members = pids_in_container(n);
        check_eq!(members.len(), 2, "{:?}", members);
        let b = members.iter().copied().find(|&p| p != a).unwrap_or(0);
        if let Ok(count) = count {
            check_eq!(read_limit("pid").map(|(_, c)| c), Ok(count + 1));
        }
        go(gw);
        let _ = close(gw);
        check_eq!(wait_exit(a), Exit::Code(0));
        let mut buf = [0u8; 1];
        check_eq!(read(r, &mut buf), Ok(0), "the member outlived its init");
        let _ = close(r);
        check!(b > 0);
        check_eq!(kill(b, 0), Err(ESRCH));
        check_eq!(stat_path(&format!("/proc/{}", b)).map(|_| ()), Err(ENOENT));
        if let Ok(count) = count {
            check_eq!(wait_count("pid", count), count);
        }
    }

    /// After unshare(NEWPID), once the first child (the init) has exited, forking into that
    /// container fails with ENOMEM.
    fn fork_into_dead_container_enomem() {
        let f = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            let c = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
            check_eq!(wait_exit(c), Exit::Code(1));
            check_eq!(fork(), Err(ENOMEM));
            check_eq!(clone(CLONE_NEWUTS | SIGCHLD_EXIT), Err(ENOMEM));
        }));
        check_eq!(wait_exit(f), Exit::Code(0));
    }

    /// Inside a new container the parent is invisible: getppid() 0, kill of the parent's outer
    /// pid ESRCH, kill(-1) finds nobody, /proc lists only the init, /proc/self is "1".
    fn parent_invisible_from_inside() {
        let parent = getpid();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            check_eq!(getppid(), 0);
            if parent != 1 {
                check_eq!(kill(parent, 0), Err(ESRCH));
                check_eq!(
                    stat_path(&format!("/proc/{}", parent)).map(|_| ()),
                    Err(ENOENT)
                );
            }
            check_eq!(kill(-1, 0), Err(ESRCH));
            check_eq!(wait4(-1, WALL), Err(ECHILD));
            check_eq!(list_pids(), Ok(alloc::vec![1]));
            check_eq!(readlink_text("/proc/self"), Ok(String::from("1")));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// A level-2 process has a number in each ancestor: its level-1 number is what the level-1
    /// init's clone returned and what that init's /proc shows; the root sees it under another
    /// number whose /proc/<n>/stat names the level-1 init's root number as parent.
    fn numbers_in_every_ancestor() {
        let [r, w] = pipe_pair();
        let [gr, gw] = pipe_pair();
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(r);
            let [br, bw] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
                let _ = close(br);
                check_eq!(getpid(), 1);
                send(bw, own_pid_number() as i64);
                wait_go(gr);
            }));
            let _ = close(bw);
            let n2 = recv(br).unwrap_or(0) as u64;
            let _ = close(br);
            check_eq!(pids_in_container(n2), alloc::vec![b]);
            send(w, n2 as i64);
            send(w, b as i64);
            let _ = close(w);
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        close_all(&[w, gr]);
        let n2 = recv(r).unwrap_or(0) as u64;
        let b1 = recv(r).unwrap_or(0);
        let _ = close(r);
        let outer = pids_in_container(n2);
        check_eq!(outer.len(), 1, "{:?}", outer);
        if let Some(&b0) = outer.first() {
            check_ne!(b0, a);
            check_eq!(kill(b0, 0), Ok(0));
            let st = proc_stat(&s(b0));
            check_eq!(st.map(|(p, _, f)| (p, f[1].clone())), Ok((b0 as i64, s(a))));
        }
        check!(b1 > 1, "level-1 number {}", b1);
        go(gw);
        let _ = close(gw);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// clone(2)'s invalid combinations: CLONE_NEWPID with CLONE_THREAD or CLONE_PARENT gives
    /// EINVAL (probed so a wrongly made child exits at once).
    fn invalid_clone_flags() {
        let thread = CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
        check_eq!(clone_probe(thread, 0), Err(EINVAL));
        check_eq!(
            clone_probe(CLONE_NEWPID | CLONE_PARENT | SIGCHLD_EXIT, 0),
            Err(EINVAL)
        );
        let f = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            check_eq!(
                clone_probe(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0),
                Err(EINVAL)
            );
        }));
        check_eq!(wait_exit(f), Exit::Code(0));
    }

    /// setns into a PID container that is neither the caller's nor a descendant (a sibling, or
    /// an ancestor) gives EINVAL; the own one and a descendant work.
    fn setns_pid_non_descendant() {
        let [r, w] = pipe_pair();
        let sib = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        let sib_fd = check_ok!(open_path(&ns_path(&s(sib), "pid"), O_RDONLY));
        let root_fd = check_ok!(open_path(&ns_path("self", "pid"), O_RDONLY));
        let a = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let before = own_container("pid_for_children");
            check_eq!(setns(sib_fd, CLONE_NEWPID), Err(EINVAL));
            check_eq!(setns(root_fd, CLONE_NEWPID), Err(EINVAL));
            check_eq!(own_container("pid_for_children"), before);
            let own = check_ok!(open_path(&ns_path("self", "pid"), O_RDONLY));
            check_eq!(setns(own, CLONE_NEWPID), Ok(0));
            let _ = close(own);
            let [br, bw] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
                let _ = close(bw);
                wait_go(br);
            }));
            let _ = close(br);
            let bfd = check_ok!(open_path(&ns_path(&s(b), "pid"), O_RDONLY));
            check_eq!(setns(bfd, CLONE_NEWPID), Ok(0));
            check_eq!(
                ns_number("self", "pid_for_children"),
                ns_number(&s(b), "pid")
            );
            close_all(&[bfd, bw]);
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
        // From the root container the sibling is a descendant: a child may join it.
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(sib_fd, CLONE_NEWPID), Ok(0));
            check_eq!(
                ns_number("self", "pid_for_children"),
                ns_number(&s(sib), "pid")
            );
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        close_all(&[sib_fd, root_fd]);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(sib), Exit::Code(0));
    }

    /// pid_for_children after a plain child exits normally: waitid reports CLD_EXITED with the
    /// init's code to the parent container.
    fn waitid_reports_container_init_exit() {
        let a = check_ok!(clone_code(CLONE_NEWPID | SIGCHLD_EXIT, || 33));
        let (ret, code, pid, status) = waitid_pid(a);
        check_eq!(ret, Ok(0));
        check_eq!(code, CLD_EXITED);
        check_eq!(pid, a);
        check_eq!(status, 33);
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            pid_001_child_is_pid_1,
            pid_002_nested_statuses,
            pid_003_hundred_children,
            pid_004_depth_limit,
            pid_005_unshare_then_clone_newuts,
            pid_006_cyclic_allocation,
            pid_007_init_and_first_fork,
            pid_008_affinity,
            pid_009_hundred_sleepers,
            pid_010_process_group,
            pid_011_ps_reads_proc,
            pid_012_parent_kills_init,
            pid_013_rr_interval,
            pid_014_sched_by_pid,
            pid_015_v2p_via_maps,
            pid_016_vmm_via_maps,
            pid_017_cpup_via_stat,
            pid_018_task_all_via_proc,
            pid_019_task_threads_via_proc,
            pid_020_orphans_go_to_container_init,
            pid_021_cpu_clock_of_invisible_pid,
            pid_022_init_kills_itself,
            pid_023_init_pid_and_ppid,
            pid_024_hundred_nested_containers,
            pid_025_pid_equals_pid_for_children,
            pid_026_child_pid_link_differs,
            pid_027_unshare_newpid,
            pid_028_unshare_newpid_again,
            pid_029_clone_newpid_after_unshare,
            pid_030_two_children_after_unshare,
            pid_031_setns_pid_for_children,
            pid_032_limit_clone,
            pid_033_limit_unshare,
            init_protected_from_inside,
            init_killable_from_outside,
            init_death_kills_members,
            fork_into_dead_container_enomem,
            parent_invisible_from_inside,
            numbers_in_every_ancestor,
            invalid_clone_flags,
            setns_pid_non_descendant,
            waitid_reports_container_init_exit,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
