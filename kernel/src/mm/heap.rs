//! The kernel heap: power-of-two size classes (16 to 2048 bytes) with free lists, whole
//! pages, and a `linked_list_allocator` over a small physically contiguous region
//! reached through the direct map. Small blocks come from a class's free list, which is
//! refilled a page at a time from the frame allocator (the region when frames run out);
//! each such page counts its blocks in use, and once the free lists have doubled since
//! the last look, a sweep gives the empty pages back to the frame allocator; a block of more than 2 KiB up to a page is a frame of its own,
//! back to the frame allocator when freed; larger blocks go to the region. So the heap
//! grows with what the kernel uses instead of holding a fixed share of RAM. The
//! linked-list heap alone searched a list of holes on every allocation and free, which
//! cost path walks thousands of instructions.

use core::alloc::Layout;
use core::ptr::{self, NonNull};

/// The smallest class is `1 << MIN_SHIFT` bytes (room for the free-list link).
const MIN_SHIFT: u32 = 4;
/// The largest class is `1 << MAX_SHIFT` bytes.
const MAX_SHIFT: u32 = 11;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
/// Bytes taken from the underlying heap when a class's free list is empty.
const REFILL_BYTES: usize = 4096;

/// A free block, linked through its first word.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
}

/// The size-class free lists. The blocks belong to the cache while they are on a list.
pub struct SizeClasses {
    heads: [Option<NonNull<FreeBlock>>; CLASSES],
    /// Bytes sitting on the free lists (allocated from the underlying heap, not in use).
    cached: usize,
}

// SAFETY: the lists only hold blocks no one else references; whoever owns the
// `SizeClasses` (behind a lock) owns them.
unsafe impl Send for SizeClasses {}

/// The class serving `layout`, if it is small enough. A block of class `c` is
/// `1 << (MIN_SHIFT + c)` bytes aligned to its size, so it meets any alignment up to it.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align());
    if size > 1 << MAX_SHIFT {
        return None;
    }
    // log2 of the next power of two, from the leading zeros (size >= 1: align is).
    let shift = (usize::BITS - (size - 1).leading_zeros()).max(MIN_SHIFT);
    Some((shift - MIN_SHIFT) as usize)
}

/// Whether `layout` is served by a whole page of its own: too big for the classes, no
/// bigger than a page, and page alignment suffices.
pub fn is_page_block(layout: Layout) -> bool {
    class_of(layout).is_none() && layout.size() <= PAGE && layout.align() <= PAGE
}

const PAGE: usize = 4096;

/// The bytes the heap really takes for a block of `layout`: its class's size, a whole
/// page, or (larger blocks) the size rounded up to pages. What kernel-object charges use
/// so a group's usage follows `MemFree`.
pub fn block_bytes(layout: Layout) -> usize {
    match class_of(layout) {
        Some(class) => class_size(class),
        None => layout.size().max(layout.align()).div_ceil(PAGE) * PAGE,
    }
}

fn class_size(class: usize) -> usize {
    1 << (MIN_SHIFT as usize + class)
}

impl SizeClasses {
    pub const fn new() -> SizeClasses {
        SizeClasses {
            heads: [None; CLASSES],
            cached: 0,
        }
    }

    /// Bytes on the free lists.
    pub fn cached(&self) -> usize {
        self.cached
    }

