//! 4-level page tables, reached through the direct map. The upper half (PML4
//! entries 256..512) is the kernel's and shared by every address space; the lower
//! half belongs to one address space.

use super::{PAGE_SIZE, frame, phys_to_virt};

pub const PRESENT: u64 = 1;
pub const WRITABLE: u64 = 1 << 1;
pub const USER: u64 = 1 << 2;
pub const HUGE: u64 = 1 << 7;
/// Software bit: the frame is not owned by this table (shared memory), never freed here.
pub const SHARED: u64 = 1 << 9;
/// Software bit: a private frame shared copy-on-write after `fork` (mapped read-only; a
/// write fault copies it, or takes it back when this is its last user).
pub const COW: u64 = 1 << 10;
pub const NO_EXECUTE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

fn table(pa: u64) -> &'static mut [u64; 512] {
    // SAFETY: `pa` is a page-table frame owned by an address space (or the kernel's),
    // mapped through the direct map; the kernel runs on one CPU with interrupts off
    // while editing tables, so no other reference is live.
    unsafe { &mut *(phys_to_virt(pa) as *mut [u64; 512]) }
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & 0x1ff) as usize
}

/// A new PML4 sharing the kernel half of `kernel_pml4`.
pub fn new_pml4(kernel_pml4: u64) -> Option<u64> {
    let pa = frame::alloc()?;
    let (k, n) = (table(kernel_pml4), table(pa));
    n[256..].copy_from_slice(&k[256..]);
    Some(pa)
}

/// The leaf entry for `va`, creating intermediate tables when `create` (counted in
/// `*created`).
fn leaf_counted(pml4: u64, va: u64, create: bool, created: &mut u32) -> Option<&'static mut u64> {
    let mut t = pml4;
    for level in (1..4).rev() {
        let e = &mut table(t)[index(va, level)];
        if *e & PRESENT == 0 {
            if !create {
                return None;
            }
            let pa = frame::alloc()?;
            *created += 1;
            *e = pa | PRESENT | WRITABLE | USER;
        }
        if *e & HUGE != 0 {
            return None;
        }
        t = *e & ADDR_MASK;
    }
    Some(&mut table(t)[index(va, 0)])
}

/// Makes the tables down to the one holding `va`'s entry (nothing mapped yet).
pub fn prepare(pml4: u64, va: u64) -> Option<()> {
    leaf(pml4, va, true).map(|_| ())
}

fn leaf(pml4: u64, va: u64, create: bool) -> Option<&'static mut u64> {
    leaf_counted(pml4, va, create, &mut 0)
}

/// Maps the page at `va` to frame `pa`: the number of page-table frames it allocated on
/// the way (the address space charges them), `None` when one could not be allocated.
pub fn map(pml4: u64, va: u64, pa: u64, flags: u64) -> Option<u32> {
    let mut created = 0;
    let e = leaf_counted(pml4, va, true, &mut created)?;
    *e = pa | flags | PRESENT;
    super::super::arch::x86_64::cpu::invlpg(va);
    Some(created)
}

/// Maps the page at `va` to frame `pa` in tables made beforehand (the kernel's
/// pre-built regions): never allocates; false when a table on the way is missing.
pub fn map_prepared(pml4: u64, va: u64, pa: u64, flags: u64) -> bool {
    match leaf(pml4, va, false) {
        Some(e) => {
            // A non-present entry is never cached in the TLB: no flush needed.
            *e = pa | flags | PRESENT;
            true
        }
        None => false,
    }
}

/// The entry mapping `va` (frame address and flags), if present.
pub fn lookup(pml4: u64, va: u64) -> Option<u64> {
    let e = leaf(pml4, va, false)?;
    if *e & PRESENT != 0 { Some(*e) } else { None }
}

pub fn entry_addr(e: u64) -> u64 {
    e & ADDR_MASK
}

/// Removes the mapping of `va`; returns the old entry.
pub fn unmap(pml4: u64, va: u64) -> Option<u64> {
    let e = leaf(pml4, va, false)?;
    if *e & PRESENT == 0 {
        return None;
    }
    let old = *e;
    *e = 0;
    super::super::arch::x86_64::cpu::invlpg(va);
    Some(old)
}

