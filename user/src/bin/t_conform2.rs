//! Linux conformance, second set: `mremap` (grow in place, move, shrink, `MREMAP_FIXED`,
//! `MREMAP_DONTUNMAP`, shared duplicates, errnos); `openat2` (`struct open_how` checks and
//! every `RESOLVE_*` restriction); extended attributes on tmpfs (`user.`, `trusted.`);
//! `prctl` names, parent-death signals, child subreapers, timer slack and TSC mode;
//! inotify on tmpfs; `sysfs(2)`; `rseq` is `ENOSYS`.
//!
//! Runs as root on a Linux host too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::{check, check_eq, check_ok};

    const E2BIG: i32 = 7;
    const EXDEV: i32 = 18;
    const ELOOP: i32 = 40;
    const PAGE: usize = 4096;
    const NR_MREMAP: usize = 25;
    const NR_MSYNC: usize = 26;
    const MREMAP_MAYMOVE: usize = 1;
    const MREMAP_FIXED: usize = 2;
    const MREMAP_DONTUNMAP: usize = 4;

    fn mremap(old: usize, old_len: usize, new_len: usize, flags: usize, new: usize) -> SysResult {
        // SAFETY: the tests only remap areas they made themselves.
        sys::check(unsafe { sys::syscall5(NR_MREMAP, old, old_len, new_len, flags, new) })
    }

    /// Whether `[addr, addr + len)` is mapped: `msync` gives `ENOMEM` on a hole.
    fn mapped(addr: usize, len: usize) -> bool {
        // SAFETY: msync only inspects the range.
        sys::check(unsafe { sys::syscall3(NR_MSYNC, addr, len, 0) }).is_ok()
    }

    fn fill(addr: usize, pages: usize, seed: u8) {
        for p in 0..pages {
            // SAFETY: the page is mapped read/write by the caller.
            unsafe { core::ptr::write_volatile((addr + p * PAGE + 7) as *mut u8, seed + p as u8) };
        }
    }

    fn byte(addr: usize, page: usize) -> u8 {
        // SAFETY: the page is mapped readable by the caller.
        unsafe { core::ptr::read_volatile((addr + page * PAGE + 7) as *const u8) }
    }

    fn anon_at(addr: usize, len: usize, flags: usize) -> SysResult {
        // SAFETY: fixed mappings only replace the test's own areas.
        unsafe {
            sys::mmap(
                addr,
                len,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_ANONYMOUS | flags,
                -1,
                0,
            )
        }
    }

    fn unmap(addr: usize, len: usize) {
        // SAFETY: the test's own area.
        let _ = unsafe { sys::munmap(addr, len) };
    }

    fn mremap_grows_in_place_when_the_room_is_free() {
        let a = check_ok!(sys::mmap_anon(4 * PAGE));
        unmap(a + 2 * PAGE, 2 * PAGE);
        fill(a, 2, 10);
        check_eq!(mremap(a, 2 * PAGE, 4 * PAGE, 0, 0), Ok(a), "grown in place");
        check_eq!((byte(a, 0), byte(a, 1)), (10, 11), "old pages kept");
        check_eq!(byte(a, 3), 0, "new page reads zero");
        fill(a, 4, 20);
        check_eq!(byte(a, 3), 23);
        // An mprotect round trip splits the area in three; Linux merges them back.
        // SAFETY: the test's own area.
        check_ok!(unsafe { sys::mprotect(a + PAGE, PAGE, sys::PROT_READ) });
        // SAFETY: as above.
        check_ok!(unsafe { sys::mprotect(a + PAGE, PAGE, sys::PROT_READ | sys::PROT_WRITE) });
        check_eq!(
            mremap(a, 4 * PAGE, 4 * PAGE, 0, 0),
            Ok(a),
            "same size: a no-op"
        );
        unmap(a, 4 * PAGE);
    }

    fn mremap_moves_only_with_maymove() {
        let a = check_ok!(sys::mmap_anon(3 * PAGE));
        fill(a, 3, 30);
        // A neighbour right after the area blocks growing in place.
        check_ok!(anon_at(
            a + 3 * PAGE,
            PAGE,
            sys::MAP_PRIVATE | sys::MAP_FIXED
        ));
        check_eq!(
            mremap(a, 3 * PAGE, 6 * PAGE, 0, 0),
            Err(ENOMEM),
            "no room, no MAYMOVE"
        );
        check_eq!(byte(a, 2), 32, "untouched after ENOMEM");
        let b = check_ok!(mremap(a, 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, 0));
        check_ne_addr(a, b);
        check_eq!(
            (byte(b, 0), byte(b, 1), byte(b, 2)),
            (30, 31, 32),
            "data moved"
        );
        check_eq!(byte(b, 5), 0, "grown part zero");
        check!(!mapped(a, PAGE), "old range unmapped after the move");
        check!(mapped(a + 3 * PAGE, PAGE), "the neighbour stays");
        unmap(b, 6 * PAGE);
        unmap(a + 3 * PAGE, PAGE);
    }

    fn check_ne_addr(a: usize, b: usize) {
        check!(a != b, "moved: old {:#x} new {:#x}", a, b);
    }

    fn mremap_shrinks_and_moves_part_of_an_area() {
        let a = check_ok!(sys::mmap_anon(4 * PAGE));
        fill(a, 4, 40);
        check_eq!(
            mremap(a, 4 * PAGE, PAGE + 1, 0, 0),
            Ok(a),
            "shrunk to two pages"
        );
        check!(mapped(a, 2 * PAGE));
        check!(!mapped(a + 2 * PAGE, PAGE), "tail unmapped");
        check_eq!(byte(a, 1), 41);
        // The first page alone moves out of the area (it does not end the area: no growing
        // in place).
        let b = check_ok!(mremap(a, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0));
        check_ne_addr(a, b);
        check_eq!(byte(b, 0), 40, "page moved");
        check_eq!(byte(a, 1), 41, "second page stays");
        check!(!mapped(a, PAGE), "a {:#x} b {:#x}", a, b);
        unmap(a + PAGE, PAGE);
        unmap(b, 2 * PAGE);
    }

    fn mremap_fixed_replaces_the_target() {
        let a = check_ok!(sys::mmap_anon(2 * PAGE));
        let t = check_ok!(sys::mmap_anon(3 * PAGE));
        fill(a, 2, 50);
        fill(t, 3, 90);
        check_eq!(
            mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_FIXED, t),
            Err(EINVAL),
            "FIXED needs MAYMOVE"
        );
        check_eq!(
            mremap(
                a,
                2 * PAGE,
                2 * PAGE,
                MREMAP_FIXED | MREMAP_MAYMOVE,
                a + PAGE
            ),
            Err(EINVAL),
            "overlapping ranges"
        );
        check_eq!(
            mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, t + 1),
            Err(EINVAL),
            "unaligned new address"
        );
        check_eq!(
            mremap(a, 2 * PAGE, 3 * PAGE, MREMAP_FIXED | MREMAP_MAYMOVE, t),
            Ok(t)
        );
        check_eq!(
            (byte(t, 0), byte(t, 1), byte(t, 2)),
            (50, 51, 0),
            "old target gone"
        );
        check!(!mapped(a, PAGE));
        unmap(t, 3 * PAGE);
    }

    fn mremap_dontunmap_leaves_an_empty_area() {
        let a = check_ok!(sys::mmap_anon(2 * PAGE));
        fill(a, 2, 60);
        check_eq!(
            mremap(a, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0),
            Err(EINVAL),
            "DONTUNMAP cannot resize"
        );
        check_eq!(
            mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_DONTUNMAP, 0),
            Err(EINVAL),
            "DONTUNMAP needs MAYMOVE"
        );
        let b = check_ok!(mremap(
            a,
            2 * PAGE,
            2 * PAGE,
            MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
            0
        ));
        check_ne_addr(a, b);
        check_eq!((byte(b, 0), byte(b, 1)), (60, 61), "data moved");
        check!(mapped(a, 2 * PAGE), "old area still mapped");
        check_eq!((byte(a, 0), byte(a, 1)), (0, 0), "old area empty");
        unmap(a, 2 * PAGE);
        unmap(b, 2 * PAGE);
    }

    fn mremap_zero_old_size_duplicates_a_shared_area() {
        let s = check_ok!(anon_at(0, 2 * PAGE, sys::MAP_SHARED));
        fill(s, 2, 70);
        let d = check_ok!(mremap(s, 0, 2 * PAGE, MREMAP_MAYMOVE, 0));
        check_ne_addr(s, d);
        check_eq!(byte(d, 1), 71, "the same pages");
        fill(d, 1, 99);
        check_eq!(
            byte(s, 0),
            99,
            "a write through the copy shows in the original"
        );
        check!(mapped(s, 2 * PAGE), "the original stays");
        let p = check_ok!(sys::mmap_anon(PAGE));
        check_eq!(
            mremap(p, 0, PAGE, MREMAP_MAYMOVE, 0),
            Err(EINVAL),
            "zero old size of a private area"
        );
        unmap(s, 2 * PAGE);
        unmap(d, 2 * PAGE);
        unmap(p, PAGE);
    }

    fn mremap_errnos() {
        let a = check_ok!(sys::mmap_anon(2 * PAGE));
        check_eq!(
            mremap(a + 1, PAGE, PAGE, 0, 0),
            Err(EINVAL),
            "unaligned old"
        );
        check_eq!(mremap(a, PAGE, PAGE, 8, 0), Err(EINVAL), "unknown flag");
        check_eq!(mremap(a, PAGE, 0, 0, 0), Err(EINVAL), "new size 0");
        check_eq!(
            mremap(a, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0),
            Err(EFAULT),
            "old range past the area"
        );
        unmap(a, 2 * PAGE);
        check_eq!(
            mremap(a, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0),
            Err(EFAULT),
            "nothing mapped"
        );
        check_eq!(
            mremap(a, PAGE, usize::MAX - 10, MREMAP_MAYMOVE, 0),
            Err(EINVAL),
            "size overflows"
        );
    }

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    const DIR: &str = "/tmp/t_conform2.d";

    /// Runs `f` in a child with a private mount tree holding a fresh tmpfs at [`DIR`].
    fn in_private_tree(f: impl FnOnce()) {
        let pid = ulib::test::fork_run(|| {
            check_ok!(ulib::container::unshare(ulib::container::CLONE_NEWNS));
            check_ok!(ulib::cred::make_root_private());
            let _ = sys::mkdir(c"/tmp", 0o1777);
            check_ok!(ulib::mnt::mkdir_p(DIR, 0o755));
            check_ok!(ulib::cred::mount("tmpfs", DIR, "tmpfs", 0));
            f();
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
    }

    fn symlink(target: &str, link: &str) -> SysResult {
        let (t, l) = (cpath(target), cpath(link));
        // SAFETY: two NUL-terminated paths.
        sys::check(unsafe { sys::syscall2(88, t.as_ptr() as usize, l.as_ptr() as usize) })
    }

    const NR_OPENAT2: usize = 437;
    const RESOLVE_NO_XDEV: u64 = 1;
    const RESOLVE_NO_MAGICLINKS: u64 = 2;
    const RESOLVE_NO_SYMLINKS: u64 = 4;
    const RESOLVE_BENEATH: u64 = 8;
    const RESOLVE_IN_ROOT: u64 = 0x10;
    const RESOLVE_CACHED: u64 = 0x20;

    /// `openat2(dirfd, path, &{flags, mode, resolve, extra...}, size)`.
    fn openat2_raw(dirfd: i32, path: &str, how: &[u64], size: usize) -> SysResult<i32> {
        let p = cpath(path);
        // SAFETY: a NUL-terminated path and an open_how of at least `size` bytes.
        sys::check(unsafe {
            sys::syscall4(
                NR_OPENAT2,
                dirfd as isize as usize,
                p.as_ptr() as usize,
                how.as_ptr() as usize,
                size,
            )
        })
        .map(|fd| fd as i32)
    }

    fn openat2(dirfd: i32, path: &str, flags: usize, resolve: u64) -> SysResult<i32> {
        openat2_raw(dirfd, path, &[flags as u64, 0, resolve], 24)
    }

    /// The inode an fd refers to.
    fn ino(fd: i32) -> u64 {
        let st = sys::fstat(fd).map(|s| s.st_ino).unwrap_or(0);
        let _ = sys::close(fd);
        st
    }

    fn openat2_checks_open_how() {
        in_private_tree(|| {
            let f = alloc::format!("{DIR}/f");
            check_ok!(ulib::mnt::touch(&f));
            check_eq!(
                openat2_raw(-100, &f, &[0, 0, 0], 16),
                Err(EINVAL),
                "size 16"
            );
            check_eq!(
                openat2_raw(-100, &f, &[0, 0, 0, 1], 32),
                Err(E2BIG),
                "nonzero tail"
            );
            let fd = check_ok!(openat2_raw(-100, &f, &[0, 0, 0, 0], 32));
            check!(ino(fd) != 0, "a zero tail is fine");
            check_eq!(
                openat2_raw(-100, &f, &[0; 4], 8192),
                Err(E2BIG),
                "past a page"
            );
            check_eq!(
                openat2_raw(-100, &f, &[0, 0o644, 0], 24),
                Err(EINVAL),
                "mode w/o O_CREAT"
            );
            check_eq!(
                openat2_raw(-100, &f, &[1 << 40, 0, 0], 24),
                Err(EINVAL),
                "bad flags"
            );
            check_eq!(openat2(-100, &f, 0, 0x40), Err(EINVAL), "bad resolve");
            check_eq!(
                openat2(-100, &f, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT),
                Err(EINVAL)
            );
            check_eq!(openat2(-100, &f, 0, RESOLVE_CACHED), Err(EAGAIN));
            check_eq!(
                openat2(-100, &f, 0o10000002, 0),
                Err(EINVAL),
                "O_PATH|O_RDWR"
            );
            let n = alloc::format!("{DIR}/new");
            let fd = check_ok!(openat2_raw(-100, &n, &[0o101, 0o640, 0], 24));
            let st = check_ok!(sys::fstat(fd));
            check_eq!(
                st.st_mode & 0o777,
                0o640 & !0o022 & 0o777,
                "created with the mode"
            );
            let _ = sys::close(fd);
            // SAFETY: a bad pointer, deliberately.
            let r = sys::check(unsafe { sys::syscall4(NR_OPENAT2, -100isize as usize, 8, 8, 24) });
            check_eq!(r, Err(EFAULT), "bad open_how pointer");
        });
    }

    fn openat2_resolve_restrictions() {
        in_private_tree(|| {
            let d = alloc::format!("{DIR}/d");
            check_ok!(sys::mkdir(&cpath(&d), 0o755));
            check_ok!(sys::mkdir(&cpath(&alloc::format!("{d}/sub")), 0o755));
            check_ok!(ulib::mnt::touch(&alloc::format!("{d}/f")));
            check_ok!(ulib::mnt::touch(&alloc::format!("{DIR}/outside")));
            check_ok!(symlink("f", &alloc::format!("{d}/rel")));
            check_ok!(symlink("../outside", &alloc::format!("{d}/up")));
            check_ok!(symlink("/f", &alloc::format!("{d}/abs")));
            check_ok!(sys::mkdir(&cpath(&alloc::format!("{d}/m")), 0o755));
            check_ok!(ulib::cred::mount(
                "tmpfs",
                &alloc::format!("{d}/m"),
                "tmpfs",
                0
            ));
            check_ok!(ulib::mnt::touch(&alloc::format!("{d}/m/g")));
            let dfd = check_ok!(sys::open(&cpath(&d), sys::O_RDONLY | sys::O_DIRECTORY, 0));
            let f_ino = ino(check_ok!(openat2(dfd, "f", 0, 0)));
            check!(f_ino != 0);

            // RESOLVE_NO_SYMLINKS: any symlink followed is ELOOP.
            check_eq!(ino(check_ok!(openat2(dfd, "rel", 0, 0))), f_ino, "rel -> f");
            check_eq!(openat2(dfd, "rel", 0, RESOLVE_NO_SYMLINKS), Err(ELOOP));
            check_eq!(
                openat2(dfd, "sub/../f", 0, RESOLVE_NO_SYMLINKS).map(ino),
                Ok(f_ino)
            );

            // RESOLVE_BENEATH: absolute paths, absolute links and escaping `..` are EXDEV.
            check_eq!(
                openat2(dfd, "up", 0, RESOLVE_BENEATH),
                Err(EXDEV),
                "../outside"
            );
            check_eq!(openat2(dfd, "abs", 0, RESOLVE_BENEATH), Err(EXDEV));
            check_eq!(openat2(dfd, "/etc", 0, RESOLVE_BENEATH), Err(EXDEV));
            check_eq!(openat2(dfd, "..", 0, RESOLVE_BENEATH), Err(EXDEV));
            check_eq!(
                openat2(dfd, "sub/../rel", 0, RESOLVE_BENEATH).map(ino),
                Ok(f_ino)
            );

            // RESOLVE_IN_ROOT: the dirfd is the root for `..` and absolute links.
            check_eq!(
                openat2(dfd, "abs", 0, RESOLVE_IN_ROOT).map(ino),
                Ok(f_ino),
                "/f in d"
            );
            check_eq!(openat2(dfd, "/f", 0, RESOLVE_IN_ROOT).map(ino), Ok(f_ino));
            check_eq!(
                openat2(dfd, "../../f", 0, RESOLVE_IN_ROOT).map(ino),
                Ok(f_ino)
            );
            check_eq!(
                openat2(dfd, "up", 0, RESOLVE_IN_ROOT),
                Err(ENOENT),
                "no d/outside"
            );

            // RESOLVE_NO_XDEV: into a mount or out of one.
            check_ok!(openat2(dfd, "m/g", 0, 0).map(ino));
            check_eq!(openat2(dfd, "m/g", 0, RESOLVE_NO_XDEV), Err(EXDEV));
            let mfd = check_ok!(openat2(dfd, "m", sys::O_DIRECTORY, 0));
            check_eq!(openat2(mfd, "../f", 0, RESOLVE_NO_XDEV), Err(EXDEV));
            check_eq!(
                openat2(mfd, "g", 0, RESOLVE_NO_XDEV).map(|f| ino(f) != 0),
                Ok(true)
            );
            check_eq!(
                openat2(dfd, "up", 0, RESOLVE_NO_XDEV).map(|f| ino(f) != 0),
                Ok(true)
            );

            // RESOLVE_NO_MAGICLINKS: /proc/self/cwd is refused, plain links are not.
            let _ = ulib::mnt::mkdir_p("/proc", 0o555);
            check_ok!(ulib::cred::mount("proc", "/proc", "proc", 0));
            check_ok!(sys::chdir(&cpath(&d)));
            let magic = "/proc/self/cwd/f";
            check_eq!(openat2(-100, magic, 0, 0).map(ino), Ok(f_ino), "{}", magic);
            check_eq!(openat2(-100, magic, 0, RESOLVE_NO_MAGICLINKS), Err(ELOOP));
            check_eq!(openat2(-100, magic, 0, RESOLVE_NO_SYMLINKS), Err(ELOOP));
            check_eq!(
                openat2(dfd, "rel", 0, RESOLVE_NO_MAGICLINKS).map(ino),
                Ok(f_ino)
            );
            let _ = sys::close(mfd);
            let _ = sys::close(dfd);
        });
    }

    const ENODATA: i32 = 61;
    const ERANGE: i32 = 34;
    const EOPNOTSUPP: i32 = 95;
    const XATTR_CREATE: usize = 1;
    const XATTR_REPLACE: usize = 2;

    /// `setxattr` (188), `lsetxattr` (189) by path.
    fn setx(nr: usize, path: &str, name: &str, value: &[u8], flags: usize) -> SysResult {
        let (p, n) = (cpath(path), cpath(name));
        // SAFETY: NUL-terminated strings and a live buffer.
        sys::check(unsafe {
            sys::syscall5(
                nr,
                p.as_ptr() as usize,
                n.as_ptr() as usize,
                value.as_ptr() as usize,
                value.len(),
                flags,
            )
        })
    }

    /// `getxattr` (191), `lgetxattr` (192) by path, or `fgetxattr` (193) with an fd as `at`.
    fn getx(nr: usize, at: usize, name: &str, buf: &mut [u8]) -> SysResult {
        let n = cpath(name);
        // SAFETY: a NUL-terminated name and a live buffer.
        sys::check(unsafe {
            sys::syscall4(
                nr,
                at,
                n.as_ptr() as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
            )
        })
    }

    fn get_text(path: &str, name: &str) -> SysResult<alloc::vec::Vec<u8>> {
        let p = cpath(path);
        let mut buf = [0u8; 64];
        let n = getx(191, p.as_ptr() as usize, name, &mut buf)?;
        Ok(buf[..n].to_vec())
    }

    /// `listxattr` (194) / `llistxattr` (195) by path, `flistxattr` (196) with an fd.
    fn listx(nr: usize, at: usize, buf: &mut [u8]) -> SysResult {
        // SAFETY: a live buffer.
        sys::check(unsafe { sys::syscall3(nr, at, buf.as_mut_ptr() as usize, buf.len()) })
    }

    fn removex(path: &str, name: &str) -> SysResult {
        let (p, n) = (cpath(path), cpath(name));
        // SAFETY: NUL-terminated strings.
        sys::check(unsafe { sys::syscall2(197, p.as_ptr() as usize, n.as_ptr() as usize) })
    }

    fn xattrs_set_get_list_remove_on_tmpfs() {
        in_private_tree(|| {
            let f = alloc::format!("{DIR}/x");
            check_ok!(ulib::mnt::touch(&f));
            let p = cpath(&f);
            check_eq!(setx(188, &f, "user.a", b"hello", 0), Ok(0));
            check_eq!(get_text(&f, "user.a"), Ok(b"hello".to_vec()));
            check_eq!(
                getx(191, p.as_ptr() as usize, "user.a", &mut []),
                Ok(5),
                "size query"
            );
            check_eq!(
                getx(191, p.as_ptr() as usize, "user.a", &mut [0; 2]),
                Err(ERANGE)
            );
            check_eq!(setx(188, &f, "user.a", b"x", XATTR_CREATE), Err(EEXIST));
            check_eq!(setx(188, &f, "user.b", b"x", XATTR_REPLACE), Err(ENODATA));
            check_eq!(setx(188, &f, "user.a", b"bye", XATTR_REPLACE), Ok(0));
            check_eq!(get_text(&f, "user.a"), Ok(b"bye".to_vec()));
            check_eq!(
                setx(188, &f, "trusted.t", b"", XATTR_CREATE),
                Ok(0),
                "empty value"
            );
            let mut list = [0u8; 64];
            let n = check_ok!(listx(194, p.as_ptr() as usize, &mut list));
            check_eq!(&list[..n], b"trusted.t\0user.a\0", "listxattr");
            check_eq!(
                listx(194, p.as_ptr() as usize, &mut []),
                Ok(n),
                "list size query"
            );
            check_eq!(listx(194, p.as_ptr() as usize, &mut [0; 4]), Err(ERANGE));
            // The fd forms.
            let fd = check_ok!(sys::open(&p, sys::O_RDONLY, 0));
            check_eq!(
                getx(193, fd as usize, "user.a", &mut [0; 8]),
                Ok(3),
                "fgetxattr"
            );
            check_eq!(listx(196, fd as usize, &mut list), Ok(n), "flistxattr");
            let n2 = cpath("user.f");
            // SAFETY: a NUL-terminated name and a live value.
            let r = sys::check(unsafe {
                sys::syscall5(
                    190,
                    fd as usize,
                    n2.as_ptr() as usize,
                    b"fv".as_ptr() as usize,
                    2,
                    0,
                )
            });
            check_eq!(r, Ok(0), "fsetxattr");
            check_eq!(get_text(&f, "user.f"), Ok(b"fv".to_vec()));
            // SAFETY: a NUL-terminated name.
            let r = sys::check(unsafe { sys::syscall2(199, fd as usize, n2.as_ptr() as usize) });
            check_eq!(r, Ok(0), "fremovexattr");
            let _ = sys::close(fd);
            check_eq!(removex(&f, "user.a"), Ok(0));
            check_eq!(removex(&f, "user.a"), Err(ENODATA));
            check_eq!(get_text(&f, "user.a"), Err(ENODATA));
            // A hard link shares the inode's attributes.
            let l = alloc::format!("{DIR}/x.link");
            let lc = cpath(&l);
            // SAFETY: NUL-terminated paths.
            check_ok!(sys::check(unsafe {
                sys::syscall2(86, p.as_ptr() as usize, lc.as_ptr() as usize)
            }));
            check_eq!(get_text(&l, "trusted.t"), Ok(alloc::vec::Vec::new()));
        });
    }

    fn xattr_limits_and_namespaces() {
        in_private_tree(|| {
            let f = alloc::format!("{DIR}/y");
            check_ok!(ulib::mnt::touch(&f));
            let long = alloc::format!("user.{}", "n".repeat(250));
            check_eq!(long.len(), 255);
            check_eq!(setx(188, &f, &long, b"v", 0), Ok(0), "255-byte name");
            let longer = alloc::format!("{long}n");
            check_eq!(
                setx(188, &f, &longer, b"v", 0),
                Err(ERANGE),
                "256-byte name"
            );
            check_eq!(setx(188, &f, "", b"v", 0), Err(ERANGE), "empty name");
            let big = alloc::vec![1u8; 65537];
            check_eq!(
                setx(188, &f, "user.big", &big[..65536], 0),
                Ok(0),
                "64 KiB value"
            );
            check_eq!(setx(188, &f, "user.big", &big, 0), Err(E2BIG), "64 KiB + 1");
            let mut back = alloc::vec![0u8; 65536];
            let p = cpath(&f);
            check_eq!(
                getx(191, p.as_ptr() as usize, "user.big", &mut back),
                Ok(65536)
            );
            check_eq!(setx(188, &f, "user.", b"v", 0), Err(EINVAL), "empty suffix");
            check_eq!(
                setx(188, &f, "foo.bar", b"v", 0),
                Err(EOPNOTSUPP),
                "unknown namespace"
            );
            check_eq!(
                setx(188, &f, "user.a", b"v", 4),
                Err(EINVAL),
                "unknown flag"
            );
            check_eq!(setx(188, "/nonexistent", "user.a", b"v", 0), Err(ENOENT));
            // A symlink: user.* is for files and directories; lgetxattr does not follow.
            let s = alloc::format!("{DIR}/ylink");
            check_ok!(symlink(&f, &s));
            check_eq!(
                setx(189, &s, "user.a", b"v", 0),
                Err(EPERM),
                "user. on a symlink"
            );
            check_eq!(
                setx(189, &s, "trusted.a", b"sl", 0),
                Ok(0),
                "trusted. on a symlink"
            );
            let sp = cpath(&s);
            check_eq!(
                getx(192, sp.as_ptr() as usize, "trusted.a", &mut [0; 8]),
                Ok(2)
            );
            check_eq!(get_text(&s, "trusted.a"), Err(ENODATA), "getxattr follows");
            check_eq!(
                get_text(&s, "user.big").map(|v| v.len()),
                Err(ERANGE),
                "64-byte buf"
            );
            // procfs keeps none.
            let _ = ulib::mnt::mkdir_p("/proc", 0o555);
            check_ok!(ulib::cred::mount("proc", "/proc", "proc", 0));
            check_eq!(get_text("/proc/self/status", "user.a"), Err(EOPNOTSUPP));
            let r = setx(188, "/proc/self/status", "user.a", b"v", 0);
            check_eq!(r, Err(EOPNOTSUPP), "{:?}", r);
            let pp = cpath("/proc/self/status");
            check_eq!(listx(194, pp.as_ptr() as usize, &mut [0; 8]), Ok(0));
        });
    }

    fn trusted_xattrs_need_cap_sys_admin() {
        in_private_tree(|| {
            let f = alloc::format!("{DIR}/z");
            check_ok!(ulib::mnt::touch(&f));
            check_ok!(ulib::cred::chmod(&f, 0o666));
            check_eq!(setx(188, &f, "trusted.t", b"root", 0), Ok(0));
            check_eq!(setx(188, &f, "user.u", b"all", 0), Ok(0));
            let pid = ulib::test::fork_run(|| {
                check_ok!(ulib::cred::setresuid(1000, 1000, 1000));
                check_eq!(
                    setx(188, &f, "trusted.t", b"x", 0),
                    Err(EPERM),
                    "set trusted"
                );
                check_eq!(get_text(&f, "trusted.t"), Err(ENODATA), "get trusted");
                check_eq!(removex(&f, "trusted.t"), Err(EPERM));
                let p = cpath(&f);
                let mut list = [0u8; 64];
                let n = check_ok!(listx(194, p.as_ptr() as usize, &mut list));
                check_eq!(&list[..n], b"user.u\0", "trusted names hidden");
                check_eq!(
                    setx(188, &f, "user.u", b"mine", 0),
                    Ok(0),
                    "write permission"
                );
            });
            check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
            check_ok!(ulib::cred::chmod(&f, 0o600));
            let pid = ulib::test::fork_run(|| {
                check_ok!(ulib::cred::setresuid(1000, 1000, 1000));
                check_eq!(get_text(&f, "user.u"), Err(EACCES), "no read permission");
                check_eq!(
                    setx(188, &f, "user.u", b"x", 0),
                    Err(EACCES),
                    "no write permission"
                );
            });
            check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
            check_eq!(get_text(&f, "user.u"), Ok(b"mine".to_vec()));
        });
    }

    const PR_SET_PDEATHSIG: usize = 1;
    const PR_GET_PDEATHSIG: usize = 2;
    const PR_SET_NAME: usize = 15;
    const PR_GET_NAME: usize = 16;
    const PR_GET_TSC: usize = 25;
    const PR_SET_TSC: usize = 26;
    const PR_SET_TIMERSLACK: usize = 29;
    const PR_GET_TIMERSLACK: usize = 30;
    const PR_SET_CHILD_SUBREAPER: usize = 36;
    const PR_GET_CHILD_SUBREAPER: usize = 37;

    fn prctl(option: usize, arg2: usize) -> SysResult {
        // SAFETY: arg2 is a value or points to a live buffer, as `option` wants.
        sys::check(unsafe { sys::syscall5(157, option, arg2, 0, 0, 0) })
    }

    fn get_int(option: usize) -> SysResult<i32> {
        let mut v: i32 = -1;
        prctl(option, &mut v as *mut i32 as usize)?;
        Ok(v)
    }

    fn read_text(path: &str) -> alloc::string::String {
        let mut buf = [0u8; 2048];
        let Ok(fd) = sys::open(&cpath(path), sys::O_RDONLY, 0) else {
            return alloc::string::String::new();
        };
        let n = sys::read(fd, &mut buf).unwrap_or(0);
        let _ = sys::close(fd);
        alloc::string::String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    fn prctl_name_shows_in_proc_comm_and_status() {
        in_private_tree(|| {
            let _ = ulib::mnt::mkdir_p("/proc", 0o555);
            check_ok!(ulib::cred::mount("proc", "/proc", "proc", 0));
            check_ok!(prctl(PR_SET_NAME, c"conform2-name-long".as_ptr() as usize));
            let mut name = [0xffu8; 16];
            check_ok!(prctl(PR_GET_NAME, name.as_mut_ptr() as usize));
            check_eq!(&name[..16], b"conform2-name-l\0", "15 bytes and a NUL");
            check_eq!(read_text("/proc/self/comm"), "conform2-name-l\n");
            let status = read_text("/proc/self/status");
            check!(
                status.starts_with("Name:\tconform2-name-l\n"),
                "status: {}",
                status
            );
            let me = sys::getpid();
            check_eq!(
                read_text(&alloc::format!("/proc/{me}/comm")),
                "conform2-name-l\n"
            );
            check_eq!(prctl(PR_GET_NAME, 8), Err(EFAULT));
        });
    }

    fn pdeathsig_and_subreaper_adopt_orphans() {
        let pid = ulib::test::fork_run(|| {
            let reaper = sys::getpid();
            check_eq!(get_int(PR_GET_CHILD_SUBREAPER), Ok(0));
            check_ok!(prctl(PR_SET_CHILD_SUBREAPER, 1));
            check_eq!(get_int(PR_GET_CHILD_SUBREAPER), Ok(1));
            check_eq!(prctl(PR_SET_PDEATHSIG, 65), Err(EINVAL), "not a signal");
            let [r, w] = check_ok!(sys::pipe());
            let a = check_ok!(sys::fork());
            if a == 0 {
                // The middle process: two children, then it exits.
                let dying = check_ok!(sys::fork());
                if dying == 0 {
                    let ok = prctl(PR_SET_PDEATHSIG, sys::SIGUSR1 as usize).is_ok()
                        && get_int(PR_GET_PDEATHSIG) == Ok(sys::SIGUSR1);
                    let _ = sys::write(w, if ok { b"d" } else { b"x" });
                    for _ in 0..500 {
                        let _ = sys::sleep_ms(10);
                    }
                    sys::exit(3);
                }
                let orphan = check_ok!(sys::fork());
                if orphan == 0 {
                    check_eq!(get_int(PR_GET_PDEATHSIG), Ok(0), "not inherited");
                    let _ = sys::write(w, b"o");
                    let mut n = 0;
                    while sys::getppid() != reaper && n < 500 {
                        let _ = sys::sleep_ms(10);
                        n += 1;
                    }
                    sys::exit(if sys::getppid() == reaper { 7 } else { 8 });
                }
                let mut b = [0u8; 2];
                let mut got = 0;
                while got < 2 {
                    got += sys::read(r, &mut b[got..]).unwrap_or(2);
                }
                sys::exit(if b.contains(&b'x') { 1 } else { 0 });
            }
            check_eq!(ulib::test::wait_exit(a), ulib::test::Exit::Code(0));
            // Both grandchildren are now the subreaper's: one killed by SIGUSR1 at the
            // middle process's exit, the other exits 7 having seen its new parent.
            let mut ends = alloc::vec::Vec::new();
            for _ in 0..2 {
                let (_, status) = check_ok!(sys::wait4(-1, 0));
                ends.push(ulib::test::Exit::from_status(status));
            }
            ends.sort_by_key(|e| alloc::format!("{e:?}"));
            check_eq!(
                ends,
                [
                    ulib::test::Exit::Code(7),
                    ulib::test::Exit::Signal(sys::SIGUSR1)
                ]
            );
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
    }

    fn prctl_timerslack_and_tsc() {
        let pid = ulib::test::fork_run(|| {
            check_eq!(prctl(PR_GET_TIMERSLACK, 0), Ok(50_000), "Linux's default");
            check_ok!(prctl(PR_SET_TIMERSLACK, 1_000_000));
            check_eq!(prctl(PR_GET_TIMERSLACK, 0), Ok(1_000_000));
            let child = check_ok!(sys::fork());
            if child == 0 {
                // Inherited, and 0 restores the inherited value as the default.
                let ok = prctl(PR_GET_TIMERSLACK, 0) == Ok(1_000_000)
                    && prctl(PR_SET_TIMERSLACK, 5).is_ok()
                    && prctl(PR_SET_TIMERSLACK, 0).is_ok()
                    && prctl(PR_GET_TIMERSLACK, 0) == Ok(1_000_000);
                sys::exit(if ok { 0 } else { 1 });
            }
            check_eq!(ulib::test::wait_exit(child), ulib::test::Exit::Code(0));
            check_ok!(prctl(PR_SET_TIMERSLACK, 0));
            check_eq!(prctl(PR_GET_TIMERSLACK, 0), Ok(50_000));
            check_eq!(get_int(PR_GET_TSC), Ok(1), "PR_TSC_ENABLE");
            check_eq!(prctl(PR_SET_TSC, 1), Ok(0));
            check_eq!(prctl(PR_SET_TSC, 3), Err(EINVAL));
            check_eq!(prctl(PR_GET_TSC, 8), Err(EFAULT));
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
    }

    const IN_MODIFY: u32 = 0x2;
    const IN_CLOSE_WRITE: u32 = 0x8;
    const IN_OPEN: u32 = 0x20;
    const IN_MOVED_FROM: u32 = 0x40;
    const IN_MOVED_TO: u32 = 0x80;
    const IN_CREATE: u32 = 0x100;
    const IN_DELETE: u32 = 0x200;
    const IN_DELETE_SELF: u32 = 0x400;
    const IN_IGNORED: u32 = 0x8000;
    const IN_ONLYDIR: u32 = 0x0100_0000;
    const IN_MASK_CREATE: u32 = 0x1000_0000;
    const IN_ISDIR: u32 = 0x4000_0000;
    const IN_ONESHOT: u32 = 0x8000_0000;
    const IN_NONBLOCK: usize = 0o4000;
    const IN_CLOEXEC: usize = 0o2000000;

    fn inotify_init1(flags: usize) -> SysResult<i32> {
        // SAFETY: no pointers.
        sys::check(unsafe { sys::syscall1(294, flags) }).map(|fd| fd as i32)
    }

    fn add_watch(fd: i32, path: &str, mask: u32) -> SysResult<i32> {
        let p = cpath(path);
        // SAFETY: a NUL-terminated path.
        sys::check(unsafe { sys::syscall3(254, fd as usize, p.as_ptr() as usize, mask as usize) })
            .map(|wd| wd as i32)
    }

    fn rm_watch(fd: i32, wd: i32) -> SysResult {
        // SAFETY: no pointers.
        sys::check(unsafe { sys::syscall2(255, fd as usize, wd as usize) })
    }

    /// The events read from `fd` at once: (wd, mask, cookie, name).
    fn events(fd: i32) -> alloc::vec::Vec<(i32, u32, u32, alloc::string::String)> {
        let mut buf = [0u8; 1024];
        let n = sys::read(fd, &mut buf).unwrap_or(0);
        let mut out = alloc::vec::Vec::new();
        let mut at = 0;
        let word = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        while at + 16 <= n {
            let len = word(at + 12) as usize;
            let name = &buf[at + 16..at + 16 + len];
            let end = name.iter().position(|&b| b == 0).unwrap_or(len);
            out.push((
                word(at) as i32,
                word(at + 4),
                word(at + 8),
                alloc::string::String::from_utf8_lossy(&name[..end]).into_owned(),
            ));
            at += 16 + len;
        }
        out
    }

    fn named(ev: &[(i32, u32, u32, alloc::string::String)]) -> alloc::vec::Vec<(u32, &str)> {
        ev.iter().map(|(_, m, _, n)| (*m, n.as_str())).collect()
    }

    fn inotify_reports_directory_events() {
        in_private_tree(|| {
            let d = alloc::format!("{DIR}/w");
            check_ok!(sys::mkdir(&cpath(&d), 0o755));
            let ifd = check_ok!(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
            check_eq!(
                sys::read(ifd, &mut [0u8; 64]),
                Err(EAGAIN),
                "empty, nonblocking"
            );
            let all = IN_CREATE
                | IN_DELETE
                | IN_MODIFY
                | IN_OPEN
                | IN_CLOSE_WRITE
                | IN_MOVED_FROM
                | IN_MOVED_TO;
            let wd = check_ok!(add_watch(ifd, &d, all));
            check!(wd >= 1, "wd {}", wd);
            let a = alloc::format!("{d}/a");
            let fd = check_ok!(sys::open(&cpath(&a), sys::O_CREAT | sys::O_WRONLY, 0o644));
            check_ok!(sys::write(fd, b"x"));
            check_ok!(sys::close(fd));
            let mut pfd = [ifd as u32, 1u32];
            // SAFETY: one live pollfd.
            let r = sys::check(unsafe { sys::syscall3(7, pfd.as_mut_ptr() as usize, 1, 0) });
            check_eq!((r, pfd[1] >> 16), (Ok(1), 1), "POLLIN");
            let mut avail: i32 = 0;
            // SAFETY: FIONREAD writes an int.
            check_ok!(sys::check(unsafe {
                sys::syscall3(16, ifd as usize, 0x541b, &mut avail as *mut i32 as usize)
            }));
            check_eq!(avail, 4 * 32, "FIONREAD: four events named `a`");
            let ev = events(ifd);
            check_eq!(
                named(&ev),
                [
                    (IN_CREATE, "a"),
                    (IN_OPEN, "a"),
                    (IN_MODIFY, "a"),
                    (IN_CLOSE_WRITE, "a")
                ]
            );
            check!(ev.iter().all(|e| e.0 == wd), "all on wd {}", wd);
            check_ok!(sys::rename(&cpath(&a), &cpath(&alloc::format!("{d}/b"))));
            check_ok!(sys::mkdir(&cpath(&alloc::format!("{d}/sub")), 0o755));
            check_ok!(sys::unlink(&cpath(&alloc::format!("{d}/b"))));
            let ev = events(ifd);
            check_eq!(
                named(&ev),
                [
                    (IN_MOVED_FROM, "a"),
                    (IN_MOVED_TO, "b"),
                    (IN_CREATE | IN_ISDIR, "sub"),
                    (IN_DELETE, "b")
                ]
            );
            check!(
                ev.len() == 4 && ev[0].2 != 0 && ev[0].2 == ev[1].2,
                "one cookie pairs the move"
            );
            check_eq!(sys::read(ifd, &mut [0u8; 8]), Err(EAGAIN));
            let _ = sys::close(ifd);
        });
    }

    fn inotify_self_events_oneshot_and_errors() {
        in_private_tree(|| {
            let f = alloc::format!("{DIR}/s");
            check_ok!(ulib::mnt::touch(&f));
            let ifd = check_ok!(inotify_init1(IN_NONBLOCK));
            check_eq!(inotify_init1(1), Err(EINVAL), "unknown flag");
            check_eq!(add_watch(ifd, &f, 0), Err(EINVAL), "no events");
            check_eq!(add_watch(ifd, &f, IN_MODIFY | IN_ONLYDIR), Err(ENOTDIR));
            check_eq!(
                add_watch(0, &f, IN_MODIFY),
                Err(EINVAL),
                "not an inotify fd"
            );
            check_eq!(add_watch(ifd, "/nonexistent", IN_MODIFY), Err(ENOENT));
            let wd = check_ok!(add_watch(ifd, &f, IN_MODIFY | IN_ONESHOT));
            check_eq!(
                add_watch(ifd, &f, IN_MODIFY | IN_ONESHOT),
                Ok(wd),
                "same inode"
            );
            check_eq!(add_watch(ifd, &f, IN_MODIFY | IN_MASK_CREATE), Err(EEXIST));
            let fd = check_ok!(sys::open(&cpath(&f), sys::O_WRONLY, 0));
            check_ok!(sys::write(fd, b"1"));
            check_ok!(sys::write(fd, b"2"));
            let _ = sys::close(fd);
            let ev = events(ifd);
            check_eq!(
                ev.iter()
                    .map(|e| (e.0, e.1))
                    .collect::<alloc::vec::Vec<_>>(),
                [(wd, IN_MODIFY), (wd, IN_IGNORED)],
                "one-shot"
            );
            check_eq!(rm_watch(ifd, wd), Err(EINVAL), "gone after IN_ONESHOT");
            let wd2 = check_ok!(add_watch(ifd, &f, IN_DELETE_SELF));
            check!(wd2 != wd, "a new descriptor");
            let g = alloc::format!("{DIR}/g");
            check_ok!(ulib::mnt::touch(&g));
            let wd3 = check_ok!(add_watch(ifd, &g, IN_MODIFY));
            check_ok!(rm_watch(ifd, wd3));
            check_ok!(sys::unlink(&cpath(&f)));
            let ev = events(ifd);
            check_eq!(
                ev.iter()
                    .map(|e| (e.0, e.1))
                    .collect::<alloc::vec::Vec<_>>(),
                [(wd3, IN_IGNORED), (wd2, IN_DELETE_SELF), (wd2, IN_IGNORED)]
            );
            // A buffer too small for the next event.
            let wd4 = check_ok!(add_watch(ifd, DIR, IN_CREATE));
            check_ok!(ulib::mnt::touch(&alloc::format!("{DIR}/longer-name")));
            check_eq!(sys::read(ifd, &mut [0u8; 20]), Err(EINVAL), "short buffer");
            check_eq!(named(&events(ifd)), [(IN_CREATE, "longer-name")]);
            check_ok!(rm_watch(ifd, wd4));
            let _ = sys::close(ifd);
        });
    }

    fn sysfs_lists_the_registered_file_system_types() {
        in_private_tree(|| {
            let _ = ulib::mnt::mkdir_p("/proc", 0o555);
            check_ok!(ulib::cred::mount("proc", "/proc", "proc", 0));
            let text = read_text("/proc/filesystems");
            let names: alloc::vec::Vec<&str> =
                text.lines().filter_map(|l| l.rsplit('\t').next()).collect();
            check!(
                names.contains(&"tmpfs") && names.contains(&"proc"),
                "{:?}",
                names
            );
            // SAFETY (all three): a NUL-terminated name, a 64-byte buffer or no pointer.
            let sysfs =
                |o: usize, a: usize, b: usize| sys::check(unsafe { sys::syscall3(139, o, a, b) });
            check_eq!(sysfs(3, 0, 0), Ok(names.len()), "sysfs(3): the count");
            for (i, n) in names.iter().enumerate() {
                let c = cpath(n);
                check_eq!(sysfs(1, c.as_ptr() as usize, 0), Ok(i), "sysfs(1, {})", n);
                let mut buf = [0xffu8; 64];
                check_eq!(sysfs(2, i, buf.as_mut_ptr() as usize), Ok(0));
                check_eq!(&buf[..=n.len()], alloc::format!("{n}\0").as_bytes());
            }
            check_eq!(sysfs(1, c"nofs".as_ptr() as usize, 0), Err(EINVAL));
            check_eq!(sysfs(1, 8, 0), Err(EFAULT));
            check_eq!(
                sysfs(2, names.len(), [0u8; 8].as_mut_ptr() as usize),
                Err(EINVAL)
            );
            check_eq!(sysfs(2, 0, 8), Err(EFAULT));
            check_eq!(sysfs(4, 0, 0), Err(EINVAL));
            check_eq!(sysfs(0, 0, 0), Err(EINVAL));
        });
    }

    /// rseq is not offered: glibc (2.35+) registers it at start and copes with `ENOSYS`.
    fn rseq_is_enosys() {
        let area = [0u64; 4];
        // SAFETY: a live, 32-byte aligned-enough area the kernel must not keep.
        let r =
            sys::check(unsafe { sys::syscall4(334, area.as_ptr() as usize, 32, 0, 0x53053053) });
        check_eq!(r, Err(ENOSYS));
    }

    ulib::test_main!(
        sysfs_lists_the_registered_file_system_types,
        rseq_is_enosys,
        inotify_reports_directory_events,
        inotify_self_events_oneshot_and_errors,
        prctl_name_shows_in_proc_comm_and_status,
        pdeathsig_and_subreaper_adopt_orphans,
        prctl_timerslack_and_tsc,
        xattrs_set_get_list_remove_on_tmpfs,
        xattr_limits_and_namespaces,
        trusted_xattrs_need_cap_sys_admin,
        openat2_checks_open_how,
        openat2_resolve_restrictions,
        mremap_grows_in_place_when_the_room_is_free,
        mremap_moves_only_with_maymove,
        mremap_shrinks_and_moves_part_of_an_area,
        mremap_fixed_replaces_the_target,
        mremap_dontunmap_leaves_an_empty_area,
        mremap_zero_old_size_duplicates_a_shared_area,
        mremap_errnos,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
