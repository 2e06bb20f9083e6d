//! Extended attributes (188..199): `setxattr`, `getxattr`, `listxattr`, `removexattr`
//! and their `l` (no final symlink) and `f` (fd) forms. The `user.` and `trusted.`
//! namespaces live on tmpfs/ramfs inodes (`crate::fs::xattr`); other file systems and
//! other namespaces give `EOPNOTSUPP`. Permissions as Linux's `xattr_permission`.

use super::fs::{files, read_user_path, resolve_at, writable_path};
use super::table::{fd, syscalls};
use crate::cred::{CAP_FOWNER, CAP_SYS_ADMIN};
use crate::errno::{Errno, SysResult};
use crate::fs::env;
use crate::fs::vfs::{FileType, InodeRef, MAY_READ, MAY_WRITE, permits};
use crate::fs::xattr::{NAME_MAX, SIZE_MAX, XATTR_CREATE, XATTR_REPLACE, Xattrs};
use crate::mm::user::{copy_from_user, copy_to_user, read_user_cstr_bytes};
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

const S_ISVTX: u32 = 0o1000;
/// Largest `listxattr` result (`XATTR_LIST_MAX`).
const LIST_MAX: usize = 65536;

syscalls! {
    frame, a;
    188 => setxattr(Target::Path(a[0], true), a[1], a[2], a[3], a[4]),
    189 => setxattr(Target::Path(a[0], false), a[1], a[2], a[3], a[4]),
    190 => setxattr(Target::Fd(fd(a[0])), a[1], a[2], a[3], a[4]),
    191 => getxattr(Target::Path(a[0], true), a[1], a[2], a[3]),
    192 => getxattr(Target::Path(a[0], false), a[1], a[2], a[3]),
    193 => getxattr(Target::Fd(fd(a[0])), a[1], a[2], a[3]),
    194 => listxattr(Target::Path(a[0], true), a[1], a[2]),
    195 => listxattr(Target::Path(a[0], false), a[1], a[2]),
    196 => listxattr(Target::Fd(fd(a[0])), a[1], a[2]),
    197 => removexattr(Target::Path(a[0], true), a[1]),
    198 => removexattr(Target::Path(a[0], false), a[1]),
    199 => removexattr(Target::Fd(fd(a[0])), a[1]),
}

/// What a call names: a path (followed or not in last position) or an fd.
enum Target {
    Path(u64, bool),
    Fd(i32),
}

impl Target {
    /// The inode and its canonical path (for the read-only mount check).
    fn resolve(&self) -> Result<(InodeRef, String), Errno> {
        match *self {
            Target::Path(addr, follow) => {
                let p = read_user_path(addr)?;
                if p.is_empty() {
                    return Err(Errno::ENOENT);
                }
                let loc = resolve_at(super::fs::AT_FDCWD, &p, follow)?;
                Ok((loc.inode, loc.path))
            }
            Target::Fd(fd) => {
                let file = files().get(fd)?;
                if file.is_path_only() {
                    return Err(Errno::EBADF);
                }
                let inode = file.inode().ok_or(Errno::EOPNOTSUPP)?.clone();
                Ok((inode, String::from(file.path())))
            }
        }
    }
}

/// An attribute name from user memory: 1..=255 bytes (`ERANGE` otherwise).
fn read_name(addr: u64) -> Result<String, Errno> {
    let bytes = match read_user_cstr_bytes(addr, NAME_MAX) {
        Err(Errno::ENAMETOOLONG) => return Err(Errno::ERANGE),
        r => r?,
    };
    let name = String::from_utf8(bytes).map_err(|_| Errno::EOPNOTSUPP)?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

/// The attributes of `inode` if `name` is in a namespace kept here (`EOPNOTSUPP`
/// otherwise, and on file systems without attributes) with something after the
/// prefix (`EINVAL`).
fn store<'a>(inode: &'a InodeRef, name: &str) -> Result<&'a Mutex<Xattrs>, Errno> {
    let rest = name
        .strip_prefix("user.")
        .or_else(|| name.strip_prefix("trusted."))
        .ok_or(Errno::EOPNOTSUPP)?;
    if rest.is_empty() {
        return Err(Errno::EINVAL);
    }
    inode.xattrs().ok_or(Errno::EOPNOTSUPP)
}

