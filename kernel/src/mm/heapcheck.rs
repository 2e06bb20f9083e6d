//! Boot-time checks of the kernel heap's last resort, run by kernel command-line
//! switches (`tests/runner.rs` boots them and reads the log):
//! - `test_heap_reserve=1`: first a `Vec` over a page grows and shrinks in the vmalloc
//!   area keeping its bytes, and the area's frames all come back; then, with every
//!   ordinary frame taken, an infallible `Vec` of 64 KiB is served from the emergency
//!   reserve; once it and the frames are freed the reserve is whole again and the free
//!   frames are back to the page.
//! - `test_heap_exhaust=1`: with every ordinary frame taken, infallible allocations go
//!   on until the reserve is used up too, and the kernel panics naming heap exhaustion.

use super::{PAGE_SIZE, frame, phys_to_virt};
use alloc::vec::Vec;

/// Frames taken from the frame allocator, linked through their first word (no heap).
struct Hoard {
    head: u64,
    count: u64,
}

impl Hoard {
    /// Takes every frame an ordinary allocation can get.
    fn take_all() -> Hoard {
        let mut h = Hoard { head: 0, count: 0 };
        while let Some(pa) = frame::alloc_dirty() {
            // SAFETY: the frame was just allocated and is ours; the direct map covers it.
            unsafe { (phys_to_virt(pa) as *mut u64).write(h.head) };
            h.head = pa;
            h.count += 1;
        }
        h
    }
}

impl Drop for Hoard {
    fn drop(&mut self) {
        while self.head != 0 {
            let pa = self.head;
            // SAFETY: a frame of this hoard, holding the link written in `take_all`.
            self.head = unsafe { (phys_to_virt(pa) as *const u64).read() };
            frame::free(pa);
        }
    }
}

/// Runs the checks the command line asks for; a failed check panics.
pub fn run(cmdline: &str) {
    let on = |switch: &str| cmdline.split_whitespace().any(|w| w == switch);
    if on("test_heap_reserve=1") {
        big_blocks_resize_and_keep_their_bytes();
        reserve_serves_and_refills();
    }
    if on("test_heap_exhaust=1") {
        exhaust();
    }
}

fn big_blocks_resize_and_keep_their_bytes() {
    let (mapped_before, _) = super::vmalloc::usage();
    let mut v: Vec<u32> = Vec::new();
    // 2 KiB doubling to 256 KiB: class blocks, a page block, then vmalloc blocks that
    // grow in place or move.
    for i in 0..65_536u32 {
        v.push(i.wrapping_mul(2_654_435_761));
    }
    let grown = super::vmalloc::usage().0 - mapped_before;
    assert_eq!(
        grown,
        256 << 10,
        "the 256 KiB vector is in the vmalloc area"
    );
    v.truncate(5_000);
    v.shrink_to_fit();
    let (shrunk, _) = super::vmalloc::usage();
    assert_eq!(
        shrunk - mapped_before,
        20_000u64.div_ceil(PAGE_SIZE) * PAGE_SIZE,
        "a shrink in place unmaps the pages past the new end"
    );
    assert!(
        v.iter()
            .enumerate()
            .all(|(i, &x)| x == (i as u32).wrapping_mul(2_654_435_761)),
        "the bytes survive the growth and the shrink"
    );
    drop(v);
    assert_eq!(
        super::vmalloc::usage().0,
        mapped_before,
        "every frame of the area back"
    );
    log::info!(
        "heap vmalloc test: passed, a vector grew to {} KiB and shrank to 20 KiB keeping its bytes",
        grown >> 10
    );
}

fn reserve_serves_and_refills() {
    const BYTES: usize = 64 << 10;
    let free_before = frame::counts().0;
    assert_eq!(
        frame::reserve_left(),
        frame::RESERVE,
        "the reserve is whole at boot"
    );
    let hoard = Hoard::take_all();
    assert_eq!(frame::counts().0, 0, "every ordinary frame taken");
    let v = alloc::vec![0x5au8; BYTES];
    let left = frame::reserve_left();
    assert!(
        left <= frame::RESERVE - BYTES as u64 / PAGE_SIZE,
        "the 64 KiB block took {} reserve frames",
        frame::RESERVE - left
    );
    assert!(v.iter().all(|&b| b == 0x5a), "the block reads back");
    log::info!(
        "heap reserve test: {BYTES} bytes served from the emergency reserve with {} frames hoarded, {left} of {} reserve frames left",
        hoard.count,
        frame::RESERVE
    );
    drop(v);
    drop(hoard);
    assert_eq!(
        frame::reserve_left(),
        frame::RESERVE,
        "the reserve refilled"
    );
    assert_eq!(frame::counts().0, free_before, "every frame back");
    log::info!(
        "heap reserve test: passed, reserve refilled ({} frames), {free_before} free frames as before",
        frame::RESERVE
    );
}

fn exhaust() -> ! {
    let hoard = Hoard::take_all();
    log::info!(
        "heap exhaustion test: {} frames hoarded, allocating until the heap panics",
        hoard.count
    );
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        // Infallible on purpose: the last one panics with the heap's report.
        blocks.push(alloc::vec![1u8; 16 << 10]);
    }
}
