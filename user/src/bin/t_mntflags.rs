//! Per-mount flags honoured: `MS_NOEXEC` (execve `EACCES`), `MS_NODEV` (opening a device node
//! `EACCES`), `MS_NOSUID` shown in `/proc/self/mounts`, and a read-only mount refusing
//! `truncate`, `chmod`, `chown` and `utimensat` with `EROFS`; tmpfs `size=` (short write, then
//! `ENOSPC`; shown in `/proc/self/mounts`); shared subtrees: peers in one tree and across
//! containers, a slave receiving and not sending, private and unbindable mounts, and the
//! `shared:N`/`master:N`/`unbindable` fields of `/proc/self/mountinfo`.
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
    const NR_CHOWN: usize = 92;
    const NR_MKNOD: usize = 133;
    const NR_UTIMENSAT: usize = 280;
    const AT_FDCWD: usize = -100isize as usize;
    const S_IFCHR: usize = 0o020000;
    const EROFS: i32 = 30;
    const ENOSPC: i32 = 28;
    const ELOOP: i32 = 40;
    const DIR: &str = "/tmp/t_mntflags.d";
    const DIR2: &str = "/tmp/t_mntflags.e";
    const MS_BIND: usize = 4096;
    const MS_REC: usize = 16384;
    const MS_UNBINDABLE: usize = 1 << 17;
    const MS_PRIVATE: usize = 1 << 18;
    const MS_SLAVE: usize = 1 << 19;
    const MS_SHARED: usize = 1 << 20;

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    fn truncate(p: &str, len: usize) -> SysResult {
        sys::truncate(&cpath(p), len)
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
        check_ok!(mkdir_p(DIR2, 0o755));
        match clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
            check_eq!(make_root_private(), Ok(0));
            f()
        }) {
            Ok(pid) => check_eq!(wait_exit(pid), Exit::Code(0)),
            Err(e) => println!("SKIP {}: clone(CLONE_NEWNS) gives {}", case, e),
        }
        let _ = rmdir(DIR);
        let _ = rmdir(DIR2);
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

    /// A read-only mount refuses truncate, chmod, chown, utimensat and access(W_OK) with
    /// EROFS; a remount
    /// read-only is EBUSY while a file there is open for writing.
    fn rdonly_refuses_metadata_changes() {
        in_newns("rdonly_refuses_metadata_changes", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let f = format!("{}/file", DIR);
            check_ok!(touch(&f));
            check_ok!(write_text(&f, b"hello"));
            // Not while a file there is open for writing (a reader does not count).
            let w = check_ok!(open(&f, sys::O_WRONLY));
            let r = check_ok!(open(&f, sys::O_RDONLY));
            check_eq!(
                mount("tmpfs", DIR, "tmpfs", MS_REMOUNT | MS_RDONLY),
                Err(EBUSY)
            );
            check_ok!(sys::close(w));
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_REMOUNT | MS_RDONLY), Ok(0));
            check_ok!(sys::close(r));
            check_eq!(truncate(&f, 1), Err(EROFS));
            check_eq!(chmod(&f, 0o600), Err(EROFS));
            check_eq!(chown(&f, 0, 0), Err(EROFS));
            check_eq!(utimensat_now(&f), Err(EROFS));
            check_eq!(open(&f, sys::O_WRONLY), Err(EROFS));
            let fc = alloc::ffi::CString::new(f.as_str()).unwrap();
            check_eq!(sys::access(&fc, 2), Err(EROFS), "access(W_OK)");
            check_eq!(sys::access(&fc, 4), Ok(0), "access(R_OK)");
            check_eq!(read_text(&f).as_deref(), Ok("hello"));
            check_eq!(mount("tmpfs", DIR, "tmpfs", MS_REMOUNT), Ok(0));
            check_eq!(truncate(&f, 1), Ok(0));
            check_eq!(sys::access(&fc, 2), Ok(0), "access(W_OK) once writable");
            check_eq!(chmod(&f, 0o600), Ok(0));
            check_eq!(chown(&f, 0, 0), Ok(0));
            check_eq!(utimensat_now(&f), Ok(0));
            check_eq!(read_text(&f).as_deref(), Ok("h"));
        });
    }

    /// The optional fields of the `/proc/self/mountinfo` line for mount point `target`
    /// (`None` when it is not a mount point).
    fn prop_of(target: &str) -> Option<alloc::vec::Vec<alloc::string::String>> {
        let text = read_text("/proc/self/mountinfo").ok()?;
        text.lines().rev().find_map(|l| {
            let f: alloc::vec::Vec<&str> = l.split(' ').collect();
            if f.get(4) != Some(&target) {
                return None;
            }
            Some(
                f[6..]
                    .iter()
                    .take_while(|x| **x != "-")
                    .map(|x| alloc::string::String::from(*x))
                    .collect(),
            )
        })
    }

    /// The N of a `shared:N` (or `master:N`, by `tag`) field of mount point `target`.
    fn group_of(target: &str, tag: &str) -> Option<u32> {
        prop_of(target)?
            .iter()
            .find_map(|f| f.strip_prefix(tag)?.parse().ok())
    }

    fn set_prop(target: &str, flags: usize) -> SysResult {
        mount("none", target, "", flags)
    }

    /// A shared mount and its bind are peers: a mount and an unmount under one show under
    /// the other; the new mount is shared too.
    fn shared_peers_in_one_tree() {
        in_newns("shared_peers_in_one_tree", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_eq!(group_of(DIR, "shared:"), None, "private by default");
            check_eq!(set_prop(DIR, MS_SHARED), Ok(0));
            let g = group_of(DIR, "shared:");
            check!(g.is_some(), "fields {:?}", prop_of(DIR));
            check_eq!(mount(DIR, DIR2, "", MS_BIND), Ok(0));
            check_eq!(group_of(DIR2, "shared:"), g, "the bind is a peer");
            let (m, m2) = (format!("{}/m", DIR), format!("{}/m", DIR2));
            check_ok!(mkdir_p(&m, 0o755));
            check_eq!(mount("tmpfs", &m, "tmpfs", 0), Ok(0));
            let k = group_of(&m, "shared:");
            check!(k.is_some() && k != g, "fields {:?}", prop_of(&m));
            check_eq!(group_of(&m2, "shared:"), k, "propagated to the peer");
            check_ok!(touch(&format!("{}/f", m)));
            check!(ulib::mnt::access_ok(&format!("{}/f", m2)));
            check_eq!(ulib::cred::umount2(&m, 0), Ok(0));
            check_eq!(prop_of(&m2), None, "the unmount propagated");
            check_eq!(prop_of(&m), None);
        });
    }

    /// Across containers: a copy of a shared mount is a peer (mounts in the child show in
    /// the parent); a slave receives the master's mounts and sends none back.
    fn propagation_across_containers() {
        in_newns("propagation_across_containers", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_eq!(set_prop(DIR, MS_SHARED), Ok(0));
            let g = group_of(DIR, "shared:");
            for d in ["a", "b", "c"] {
                check_ok!(mkdir_p(&format!("{}/{}", DIR, d), 0o755));
            }
            let (a, b, c) = (
                format!("{}/a", DIR),
                format!("{}/b", DIR),
                format!("{}/c", DIR),
            );
            // A peer in a new container: its mount shows here.
            let pid = check_ok!(clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
                check_eq!(group_of(DIR, "shared:"), g, "the copy is a peer");
                check_eq!(mount("tmpfs", &c, "tmpfs", 0), Ok(0));
            }));
            check_eq!(wait_exit(pid), Exit::Code(0));
            check!(prop_of(&c).is_some(), "the child's mount propagated back");
            check_eq!(ulib::cred::umount2(&c, 0), Ok(0));
            // A slave.
            let up = check_ok!(sys::pipe());
            let down = check_ok!(sys::pipe());
            let pid = check_ok!(clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
                check_eq!(set_prop(DIR, MS_SLAVE), Ok(0));
                check_eq!(group_of(DIR, "master:"), g);
                check_eq!(group_of(DIR, "shared:"), None);
                check_eq!(mount("tmpfs", &b, "tmpfs", 0), Ok(0));
                check_eq!(sys::write(up[1], b"1"), Ok(1));
                let mut buf = [0u8; 1];
                check_eq!(sys::read(down[0], &mut buf), Ok(1));
                check!(
                    prop_of(&a).is_some(),
                    "the master's mount reached the slave"
                );
                check!(
                    group_of(&a, "master:").is_some(),
                    "fields {:?}",
                    prop_of(&a)
                );
            }));
            let mut buf = [0u8; 1];
            check_eq!(sys::read(up[0], &mut buf), Ok(1));
            check_eq!(prop_of(&b), None, "a slave's mount does not come back");
            check_eq!(mount("tmpfs", &a, "tmpfs", 0), Ok(0));
            check_eq!(sys::write(down[1], b"1"), Ok(1));
            check_eq!(wait_exit(pid), Exit::Code(0));
            for fd in up.iter().chain(down.iter()) {
                let _ = sys::close(*fd);
            }
        });
    }

    /// Private and unbindable mounts: MS_BIND of an unbindable mount is EINVAL, shown as
    /// `unbindable`; a path that is not a mount point is EINVAL; MS_REC reaches the
    /// mounts below.
    fn private_and_unbindable() {
        in_newns("private_and_unbindable", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let sub = format!("{}/sub", DIR);
            check_ok!(mkdir_p(&sub, 0o755));
            check_eq!(set_prop(&sub, MS_SHARED), Err(EINVAL));
            check_eq!(mount("tmpfs", &sub, "tmpfs", 0), Ok(0));
            check_eq!(set_prop(DIR, MS_SHARED | MS_REC), Ok(0));
            check!(group_of(&sub, "shared:").is_some(), "rec reached below");
            check_eq!(set_prop(DIR, MS_UNBINDABLE), Ok(0));
            let fields = prop_of(DIR).unwrap_or_default();
            check!(
                fields.iter().any(|f| f == "unbindable"),
                "fields {:?}",
                fields
            );
            check_eq!(group_of(DIR, "shared:"), None);
            check!(
                group_of(&sub, "shared:").is_some(),
                "not rec: sub stays shared"
            );
            check_eq!(mount(DIR, DIR2, "", MS_BIND), Err(EINVAL));
            check_eq!(set_prop(DIR, MS_PRIVATE | MS_REC), Ok(0));
            check_eq!(prop_of(DIR), Some(alloc::vec::Vec::new()));
            check_eq!(prop_of(&sub), Some(alloc::vec::Vec::new()));
            check_eq!(mount(DIR, DIR2, "", MS_BIND), Ok(0));
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

    /// A tmpfs remounted with a new `size=`: it grows (the write goes through), it does not
    /// shrink below what it holds (EINVAL); `size=0` is no limit and cannot get one later
    /// (EINVAL, shown as `size=0k`); without `size=` there is a default limit, not shown,
    /// that a remount changes.
    fn tmpfs_remount_size() {
        in_newns("tmpfs_remount_size", || {
            check_eq!(mount_data("tmpfs", DIR, "tmpfs", 0, "size=8k"), Ok(0));
            let f = format!("{}/f", DIR);
            let fd = check_ok!(open(&f, sys::O_RDWR | sys::O_CREAT));
            let buf = alloc::vec![1u8; 16 * 1024];
            check_eq!(sys::write(fd, &buf), Ok(8192));
            check_eq!(
                mount_data("tmpfs", DIR, "tmpfs", MS_REMOUNT, "size=16k"),
                Ok(0)
            );
            check!(has_opt(&options_of(DIR).unwrap_or_default(), "size=16k"));
            check_eq!(sys::write(fd, &buf), Ok(8192));
            check_eq!(
                mount_data("tmpfs", DIR, "tmpfs", MS_REMOUNT, "size=4k"),
                Err(EINVAL)
            );
            check!(has_opt(&options_of(DIR).unwrap_or_default(), "size=16k"));
            check_ok!(sys::close(fd));
            // size=0 is no limit; a remount sets one.
            check_eq!(mount_data("tmpfs", DIR2, "tmpfs", 0, "size=0"), Ok(0));
            let g = format!("{}/g", DIR2);
            let fd = check_ok!(open(&g, sys::O_RDWR | sys::O_CREAT));
            check_eq!(sys::write(fd, &buf), Ok(buf.len()));
            check_eq!(
                mount_data("tmpfs", DIR2, "tmpfs", MS_REMOUNT, "size=8k"),
                Err(EINVAL)
            );
            check_eq!(
                mount_data("tmpfs", DIR2, "tmpfs", MS_REMOUNT, "size=20k"),
                Err(EINVAL)
            );
            check!(has_opt(&options_of(DIR2).unwrap_or_default(), "size=0k"));
            check_ok!(sys::close(fd));
            // Without size= a tmpfs has Linux's default limit, and a remount changes it.
            let sub = format!("{}/sub", DIR2);
            check_ok!(mkdir_p(&sub, 0o755));
            check_eq!(mount_data("tmpfs", &sub, "tmpfs", 0, ""), Ok(0));
            check!(!options_of(&sub).unwrap_or_default().contains("size="));
            check_eq!(
                mount_data("tmpfs", &sub, "tmpfs", MS_REMOUNT, "size=20k"),
                Ok(0)
            );
            check!(has_opt(&options_of(&sub).unwrap_or_default(), "size=20k"));
        });
    }

    /// MS_MOVE: the mount and the mounts below it move (a file follows, the old place is
    /// empty, the working directory inside keeps working); ELOOP into itself; EINVAL for a
    /// path that is not a mount point and when the mount's parent is shared.
    fn move_mounts() {
        const MS_MOVE: usize = 8192;
        in_newns("move_mounts", || {
            let a = format!("{}/a", DIR2);
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&format!("{}/sub", DIR), 0o755));
            check_eq!(mount("tmpfs", &format!("{}/sub", DIR), "tmpfs", 0), Ok(0));
            check_ok!(touch(&format!("{}/sub/f", DIR)));
            check_eq!(mount("tmpfs", DIR2, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&a, 0o755));
            check_eq!(sys::chdir(&cpath(&format!("{}/sub", DIR))), Ok(0));
            check_eq!(mount(DIR, &a, "", MS_MOVE), Ok(0));
            check!(ulib::mnt::access_ok(&format!("{}/sub/f", a)));
            check!(!ulib::mnt::access_ok(&format!("{}/sub/f", DIR)));
            check!(ulib::mnt::access_ok("f"), "the cwd moved with its mount");
            check_eq!(prop_of(DIR), None);
            check!(prop_of(&a).is_some() && prop_of(&format!("{}/sub", a)).is_some());
            check_eq!(sys::chdir(c"/"), Ok(0));
            check_eq!(mount(&a, &format!("{}/sub/x", a), "", MS_MOVE), Err(ENOENT));
            check_ok!(mkdir_p(&format!("{}/x", a), 0o755));
            check_eq!(mount(&a, &format!("{}/x", a), "", MS_MOVE), Err(ELOOP));
            check_eq!(mount(&format!("{}/x", a), DIR, "", MS_MOVE), Err(EINVAL));
            check_eq!(set_prop(DIR2, MS_SHARED), Ok(0));
            check_eq!(mount(&a, DIR, "", MS_MOVE), Err(EINVAL), "parent shared");
        });
    }

    /// Propagation of whole trees and of shared slaves across containers: an rbind under
    /// a shared mount reaches the peer with its mounts below; a child's mount that is a
    /// slave and shared gets copies that are slaves of the new mount; an umount leaves a
    /// copy with a mount below it in place, and a file open in a copy makes it EBUSY.
    fn tree_propagation() {
        in_newns("tree_propagation", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_eq!(set_prop(DIR, MS_SHARED), Ok(0));
            check_eq!(mount("tmpfs", DIR2, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&format!("{}/in", DIR2), 0o755));
            check_eq!(mount("tmpfs", &format!("{}/in", DIR2), "tmpfs", 0), Ok(0));
            check_ok!(touch(&format!("{}/in/f", DIR2)));
            for d in ["r", "s", "busy"] {
                check_ok!(mkdir_p(&format!("{}/{}", DIR, d), 0o755));
            }
            let [ready_r, ready_w] = pipe_pair();
            let [done_r, done_w] = pipe_pair();
            let (r, s, busy) = (
                format!("{}/r", DIR),
                format!("{}/s", DIR),
                format!("{}/busy", DIR),
            );
            let pid = check_ok!(clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
                close_all(&[ready_r, done_w]);
                check_eq!(set_prop(DIR, MS_SLAVE), Ok(0));
                check_eq!(set_prop(DIR, MS_SHARED), Ok(0));
                send(ready_w, 1);
                wait_go(done_r);
                // The parent's rbind arrived with the mount below it.
                check!(ulib::mnt::access_ok(&format!("{}/in/f", r)));
                let m = group_of(&s, "master:");
                check!(
                    m.is_some() && group_of(&s, "shared:").is_some(),
                    "{:?}",
                    prop_of(&s)
                );
                send(ready_w, m.map_or(0, |g| g as i64));
                wait_go(done_r);
            }));
            close_all(&[ready_w, done_r]);
            check_eq!(recv(ready_r), Some(1));
            check_eq!(mount(DIR2, &r, "", MS_BIND | MS_REC), Ok(0));
            check_eq!(mount("tmpfs", &s, "tmpfs", 0), Ok(0));
            go(done_w);
            let m = recv(ready_r);
            close_all(&[done_w]);
            check_eq!(m, group_of(&s, "shared:").map(|g| g as i64));
            check_eq!(wait_exit(pid), Exit::Code(0));
            close_all(&[ready_r]);
            // A peer inside this process's own tree: a bind of DIR, made private below.
            let peer = format!("{}/peer", DIR2);
            check_ok!(mkdir_p(&peer, 0o755));
            check_eq!(mount(DIR, &peer, "", MS_BIND), Ok(0));
            check_eq!(mount("tmpfs", &busy, "tmpfs", 0), Ok(0));
            let copy = format!("{}/busy", peer);
            check!(prop_of(&copy).is_some(), "{:?}", prop_of(&copy));
            check_eq!(set_prop(&copy, MS_PRIVATE), Ok(0));
            check_ok!(mkdir_p(&format!("{}/x", copy), 0o755));
            check_eq!(mount("tmpfs", &format!("{}/x", copy), "tmpfs", 0), Ok(0));
            check_eq!(ulib::cred::umount2(&busy, 0), Ok(0));
            check_eq!(prop_of(&busy), None);
            check!(prop_of(&copy).is_some(), "a copy with a mount below stays");
            // A file open in a copy makes the umount busy; closed, the copy goes too.
            let open2 = format!("{}/open", DIR);
            check_ok!(mkdir_p(&open2, 0o755));
            check_eq!(mount("tmpfs", &open2, "tmpfs", 0), Ok(0));
            let f = format!("{}/open/f", peer);
            let fd = check_ok!(open(&f, sys::O_RDWR | sys::O_CREAT));
            check_eq!(ulib::cred::umount2(&open2, 0), Err(EBUSY));
            check_ok!(sys::close(fd));
            check_eq!(ulib::cred::umount2(&open2, 0), Ok(0));
            check_eq!(prop_of(&format!("{}/open", peer)), None);
        });
    }

    /// A bind mount of a single file shows the source file at the target file (reads and
    /// writes go to the source); umount shows the target again; a directory on a file and a
    /// file on a directory are ENOTDIR.
    fn file_bind() {
        in_newns("file_bind", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let (src, dst) = (format!("{}/src", DIR), format!("{}/dst", DIR));
            for f in [&src, &dst] {
                check_ok!(touch(f));
            }
            check_ok!(write_text(&src, b"source"));
            check_ok!(write_text(&dst, b"target"));
            check_eq!(mount(&src, &dst, "", MS_BIND), Ok(0));
            check_eq!(read_text(&dst).as_deref(), Ok("source"));
            check_ok!(write_text(&dst, b"written"));
            check_eq!(read_text(&src).as_deref(), Ok("written"));
            check!(prop_of(&dst).is_some(), "listed in mountinfo");
            check_eq!(mount(DIR2, &dst, "", MS_BIND), Err(ENOTDIR));
            check_eq!(mount(&src, DIR2, "", MS_BIND), Err(ENOTDIR));
            check_eq!(ulib::cred::umount2(&dst, 0), Ok(0));
            check_eq!(read_text(&dst).as_deref(), Ok("target"));
        });
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            noexec_and_nosuid,
            nodev_refuses_device_nodes,
            rdonly_refuses_metadata_changes,
            tmpfs_size_limit,
            shared_peers_in_one_tree,
            propagation_across_containers,
            private_and_unbindable,
            tmpfs_remount_size,
            move_mounts,
            tree_propagation,
            file_bind,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
