//! DMA memory for devices (`virtio-drivers`' `Hal`): page-aligned blocks of a small
//! physically contiguous region set aside at boot (the kernel heap's blocks over a page
//! are not contiguous: they live in the vmalloc area), reached through the direct map,
//! so a buffer's physical address is its direct-map address less `PHYS_OFFSET`.

use super::{KERNEL_BASE, PAGE_SIZE, PHYS_OFFSET, phys_to_virt};
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use spin::Mutex;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The direct map covers the first 4 GiB of physical addresses.
const DIRECT_MAP_END: u64 = 4 << 30;

/// The region's size: virtio-net's two 16-entry queues take a few pages, the bounce
/// copies of kernel-stack buffers a few more.
pub const REGION_BYTES: u64 = 512 << 10;

pub struct KernelHal;

/// The contiguous region, as a first-fit heap.
static REGION: Mutex<Heap> = Mutex::new(Heap::empty());

/// Region copies of shared buffers outside the direct map: physical address, the
/// copy's address and length.
static BOUNCE: Mutex<Vec<(usize, u64, usize)>> = Mutex::new(Vec::new());

/// Hands `[start_pa, start_pa + REGION_BYTES)` (RAM nobody else uses) to DMA buffers.
pub fn init(start_pa: u64) {
    // SAFETY: called once at boot with unused RAM that the direct map covers.
    unsafe {
        REGION
            .lock()
            .init(phys_to_virt(start_pa) as *mut u8, REGION_BYTES as usize)
    };
}

/// A zeroed block of the region, null when it is full.
fn region_alloc(l: Layout) -> *mut u8 {
    match REGION.lock().allocate_first_fit(l) {
        Ok(p) => {
            // SAFETY: a fresh block of `l.size()` bytes, ours.
            unsafe { core::ptr::write_bytes(p.as_ptr(), 0, l.size()) };
            p.as_ptr()
        }
        Err(()) => core::ptr::null_mut(),
    }
}

/// Frees a block `region_alloc` made for `l`.
fn region_free(p: *mut u8, l: Layout) {
    if let Some(p) = NonNull::new(p) {
        // SAFETY: the caller passes a block of the region with its layout.
        unsafe { REGION.lock().deallocate(p, l) };
    }
}

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

// SAFETY: `dma_alloc` returns zeroed, page-aligned memory of the region owned by the caller until
// `dma_dealloc`; physical addresses come from the direct map's fixed offset; devices
// only get the MMIO regions `nic` checked with `mmio_reachable`.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Some(l) = layout(pages) else {
            return (0, NonNull::dangling());
        };
        match NonNull::new(region_alloc(l)) {
            Some(v) => (v.as_ptr() as usize - PHYS_OFFSET as usize, v),
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let Some(l) = layout(pages) else { return -1 };
        // `vaddr` came from `dma_alloc` with `pages` (the trait's contract).
        region_free(vaddr.as_ptr(), l);
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
        // A kernel-stack or vmalloc-area buffer (virtio's request headers): its pages
        // need not be contiguous, so the device gets a copy in the region, copied back
        // in `unshare`. The trait gives no way to fail; the copies in flight are at most
        // the queues' entries (buffers of a packet's size), far less than the region.
        // SAFETY: the trait's contract: `buffer` is valid until `unshare`.
        let src = unsafe { buffer.as_ref() };
        let l = Layout::from_size_align(src.len().max(1), 16)
            .expect("a packet buffer's length is a valid layout");
        let copy = region_alloc(l);
        assert!(
            !copy.is_null(),
            "DMA region full: more bounce copies than queue entries"
        );
        let mut list = BOUNCE.lock();
        // SAFETY: `copy` is a fresh block of at least `src.len()` bytes.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), copy, src.len()) };
        let pa = copy as usize - PHYS_OFFSET as usize;
        list.push((pa, copy as u64, src.len()));
        pa
    }

    unsafe fn unshare(paddr: PhysAddr, mut buffer: NonNull<[u8]>, direction: BufferDirection) {
        let mut b = BOUNCE.lock();
        if let Some(i) = b.iter().position(|&(p, _, _)| p == paddr) {
            let (_, copy, len) = b.swap_remove(i);
            if direction != BufferDirection::DriverToDevice {
                // SAFETY: `copy` holds `len` bytes until freed below; `buffer` is the one
                // shared, still valid (the trait's contract) and `len` long.
                unsafe {
                    let src = core::slice::from_raw_parts(copy as *const u8, len);
                    buffer.as_mut().copy_from_slice(src);
                }
            }
            if let Ok(l) = Layout::from_size_align(len.max(1), 16) {
                region_free(copy as *mut u8, l);
            }
        }
    }
}