/// Linux's `xattr_permission` for `name` on `inode` (`write`: set or remove).
fn permission(inode: &InodeRef, name: &str, write: bool) -> Result<(), Errno> {
    let denied = if write { Errno::EPERM } else { Errno::ENODATA };
    let caller = env::caller();
    let meta = inode.metadata();
    if name.starts_with("trusted.") {
        return if caller.capable(CAP_SYS_ADMIN) {
            Ok(())
        } else {
            Err(denied)
        };
    }
    // user.*: regular files and directories only; a sticky directory only by its owner.
    match inode.file_type() {
        FileType::Regular => {}
        FileType::Directory => {
            if write
                && meta.mode & S_ISVTX != 0
                && !caller.owns(&meta)
                && !caller.capable_over(CAP_FOWNER, &meta)
            {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(denied),
    }
    let mask = if write { MAY_WRITE } else { MAY_READ };
    if permits(&meta, &caller, mask) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

fn setxattr(target: Target, name: u64, value: u64, size: u64, flags: u64) -> SysResult {
    if flags & !((XATTR_CREATE | XATTR_REPLACE) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = read_name(name)?;
    if size > SIZE_MAX as u64 {
        return Err(Errno::E2BIG);
    }
    let mut buf = Vec::new();
    buf.try_reserve_exact(size as usize)
        .map_err(|_| Errno::ENOMEM)?;
    buf.resize(size as usize, 0);
    copy_from_user(value, &mut buf)?;
    let (inode, path) = target.resolve()?;
    writable_path(&path)?;
    permission(&inode, &name, true)?;
    store(&inode, &name)?
        .lock()
        .set(&name, &buf, flags as u32)?;
    Ok(0)
}

fn getxattr(target: Target, name: u64, value: u64, size: u64) -> SysResult {
    let name = read_name(name)?;
    let (inode, _) = target.resolve()?;
    permission(&inode, &name, false)?;
    let v: Vec<u8> = {
        let attrs = store(&inode, &name)?.lock();
        let v = attrs.get(&name)?;
        if size == 0 {
            return Ok(v.len());
        }
        if (size.min(SIZE_MAX as u64) as usize) < v.len() {
            return Err(Errno::ERANGE);
        }
        let mut out = Vec::new();
        out.try_reserve_exact(v.len()).map_err(|_| Errno::ENOMEM)?;
        out.extend_from_slice(v);
        out
    };
    copy_to_user(value, &v)?;
    Ok(v.len())
}

fn listxattr(target: Target, list: u64, size: u64) -> SysResult {
    let (inode, _) = target.resolve()?;
    let Some(attrs) = inode.xattrs() else {
        // Linux lists nothing (no handler lists any name) rather than failing.
        return Ok(0);
    };
    let admin = env::caller().capable(CAP_SYS_ADMIN);
    let names = attrs.lock().list(|n| admin || !n.starts_with("trusted."))?;
    if size == 0 {
        return Ok(names.len());
    }
    if (size.min(LIST_MAX as u64) as usize) < names.len() {
        return Err(if names.len() > LIST_MAX {
            Errno::E2BIG
        } else {
            Errno::ERANGE
        });
    }
    copy_to_user(list, &names)?;
    Ok(names.len())
}

fn removexattr(target: Target, name: u64) -> SysResult {
    let name = read_name(name)?;
    let (inode, path) = target.resolve()?;
    writable_path(&path)?;
    permission(&inode, &name, true)?;
    store(&inode, &name)?.lock().remove(&name)?;
    Ok(0)
}
