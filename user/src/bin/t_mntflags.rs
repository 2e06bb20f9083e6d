//! Per-mount flags honoured: `MS_NOEXEC` (execve `EACCES`), `MS_NODEV` (opening a device node
//! `EACCES`), `MS_NOSUID` shown in `/proc/self/mounts`, and a read-only mount refusing
//! `truncate`, `chmod`, `chown` and `utimensat` with `EROFS`.
//!
//! Runs as root on a Linux host too, in a private mount namespace (each case runs in a
//! `CLONE_NEWNS` child whose tree is made rprivate first).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use ulib::container::*;
    use ulib::cred::{chmod, make_root_private, mount};
    use ulib::mnt::{MS_RDONLY, mkdir_p, rmdir, touch};
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok, println};

    const MS_NOSUID: usize = 2;
    const MS_NODEV: usize = 4;
    const MS_NOEXEC: usize = 8;
    const MS_REMOUNT: usize = 32;
    const NR_TRUNCATE: usize = 76;
    const NR_CHOWN: usize = 92;
    const NR_MKNOD: usize = 133;
    const NR_UTIMENSAT: usize = 280;
    const AT_FDCWD: usize = -100isize as usize;
    const S_IFCHR: usize = 0o020000;
    const EROFS: i32 = 30;
    const ENOSPC: i32 = 28;
    const DIR: &str = "/tmp/t_mntflags.d";

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    fn truncate(p: &str, len: usize) -> SysResult {
        let c = cpath(p);
        // SAFETY: a NUL-terminated path.
        sys::check(unsafe { sys::syscall2(NR_TRUNCATE, c.as_ptr() as usize, len) })
    }

    fn chown(p: &str, uid: u32, gid: u32) -> SysResult {
        let c = cpath(p);
        // SAFETY: a NUL-terminated path.
        sys::check(unsafe {
            sys::syscall3(NR_CHOWN, c.as_ptr() as usize, uid as usize, gid as usize)
        })
    }

    fn utimensat_now(p: &str) -> SysResult {
        let c = cpath(p);
        // SAFETY: a NUL-terminated path; NULL times (now).
        sys::check(unsafe { sys::syscall4(NR_UTIMENSAT, AT_FDCWD, c.as_ptr() as usize, 0, 0) })
    }

    fn mknod(p: &str, mode: usize, dev: usize) -> SysResult {
        let c = cpath(p);
        // SAFETY: a NUL-terminated path.
        sys::check(unsafe { sys::syscall3(NR_MKNOD, c.as_ptr() as usize, mode, dev) })
    }

    fn open(p: &str, flags: usize) -> SysResult<i32> {
        sys::open(&cpath(p), flags, 0o644)
    }

    /// Runs `f` in a `CLONE_NEWNS` child with an rprivate tree and `DIR` present.
    fn in_newns(case: &str, f: impl FnOnce()) {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(DIR, 0o755));
        match clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
            check_eq!(make_root_private(), Ok(0));
            f()
        }) {
            Ok(pid) => check_eq!(wait_exit(pid), Exit::Code(0)),
            Err(e) => println!("SKIP {}: clone(CLONE_NEWNS) gives {}", case, e),
        }
        let _ = rmdir(DIR);
    }

    /// The options field of the `/proc/self/mounts` line for mount point `target`.
    fn options_of(target: &str) -> Option<alloc::string::String> {
        let text = read_text("/proc/self/mounts").ok()?;
        text.lines()
            .rev()
            .filter_map(|l| {
                let f: alloc::vec::Vec<&str> = l.split(' ').collect();
                if f.get(1) != Some(&target) {
                    return None;
                }
                f.get(3).map(|o| alloc::string::String::from(*o))
            })
            .next()
    }

    fn has_opt(opts: &str, o: &str) -> bool {
        opts.split(',').any(|x| x == o)
    }

    /// noexec: execve of an executable file there is EACCES; nosuid and noexec are shown.
    fn noexec_and_nosuid() {
        in_newns("noexec_and_nosuid", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_NOEXEC | MS_NOSUID), Ok(0));
            let f = format!("{}/prog", DIR);
            check_ok!(touch(&f));
            check_eq!(chmod(&f, 0o755), Ok(0));
            let c = cpath(&f);
            let argv = [c.as_ptr() as *const u8, core::ptr::null()];
            let envp = [core::ptr::null()];
            check_eq!(sys::execve(&c, &argv, &envp), Err(EACCES));
            let opts = options_of(DIR).unwrap_or_default();
            check!(has_opt(&opts, "noexec"), "options {}", opts);
            check!(has_opt(&opts, "nosuid"), "options {}", opts);
            check!(!has_opt(&opts, "nodev"), "options {}", opts);
            check!(has_opt(&opts, "rw"), "options {}", opts);
        });
    }

    /// nodev: a device node there cannot be opened (EACCES); on a mount without it, it can.
    fn nodev_refuses_device_nodes() {
        in_newns("nodev_refuses_device_nodes", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_NODEV), Ok(0));
            let n = format!("{}/null", DIR);
            // /dev/null is char 1:3.
            check_eq!(mknod(&n, S_IFCHR | 0o666, (1 << 8) | 3), Ok(0));
            check_eq!(open(&n, sys::O_RDWR), Err(EACCES));
            let opts = options_of(DIR).unwrap_or_default();
            check!(has_opt(&opts, "nodev"), "options {}", opts);
            // Remounted without nodev, the same node opens.
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_REMOUNT), Ok(0));
            let fd = check_ok!(open(&n, sys::O_RDWR));
            check_eq!(sys::write(fd, b"x"), Ok(1));
            check_ok!(sys::close(fd));
        });
    }

    /// A read-only mount refuses truncate, chmod, chown and utimensat with EROFS.
    fn rdonly_refuses_metadata_changes() {
        in_newns("rdonly_refuses_metadata_changes", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let f = format!("{}/file", DIR);
            check_ok!(touch(&f));
            check_ok!(write_text(&f, b"hello"));
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_REMOUNT | MS_RDONLY), Ok(0));
            check_eq!(truncate(&f, 1), Err(EROFS));
            check_eq!(chmod(&f, 0o600), Err(EROFS));
            check_eq!(chown(&f, 0, 0), Err(EROFS));
            check_eq!(utimensat_now(&f), Err(EROFS));
            check_eq!(open(&f, sys::O_WRONLY), Err(EROFS));
            check_eq!(read_text(&f).as_deref(), Ok("hello"));
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_REMOUNT), Ok(0));
            check_eq!(truncate(&f, 1), Ok(0));
            check_eq!(chmod(&f, 0o600), Ok(0));
            check_eq!(chown(&f, 0, 0), Ok(0));
            check_eq!(utimensat_now(&f), Ok(0));
            check_eq!(read_text(&f).as_deref(), Ok("h"));
        });
    }

    /// `mount(source, target, fstype, flags, data)`.
    fn mount_data(source: &str, target: &str, fstype: &str, flags: usize, data: &str) -> SysResult {
        let (s, t, f, d) = (cpath(source), cpath(target), cpath(fstype), cpath(data));
        // SAFETY: four NUL-terminated strings.
        sys::check(unsafe {
            sys::syscall5(
                sys::nr::MOUNT,
                s.as_ptr() as usize,
                t.as_ptr() as usize,
                f.as_ptr() as usize,
                flags,
                d.as_ptr() as usize,
            )
        })
    }

    /// tmpfs `size=`: writes beyond it are short, then ENOSPC; freed space is usable again;
    /// the size is shown in /proc/self/mounts; a malformed size is EINVAL.
    fn tmpfs_size_limit() {
        in_newns("tmpfs_size_limit", || {
            check_eq!(
                mount_data("tmpfs", DIR, "tmpfs", 0, "size=abc"),
                Err(EINVAL)
            );
            check_eq!(mount_data("tmpfs", DIR, "tmpfs", 0, "size=64k"), Ok(0));
            let opts = options_of(DIR).unwrap_or_default();
            check!(has_opt(&opts, "size=64k"), "options {}", opts);
            let f = format!("{}/big", DIR);
            let fd = check_ok!(open(&f, sys::O_RDWR | sys::O_CREAT));
            let buf = alloc::vec![7u8; 100 * 1024];
            check_eq!(sys::write(fd, &buf), Ok(64 * 1024));
            check_eq!(sys::write(fd, b"x"), Err(ENOSPC));
            let g = format!("{}/other", DIR);
            let fd2 = check_ok!(open(&g, sys::O_RDWR | sys::O_CREAT));
            check_eq!(sys::write(fd2, b"y"), Err(ENOSPC));
            // Truncating frees pages for the other file.
            check_eq!(truncate(&f, 4096), Ok(0));
            check_eq!(sys::write(fd2, &buf[..8192]), Ok(8192));
            check_ok!(sys::close(fd));
            check_ok!(sys::close(fd2));
            check_eq!(sys::unlink(&cpath(&g)), Ok(0));
            check_eq!(sys::unlink(&cpath(&f)), Ok(0));
            // All 64 KiB are free again.
            let fd = check_ok!(open(&f, sys::O_RDWR | sys::O_CREAT));
            check_eq!(sys::write(fd, &buf), Ok(64 * 1024));
            check_ok!(sys::close(fd));
            // Suffixes m and g, and a percentage, are accepted.
            let sub = format!("{}/sub", DIR);
            check_ok!(mkdir_p(&sub, 0o755));
            check_eq!(mount_data("tmpfs", &sub, "tmpfs", 0, "size=1m"), Ok(0));
            let opts = options_of(&sub).unwrap_or_default();
            check!(has_opt(&opts, "size=1024k"), "options {}", opts);
            check_eq!(mount_data("tmpfs", &sub, "tmpfs", 0, "size=10%"), Ok(0));
            check_eq!(mount_data("tmpfs", &sub, "tmpfs", 0, "size=1g"), Ok(0));
            let opts = options_of(&sub).unwrap_or_default();
            check!(has_opt(&opts, "size=1048576k"), "options {}", opts);
        });
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            noexec_and_nosuid,
            nodev_refuses_device_nodes,
            rdonly_refuses_metadata_changes,
            tmpfs_size_limit,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
