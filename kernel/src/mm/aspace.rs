//! A process address space: its page tables and VMAs, demand paging, fork copies.

use super::paging::{self, COW, NO_EXECUTE, SHARED, USER, WRITABLE};
use super::vma::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE, Vma, VmaSet};
use super::{PAGE_SIZE, frame, page_down, phys_to_virt};
use crate::errno::Errno;
use crate::plimits::Group;
use alloc::string::String;
use alloc::sync::Arc;

/// Where anonymous `mmap` without a hint starts searching.
pub const MMAP_BASE: u64 = 0x0000_1000_0000_0000;
/// Top of the initial stack of a program.
/// Three pages below the last usable one: `[vvar]` and `[vdso]` sit above the stack, in the
/// page table the stack's top already uses (a fork copies no extra table for them).
pub const STACK_TOP: u64 = 0x0000_7fff_ffff_c000;
pub const STACK_SIZE: u64 = 8 << 20;

pub struct AddressSpace {
    pub pml4: u64,
    pub vmas: VmaSet,
    pub brk_start: u64,
    pub brk: u64,
    /// The plimits group charged for this space's private pages and page tables, and
    /// how many are charged (every private frame it maps, shared copy-on-write or not,
    /// and every table frame; one uncharge per unmapped page, the rest when the space
    /// is dropped).
    plimits: Arc<Group>,
    charged: u64,
    /// Page-table frames of this space (the PML4 included; part of `charged`).
    tables: u64,
}

/// Page-table frames of every address space (`/proc/meminfo` `PageTables`).
static PAGE_TABLES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Page-table frames in use by all address spaces.
pub fn page_table_frames() -> u64 {
    PAGE_TABLES.load(core::sync::atomic::Ordering::Relaxed)
}

/// The outcome of a page fault.
#[derive(PartialEq, Eq, Debug)]
pub enum Fault {
    Handled,
    /// No area, or the access is not allowed: SIGSEGV.
    Violation,
    /// A shared page that does not exist (past the end of a file, or its file system
    /// full): SIGBUS.
    Bus,
    OutOfMemory,
}

fn pte_flags(prot: u32) -> u64 {
    let mut f = USER;
    if prot & PROT_WRITE != 0 {
        f |= WRITABLE;
    }
    if prot & PROT_EXEC == 0 {
        f |= NO_EXECUTE;
    }
    f
}

fn kernel_pml4() -> u64 {
    crate::arch::x86_64::boot::boot_pml4_phys()
}

impl AddressSpace {
    pub fn new() -> Result<Self, Errno> {
        let pml4 = paging::new_pml4(kernel_pml4()).ok_or(Errno::ENOMEM)?;
        let mut vm = AddressSpace {
            pml4,
            vmas: VmaSet::new(),
            brk_start: 0,
            brk: 0,
            // The creator's group: a fork's child and an exec'd image stay in it.
            plimits: crate::plimits::current_group(),
            charged: 0,
            tables: 0,
        };
        // The top-level table is the space's too.
        vm.add_tables(1);
        Ok(vm)
    }

    /// Maps `va` to `pa` in this space's tables; the page-table frames that took are
    /// charged to the group (past the limit too: the page itself was checked). False when
    /// a table frame could not be allocated.
    fn map_page(&mut self, va: u64, pa: u64, flags: u64) -> bool {
        match paging::map(self.pml4, va, pa, flags) {
            Some(tables) => {
                self.add_tables(tables as u64);
                true
            }
            None => false,
        }
    }

    fn add_tables(&mut self, n: u64) {
        if n != 0 {
            self.charged += n;
            self.tables += n;
            PAGE_TABLES.fetch_add(n, core::sync::atomic::Ordering::Relaxed);
            self.plimits.effective().mem.add(n * PAGE_SIZE);
        }
    }

    /// Charges one private page to the group; false over its `memory.limit`.
    fn charge_page(&mut self) -> bool {
        let ok = self.plimits.effective().mem.charge(PAGE_SIZE).is_ok();
        self.charged += ok as u64;
        ok
    }

    fn uncharge_pages(&mut self, n: u64) {
        let n = n.min(self.charged);
        self.charged -= n;
        self.plimits.effective().mem.uncharge(n * PAGE_SIZE);
    }

    /// Bytes of private pages charged for this space.
    pub fn charged_bytes(&self) -> u64 {
        self.charged * PAGE_SIZE
    }

    /// Pages charged for this space (what the OOM killer weighs) and the page-table
    /// frames among them.
    pub fn charged_pages(&self) -> (u64, u64) {
        (self.charged, self.tables)
    }

