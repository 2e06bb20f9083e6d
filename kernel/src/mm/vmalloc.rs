//! The vmalloc area: heap blocks larger than a page, made of single frames mapped at
//! consecutive addresses in a region of the kernel half that every address space
//! shares (PML4 slot 384), each block followed by an unmapped guard page. A block takes
//! frames when it is made and gives them back when it is freed, so big blocks need no
//! physically contiguous memory and no share of RAM is set aside for them. The region's
//! page tables are all made at boot (before any address space copies the kernel half),
//! so mapping a block never allocates and the tables never grow. The ranges come from a
//! bitmap (`vrange`) under its own lock; the frame allocator's lock is taken after it
//! is released, never inside it.

use super::vrange::VirtRanges;
use super::{PAGE_SIZE, frame, paging};
use core::alloc::Layout;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

/// The region's first address: PML4 slot 384.
const BASE: u64 = 0xFFFF_C000_0000_0000;
/// The largest region: 4 GiB of addresses (the region is twice the RAM, up to this).
const MAX_PAGES: usize = 1 << 20;
const PAGE: usize = PAGE_SIZE as usize;

static RANGES: Mutex<VirtRanges<{ MAX_PAGES / 64 }>> = Mutex::new(VirtRanges::new());
/// Frames mapped in the region (`VmallocUsed`).
static MAPPED: AtomicU64 = AtomicU64::new(0);
/// Pages of the region.
static TOTAL: AtomicU64 = AtomicU64::new(0);
/// Page-table frames made at boot for the region.
static TABLES: AtomicU64 = AtomicU64::new(0);

fn kernel_pml4() -> u64 {
    crate::arch::x86_64::boot::boot_pml4_phys()
}

/// Makes the region's page tables: twice as many pages as the frame allocator has (a
/// block's guard page and the holes between blocks need room), whole 2 MiB tables.
pub fn init() {
    let pages = (2 * frame::counts().1 as usize)
        .next_multiple_of(512)
        .min(MAX_PAGES);
    let before = frame::counts().0;
    let mut va = BASE;
    while va < BASE + (pages * PAGE) as u64 {
        assert!(
            paging::prepare(kernel_pml4(), va).is_some(),
            "no frame for the vmalloc area's tables at boot"
        );
        va += 512 * PAGE_SIZE;
    }
    TABLES.store(before - frame::counts().0, Ordering::Relaxed);
    RANGES.lock().set_len(pages);
    TOTAL.store(pages as u64, Ordering::Relaxed);
}

/// Pages a block of `size` bytes maps.
fn pages_of(size: usize) -> usize {
    size.div_ceil(PAGE)
}

fn address(page: usize) -> u64 {
    BASE + (page * PAGE) as u64
}

fn page_index(block: *mut u8) -> usize {
    ((block as u64 - BASE) / PAGE_SIZE) as usize
}

/// Whether `block` lies in the region.
pub fn contains(block: *mut u8) -> bool {
    (block as u64).wrapping_sub(BASE) < (MAX_PAGES * PAGE) as u64
}

/// Maps pages `from..to` of the block at `va` to new frames (the heap's, which may come
/// from the emergency reserve); on failure unmaps what it mapped and gives false.
fn map_pages(va: u64, from: usize, to: usize) -> bool {
    for i in from..to {
        let at = va + (i * PAGE) as u64;
        let mapped = frame::alloc_for_heap().filter(|&pa| {
            let ok =
                paging::map_prepared(kernel_pml4(), at, pa, paging::WRITABLE | paging::NO_EXECUTE);
            if !ok {
                frame::free(pa);
            }
            ok
        });
        if mapped.is_none() {
            unmap_pages(va, from, i);
            return false;
        }
        MAPPED.fetch_add(1, Ordering::Relaxed);
    }
    true
}

/// Unmaps pages `from..to` of the block at `va` and frees their frames.
fn unmap_pages(va: u64, from: usize, to: usize) {
    for i in from..to {
        if let Some(e) = paging::unmap(kernel_pml4(), va + (i * PAGE) as u64) {
            frame::free(paging::entry_addr(e));
            MAPPED.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A block for `layout` (more than a page), null when addresses or frames run out.
pub fn alloc(layout: Layout) -> *mut u8 {
    let pages = pages_of(layout.size());
    let align = (layout.align() / PAGE).max(1);
    // One more page: the guard, never mapped.
    let Some(first) = RANGES.lock().alloc(pages + 1, align) else {
        return ptr::null_mut();
    };
    let va = address(first);
    if !map_pages(va, 0, pages) {
        RANGES.lock().free(first, pages + 1);
        return ptr::null_mut();
    }
    va as *mut u8
}

/// Frees a block [`alloc`] made for `layout`.
pub fn dealloc(block: *mut u8, layout: Layout) {
    let pages = pages_of(layout.size());
    unmap_pages(block as u64, 0, pages);
    RANGES.lock().free(page_index(block), pages + 1);
}

/// Resizes a block [`alloc`] made for `layout` to `new_size` bytes (more than a page)
/// where it stands: a shrink unmaps the pages past the new end, a growth maps the pages
/// after the block when they are free. False (the block unchanged) when it cannot grow
/// in place.
pub fn resize_in_place(block: *mut u8, layout: Layout, new_size: usize) -> bool {
    let (old, new) = (pages_of(layout.size()), pages_of(new_size));
    let first = page_index(block);
    let va = block as u64;
    if new <= old {
        unmap_pages(va, new, old);
        // The guard moves down to page `new`.
        RANGES.lock().free(first + new + 1, old - new);
        return true;
    }
    if !RANGES.lock().grow(first, old + 1, new + 1) {
        return false;
    }
    if map_pages(va, old, new) {
        return true;
    }
    RANGES.lock().free(first + old + 1, new - old);
    false
}

/// `(used, total)` bytes: the frames mapped in the region, and its size
/// (`VmallocUsed`, `VmallocTotal`). Takes no lock (the panic handler calls it).
pub fn usage() -> (u64, u64) {
    (
        MAPPED.load(Ordering::Relaxed) * PAGE_SIZE,
        TOTAL.load(Ordering::Relaxed) * PAGE_SIZE,
    )
}

/// Bytes of the page tables made for the region at boot.
pub fn table_bytes() -> u64 {
    TABLES.load(Ordering::Relaxed) * PAGE_SIZE
}
