//! Memory: brk, anonymous and shared mappings, munmap/mprotect faults, mmap argument errors.
//! Faulting accesses happen in forked children: the child dies with SIGSEGV and the parent
//! (and the next program) carries on.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{check, check_eq, check_ok, test_main};

    const PAGE: usize = 4096;

    /// Runs `f` in a child and says how the child ended.
    fn in_child(f: impl FnOnce()) -> Exit {
        wait_exit(fork_run(f))
    }

    /// Fills `[addr, addr+len)` with a pattern and checks it reads back.
    fn fill_and_verify(addr: usize, len: usize, seed: u8) -> bool {
        // SAFETY: callers pass a mapping they own.
        let mem = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) };
        for (i, b) in mem.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
        }
        mem.iter()
            .enumerate()
            .all(|(i, &b)| b == (i as u8).wrapping_mul(31).wrapping_add(seed))
    }

    /// brk grows the heap (the new memory is zeroed and usable), shrinks it back, and a request
    /// it cannot satisfy returns the unchanged break; memory past a shrunk break faults.
    fn brk_grow_touch_shrink() {
        let start = brk(0);
        check!(start > 0);
        let grown = brk(start + 64 * 1024);
        check_eq!(grown, start + 64 * 1024);
        // SAFETY: the range was just added to the heap.
        let mem = unsafe { core::slice::from_raw_parts(start as *const u8, 64 * 1024) };
        check!(mem.iter().all(|&b| b == 0));
        check!(fill_and_verify(start, 64 * 1024, 3));
        check_eq!(brk(0), grown);
        check_eq!(brk(start), start);
        let far = start.next_multiple_of(PAGE) + 16 * PAGE;
        check_eq!(in_child(|| unsafe { poke(far, 1) }), Exit::Signal(SIGSEGV));
        check_eq!(
            brk(1 << 46),
            start,
            "an impossible break leaves it unchanged"
        );
        check_eq!(brk(0), start);
    }

    /// An anonymous private mapping is page aligned, zero filled, readable and writable.
    fn mmap_anonymous_private_rw() {
        let len = 1 << 20;
        let a = check_ok!(mmap_anon(len));
        check_eq!(a % PAGE, 0);
        // SAFETY: fresh mapping of `len` bytes.
        let mem = unsafe { core::slice::from_raw_parts(a as *const u8, len) };
        check!(mem.iter().all(|&b| b == 0));
        check!(fill_and_verify(a, len, 9));
        // SAFETY: ours, unused after this.
        check_eq!(unsafe { munmap(a, len) }, Ok(0));
    }

    /// Access after munmap faults (SIGSEGV in the child); the neighbours of an unmapped page stay.
    fn munmap_then_access_segfaults() {
        let a = check_ok!(mmap_anon(3 * PAGE));
        check!(fill_and_verify(a, 3 * PAGE, 1));
        // SAFETY: the middle page is ours and unused.
        check_eq!(unsafe { munmap(a + PAGE, PAGE) }, Ok(0));
        check_eq!(
            in_child(|| unsafe { poke(a + PAGE, 1) }),
            Exit::Signal(SIGSEGV)
        );
        check_eq!(
            in_child(|| unsafe {
                core::hint::black_box(peek(a + PAGE + 100));
            }),
            Exit::Signal(SIGSEGV)
        );
        // SAFETY: the outer pages are still mapped (pattern byte i is i*31+1, and PAGE*k ≡ 0).
        check_eq!(unsafe { (peek(a), peek(a + 2 * PAGE)) }, (1, 1));
        // SAFETY: ours.
        check_eq!(unsafe { munmap(a, 3 * PAGE) }, Ok(0));
        check_eq!(in_child(|| unsafe { poke(a, 1) }), Exit::Signal(SIGSEGV));
    }

    /// mprotect to read-only: reads work, a write faults; PROT_NONE makes reads fault too.
    fn mprotect_readonly_then_write_segfaults() {
        let a = check_ok!(mmap_anon(2 * PAGE));
        // SAFETY: ours.
        unsafe { poke(a, 77) };
        // SAFETY: nothing relies on writing it.
        check_eq!(unsafe { mprotect(a, 2 * PAGE, PROT_READ) }, Ok(0));
        // SAFETY: still readable.
        check_eq!(unsafe { peek(a) }, 77);
        check_eq!(
            in_child(|| unsafe { poke(a + PAGE, 1) }),
            Exit::Signal(SIGSEGV)
        );
        // SAFETY: as above.
        check_eq!(unsafe { mprotect(a, PAGE, PROT_NONE) }, Ok(0));
        check_eq!(
            in_child(|| unsafe {
                core::hint::black_box(peek(a));
            }),
            Exit::Signal(SIGSEGV)
        );
        // SAFETY: as above.
        check_eq!(
            unsafe { mprotect(a, 2 * PAGE, PROT_READ | PROT_WRITE) },
            Ok(0)
        );
        // SAFETY: writable again; the data survived the protection changes.
        unsafe { poke(a + PAGE, 5) };
        check_eq!(unsafe { (peek(a), peek(a + PAGE)) }, (77, 5));
        check_eq!(unsafe { munmap(a, 2 * PAGE) }, Ok(0));
    }

    /// MAP_SHARED|MAP_ANONYMOUS memory is shared with a forked child; MAP_PRIVATE is copied.
    fn map_shared_anonymous_visible_across_fork() {
        // SAFETY: no MAP_FIXED.
        let shared = check_ok!(unsafe {
            mmap(
                0,
                PAGE,
                PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS,
                -1,
                0,
            )
        });
        let private = check_ok!(mmap_anon(PAGE));
        // SAFETY: both ours.
        unsafe { (poke(shared, 1), poke(private, 1)) };
        let pid = fork_run(|| unsafe {
            poke(shared, 42);
            poke(private, 42);
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: both still mapped.
        check_eq!(unsafe { peek(shared) }, 42);
        check_eq!(unsafe { peek(private) }, 1);
        // And the other way round: the parent's write after fork reaches the child.
        let [r, w] = check_ok!(pipe());
        let pid = fork_run(|| {
            let _ = close(w);
            let mut b = [0u8; 1];
            let _ = read(r, &mut b);
            check_eq!(unsafe { peek(shared + 1) }, 9);
        });
        check_ok!(close(r));
        // SAFETY: ours.
        unsafe { poke(shared + 1, 9) };
        check_ok!(close(w));
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: ours.
        unsafe { (munmap(shared, PAGE).ok(), munmap(private, PAGE).ok()) };
    }

    /// A MAP_SHARED mapping of a tmpfs file (/dev/shm) is shared across fork and writes reach
    /// the file itself.
    fn map_shared_file_in_dev_shm() {
        if stat(c"/dev/shm").is_err() {
            let _ = mkdir(c"/dev/shm", 0o1777);
            let _ = mount(c"tmpfs", c"/dev/shm", c"tmpfs", 0);
        }
        let name = alloc::ffi::CString::new(alloc::format!("/dev/shm/t_mm.{}", getpid())).unwrap();
        let fd = check_ok!(open(&name, O_RDWR | O_CREAT | O_TRUNC, 0o600));
        check_ok!(write_all(fd, &[0u8; 2 * PAGE]));
        // SAFETY: no MAP_FIXED.
        let a = check_ok!(unsafe { mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) });
        let pid = fork_run(|| unsafe {
            poke(a + 10, b'x');
            poke(a + PAGE, b'y');
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: mapped.
        check_eq!(unsafe { (peek(a + 10), peek(a + PAGE)) }, (b'x', b'y'));
        let mut buf = [0u8; 1];
        check_eq!(pread(fd, &mut buf, 10), Ok(1));
        check_eq!(buf[0], b'x');
        // A second mapping of the same file sees the same bytes.
        // SAFETY: no MAP_FIXED.
        let b = check_ok!(unsafe { mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, PAGE) });
        check_eq!(unsafe { peek(b) }, b'y');
        // SAFETY: ours.
        unsafe { (munmap(a, 2 * PAGE).ok(), munmap(b, PAGE).ok()) };
        check_ok!(close(fd));
        check_ok!(unlink(&name));
    }

    /// A MAP_SHARED mapping of a sparse file on a tmpfs with `size=8k`: the first two pages
    /// touched fit, the third gets SIGBUS (no room: the mapping counts against `size=`, as
    /// Linux's tmpfs), a page past the end of the file gets SIGBUS too; then `write` into a
    /// hole is ENOSPC.
    fn map_shared_file_counts_against_tmpfs_size() {
        const SIGBUS: i32 = 7;
        const DIR: &core::ffi::CStr = c"/tmp/t_mm.bus";
        let _ = mkdir(c"/tmp", 0o1777);
        let _ = mkdir(DIR, 0o755);
        let data = c"size=8k";
        // SAFETY: NUL-terminated strings.
        let r = check(unsafe {
            syscall5(
                nr::MOUNT,
                c"tmpfs".as_ptr() as usize,
                DIR.as_ptr() as usize,
                c"tmpfs".as_ptr() as usize,
                0,
                data.as_ptr() as usize,
            )
        });
        check_eq!(r, Ok(0));
        let name = c"/tmp/t_mm.bus/f";
        let fd = check_ok!(open(name, O_RDWR | O_CREAT | O_TRUNC, 0o600));
        // SAFETY: a plain ftruncate.
        check_eq!(check(unsafe { syscall2(77, fd as usize, 4 * PAGE) }), Ok(0));
        // SAFETY: no MAP_FIXED.
        let a = check_ok!(unsafe { mmap(0, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) });
        // SAFETY: inside the mapping (faults are the point).
        check_eq!(
            in_child(|| unsafe {
                poke(a, 1);
                poke(a + PAGE, 2);
            }),
            Exit::Code(0)
        );
        // SAFETY: as above.
        check_eq!(
            in_child(|| unsafe { poke(a + 2 * PAGE, 3) }),
            Exit::Signal(SIGBUS)
        );
        // SAFETY: as above.
        check_eq!(
            in_child(|| unsafe { poke(a + 4 * PAGE, 4) }),
            Exit::Signal(SIGBUS)
        );
        const ENOSPC: i32 = 28;
        // SAFETY: a one-byte buffer of ours (pwrite64 is 18).
        let w = check(unsafe { syscall4(18, fd as usize, b"x".as_ptr() as usize, 1, 3 * PAGE) });
        check_eq!(w, Err(ENOSPC));
        let mut buf = [0u8; 1];
        check_eq!(pread(fd, &mut buf, PAGE as u64), Ok(1));
        check_eq!(buf[0], 2);
        // SAFETY: ours.
        unsafe { munmap(a, 5 * PAGE).ok() };
        check_ok!(close(fd));
        check_ok!(unlink(name));
        // SAFETY: a NUL-terminated path (umount2 is 166).
        check_eq!(
            check(unsafe { syscall2(166, DIR.as_ptr() as usize, 0) }),
            Ok(0)
        );
        let _ = rmdir(DIR);
    }

    /// Private pages after fork are copies, whoever writes first (copy-on-write): a child's
    /// writes (by instruction and by the kernel, through `read`) stay in the child, the
    /// parent's later writes reach its later children only; a page made read-only before
    /// the fork and writable again after it is still private.
    fn fork_private_pages_are_copies() {
        let a = check_ok!(mmap_anon(2 * PAGE));
        // SAFETY: our mapping.
        unsafe { poke(a, b'A') };
        let pid = fork_run(|| unsafe {
            check_eq!(peek(a), b'A');
            poke(a, b'B');
            check_eq!(peek(a), b'B');
            // The kernel writes into a copy-on-write page too.
            let [r, w] = pipe().expect("pipe");
            check_eq!(write(w, b"K"), Ok(1));
            let buf = core::slice::from_raw_parts_mut((a + PAGE) as *mut u8, 1);
            check_eq!(read(r, buf), Ok(1));
            check_eq!(peek(a + PAGE), b'K');
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: as above.
        check_eq!(unsafe { (peek(a), peek(a + PAGE)) }, (b'A', 0));
        // SAFETY: as above.
        unsafe { poke(a, b'C') };
        // SAFETY: as above.
        let pid = fork_run(|| unsafe { check_eq!(peek(a), b'C') });
        check_eq!(wait_exit(pid), Exit::Code(0));
        // Read-only across the fork, writable again in the child: still its own copy.
        // SAFETY: our mapping.
        check_eq!(unsafe { mprotect(a, PAGE, PROT_READ) }, Ok(0));
        let pid = fork_run(|| unsafe {
            check_eq!(mprotect(a, PAGE, PROT_READ | PROT_WRITE), Ok(0));
            poke(a, b'D');
            check_eq!(peek(a), b'D');
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        // SAFETY: as above.
        check_eq!(unsafe { peek(a) }, b'C');
        // SAFETY: ours.
        unsafe { munmap(a, 2 * PAGE).ok() };
    }

    /// mmap/munmap/mprotect argument errors.
    fn mmap_bad_arguments() {
        // SAFETY: all these calls fail before mapping anything.
        unsafe {
            let rw = PROT_READ | PROT_WRITE;
            check_eq!(
                mmap(0, 0, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                Err(EINVAL),
                "length 0"
            );
            check_eq!(
                mmap(0, PAGE, rw, MAP_ANONYMOUS, -1, 0),
                Err(EINVAL),
                "neither shared nor private"
            );
            check_eq!(
                mmap(
                    0x1000_0001,
                    PAGE,
                    rw,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                    -1,
                    0
                ),
                Err(EINVAL),
                "unaligned fixed"
            );
            check_eq!(
                mmap(0, PAGE, rw, MAP_PRIVATE, -1, 0),
                Err(EBADF),
                "file mapping of fd -1"
            );
            check_eq!(
                mmap(0, PAGE, rw, MAP_PRIVATE, 999, 0),
                Err(EBADF),
                "file mapping of a closed fd"
            );
            check_eq!(
                mmap(0, PAGE, rw, MAP_PRIVATE, 0, 1),
                Err(EINVAL),
                "unaligned offset"
            );
            check_eq!(munmap(0x1000_0001, PAGE), Err(EINVAL), "unaligned munmap");
            check_eq!(munmap(0x1000_0000, 0), Err(EINVAL), "munmap length 0");
            check_eq!(
                mprotect(0x1000_0001, PAGE, PROT_READ),
                Err(EINVAL),
                "unaligned mprotect"
            );
        }
    }

    /// MAP_FIXED replaces part of an existing mapping with fresh zeroed memory.
    fn mmap_fixed_replaces_pages() {
        let a = check_ok!(mmap_anon(3 * PAGE));
        check!(fill_and_verify(a, 3 * PAGE, 4));
        // SAFETY: the middle page is ours and unused.
        let b = check_ok!(unsafe {
            mmap(
                a + PAGE,
                PAGE,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                -1,
                0,
            )
        });
        check_eq!(b, a + PAGE);
        // SAFETY: all three pages are mapped.
        unsafe {
            check_eq!(peek(a + PAGE), 0);
            check_eq!(peek(a + 2 * PAGE - 1), 0);
            check_eq!(peek(a + 1), 31u8.wrapping_add(4));
            check_eq!(munmap(a, 3 * PAGE), Ok(0));
        }
    }

    /// Many large mappings touched and freed in turn: memory is given back (this would run out
    /// of memory otherwise on a small machine).
    fn large_mappings_are_reclaimed() {
        let len = 16 << 20;
        for round in 0..8u8 {
            let a = check_ok!(mmap_anon(len));
            for off in (0..len).step_by(PAGE) {
                // SAFETY: inside the mapping.
                unsafe { poke(a + off, round) };
            }
            // SAFETY: as above.
            check_eq!(unsafe { peek(a + len - PAGE) }, round);
            // SAFETY: ours.
            check_eq!(unsafe { munmap(a, len) }, Ok(0));
        }
    }

    /// A child that dereferences NULL dies with SIGSEGV; so does one writing to its own code.
    fn null_dereference_segfaults() {
        check_eq!(
            in_child(|| unsafe {
                core::hint::black_box(peek(0));
            }),
            Exit::Signal(SIGSEGV)
        );
        check_eq!(in_child(|| unsafe { poke(8, 1) }), Exit::Signal(SIGSEGV));
        let code = null_dereference_segfaults as *const () as usize;
        check_eq!(
            in_child(|| unsafe { poke(code, 0xc3) }),
            Exit::Signal(SIGSEGV)
        );
        // The parent is unharmed.
        check_eq!(in_child(|| {}), Exit::Code(0));
    }

    const MAP_FIXED_NOREPLACE: usize = 0x10_0000;
    const MADVISE: usize = 28;
    const MADV_DONTNEED: usize = 4;

    fn madvise(addr: usize, len: usize, advice: usize) -> SysResult {
        // SAFETY: callers pass mappings they own; DONTNEED only drops their contents.
        check(unsafe { syscall3(MADVISE, addr, len, advice) })
    }

    /// A PROT_NONE mapping faults on any access; mprotect to RW makes it usable (zero filled),
    /// and data written survives a round trip through PROT_NONE (Linux keeps the pages, only
    /// the page-table permissions change).
    fn prot_none_mapping_then_mprotect_keeps_data() {
        let len = 3 * PAGE;
        // SAFETY: no MAP_FIXED.
        let a = check_ok!(unsafe { mmap(0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) });
        check_eq!(
            in_child(|| unsafe {
                core::hint::black_box(peek(a + PAGE));
            }),
            Exit::Signal(SIGSEGV)
        );
        check_eq!(in_child(|| unsafe { poke(a, 1) }), Exit::Signal(SIGSEGV));
        // SAFETY: ours.
        check_eq!(unsafe { mprotect(a, len, PROT_READ | PROT_WRITE) }, Ok(0));
        // SAFETY: now readable.
        let mem = unsafe { core::slice::from_raw_parts(a as *const u8, len) };
        check!(mem.iter().all(|&b| b == 0));
        check!(fill_and_verify(a, len, 6));
        // SAFETY: nothing touches it while it is PROT_NONE.
        check_eq!(unsafe { mprotect(a, len, PROT_NONE) }, Ok(0));
        check_eq!(
            in_child(|| unsafe {
                core::hint::black_box(peek(a + 2 * PAGE));
            }),
            Exit::Signal(SIGSEGV)
        );
        // SAFETY: ours.
        check_eq!(unsafe { mprotect(a, len, PROT_READ | PROT_WRITE) }, Ok(0));
        // SAFETY: readable again.
        let mem = unsafe { core::slice::from_raw_parts(a as *const u8, len) };
        check!(
            mem.iter()
                .enumerate()
                .all(|(i, &b)| b == (i as u8).wrapping_mul(31).wrapping_add(6)),
            "data lost across PROT_NONE"
        );
        // SAFETY: ours.
        check_eq!(unsafe { munmap(a, len) }, Ok(0));
    }

    /// Creates `/dev/shm/NAME.PID` (mounting tmpfs there if needed) holding two pages of
    /// `i % 251`; returns the path, the open fd and the content.
    fn tmpfs_file(name: &str) -> SysResult<(alloc::ffi::CString, i32, alloc::vec::Vec<u8>)> {
        if stat(c"/dev/shm").is_err() {
            let _ = mkdir(c"/dev/shm", 0o1777);
            let _ = mount(c"tmpfs", c"/dev/shm", c"tmpfs", 0);
        }
        let path =
            alloc::ffi::CString::new(alloc::format!("/dev/shm/{}.{}", name, getpid())).unwrap();
        let fd = open(&path, O_RDWR | O_CREAT | O_TRUNC, 0o600)?;
        let content: alloc::vec::Vec<u8> = (0..2 * PAGE).map(|i| (i % 251) as u8).collect();
        write_all(fd, &content)?;
        Ok((path, fd, content))
    }

    /// A MAP_PRIVATE mapping of a tmpfs file shows the file's bytes; writes to it are
    /// copy-on-write: they change neither the file (pread) nor a MAP_SHARED mapping of it, and
    /// a forked child's writes to its copy do not reach the parent.
    fn map_private_file_writes_stay_private() {
        let (name, fd, content) = check_ok!(tmpfs_file("t_mm_priv"));
        // SAFETY: no MAP_FIXED.
        let p = check_ok!(unsafe { mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) });
        // SAFETY: no MAP_FIXED.
        let s = check_ok!(unsafe { mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0) });
        // SAFETY: both mapped for 2 pages.
        let (pm, sm) = unsafe {
            (
                core::slice::from_raw_parts_mut(p as *mut u8, 2 * PAGE),
                core::slice::from_raw_parts(s as *const u8, 2 * PAGE),
            )
        };
        check!(pm[..] == content[..], "the private mapping shows the file");
        pm[10] = 0xAA;
        pm[PAGE + 7] = 0xBB;
        check_eq!((pm[10], pm[PAGE + 7]), (0xAA, 0xBB));
        let mut buf = [0u8; 1];
        check_eq!(pread(fd, &mut buf, 10), Ok(1));
        check_eq!(buf[0], content[10], "the file is unchanged");
        check_eq!(pread(fd, &mut buf, (PAGE + 7) as u64), Ok(1));
        check_eq!(buf[0], content[PAGE + 7], "the file is unchanged");
        check_eq!(
            sm[10],
            content[10],
            "a shared mapping does not see private writes"
        );
        // A private copy made in a forked child does not reach the parent either.
        let pid = fork_run(|| {
            // SAFETY: the child's copy of the mapping.
            unsafe { poke(p + 20, 0xCC) };
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(pm[20], content[20]);
        // SAFETY: ours.
        unsafe { (munmap(p, 2 * PAGE).ok(), munmap(s, 2 * PAGE).ok()) };
        check_ok!(close(fd));
        check_ok!(unlink(&name));
    }

    /// MADV_DONTNEED on a MAP_PRIVATE file mapping drops the private (written) copy of the
    /// page: it reads the file's bytes again, not zeros (Linux re-faults private file pages
    /// from the page cache; only anonymous pages come back zero-filled).
    fn madvise_dontneed_private_file_rereads_file() {
        let (name, fd, content) = check_ok!(tmpfs_file("t_mm_dontneed"));
        // SAFETY: no MAP_FIXED.
        let p = check_ok!(unsafe { mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) });
        // SAFETY: mapped for 2 pages.
        let pm = unsafe { core::slice::from_raw_parts_mut(p as *mut u8, 2 * PAGE) };
        pm[10] = 0xAA;
        pm[PAGE + 7] = 0xBB;
        check_eq!(madvise(p, PAGE, MADV_DONTNEED), Ok(0));
        check_eq!(pm[10], content[10], "after MADV_DONTNEED");
        check!(pm[..PAGE] == content[..PAGE], "after MADV_DONTNEED");
        check_eq!(pm[PAGE + 7], 0xBB, "the other page keeps its private copy");
        // SAFETY: ours.
        unsafe { munmap(p, 2 * PAGE).ok() };
        check_ok!(close(fd));
        check_ok!(unlink(&name));
    }

    /// MAP_FIXED_NOREPLACE maps at exactly the hint when the range is free, and fails with
    /// EEXIST (leaving the old mapping intact) when any page of it is taken.
    fn map_fixed_noreplace_over_existing_is_eexist() {
        let a = check_ok!(mmap_anon(4 * PAGE));
        // SAFETY: ours.
        unsafe { poke(a + PAGE, 42) };
        // Free the last two pages: a free hole right after two mapped ones.
        // SAFETY: unused.
        check_eq!(unsafe { munmap(a + 2 * PAGE, 2 * PAGE) }, Ok(0));
        let rw = PROT_READ | PROT_WRITE;
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
        // SAFETY: these fail, or map the free hole.
        unsafe {
            check_eq!(mmap(a, PAGE, rw, flags, -1, 0), Err(EEXIST), "fully taken");
            check_eq!(
                mmap(a + PAGE, 2 * PAGE, rw, flags, -1, 0),
                Err(EEXIST),
                "overlap"
            );
            check_eq!(peek(a + PAGE), 42, "the old mapping is intact");
            check_eq!(
                mmap(a + 2 * PAGE, 2 * PAGE, rw, flags, -1, 0),
                Ok(a + 2 * PAGE)
            );
            poke(a + 3 * PAGE, 5);
            check_eq!(peek(a + 3 * PAGE), 5);
            check_eq!(munmap(a, 4 * PAGE), Ok(0));
        }
    }

    /// MADV_DONTNEED on private anonymous memory frees the pages: they read back as zeros
    /// (Linux); pages outside the range keep their data.
    fn madvise_dontneed_zeroes_private_anon() {
        let a = check_ok!(mmap_anon(4 * PAGE));
        check!(fill_and_verify(a, 4 * PAGE, 8));
        check_eq!(madvise(a + PAGE, 2 * PAGE, MADV_DONTNEED), Ok(0));
        // SAFETY: still mapped.
        let mem = unsafe { core::slice::from_raw_parts(a as *const u8, 4 * PAGE) };
        check!(
            mem[PAGE..3 * PAGE].iter().all(|&b| b == 0),
            "dropped pages read zero"
        );
        check_eq!(mem[1], 31u8.wrapping_add(8));
        check_eq!(mem[3 * PAGE + 1], 31u8.wrapping_add(8));
        // The pages are usable again.
        check!(fill_and_verify(a + PAGE, PAGE, 2));
        check_eq!(
            madvise(a + 1, PAGE, MADV_DONTNEED),
            Err(EINVAL),
            "unaligned"
        );
        // SAFETY: ours.
        check_eq!(unsafe { munmap(a, 4 * PAGE) }, Ok(0));
        check_eq!(madvise(a, PAGE, MADV_DONTNEED), Err(ENOMEM), "unmapped");
    }

    test_main!(
        brk_grow_touch_shrink,
        mmap_anonymous_private_rw,
        munmap_then_access_segfaults,
        mprotect_readonly_then_write_segfaults,
        map_shared_anonymous_visible_across_fork,
        map_shared_file_in_dev_shm,
        map_shared_file_counts_against_tmpfs_size,
        fork_private_pages_are_copies,
        mmap_bad_arguments,
        mmap_fixed_replaces_pages,
        large_mappings_are_reclaimed,
        null_dereference_segfaults,
        prot_none_mapping_then_mprotect_keeps_data,
        map_private_file_writes_stay_private,
        madvise_dontneed_private_file_rereads_file,
        map_fixed_noreplace_over_existing_is_eexist,
        madvise_dontneed_zeroes_private_anon,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
