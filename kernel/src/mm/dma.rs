//! DMA memory for devices (`virtio-drivers`' `Hal`): page-aligned blocks of the kernel
//! heap, which is physically contiguous and reached through the direct map, so a
//! buffer's physical address is its direct-map address less `PHYS_OFFSET`.

use super::{KERNEL_BASE, PAGE_SIZE, PHYS_OFFSET, phys_to_virt};
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;
use spin::Mutex;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The direct map covers the first 4 GiB of physical addresses.
const DIRECT_MAP_END: u64 = 4 << 30;

pub struct KernelHal;

/// Heap copies of shared buffers outside the direct map, by physical address.
static BOUNCE: Mutex<Vec<(usize, Vec<u8>)>> = Mutex::new(Vec::new());

fn layout(pages: usize) -> Option<Layout> {
    Layout::from_size_align(pages.checked_mul(PAGE_SIZE as usize)?, PAGE_SIZE as usize).ok()
}

/// The physical address of kernel memory a device may read or write: the direct map
/// (the heap) or the kernel image (statics).
pub fn virt_to_phys(va: u64) -> Option<u64> {
    if (PHYS_OFFSET..PHYS_OFFSET + DIRECT_MAP_END).contains(&va) {
        Some(va - PHYS_OFFSET)
    } else if va >= KERNEL_BASE {
        Some(va - KERNEL_BASE)
    } else {
        None
    }
}

/// Whether `[pa, pa + size)` is reachable through the direct map (device registers).
pub fn mmio_reachable(pa: u64, size: u64) -> bool {
    pa.checked_add(size)
        .is_some_and(|end| end <= DIRECT_MAP_END)
}

// SAFETY: `dma_alloc` returns zeroed, page-aligned heap memory owned by the caller until
// `dma_dealloc`; physical addresses come from the direct map's fixed offset; devices
// only get the MMIO regions `nic` checked with `mmio_reachable`.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Some(l) = layout(pages) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: a non-zero size (virtio asks for at least one page).
        let p = unsafe { alloc::alloc::alloc_zeroed(l) };
        match NonNull::new(p) {
            Some(v) => match virt_to_phys(v.as_ptr() as u64) {
                Some(pa) => (pa as usize, v),
                None => {
                    // SAFETY: allocated just above with this layout.
                    unsafe { alloc::alloc::dealloc(p, l) };
                    (0, NonNull::dangling())
                }
            },
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let Some(l) = layout(pages) else { return -1 };
        // SAFETY: `vaddr` came from `dma_alloc` with `pages` (the trait's contract).
        unsafe { alloc::alloc::dealloc(vaddr.as_ptr(), l) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(phys_to_virt(paddr as u64) as *mut u8).expect("the direct map is not null")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        let va = buffer.as_ptr() as *mut u8 as u64;
        if let Some(pa) = virt_to_phys(va) {
            return pa as usize;
        }
        // A kernel-stack buffer (virtio's request headers): its pages need not be
        // contiguous, so the device gets a heap copy, copied back in `unshare`.
        // SAFETY: the trait's contract: `buffer` is valid until `unshare`.
        let src = unsafe { buffer.as_ref() };
        let copy: Vec<u8> = src.to_vec();
        let pa = virt_to_phys(copy.as_ptr() as u64).expect("the heap is in the direct map");
        BOUNCE.lock().push((pa as usize, copy));
        pa as usize
    }

    unsafe fn unshare(paddr: PhysAddr, mut buffer: NonNull<[u8]>, direction: BufferDirection) {
        let mut b = BOUNCE.lock();
        if let Some(i) = b.iter().position(|(p, _)| *p == paddr) {
            let (_, copy) = b.swap_remove(i);
            if direction != BufferDirection::DriverToDevice {
                // SAFETY: the trait's contract: `buffer` is the one shared, still valid.
                unsafe { buffer.as_mut() }.copy_from_slice(&copy);
            }
        }
    }
}
