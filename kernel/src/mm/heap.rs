//! The kernel heap: power-of-two size classes (16 to 2048 bytes) with free lists, whole
//! pages, and the vmalloc area (`mm::vmalloc`) for blocks over a page. Small blocks come
//! from a class's free list, which is refilled a page at a time from the frame
//! allocator; each such page counts its blocks in use, and once the free lists have
//! doubled since the last look, a sweep gives the empty pages back to the frame
//! allocator; a block of more than 2 KiB up to a page is a frame of its own, back to the
//! frame allocator when freed; a larger block is frames mapped at consecutive addresses
//! of the vmalloc area, unmapped and freed with it. So the heap grows with what the
//! kernel uses and gives it back, and no share of RAM is set aside for it. All its
//! frames may come from the frame allocator's emergency reserve: Rust's `Box` and `Vec`
//! panic on a null block, so the heap is what the reserve is kept for; when even that is
//! gone, the panic handler adds a line naming heap exhaustion (`report_exhaustion`).

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
    class_for(layout.size(), layout.align())
}

/// [`class_of`] from a size and a power-of-two alignment (a `const fn`: charges of
/// fixed-size objects are computed by the compiler).
const fn class_for(size: usize, align: usize) -> Option<usize> {
    let size = if size > align { size } else { align };
    if size > 1 << MAX_SHIFT {
        return None;
    }
    // log2 of the next power of two, from the leading zeros (size >= 1: align is).
    let shift = usize::BITS - (size - 1).leading_zeros();
    let shift = if shift > MIN_SHIFT { shift } else { MIN_SHIFT };
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
    block_bytes_for(layout.size(), layout.align())
}

/// [`block_bytes`] of a layout given by its size and (power-of-two) alignment, without
/// building one (`Layout`'s checks cost more than this sum in the kernel's build).
pub const fn block_bytes_for(size: usize, align: usize) -> usize {
    match class_for(size, align) {
        Some(class) => class_size(class),
        None => {
            let size = if size > align { size } else { align };
            size.div_ceil(PAGE) * PAGE
        }
    }
}

