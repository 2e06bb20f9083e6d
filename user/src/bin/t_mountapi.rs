//! The new mount API: a tmpfs made with `fsopen`/`fsconfig`/`fsmount` and attached with
//! `move_mount` (a file written and read through it, its line in `/proc/self/mountinfo`),
//! `fsconfig`'s errors and message, an `open_tree(OPEN_TREE_CLONE)` copy of a bind (with and
//! without `AT_RECURSIVE`) attached elsewhere, `mount_setattr` (read-only making writes
//! `EROFS`, recursive, atime, propagation, `E2BIG`/`EINVAL`/`EBUSY`), a detached tree changed
//! through its descriptor, a detached tree freed with its last descriptor (the tmpfs memory
//! it held comes back), and mount containers (`EPERM` in a user container that does not own
//! the mount container, `EINVAL` attaching a tree from another mount container).
//!
//! Each case runs in a `CLONE_NEWNS` child whose tree is made rprivate first.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::cred::{make_root_private, mount, umount2};
    use ulib::mnt::{access_ok, mkdir_p, rmdir};
    use ulib::mountapi::*;
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok, println};

    const MNT_DETACH: usize = 2;
    const F_GETFD: usize = 1;
    const F_GETFL: usize = 3;
    const O_PATH: usize = 0o10000000;
    const S_IFMT: u32 = 0o170000;
    const S_IFDIR: u32 = 0o040000;
    const EROFS: i32 = 30;
    const EOPNOTSUPP: i32 = 95;
    const ENODATA: i32 = 61;
    const ENODEV: i32 = 19;
    const E2BIG: i32 = 7;
    const DIR: &str = "/tmp/t_mountapi.d";
    const DIR2: &str = "/tmp/t_mountapi.e";

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    /// A tmpfs made through the new API with `size`, detached, in a descriptor.
    fn new_tmpfs(size: &str, attr: usize) -> SysResult<i32> {
        let fd = fsopen("tmpfs", FSOPEN_CLOEXEC)?;
        fsconfig_set_string(fd, "size", size)?;
        fsconfig_create(fd)?;
        let m = fsmount(fd, FSMOUNT_CLOEXEC, attr);
        sys::close(fd)?;
        m
    }

    fn write_file(p: &str, data: &[u8]) -> SysResult {
        let fd = sys::open(
            &cpath(p),
            sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC | sys::O_CLOEXEC,
            0o644,
        )?;
        let r = sys::write_all(fd, data).map(|_| data.len());
        sys::close(fd)?;
        r
    }

    /// Runs `f` in a `CLONE_NEWNS` child with an rprivate tree, `/proc`, `DIR` and `DIR2`.
    fn in_newns(case: &str, f: impl FnOnce()) {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(DIR, 0o755));
        check_ok!(mkdir_p(DIR2, 0o755));
        match clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
            check_eq!(make_root_private(), Ok(0));
            if !access_ok("/proc/self/mountinfo") {
                let _ = sys::mkdir(c"/proc", 0o555);
                check_eq!(mount("proc", "/proc", "proc", 0), Ok(0));
            }
            f()
        }) {
            Ok(pid) => check_eq!(wait_exit(pid), Exit::Code(0)),
            Err(e) => println!("SKIP {}: clone(CLONE_NEWNS) gives {}", case, e),
        }
        let _ = rmdir(DIR);
        let _ = rmdir(DIR2);
    }

    /// The fields of the `/proc/self/mountinfo` line for mount point `target` (the visible
    /// one), split at spaces.
    fn mountinfo(target: &str) -> Option<Vec<String>> {
        let text = read_text("/proc/self/mountinfo").ok()?;
        text.lines().rev().find_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.get(4) == Some(&target)).then(|| f.iter().map(|x| String::from(*x)).collect())
        })
    }

    /// The per-mount options of `target` (`rw,nodev,relatime`).
    fn options(target: &str) -> String {
        mountinfo(target)
            .and_then(|f| f.get(5).cloned())
            .unwrap_or_default()
    }

    fn has_opt(opts: &str, o: &str) -> bool {
        opts.split(',').any(|x| x == o)
    }

    fn mount_count() -> usize {
        read_text("/proc/self/mountinfo").map_or(0, |t| t.lines().count())
    }

    /// fsopen, fsconfig (size, mode, source), CMD_CREATE, fsmount with MOUNT_ATTR_NODEV, then
    /// move_mount: the tmpfs is at DIR, a file written there reads back, mountinfo shows it.
    fn fsmount_tmpfs_and_move_mount() {
        in_newns("fsmount_tmpfs_and_move_mount", || {
            let fd = check_ok!(fsopen("tmpfs", FSOPEN_CLOEXEC));
            check_eq!(sys::fcntl(fd, F_GETFD, 0), Ok(1), "FSOPEN_CLOEXEC");
            check_eq!(fsconfig_set_string(fd, "size", "1m"), Ok(0));
            check_eq!(fsconfig_set_string(fd, "mode", "0710"), Ok(0));
            check_eq!(fsconfig_set_string(fd, "source", "bulk"), Ok(0));
            check_eq!(fsconfig_create(fd), Ok(0));
            let before = mount_count();
            let m = check_ok!(fsmount(fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV as usize));
            check_ok!(sys::close(fd));
            check_eq!(mount_count(), before, "a detached mount is in no tree");
            let st = check_ok!(sys::fstat(m));
            check_eq!(st.st_mode & S_IFMT, S_IFDIR);
            check_eq!(st.st_mode & 0o7777, 0o710, "mode= on the root");
            check_eq!(sys::fcntl(m, F_GETFL, 0).map(|f| f & O_PATH), Ok(O_PATH));
            // LTP move_mount02's cases: paths inside the detached tree are walked in it.
            let e = MOVE_MOUNT_F_EMPTY_PATH;
            check_eq!(move_mount(m, "invalid", AT_FDCWD, DIR, e), Err(ENOENT));
            check_eq!(move_mount(-1, "", AT_FDCWD, DIR, e), Err(EBADF));
            check_eq!(move_mount(m, "", -1, "tmp", e), Err(EBADF));
            check_eq!(move_mount(m, "", AT_FDCWD, "/nonexistent", e), Err(ENOENT));
            check_eq!(
                move_mount(m, "", AT_FDCWD, DIR, 0),
                Err(ENOENT),
                "no F_EMPTY_PATH"
            );
            check_eq!(move_mount(m, "", AT_FDCWD, DIR, 0x08), Err(EINVAL));
            check_eq!(attach_tree(m, DIR), Ok(0));
            check_eq!(mount_count(), before + 1);
            let f = format!("{}/file", DIR);
            check_eq!(write_file(&f, b"through the new API"), Ok(19));
            check_eq!(read_text(&f).as_deref(), Ok("through the new API"));
            let info = mountinfo(DIR).unwrap_or_default();
            check_eq!(
                info.get(3).map(String::as_str),
                Some("/"),
                "root: {:?}",
                info
            );
            let tail: Vec<&str> = info
                .iter()
                .map(String::as_str)
                .skip_while(|x| *x != "-")
                .collect();
            check_eq!(tail.get(1).copied(), Some("tmpfs"), "type: {:?}", info);
            check_eq!(tail.get(2).copied(), Some("bulk"), "source: {:?}", info);
            check!(has_opt(&options(DIR), "nodev"), "options {}", options(DIR));
            check!(
                tail.get(3).is_some_and(|o| has_opt(o, "size=1024k")),
                "super options: {:?}",
                info
            );
            // The descriptor now refers to the attached mount: moving it moves the mount.
            check_eq!(attach_tree(m, DIR2), Ok(0));
            check!(mountinfo(DIR).is_none(), "moved away from {}", DIR);
            let f = format!("{}/file", DIR2);
            check_ok!(sys::close(m));
            check_eq!(
                read_text(&f).as_deref(),
                Ok("through the new API"),
                "still mounted"
            );
            // ENOSPC past size=1m, as a mount(2) tmpfs.
            let big = alloc::vec![7u8; 2 << 20];
            check_eq!(write_file(&format!("{}/big", DIR2), &big), Err(28));
            check_eq!(umount2(DIR2, 0), Ok(0));
            check_eq!(mount_count(), before);
        });
    }

    /// Every type fsopen knows creates and mounts; others ENODEV.
    fn fsopen_types() {
        in_newns("fsopen_types", || {
            for ty in [
                "tmpfs", "ramfs", "proc", "sysfs", "cgroup2", "mqueue", "devpts",
            ] {
                let fd = check_ok!(fsopen(ty, FSOPEN_CLOEXEC));
                check_eq!(fsconfig_create(fd), Ok(0), "{}", ty);
                let m = check_ok!(fsmount(fd, FSMOUNT_CLOEXEC, 0));
                check_eq!(attach_tree(m, DIR), Ok(0), "{}", ty);
                let info = mountinfo(DIR).unwrap_or_default();
                check!(
                    info.iter().skip_while(|x| *x != "-").nth(1) == Some(&String::from(ty)),
                    "{:?}",
                    info
                );
                check_eq!(umount2(DIR, 0), Ok(0), "{}", ty);
                check_ok!(sys::close(m));
                check_ok!(sys::close(fd));
            }
            let fd = check_ok!(fsopen("proc", 0));
            check_eq!(fsconfig_create(fd), Ok(0));
            let m = check_ok!(fsmount(fd, 0, 0));
            check_eq!(attach_tree(m, DIR), Ok(0));
            check!(
                access_ok(&format!("{}/self/mountinfo", DIR)),
                "a working proc"
            );
            check_eq!(umount2(DIR, 0), Ok(0));
            check_ok!(sys::close(m));
            check_ok!(sys::close(fd));
            check_eq!(fsopen("nosuchfs", 0), Err(ENODEV));
            check_eq!(fsopen("tmpfs", 2), Err(EINVAL));
        });
    }

    /// fsconfig's and fsmount's errors, and the message read(2) gives.
    fn fsconfig_errors() {
        in_newns("fsconfig_errors", || {
            let fd = check_ok!(fsopen("tmpfs", FSOPEN_CLOEXEC));
            let mut buf = [0u8; 128];
            check_eq!(sys::read(fd, &mut buf), Err(ENODATA), "no message yet");
            check_eq!(fsconfig_set_string(fd, "bogus", "1"), Err(EINVAL));
            let n = check_ok!(sys::read(fd, &mut buf));
            check_eq!(
                core::str::from_utf8(&buf[..n]),
                Ok("e tmpfs: Unknown parameter 'bogus'")
            );
            check_eq!(
                fsconfig_set_flag(fd, "size"),
                Err(EINVAL),
                "size takes a string"
            );
            check_eq!(fsconfig_set_string(fd, "size", "lots"), Err(EINVAL));
            check_eq!(fsconfig_set_string(fd, "source", "a"), Ok(0));
            check_eq!(
                fsconfig_set_string(fd, "source", "b"),
                Err(EINVAL),
                "one source"
            );
            let k = cpath("size");
            check_eq!(
                fsconfig_raw(fd, FSCONFIG_SET_FLAG, k.as_ptr() as usize, 1, 0),
                Err(EINVAL),
                "a flag has no value"
            );
            check_eq!(
                fsconfig_raw(fd, FSCONFIG_CMD_CREATE, k.as_ptr() as usize, 0, 0),
                Err(EINVAL),
                "a command has no key"
            );
            check_eq!(fsconfig_raw(fd, 99, 0, 0, 0), Err(EOPNOTSUPP));
            check_eq!(fsmount(fd, 0, 0), Err(EBUSY), "not created yet");
            check_eq!(
                fsconfig_raw(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0),
                Err(EBUSY)
            );
            check_eq!(fsconfig_create(fd), Ok(0));
            check_eq!(fsconfig_create(fd), Err(EBUSY), "created once");
            check_eq!(
                fsconfig_set_string(fd, "size", "2m"),
                Err(EBUSY),
                "after create"
            );
            check_eq!(fsmount(fd, 2, 0), Err(EINVAL), "unknown flag");
            check_eq!(fsmount(fd, 0, 0x30), Err(EINVAL), "undefined atime");
            check_eq!(fsmount(fd, 0, MOUNT_ATTR_IDMAP as usize), Err(EINVAL));
            let pipe = check_ok!(sys::pipe2(sys::O_CLOEXEC));
            check_eq!(fsmount(pipe[0], 0, 0), Err(EINVAL), "not an fsopen fd");
            check_eq!(fsconfig_set_string(pipe[0], "size", "1m"), Err(EINVAL));
            check_eq!(fsconfig_set_string(999, "size", "1m"), Err(EBADF));
            check_eq!(fsconfig_set_string(-1, "size", "1m"), Err(EINVAL));
            for p in pipe {
                check_ok!(sys::close(p));
            }
            check_ok!(sys::close(fd));
            // The `ro` flag gives a read-only mount.
            let fd = check_ok!(fsopen("tmpfs", FSOPEN_CLOEXEC));
            check_eq!(fsconfig_set_flag(fd, "ro"), Ok(0));
            check_eq!(fsconfig_create(fd), Ok(0));
            let m = check_ok!(fsmount(fd, FSMOUNT_CLOEXEC, 0));
            check_eq!(attach_tree(m, DIR), Ok(0));
            check_eq!(write_file(&format!("{}/f", DIR), b"x"), Err(EROFS));
            check_eq!(umount2(DIR, 0), Ok(0));
            check_ok!(sys::close(m));
            check_ok!(sys::close(fd));
        });
    }

    /// fspick: a tmpfs's size changed with FSCONFIG_CMD_RECONFIGURE (shown in mountinfo, a
    /// write past the old size fits); no create or fsmount through it; `ro` EINVAL; not a
    /// mount root EINVAL; a detached tree's top through its descriptor.
    fn fspick_reconfigures_a_tmpfs() {
        in_newns("fspick_reconfigures_a_tmpfs", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let d = format!("{}/d", DIR);
            check_ok!(mkdir_p(&d, 0o755));
            check_eq!(
                fspick(AT_FDCWD, &d, FSPICK_CLOEXEC),
                Err(EINVAL),
                "no mount root"
            );
            check_eq!(fspick(AT_FDCWD, DIR, 0x10), Err(EINVAL), "unknown flag");
            let m = check_ok!(new_tmpfs("1m", 0));
            check_eq!(attach_tree(m, &d), Ok(0));
            let fd = check_ok!(fspick(AT_FDCWD, &d, FSPICK_CLOEXEC));
            check_eq!(sys::fcntl(fd, F_GETFD, 0), Ok(1));
            check_eq!(fsconfig_set_string(fd, "size", "4m"), Ok(0));
            check_eq!(fsconfig_raw(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0), Ok(0));
            let info = mountinfo(&d).unwrap_or_default();
            check!(
                info.last().is_some_and(|o| has_opt(o, "size=4096k")),
                "{:?}",
                info
            );
            let big = alloc::vec![7u8; 2 << 20];
            check_eq!(write_file(&format!("{}/big", d), &big), Ok(2 << 20));
            check_eq!(
                fsconfig_create(fd),
                Err(EBUSY),
                "fspick's context creates nothing"
            );
            check_eq!(fsmount(fd, 0, 0), Err(EBUSY));
            check_eq!(fsconfig_set_string(fd, "size", "1m"), Ok(0));
            check_eq!(
                fsconfig_raw(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0),
                Err(EINVAL),
                "smaller than what it holds"
            );
            check_eq!(fsconfig_set_flag(fd, "ro"), Ok(0));
            check_eq!(
                fsconfig_raw(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0),
                Err(EINVAL),
                "no read-only superblocks"
            );
            check_ok!(sys::close(fd));
            check_eq!(umount2(&d, 0), Ok(0));
            check_ok!(sys::close(m));
            // A detached tree's top, through its descriptor.
            let m = check_ok!(new_tmpfs("1m", 0));
            let fd = check_ok!(fspick(m, "", FSPICK_EMPTY_PATH));
            check_eq!(fsconfig_set_string(fd, "size", "2m"), Ok(0));
            check_eq!(fsconfig_raw(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0), Ok(0));
            check_ok!(sys::close(fd));
            check_eq!(attach_tree(m, &d), Ok(0));
            let info = mountinfo(&d).unwrap_or_default();
            check!(
                info.last().is_some_and(|o| has_opt(o, "size=2048k")),
                "{:?}",
                info
            );
            check_eq!(umount2(&d, 0), Ok(0));
            check_ok!(sys::close(m));
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    /// open_tree(OPEN_TREE_CLONE) of a bind (a directory inside a tmpfs) attached at DIR2:
    /// the same files, its root in mountinfo; AT_RECURSIVE takes the mount below, without
    /// it the mount below is left out. Without OPEN_TREE_CLONE: an O_PATH descriptor.
    fn open_tree_clone_of_a_bind() {
        in_newns("open_tree_clone_of_a_bind", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let sub = format!("{}/sub", DIR);
            check_ok!(mkdir_p(&sub, 0o755));
            check_ok!(mkdir_p(&format!("{}/inner", sub), 0o755));
            check_eq!(write_file(&format!("{}/file", sub), b"cloned"), Ok(6));
            check_eq!(mount("tmpfs", &format!("{}/inner", sub), "tmpfs", 0), Ok(0));
            check_eq!(write_file(&format!("{}/inner/deep", sub), b"below"), Ok(5));
            let before = mount_count();
            let t = check_ok!(open_tree(
                AT_FDCWD,
                &sub,
                OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC
            ));
            check_eq!(sys::fcntl(t, F_GETFD, 0), Ok(1), "OPEN_TREE_CLOEXEC");
            check_eq!(mount_count(), before, "detached");
            check_eq!(attach_tree(t, DIR2), Ok(0));
            check_eq!(mount_count(), before + 2, "the bind and the mount below it");
            check_eq!(
                read_text(&format!("{}/file", DIR2)).as_deref(),
                Ok("cloned")
            );
            check_eq!(
                read_text(&format!("{}/inner/deep", DIR2)).as_deref(),
                Ok("below")
            );
            let info = mountinfo(DIR2).unwrap_or_default();
            check_eq!(info.get(3).map(String::as_str), Some("/sub"), "{:?}", info);
            check!(
                mountinfo(&format!("{}/inner", DIR2)).is_some(),
                "inner attached"
            );
            // A write through the copy shows in the original: the same file system.
            check_eq!(write_file(&format!("{}/new", DIR2), b"shared"), Ok(6));
            check_eq!(read_text(&format!("{}/new", sub)).as_deref(), Ok("shared"));
            check_eq!(umount2(DIR2, MNT_DETACH), Ok(0));
            check_ok!(sys::close(t));
            // Without AT_RECURSIVE the mount below stays behind.
            let t = check_ok!(open_tree(AT_FDCWD, &sub, OPEN_TREE_CLONE));
            check_eq!(sys::fcntl(t, F_GETFD, 0), Ok(0));
            check_eq!(attach_tree(t, DIR2), Ok(0));
            check_eq!(mount_count(), before + 1);
            check_eq!(
                read_text(&format!("{}/inner/deep", DIR2)),
                Err(ENOENT),
                "the inner tmpfs is not there"
            );
            check_eq!(umount2(DIR2, 0), Ok(0));
            check_ok!(sys::close(t));
            // Without OPEN_TREE_CLONE: an O_PATH descriptor of the path.
            let p = check_ok!(open_tree(AT_FDCWD, &sub, OPEN_TREE_CLOEXEC));
            check_eq!(sys::fcntl(p, F_GETFL, 0).map(|f| f & O_PATH), Ok(O_PATH));
            let mut b = [0u8; 4];
            check_eq!(sys::read(p, &mut b), Err(EBADF));
            check_eq!(
                sys::newfstatat(p as isize, c"file", 0).map(|s| s.st_size),
                Ok(6)
            );
            check_ok!(sys::close(p));
            // An O_PATH descriptor of a mount root moves that mount (MOVE_MOUNT_F_EMPTY_PATH).
            let inner = format!("{}/inner", sub);
            let p = check_ok!(open_tree(AT_FDCWD, &inner, OPEN_TREE_CLOEXEC));
            check_eq!(attach_tree(p, DIR2), Ok(0));
            check_eq!(read_text(&format!("{}/deep", DIR2)).as_deref(), Ok("below"));
            check_eq!(
                move_mount(AT_FDCWD, DIR2, AT_FDCWD, &inner, 0),
                Ok(0),
                "and back"
            );
            check_ok!(sys::close(p));
            // A second descriptor of a detached tree (open_tree without the clone flag) keeps
            // it after the first closes; cloning a detached tree is EINVAL.
            let t = check_ok!(open_tree(AT_FDCWD, &sub, OPEN_TREE_CLONE));
            let t2 = check_ok!(open_tree(t, "", AT_EMPTY_PATH));
            check_eq!(
                open_tree(t, "", AT_EMPTY_PATH | OPEN_TREE_CLONE),
                Err(EINVAL)
            );
            check_ok!(sys::close(t));
            check_eq!(attach_tree(t2, DIR2), Ok(0));
            check_eq!(
                read_text(&format!("{}/file", DIR2)).as_deref(),
                Ok("cloned")
            );
            check_eq!(umount2(DIR2, 0), Ok(0));
            check_ok!(sys::close(t2));
            check_eq!(open_tree(AT_FDCWD, &sub, AT_RECURSIVE), Err(EINVAL));
            check_eq!(open_tree(AT_FDCWD, &sub, 0x4), Err(EINVAL), "unknown flag");
            check_eq!(
                open_tree(AT_FDCWD, "/nonexistent", OPEN_TREE_CLONE),
                Err(ENOENT)
            );
            check_eq!(
                open_tree(AT_FDCWD, "", OPEN_TREE_CLONE | AT_EMPTY_PATH).map(|fd| {
                    let _ = sys::close(fd);
                }),
                Ok(()),
                "AT_EMPTY_PATH: the working directory"
            );
            // move_mount of an attached mount is MS_MOVE.
            check_eq!(
                move_mount(AT_FDCWD, &format!("{}/inner", sub), AT_FDCWD, DIR2, 0),
                Ok(0)
            );
            check_eq!(read_text(&format!("{}/deep", DIR2)).as_deref(), Ok("below"));
            check_eq!(
                move_mount(AT_FDCWD, &sub, AT_FDCWD, DIR2, 0),
                Err(EINVAL),
                "no mount root"
            );
            check_eq!(
                move_mount(AT_FDCWD, DIR2, AT_FDCWD, DIR, MOVE_MOUNT_SET_GROUP),
                Err(EINVAL)
            );
            check_eq!(umount2(DIR2, 0), Ok(0));
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    /// mount_setattr: MOUNT_ATTR_RDONLY with AT_RECURSIVE makes writes EROFS on the mount
    /// and the one below (mountinfo says ro); cleared on the top alone; nosuid, nodev,
    /// noexec, noatime; propagation shared and private; EBUSY with a writer.
    fn mount_setattr_flags() {
        in_newns("mount_setattr_flags", || {
            let inner = format!("{}/in", DIR);
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&inner, 0o755));
            check_eq!(mount("tmpfs", &inner, "tmpfs", 0), Ok(0));
            let (f, g) = (format!("{}/f", DIR), format!("{}/g", inner));
            check_eq!(
                mount_setattr(DIR, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0),
                Ok(0)
            );
            check_eq!(write_file(&f, b"x"), Err(EROFS));
            check_eq!(write_file(&g, b"x"), Err(EROFS), "recursive");
            check!(has_opt(&options(DIR), "ro"), "{}", options(DIR));
            check!(has_opt(&options(&inner), "ro"), "{}", options(&inner));
            check_eq!(mount_setattr(DIR, 0, 0, MOUNT_ATTR_RDONLY, 0), Ok(0));
            check_eq!(write_file(&f, b"x"), Ok(1));
            check_eq!(
                write_file(&g, b"x"),
                Err(EROFS),
                "not recursive: below stays ro"
            );
            check_eq!(mount_setattr(&inner, 0, 0, MOUNT_ATTR_RDONLY, 0), Ok(0));
            check_eq!(write_file(&g, b"x"), Ok(1));
            // A file open for writing: EBUSY, nothing changed.
            let w = check_ok!(sys::open(&cpath(&g), sys::O_WRONLY | sys::O_CLOEXEC, 0));
            check_eq!(
                mount_setattr(DIR, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0),
                Err(EBUSY)
            );
            check!(has_opt(&options(DIR), "rw"), "{}", options(DIR));
            check_ok!(sys::close(w));
            let set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOATIME;
            check_eq!(mount_setattr(DIR, 0, set, MOUNT_ATTR__ATIME, 0), Ok(0));
            let o = options(DIR);
            for want in ["rw", "nosuid", "nodev", "noexec", "noatime"] {
                check!(has_opt(&o, want), "{} in {}", want, o);
            }
            check!(!has_opt(&o, "relatime"), "{}", o);
            check!(!has_opt(&options(&inner), "nosuid"), "{}", options(&inner));
            check_eq!(
                mount_setattr(DIR, 0, 0, MOUNT_ATTR__ATIME | MOUNT_ATTR_NOEXEC, 0),
                Ok(0)
            );
            let o = options(DIR);
            check!(has_opt(&o, "relatime") && !has_opt(&o, "noexec"), "{}", o);
            // Propagation, recursive.
            check_eq!(mount_setattr(DIR, AT_RECURSIVE, 0, 0, MS_SHARED), Ok(0));
            for p in [DIR, inner.as_str()] {
                let info = mountinfo(p).unwrap_or_default();
                check!(
                    info.get(6).is_some_and(|x| x.starts_with("shared:")),
                    "{:?}",
                    info
                );
            }
            check_eq!(mount_setattr(DIR, 0, 0, 0, MS_PRIVATE), Ok(0));
            let info = mountinfo(DIR).unwrap_or_default();
            check_eq!(
                info.get(6).map(String::as_str),
                Some("-"),
                "private: {:?}",
                info
            );
            let info = mountinfo(&inner).unwrap_or_default();
            check!(
                info.get(6).is_some_and(|x| x.starts_with("shared:")),
                "{:?}",
                info
            );
            check_eq!(mount_setattr(&inner, 0, 0, 0, MS_SLAVE), Ok(0));
            check_eq!(umount2(&inner, 0), Ok(0));
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    /// mount_setattr's argument errors.
    fn mount_setattr_errors() {
        in_newns("mount_setattr_errors", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let a = [MOUNT_ATTR_NOSUID, 0, 0, 0];
            check_eq!(
                mount_setattr_sized(AT_FDCWD, DIR, 0, a, 4097, 0),
                Err(E2BIG)
            );
            check_eq!(mount_setattr_sized(AT_FDCWD, DIR, 0, a, 24, 0), Err(EINVAL));
            check_eq!(
                mount_setattr_sized(AT_FDCWD, DIR, 0, a, 48, 1),
                Err(E2BIG),
                "non-zero tail"
            );
            check_eq!(
                mount_setattr_sized(AT_FDCWD, DIR, 0, a, 48, 0),
                Ok(0),
                "zero tail"
            );
            check!(has_opt(&options(DIR), "nosuid"), "{}", options(DIR));
            check_eq!(
                mount_setattr(DIR, 0x2, MOUNT_ATTR_RDONLY, 0, 0),
                Err(EINVAL),
                "bad flag"
            );
            check_eq!(
                mount_setattr(DIR, 0, 1 << 30, 0, 0),
                Err(EINVAL),
                "unknown bit"
            );
            check_eq!(
                mount_setattr(DIR, 0, MOUNT_ATTR_IDMAP, 0, 0),
                Err(EINVAL),
                "no idmap"
            );
            check_eq!(
                mount_setattr(DIR, 0, MOUNT_ATTR_NOATIME, 0, 0),
                Err(EINVAL),
                "atime unclr"
            );
            check_eq!(
                mount_setattr(DIR, 0, 0, 0, MS_SHARED | MS_SLAVE),
                Err(EINVAL)
            );
            check_eq!(mount_setattr(DIR, 0, 0, 0, 1), Err(EINVAL));
            let d = format!("{}/d", DIR);
            check_ok!(mkdir_p(&d, 0o755));
            check_eq!(
                mount_setattr(&d, 0, MOUNT_ATTR_RDONLY, 0, 0),
                Err(EINVAL),
                "no mount root"
            );
            check_eq!(
                mount_setattr(&d, 0, 0, 0, 0),
                Ok(0),
                "a no-op is not checked"
            );
            check_eq!(
                mount_setattr("/nonexistent", 0, MOUNT_ATTR_RDONLY, 0, 0),
                Err(ENOENT)
            );
            check_eq!(
                mount_setattr(DIR, AT_SYMLINK_NOFOLLOW, 0, MOUNT_ATTR_NOSUID, 0),
                Ok(0)
            );
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    /// A detached tree changed through its descriptor (mount_setattr with AT_EMPTY_PATH)
    /// before it is attached: it arrives read-only.
    fn setattr_on_a_detached_tree() {
        in_newns("setattr_on_a_detached_tree", || {
            let m = check_ok!(new_tmpfs("1m", 0));
            check_eq!(
                mount_setattr_sized(m, "", AT_EMPTY_PATH, [MOUNT_ATTR_RDONLY, 0, 0, 0], 32, 0),
                Ok(0)
            );
            check_eq!(
                move_mount(m, ".", AT_FDCWD, DIR, 0),
                Ok(0),
                "`.` in the tree is its top"
            );
            check_eq!(write_file(&format!("{}/f", DIR), b"x"), Err(EROFS));
            check!(has_opt(&options(DIR), "ro"), "{}", options(DIR));
            check_eq!(umount2(DIR, 0), Ok(0));
            check_ok!(sys::close(m));
        });
    }

    /// A detached clone keeps its tmpfs (and the data in it) alive after the original is
    /// unmounted; closing its last descriptor frees it: MemFree comes back. 200 clones
    /// made and closed leave the mount count as it was.
    fn detached_tree_freed_with_last_fd() {
        in_newns("detached_tree_freed_with_last_fd", || {
            let before = mount_count();
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let f = format!("{}/data", DIR);
            let chunk = alloc::vec![0x5au8; 1 << 20];
            let fd = check_ok!(sys::open(
                &cpath(&f),
                sys::O_WRONLY | sys::O_CREAT | sys::O_CLOEXEC,
                0o644
            ));
            for _ in 0..8 {
                check_ok!(sys::write_all(fd, &chunk));
            }
            check_ok!(sys::close(fd));
            let t = check_ok!(open_tree(
                AT_FDCWD,
                DIR,
                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
            ));
            let dup = check_ok!(sys::dup(t));
            check_eq!(umount2(DIR, MNT_DETACH), Ok(0));
            check_eq!(mount_count(), before);
            let held = mem_free_kb().unwrap_or(0);
            check_ok!(sys::close(t));
            let still = mem_free_kb().unwrap_or(0);
            check!(
                still < held + 4096,
                "a descriptor still holds it: {} -> {} kB",
                held,
                still
            );
            // Reach the data through the tree once more: attached, then detached again.
            check_eq!(attach_tree(dup, DIR2), Ok(0));
            check_eq!(
                sys::stat(&cpath(&format!("{}/data", DIR2))).map(|s| s.st_size),
                Ok(8 << 20)
            );
            check_eq!(umount2(DIR2, MNT_DETACH), Ok(0));
            check_ok!(sys::close(dup));
            let freed = mem_free_kb().unwrap_or(0);
            check!(
                freed >= still + 7 * 1024,
                "8 MiB of tmpfs data freed with the last reference: {} -> {} kB",
                still,
                freed
            );
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&format!("{}/x", DIR), 0o755));
            check_eq!(mount("tmpfs", &format!("{}/x", DIR), "tmpfs", 0), Ok(0));
            let with = mount_count();
            let start = mem_free_kb().unwrap_or(0);
            for _ in 0..200 {
                let t = check_ok!(open_tree(AT_FDCWD, DIR, OPEN_TREE_CLONE | AT_RECURSIVE));
                check_ok!(sys::close(t));
            }
            check_eq!(mount_count(), with);
            let end = mem_free_kb().unwrap_or(0);
            check!(
                end + 256 >= start,
                "200 clones leak nothing: {} -> {} kB",
                start,
                end
            );
            check_eq!(umount2(DIR, MNT_DETACH), Ok(0));
            check_eq!(mount_count(), before);
        });
    }

    /// A tree attached under a shared mount propagates to its peer, as mount(2) does.
    fn attach_propagates() {
        in_newns("attach_propagates", || {
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            check_eq!(mount_setattr(DIR, 0, 0, 0, MS_SHARED), Ok(0));
            check_eq!(mount(DIR, DIR2, "", ulib::mnt::MS_BIND), Ok(0));
            let (x, x2) = (format!("{}/x", DIR), format!("{}/x", DIR2));
            check_ok!(mkdir_p(&x, 0o755));
            let m = check_ok!(new_tmpfs("1m", 0));
            check_eq!(attach_tree(m, &x), Ok(0));
            check_eq!(write_file(&format!("{}/f", x), b"peer"), Ok(4));
            check_eq!(
                read_text(&format!("{}/f", x2)).as_deref(),
                Ok("peer"),
                "at the peer"
            );
            check_ok!(sys::close(m));
            check_eq!(umount2(&x, 0), Ok(0));
            check!(mountinfo(&x2).is_none(), "the peer's copy went too");
            check_eq!(umount2(DIR2, 0), Ok(0));
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    /// Mount containers: a tree made in one cannot be attached in another (EINVAL); a
    /// user container that does not own the mount container gets EPERM for every call that
    /// changes mounts, and one that does (CLONE_NEWUSER|CLONE_NEWNS) may use them.
    fn mount_containers() {
        in_newns("mount_containers", || {
            let m = check_ok!(new_tmpfs("1m", 0));
            let pid = check_ok!(clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
                check_eq!(
                    attach_tree(m, DIR),
                    Err(EINVAL),
                    "another mount container's tree"
                );
            }));
            check_eq!(wait_exit(pid), Exit::Code(0));
            check_eq!(attach_tree(m, DIR), Ok(0), "its own container may");
            check_ok!(sys::close(m));
            let pid = check_ok!(clone_run(CLONE_NEWUSER | SIGCHLD_EXIT, || {
                check_eq!(fsopen("tmpfs", 0), Err(EPERM));
                check_eq!(fspick(AT_FDCWD, DIR, 0), Err(EPERM));
                check_eq!(open_tree(AT_FDCWD, DIR, OPEN_TREE_CLONE), Err(EPERM));
                check_eq!(move_mount(AT_FDCWD, DIR, AT_FDCWD, DIR2, 0), Err(EPERM));
                check_eq!(mount_setattr(DIR, 0, MOUNT_ATTR_RDONLY, 0, 0), Err(EPERM));
                let p = check_ok!(open_tree(AT_FDCWD, DIR, 0));
                check_ok!(sys::close(p));
            }));
            check_eq!(wait_exit(pid), Exit::Code(0));
            let pid = check_ok!(clone_run(
                CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD_EXIT,
                || {
                    let fd = check_ok!(fsopen("tmpfs", FSOPEN_CLOEXEC));
                    check_eq!(fsconfig_create(fd), Ok(0));
                    let m = check_ok!(fsmount(fd, FSMOUNT_CLOEXEC, 0));
                    check_eq!(attach_tree(m, DIR2), Ok(0));
                    check_eq!(write_file(&format!("{}/f", DIR2), b"mine"), Ok(4));
                }
            ));
            check_eq!(wait_exit(pid), Exit::Code(0));
            check_eq!(
                read_text(&format!("{}/f", DIR2)),
                Err(ENOENT),
                "not in the parent's tree"
            );
            check_eq!(umount2(DIR, 0), Ok(0));
        });
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            fsmount_tmpfs_and_move_mount,
            fsopen_types,
            fsconfig_errors,
            fspick_reconfigures_a_tmpfs,
            open_tree_clone_of_a_bind,
            mount_setattr_flags,
            mount_setattr_errors,
            setattr_on_a_detached_tree,
            detached_tree_freed_with_last_fd,
            attach_propagates,
            mount_containers,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