    /// Moves the charge of this space to group `to` (its process changed groups).
    pub fn move_charge(&mut self, to: &Arc<Group>) {
        let bytes = self.charged_bytes();
        self.plimits.effective().mem.uncharge(bytes);
        to.mem.add(bytes);
        self.plimits = to.clone();
    }

    /// Charges from now on go to `to` (the counts moved with the whole group).
    pub fn set_plimits(&mut self, to: &Arc<Group>) {
        self.plimits = to.clone();
    }

    /// Loads these page tables into CR3.
    pub fn activate(&self) {
        if crate::arch::x86_64::cpu::read_cr3() & !0xfff != self.pml4 {
            // SAFETY: the PML4 shares the kernel half with every other one.
            unsafe { crate::arch::x86_64::cpu::write_cr3(self.pml4) }
        }
    }

    /// Switches to the kernel's own tables (before the current address space is freed).
    pub fn activate_kernel() {
        // SAFETY: the boot PML4 maps the kernel half like every address space.
        unsafe { crate::arch::x86_64::cpu::write_cr3(kernel_pml4()) }
    }

    /// Maps the page containing `va` for an access, as a page fault would.
    pub fn fault(&mut self, va: u64, write: bool, exec: bool) -> Fault {
        let Some(vma) = self.vmas.find(va) else {
            return Fault::Violation;
        };
        let allowed = if exec {
            vma.prot & PROT_EXEC != 0
        } else if write {
            vma.prot & PROT_WRITE != 0
        } else {
            vma.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0
        };
        if !allowed {
            return Fault::Violation;
        }
        let page = page_down(va);
        if let Some(e) = paging::lookup(self.pml4, page) {
            if write && e & WRITABLE == 0 && e & COW != 0 {
                return self.break_cow(page, e, vma.prot);
            }
            // Present and allowed by the VMA: a stale TLB entry or a racing thread.
            let ok = !write || e & WRITABLE != 0;
            return if ok { Fault::Handled } else { Fault::Violation };
        }
        let flags = pte_flags(vma.prot);
        let private = !matches!(vma.backing, Backing::Shared { .. });
        // Over the group's memory.limit the faulting process is killed (LiteOS-A).
        if private && !self.charge_page() {
            return Fault::OutOfMemory;
        }
        let Some(vma) = self.vmas.find(va) else {
            return Fault::Violation;
        };
        let (pa, flags) = match &vma.backing {
            Backing::Private => match frame::alloc() {
                Some(pa) => (pa, flags),
                None => {
                    self.uncharge_pages(1);
                    return Fault::OutOfMemory;
                }
            },
            Backing::Shared { src, pgoff } => {
                match src.page_phys(pgoff + (page - vma.start) / PAGE_SIZE) {
                    Some(pa) => (pa, flags | SHARED),
                    // Past the end of the object, or no room in it.
                    None => return Fault::Bus,
                }
            }
            Backing::PrivateCopy { src, pgoff } => match frame::alloc() {
                Some(pa) => {
                    // Past the end of the object the page stays zero.
                    if let Some(from) = src.page_phys(pgoff + (page - vma.start) / PAGE_SIZE) {
                        paging::copy_frame(pa, from);
                    }
                    (pa, flags)
                }
                None => {
                    self.uncharge_pages(1);
                    return Fault::OutOfMemory;
                }
            },
        };
        if !self.map_page(page, pa, flags) {
            if flags & SHARED == 0 {
                frame::free(pa);
                self.uncharge_pages(1);
            }
            return Fault::OutOfMemory;
        }
        Fault::Handled
    }

    /// A write to copy-on-write page `page` (entry `e`) of an area with protection
    /// `prot`: the last user takes the frame back writable, others get a copy.
    fn break_cow(&mut self, page: u64, e: u64, prot: u32) -> Fault {
        let old = paging::entry_addr(e);
        let flags = pte_flags(prot);
        if frame::users(old) == 1 {
            return if self.map_page(page, old, flags) {
                Fault::Handled
            } else {
                Fault::OutOfMemory
            };
        }
        let Some(new) = frame::alloc_dirty() else {
            return Fault::OutOfMemory;
        };
        paging::copy_frame(new, old);
        if !self.map_page(page, new, flags) {
            frame::free(new);
            return Fault::OutOfMemory;
        }
        frame::free(old);
        Fault::Handled
    }