    /// A block for `layout`: from its class's list (refilled through `backing`), or from
    /// `backing` itself for a large one. Null when `backing` fails.
    pub fn alloc(&mut self, layout: Layout, backing: impl FnOnce(Layout) -> *mut u8) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return backing(layout);
        };
        if self.heads[class].is_none() {
            self.refill(class, backing);
        }
        let Some(block) = self.heads[class] else {
            return ptr::null_mut();
        };
        // SAFETY: `block` is on a free list, so it is a live, unused block of this class
        // that holds a `FreeBlock` (written by `push`).
        self.heads[class] = unsafe { block.as_ref().next };
        self.cached -= class_size(class);
        block.as_ptr().cast()
    }

    /// Takes back a block `alloc` returned for `layout`: onto its class's list, or to
    /// `backing` for a large one.
    pub fn dealloc(
        &mut self,
        block: *mut u8,
        layout: Layout,
        backing: impl FnOnce(*mut u8, Layout),
    ) {
        match class_of(layout) {
            Some(class) => self.push(class, block),
            None => backing(block, layout),
        }
    }

    /// Whether a block allocated for `old` also serves `new`: both in one class (large
    /// blocks are the backing heap's business).
    pub fn same_class(old: Layout, new: Layout) -> bool {
        matches!((class_of(old), class_of(new)), (Some(a), Some(b)) if a == b)
    }

    /// Carves `REFILL_BYTES` (at least one block) from `backing` into blocks of `class`.
    fn refill(&mut self, class: usize, backing: impl FnOnce(Layout) -> *mut u8) {
        let size = class_size(class);
        let bytes = REFILL_BYTES.max(size);
        let Ok(layout) = Layout::from_size_align(bytes, size) else {
            return;
        };
        let chunk = backing(layout);
        if chunk.is_null() {
            return;
        }
        for i in (0..bytes / size).rev() {
            // SAFETY: `i * size < bytes`, inside the chunk just allocated.
            self.push(class, unsafe { chunk.add(i * size) });
        }
    }

    /// Gives back the class pages none of whose blocks is in use: unlinks their blocks
    /// from every list and hands each page once to `release`. `pages.live(page)` is the
    /// number of blocks of a returnable page handed out (`None`: a page that is never
    /// returned). Costs one pass over the free lists; the heap calls it only when the
    /// free lists have doubled since the last sweep, so it is paid once per freed byte.
    pub fn sweep(&mut self, pages: &mut impl ClassPages) {
        for class in 0..CLASSES {
            let size = class_size(class);
            // Each empty page keeps one block (its first one met), on `doomed`, and is
            // marked so that its other blocks are dropped.
            let mut doomed: Option<NonNull<FreeBlock>> = None;
            let mut link = &mut self.heads[class];
            while let Some(block) = *link {
                let page = block.as_ptr() as usize & !(PAGE - 1);
                // SAFETY: `block` is on a free list: an unused block holding its link.
                let next = unsafe { block.as_ref().next };
                match pages.live(page) {
                    Some(0) => {
                        pages.mark(page);
                        *link = next;
                        self.cached -= size;
                        // SAFETY: as above; it now belongs to `doomed`.
                        unsafe { block.as_ptr().write(FreeBlock { next: doomed }) };
                        doomed = Some(block);
                    }
                    Some(SWEPT) => {
                        *link = next;
                        self.cached -= size;
                    }
                    _ => {
                        // SAFETY: `link` points into a block that stays on the list.
                        link = unsafe { &mut (*block.as_ptr()).next };
                    }
                }
            }
            while let Some(block) = doomed {
                // SAFETY: `doomed` blocks are the kept blocks of empty pages, one per page;
                // the link is read before the page is released.
                doomed = unsafe { block.as_ref().next };
                pages.release(block.as_ptr() as usize & !(PAGE - 1));
            }
        }
    }

    fn push(&mut self, class: usize, block: *mut u8) {
        let block = block.cast::<FreeBlock>();
        // SAFETY: `block` is an unused block of `class` (at least 16 bytes, aligned to its
        // size) that now belongs to the cache, so it can hold the link.
        unsafe {
            block.write(FreeBlock {
                next: self.heads[class],
            })
        };
        self.heads[class] = NonNull::new(block);
        self.cached += class_size(class);
    }
}

/// What `live` reports for a page marked by [`ClassPages::mark`] during a sweep.
pub const SWEPT: u16 = u16::MAX;

/// The heap's bookkeeping of the pages it carved into class blocks.
pub trait ClassPages {
    /// Blocks of `page` in use (`SWEPT` once marked), `None` for a page never returned.
    fn live(&self, page: usize) -> Option<u16>;
    /// Marks an empty `page` as being returned (`live` gives `SWEPT`).
    fn mark(&mut self, page: usize);
    /// Returns a marked page (its blocks are off the lists); `live` gives 0 again.
    fn release(&mut self, page: usize);
}

