//! Memory management: physical frames, page tables, address spaces, the kernel heap
//! and checked access to user memory.
#[cfg(target_os = "none")]
pub mod aspace;
#[cfg(target_os = "none")]
pub mod frame;
pub mod heap;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod user;
pub mod vma;

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
