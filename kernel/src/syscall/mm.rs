//! Memory system calls: brk, mmap, munmap, mremap, mprotect, madvise, msync.

use super::as_i32;
use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::fs::pagestore::PageStore;
use crate::mm::aspace::{AddressSpace, MMAP_BASE, STACK_SIZE, STACK_TOP};
use crate::mm::vma::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE, Vma};
use crate::mm::{PAGE_SIZE, USER_END, page_down, page_up};
use crate::task;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

const MAP_SHARED: u64 = 0x01;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
/// Flags accepted by MAP_SHARED_VALIDATE (the others are hints this kernel ignores).
const MAP_KNOWN: u64 = 0x03 | MAP_FIXED | MAP_ANONYMOUS | 0x100 /* GROWSDOWN */ | 0x800 /* DENYWRITE */
    | 0x1000 /* EXECUTABLE */ | 0x2000 /* LOCKED */ | 0x4000 /* NORESERVE */ | 0x8000 /* POPULATE */
    | 0x10000 /* NONBLOCK */ | 0x20000 /* STACK */ | MAP_FIXED_NOREPLACE;
/// Lowest address `mmap` hands out or accepts as a hint (vm.mmap_min_addr).
const MMAP_MIN: u64 = 0x10000;

syscalls! {
    frame, a;
    12 => Ok(brk(a[0]) as usize),
    9 => mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
    11 => munmap(a[0], a[1]),
    10 => mprotect(a[0], a[1], a[2]),
    28 => madvise(a[0], a[1], a[2]),
    26 => msync(a[0], a[1], a[2]),
    25 => mremap(a[0], a[1], a[2], a[3], a[4]),
}

fn brk(addr: u64) -> u64 {
    let vm = task::current_vm();
    let mut vm = vm.lock();
    if addr < vm.brk_start || addr >= STACK_TOP - STACK_SIZE {
        return vm.brk;
    }
    let (Some(old_top), Some(new_top)) = (page_up(vm.brk), page_up(addr)) else {
        return vm.brk;
    };
    if new_top > old_top {
        if vm.vmas.overlaps(old_top, new_top)
            || !commit_ok(new_top - vm.brk_start)
            || vm.vmas.reserve(1).is_err()
        {
            return vm.brk;
        }
        vm.map_area(AddressSpace::anon(
            old_top,
            new_top,
            PROT_READ | PROT_WRITE,
            "[heap]",
        ));
    } else if new_top < old_top {
        vm.unmap_range(new_top, old_top);
    }
    vm.brk = addr;
    addr
}

/// Linux's heuristic overcommit: one request larger than all of RAM fails.
fn commit_ok(len: u64) -> bool {
    len <= crate::mm::frame::counts().1 * PAGE_SIZE
}

fn check_range(addr: u64, len: u64) -> Result<u64, Errno> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::EINVAL)?;
    if end > USER_END {
        return Err(Errno::EINVAL);
    }
    Ok(end)
}

