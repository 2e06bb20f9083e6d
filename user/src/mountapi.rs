//! Wrappers for the new mount API (`open_tree`, `move_mount`, `fsopen`, `fsconfig`,
//! `fsmount`, `mount_setattr`), which have no libc wrappers: Linux's numbers and constants.

use crate::sys::{self, SysResult};
use alloc::ffi::CString;

pub const NR_OPEN_TREE: usize = 428;
pub const NR_MOVE_MOUNT: usize = 429;
pub const NR_FSOPEN: usize = 430;
pub const NR_FSCONFIG: usize = 431;
pub const NR_FSMOUNT: usize = 432;
pub const NR_FSPICK: usize = 433;
pub const NR_MOUNT_SETATTR: usize = 442;

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: usize = 0x100;
pub const AT_EMPTY_PATH: usize = 0x1000;
pub const AT_RECURSIVE: usize = 0x8000;
pub const OPEN_TREE_CLONE: usize = 1;
pub const OPEN_TREE_CLOEXEC: usize = 0o2000000;
pub const MOVE_MOUNT_F_EMPTY_PATH: usize = 4;
pub const MOVE_MOUNT_SET_GROUP: usize = 0x100;
pub const FSOPEN_CLOEXEC: usize = 1;
pub const FSMOUNT_CLOEXEC: usize = 1;
pub const FSPICK_CLOEXEC: usize = 1;
pub const FSPICK_EMPTY_PATH: usize = 8;
pub const FSCONFIG_SET_FLAG: usize = 0;
pub const FSCONFIG_SET_STRING: usize = 1;
pub const FSCONFIG_CMD_CREATE: usize = 6;
pub const FSCONFIG_CMD_RECONFIGURE: usize = 7;
pub const MOUNT_ATTR_RDONLY: u64 = 1;
pub const MOUNT_ATTR_NOSUID: u64 = 2;
pub const MOUNT_ATTR_NODEV: u64 = 4;
pub const MOUNT_ATTR_NOEXEC: u64 = 8;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;
pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_SLAVE: u64 = 1 << 19;
pub const MS_SHARED: u64 = 1 << 20;

fn cpath(p: &str) -> CString {
    CString::new(p).expect("path has a NUL")
}

pub fn open_tree(dfd: i32, path: &str, flags: usize) -> SysResult<i32> {
    let c = cpath(path);
    // SAFETY: a NUL-terminated path.
    sys::check(unsafe {
        sys::syscall3(
            NR_OPEN_TREE,
            dfd as isize as usize,
            c.as_ptr() as usize,
            flags,
        )
    })
    .map(|fd| fd as i32)
}

pub fn move_mount(from_fd: i32, from: &str, to_fd: i32, to: &str, flags: usize) -> SysResult {
    let (f, t) = (cpath(from), cpath(to));
    // SAFETY: NUL-terminated paths.
    sys::check(unsafe {
        sys::syscall5(
            NR_MOVE_MOUNT,
            from_fd as isize as usize,
            f.as_ptr() as usize,
            to_fd as isize as usize,
            t.as_ptr() as usize,
            flags,
        )
    })
}

/// Attaches the detached tree of `fd` at `to`.
pub fn attach_tree(fd: i32, to: &str) -> SysResult {
    move_mount(fd, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH)
}

pub fn fsopen(name: &str, flags: usize) -> SysResult<i32> {
    let c = cpath(name);
    // SAFETY: a NUL-terminated name.
    sys::check(unsafe { sys::syscall2(NR_FSOPEN, c.as_ptr() as usize, flags) }).map(|fd| fd as i32)
}

pub fn fsconfig_raw(fd: i32, cmd: usize, key: usize, value: usize, aux: usize) -> SysResult {
    // SAFETY: the pointers are NUL-terminated strings or NULL.
    sys::check(unsafe { sys::syscall5(NR_FSCONFIG, fd as isize as usize, cmd, key, value, aux) })
}

pub fn fsconfig_set_string(fd: i32, key: &str, value: &str) -> SysResult {
    let (k, v) = (cpath(key), cpath(value));
    fsconfig_raw(
        fd,
        FSCONFIG_SET_STRING,
        k.as_ptr() as usize,
        v.as_ptr() as usize,
        0,
    )
}

pub fn fsconfig_set_flag(fd: i32, key: &str) -> SysResult {
    let k = cpath(key);
    fsconfig_raw(fd, FSCONFIG_SET_FLAG, k.as_ptr() as usize, 0, 0)
}

pub fn fsconfig_create(fd: i32) -> SysResult {
    fsconfig_raw(fd, FSCONFIG_CMD_CREATE, 0, 0, 0)
}

pub fn fspick(dfd: i32, path: &str, flags: usize) -> SysResult<i32> {
    let c = cpath(path);
    // SAFETY: a NUL-terminated path.
    sys::check(unsafe {
        sys::syscall3(NR_FSPICK, dfd as isize as usize, c.as_ptr() as usize, flags)
    })
    .map(|fd| fd as i32)
}

pub fn fsmount(fd: i32, flags: usize, attr: usize) -> SysResult<i32> {
    // SAFETY: no pointers.
    sys::check(unsafe { sys::syscall3(NR_FSMOUNT, fd as isize as usize, flags, attr) })
        .map(|fd| fd as i32)
}

/// `mount_setattr` with a `struct mount_attr` of `size` bytes (zero past the first 32
/// unless `tail` is set, which is byte 40). `size` is at most 64, or past a page (which
/// the kernel refuses with `E2BIG` before reading anything).
pub fn mount_setattr_sized(
    dfd: i32,
    path: &str,
    flags: usize,
    attr: [u64; 4],
    size: usize,
    tail: u8,
) -> SysResult {
    let c = cpath(path);
    let mut buf = [0u8; 64];
    assert!(size <= buf.len() || size > 4096, "mount_attr size {size}");
    for (i, w) in attr.iter().enumerate() {
        buf[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    buf[40] = tail;
    // SAFETY: a NUL-terminated path; `buf` holds `size` bytes when size <= 64, and
    // larger sizes are refused before anything is read.
    sys::check(unsafe {
        sys::syscall5(
            NR_MOUNT_SETATTR,
            dfd as isize as usize,
            c.as_ptr() as usize,
            flags,
            buf.as_ptr() as usize,
            size,
        )
    })
}

/// `mount_setattr(AT_FDCWD, path, flags, {set, clr, prop}, 32)`.
pub fn mount_setattr(path: &str, flags: usize, set: u64, clr: u64, prop: u64) -> SysResult {
    mount_setattr_sized(AT_FDCWD, path, flags, [set, clr, prop, 0], 32, 0)
}
