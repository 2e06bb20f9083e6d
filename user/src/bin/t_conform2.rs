//! Linux conformance, second set: `mremap` (grow in place, move, shrink, `MREMAP_FIXED`,
//! `MREMAP_DONTUNMAP`, shared duplicates, errnos).
//!
//! Runs as root on a Linux host too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::{check, check_eq, check_ok};

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

    ulib::test_main!(
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
