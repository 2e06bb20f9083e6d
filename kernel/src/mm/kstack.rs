//! Kernel stacks: frames mapped in a region of the kernel half that every address space
//! shares, one slot per stack with an unmapped guard page below it. A stack takes no
//! heap (a fragmented heap cannot refuse one), and an overflow faults on the guard
//! page (reported through the double-fault stack) instead of corrupting a neighbour.

use super::{PAGE_SIZE, frame, paging};
use alloc::vec::Vec;
use spin::Mutex;

/// The region: PML4 slot 448. All its page tables are made at boot, before any address
/// space copies the kernel half: stacks mapped later show in every address space, and
/// the tables never grow (so `MemFree` comes back when stacks go).
const BASE: u64 = 0xFFFF_E000_0000_0000;

struct Slots {
    free: Vec<u64>,
    next: u64,
    /// Slots the tables cover: as many stacks as the memory could hold.
    max: u64,
    /// Pages per stack.
    pages: u64,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    free: Vec::new(),
    next: 0,
    max: 0,
    pages: 0,
});

fn kernel_pml4() -> u64 {
    crate::arch::x86_64::boot::boot_pml4_phys()
}

/// Makes the region's tables for stacks of `stack_size` bytes, as many as the frames
/// could hold (before the first address space is created).
pub fn init(stack_size: usize) {
    let pages = (stack_size as u64).div_ceil(PAGE_SIZE);
    let max = frame::counts().1 / pages;
    let end = BASE + max * (pages + 1) * PAGE_SIZE;
    // One last-level table covers 2 MiB.
    let mut va = BASE;
    while va < end {
        assert!(
            paging::prepare(kernel_pml4(), va).is_some(),
            "no frame for the kernel-stack tables at boot"
        );
        va += 512 * PAGE_SIZE;
    }
    let mut s = SLOTS.lock();
    s.max = max;
    s.pages = pages;
}

/// One kernel stack of a fixed size (a multiple of the page size).
pub struct KernelStack {
    slot: u64,
    /// The lowest address of the stack (the guard page is just below).
    bottom: u64,
    /// Pages mapped (all of them once made).
    pages: u64,
}

impl KernelStack {
    /// A stack of the size given to [`init`]; `None` when frames (or slots) run out.
    pub fn new() -> Option<KernelStack> {
        let (slot, pages) = {
            let mut s = SLOTS.lock();
            let slot = match s.free.pop() {
                Some(slot) => slot,
                None if s.next < s.max => {
                    s.next += 1;
                    s.next - 1
                }
                None => return None,
            };
            (slot, s.pages)
        };
        let slot_size = (pages + 1) * PAGE_SIZE;
        let mut stack = KernelStack {
            slot,
            bottom: BASE + slot * slot_size + PAGE_SIZE,
            pages: 0,
        };
        for i in 0..pages {
            let pa = frame::alloc_dirty()?;
            let va = stack.bottom + i * PAGE_SIZE;
            if paging::map(kernel_pml4(), va, pa, paging::WRITABLE | paging::NO_EXECUTE).is_none() {
                frame::free(pa);
                return None;
            }
            stack.pages += 1;
        }
        Some(stack)
    }

    /// The address just above the stack (where it starts growing down).
    pub fn top(&self) -> u64 {
        self.bottom + self.pages * PAGE_SIZE
    }
}

/// How many kernel stacks are live (one per thread).
pub fn live() -> u64 {
    let s = SLOTS.lock();
    s.next - s.free.len() as u64
}

impl Drop for KernelStack {
    /// Unmaps and frees the pages mapped so far and gives the slot back.
    fn drop(&mut self) {
        for i in 0..self.pages {
            if let Some(e) = paging::unmap(kernel_pml4(), self.bottom + i * PAGE_SIZE) {
                frame::free(paging::entry_addr(e));
            }
        }
        // Slots are all one size: the kernel has one stack size.
        SLOTS.lock().free.push(self.slot);
    }
}
