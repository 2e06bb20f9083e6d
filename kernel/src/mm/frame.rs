//! Physical frame allocator: an intrusive free list threaded through the free frames
//! (reached through the direct map), O(1) allocate and free, with a free count for
//! `/proc/meminfo`. Each frame has a reference count so that address spaces can share
//! private pages copy-on-write after `fork`: [`share`] adds a user, [`free`] drops one
//! and returns the frame to the pool with the last.
//!
//! The last [`RESERVE`] free frames are the emergency reserve: only the kernel heap
//! ([`alloc_for_heap`]) may take them, so when user pages, page tables and file data
//! have used up memory (and the OOM killer is called) the kernel's own allocations,
//! which Rust's `Box` and `Vec` cannot see fail, still get served. One line is logged
//! when the heap starts using the reserve and one when frames freed refill it.

use super::{PAGE_SIZE, phys_to_virt};
use core::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use spin::Mutex;

/// Frames the direct map covers (4 GiB): the reference counts are indexed by frame number.
const MAX_FRAMES: usize = 1 << 20;

/// Users of each frame (0: free or never counted, which [`free`] treats as 1).
static REFS: [AtomicU16; MAX_FRAMES] = [const { AtomicU16::new(0) }; MAX_FRAMES];

fn refs(pa: u64) -> Option<&'static AtomicU16> {
    REFS.get((pa / PAGE_SIZE) as usize)
}

/// Frames kept back for the kernel heap: 256 KiB.
pub const RESERVE: u64 = 64;

/// Whether the heap is using the reserve (set when it takes a frame from it, cleared
/// when the free frames are back above it).
static IN_RESERVE: AtomicBool = AtomicBool::new(false);

struct FreeList {
    head: u64,
    free: u64,
    total: u64,
}

static FRAMES: Mutex<FreeList> = Mutex::new(FreeList {
    head: 0,
    free: 0,
    total: 0,
});

/// Adds the frames of `[start, end)` to the pool.
pub fn add_range(start: u64, end: u64) {
    let mut fl = FRAMES.lock();
    let mut a = super::page_up(start).unwrap_or(end);
    while a + PAGE_SIZE <= end {
        // SAFETY: the frame is unused RAM handed over by boot; the direct map covers it.
        unsafe { (phys_to_virt(a) as *mut u64).write(fl.head) };
        fl.head = a;
        fl.free += 1;
        fl.total += 1;
        a += PAGE_SIZE;
    }
}

/// A zeroed frame, or `None` when memory is exhausted.
pub fn alloc() -> Option<u64> {
    let pa = alloc_dirty()?;
    // SAFETY: the frame is now exclusively ours.
    unsafe { core::ptr::write_bytes(phys_to_virt(pa) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(pa)
}

/// A frame with whatever it held before (for a caller that overwrites all of it), or
/// `None` when memory is exhausted (only the emergency reserve is left).
pub fn alloc_dirty() -> Option<u64> {
    take(RESERVE)
}

/// A frame for the kernel heap, which may take the emergency reserve; `None` when even
/// that is gone.
pub fn alloc_for_heap() -> Option<u64> {
    take(0)
}

/// A frame, leaving at least `keep` free ones.
fn take(keep: u64) -> Option<u64> {
    let (pa, left) = {
        let mut fl = FRAMES.lock();
        if fl.head == 0 || fl.free <= keep {
            return None;
        }
        let pa = fl.head;
        // SAFETY: `pa` is a free frame whose first word links to the next one.
        fl.head = unsafe { (phys_to_virt(pa) as *const u64).read() };
        fl.free -= 1;
        (pa, fl.free)
    };
    if let Some(r) = refs(pa) {
        r.store(1, Ordering::Relaxed);
    }
    if left < RESERVE {
        entered_reserve(left);
    }
    Some(pa)
}

#[cold]
fn entered_reserve(left: u64) {
    if !IN_RESERVE.swap(true, Ordering::Relaxed) {
        log::warn!(
            "memory: out of frames, the kernel heap is using its emergency reserve ({left} of {RESERVE} frames left)"
        );
    }
}

#[cold]
fn refilled_reserve() {
    if IN_RESERVE.swap(false, Ordering::Relaxed) {
        log::warn!("memory: the kernel heap's emergency reserve is refilled ({RESERVE} frames)");
    }
}

/// Adds a user to a frame obtained from [`alloc`] (a copy-on-write share).
pub fn share(pa: u64) {
    if let Some(r) = refs(pa) {
        let old = r.fetch_add(1, Ordering::Relaxed);
        assert!(old != u16::MAX, "frame reference count overflow");
    }
}

/// The users of a frame obtained from [`alloc`].
pub fn users(pa: u64) -> u16 {
    refs(pa).map_or(1, |r| r.load(Ordering::Relaxed).max(1))
}

/// Drops a user of a frame obtained from [`alloc`]; the last one returns it to the pool.
pub fn free(pa: u64) {
    if let Some(r) = refs(pa) {
        if r.load(Ordering::Relaxed) > 1 {
            r.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        r.store(0, Ordering::Relaxed);
    }
    let free = {
        let mut fl = FRAMES.lock();
        // SAFETY: the caller owned the frame and no mapping refers to it any more.
        unsafe { (phys_to_virt(pa) as *mut u64).write(fl.head) };
        fl.head = pa;
        fl.free += 1;
        fl.free
    };
    if free >= RESERVE && IN_RESERVE.load(Ordering::Relaxed) {
        refilled_reserve();
    }
}

/// `(free, total)` frame counts; `free` leaves out the emergency reserve (what an
/// allocation other than the heap's can get).
pub fn counts() -> (u64, u64) {
    let fl = FRAMES.lock();
    (fl.free.saturating_sub(RESERVE), fl.total)
}

/// Frames of the emergency reserve still free (`RESERVE` when it is whole).
pub fn reserve_left() -> u64 {
    FRAMES.lock().free.min(RESERVE)
}