/// Changes the flags of a present mapping, keeping its frame.
pub fn protect(pml4: u64, va: u64, flags: u64) {
    if let Some(e) = leaf(pml4, va, false)
        && *e & PRESENT != 0
    {
        let keep = *e & (ADDR_MASK | SHARED | COW);
        // A copy-on-write page stays read-only until its write fault.
        let flags = if keep & COW != 0 {
            flags & !WRITABLE
        } else {
            flags
        };
        *e = keep | flags | PRESENT;
        super::super::arch::x86_64::cpu::invlpg(va);
    }
}

/// Calls `f(va, entry)` for every present user page in `[start, end)`.
pub fn for_each_present(pml4: u64, start: u64, end: u64, f: &mut dyn FnMut(u64, u64)) {
    for_each_present_mut(pml4, start, end, &mut |va, e| f(va, *e));
}

/// The slots of a table at `level` whose area (starting at `base`) meets `[start, end)`.
fn slots(level: u32, base: u64, start: u64, end: u64) -> core::ops::Range<usize> {
    let span = PAGE_SIZE << (9 * level);
    let first = (start.saturating_sub(base) / span).min(512) as usize;
    let last = (end.saturating_sub(base).div_ceil(span)).min(512) as usize;
    first..last.max(first)
}

/// Calls `f(va, entry)` for every present user page in `[start, end)`, which may change
/// the entry (the caller flushes the TLB afterwards). Only the slots inside the range
/// are visited, so the cost follows the range, not the whole tables.
pub fn for_each_present_mut(pml4: u64, start: u64, end: u64, f: &mut dyn FnMut(u64, &mut u64)) {
    fn walk(t: u64, level: u32, base: u64, start: u64, end: u64, f: &mut dyn FnMut(u64, &mut u64)) {
        let span = PAGE_SIZE << (9 * level);
        let range = slots(level, base, start, end);
        let first = range.start;
        for (i, e) in table(t)[range].iter_mut().enumerate() {
            if *e & PRESENT == 0 {
                continue;
            }
            let va = base + (first + i) as u64 * span;
            if level == 0 {
                f(va, e);
            } else {
                walk(*e & ADDR_MASK, level - 1, va, start, end, f);
            }
        }
    }
    let end = end.min(super::USER_END);
    let range = slots(3, 0, start, end);
    let first = range.start;
    for (i, &e) in table(pml4)[range].iter().enumerate() {
        if e & PRESENT != 0 {
            walk(e & ADDR_MASK, 2, ((first + i) as u64) << 39, start, end, f);
        }
    }
}

/// Frees every owned (non-`SHARED`) leaf frame in `areas` (every user page lies in an
/// area: the caller's invariant, as for `fork`), then every lower-half table and the PML4.
/// The leaf tables are freed without a scan of their 512 entries: only the ranges of the
/// areas are walked for leaves, so the cost follows what is mapped.
pub fn destroy(pml4: u64, areas: &[(u64, u64)]) {
    for &(start, end) in areas {
        for_each_present(pml4, start, end, &mut |_, e| {
            if e & SHARED == 0 {
                frame::free(e & ADDR_MASK);
            }
        });
    }
    /// Frees table `t` at `level` (2: a PDPT, 1: a directory, 0: a page table, whose
    /// leaves are already freed) and the tables below it.
    fn free_tables(t: u64, level: u32) {
        if level > 0 {
            // Eight entries at a time: most of a directory is empty.
            for chunk in table(t).chunks_exact(8) {
                if chunk.iter().fold(0, |a, &e| a | e) & PRESENT == 0 {
                    continue;
                }
                for &e in chunk {
                    if e & PRESENT != 0 {
                        free_tables(e & ADDR_MASK, level - 1);
                    }
                }
            }
        }
        frame::free(t);
    }
    for &e in table(pml4).iter().take(256) {
        if e & PRESENT != 0 {
            free_tables(e & ADDR_MASK, 2);
        }
    }
    frame::free(pml4);
}

/// Drops the cached translations of the current address space.
pub fn flush_tlb() {
    super::super::arch::x86_64::cpu::flush_tlb();
}

/// Copies one page between frames through the direct map.
pub fn copy_frame(dst: u64, src: u64) {
    // SAFETY: both are whole frames; `dst` is freshly allocated and not aliased.
    unsafe {
        core::ptr::copy_nonoverlapping(
            phys_to_virt(src) as *const u8,
            phys_to_virt(dst) as *mut u8,
            PAGE_SIZE as usize,
        )
    }
}
