//! Container-related procfs: LiteOS-A's process/fs cases 001, 004, 005, 007–014, 021 and 022
//! (§10.2), ported as containers.md says: 004 reads `VmSize` from /proc/[pid]/status (LiteOS-A:
//! /proc/[pid]/meminfo "VMSpaceSize"), 005 reads /proc/[pid]/stat (LiteOS-A: /proc/[pid]/cpup
//! "TotalRunningTime"). 002, 003 and 015 are not in issue 4's scope. Ends by checking that no
//! container leaked.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`, the
//! `max_*_container` files.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use ulib::container::*;
    use ulib::sys::{errno::*, *};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok};

    fn me() -> String {
        format!("{}", getpid())
    }

    // LiteOS-A: It_process_fs_001
    /// opendir /proc/<getpid()> works; it holds status, stat, maps, container and ns.
    fn process_fs_001_opendir_own_dir() {
        let path = format!("/proc/{}", getpid());
        let fd = check_ok!(open_path(&path, O_RDONLY | O_DIRECTORY));
        check_eq!(close(fd), Ok(0));
        check_eq!(stat_path(&path).map(|s| s.st_mode & S_IFMT), Ok(S_IFDIR));
        let names = list_dir(&path).unwrap_or_default();
        for want in ["status", "stat", "maps", "container", "ns"] {
            check!(
                names.iter().any(|n| n == want),
                "{} lacks {}: {:?}",
                path,
                want,
                names
            );
        }
    }

    // LiteOS-A: It_process_fs_004
    /// Ported: /proc/<pid>/status has a `VmSize:` line with a size > 0 kB (LiteOS-A:
    /// /proc/<pid>/meminfo contains "VMSpaceSize").
    fn process_fs_004_vmsize() {
        let v = status_field(&me(), "VmSize");
        check!(v.is_some(), "no VmSize in /proc/{}/status", getpid());
        let Some(v) = v else { return };
        let kb = v.strip_suffix("kB").map(|n| n.trim().parse::<u64>());
        check!(matches!(kb, Some(Ok(n)) if n > 0), "VmSize {:?}", v);
    }

    // LiteOS-A: It_process_fs_005
    /// Ported: /proc/<pid>/stat (LiteOS-A: /proc/<pid>/cpup "TotalRunningTime") names the
    /// process (pid, comm, ppid) and has numeric utime/stime, 52 fields in all.
    fn process_fs_005_stat() {
        let (pid, comm, rest) = check_ok!(proc_stat(&me()));
        check_eq!(pid, getpid() as i64);
        check_eq!(comm, "t_procfs");
        check_eq!(rest.len(), 50, "fields after (comm)");
        check_eq!(rest[1], format!("{}", getppid()));
        check!(rest[11].parse::<u64>().is_ok(), "utime {}", rest[11]);
        check!(rest[12].parse::<u64>().is_ok(), "stime {}", rest[12]);
    }

    /// The LiteOS-A check of 007–011, 021, 022: lstat works and readlink of
    /// /proc/<getpid()>/container/<t> matches `'<t>:\[[0-9]+\]'` (and is not `'<t>:[0]'`).
    fn check_container_link(t: &str) {
        let path = container_path(&me(), t);
        check_eq!(lstat_path(&path).map(|s| s.st_mode & S_IFMT), Ok(S_IFLNK));
        let text = readlink_text(&path);
        let n = text.as_ref().ok().and_then(|x| parse_container_text(x, t));
        check!(n.is_some_and(|n| n != 0), "{}: {:?}", path, text);
    }

    // LiteOS-A: It_process_fs_007
    fn process_fs_007_container_uts() {
        check_container_link("uts");
    }

    // LiteOS-A: It_process_fs_008
    fn process_fs_008_container_mnt() {
        check_container_link("mnt");
    }

    // LiteOS-A: It_process_fs_009
    fn process_fs_009_container_user() {
        check_container_link("user");
    }

    // LiteOS-A: It_process_fs_010
    fn process_fs_010_container_pid() {
        check_container_link("pid");
    }

    // LiteOS-A: It_process_fs_011
    fn process_fs_011_container_net() {
        check_container_link("net");
    }

    // LiteOS-A: It_process_fs_012
    /// /proc/<child> exists (a directory) while the child lives and is gone once it is reaped.
    fn process_fs_012_child_dir_until_reaped() {
        let [r, w] = pipe_pair();
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        let path = format!("/proc/{}", c);
        check_eq!(stat_path(&path).map(|s| s.st_mode & S_IFMT), Ok(S_IFDIR));
        check!(list_pids().is_ok_and(|p| p.contains(&c)));
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(stat_path(&path).map(|_| ()), Err(ENOENT));
        check_eq!(open_path(&path, O_RDONLY | O_DIRECTORY), Err(ENOENT));
        check!(list_pids().is_ok_and(|p| !p.contains(&c)));
    }

    // LiteOS-A: It_process_fs_013
    /// /proc/1 exists.
    fn process_fs_013_proc_1_exists() {
        check_eq!(
            stat_path("/proc/1").map(|s| s.st_mode & S_IFMT),
            Ok(S_IFDIR)
        );
        check!(status_field("1", "Pid").is_some_and(|p| p == "1"));
    }

    // LiteOS-A: It_process_fs_014
    /// /proc/100000 does not exist.
    fn process_fs_014_proc_100000_absent() {
        check_eq!(stat_path("/proc/100000").map(|_| ()), Err(ENOENT));
        check_eq!(open_path("/proc/100000", O_RDONLY), Err(ENOENT));
    }

    // LiteOS-A: It_process_fs_021
    fn process_fs_021_container_ipc() {
        check_container_link("ipc");
    }

    // LiteOS-A: It_process_fs_022
    fn process_fs_022_container_time() {
        check_container_link("time");
    }

    /// /proc/self/statm: seven page counts; size and resident are VmSize and VmRSS of
    /// status (read before and after), text > 0, lib and dt 0 as on Linux.
    fn statm_matches_status() {
        let kb = |k: &str| {
            status_field(&me(), k)
                .and_then(|v| {
                    v.strip_suffix("kB")
                        .and_then(|n| n.trim().parse::<u64>().ok())
                })
                .unwrap_or(u64::MAX)
        };
        let (size0, rss0) = (kb("VmSize"), kb("VmRSS"));
        let text = check_ok!(read_text("/proc/self/statm"));
        let (size1, rss1) = (kb("VmSize"), kb("VmRSS"));
        check!(text.ends_with('\n'), "statm {:?}", text);
        let n: alloc::vec::Vec<u64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        check_eq!(n.len(), 7);
        if n.len() != 7 {
            return;
        }
        check!(
            n[0] * 4 == size0 || n[0] * 4 == size1,
            "size {} vs {} {}",
            n[0],
            size0,
            size1
        );
        check!(
            n[1] * 4 == rss0 || n[1] * 4 == rss1,
            "rss {} vs {} {}",
            n[1],
            rss0,
            rss1
        );
        check!(n[3] > 0 && n[3] <= n[0], "text {}", n[3]);
        check!(n[5] > 0 && n[5] <= n[0], "data {}", n[5]);
        check_eq!((n[4], n[6]), (0, 0));
    }

    /// /proc/self/environ is the environment exec gave, each string NUL-terminated; it is
    /// mode 0400: after setuid(1000) a child reads its own but gets EACCES on init's.
    fn environ_is_the_exec_environment() {
        let mut want = String::new();
        for e in Args::get().env() {
            want.push_str(&String::from_utf8_lossy(e));
            want.push('\0');
        }
        check!(!want.is_empty(), "no environment");
        check_eq!(read_text("/proc/self/environ"), Ok(want));
        check_eq!(
            stat_path("/proc/self/environ").map(|s| s.st_mode & 0o7777),
            Ok(0o400)
        );
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let ok = ulib::cred::setuid(1000).is_ok()
                && open_path("/proc/1/environ", O_RDONLY) == Err(EACCES)
                && read_text("/proc/self/environ").is_ok();
            ulib::sys::exit(if ok { 0 } else { 1 });
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// /proc/self/maps: the `[stack]` line is `rw-p` and holds a local's address; the
    /// `[vdso]` line is `r-xp` offset 0; the program's own file is mapped `r-xp`.
    fn maps_name_stack_vdso_and_program() {
        let local = 0u64;
        let addr = core::ptr::addr_of!(local) as u64;
        let text = check_ok!(read_text("/proc/self/maps"));
        let parse = |l: &str| {
            let mut w = l.split_whitespace();
            let (a, b) = w.next()?.split_once('-')?;
            let range = (
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            );
            let perms = w.next()?;
            let off = u64::from_str_radix(w.next()?, 16).ok()?;
            let name = w.nth(2).unwrap_or("");
            Some((range, String::from(perms), off, String::from(name)))
        };
        let lines: alloc::vec::Vec<_> = text.lines().filter_map(parse).collect();
        check_eq!(lines.len(), text.lines().count());
        let stack = lines.iter().find(|l| l.3 == "[stack]");
        check!(
            stack.is_some_and(|l| l.1 == "rw-p" && l.0.0 <= addr && addr < l.0.1),
            "stack {:?} local {:#x}",
            stack,
            addr
        );
        let vdso = lines.iter().find(|l| l.3 == "[vdso]");
        check!(
            vdso.is_some_and(|l| l.1 == "r-xp" && l.2 == 0),
            "vdso {:?}",
            vdso
        );
        let exe = check_ok!(readlink_text("/proc/self/exe"));
        check!(
            lines.iter().any(|l| l.3 == exe && l.1 == "r-xp"),
            "no r-xp {} in {}",
            exe,
            text
        );
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            process_fs_001_opendir_own_dir,
            process_fs_004_vmsize,
            process_fs_005_stat,
            process_fs_007_container_uts,
            process_fs_008_container_mnt,
            process_fs_009_container_user,
            process_fs_010_container_pid,
            process_fs_011_container_net,
            process_fs_012_child_dir_until_reaped,
            process_fs_013_proc_1_exists,
            process_fs_014_proc_100000_absent,
            process_fs_021_container_ipc,
            process_fs_022_container_time,
            statm_matches_status,
            environ_is_the_exec_environment,
            maps_name_stack_vdso_and_program,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
