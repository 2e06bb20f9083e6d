//! memfd (memfd_create(2)): an anonymous tmpfs file, and its seals (`F_ADD_SEALS`,
//! `F_GET_SEALS`): `F_SEAL_SHRINK`/`F_SEAL_GROW` refuse size changes, `F_SEAL_WRITE` and
//! `F_SEAL_FUTURE_WRITE` writes and new shared writable mappings, `F_SEAL_SEAL` more
//! seals (`EPERM`). A memfd made without `MFD_ALLOW_SEALING` starts sealed with
//! `F_SEAL_SEAL`.

use super::file::{FileOps, InodeFile, O_RDWR, OpenFile};
use super::vfs::{FileSystem, InodeRef, S_IFREG};
use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use spin::{Mutex, Once};

pub const F_SEAL_SEAL: u32 = 1;
pub const F_SEAL_SHRINK: u32 = 2;
pub const F_SEAL_GROW: u32 = 4;
pub const F_SEAL_WRITE: u32 = 8;
pub const F_SEAL_FUTURE_WRITE: u32 = 0x10;
const ALL_SEALS: u32 = 0x1f;
pub const MFD_CLOEXEC: u32 = 1;
pub const MFD_ALLOW_SEALING: u32 = 2;
/// Longest name (`NAME_MAX` minus the `memfd:` prefix).
pub const NAME_MAX: usize = 249;

pub struct MemFd {
    inner: Arc<InodeFile>,
    inode: InodeRef,
    seals: AtomicU32,
}

/// Open memfds by the address of their file object (to find one from an fd).
static MEMFDS: Mutex<BTreeMap<usize, Weak<MemFd>>> = Mutex::new(BTreeMap::new());

impl Drop for MemFd {
    fn drop(&mut self) {
        MEMFDS.lock().remove(&(self as *const MemFd as usize));
    }
}

/// The tmpfs instance memfds live in, unlinked (made on first use with a limit of
/// `pages`, as a tmpfs's default half of RAM).
fn instance(pages: u64) -> &'static Arc<super::ramfs::RamFs> {
    static FS: Once<Arc<super::ramfs::RamFs>> = Once::new();
    FS.call_once(|| super::ramfs::RamFs::tmpfs(None, pages))
}

/// A new memfd named `name` owned by `uid`/`gid`; `flags` as memfd_create's; `pages`
/// bounds all memfds together (see [`instance`]).
pub fn create(
    name: &str,
    flags: u32,
    uid: u32,
    gid: u32,
    pages: u64,
) -> Result<Arc<OpenFile>, Errno> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING) != 0 || name.len() > NAME_MAX {
        return Err(Errno::EINVAL);
    }
    let root = instance(pages).root();
    let tmp = format!("{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let inode = root.create(&tmp, S_IFREG | 0o777, uid, gid, 0)?;
    root.unlink(&tmp)?;
    let m = Arc::new(MemFd {
        inner: InodeFile::new(inode.clone()),
        inode: inode.clone(),
        seals: AtomicU32::new(if flags & MFD_ALLOW_SEALING != 0 {
            0
        } else {
            F_SEAL_SEAL
        }),
    });
    MEMFDS
        .lock()
        .insert(Arc::as_ptr(&m) as usize, Arc::downgrade(&m));
    Ok(OpenFile::new(
        m,
        Some(inode),
        format!("/memfd:{name} (deleted)"),
        O_RDWR | super::file::O_LARGEFILE,
    ))
}

fn of(file: &OpenFile) -> Option<Arc<MemFd>> {
    let key = Arc::as_ptr(file.ops()) as *const () as usize;
    MEMFDS.lock().get(&key).and_then(Weak::upgrade)
}

/// `F_GET_SEALS` (`EINVAL` for other files).
pub fn get_seals(file: &OpenFile) -> Result<u32, Errno> {
    Ok(of(file).ok_or(Errno::EINVAL)?.seals.load(Ordering::Relaxed))
}

/// `F_ADD_SEALS`: `EPERM` once `F_SEAL_SEAL` is set or for a file not open for writing.
pub fn add_seals(file: &OpenFile, seals: u32) -> Result<(), Errno> {
    let m = of(file).ok_or(Errno::EINVAL)?;
    if seals & !ALL_SEALS != 0 {
        return Err(Errno::EINVAL);
    }
    if !file.writable() {
        return Err(Errno::EPERM);
    }
    m.seals
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
            (s & F_SEAL_SEAL == 0).then_some(s | seals)
        })
        .map(|_| ())
        .map_err(|_| Errno::EPERM)
}

/// Whether a new shared writable mapping of `file` is refused (`EPERM`).
pub fn write_sealed(file: &OpenFile) -> bool {
    of(file).is_some_and(|m| {
        m.seals.load(Ordering::Relaxed) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0
    })
}

impl MemFd {
    fn size(&self) -> u64 {
        self.inode.metadata().size
    }

    /// A write of `len` bytes at `at` (None: the file position) is allowed.
    fn may_write(&self, at: u64, len: usize) -> Result<(), Errno> {
        let s = self.seals.load(Ordering::Relaxed);
        if s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(Errno::EPERM);
        }
        if s & F_SEAL_GROW != 0 && at.saturating_add(len as u64) > self.size() {
            return Err(Errno::EPERM);
        }
        Ok(())
    }
}

impl FileOps for MemFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.inner.read(file, buf)
    }
    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let at = if file.flags() & super::file::O_APPEND != 0 {
            self.size()
        } else {
            *file.pos().lock()
        };
        self.may_write(at, buf.len())?;
        self.inner.write(file, buf)
    }
    fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.inner.pread(offset, buf)
    }
    fn pwrite(&self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        self.may_write(offset, buf.len())?;
        self.inner.pwrite(offset, buf)
    }
    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        self.inner.seek(file, offset, whence)
    }
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        let s = self.seals.load(Ordering::Relaxed);
        let cur = self.size();
        if (s & F_SEAL_SHRINK != 0 && size < cur) || (s & F_SEAL_GROW != 0 && size > cur) {
            return Err(Errno::EPERM);
        }
        self.inner.truncate(size)
    }
    fn poll(&self) -> u16 {
        self.inner.poll()
    }
}
