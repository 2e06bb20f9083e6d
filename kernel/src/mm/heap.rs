//! The kernel heap: a `linked_list_allocator` over a physically contiguous region
//! reached through the direct map.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

static mut HEAP_SIZE: u64 = 0;

/// Hands `[start, start + size)` (physical) to the heap.
pub fn init(start_pa: u64, size: u64) {
    // SAFETY: called once at boot with RAM nobody else uses.
    unsafe {
        HEAP.lock()
            .init(super::phys_to_virt(start_pa) as *mut u8, size as usize);
        HEAP_SIZE = size;
    }
}

/// `(used, size)` in bytes.
pub fn usage() -> (u64, u64) {
    let used = HEAP.lock().used() as u64;
    // SAFETY: written once at boot before any reader.
    (used, unsafe { HEAP_SIZE })
}