fn mmap(addr: u64, len: u64, prot: u64, flags: u64, fd: u64, off: u64) -> SysResult {
    if len == 0
        || !off.is_multiple_of(PAGE_SIZE)
        || prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) as u64 != 0
    {
        return Err(Errno::EINVAL);
    }
    let kind = flags & 0x03;
    if kind == 0 || (kind == MAP_SHARED_VALIDATE && flags & !MAP_KNOWN != 0) {
        return Err(if kind == 0 {
            Errno::EINVAL
        } else {
            Errno::EOPNOTSUPP
        });
    }
    let shared = kind == MAP_SHARED || kind == MAP_SHARED_VALIDATE;
    let len = page_up(len)
        .filter(|l| *l < USER_END)
        .ok_or(Errno::ENOMEM)?;
    let prot = prot as u32;
    if !shared && !commit_ok(len) {
        return Err(Errno::ENOMEM);
    }
    let mut private_data = None;
    let mut file_id = None;
    let (backing, name) = if flags & MAP_ANONYMOUS != 0 {
        if shared {
            let mut store = PageStore::new();
            store.truncate(len, true)?;
            (
                Backing::Shared {
                    src: Arc::new(Mutex::new(store)),
                    pgoff: 0,
                },
                String::from("/dev/zero (deleted)"),
            )
        } else {
            (Backing::Private, String::new())
        }
    } else {
        let file = task::current_process().files().get(as_i32(fd))?;
        if !file.readable() || (shared && prot & PROT_WRITE != 0 && !file.writable()) {
            return Err(Errno::EACCES);
        }
        if shared && prot & PROT_WRITE != 0 && crate::fs::memfd::write_sealed(&file) {
            return Err(Errno::EPERM);
        }
        file_id = file.stat().ok().map(|m| (m.dev, m.ino));
        let store = file.inode().and_then(|i| i.map_pages());
        match (store, shared) {
            (Some(store), true) => (
                Backing::Shared {
                    src: store,
                    pgoff: off / PAGE_SIZE,
                },
                String::from(file.path()),
            ),
            (Some(store), false) => (
                Backing::PrivateCopy {
                    src: store,
                    pgoff: off / PAGE_SIZE,
                },
                String::from(file.path()),
            ),
            (None, false) => {
                // A device without pages: the mapping starts as a copy of what it reads.
                let mut buf = crate::mm::try_zeroed(len as usize)?;
                let n = file.pread(off, &mut buf)?;
                buf.truncate(n);
                private_data = Some(buf);
                (Backing::Private, String::from(file.path()))
            }
            (None, true) => return Err(Errno::ENODEV),
        }
    };

    let vm = task::current_vm();
    let mut vm = vm.lock();
    vm.vmas.may_map()?;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        let end = check_range(addr, len)?;
        if addr < MMAP_MIN {
            return Err(Errno::EPERM);
        }
        if flags & MAP_FIXED == 0 && vm.vmas.overlaps(addr, end) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        let hint = page_down(addr);
        let limit = STACK_TOP - STACK_SIZE;
        if hint >= MMAP_MIN
            && hint.checked_add(len).is_some_and(|e| e <= limit)
            && !vm.vmas.overlaps(hint, hint + len)
        {
            hint
        } else {
            vm.vmas
                .find_free(len, MMAP_BASE, limit)
                .ok_or(Errno::ENOMEM)?
        }
    };
    // The new area, and the pieces of one it lands in the middle of.
    vm.vmas.reserve(2)?;
    vm.map_area(Vma {
        start,
        end: start + len,
        prot,
        backing,
        name,
        file: file_id,
    });
    if let Some(data) = private_data {
        vm.write_force(start, &data)?;
    }
    Ok(start as usize)
}

fn munmap(addr: u64, len: u64) -> SysResult {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = check_range(addr, len)?;
    let vm = task::current_vm();
    let mut vm = vm.lock();
    vm.vmas.may_split(addr, end, true)?;
    vm.unmap_range(addr, end);
    Ok(0)
}

const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;

/// `mremap`, in Linux's order of checks (`mm/mremap.c`): shrink in place, grow in place
/// when the room after the area is free, else move (`MREMAP_MAYMOVE`) to a free range or
/// to `new_addr` (`MREMAP_FIXED`), keeping the old area empty with `MREMAP_DONTUNMAP`.
/// Frames move with their plimits charge; new pages are charged when touched.
fn mremap(old: u64, old_len: u64, new_len: u64, flags: u64, new_addr: u64) -> SysResult {
    let maymove = flags & MREMAP_MAYMOVE != 0;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0
        || (flags & MREMAP_FIXED != 0 && !maymove)
        || (flags & MREMAP_DONTUNMAP != 0 && (!maymove || old_len != new_len))
        || !old.is_multiple_of(PAGE_SIZE)
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_up(new_len).filter(|&l| l != 0).ok_or(Errno::EINVAL)?;
    let vm = task::current_vm();
    let mut vm = vm.lock();
    // Splits at both ends of the old range and of the target.
    vm.vmas.reserve(3)?;
    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        if !new_addr.is_multiple_of(PAGE_SIZE)
            || new_len > USER_END
            || new_addr > USER_END - new_len
            || (old.saturating_add(old_len) > new_addr && new_addr + new_len > old)
        {
            return Err(Errno::EINVAL);
        }
        if flags & MREMAP_FIXED != 0 && new_addr < MMAP_MIN {
            return Err(Errno::EPERM);
        }
        resizable(&vm, old, old_len.min(new_len), new_len)?;
        if flags & MREMAP_FIXED != 0 {
            vm.unmap_range(new_addr, new_addr + new_len);
        }
        if old_len > new_len {
            let end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
            vm.unmap_range(old + new_len, end);
        }
        let to = if flags & MREMAP_FIXED != 0 {
            new_addr
        } else {
            free_range(&mut vm, new_len)?
        };
        return move_area(&mut vm, old, old_len.min(new_len), new_len, to, flags);
    }
    if old_len >= new_len {
        let end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        vm.unmap_range(old + new_len, end);
        return Ok(old as usize);
    }
    let area_end = resizable(&vm, old, old_len, new_len)?;
    let grown_end = old.checked_add(new_len).filter(|&e| e <= USER_END);
    if old + old_len == area_end
        && let Some(end) = grown_end
        && !vm.vmas.overlaps(area_end, end)
        && vm.vmas.extend(area_end, end)
    {
        return Ok(old as usize);
    }
    if !maymove {
        return Err(Errno::ENOMEM);
    }
    let to = free_range(&mut vm, new_len)?;
    move_area(&mut vm, old, old_len, new_len, to, flags)
}