const fn class_size(class: usize) -> usize {
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
        self.alloc_in(class_of(layout), layout, backing)
    }

    /// [`Self::alloc`] with `class_of(layout)` already known (the heap's hot path).
    fn alloc_in(
        &mut self,
        class: Option<usize>,
        layout: Layout,
        backing: impl FnOnce(Layout) -> *mut u8,
    ) -> *mut u8 {
        let Some(class) = class else {
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
        self.dealloc_in(class_of(layout), block, layout, backing)
    }

    /// [`Self::dealloc`] with `class_of(layout)` already known.
    fn dealloc_in(
        &mut self,
        class: Option<usize>,
        block: *mut u8,
        layout: Layout,
        backing: impl FnOnce(*mut u8, Layout),
    ) {
        match class {
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
pub use kernel_heap::{cached, report_exhaustion, usage};

/// The share of a quarter of RAM (the heap's fixed size before it grew from frames) that
/// objects users create at will (IPC messages, semaphore sets, mounts) may bring the
/// heap to: the rest stays for the kernel's own needs, so filling IPC objects gives
/// `ENOMEM`/`ENOSPC` instead of starving the kernel. None fit while the heap is living
/// on the emergency reserve.
const USER_OBJECTS_MAX_PERCENT: u64 = 75;

/// Whether `bytes` more of user-created objects fit (always, in host tests).
pub fn room_for_user_objects(bytes: usize) -> bool {
    #[cfg(target_os = "none")]
    {
        let (used, _) = usage();
        let (free, total) = crate::mm::frame::counts();
        let ram = total * crate::mm::PAGE_SIZE;
        free > 0 && used.saturating_add(bytes as u64) <= ram / 4 / 100 * USER_OBJECTS_MAX_PERCENT
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
    use crate::mm::{PHYS_OFFSET, frame, vmalloc};
    use core::alloc::{GlobalAlloc, Layout};
    use core::fmt;
    use core::ptr;
    use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};
    use spin::Mutex;

    struct KernelHeap {
        classes: Mutex<SizeClasses>,
    }

    #[global_allocator]
    static HEAP: KernelHeap = KernelHeap {
        classes: Mutex::new(SizeClasses::new()),
    };

    /// Frames the heap holds as class pages and page blocks, in bytes (the vmalloc
    /// area counts its own).
    static FRAME_BYTES: AtomicU64 = AtomicU64::new(0);
    /// The size and alignment of the last allocation the heap could not serve.
    static FAILED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

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

    /// The counter of the class page holding `block`.
    fn counter(block: *mut u8) -> Option<&'static AtomicU16> {
        LIVE.get(((block as u64).wrapping_sub(PHYS_OFFSET) / PAGE as u64) as usize)
    }

    /// The heap's class pages as [`SizeClasses::sweep`] sees them.
    struct Frames;

    impl ClassPages for Frames {
        fn live(&self, page: usize) -> Option<u16> {
            counter(page as *mut u8).map(|c| c.load(Ordering::Relaxed))
        }
        fn mark(&mut self, page: usize) {
            if let Some(c) = counter(page as *mut u8) {
                c.store(SWEPT, Ordering::Relaxed);
            }
        }
        fn release(&mut self, page: usize) {
            if let Some(c) = counter(page as *mut u8) {
                c.store(0, Ordering::Relaxed);
                FRAME_BYTES.fetch_sub(PAGE as u64, Ordering::Relaxed);
                frame::free(page as u64 - PHYS_OFFSET);
            }
        }
    }

    /// A page from the frame allocator (the emergency reserve included), for a class
    /// refill or a page block; null when it has none.
    fn frame_page(_layout: Layout) -> *mut u8 {
        match frame::alloc_for_heap() {
            Some(pa) => {
                FRAME_BYTES.fetch_add(PAGE as u64, Ordering::Relaxed);
                super::super::phys_to_virt(pa) as *mut u8
            }
            None => ptr::null_mut(),
        }
    }

    /// Whether `layout` is a block of the vmalloc area: more than a page, or aligned to
    /// more than one.
    fn is_big(layout: Layout) -> bool {
        layout.size() > PAGE || layout.align() > PAGE
    }

    fn failed(layout: Layout) -> *mut u8 {
        FAILED[0].store(layout.size() as u64, Ordering::Relaxed);
        FAILED[1].store(layout.align() as u64, Ordering::Relaxed);
        ptr::null_mut()
    }

    // SAFETY: small blocks come from the size classes and page blocks from the frame
    // allocator, behind the heap's lock (the frame allocator's lock is taken inside it,
    // never the other way round); big blocks come from the vmalloc area, which has its
    // own lock and takes no other; a block is handed out once until it is freed.
    unsafe impl GlobalAlloc for KernelHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if is_big(layout) {
                let block = vmalloc::alloc(layout);
                return if block.is_null() {
                    failed(layout)
                } else {
                    block
                };
            }
            let mut classes = self.classes.lock();
            let block = classes.alloc(layout, frame_page);
            if block.is_null() {
                return failed(layout);
            }
            if class_of(layout).is_some()
                && let Some(c) = counter(block)
            {
                // Under the heap's lock: a plain add.
                c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            }
            block
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            if is_big(layout) {
                vmalloc::dealloc(block, layout);
                return;
            }
            let class = class_of(layout);
            let mut classes = self.classes.lock();
            classes.dealloc_in(class, block, layout, |b, _| {
                // A page block from `frame_page`.
                FRAME_BYTES.fetch_sub(PAGE as u64, Ordering::Relaxed);
                frame::free(b as u64 - PHYS_OFFSET);
            });
            if class.is_some()
                && let Some(c) = counter(block)
            {
                let n = c.load(Ordering::Relaxed).wrapping_sub(1);
                c.store(n, Ordering::Relaxed);
                if n != 0 {
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
        /// growing within its block), both are page blocks, or both are big blocks the
        /// vmalloc area can resize where they stand; otherwise a new block, copy, free.
        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller guarantees `new_size` rounded to `layout.align()` fits.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            if SizeClasses::same_class(layout, new)
                || (is_page_block(layout) && is_page_block(new))
                || (is_big(layout)
                    && is_big(new)
                    && vmalloc::resize_in_place(block, layout, new_size))
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

    /// `(used, vmalloc)` in bytes: the live blocks (those on the size-class free lists
    /// count as free), and the frames of the vmalloc area's blocks among them.
    pub fn usage() -> (u64, u64) {
        let cached = HEAP.classes.lock().cached() as u64;
        let (big, _) = vmalloc::usage();
        (FRAME_BYTES.load(Ordering::Relaxed) + big - cached, big)
    }

    /// Bytes on the size-class free lists: blocks of pages that still hold a live block,
    /// and empty pages until the next sweep gives them back to the frame allocator.
    pub fn cached() -> u64 {
        HEAP.classes.lock().cached() as u64
    }

    /// The panic handler's extra line when `message` is the one Rust's allocation error
    /// handler panics with ("memory allocation of N bytes failed"): it names kernel
    /// heap exhaustion and gives the sizes. Takes no lock and allocates nothing.
    pub fn report_exhaustion(message: &dyn fmt::Display, out: &mut dyn FnMut(fmt::Arguments)) {
        const PREFIX: &[u8] = b"memory allocation of ";
        struct Head {
            buf: [u8; 21],
            len: usize,
        }
        impl fmt::Write for Head {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let n = s.len().min(self.buf.len() - self.len);
                self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
                self.len += n;
                Ok(())
            }
        }
        let mut head = Head {
            buf: [0; 21],
            len: 0,
        };
        let _ = fmt::write(&mut head, format_args!("{message}"));
        if head.buf[..head.len] != *PREFIX {
            return;
        }
        let kib = |b: u64| b / 1024;
        out(format_args!(
            "kernel heap exhausted: a block of {} bytes (align {}) could not be served, no frame \
             left and the emergency reserve ({} KiB) used up; heap in use {} KiB ({} KiB of \
             them in the vmalloc area), {} KiB on the class free lists\n",
            FAILED[0].load(Ordering::Relaxed),
            FAILED[1].load(Ordering::Relaxed),
            kib(frame::RESERVE * PAGE as u64),
            kib(FRAME_BYTES.load(Ordering::Relaxed) + vmalloc::usage().0),
            kib(vmalloc::usage().0),
            // A plain read: the panicking CPU may hold the lock.
            kib(HEAP.classes.try_lock().map_or(0, |c| c.cached() as u64)),
        ));
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
        assert!(!is_page_block(l(4097, 8)), "a vmalloc block");
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
