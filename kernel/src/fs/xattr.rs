//! Extended attributes kept in memory for tmpfs/ramfs inodes: a name-to-value map with
//! Linux's `XATTR_CREATE`/`XATTR_REPLACE` rules and limits. Pure logic, host-tested; the
//! namespace and permission checks are the system calls' (`syscall/xattr.rs`).

use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

pub const XATTR_CREATE: u32 = 1;
pub const XATTR_REPLACE: u32 = 2;
/// Longest name (`XATTR_NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Largest value (`XATTR_SIZE_MAX`).
pub const SIZE_MAX: usize = 65536;
/// Bytes of names and values one inode may hold (`ENOSPC` past it): Linux's tmpfs bounds
/// user attributes by the inode's space too.
pub const INODE_MAX: usize = 256 * 1024;

#[derive(Default)]
pub struct Xattrs {
    map: BTreeMap<String, Vec<u8>>,
    bytes: usize,
}

impl Xattrs {
    pub const fn new() -> Self {
        Xattrs {
            map: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn get(&self, name: &str) -> Result<&[u8], Errno> {
        self.map
            .get(name)
            .map(|v| v.as_slice())
            .ok_or(Errno::ENODATA)
    }

    /// Sets `name` to `value`: `EEXIST` with `XATTR_CREATE` when it exists, `ENODATA`
    /// with `XATTR_REPLACE` when it does not.
    pub fn set(&mut self, name: &str, value: &[u8], flags: u32) -> Result<(), Errno> {
        let old = self.map.get(name).map(|v| v.len());
        match old {
            Some(_) if flags & XATTR_CREATE != 0 => return Err(Errno::EEXIST),
            None if flags & XATTR_REPLACE != 0 => return Err(Errno::ENODATA),
            _ => {}
        }
        let freed = old.map_or(0, |n| n + name.len());
        let bytes = self.bytes - freed + name.len() + value.len();
        if bytes > INODE_MAX {
            return Err(Errno::ENOSPC);
        }
        let mut v = Vec::new();
        v.try_reserve_exact(value.len())
            .map_err(|_| Errno::ENOMEM)?;
        v.extend_from_slice(value);
        match self.map.get_mut(name) {
            Some(slot) => *slot = v,
            None => {
                let mut n = String::new();
                n.try_reserve_exact(name.len()).map_err(|_| Errno::ENOMEM)?;
                n.push_str(name);
                self.map.insert(n, v);
            }
        }
        self.bytes = bytes;
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<(), Errno> {
        let v = self.map.remove(name).ok_or(Errno::ENODATA)?;
        self.bytes -= name.len() + v.len();
        Ok(())
    }

    /// The names `keep` admits, each followed by a NUL (`listxattr`'s buffer).
    pub fn list(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        for name in self.map.keys().filter(|n| keep(n)) {
            out.try_reserve(name.len() + 1).map_err(|_| Errno::ENOMEM)?;
            out.extend_from_slice(name.as_bytes());
            out.push(0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_and_replace_follow_linux() {
        let mut x = Xattrs::new();
        assert_eq!(x.get("user.a"), Err(Errno::ENODATA));
        assert_eq!(x.set("user.a", b"1", XATTR_REPLACE), Err(Errno::ENODATA));
        assert_eq!(x.set("user.a", b"1", XATTR_CREATE), Ok(()));
        assert_eq!(x.set("user.a", b"2", XATTR_CREATE), Err(Errno::EEXIST));
        assert_eq!(x.set("user.a", b"22", XATTR_REPLACE), Ok(()));
        assert_eq!(x.get("user.a"), Ok(&b"22"[..]));
        assert_eq!(x.set("user.b", b"", 0), Ok(()));
        assert_eq!(x.list(|_| true), Ok(b"user.a\0user.b\0".to_vec()));
        assert_eq!(x.list(|n| n != "user.a"), Ok(b"user.b\0".to_vec()));
        assert_eq!(x.remove("user.a"), Ok(()));
        assert_eq!(x.remove("user.a"), Err(Errno::ENODATA));
        assert_eq!(x.bytes, "user.b".len());
    }

    #[test]
    fn an_inode_holds_a_bounded_number_of_bytes() {
        let mut x = Xattrs::new();
        let big = alloc::vec![7u8; SIZE_MAX];
        for i in 0..3 {
            assert_eq!(x.set(&alloc::format!("user.{i}"), &big, 0), Ok(()));
        }
        assert_eq!(x.set("user.3", &big, 0), Err(Errno::ENOSPC));
        assert_eq!(
            x.set("user.0", &big[..10], 0),
            Ok(()),
            "a smaller value fits"
        );
        assert_eq!(x.set("user.3", &big, 0), Ok(()));
    }
}
