//! Checked access to the current process's user memory. Every user pointer the
//! kernel follows goes through here: out-of-range or unmapped addresses, and writes
//! to read-only pages, give `EFAULT` instead of a kernel fault.

use super::{PAGE_SIZE, page_down, phys_to_virt};
use crate::arch::x86_64::usercopy;
use crate::errno::Errno;
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Checks that `[addr, addr+len)` lies below `USER_END`.
fn check_range(addr: u64, len: usize) -> Result<(), Errno> {
    let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
    if end > super::USER_END {
        return Err(Errno::EFAULT);
    }
    Ok(())
}

// User memory is reached through the running process's page tables (CR3 is always the
// current process's while it is in a system call); an unmapped page is mapped by the fault
// handler as the process's own access would map it, and a bad address ends the copy early
// (`arch::x86_64::usercopy`'s exception table) and gives `EFAULT`.

pub fn copy_from_user(addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    check_range(addr, buf.len())?;
    // SAFETY: `buf` is valid for its length; the user range is below USER_END and
    // faults in it are recovered.
    let left = unsafe { usercopy::copy_bytes(buf.as_mut_ptr(), addr as *const u8, buf.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

pub fn copy_to_user(addr: u64, buf: &[u8]) -> Result<(), Errno> {
    check_range(addr, buf.len())?;
    // SAFETY: as in `copy_from_user`, the other way round.
    let left = unsafe { usercopy::copy_bytes(addr as *mut u8, buf.as_ptr(), buf.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Zero-fills user memory.
pub fn clear_user(addr: u64, len: usize) -> Result<(), Errno> {
    check_range(addr, len)?;
    // SAFETY: a user range below USER_END; faults are recovered.
    let left = unsafe { usercopy::zero_bytes(addr as *mut u8, len) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Checks that the current process could write `[addr, addr+len)`, mapping its pages as
/// its own writes would, without changing a byte: a read checks its whole buffer before
/// it consumes data, and the bytes past a short read stay as they were (Linux).
/// `ENOMEM` when a page cannot be had (the system call's OOM path then runs).
pub fn check_writable(addr: u64, len: usize) -> Result<(), Errno> {
    check_range(addr, len)?;
    if len == 0 {
        return Ok(());
    }
    let vm = crate::task::sched::current()
        .process()
        .vm()
        .ok_or(Errno::EFAULT)?;
    let end = addr + len as u64;
    let mut page = page_down(addr);
    while page < end {
        match vm.lock().fault(page.max(addr), true, false) {
            super::aspace::Fault::Handled => {}
            super::aspace::Fault::OutOfMemory => return Err(Errno::ENOMEM),
            _ => return Err(Errno::EFAULT),
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// Plain-old-data types that may be copied to and from user memory byte for byte.
///
/// # Safety
/// Every bit pattern must be a valid value and the type must have no padding that
/// could leak kernel memory.
pub unsafe trait Pod: Copy {}
// SAFETY: integers and arrays of them have no invalid bit patterns or padding.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for i32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: as above.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Declares `#[repr(C)]` structs made only of `Pod` fields without padding as `Pod`.
#[macro_export]
macro_rules! impl_pod {
    ($($t:ty),*) => {$(
        // SAFETY: the struct is #[repr(C)], made of Pod fields, laid out without padding.
        unsafe impl $crate::mm::user::Pod for $t {}
    )*};
}

pub fn read_user<T: Pod>(addr: u64) -> Result<T, Errno> {
    let mut v = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: the bytes of a zeroed T, which is Pod, are valid to overwrite.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, core::mem::size_of::<T>())
    };
    copy_from_user(addr, bytes)?;
    // SAFETY: T is Pod, so any bytes form a valid value.
    Ok(unsafe { v.assume_init() })
}

pub fn write_user<T: Pod>(addr: u64, val: &T) -> Result<(), Errno> {
    // SAFETY: T is Pod: its bytes are plain data without padding.
    let bytes = unsafe {
        core::slice::from_raw_parts(val as *const T as *const u8, core::mem::size_of::<T>())
    };
    copy_to_user(addr, bytes)
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
pub fn read_user_cstr(addr: u64, max: usize) -> Result<String, Errno> {
    let bytes = read_user_cstr_bytes(addr, max)?;
    String::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

/// Bytes [`read_user_cstr_in`] copies onto the caller's stack before it falls back to
/// the heap: nearly every path is shorter.
pub const CSTR_INLINE: usize = 128;

/// As [`read_user_cstr`], for strings that usually fit `buf`: one that ends within the
/// first copy (at most [`CSTR_INLINE`] bytes, never across a page end) is borrowed from
/// `buf` without a heap allocation; a longer one is read again onto the heap.
pub fn read_user_cstr_in(
    addr: u64,
    max: usize,
    buf: &mut [u8; CSTR_INLINE],
) -> Result<Cow<'_, str>, Errno> {
    let n = ((PAGE_SIZE - (addr & (PAGE_SIZE - 1))) as usize).min(buf.len());
    // A first copy of 32 bytes holds most paths whole; the rest only when it does not.
    let first = n.min(32);
    copy_from_user(addr, &mut buf[..first])?;
    let nul = match super::nul::first_nul(&buf[..first]) {
        None if first < n => {
            copy_from_user(addr + first as u64, &mut buf[first..n])?;
            super::nul::first_nul(&buf[first..n]).map(|z| z + first)
        }
        z => z,
    };
    match nul {
        // Nearly every path is ASCII: one word-at-a-time test instead of `from_utf8`'s
        // byte loop (about 150 instructions for a short path).
        Some(z) if z <= max && buf[..z].is_ascii() => {
            // SAFETY: every byte of `buf[..z]` is ASCII, which is valid UTF-8.
            Ok(Cow::Borrowed(unsafe {
                core::str::from_utf8_unchecked(&buf[..z])
            }))
        }
        Some(z) if z <= max => core::str::from_utf8(&buf[..z])
            .map(Cow::Borrowed)
            .map_err(|_| Errno::EINVAL),
        Some(_) => Err(Errno::ENAMETOOLONG),
        None => read_user_cstr(addr, max).map(Cow::Owned),
    }
}

/// As [`read_user_cstr`], returning raw bytes. `ENAMETOOLONG` when no NUL within `max`.
/// Copies 256 bytes at a time (never across a page end): a path costs about its own length.
pub fn read_user_cstr_bytes(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = addr;
    let mut chunk = [0u8; 256];
    loop {
        // Never past the end of the page holding `at`: a string may end just before an
        // unmapped page.
        let n = ((PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize).min(chunk.len());
        copy_from_user(at, &mut chunk[..n])?;
        let (part, done) = match chunk[..n].iter().position(|&b| b == 0) {
            Some(z) => (&chunk[..z], true),
            None => (&chunk[..n], false),
        };
        if out.len() + part.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        out.try_reserve(part.len()).map_err(|_| Errno::ENOMEM)?;
        out.extend_from_slice(part);
        if done {
            return Ok(out);
        }
        at = at.checked_add(n as u64).ok_or(Errno::EFAULT)?;
    }
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
pub fn read_user_strv(addr: u64, max_total: usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    let mut total = 0;
    for i in 0.. {
        let p: u64 = read_user(addr + i * 8)?;
        if p == 0 {
            break;
        }
        let s = read_user_cstr_bytes(p, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 1 + 8;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        v.push(s);
    }
    Ok(v)
}

/// Writes `bytes` at physical address `pa` (all within one page), e.g. into another
/// address space after [`AddressSpace::user_phys`](super::aspace::AddressSpace::user_phys).
pub fn write_phys(pa: u64, bytes: &[u8]) {
    assert!(
        page_down(pa) == page_down(pa + bytes.len() as u64 - 1),
        "write_phys stays within one page"
    );
    // SAFETY: `pa` was obtained from a user mapping checked writable; direct-mapped.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), phys_to_virt(pa) as *mut u8, bytes.len())
    }
}
