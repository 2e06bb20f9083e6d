//! Physical frame allocator: an intrusive free list threaded through the free frames
//! (reached through the direct map), O(1) allocate and free, with a free count for
//! `/proc/meminfo`.

use super::{PAGE_SIZE, phys_to_virt};
use spin::Mutex;

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
    let pa = {
        let mut fl = FRAMES.lock();
        if fl.head == 0 {
            return None;
        }
        let pa = fl.head;
        // SAFETY: `pa` is a free frame whose first word links to the next one.
        fl.head = unsafe { (phys_to_virt(pa) as *const u64).read() };
        fl.free -= 1;
        pa
    };
    // SAFETY: the frame is now exclusively ours.
    unsafe { core::ptr::write_bytes(phys_to_virt(pa) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(pa)
}

/// Returns a frame obtained from [`alloc`].
pub fn free(pa: u64) {
    let mut fl = FRAMES.lock();
    // SAFETY: the caller owned the frame and no mapping refers to it any more.
    unsafe { (phys_to_virt(pa) as *mut u64).write(fl.head) };
    fl.head = pa;
    fl.free += 1;
}

/// `(free, total)` frame counts.
pub fn counts() -> (u64, u64) {
    let fl = FRAMES.lock();
    (fl.free, fl.total)
}