    /// Physical address of user byte `va` for a kernel access, faulting the page in;
    /// `EFAULT` when the process could not make that access itself.
    pub fn user_phys(&mut self, va: u64, write: bool) -> Result<u64, Errno> {
        if va >= super::USER_END {
            return Err(Errno::EFAULT);
        }
        let page = page_down(va);
        let entry = match paging::lookup(self.pml4, page) {
            Some(e) if e & USER != 0 && (!write || e & WRITABLE != 0) => e,
            _ => {
                if self.fault(va, write, false) != Fault::Handled {
                    return Err(Errno::EFAULT);
                }
                paging::lookup(self.pml4, page).ok_or(Errno::EFAULT)?
            }
        };
        Ok(paging::entry_addr(entry) + (va - page))
    }

    /// Copies `data` to user address `va` regardless of protection (program loading).
    pub fn write_force(&mut self, va: u64, data: &[u8]) -> Result<(), Errno> {
        let mut done = 0;
        while done < data.len() {
            let at = va + done as u64;
            let page = page_down(at);
            let e = match paging::lookup(self.pml4, page) {
                Some(e) => e,
                None => {
                    let vma = self.vmas.find(at).ok_or(Errno::EFAULT)?;
                    let flags = pte_flags(vma.prot);
                    if !self.charge_page() {
                        return Err(Errno::ENOMEM);
                    }
                    let Some(pa) = frame::alloc() else {
                        self.uncharge_pages(1);
                        return Err(Errno::ENOMEM);
                    };
                    if !self.map_page(page, pa, flags) {
                        frame::free(pa);
                        self.uncharge_pages(1);
                        return Err(Errno::ENOMEM);
                    }
                    pa | flags
                }
            };
            let off = (at - page) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            let dst = phys_to_virt(paging::entry_addr(e)) + off as u64;
            // SAFETY: `dst..dst+n` lies within one frame owned by this address space.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst as *mut u8, n) };
            done += n;
        }
        Ok(())
    }

    /// Adds an area after removing whatever was mapped in its range.
    pub fn map_area(&mut self, vma: Vma) {
        self.unmap_range(vma.start, vma.end);
        self.vmas.insert(vma);
    }

    /// Unmaps `[start, end)`: private frames are freed, shared ones left to their object.
    pub fn unmap_range(&mut self, start: u64, end: u64) {
        let mut freed = 0;
        for v in self.vmas.remove_range(start, end) {
            let mut va = v.start;
            while va < v.end {
                if let Some(e) = paging::unmap(self.pml4, va)
                    && e & SHARED == 0
                {
                    frame::free(paging::entry_addr(e));
                    freed += 1;
                }
                va += PAGE_SIZE;
            }
        }
        self.uncharge_pages(freed);
    }

