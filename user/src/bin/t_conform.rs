//! Linux conformance regressions found by LTP's container set: `statfs`/`fstatfs` with
//! Linux's magic numbers, the `/proc/sys/kernel` values LTP reads, `si_pid` translated into
//! the receiver's PID container, `F_SETSIG`/`F_SETOWN`/`O_ASYNC` (SIGIO), creating queues
//! through a mounted `mqueue` file system, `clone3`/`waitpid` errnos and restarts,
//! `sysinfo().uptime` against `/proc/uptime`, and `nanosleep` yielding to a runnable peer.
//!
//! Runs as root on a Linux host too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::{check, check_eq, check_ok};

    const NR_STATFS: usize = 137;
    const NR_FSTATFS: usize = 138;
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const PIPEFS_MAGIC: u64 = 0x5049_5045;
    const ST_VALID: u64 = 0x20;
    const ST_RDONLY: u64 = 1;
    const MS_RDONLY: usize = 1;
    const MS_REMOUNT: usize = 32;
    const MS_BIND: usize = 4096;

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    /// `struct statfs` as 15 words (f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files,
    /// f_ffree, f_fsid, f_namelen, f_frsize, f_flags, spare).
    fn statfs(p: &str) -> SysResult<[u64; 15]> {
        let c = cpath(p);
        let mut b = [0u64; 15];
        // SAFETY: a NUL-terminated path and a 120-byte buffer.
        sys::check(unsafe {
            sys::syscall2(NR_STATFS, c.as_ptr() as usize, b.as_mut_ptr() as usize)
        })?;
        Ok(b)
    }

    fn fstatfs(fd: i32) -> SysResult<[u64; 15]> {
        let mut b = [0u64; 15];
        // SAFETY: a 120-byte buffer.
        sys::check(unsafe { sys::syscall2(NR_FSTATFS, fd as usize, b.as_mut_ptr() as usize) })?;
        Ok(b)
    }

    const DIR: &str = "/tmp/t_conform.d";

    /// Runs `f` in a child with a private mount tree holding a fresh tmpfs at [`DIR`] and
    /// procfs at `/proc`.
    fn in_private_tree(f: impl FnOnce()) {
        let pid = ulib::test::fork_run(|| {
            check_ok!(ulib::container::unshare(ulib::container::CLONE_NEWNS));
            check_ok!(ulib::cred::make_root_private());
            let _ = sys::mkdir(c"/tmp", 0o1777);
            check_ok!(ulib::mnt::mkdir_p(DIR, 0o755));
            check_ok!(ulib::cred::mount("tmpfs", DIR, "tmpfs", 0));
            let _ = ulib::mnt::mkdir_p("/proc", 0o555);
            check_ok!(ulib::cred::mount("proc", "/proc", "proc", 0));
            f();
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
    }

    /// The kind of file system and its flags, as LTP's `tst_fs_type` and busybox `df` read them.
    fn statfs_reports_linux_magic_numbers() {
        in_private_tree(|| {
            let t = check_ok!(statfs(DIR));
            check_eq!(t[0], TMPFS_MAGIC, "f_type of a tmpfs");
            check_eq!(t[1], 4096, "f_bsize");
            check!(t[2] > 0, "a tmpfs has a size: {} blocks", t[2]);
            check_eq!(t[3], t[2], "an empty tmpfs: bfree {} of {}", t[3], t[2]);
            check_eq!(t[8], 255, "f_namelen");
            check_eq!(t[10] & (ST_VALID | ST_RDONLY), ST_VALID, "f_flags");
            let proc = check_ok!(statfs("/proc/self/status"));
            check_eq!(proc[0], PROC_SUPER_MAGIC, "a file in /proc");
            check_eq!(proc[2], 0, "proc has no blocks");
            check_eq!(statfs("/nonexistent/x"), Err(ENOENT));
            // SAFETY: a deliberately bad buffer.
            let r = sys::check(unsafe { sys::syscall2(NR_STATFS, c"/".as_ptr() as usize, 8) });
            check_eq!(r, Err(EFAULT));
        });
    }

    /// Writing a file uses blocks of the tmpfs; `fstatfs` of the file agrees with `statfs`.
    fn fstatfs_follows_the_fd() {
        in_private_tree(|| {
            let p = "/tmp/t_conform.d/f";
            let before = check_ok!(statfs(DIR));
            let fd = check_ok!(sys::open(&cpath(p), sys::O_CREAT | sys::O_RDWR, 0o600));
            check_ok!(sys::write_all(fd, &[7u8; 8192]));
            let after = check_ok!(fstatfs(fd));
            check_eq!(after[0], TMPFS_MAGIC);
            check_eq!(after[7], before[7], "same f_fsid");
            check_eq!(before[3] - after[3], 2, "two pages written");
            let [r, w] = check_ok!(sys::pipe());
            check_eq!(check_ok!(fstatfs(r))[0], PIPEFS_MAGIC, "a pipe");
            check_eq!(fstatfs(-1), Err(EBADF));
            let _ = sys::close(r);
            let _ = sys::close(w);
            let _ = sys::close(fd);
            check_ok!(sys::unlink(&cpath(p)));
            check_eq!(check_ok!(statfs(DIR))[3], before[3], "pages given back");
        });
    }

    /// A read-only bind shows `ST_RDONLY`.
    fn statfs_shows_read_only_mounts() {
        in_private_tree(|| {
            let target = "/tmp/t_conform.d/ro";
            check_ok!(ulib::mnt::mkdir_p(target, 0o755));
            check_ok!(ulib::cred::mount(DIR, target, "", MS_BIND));
            check_ok!(ulib::cred::mount(
                "",
                target,
                "",
                MS_BIND | MS_REMOUNT | MS_RDONLY
            ));
            let st = check_ok!(statfs(target));
            check_eq!(st[10] & (ST_VALID | ST_RDONLY), ST_VALID | ST_RDONLY);
            check_eq!(st[0], TMPFS_MAGIC);
        });
    }

    fn text(p: &str) -> String {
        ulib::container::read_text(p).unwrap_or_default()
    }

    fn field(b: &[u8; 65]) -> String {
        let n = b.iter().position(|&c| c == 0).unwrap_or(65);
        String::from_utf8_lossy(&b[..n]).into_owned()
    }

    /// `/proc/sys/kernel`: the values LTP and busybox read, matching `uname` and the
    /// kernel's limits; read-only.
    fn proc_sys_kernel_values() {
        in_private_tree(|| {
            check_eq!(text("/proc/sys/kernel/pid_max"), "32768\n");
            check_eq!(text("/proc/sys/kernel/cap_last_cap"), "40\n");
            check_eq!(text("/proc/sys/kernel/ngroups_max"), "65536\n");
            check_eq!(text("/proc/sys/kernel/ostype"), "Linux\n");
            check_eq!(text("/proc/sys/kernel/tainted"), "0\n");
            let u = check_ok!(sys::uname());
            check_eq!(
                text("/proc/sys/kernel/osrelease"),
                format!("{}\n", field(&u.release))
            );
            check_eq!(
                text("/proc/sys/kernel/hostname"),
                format!("{}\n", field(&u.nodename))
            );
            check_eq!(
                text("/proc/sys/kernel/domainname"),
                format!("{}\n", field(&u.domainname))
            );
            let w = sys::open(c"/proc/sys/kernel/pid_max", sys::O_WRONLY, 0)
                .and_then(|fd| sys::write(fd, b"100").map(|_| fd as usize));
            check_eq!(w, Err(EACCES), "read-only");
            check_eq!(text("/proc/sys/kernel/pid_max"), "32768\n");
        });
    }

    /// sysinfo03: `sysinfo().uptime` is `/proc/uptime` rounded up.
    fn sysinfo_uptime_agrees_with_proc_uptime() {
        in_private_tree(|| {
            for _ in 0..5 {
                let t = text("/proc/uptime");
                let up = check_ok!(ulib::timens::sysinfo_uptime());
                let first = t.split_ascii_whitespace().next().unwrap_or("");
                let (s, cs) = first.split_once('.').unwrap_or(("", ""));
                let s: i64 = s.parse().unwrap_or(-1);
                let rounded = s + !cs.trim_start_matches('0').is_empty() as i64;
                check!(
                    up == rounded || up == rounded + 1,
                    "sysinfo {} /proc/uptime {}",
                    up,
                    first
                );
                let _ = sys::sleep_ms(3);
            }
        });
    }

    /// mqns_03/04: `creat` in a mounted mqueue file system makes a queue `mq_open` sees;
    /// once no process is left in that IPC container, creating there gives EACCES while
    /// the queues made before stay visible.
    fn mqueue_mount_creates_queues_until_its_container_is_gone() {
        in_private_tree(|| {
            let dir = "/tmp/t_conform.d/mq";
            check_ok!(ulib::mnt::mkdir_p(dir, 0o755));
            let child = ulib::test::fork_run(|| {
                check_ok!(ulib::container::unshare(ulib::container::CLONE_NEWIPC));
                check_ok!(ulib::cred::mount("mqueue", dir, "mqueue", 0));
                let fd = check_ok!(sys::creat(&cpath("/tmp/t_conform.d/mq/q1"), 0o644));
                let _ = sys::close(fd);
                let q = check_ok!(ulib::mq::open_existing("/q1", sys::O_RDONLY));
                let _ = sys::close(q);
                check_eq!(ulib::mq::open_existing("/q1x", sys::O_RDONLY), Err(ENOENT));
            });
            check_eq!(ulib::test::wait_exit(child), ulib::test::Exit::Code(0));
            check_ok!(sys::access(&cpath("/tmp/t_conform.d/mq/q1"), sys::F_OK));
            check_eq!(
                sys::creat(&cpath("/tmp/t_conform.d/mq/q2"), 0o644),
                Err(EACCES),
                "the IPC container is gone"
            );
            check_eq!(
                ulib::mq::open_existing("/q1", sys::O_RDONLY),
                Err(ENOENT),
                "not ours"
            );
            check_ok!(ulib::cred::umount2(dir, 0));
        });
    }

    /// `/proc/loadavg` parses as Linux's line; `/proc/self/exe` names this program and
    /// opens it; `/proc/self/limits` shows `RLIMIT_NOFILE` as `prlimit64` reads it.
    fn proc_loadavg_exe_and_limits() {
        in_private_tree(|| {
            let l = text("/proc/loadavg");
            let f: alloc::vec::Vec<&str> = l.split_ascii_whitespace().collect();
            check_eq!(f.len(), 5, "{:?}", l);
            for avg in &f[..3] {
                let ok = avg.split_once('.').is_some_and(|(i, d)| {
                    i.parse::<u32>().is_ok() && d.len() == 2 && d.parse::<u32>().is_ok()
                });
                check!(ok, "average {:?}", avg);
            }
            let (run, total) = f[3].split_once('/').unwrap_or(("", ""));
            let (run, total): (u32, u32) = (run.parse().unwrap_or(0), total.parse().unwrap_or(0));
            check!(run >= 1 && total >= run, "{}", f[3]);
            check!(
                f[4].parse::<u32>().is_ok_and(|p| p >= sys::getpid() as u32),
                "{}",
                f[4]
            );
            let mut buf = [0u8; 256];
            let n = check_ok!(sys::readlink(c"/proc/self/exe", &mut buf));
            let exe = core::str::from_utf8(&buf[..n]).unwrap_or("");
            check!(exe.ends_with("/t_conform"), "exe {:?}", exe);
            let me = check_ok!(sys::stat(&cpath(exe)));
            let via = check_ok!(sys::stat(c"/proc/self/exe"));
            check_eq!(
                (via.st_dev, via.st_ino),
                (me.st_dev, me.st_ino),
                "follows to the file"
            );
            let mut lim = [0u64; 2];
            // SAFETY: a live rlimit.
            check_ok!(sys::check(unsafe {
                sys::syscall4(302, 0, 7, 0, lim.as_mut_ptr() as usize)
            }));
            let limits = text("/proc/self/limits");
            let line = limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .unwrap_or("");
            let cols: alloc::vec::Vec<&str> = line[25..].split_ascii_whitespace().collect();
            check_eq!(
                cols,
                [
                    format!("{}", lim[0]).as_str(),
                    &format!("{}", lim[1]),
                    "files"
                ]
            );
            check!(
                limits.starts_with("Limit                     Soft Limit"),
                "{}",
                limits
            );
        });
    }

    /// personality: 0xffffffff reads, a set returns the old value and is inherited.
    fn personality_is_kept_and_inherited() {
        let pid = ulib::test::fork_run(|| {
            let per = |v: usize| sys::check(unsafe { sys::syscall1(135, v) });
            check_eq!(per(0xffff_ffff), Ok(0), "PER_LINUX");
            check_eq!(per(0x0040000), Ok(0), "ADDR_NO_RANDOMIZE set");
            check_eq!(per(0xffff_ffff), Ok(0x0040000));
            let child = check_ok!(sys::fork());
            if child == 0 {
                sys::exit(if per(0xffff_ffff) == Ok(0x0040000) {
                    0
                } else {
                    1
                });
            }
            check_eq!(ulib::test::wait_exit(child), ulib::test::Exit::Code(0));
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
    }

    ulib::test_main!(
        proc_loadavg_exe_and_limits,
        personality_is_kept_and_inherited,
        statfs_reports_linux_magic_numbers,
        fstatfs_follows_the_fd,
        statfs_shows_read_only_mounts,
        proc_sys_kernel_values,
        sysinfo_uptime_agrees_with_proc_uptime,
        mqueue_mount_creates_queues_until_its_container_is_gone,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
