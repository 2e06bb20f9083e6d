//! `openat2` (437): `openat` with a `struct open_how` and `RESOLVE_*` restrictions on
//! the path walk (`crate::fs::walk`), checked as Linux's `build_open_how` and
//! `build_open_flags` do.

use super::fs::{open_restricted, user_path};
use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::fs::file::{O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE};
use crate::fs::walk::{
    RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
    RESOLVE_NO_XDEV,
};
use crate::mm::user::copy_from_user;

/// `sizeof(struct open_how)` in its first version (flags, mode, resolve).
const OPEN_HOW_SIZE_VER0: u64 = 24;
/// Every `O_*` flag Linux's `VALID_OPEN_FLAGS` holds (`openat2` refuses others).
const VALID_OPEN_FLAGS: u64 = 0o3 | 0o37777700;
const VALID_RESOLVE: u64 = RESOLVE_NO_XDEV
    | RESOLVE_NO_MAGICLINKS
    | RESOLVE_NO_SYMLINKS
    | RESOLVE_BENEATH
    | RESOLVE_IN_ROOT
    | RESOLVE_CACHED;
/// `S_IALLUGO`.
const MODE_BITS: u64 = 0o7777;
/// Largest `open_how` accepted (Linux: a page).
const MAX_SIZE: u64 = 4096;

syscalls! {
    frame, a;
    437 => openat2(a[0] as u32 as i32, a[1], a[2], a[3]),
}

/// `struct open_how`, read as Linux's `copy_struct_from_user`: shorter than the first
/// version is `EINVAL`, longer than known needs zeros past the known fields (`E2BIG`).
fn read_open_how(addr: u64, size: u64) -> Result<[u64; 3], Errno> {
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > MAX_SIZE {
        return Err(Errno::E2BIG);
    }
    let mut raw = [0u8; MAX_SIZE as usize];
    let raw = &mut raw[..size as usize];
    copy_from_user(addr, raw)?;
    if raw[OPEN_HOW_SIZE_VER0 as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(w)
    };
    Ok([word(0), word(1), word(2)])
}

/// The open flags, mode and restrictions of an `open_how`, checked.
fn check_open_how(flags: u64, mode: u64, resolve: u64) -> Result<(u32, u32, u64), Errno> {
    if flags & !VALID_OPEN_FLAGS != 0 || resolve & !VALID_RESOLVE != 0 {
        return Err(Errno::EINVAL);
    }
    let creates = flags as u32 & O_CREAT != 0 || flags as u32 & O_TMPFILE == O_TMPFILE;
    if mode & !MODE_BITS != 0 || (!creates && mode != 0) {
        return Err(Errno::EINVAL);
    }
    let path_only = (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) as u64;
    if flags & O_PATH as u64 != 0 && flags & !path_only != 0 {
        return Err(Errno::EINVAL);
    }
    if resolve & RESOLVE_BENEATH != 0 && resolve & RESOLVE_IN_ROOT != 0 {
        return Err(Errno::EINVAL);
    }
    if resolve & RESOLVE_CACHED != 0 {
        // No lookup here is served from a cache alone: Linux's answer when it is not.
        return Err(Errno::EAGAIN);
    }
    Ok((flags as u32, mode as u32, resolve))
}

fn openat2(dirfd: i32, pathname: u64, how: u64, size: u64) -> SysResult {
    let [flags, mode, resolve] = read_open_how(how, size)?;
    let (flags, mode, resolve) = check_open_how(flags, mode, resolve)?;
    let p = user_path(pathname)?;
    open_restricted(dirfd, &p, flags, mode, resolve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_how_checks_follow_linux() {
        assert_eq!(check_open_how(0, 0, 0), Ok((0, 0, 0)));
        assert_eq!(
            check_open_how(0, 0o644, 0),
            Err(Errno::EINVAL),
            "mode without O_CREAT"
        );
        assert_eq!(check_open_how(0o100, 0o10000, 0).err(), Some(Errno::EINVAL));
        assert_eq!(check_open_how(1 << 40, 0, 0).err(), Some(Errno::EINVAL));
        assert_eq!(check_open_how(0o40000000, 0, 0).err(), Some(Errno::EINVAL));
        assert_eq!(check_open_how(0, 0, 0x40).err(), Some(Errno::EINVAL));
        assert_eq!(check_open_how(0, 0, 0x18).err(), Some(Errno::EINVAL));
        assert_eq!(
            check_open_how(0, 0, RESOLVE_CACHED).err(),
            Some(Errno::EAGAIN)
        );
        assert_eq!(check_open_how(0o100, 0o600, 0x0f), Ok((0o100, 0o600, 0x0f)));
        assert_eq!(
            check_open_how(0o10000002, 0, 0).err(),
            Some(Errno::EINVAL),
            "O_PATH|O_RDWR"
        );
        assert!(
            check_open_how(0o12200000, 0, 0).is_ok(),
            "O_PATH|O_DIRECTORY|O_CLOEXEC"
        );
    }
}
