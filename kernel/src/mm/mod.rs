//! Memory management: physical frames, page tables, address spaces, the kernel heap
//! and checked access to user memory.
#[cfg(target_os = "none")]
pub mod aspace;
#[cfg(target_os = "none")]
pub mod dma;
#[cfg(target_os = "none")]
pub mod frame;
pub mod heap;
#[cfg(target_os = "none")]
pub mod heapcheck;
#[cfg(target_os = "none")]
pub mod kstack;
pub mod nul;
pub mod oom;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod user;
#[cfg(target_os = "none")]
pub mod vdso;
pub mod vma;
#[cfg(target_os = "none")]
pub mod vmalloc;
pub mod vrange;

pub const PAGE_SIZE: u64 = 4096;
/// All physical memory (first 4 GiB) is mapped here.
pub const PHYS_OFFSET: u64 = 0xFFFF_8000_0000_0000;
/// The kernel image is linked at `KERNEL_BASE + physical address`.
pub const KERNEL_BASE: u64 = 0xFFFF_FFFF_8000_0000;
/// First address above user space.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// A zeroed buffer of `len` bytes from the kernel heap, `ENOMEM` when the heap cannot
/// give it: a size a user chooses must not panic the kernel.
pub fn try_zeroed(len: usize) -> Result<alloc::vec::Vec<u8>, crate::errno::Errno> {
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| crate::errno::Errno::ENOMEM)?;
    v.resize(len, 0);
    Ok(v)
}

/// `value` in a new `Box`, `ENOMEM` when the heap cannot give its block (`Box::new`
/// would panic): for objects a user makes at will.
pub fn try_box<T>(value: T) -> Result<alloc::boxed::Box<T>, crate::errno::Errno> {
    let layout = core::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(alloc::boxed::Box::new(value));
    }
    // SAFETY: `layout` has a non-zero size, as `alloc` requires.
    let p = unsafe { alloc::alloc::alloc(layout) }.cast::<T>();
    if p.is_null() {
        return Err(crate::errno::Errno::ENOMEM);
    }
    // SAFETY: `p` is a new block of `T`'s layout from the global allocator, which is
    // what `Box::from_raw` needs; the write initializes it before the box owns it.
    unsafe {
        p.write(value);
        Ok(alloc::boxed::Box::from_raw(p))
    }
}

/// Kernel memory in use, in bytes: the heap's live blocks (`Slab` in `/proc/meminfo`) and
/// the threads' kernel stacks (`KernelStack`); zero in host tests.
pub fn kernel_memory() -> (u64, u64) {
    #[cfg(target_os = "none")]
    {
        let stack = crate::arch::x86_64::context::KERNEL_STACK_SIZE as u64;
        (heap::usage().0, kstack::live() * stack)
    }
    #[cfg(not(target_os = "none"))]
    {
        (0, 0)
    }
}

/// `(used, total)` bytes of the vmalloc area (`VmallocUsed`, `VmallocTotal` in
/// `/proc/meminfo`); zero in host tests.
pub fn vmalloc_bytes() -> (u64, u64) {
    #[cfg(target_os = "none")]
    {
        vmalloc::usage()
    }
    #[cfg(not(target_os = "none"))]
    {
        (0, 0)
    }
}

/// Bytes of the address spaces' page tables (`PageTables` in `/proc/meminfo`); zero in
/// host tests.
pub fn page_table_bytes() -> u64 {
    #[cfg(target_os = "none")]
    {
        aspace::page_table_frames() * PAGE_SIZE
    }
    #[cfg(not(target_os = "none"))]
    {
        0
    }
}

/// `(free, total)` pages of RAM (`MemFree`, `MemTotal`): the frame allocator's (the
/// heap's emergency reserve left out of `free`); heap pages count as used, except the
/// blocks waiting on the size-class free lists (the heap reuses them first, and gives
/// the empty pages back to the frame allocator at its next sweep), so a test finds
/// `MemFree` back to the byte once the kernel objects it made are freed.
#[cfg(target_os = "none")]
pub fn memory_pages() -> (u64, u64) {
    let (free, total) = frame::counts();
    (free + heap::cached() / PAGE_SIZE, total)
}

/// 4 KiB of file data, page-aligned.
#[repr(C, align(4096))]
pub struct Page(pub [u8; PAGE_SIZE as usize]);

/// An owned [`Page`] of file data (tmpfs, shared memory): a physical frame, reached
/// through the direct map, in the kernel (so file data neither competes with kernel
/// objects for the heap nor hides from `MemFree`); a heap block in host tests.
pub struct PageBox(core::ptr::NonNull<Page>);

// SAFETY: a `PageBox` owns its page exclusively, like a `Box<Page>`.
unsafe impl Send for PageBox {}
// SAFETY: shared references only read it, like a `Box<Page>`'s.
unsafe impl Sync for PageBox {}

impl PageBox {
    /// A zeroed page, `None` when memory is exhausted (a user filling a tmpfs gets
    /// `ENOSPC`, never a kernel panic).
    #[cfg(target_os = "none")]
    pub fn try_zeroed() -> Option<PageBox> {
        let pa = frame::alloc()?;
        core::ptr::NonNull::new(phys_to_virt(pa) as *mut Page).map(PageBox)
    }

    #[cfg(not(target_os = "none"))]
    pub fn try_zeroed() -> Option<PageBox> {
        // SAFETY: `Page` has a non-zero size.
        let p = unsafe { alloc::alloc::alloc_zeroed(core::alloc::Layout::new::<Page>()) };
        core::ptr::NonNull::new(p.cast::<Page>()).map(PageBox)
    }
}

impl core::ops::Deref for PageBox {
    type Target = Page;
    fn deref(&self) -> &Page {
        // SAFETY: the page is allocated, zero-initialised and owned by `self`.
        unsafe { self.0.as_ref() }
    }
}

impl core::ops::DerefMut for PageBox {
    fn deref_mut(&mut self) -> &mut Page {
        // SAFETY: as in `deref`, and `&mut self` makes the access exclusive.
        unsafe { self.0.as_mut() }
    }
}

impl Drop for PageBox {
    #[cfg(target_os = "none")]
    fn drop(&mut self) {
        frame::free(self.0.as_ptr() as u64 - PHYS_OFFSET);
    }

    #[cfg(not(target_os = "none"))]
    fn drop(&mut self) {
        // SAFETY: allocated in `try_zeroed` with this layout, and not used after this.
        unsafe { alloc::alloc::dealloc(self.0.as_ptr().cast(), core::alloc::Layout::new::<Page>()) }
    }
}

pub fn phys_to_virt(pa: u64) -> u64 {
    pa + PHYS_OFFSET
}

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

pub fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(page_down)
}

/// A view of physical memory through the direct map (boot modules).
#[cfg(target_os = "none")]
pub fn phys_slice(pa: u64, len: u64) -> &'static [u8] {
    // SAFETY: used at boot for the initramfs module, RAM that nothing else owns or
    // writes until the slice is no longer used (its frames are freed after unpacking).
    unsafe { core::slice::from_raw_parts(phys_to_virt(pa) as *const u8, len as usize) }
}
