//! File and process calls real programs make: `eventfd`/`eventfd2`, `preadv`/`pwritev`
//! and their `2` forms, `sendfile`, `copy_file_range`, `readahead`, `close_range`,
//! `getcpu` and `membarrier`, with Linux's errnos.
//!
//! Runs on a Linux host too (in a scratch directory under /tmp).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use ulib::sys::{self, IoVec, SysResult, errno::*};
    use ulib::{check, check_eq, check_ok};

    const NR_SENDFILE: usize = 40;
    const NR_READAHEAD: usize = 187;
    const NR_EVENTFD: usize = 284;
    const NR_EVENTFD2: usize = 290;
    const NR_PREADV: usize = 295;
    const NR_PWRITEV: usize = 296;
    const NR_GETCPU: usize = 309;
    const NR_MEMBARRIER: usize = 324;
    const NR_COPY_FILE_RANGE: usize = 326;
    const NR_PREADV2: usize = 327;
    const NR_PWRITEV2: usize = 328;
    const NR_CLOSE_RANGE: usize = 436;
    const EFD_SEMAPHORE: usize = 1;
    const EFD_NONBLOCK: usize = 0o4000;
    const EFD_CLOEXEC: usize = 0o2000000;
    const EOPNOTSUPP: i32 = 95;
    const ESPIPE: i32 = 29;
    const F_GETFD: usize = 1;
    const F_GETFL: usize = 3;

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    fn sc(n: usize, a: [usize; 6]) -> SysResult {
        // SAFETY: every caller passes live buffers with their lengths, or bad pointers on
        // purpose where the kernel must refuse them.
        sys::check(unsafe { sys::syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]) })
    }

    /// A fresh file in a scratch directory holding `data`, opened read-write.
    fn scratch_file(name: &str, data: &[u8]) -> i32 {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let p = alloc::format!("/tmp/t_fileio.{}", name);
        let fd = sys::open(&cpath(&p), sys::O_CREAT | sys::O_RDWR | sys::O_TRUNC, 0o600)
            .expect("create a scratch file");
        let _ = sys::unlink(&cpath(&p));
        sys::write_all(fd, data).expect("fill it");
        fd
    }

    fn eventfd_counts_and_blocks_like_linux() {
        let fd = check_ok!(sc(NR_EVENTFD2, [3, EFD_NONBLOCK | EFD_CLOEXEC, 0, 0, 0, 0])) as i32;
        check_eq!(sys::fcntl(fd, F_GETFD, 0), Ok(1), "EFD_CLOEXEC");
        check_eq!(
            check_ok!(sys::fcntl(fd, F_GETFL, 0)) & EFD_NONBLOCK,
            EFD_NONBLOCK
        );
        check_ok!(sys::write(fd, &4u64.to_le_bytes()));
        let mut b = [0u8; 8];
        check_eq!(sys::read(fd, &mut b), Ok(8));
        check_eq!(u64::from_le_bytes(b), 7);
        check_eq!(sys::read(fd, &mut b), Err(EAGAIN), "empty");
        check_eq!(sys::read(fd, &mut b[..4]), Err(EINVAL), "short buffer");
        check_eq!(sys::write(fd, &u64::MAX.to_le_bytes()), Err(EINVAL));
        let _ = sys::close(fd);
        let sem = check_ok!(sc(
            NR_EVENTFD2,
            [2, EFD_SEMAPHORE | EFD_NONBLOCK, 0, 0, 0, 0]
        )) as i32;
        check_eq!(sys::read(sem, &mut b), Ok(8));
        check_eq!(u64::from_le_bytes(b), 1, "a semaphore gives 1");
        check_eq!(sys::read(sem, &mut b), Ok(8));
        check_eq!(sys::read(sem, &mut b), Err(EAGAIN));
        let _ = sys::close(sem);
        check_eq!(
            sc(NR_EVENTFD2, [0, 0x10, 0, 0, 0, 0]),
            Err(EINVAL),
            "bad flags"
        );
        // A blocking read waits for a writer.
        let fd = check_ok!(sc(NR_EVENTFD, [0, 0, 0, 0, 0, 0])) as i32;
        let pid = check_ok!(sys::fork());
        if pid == 0 {
            let _ = sys::sleep_ms(20);
            let _ = sys::write(fd, &9u64.to_le_bytes());
            sys::exit(0);
        }
        check_eq!(sys::read(fd, &mut b), Ok(8));
        check_eq!(u64::from_le_bytes(b), 9);
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
        let _ = sys::close(fd);
    }

    fn positioned_vector_io() {
        let fd = scratch_file("v", b"0123456789");
        let (mut a, mut b) = ([0u8; 3], [0u8; 4]);
        let iov = [
            IoVec {
                base: a.as_mut_ptr() as usize,
                len: 3,
            },
            IoVec {
                base: b.as_mut_ptr() as usize,
                len: 4,
            },
        ];
        let pos_before = check_ok!(sys::lseek(fd, 0, 1));
        check_eq!(
            sc(NR_PREADV, [fd as usize, iov.as_ptr() as usize, 2, 2, 0, 0]),
            Ok(7)
        );
        check_eq!((&a, &b), (b"234", b"5678"));
        check_eq!(sys::lseek(fd, 0, 1), Ok(pos_before), "the position stays");
        let w = [IoVec {
            base: b"ab".as_ptr() as usize,
            len: 2,
        }];
        check_eq!(
            sc(NR_PWRITEV, [fd as usize, w.as_ptr() as usize, 1, 1, 0, 0]),
            Ok(2)
        );
        let mut all = [0u8; 10];
        check_eq!(sys::pread(fd, &mut all, 0), Ok(10));
        check_eq!(&all, b"0ab3456789");
        // preadv2 with offset -1 reads at the file position and moves it.
        check_ok!(sys::lseek(fd, 8, 0));
        check_eq!(
            sc(
                NR_PREADV2,
                [fd as usize, iov.as_ptr() as usize, 1, usize::MAX, 0, 0]
            ),
            Ok(2)
        );
        check_eq!(sys::lseek(fd, 0, 1), Ok(10));
        check_eq!(
            sc(
                NR_PREADV2,
                [fd as usize, iov.as_ptr() as usize, 1, 0, 0, 0x100]
            ),
            Err(EOPNOTSUPP),
            "unknown RWF flag"
        );
        // pwritev2 RWF_APPEND writes at the end whatever the offset.
        check_eq!(
            sc(
                NR_PWRITEV2,
                [fd as usize, w.as_ptr() as usize, 1, 0, 0, 0x10]
            ),
            Ok(2)
        );
        check_eq!(check_ok!(sys::fstat(fd)).st_size, 12);
        check_eq!(
            sc(
                NR_PREADV,
                [
                    fd as usize,
                    iov.as_ptr() as usize,
                    1,
                    (-5i64) as usize,
                    0,
                    0
                ]
            ),
            Err(EINVAL)
        );
        let [r, wp] = check_ok!(sys::pipe());
        check_eq!(
            sc(NR_PREADV, [r as usize, iov.as_ptr() as usize, 1, 0, 0, 0]),
            Err(ESPIPE)
        );
        for f in [fd, r, wp] {
            let _ = sys::close(f);
        }
    }

    fn sendfile_copies_and_advances_the_offset() {
        let src = scratch_file("s", b"hello, sendfile");
        let [r, w] = check_ok!(sys::pipe());
        let mut off: i64 = 7;
        check_eq!(
            sc(
                NR_SENDFILE,
                [
                    w as usize,
                    src as usize,
                    &mut off as *mut i64 as usize,
                    100,
                    0,
                    0
                ]
            ),
            Ok(8)
        );
        check_eq!(off, 15, "*offset advanced");
        check_eq!(
            sys::lseek(src, 0, 1),
            Ok(15),
            "the file position is untouched (it was at the end)"
        );
        let mut buf = [0u8; 16];
        check_eq!(sys::read(r, &mut buf), Ok(8));
        check_eq!(&buf[..8], b"sendfile");
        // Without an offset: from the position, which moves.
        check_ok!(sys::lseek(src, 0, 0));
        check_eq!(
            sc(NR_SENDFILE, [w as usize, src as usize, 0, 5, 0, 0]),
            Ok(5)
        );
        check_eq!(sys::lseek(src, 0, 1), Ok(5));
        check_eq!(sys::read(r, &mut buf), Ok(5));
        check_eq!(&buf[..5], b"hello");
        check_eq!(
            sc(NR_SENDFILE, [src as usize, r as usize, 0, 5, 0, 0]),
            Err(EINVAL),
            "a pipe as the source of a file (Linux: only into a pipe)"
        );
        check_eq!(
            sc(NR_SENDFILE, [w as usize, w as usize, 0, 5, 0, 0]),
            Err(EBADF),
            "a write-only source"
        );
        check_eq!(
            sc(NR_SENDFILE, [w as usize, src as usize, 8, 5, 0, 0]),
            Err(EFAULT),
            "bad offset pointer"
        );
        for f in [src, r, w] {
            let _ = sys::close(f);
        }
    }

    fn copy_file_range_between_files() {
        let a = scratch_file("a", b"abcdefgh");
        let b = scratch_file("b", b"");
        let (mut oi, mut oo): (i64, i64) = (2, 1);
        check_eq!(
            sc(
                NR_COPY_FILE_RANGE,
                [
                    a as usize,
                    &mut oi as *mut i64 as usize,
                    b as usize,
                    &mut oo as *mut i64 as usize,
                    4,
                    0
                ]
            ),
            Ok(4)
        );
        check_eq!((oi, oo), (6, 5));
        let mut buf = [0u8; 5];
        check_eq!(sys::pread(b, &mut buf, 0), Ok(5));
        check_eq!(&buf, b"\0cdef");
        check_eq!(
            sc(NR_COPY_FILE_RANGE, [a as usize, 0, b as usize, 0, 4, 1]),
            Err(EINVAL),
            "flags"
        );
        let (mut i2, mut o2): (i64, i64) = (2, 3);
        check_eq!(
            sc(
                NR_COPY_FILE_RANGE,
                [
                    a as usize,
                    &mut i2 as *mut i64 as usize,
                    a as usize,
                    &mut o2 as *mut i64 as usize,
                    4,
                    0
                ]
            ),
            Err(EINVAL),
            "overlapping ranges of one file"
        );
        let [r, w] = check_ok!(sys::pipe());
        check_eq!(
            sc(NR_COPY_FILE_RANGE, [r as usize, 0, b as usize, 0, 4, 0]),
            Err(EINVAL),
            "a pipe"
        );
        let d = check_ok!(sys::open(c"/", sys::O_RDONLY, 0));
        check_eq!(
            sc(NR_COPY_FILE_RANGE, [d as usize, 0, b as usize, 0, 4, 0]),
            Err(EISDIR)
        );
        check_eq!(sc(NR_READAHEAD, [a as usize, 0, 4096, 0, 0, 0]), Ok(0));
        check_eq!(
            sc(NR_READAHEAD, [r as usize, 0, 4096, 0, 0, 0]),
            Err(EINVAL)
        );
        check_eq!(sc(NR_READAHEAD, [w as usize, 0, 4096, 0, 0, 0]), Err(EBADF));
        for f in [a, b, r, w, d] {
            let _ = sys::close(f);
        }
    }

    fn close_range_closes_or_marks_cloexec() {
        let base = check_ok!(sys::dup(0));
        let fds = [
            base,
            check_ok!(sys::dup(0)),
            check_ok!(sys::dup(0)),
            check_ok!(sys::dup(0)),
        ];
        check!(
            fds.windows(2).all(|w| w[1] == w[0] + 1),
            "consecutive {:?}",
            fds
        );
        check_eq!(
            sc(
                NR_CLOSE_RANGE,
                [fds[0] as usize, fds[1] as usize, 4, 0, 0, 0]
            ),
            Ok(0)
        );
        check_eq!(
            sys::fcntl(fds[0], F_GETFD, 0),
            Ok(1),
            "marked close-on-exec"
        );
        check_eq!(sys::fcntl(fds[2], F_GETFD, 0), Ok(0));
        check_eq!(
            sc(
                NR_CLOSE_RANGE,
                [fds[1] as usize, u32::MAX as usize, 0, 0, 0, 0]
            ),
            Ok(0)
        );
        check_eq!(
            sys::fcntl(fds[0], F_GETFD, 0),
            Ok(1),
            "below the range: open"
        );
        for fd in &fds[1..] {
            check_eq!(sys::fcntl(*fd, F_GETFD, 0), Err(EBADF));
        }
        check_eq!(sc(NR_CLOSE_RANGE, [5, 4, 0, 0, 0, 0]), Err(EINVAL));
        check_eq!(sc(NR_CLOSE_RANGE, [5, 6, 1, 0, 0, 0]), Err(EINVAL));
        let _ = sys::close(fds[0]);
    }

    fn getcpu_and_membarrier() {
        let (mut cpu, mut node) = (77u32, 77u32);
        check_eq!(
            sc(
                NR_GETCPU,
                [
                    &mut cpu as *mut u32 as usize,
                    &mut node as *mut u32 as usize,
                    0,
                    0,
                    0,
                    0
                ]
            ),
            Ok(0)
        );
        check_eq!((cpu, node), (0, 0));
        check_eq!(sc(NR_GETCPU, [8, 0, 0, 0, 0, 0]), Err(EFAULT));
        let q = check_ok!(sc(NR_MEMBARRIER, [0, 0, 0, 0, 0, 0]));
        check!(q & 1 == 1, "MEMBARRIER_CMD_GLOBAL offered: {:#x}", q);
        check_eq!(sc(NR_MEMBARRIER, [1, 0, 0, 0, 0, 0]), Ok(0));
        check_eq!(sc(NR_MEMBARRIER, [0, 1, 0, 0, 0, 0]), Err(EINVAL));
    }

    const NR_FALLOCATE: usize = 285;
    const NR_PIDFD_OPEN: usize = 434;
    const NR_PIDFD_GETFD: usize = 438;

    fn fallocate(fd: i32, mode: usize, off: usize, len: usize) -> SysResult {
        sc(NR_FALLOCATE, [fd as usize, mode, off, len, 0, 0])
    }

    fn fallocate_grows_zeroes_and_refuses() {
        let fd = scratch_file("f", b"abcdef");
        check_eq!(fallocate(fd, 0, 0, 8192), Ok(0));
        check_eq!(check_ok!(sys::fstat(fd)).st_size, 8192, "grown");
        check_eq!(fallocate(fd, 1, 10000, 10), Ok(0), "KEEP_SIZE");
        check_eq!(check_ok!(sys::fstat(fd)).st_size, 8192);
        check_eq!(fallocate(fd, 3, 1, 2), Ok(0), "PUNCH_HOLE|KEEP_SIZE");
        let mut b = [9u8; 6];
        check_eq!(sys::pread(fd, &mut b, 0), Ok(6));
        check_eq!(&b, b"a\0\0def");
        check_eq!(fallocate(fd, 0x10, 4, 8190), Ok(0), "ZERO_RANGE grows too");
        check_eq!(check_ok!(sys::fstat(fd)).st_size, 8194);
        check_eq!(sys::pread(fd, &mut b, 0), Ok(6));
        check_eq!(&b, b"a\0\0d\0\0");
        check_eq!(
            fallocate(fd, 2, 0, 1),
            Err(EINVAL),
            "PUNCH_HOLE needs KEEP_SIZE"
        );
        check_eq!(fallocate(fd, 8, 0, 4096), Err(EOPNOTSUPP), "COLLAPSE_RANGE");
        check_eq!(fallocate(fd, 0, 0, 0), Err(EINVAL), "len 0");
        check_eq!(
            fallocate(fd, 0, usize::MAX, 1),
            Err(EINVAL),
            "negative offset"
        );
        let [r, w] = check_ok!(sys::pipe());
        check_eq!(fallocate(w, 0, 0, 1), Err(ESPIPE));
        let ro = check_ok!(sys::open(c"/init", sys::O_RDONLY, 0));
        check_eq!(fallocate(ro, 0, 0, 1), Err(EBADF));
        for f in [fd, r, w, ro] {
            let _ = sys::close(f);
        }
    }

    fn pidfd_getfd_duplicates_another_processes_fd() {
        let [r, w] = check_ok!(sys::pipe());
        let pidfd = check_ok!(sc(NR_PIDFD_OPEN, [sys::getpid() as usize, 0, 0, 0, 0, 0])) as i32;
        let dup = check_ok!(sc(NR_PIDFD_GETFD, [pidfd as usize, w as usize, 0, 0, 0, 0])) as i32;
        check!(dup != w, "a new descriptor");
        check_eq!(sys::fcntl(dup, F_GETFD, 0), Ok(1), "close-on-exec");
        check_ok!(sys::write(dup, b"q"));
        let mut b = [0u8; 1];
        check_eq!(sys::read(r, &mut b), Ok(1));
        check_eq!(&b, b"q", "the same pipe");
        check_eq!(
            sc(NR_PIDFD_GETFD, [pidfd as usize, w as usize, 1, 0, 0, 0]),
            Err(EINVAL)
        );
        check_eq!(
            sc(NR_PIDFD_GETFD, [pidfd as usize, 999, 0, 0, 0, 0]),
            Err(EBADF)
        );
        check_eq!(
            sc(NR_PIDFD_GETFD, [r as usize, w as usize, 0, 0, 0, 0]),
            Err(EBADF)
        );
        // Another user may not take root's descriptors.
        let parent = sys::getpid();
        let pid = ulib::test::fork_run(|| {
            let pfd = check_ok!(sc(NR_PIDFD_OPEN, [parent as usize, 0, 0, 0, 0, 0])) as i32;
            check_ok!(ulib::cred::become_user(1000));
            check_eq!(
                sc(NR_PIDFD_GETFD, [pfd as usize, w as usize, 0, 0, 0, 0]),
                Err(EPERM)
            );
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
        for f in [r, w, pidfd, dup] {
            let _ = sys::close(f);
        }
    }

    const NR_SET_ROBUST_LIST: usize = 273;
    const NR_GET_ROBUST_LIST: usize = 274;

    /// set_robust_list/get_robust_list, and a robust mutex held by a thread that exits:
    /// its futex word gets FUTEX_OWNER_DIED (keeping FUTEX_WAITERS).
    fn robust_futexes_are_released_at_exit() {
        let mut head = [0u64; 3];
        let hp = head.as_mut_ptr() as usize;
        check_eq!(sc(NR_SET_ROBUST_LIST, [hp, 23, 0, 0, 0, 0]), Err(EINVAL));
        let pid = ulib::test::fork_run(|| {
            check_eq!(sc(NR_SET_ROBUST_LIST, [hp, 24, 0, 0, 0, 0]), Ok(0));
            let (mut h, mut l) = (0usize, 0usize);
            check_eq!(
                sc(
                    NR_GET_ROBUST_LIST,
                    [
                        0,
                        &mut h as *mut usize as usize,
                        &mut l as *mut usize as usize,
                        0,
                        0,
                        0
                    ]
                ),
                Ok(0)
            );
            check_eq!((h, l), (hp, 24));
            check_eq!(
                sc(
                    NR_GET_ROBUST_LIST,
                    [99999, &mut h as *mut usize as usize, 0, 0, 0, 0]
                ),
                Err(ESRCH)
            );
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
        // SAFETY: a fresh shared page, unmapped below.
        let page = check_ok!(unsafe {
            sys::mmap(
                0,
                4096,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED | sys::MAP_ANONYMOUS,
                -1,
                0,
            )
        });
        // Layout in the page: head (3 words) at 0, two entries at 64 and 128, their
        // futex words at entry + 16.
        let word = |at: usize| page + at;
        for waiters in [0u32, 0x8000_0000] {
            let child = check_ok!(sys::fork());
            if child == 0 {
                let tid = sys::gettid() as u32;
                // SAFETY: all inside the shared page.
                unsafe {
                    let w = |at: usize, v: u64| core::ptr::write_volatile(word(at) as *mut u64, v);
                    w(0, word(64) as u64); // head.next
                    w(8, 16); // futex_offset
                    w(16, 0); // list_op_pending
                    w(64, word(128) as u64); // entry 1 -> entry 2
                    w(128, word(0) as u64); // entry 2 -> head
                    core::ptr::write_volatile(word(80) as *mut u32, tid | waiters);
                    core::ptr::write_volatile(word(144) as *mut u32, 12345); // someone else's
                }
                let r = sc(NR_SET_ROBUST_LIST, [word(0), 24, 0, 0, 0, 0]);
                sys::exit(if r == Ok(0) { 0 } else { 1 });
            }
            check_eq!(ulib::test::wait_exit(child), ulib::test::Exit::Code(0));
            // SAFETY: inside the shared page.
            let (w1, w2) = unsafe {
                (
                    core::ptr::read_volatile(word(80) as *const u32),
                    core::ptr::read_volatile(word(144) as *const u32),
                )
            };
            check_eq!(w1, waiters | 0x4000_0000, "FUTEX_OWNER_DIED");
            check_eq!(w2, 12345, "another owner's word is untouched");
        }
        // SAFETY: ours.
        let _ = unsafe { sys::munmap(page, 4096) };
    }

    const NR_UTIMES: usize = 235;
    const NR_FUTIMESAT: usize = 261;
    const NR_UTIMENSAT: usize = 280;
    const UTIME_NOW: i64 = 0x3fff_ffff;
    const UTIME_OMIT: i64 = 0x3fff_fffe;
    const AT_FDCWD: usize = -100isize as usize;

    fn utimensat(dirfd: usize, path: Option<&CString>, t: Option<[i64; 4]>) -> SysResult {
        let p = path.map_or(0, |p| p.as_ptr() as usize);
        let tp = t.as_ref().map_or(0, |t| t.as_ptr() as usize);
        sc(NR_UTIMENSAT, [dirfd, p, tp, 0, 0, 0])
    }

    fn times_of(p: &CString) -> (i64, i64, i64, i64) {
        let st = sys::stat(p).unwrap_or_default();
        (st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec)
    }

    /// utimensat/utimes/futimesat set the times given (UTIME_NOW, UTIME_OMIT; µs for
    /// utimes); explicit times need the owner (EPERM), "now" write permission (EACCES).
    fn timestamps_are_set_as_asked() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let path = cpath("/tmp/t_fileio.times");
        let fd = check_ok!(sys::open(
            &path,
            sys::O_CREAT | sys::O_RDWR | sys::O_TRUNC,
            0o644
        ));
        check_eq!(
            utimensat(AT_FDCWD, Some(&path), Some([1000, 500, 2000, 600])),
            Ok(0)
        );
        check_eq!(times_of(&path), (1000, 500, 2000, 600));
        check_eq!(
            utimensat(AT_FDCWD, Some(&path), Some([0, UTIME_OMIT, 0, UTIME_NOW])),
            Ok(0)
        );
        let (a, an, m, _) = times_of(&path);
        check_eq!((a, an), (1000, 500), "UTIME_OMIT keeps atime");
        check!(m > 2000, "UTIME_NOW sets mtime to now: {}", m);
        let tv = [3000i64, 7, 4000, 8];
        check_eq!(
            sc(
                NR_UTIMES,
                [path.as_ptr() as usize, tv.as_ptr() as usize, 0, 0, 0, 0]
            ),
            Ok(0)
        );
        check_eq!(times_of(&path), (3000, 7000, 4000, 8000), "microseconds");
        check_eq!(
            utimensat(fd as usize, None, Some([5, 0, 6, 0])),
            Ok(0),
            "futimens"
        );
        check_eq!(times_of(&path), (5, 0, 6, 0));
        let dir = check_ok!(sys::open(c"/tmp", sys::O_RDONLY, 0));
        let name = cpath("t_fileio.times");
        check_eq!(
            sc(
                NR_FUTIMESAT,
                [dir as usize, name.as_ptr() as usize, 0, 0, 0, 0]
            ),
            Ok(0)
        );
        check!(times_of(&path).0 > 5, "futimesat NULL: now");
        check_eq!(
            utimensat(AT_FDCWD, Some(&path), Some([0, 1_000_000_000, 0, 0])),
            Err(EINVAL)
        );
        let bad = [0i64, 1_000_000, 0, 0];
        check_eq!(
            sc(
                NR_UTIMES,
                [path.as_ptr() as usize, bad.as_ptr() as usize, 0, 0, 0, 0]
            ),
            Err(EINVAL)
        );
        check_eq!(
            sc(
                NR_UTIMENSAT,
                [AT_FDCWD, path.as_ptr() as usize, 0, 0x4, 0, 0]
            ),
            Err(EINVAL)
        );
        let pid = ulib::test::fork_run(|| {
            check_ok!(ulib::cred::become_user(1000));
            check_eq!(
                utimensat(AT_FDCWD, Some(&path), Some([1, 0, 1, 0])),
                Err(EPERM),
                "explicit times: not the owner"
            );
            check_eq!(utimensat(AT_FDCWD, Some(&path), None), Err(EACCES), "0644");
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
        check_ok!(ulib::cred::chmod("/tmp/t_fileio.times", 0o666));
        let pid = ulib::test::fork_run(|| {
            check_ok!(ulib::cred::become_user(1000));
            check_eq!(
                utimensat(AT_FDCWD, Some(&path), None),
                Ok(0),
                "writable: now is fine"
            );
        });
        check_eq!(ulib::test::wait_exit(pid), ulib::test::Exit::Code(0));
        let _ = sys::unlink(&path);
        let _ = sys::close(fd);
        let _ = sys::close(dir);
    }

    const NR_EXECVEAT: usize = 322;
    const AT_EMPTY_PATH: usize = 0x1000;
    const AT_SYMLINK_NOFOLLOW: usize = 0x100;
    const PROBE: &str = "--exec-probe";
    const ELOOP: i32 = 40;

    /// execveat in a child: its exit status (42 when the probe ran), or the errno.
    fn execveat_child(dirfd: i32, name: &CString, flags: usize) -> Result<i32, i32> {
        let Some(prog) = ulib::Args::get().arg(0).and_then(|a| CString::new(a).ok()) else {
            return Err(0);
        };
        let [r, w] = sys::pipe()?;
        let pid = sys::fork()?;
        if pid == 0 {
            let argv = [prog.as_ptr() as usize, c"--exec-probe".as_ptr() as usize, 0];
            let envp = [0usize];
            let e = sc(
                NR_EXECVEAT,
                [
                    dirfd as usize,
                    name.as_ptr() as usize,
                    argv.as_ptr() as usize,
                    envp.as_ptr() as usize,
                    flags,
                    0,
                ],
            );
            let code = e.err().unwrap_or(0);
            let _ = sys::write(w, &code.to_le_bytes());
            sys::exit(0);
        }
        let _ = sys::close(w);
        let mut b = [0u8; 4];
        let n = sys::read(r, &mut b);
        let _ = sys::close(r);
        let st = ulib::test::wait_exit(pid);
        match (n, st) {
            (Ok(4), _) => Err(i32::from_le_bytes(b)),
            (_, ulib::test::Exit::Code(c)) => Ok(c),
            _ => Err(-1),
        }
    }

    /// execveat: a name relative to a directory fd, the fd itself with AT_EMPTY_PATH,
    /// and the errnos for flags, an empty name, a non-directory and a final symlink.
    fn execveat_runs_by_dirfd_and_by_fd() {
        let Some(prog) = ulib::Args::get().arg_str(0) else {
            check!(false, "no argv[0]");
            return;
        };
        let (dir, base) = prog.rsplit_once('/').unwrap_or((".", prog));
        let dir = if dir.is_empty() { "/" } else { dir };
        let dfd = check_ok!(sys::open(&cpath(dir), sys::O_RDONLY | sys::O_DIRECTORY, 0));
        check_eq!(
            execveat_child(dfd, &cpath(base), 0),
            Ok(42),
            "by directory fd"
        );
        let ffd = check_ok!(sys::open(&cpath(prog), sys::O_RDONLY, 0));
        check_eq!(
            execveat_child(ffd, &cpath(""), AT_EMPTY_PATH),
            Ok(42),
            "the fd itself"
        );
        check_eq!(
            execveat_child(ffd, &cpath(""), 0),
            Err(ENOENT),
            "empty name"
        );
        check_eq!(execveat_child(ffd, &cpath("x"), 0), Err(ENOTDIR));
        check_eq!(execveat_child(dfd, &cpath(base), 0x2), Err(EINVAL), "flags");
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let link = "/tmp/t_fileio.link";
        let _ = sys::unlink(&cpath(link));
        let lp = cpath(link);
        let target = cpath(prog);
        // SAFETY: two NUL-terminated paths.
        check_ok!(sys::check(unsafe {
            sys::syscall2(88, target.as_ptr() as usize, lp.as_ptr() as usize)
        }));
        check_eq!(
            execveat_child(-100, &lp, AT_SYMLINK_NOFOLLOW),
            Err(ELOOP),
            "a final symlink"
        );
        check_eq!(execveat_child(-100, &lp, 0), Ok(42), "followed");
        let _ = sys::unlink(&lp);
        let _ = sys::close(dfd);
        let _ = sys::close(ffd);
    }

    const NR_SPLICE: usize = 275;
    const NR_TEE: usize = 276;

    /// splice between a pipe and a file (offsets moved as asked), tee duplicating a pipe's
    /// data into another without consuming it, and the errnos.
    fn splice_and_tee_move_pipe_data() {
        let f = scratch_file("sp", b"0123456789");
        let [r, w] = check_ok!(sys::pipe());
        let mut off: i64 = 2;
        // file -> pipe, from offset 2.
        check_eq!(
            sc(
                NR_SPLICE,
                [
                    f as usize,
                    &mut off as *mut i64 as usize,
                    w as usize,
                    0,
                    5,
                    0
                ]
            ),
            Ok(5)
        );
        check_eq!(off, 7);
        // tee into a second pipe: the data stays in the first.
        let [r2, w2] = check_ok!(sys::pipe());
        check_eq!(sc(NR_TEE, [r as usize, w2 as usize, 100, 0, 0, 0]), Ok(5));
        let mut b = [0u8; 16];
        check_eq!(sys::read(r2, &mut b), Ok(5));
        check_eq!(&b[..5], b"23456");
        // pipe -> file at the file position (the end: 10).
        check_ok!(sys::lseek(f, 10, 0));
        check_eq!(sc(NR_SPLICE, [r as usize, 0, f as usize, 0, 3, 0]), Ok(3));
        check_eq!(sys::lseek(f, 0, 1), Ok(13));
        check_eq!(sys::pread(f, &mut b[..13], 0), Ok(13));
        check_eq!(&b[..13], b"0123456789234");
        check_eq!(sys::read(r, &mut b), Ok(2), "the rest stayed in the pipe");
        check_eq!(
            sc(NR_SPLICE, [r as usize, 0, w2 as usize, 0, 4, 2]),
            Err(EAGAIN),
            "SPLICE_F_NONBLOCK on an empty pipe"
        );
        check_eq!(
            sc(NR_SPLICE, [f as usize, 0, f as usize, 0, 4, 0]),
            Err(EINVAL),
            "no pipe"
        );
        let mut o2: i64 = 0;
        check_eq!(
            sc(
                NR_SPLICE,
                [
                    r as usize,
                    &mut o2 as *mut i64 as usize,
                    f as usize,
                    0,
                    4,
                    0
                ]
            ),
            Err(ESPIPE)
        );
        check_eq!(
            sc(NR_TEE, [r as usize, f as usize, 4, 0, 0, 0]),
            Err(EINVAL)
        );
        check_eq!(
            sc(NR_TEE, [r as usize, w as usize, 4, 0, 0, 0]),
            Err(EINVAL),
            "one pipe"
        );
        check_eq!(
            sc(NR_SPLICE, [w as usize, 0, f as usize, 0, 4, 0]),
            Err(EBADF)
        );
        for fd in [f, r, w, r2, w2] {
            let _ = sys::close(fd);
        }
    }

    const NR_MEMFD_CREATE: usize = 319;
    const NR_FTRUNCATE: usize = 77;
    const F_ADD_SEALS: usize = 1033;
    const F_GET_SEALS: usize = 1034;

    fn memfd(name: &CString, flags: usize) -> SysResult<i32> {
        sc(NR_MEMFD_CREATE, [name.as_ptr() as usize, flags, 0, 0, 0, 0]).map(|f| f as i32)
    }

    /// memfd_create: an anonymous tmpfs file, shared mappings of it, and its seals.
    fn memfd_files_and_seals() {
        let fd = check_ok!(memfd(&cpath("plain"), 1));
        check_eq!(sys::fcntl(fd, F_GETFD, 0), Ok(1), "MFD_CLOEXEC");
        check_ok!(sys::write_all(fd, b"hello"));
        let mut b = [0u8; 5];
        check_eq!(sys::pread(fd, &mut b, 0), Ok(5));
        check_eq!(&b, b"hello");
        let st = check_ok!(sys::fstat(fd));
        check_eq!((st.st_size, st.st_mode & 0o170000), (5, 0o100000));
        check_eq!(
            sys::fcntl(fd, F_GET_SEALS, 0),
            Ok(1),
            "F_SEAL_SEAL without sealing"
        );
        check_eq!(sys::fcntl(fd, F_ADD_SEALS, 2), Err(EPERM));
        // A shared mapping writes the file.
        check_eq!(sc(NR_FTRUNCATE, [fd as usize, 4096, 0, 0, 0, 0]), Ok(0));
        // SAFETY: a fresh shared mapping of our memfd, unmapped below.
        let m = check_ok!(unsafe {
            sys::mmap(
                0,
                4096,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED,
                fd,
                0,
            )
        });
        // SAFETY: inside the mapping.
        unsafe { core::ptr::write_volatile((m + 100) as *mut u8, b'Z') };
        let mut z = [0u8; 1];
        check_eq!(sys::pread(fd, &mut z, 100), Ok(1));
        check_eq!(&z, b"Z");
        // SAFETY: ours.
        let _ = unsafe { sys::munmap(m, 4096) };
        let _ = sys::close(fd);

        let s = check_ok!(memfd(&cpath("sealed"), 2));
        check_eq!(sys::fcntl(s, F_GET_SEALS, 0), Ok(0));
        check_eq!(sc(NR_FTRUNCATE, [s as usize, 4096, 0, 0, 0, 0]), Ok(0));
        check_eq!(sys::fcntl(s, F_ADD_SEALS, 2 | 4), Ok(0), "SHRINK|GROW");
        check_eq!(sc(NR_FTRUNCATE, [s as usize, 100, 0, 0, 0, 0]), Err(EPERM));
        check_eq!(sc(NR_FTRUNCATE, [s as usize, 8192, 0, 0, 0, 0]), Err(EPERM));
        check_eq!(sys::write(s, b"ok"), Ok(2), "inside the size");
        let tail = [IoVec {
            base: b"0123456789".as_ptr() as usize,
            len: 10,
        }];
        check_eq!(
            sc(
                NR_PWRITEV,
                [s as usize, tail.as_ptr() as usize, 1, 4090, 0, 0]
            ),
            Err(EPERM),
            "past the end: growing"
        );
        check_eq!(sys::fcntl(s, F_ADD_SEALS, 8), Ok(0), "WRITE");
        check_eq!(sys::write(s, b"no"), Err(EPERM));
        // SAFETY: a shared writable mapping the kernel must refuse.
        let w = unsafe {
            sys::mmap(
                0,
                4096,
                sys::PROT_READ | sys::PROT_WRITE,
                sys::MAP_SHARED,
                s,
                0,
            )
        };
        check_eq!(w, Err(EPERM));
        // SAFETY: a read-only shared mapping, unmapped below.
        let r = check_ok!(unsafe { sys::mmap(0, 4096, sys::PROT_READ, sys::MAP_SHARED, s, 0) });
        // SAFETY: inside the mapping.
        check_eq!(unsafe { core::ptr::read_volatile(r as *const u8) }, b'o');
        // SAFETY: ours.
        let _ = unsafe { sys::munmap(r, 4096) };
        check_eq!(sys::fcntl(s, F_ADD_SEALS, 1), Ok(0), "SEAL");
        check_eq!(sys::fcntl(s, F_ADD_SEALS, 0x10), Err(EPERM), "sealed");
        check_eq!(sys::fcntl(s, F_GET_SEALS, 0), Ok(0xf));
        let _ = sys::close(s);

        let long = cpath(&"n".repeat(250));
        check_eq!(memfd(&long, 0), Err(EINVAL), "name over 249 bytes");
        let ok = check_ok!(memfd(&cpath(&"n".repeat(249)), 0));
        let _ = sys::close(ok);
        check_eq!(memfd(&cpath("x"), 0x100), Err(EINVAL), "unknown flag");
        let [pr, pw] = check_ok!(sys::pipe());
        check_eq!(sys::fcntl(pr, F_GET_SEALS, 0), Err(EINVAL), "not a memfd");
        let _ = sys::close(pr);
        let _ = sys::close(pw);
    }

    /// A short read writes only what it returns (Linux): the rest of the buffer keeps its
    /// bytes; a bad buffer gives `EFAULT` before any data is taken from the pipe.
    fn short_reads_leave_the_rest_of_the_buffer() {
        let [r, w] = sys::pipe().expect("pipe");
        check_eq!(sys::write(w, b"abc"), Ok(3));
        check_eq!(
            sc(0, [r as usize, 8, 16, 0, 0, 0]).map(|n| n as i32),
            Err(EFAULT)
        );
        let mut buf = [0xaau8; 16];
        check_eq!(sys::read(r, &mut buf), Ok(3));
        check_eq!(&buf[..3], b"abc");
        check!(buf[3..].iter().all(|&b| b == 0xaa));
        let fd = scratch_file("short", b"xy");
        check_ok!(sys::lseek(fd, 0, 0));
        let mut buf = [0x55u8; 8];
        check_eq!(sys::read(fd, &mut buf), Ok(2));
        check_eq!(&buf[..], b"xy\x55\x55\x55\x55\x55\x55");
        let _ = sys::close(fd);
        let _ = sys::close(r);
        let _ = sys::close(w);
    }

    fn main(args: ulib::Args) -> i32 {
        if args.arg_str(1) == Some(PROBE) {
            return 42;
        }
        ulib::test::run(ulib::cases![
            short_reads_leave_the_rest_of_the_buffer,
            memfd_files_and_seals,
            splice_and_tee_move_pipe_data,
            execveat_runs_by_dirfd_and_by_fd,
            timestamps_are_set_as_asked,
            robust_futexes_are_released_at_exit,
            fallocate_grows_zeroes_and_refuses,
            pidfd_getfd_duplicates_another_processes_fd,
            eventfd_counts_and_blocks_like_linux,
            positioned_vector_io,
            sendfile_copies_and_advances_the_offset,
            copy_file_range_between_files,
            close_range_closes_or_marks_cloexec,
            getcpu_and_membarrier,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
