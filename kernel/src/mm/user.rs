//! Checked access to the current process's user memory. Every user pointer the
//! kernel follows goes through here: out-of-range or unmapped addresses, and writes
//! to read-only pages, give `EFAULT` instead of a kernel fault.

use super::{PAGE_SIZE, page_down, phys_to_virt};
use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// Runs `f(kernel_ptr, len, offset)` over each page-sized chunk of `[addr, addr+len)`.
fn for_chunks(
    addr: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
    if end > super::USER_END {
        return Err(Errno::EFAULT);
    }
    let vm = crate::task::current_vm();
    let mut vm = vm.lock();
    let mut done = 0usize;
    while done < len {
        let at = addr + done as u64;
        let n = ((page_down(at) + PAGE_SIZE - at) as usize).min(len - done);
        let pa = vm.user_phys(at, write)?;
        f(phys_to_virt(pa) as *mut u8, n, done);
        done += n;
    }
    Ok(())
}

pub fn copy_from_user(addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    let dst = buf.as_mut_ptr();
    for_chunks(addr, buf.len(), false, |p, n, off| {
        // SAFETY: `p..p+n` is a mapped user page reached through the direct map;
        // `off+n <= buf.len()` by construction of the chunks.
        unsafe { core::ptr::copy_nonoverlapping(p, dst.add(off), n) }
    })
}

pub fn copy_to_user(addr: u64, buf: &[u8]) -> Result<(), Errno> {
    let src = buf.as_ptr();
    for_chunks(addr, buf.len(), true, |p, n, off| {
        // SAFETY: as in `copy_from_user`, and the page is writable by the process.
        unsafe { core::ptr::copy_nonoverlapping(src.add(off), p, n) }
    })
}

/// Zero-fills user memory.
pub fn clear_user(addr: u64, len: usize) -> Result<(), Errno> {
    for_chunks(addr, len, true, |p, n, _| {
        // SAFETY: a writable mapped user chunk, see `copy_to_user`.
        unsafe { core::ptr::write_bytes(p, 0, n) }
    })
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

/// As [`read_user_cstr`], returning raw bytes. `ENAMETOOLONG` when no NUL within `max`.
/// Scans each user page in place (through the direct map) for the NUL: a path costs its
/// own length, not a page.
pub fn read_user_cstr_bytes(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let vm = crate::task::current_vm();
    let mut vm = vm.lock();
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        let pa = vm.user_phys(at, false)?;
        let n = (PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize;
        // SAFETY: `pa..pa+n` lies in one mapped, readable user page (user_phys checked
        // it), reached through the direct map; the address space stays locked meanwhile.
        let chunk = unsafe { core::slice::from_raw_parts(phys_to_virt(pa) as *const u8, n) };
        let (part, done) = match chunk.iter().position(|&b| b == 0) {
            Some(z) => (&chunk[..z], true),
            None => (chunk, false),
        };
        if out.len() + part.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
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
