//! The OOM killer's per-process files and the memory and file counts Linux shows:
//! `/proc/[pid]/oom_score_adj` (read/write, -1000..1000, lowering below the minimum needs
//! `CAP_SYS_RESOURCE`), `oom_score` (Linux's scale), the legacy `oom_adj`, all inherited at
//! fork; `/proc/meminfo` `PageTables`; `/proc/sys/fs/file-nr` and `file-max` (`ENFILE`
//! past it without `CAP_SYS_ADMIN`). The machine running out is `oomkill`'s (tests/oom.rs).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::{read_text, write_text};
    use ulib::cred::drop_cap;
    use ulib::kmem::meminfo_kb;
    use ulib::sys::{self, errno::*};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check, check_eq, check_ok, println};

    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_SYS_RESOURCE: u32 = 24;
    const ENFILE: i32 = 23;

    fn text(path: &str) -> String {
        read_text(path).unwrap_or_default()
    }

    fn num(path: &str) -> i64 {
        text(path).trim().parse().unwrap_or(i64::MIN)
    }

    fn set(file: &str, v: &str) -> sys::SysResult {
        write_text(&format!("/proc/self/{file}"), v.as_bytes())
    }

    /// The first field of `/proc/sys/fs/file-nr` (open file descriptions).
    fn open_files() -> u64 {
        let t = text("/proc/sys/fs/file-nr");
        let f: Vec<&str> = t.trim_end().split('\t').collect();
        check_eq!(f.len(), 3);
        check_eq!(f.get(1).copied(), Some("0"));
        f.first().and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    fn oom_score_adj_reads_writes_and_is_inherited() {
        check_eq!(
            wait_exit(fork_run(|| {
                check_eq!(text("/proc/self/oom_score_adj"), "0\n");
                check_eq!(text("/proc/self/oom_adj"), "0\n");
                let score0 = num("/proc/self/oom_score");
                // Linux's scale: (1000 + badness * 1000 / total) * 2 / 3.
                check!((666..700).contains(&score0), "oom_score at 0: {score0}");
                check_eq!(set("oom_score_adj", "500\n"), Ok(4));
                check_eq!(text("/proc/self/oom_score_adj"), "500\n");
                check_eq!(text("/proc/self/oom_adj"), "8\n");
                let score = num("/proc/self/oom_score");
                check!((990..1040).contains(&score), "oom_score at 500: {score}");
                // A child starts with its parent's value.
                check_eq!(
                    wait_exit(fork_run(|| {
                        check_eq!(text("/proc/self/oom_score_adj"), "500\n");
                    })),
                    Exit::Code(0)
                );
                let me = sys::getpid();
                check_eq!(num(&format!("/proc/{me}/oom_score_adj")), 500);
                for bad in ["1001", "-1001", "abc", "5x"] {
                    check_eq!(set("oom_score_adj", bad), Err(EINVAL), "{bad:?}");
                }
                check_eq!(text("/proc/self/oom_score_adj"), "500\n");
                // The legacy file: -17..15, 15 is 1000, -17 is -1000.
                check_eq!(set("oom_adj", "15"), Ok(2));
                check_eq!(text("/proc/self/oom_score_adj"), "1000\n");
                check_eq!(set("oom_adj", "16"), Err(EINVAL));
                check_eq!(set("oom_adj", "-17"), Ok(3));
                check_eq!(text("/proc/self/oom_score_adj"), "-1000\n");
                check_eq!(text("/proc/self/oom_adj"), "-17\n");
                // -1000: never chosen, score 0.
                check_eq!(num("/proc/self/oom_score"), 0);
                check_eq!(set("oom_score", "1"), Err(EACCES));
            })),
            Exit::Code(0)
        );
        // PID 1 is never chosen.
        check_eq!(num("/proc/1/oom_score"), 0);
    }

    fn lowering_oom_score_adj_needs_cap_sys_resource() {
        check_eq!(
            wait_exit(fork_run(|| {
                check_ok!(drop_cap(CAP_SYS_RESOURCE));
                check_eq!(set("oom_score_adj", "-1"), Err(EACCES));
                check_eq!(set("oom_score_adj", "300"), Ok(3));
                // Linux: down again as far as the minimum (0) without the capability.
                check_eq!(set("oom_score_adj", "0"), Ok(1));
                check_eq!(set("oom_adj", "-1"), Err(EACCES));
                check_eq!(text("/proc/self/oom_score_adj"), "0\n");
            })),
            Exit::Code(0)
        );
        check_eq!(
            wait_exit(fork_run(|| {
                // A privileged write sets the minimum too.
                check_eq!(set("oom_score_adj", "-500"), Ok(4));
                check_ok!(drop_cap(CAP_SYS_RESOURCE));
                check_eq!(set("oom_score_adj", "-400"), Ok(4));
                check_eq!(set("oom_score_adj", "-500"), Ok(4));
                check_eq!(set("oom_score_adj", "-501"), Err(EACCES));
                check_eq!(text("/proc/self/oom_score_adj"), "-500\n");
            })),
            Exit::Code(0)
        );
    }

    fn page_tables_grow_when_a_child_touches_64_mib_sparsely() {
        let before = meminfo_kb("PageTables");
        check!(before > 0, "PageTables: {before} kB");
        let [r, w] = check_ok!(sys::pipe());
        let child = fork_run(|| {
            let _ = sys::close(r);
            let len = 64 << 20;
            let at = check_ok!(sys::mmap_anon(len));
            // One byte every 2 MiB: each lands in its own page table.
            for off in (0..len).step_by(2 << 20) {
                // SAFETY: inside the mapping just made.
                unsafe { ((at + off) as *mut u8).write_volatile(1) };
            }
            let _ = sys::write(w, b"x");
            loop {
                let _ = sys::sleep_ms(1000);
            }
        });
        let _ = sys::close(w);
        let mut b = [0u8; 1];
        check_eq!(sys::read(r, &mut b), Ok(1));
        let during = meminfo_kb("PageTables");
        check_ok!(sys::kill(child, sys::SIGKILL));
        check_eq!(wait_exit(child), Exit::Signal(sys::SIGKILL));
        let _ = sys::close(r);
        let after = meminfo_kb("PageTables");
        // 32 page tables, one or two directories, the child's own copies (about 20 kB).
        let grew = during.saturating_sub(before);
        check!(
            (32 * 4..=60 * 4).contains(&grew),
            "PageTables {before} -> {during} kB"
        );
        check_eq!(after, before);
    }

    fn file_nr_counts_open_files() {
        let before = open_files();
        let mut fds = Vec::new();
        for _ in 0..100 {
            fds.push(check_ok!(sys::open(
                c"/",
                sys::O_RDONLY | sys::O_CLOEXEC,
                0
            )));
        }
        check_eq!(open_files(), before + 100);
        for fd in fds {
            let _ = sys::close(fd);
        }
        check_eq!(open_files(), before);
        let max = num("/proc/sys/fs/file-max");
        check!(max >= 8192, "file-max {max}");
        println!("oomadj: file-max {max}, {before} open file descriptions");
        check!(text("/proc/sys/fs/file-nr").ends_with(&format!("\t{max}\n")));
    }

    fn file_max_is_writable_and_enfile_past_it() {
        let max = num("/proc/sys/fs/file-max");
        let path = "/proc/sys/fs/file-max";
        check_eq!(write_text(path, b"-1"), Err(EINVAL));
        let limit = open_files() + 20;
        check_eq!(
            write_text(path, format!("{limit}\n").as_bytes()).is_ok(),
            true
        );
        check_eq!(num(path), limit as i64);
        let child = fork_run(|| {
            check_ok!(drop_cap(CAP_SYS_ADMIN));
            check_eq!(write_text(path, b"100000"), Err(EPERM));
            let mut opened = 0;
            let err = loop {
                match sys::open(c"/", sys::O_RDONLY | sys::O_CLOEXEC, 0) {
                    Ok(_) => opened += 1,
                    Err(e) => break e,
                }
                if opened > 100 {
                    break 0;
                }
            };
            check_eq!(err, ENFILE);
            check!((1..=21).contains(&opened), "opened {opened} before ENFILE");
        });
        let status = wait_exit(child);
        // With CAP_SYS_ADMIN the limit does not apply.
        let extra: Vec<i32> = (0..30)
            .filter_map(|_| sys::open(c"/", sys::O_RDONLY | sys::O_CLOEXEC, 0).ok())
            .collect();
        check_eq!(extra.len(), 30);
        for fd in extra {
            let _ = sys::close(fd);
        }
        check_eq!(write_text(path, format!("{max}").as_bytes()).is_ok(), true);
        check_eq!(num(path), max);
        check_eq!(status, Exit::Code(0));
    }

    fn main(_args: Args) -> i32 {
        // Run alone as init, /proc is not mounted yet; under the suite it is (EBUSY).
        let _ = sys::mkdir(c"/proc", 0o755);
        let _ = sys::mount(c"proc", c"/proc", c"proc", 0);
        ulib::test::run(ulib::cases![
            oom_score_adj_reads_writes_and_is_inherited,
            lowering_oom_score_adj_needs_cap_sys_resource,
            page_tables_grow_when_a_child_touches_64_mib_sparsely,
            file_nr_counts_open_files,
            file_max_is_writable_and_enfile_past_it,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
