//! A mount table's list of mounts behind its lock, with a summary of the mount points'
//! lengths: a path walk asks "is anything mounted here?" at every component, and the
//! summary answers "no" for nearly all of them without the lock or a scan.

use super::Mount;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU64, Ordering};
use spin::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The mounts, in mount order.
pub struct MountList {
    list: RwLock<Vec<Arc<Mount>>>,
    /// Bit `n` (below 63): some mount point is `n` bytes long; bit 63: one is 63 bytes
    /// or longer. Rewritten under the write lock whenever the list changes.
    lens: AtomicU64,
}

fn len_bit(len: usize) -> u64 {
    1 << len.min(63)
}

fn summary(list: &[Arc<Mount>]) -> u64 {
    list.iter().fold(0, |bits, m| bits | len_bit(m.path.len()))
}

impl MountList {
    pub fn new(list: Vec<Arc<Mount>>) -> MountList {
        let lens = AtomicU64::new(summary(&list));
        MountList {
            list: RwLock::new(list),
            lens,
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Vec<Arc<Mount>>> {
        self.list.read()
    }

    /// The list to change; the summary is brought up to date when the guard goes.
    pub fn write(&self) -> ListWriteGuard<'_> {
        ListWriteGuard {
            list: self.list.write(),
            lens: &self.lens,
        }
    }

    /// False when no mount point is `len` bytes long (a mount being added concurrently
    /// counts from when its writer lets go of the list).
    #[inline]
    pub fn may_hold(&self, len: usize) -> bool {
        self.lens.load(Ordering::Acquire) & len_bit(len) != 0
    }
}

pub struct ListWriteGuard<'a> {
    list: RwLockWriteGuard<'a, Vec<Arc<Mount>>>,
    lens: &'a AtomicU64,
}

impl Deref for ListWriteGuard<'_> {
    type Target = Vec<Arc<Mount>>;
    fn deref(&self) -> &Vec<Arc<Mount>> {
        &self.list
    }
}

impl DerefMut for ListWriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Vec<Arc<Mount>> {
        &mut self.list
    }
}

impl Drop for ListWriteGuard<'_> {
    fn drop(&mut self) {
        // Still under the write lock (the guard field is dropped after this).
        self.lens.store(summary(&self.list), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_bucket_long_paths_together() {
        assert_eq!(len_bit(0), 1);
        assert_eq!(len_bit(5), 32);
        assert_eq!(len_bit(63), 1 << 63);
        assert_eq!(len_bit(4000), 1 << 63);
    }
}