impl Default for SizeClasses {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "none")]
pub use kernel_heap::{cached, init, region, usage};

/// The share of a quarter of RAM (the heap's fixed size before it grew from frames), and
/// of the contiguous region, that objects users create at will (IPC messages, semaphore
/// sets, mounts) may bring the heap to: the rest stays for the kernel's own needs, so
/// filling IPC objects gives `ENOMEM`/`ENOSPC` instead of starving the kernel.
const USER_OBJECTS_MAX_PERCENT: u64 = 75;

/// Whether `bytes` more of user-created objects fit (always, in host tests).
pub fn room_for_user_objects(bytes: usize) -> bool {
    #[cfg(target_os = "none")]
    {
        let (used, _) = usage();
        let (region_free, region) = region();
        let ram = region + crate::mm::frame::counts().1 * crate::mm::PAGE_SIZE;
        let room = |total: u64, used: u64| {
            used.saturating_add(bytes as u64) <= total / 100 * USER_OBJECTS_MAX_PERCENT
        };
        room(ram / 4, used) && room(region, region - region_free)
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = bytes;
        true
    }
}

/// Whether `bytes` more from the contiguous region still leave a sixteenth of it (at
/// least 1 MiB) free for the kernel's own large blocks (always, in host tests): socket
/// buffers, which a user makes at will, stop there.
pub fn region_keeps_reserve(bytes: usize) -> bool {
    #[cfg(target_os = "none")]
    {
        let (free, size) = region();
        free.saturating_sub(bytes as u64) >= (size / 16).max(1 << 20) && (bytes as u64) < free
    }
    #[cfg(not(target_os = "none"))]
    {
        let _ = bytes;
        true
    }
}