/// Linux's `vma_to_resize`: `[old, old + old_len)` lies in one area (`EFAULT` otherwise),
/// and growing it to `new_len` passes the overcommit check. Returns the area's end.
fn resizable(vm: &AddressSpace, old: u64, old_len: u64, new_len: u64) -> Result<u64, Errno> {
    let area_end = vm.vmas.area_end(old).ok_or(Errno::EFAULT)?;
    if old_len > area_end - old {
        return Err(Errno::EFAULT);
    }
    let private = vm.vmas.find(old).is_some_and(|v| !v.is_shared());
    if old_len == 0 && private {
        // Linux duplicates only shared areas with a zero old length.
        return Err(Errno::EINVAL);
    }
    if new_len > old_len && private && !commit_ok(new_len) {
        return Err(Errno::ENOMEM);
    }
    Ok(area_end)
}

fn free_range(vm: &mut AddressSpace, len: u64) -> Result<u64, Errno> {
    vm.vmas
        .find_free(len, MMAP_BASE, STACK_TOP - STACK_SIZE)
        .ok_or(Errno::ENOMEM)
}

/// Moves `[old, old + len)` to `to` and grows it there to `new_len` (`to` is free for
/// `new_len`). A zero `len` duplicates a shared area instead.
fn move_area(
    vm: &mut AddressSpace,
    old: u64,
    len: u64,
    new_len: u64,
    to: u64,
    flags: u64,
) -> SysResult {
    if len == 0 {
        let area = vm
            .vmas
            .find(old)
            .ok_or(Errno::EFAULT)?
            .moved(old, to, new_len);
        vm.map_area(area);
        return Ok(to as usize);
    }
    vm.move_range(old, len, to, flags & MREMAP_DONTUNMAP != 0)?;
    // The grown part continues the last moved piece (a file's page offsets go on).
    vm.vmas.extend(to + len, to + new_len);
    Ok(to as usize)
}

fn mprotect(addr: u64, len: u64, prot: u64) -> SysResult {
    const PROT_GROWSDOWN: u64 = 0x0100_0000;
    const PROT_GROWSUP: u64 = 0x0200_0000;
    if prot & !(7 | PROT_GROWSDOWN | PROT_GROWSUP) != 0 || !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let end = check_range(addr, len).map_err(|_| Errno::ENOMEM)?;
    let vm = task::current_vm();
    let mut vm = vm.lock();
    // Splitting the areas at both ends (Linux: ENOMEM).
    vm.vmas.reserve(2)?;
    vm.vmas.may_split(addr, end, false)?;
    vm.protect(addr, end, (prot & 7) as u32)?;
    Ok(0)
}

fn madvise(addr: u64, len: u64, advice: u64) -> SysResult {
    const MADV_DONTNEED: u64 = 4;
    const MADV_FREE: u64 = 8;
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let end = check_range(addr, len)?;
    match advice {
        MADV_DONTNEED | MADV_FREE => {
            let vm = task::current_vm();
            let mut vm = vm.lock();
            if !vm.vmas.covers(addr, end) {
                return Err(Errno::ENOMEM);
            }
            // Private pages are dropped and read back as zeros; shared pages keep their data.
            vm.discard_private(addr, end);
            Ok(0)
        }
        0..=3 | 9..=25 | 100 | 101 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

fn msync(addr: u64, len: u64, flags: u64) -> SysResult {
    if !addr.is_multiple_of(PAGE_SIZE) || flags & !7 != 0 || flags & 5 == 5 {
        return Err(Errno::EINVAL);
    }
    let end = check_range(addr, len)?;
    if !task::current_vm().lock().vmas.covers(addr, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0) // memory-backed files: nothing to write back
}