    /// Changes the protection of `[start, end)`; `ENOMEM` if part of it is unmapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) -> Result<(), Errno> {
        // The vDSO's pages are everyone's: never writable (Linux: no VM_MAYWRITE).
        if prot & PROT_WRITE != 0 && super::vdso::overlaps(self, start, end) {
            return Err(Errno::EACCES);
        }
        if !self.vmas.protect(start, end, prot) {
            return Err(Errno::ENOMEM);
        }
        let pml4 = self.pml4;
        let mut pages = alloc::vec::Vec::new();
        paging::for_each_present(pml4, start, end, &mut |va, _| pages.push(va));
        for va in pages {
            if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
                // PROT_NONE: keep the frame, but make the page unreachable.
                // PROT_NONE: the frame stays (its contents survive a later
                // mprotect) but without USER no ring-3 access reaches it.
                let shared = paging::lookup(pml4, va).map_or(0, |e| e & SHARED);
                paging::protect(pml4, va, shared | NO_EXECUTE);
                continue;
            }
            let shared = paging::lookup(pml4, va).map_or(0, |e| e & SHARED);
            paging::protect(pml4, va, pte_flags(prot) | shared);
        }
        Ok(())
    }

    /// A copy for `fork`: private pages are shared copy-on-write (read-only in both
    /// until a write fault), shared pages stay shared.
    pub fn fork(&mut self) -> Result<AddressSpace, Errno> {
        let mut child = AddressSpace::new()?;
        child.vmas = self.vmas.try_clone()?;
        child.vmas.fork_sources();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        let mut result = Ok(());
        // Every user page lies in an area: walking the areas skips the empty tables.
        let ranges: alloc::vec::Vec<(u64, u64)> =
            self.vmas.iter().map(|v| (v.start, v.end)).collect();
        let mut copy = |va: u64, e: &mut u64| {
            if result.is_err() {
                return;
            }
            let pa = paging::entry_addr(*e);
            if *e & SHARED == 0 {
                // Each space is charged for every private page it maps, shared or not.
                if !child.charge_page() {
                    result = Err(Errno::ENOMEM);
                    return;
                }
                frame::share(pa);
                *e = (*e & !WRITABLE) | COW;
            }
            let flags = *e & !0x000f_ffff_ffff_f000 & !paging::PRESENT;
            if !child.map_page(va, pa, flags) {
                if *e & SHARED == 0 {
                    frame::free(pa);
                    child.uncharge_pages(1);
                }
                result = Err(Errno::ENOMEM);
            }
        };
        for (start, end) in ranges {
            paging::for_each_present_mut(self.pml4, start, end, &mut copy);
        }
        // The parent's private pages just became read-only.
        paging::flush_tlb();
        result.map(|_| child)
    }

    /// Number of present user pages (resident set).
    pub fn resident_pages(&self) -> u64 {
        let mut n = 0;
        paging::for_each_present(self.pml4, 0, super::USER_END, &mut |_, _| n += 1);
        n
    }

    /// Calls `f(va, entry)` for every present page of `[start, end)` (`smaps_rollup`).
    pub fn for_each_resident(&self, start: u64, end: u64, f: &mut dyn FnMut(u64, u64)) {
        paging::for_each_present(self.pml4, start, end, f);
    }

    /// Sum of the sizes of all areas.
    pub fn virtual_size(&self) -> u64 {
        self.vmas.iter().map(|v| v.end - v.start).sum()
    }

    /// An anonymous private area (heap, stack, `mmap`).
    pub fn anon(start: u64, end: u64, prot: u32, name: &str) -> Vma {
        Vma {
            start,
            end,
            prot,
            backing: Backing::Private,
            name: String::from(name),
            file: None,
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // A process has a handful of areas; past that, the walk copes without the list.
        let mut areas = [(0u64, 0u64); 64];
        let mut n = 0;
        for v in self.vmas.iter() {
            if n == areas.len() {
                // More areas than the list holds: one range over the whole lower half.
                areas[0] = (0, super::USER_END);
                n = 1;
                break;
            }
            areas[n] = (v.start, v.end);
            n += 1;
        }
        paging::destroy(self.pml4, &areas[..n]);
        PAGE_TABLES.fetch_sub(self.tables, core::sync::atomic::Ordering::Relaxed);
        self.uncharge_pages(self.charged);
    }
}

impl AddressSpace {
    /// Moves the areas and pages of `[from, from + len)` to `[to, to + len)`, which the
    /// caller made free (`mremap`). Frames keep their charge; with `keep` the old areas stay,
    /// empty (`MREMAP_DONTUNMAP`). `ENOMEM` (nothing changed) when a page table could not be
    /// allocated.
    pub fn move_range(&mut self, from: u64, len: u64, to: u64, keep: bool) -> Result<(), Errno> {
        let mut pages = alloc::vec::Vec::new();
        pages
            .try_reserve(self.resident_in(from, from + len))
            .map_err(|_| Errno::ENOMEM)?;
        paging::for_each_present(self.pml4, from, from + len, &mut |va, e| {
            pages.push((va, e))
        });
        // Map everything at the new place first: a failure then only undoes new entries.
        for (i, &(va, e)) in pages.iter().enumerate() {
            let flags = e & !paging::entry_addr(e) & !paging::PRESENT;
            if !self.map_page(va - from + to, paging::entry_addr(e), flags) {
                for &(done, _) in &pages[..i] {
                    paging::unmap(self.pml4, done - from + to);
                }
                return Err(Errno::ENOMEM);
            }
        }
        for &(va, _) in &pages {
            paging::unmap(self.pml4, va);
        }
        self.vmas.relocate(from, len, to, keep);
        Ok(())
    }

    /// Number of present user pages in `[start, end)`.
    fn resident_in(&self, start: u64, end: u64) -> usize {
        let mut n = 0;
        paging::for_each_present(self.pml4, start, end, &mut |_, _| n += 1);
        n
    }

    /// Drops the private pages of `[start, end)` (MADV_DONTNEED): they read back as zeros.
    pub fn discard_private(&mut self, start: u64, end: u64) {
        let mut pages = alloc::vec::Vec::new();
        paging::for_each_present(self.pml4, start, end, &mut |va, e| {
            if e & SHARED == 0 {
                pages.push(va);
            }
        });
        let mut freed = 0;
        for va in pages {
            if let Some(e) = paging::unmap(self.pml4, va) {
                frame::free(paging::entry_addr(e));
                freed += 1;
            }
        }
        self.uncharge_pages(freed);
    }
}