#[cfg(target_os = "none")]
mod kernel_heap {
    use super::{ClassPages, PAGE, SWEPT, SizeClasses, class_of, is_page_block};
    use crate::mm::{PHYS_OFFSET, frame};
    use core::alloc::{GlobalAlloc, Layout};
    use core::ptr::{self, NonNull};
    use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};
    use linked_list_allocator::Heap;
    use spin::Mutex;

    struct KernelHeap {
        inner: Mutex<(SizeClasses, Heap)>,
    }

    #[global_allocator]
    static HEAP: KernelHeap = KernelHeap {
        inner: Mutex::new((SizeClasses::new(), Heap::empty())),
    };

    /// The contiguous region's size and start (a direct-map address).
    static REGION_SIZE: AtomicU64 = AtomicU64::new(0);
    static REGION_START: AtomicU64 = AtomicU64::new(0);
    /// Frames the heap holds (class pages and page blocks), in bytes.
    static FRAME_BYTES: AtomicU64 = AtomicU64::new(0);

    /// Frames the direct map covers (4 GiB), as `frame`'s reference counts.
    const MAX_FRAMES: usize = 1 << 20;
    /// Blocks in use in each class page (0 for every frame that is not one).
    /// Changed only under the heap's lock; atomics only to be a plain `static`.
    static LIVE: [AtomicU16; MAX_FRAMES] = [const { AtomicU16::new(0) }; MAX_FRAMES];
    /// The free lists' bytes after the last sweep: the next sweep waits until they
    /// have doubled (and hold at least `SWEEP_MIN`), so sweeps cost O(1) per freed byte.
    static SWEPT_AT: AtomicU64 = AtomicU64::new(0);
    /// Free-list bytes kept without a sweep (a small reserve for the classes).
    const SWEEP_MIN: u64 = 1 << 20;

    /// The counter of the class page holding `block` (kept for the region's class pages
    /// too, which are never returned: the hot path skips the region test).
    fn counter(block: *mut u8) -> Option<&'static AtomicU16> {
        LIVE.get(((block as u64).wrapping_sub(PHYS_OFFSET) / PAGE as u64) as usize)
    }

    /// The counter of a class page that can be returned (one taken from a frame).
    fn live_of(block: *mut u8) -> Option<&'static AtomicU16> {
        if in_region(block) {
            return None;
        }
        counter(block)
    }

    /// The heap's class pages as [`SizeClasses::sweep`] sees them.
    struct Frames;

    impl ClassPages for Frames {
        fn live(&self, page: usize) -> Option<u16> {
            live_of(page as *mut u8).map(|c| c.load(Ordering::Relaxed))
        }
        fn mark(&mut self, page: usize) {
            if let Some(c) = live_of(page as *mut u8) {
                c.store(SWEPT, Ordering::Relaxed);
            }
        }
        fn release(&mut self, page: usize) {
            if let Some(c) = live_of(page as *mut u8) {
                c.store(0, Ordering::Relaxed);
                FRAME_BYTES.fetch_sub(PAGE as u64, Ordering::Relaxed);
                frame::free(page as u64 - PHYS_OFFSET);
            }
        }
    }

    fn in_region(block: *mut u8) -> bool {
        let a = block as u64;
        let start = REGION_START.load(Ordering::Relaxed);
        a >= start && a < start + REGION_SIZE.load(Ordering::Relaxed)
    }

    /// A page from the frame allocator, null when it has none.
    fn frame_page() -> *mut u8 {
        match frame::alloc_dirty() {
            Some(pa) => {
                FRAME_BYTES.fetch_add(PAGE as u64, Ordering::Relaxed);
                super::super::phys_to_virt(pa) as *mut u8
            }
            None => ptr::null_mut(),
        }
    }

    /// A block for `layout` outside the classes (or a class refill): a frame when a page
    /// serves it and one is free, otherwise the region.
    fn backing_alloc(heap: &mut Heap, layout: Layout) -> *mut u8 {
        if layout.size() <= PAGE && layout.align() <= PAGE {
            let p = frame_page();
            if !p.is_null() {
                return p;
            }
        }
        heap.allocate_first_fit(layout)
            .map_or(ptr::null_mut(), |p| p.as_ptr())
    }

    fn backing_free(heap: &mut Heap, block: *mut u8, layout: Layout) {
        if !in_region(block) {
            // A page block from `frame_page`.
            FRAME_BYTES.fetch_sub(PAGE as u64, Ordering::Relaxed);
            frame::free(block as u64 - PHYS_OFFSET);
            return;
        }
        if let Some(p) = NonNull::new(block) {
            // SAFETY: `block` is in the region, so it came from `allocate_first_fit` with
            // this `layout` (the size classes hand large blocks back unchanged).
            unsafe { heap.deallocate(p, layout) };
        }
    }

    // SAFETY: blocks come from the size classes, the frame allocator or the linked-list
    // heap, all behind one lock (the frame allocator's lock is taken inside it, never the
    // other way round); a block is handed out once until it is freed.
    unsafe impl GlobalAlloc for KernelHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let mut g = self.inner.lock();
            let (classes, heap) = &mut *g;
            let block = classes.alloc(layout, |l| backing_alloc(heap, l));
            if class_of(layout).is_some()
                && !block.is_null()
                && let Some(c) = counter(block)
            {
                // Under the heap's lock: a plain add.
                c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            }
            block
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            let mut g = self.inner.lock();
            let (classes, heap) = &mut *g;
            classes.dealloc(block, layout, |b, l| backing_free(heap, b, l));
            if class_of(layout).is_some()
                && let Some(c) = counter(block)
            {
                let n = c.load(Ordering::Relaxed).wrapping_sub(1);
                c.store(n, Ordering::Relaxed);
                if n != 0 || in_region(block) {
                    return;
                }
                // A page fell empty: sweep when the free lists have doubled.
                let cached = classes.cached() as u64;
                if cached >= SWEEP_MIN.max(2 * SWEPT_AT.load(Ordering::Relaxed)) {
                    classes.sweep(&mut Frames);
                    SWEPT_AT.store(classes.cached() as u64, Ordering::Relaxed);
                }
            }
        }

        /// In place when the new size falls in the same class (a `String` or `Vec`
        /// growing within its block) or both are page blocks; otherwise a new block,
        /// copy, free.
        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller guarantees `new_size` rounded to `layout.align()` fits.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            if SizeClasses::same_class(layout, new)
                || (is_page_block(layout) && is_page_block(new) && !in_region(block))
            {
                return block;
            }
            // SAFETY: `new` has a non-zero size (the caller's contract).
            let to = unsafe { self.alloc(new) };
            if !to.is_null() {
                // SAFETY: both blocks are live, distinct and at least this long.
                unsafe {
                    ptr::copy_nonoverlapping(block, to, layout.size().min(new_size));
                    self.dealloc(block, layout);
                }
            }
            to
        }
    }

    /// Hands `[start, start + size)` (physical) to the heap as its region for blocks
    /// larger than a page.
    pub fn init(start_pa: u64, size: u64) {
        let start = super::super::phys_to_virt(start_pa);
        // SAFETY: called once at boot with RAM nobody else uses, mapped by the direct map.
        unsafe { HEAP.inner.lock().1.init(start as *mut u8, size as usize) };
        REGION_START.store(start, Ordering::Relaxed);
        REGION_SIZE.store(size, Ordering::Relaxed);
    }

    /// `(used, region)` in bytes: the live blocks (those on the size-class free lists
    /// count as free), and the contiguous region's size.
    pub fn usage() -> (u64, u64) {
        let g = HEAP.inner.lock();
        let held = g.1.used() as u64 + FRAME_BYTES.load(Ordering::Relaxed);
        (
            held - g.0.cached() as u64,
            REGION_SIZE.load(Ordering::Relaxed),
        )
    }

    /// `(free, size)` of the contiguous region in bytes (what `MemFree` and `MemTotal`
    /// add to the frames).
    pub fn region() -> (u64, u64) {
        let g = HEAP.inner.lock();
        let size = REGION_SIZE.load(Ordering::Relaxed);
        (size - g.1.used() as u64, size)
    }

    /// Bytes on the size-class free lists: blocks of pages that still hold a live block,
    /// and empty pages until the next sweep gives them back to the frame allocator.
    pub fn cached() -> u64 {
        HEAP.inner.lock().0.cached() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, System};

    fn sys_alloc(l: Layout) -> *mut u8 {
        // SAFETY: test layouts have a non-zero size.
        unsafe { System.alloc(l) }
    }

    #[test]
    fn small_blocks_are_reused_from_their_class() {
        let mut c = SizeClasses::new();
        let l = Layout::from_size_align(24, 8).unwrap();
        let a = c.alloc(l, sys_alloc);
        assert!(!a.is_null());
        assert_eq!(a as usize % 32, 0, "a 32-byte block, aligned to 32");
        assert_eq!(c.cached(), 4096 - 32, "one page refilled, one block out");
        c.dealloc(a, l, |_, _| {
            panic!("small blocks never reach the backing heap")
        });
        assert_eq!(c.cached(), 4096);
        let b = c.alloc(Layout::from_size_align(17, 1).unwrap(), |_| {
            panic!("the list is not empty")
        });
        assert_eq!(b, a, "the block just freed comes back first");
    }

    #[test]
    fn alignment_picks_the_class() {
        let mut c = SizeClasses::new();
        let p = c.alloc(Layout::from_size_align(8, 256).unwrap(), sys_alloc);
        assert_eq!(p as usize % 256, 0, "aligned to 256");
        assert_eq!(class_of(Layout::from_size_align(1, 1).unwrap()), Some(0));
        assert_eq!(class_of(Layout::from_size_align(2048, 8).unwrap()), Some(7));
        assert_eq!(class_of(Layout::from_size_align(2049, 8).unwrap()), None);
        assert_eq!(class_of(Layout::from_size_align(16, 4096).unwrap()), None);
    }

    #[test]
    fn large_blocks_go_to_the_backing_heap() {
        let mut c = SizeClasses::new();
        let l = Layout::from_size_align(4000, 8).unwrap();
        let mut seen = None;
        let p = c.alloc(l, |got| {
            seen = Some(got);
            sys_alloc(got)
        });
        assert_eq!(seen, Some(l), "passed through unchanged");
        let mut freed = false;
        c.dealloc(p, l, |b, got| {
            assert_eq!((b, got), (p, l));
            freed = true;
            // SAFETY: allocated above with this layout.
            unsafe { System.dealloc(b, got) }
        });
        assert!(freed, "a large block is freed by the backing heap");
        assert_eq!(c.cached(), 0);
    }

    #[test]
    fn blocks_over_2k_up_to_a_page_are_whole_pages() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert!(!is_page_block(l(2048, 8)), "a class block");
        assert!(is_page_block(l(2049, 8)));
        assert!(is_page_block(l(4096, 4096)));
        assert!(is_page_block(l(16, 4096)), "page alignment");
        assert!(!is_page_block(l(4097, 8)), "the region's");
        assert!(!is_page_block(l(64, 8192)), "more than page alignment");
    }

    /// Page bookkeeping for host tests: pages counted by address, released ones listed.
    #[derive(Default)]
    struct TestPages {
        live: std::collections::HashMap<usize, u16>,
        released: Vec<usize>,
    }

    impl ClassPages for TestPages {
        fn live(&self, page: usize) -> Option<u16> {
            self.live.get(&page).copied()
        }
        fn mark(&mut self, page: usize) {
            self.live.insert(page, SWEPT);
        }
        fn release(&mut self, page: usize) {
            self.live.insert(page, 0);
            self.released.push(page);
        }
    }

    #[test]
    fn a_sweep_returns_empty_pages_and_keeps_used_ones() {
        let mut c = SizeClasses::new();
        let l = Layout::from_size_align(512, 8).unwrap();
        let page = Layout::from_size_align(PAGE, PAGE).unwrap();
        let mut pages = TestPages::default();
        // Two pages of 512-byte blocks, every block handed out.
        let blocks: Vec<*mut u8> = (0..16).map(|_| c.alloc(l, |_| sys_alloc(page))).collect();
        for &b in &blocks {
            *pages.live.entry(b as usize & !(PAGE - 1)).or_default() += 1;
        }
        assert_eq!(pages.live.len(), 2, "two pages");
        let keep = blocks[0];
        let kept_page = keep as usize & !(PAGE - 1);
        for &b in &blocks[1..] {
            *pages.live.get_mut(&(b as usize & !(PAGE - 1))).unwrap() -= 1;
            c.dealloc(b, l, |_, _| panic!("a class block"));
        }
        assert_eq!(c.cached(), 15 * 512);
        c.sweep(&mut pages);
        assert_eq!(pages.released.len(), 1, "the empty page only");
        assert_ne!(pages.released[0], kept_page);
        assert_eq!(c.cached(), 7 * 512, "the used page's free blocks stay");
        let again = c.alloc(l, |_| panic!("the used page has free blocks"));
        assert_eq!(again as usize & !(PAGE - 1), kept_page);
        for p in pages.released.iter().chain([&kept_page]) {
            // SAFETY: both pages came from `sys_alloc(page)`.
            unsafe { System.dealloc(*p as *mut u8, page) };
        }
    }

    #[test]
    fn block_bytes_are_what_the_heap_takes() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(block_bytes(l(1, 1)), 16);
        assert_eq!(block_bytes(l(24, 8)), 32);
        assert_eq!(block_bytes(l(8, 256)), 256);
        assert_eq!(block_bytes(l(2048, 8)), 2048);
        assert_eq!(block_bytes(l(2049, 8)), 4096);
        assert_eq!(block_bytes(l(4097, 8)), 8192);
    }

    #[test]
    fn a_failed_refill_gives_null() {
        let mut c = SizeClasses::new();
        let p = c.alloc(Layout::from_size_align(64, 8).unwrap(), |_| ptr::null_mut());
        assert!(p.is_null());
        assert_eq!(c.cached(), 0);
    }
}
