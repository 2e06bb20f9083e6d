//! Open file descriptions: `OpenFile` (what an fd points to: offset, status flags, the
//! inode and path it was opened by) over a `FileOps` object (an inode's generic file, a
//! pipe end, a device). Dropping the last `Arc<OpenFile>` is the close.

use super::vfs::{DirEntry, FileType, InodeRef, Metadata};
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

pub const O_ACCMODE: u32 = 0o3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
pub const O_ASYNC: u32 = 0o20000;
pub const O_DIRECT: u32 = 0o40000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;
pub const O_TMPFILE: u32 = 0o20200000;

/// Status flags `fcntl(F_SETFL)` may change.
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;

pub const POLLIN: u16 = 0x1;
pub const POLLPRI: u16 = 0x2;
pub const POLLOUT: u16 = 0x4;
pub const POLLERR: u16 = 0x8;
pub const POLLHUP: u16 = 0x10;
pub const POLLNVAL: u16 = 0x20;
pub const POLLRDNORM: u16 = 0x40;
pub const POLLRDBAND: u16 = 0x80;
pub const POLLWRNORM: u16 = 0x100;
pub const POLLWRBAND: u16 = 0x200;
pub const POLLRDHUP: u16 = 0x2000;

/// The operations of one kind of open file. `file` gives access to the offset and flags.
pub trait FileOps: Send + Sync {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno>;
    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno>;
    fn pread(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::ESPIPE)
    }
    /// `read(2)` straight into user memory at `addr` (TCP sockets copy from their
    /// receive ring); `None`: the caller reads through a kernel buffer with `read`.
    fn read_user(&self, _file: &OpenFile, _addr: u64, _len: usize) -> Option<Result<usize, Errno>> {
        None
    }
    /// `write(2)` straight from user memory; `None` as for [`FileOps::read_user`].
    fn write_user(
        &self,
        _file: &OpenFile,
        _addr: u64,
        _len: usize,
    ) -> Option<Result<usize, Errno>> {
        None
    }
    fn pwrite(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ESPIPE)
    }
    /// Repositions the offset; returns the new one.
    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }
    /// Metadata of files that have no inode in any mounted file system (pipes).
    fn stat(&self) -> Result<Metadata, Errno> {
        Err(Errno::EINVAL)
    }
    /// The entries of a directory from entry `index` on, `.` and `..` included.
    fn readdir(&self, _index: usize) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// `ioctl(2)`; `arg` is the raw user argument.
    fn ioctl(&self, _file: &OpenFile, _cmd: u32, _arg: u64) -> Result<usize, Errno> {
        Err(Errno::ENOTTY)
    }
    /// Readiness now (`POLLIN`, `POLLOUT`, `POLLHUP`, ...).
    fn poll(&self) -> u16 {
        POLLIN | POLLOUT
    }
    /// The channel the object passes to `env::wakeup` whenever its readiness may change:
    /// poll, select and epoll wait on it (`fs::pollwait`). `None`: a waiter re-checks
    /// the object every 20 ms instead.
    fn wait_chan(&self) -> Option<usize> {
        None
    }
    /// A monotonic time at which readiness changes without a wakeup (a timer expiring).
    fn ready_at(&self) -> Option<u64> {
        None
    }
    /// The socket behind a socket file (`ENOTSOCK` for the others).
    fn socket(&self) -> Option<Arc<dyn crate::net::Socket>> {
        None
    }
    /// Copies what a read would give without consuming it (`tee`); `EINVAL` for objects
    /// that are not pipes.
    fn peek(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// `O_ASYNC` was set on `file`: the object signals its owner from now on (objects
    /// without signal-driven I/O ignore it, as Linux's without `fasync`).
    fn fasync(&self, _file: &Arc<OpenFile>) -> Result<(), Errno> {
        Ok(())
    }
    /// Opening `/proc/[pid]/fd/N` of an object with no inode (Linux's magic link): new
    /// file operations on the same object for `open(2)` flags `flags`; `None` where the
    /// object cannot be opened again (`ENXIO`).
    fn reopen(&self, _flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        None
    }
    /// The object's own lines of `/proc/[pid]/fdinfo/N` (after `ino:`).
    fn fdinfo(&self) -> String {
        String::new()
    }
}

pub struct OpenFile {
    ops: Arc<dyn FileOps>,
    inode: Option<InodeRef>,
    /// (A `Box<str>`: an empty one, an nsfs file's, frees nothing and calls nothing.)
    path: Box<str>,
    flags: AtomicU32,
    pos: Mutex<u64>,
    fown: Mutex<super::fasync::Fown>,
    /// Its heap cost, charged to the group of the process that first installs it in a
    /// descriptor table ([`OpenFile::charge`]).
    /// (A lock, not a `Once`: its first, charging, call is the common one, and a
    /// `Once`'s is its slow path.)
    charge: Mutex<Option<Charge>>,
}

/// Open file descriptions (`/proc/sys/fs/file-nr`).
static OPEN_FILES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Open file descriptions in the machine.
pub fn open_files() -> u64 {
    OPEN_FILES.load(Ordering::Relaxed)
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        OPEN_FILES.fetch_sub(1, Ordering::Relaxed);
        // The description's OFD and flock locks end with it.
        super::lock::release(super::lock::ofd_of(self), Some(super::lock::key_of(self)));
        super::inotify::file_closed(self);
    }
}

impl OpenFile {
    pub fn new(
        ops: Arc<dyn FileOps>,
        inode: Option<InodeRef>,
        path: String,
        flags: u32,
    ) -> Arc<OpenFile> {
        let flags = flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
        OPEN_FILES.fetch_add(1, Ordering::Relaxed);
        Arc::new(OpenFile {
            ops,
            inode,
            path: path.into_boxed_str(),
            flags: AtomicU32::new(flags),
            pos: Mutex::new(0),
            fown: Mutex::new(super::fasync::Fown::default()),
            charge: Mutex::new(None),
        })
    }

    /// Charges this description to the caller's plimits group unless it is charged
    /// already: the `OpenFile`, its path, and an operations object (an inode file, a
    /// pipe end) or inode (an nsfs one) only it holds. `ENOMEM` over the group's limit.
    pub fn charge(&self) -> Result<(), Errno> {
        let mut charge = self.charge.lock();
        if charge.is_none() {
            *charge = Some(Charge::new(self.heap_cost())?);
        }
        Ok(())
    }

    fn heap_cost(&self) -> u64 {
        // An inode that is its own operations object (nsfs) is held twice by this
        // description and counted once.
        let (ops, inode) = match &self.inode {
            Some(i) if core::ptr::addr_eq(Arc::as_ptr(i), Arc::as_ptr(&self.ops)) => {
                (0, arc_cost_if_held_by(i, 2))
            }
            Some(i) => (arc_cost_if_held_by(&self.ops, 1), arc_cost_if_held_by(i, 1)),
            None => (arc_cost_if_held_by(&self.ops, 1), 0),
        };
        const OPEN_FILE: u64 = kmem::arc_cost::<OpenFile>();
        OPEN_FILE + kmem::array_cost::<u8>(self.path.len()) + ops + inode
    }

    /// Access mode and status flags (what `fcntl(F_GETFL)` returns).
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// `fcntl(F_SETFL)`: only the status flags in `SETFL_MASK` change.
    pub fn set_status_flags(&self, flags: u32) {
        let old = self.flags();
        self.flags.store(
            (old & !SETFL_MASK) | (flags & SETFL_MASK),
            Ordering::Relaxed,
        );
    }

    /// The `F_SETOWN`/`F_SETSIG` state.
    pub fn fown(&self) -> super::fasync::Fown {
        self.fown.lock().clone()
    }

    pub fn set_fown(&self, f: impl FnOnce(&mut super::fasync::Fown)) {
        f(&mut self.fown.lock())
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn is_path_only(&self) -> bool {
        self.flags() & O_PATH != 0
    }

    pub fn readable(&self) -> bool {
        !self.is_path_only() && matches!(self.flags() & O_ACCMODE, O_RDONLY | O_RDWR)
    }

    pub fn writable(&self) -> bool {
        !self.is_path_only() && matches!(self.flags() & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    /// The inode this file was opened from (none for pipes).
    pub fn inode(&self) -> Option<&InodeRef> {
        self.inode.as_ref()
    }

    /// The canonical path it was opened by (`pipe:[ino]` for pipes).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn pos(&self) -> &Mutex<u64> {
        &self.pos
    }

    pub fn ops(&self) -> &Arc<dyn FileOps> {
        &self.ops
    }

    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        self.ops.read(self, buf)
    }

    pub fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        let n = self.ops.write(self, buf)?;
        if n > 0 {
            super::inotify::file_event(self, super::inotify::IN_MODIFY);
        }
        Ok(n)
    }

    pub fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        self.ops.pread(offset, buf)
    }

    pub fn pwrite(&self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        let n = self.ops.pwrite(offset, buf)?;
        if n > 0 {
            super::inotify::file_event(self, super::inotify::IN_MODIFY);
        }
        Ok(n)
    }

    pub fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        if self.is_path_only() {
            return Err(Errno::EBADF);
        }
        self.ops.seek(self, offset, whence)
    }

    /// [`FileOps::peek`] (the file must be readable: `EBADF`).
    pub fn peek(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        self.ops.peek(self, buf)
    }

    pub fn stat(&self) -> Result<Metadata, Errno> {
        match &self.inode {
            Some(i) => Ok(i.metadata()),
            None => self.ops.stat(),
        }
    }

    pub fn truncate(&self, size: u64) -> Result<(), Errno> {
        if !self.writable() {
            return Err(Errno::EINVAL);
        }
        self.ops.truncate(size)
    }

    pub fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        if self.is_path_only() {
            return Err(Errno::EBADF);
        }
        self.ops.ioctl(self, cmd, arg)
    }

    pub fn poll(&self) -> u16 {
        if self.is_path_only() {
            return POLLNVAL;
        }
        self.ops.poll()
    }

    pub fn wait_chan(&self) -> Option<usize> {
        self.ops.wait_chan()
    }

    pub fn ready_at(&self) -> Option<u64> {
        self.ops.ready_at()
    }

    pub fn socket(&self) -> Option<Arc<dyn crate::net::Socket>> {
        self.ops.socket()
    }

    /// Fills `buf` with `linux_dirent64` records from the current position on and
    /// advances it; returns the byte count (0 at the end), `EINVAL` if `buf` cannot hold
    /// even one record.
    pub fn getdents64(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.is_path_only() {
            return Err(Errno::EBADF);
        }
        let mut pos = self.pos.lock();
        let entries = self.ops.readdir(*pos as usize)?;
        let (n, used) = fill_dirents64(&entries, *pos, buf);
        if used == 0 && !entries.is_empty() {
            return Err(Errno::EINVAL);
        }
        *pos += used as u64;
        Ok(n)
    }
}

/// Encodes as many entries as fit into `buf` as `linux_dirent64` records (`d_off` of
/// each is the position after it, `first_index` being the position of the first);
/// returns (bytes written, entries written).
pub fn fill_dirents64(entries: &[DirEntry], first_index: u64, buf: &mut [u8]) -> (usize, usize) {
    let mut off = 0;
    for (i, e) in entries.iter().enumerate() {
        let reclen = (19 + e.name.len() + 1).next_multiple_of(8);
        if off + reclen > buf.len() {
            return (off, i);
        }
        let rec = &mut buf[off..off + reclen];
        rec[0..8].copy_from_slice(&e.ino.to_le_bytes());
        rec[8..16].copy_from_slice(&(first_index + i as u64 + 1).to_le_bytes());
        rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
        rec[18] = e.ftype.dirent_type();
        rec[19..19 + e.name.len()].copy_from_slice(e.name.as_bytes());
        rec[19 + e.name.len()..].fill(0);
        off += reclen;
    }
    (off, entries.len())
}

/// The file object of an ordinary inode (regular file, directory, symlink opened with
/// `O_PATH`): reads and writes go to `read_at`/`write_at` at the file offset.
pub struct InodeFile {
    inode: InodeRef,
    /// A directory's listing, taken when reading starts at position 0 so that entries
    /// removed while reading do not shift the positions of the others.
    listing: Mutex<Option<Vec<DirEntry>>>,
}

impl InodeFile {
    pub fn new(inode: InodeRef) -> Arc<InodeFile> {
        Arc::new(InodeFile {
            inode,
            listing: Mutex::new(None),
        })
    }

    fn is_dir(&self) -> bool {
        self.inode.metadata().file_type() == FileType::Directory
    }
}

impl FileOps for InodeFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        let mut pos = file.pos.lock();
        let n = self.inode.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut pos = file.pos.lock();
        if file.flags() & O_APPEND != 0 {
            *pos = self.inode.metadata().size;
        }
        let n = self.inode.write_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.is_dir() {
            return Err(Errno::EISDIR);
        }
        self.inode.read_at(offset, buf)
    }

    fn pwrite(&self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        self.inode.write_at(offset, buf)
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = file.pos.lock();
        let size = self.inode.metadata().size;
        let new = match whence {
            SEEK_SET => offset,
            SEEK_CUR => (*pos as i64).checked_add(offset).ok_or(Errno::EOVERFLOW)?,
            SEEK_END => (size as i64).checked_add(offset).ok_or(Errno::EOVERFLOW)?,
            SEEK_DATA | SEEK_HOLE => {
                if offset < 0 || offset as u64 >= size {
                    return Err(Errno::ENXIO);
                }
                if whence == SEEK_DATA {
                    offset
                } else {
                    size as i64
                }
            }
            _ => return Err(Errno::EINVAL),
        };
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        if new == 0 {
            *self.listing.lock() = None;
        }
        *pos = new as u64;
        Ok(new as u64)
    }

    fn readdir(&self, index: usize) -> Result<Vec<DirEntry>, Errno> {
        let mut listing = self.listing.lock();
        if index == 0 || listing.is_none() {
            let meta = self.inode.metadata();
            let mut all = self.inode.readdir()?;
            let dot = |name: &str| DirEntry {
                name: name.into(),
                ino: meta.ino,
                ftype: FileType::Directory,
            };
            all.insert(0, dot(".."));
            all.insert(0, dot("."));
            *listing = Some(all);
        }
        Ok(listing
            .as_ref()
            .map(|l| l.iter().skip(index).cloned().collect())
            .unwrap_or_default())
    }

    fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.inode.truncate(size)
    }
}

/// What the `Arc` `a` takes on the heap (its counts and its value) if only `holders`
/// references (the caller's) hold it, else 0: someone else's object is charged to them.
fn arc_cost_if_held_by<T: ?Sized>(a: &Arc<T>, holders: usize) -> u64 {
    if Arc::strong_count(a) != holders {
        return 0;
    }
    kmem::arc_cost_of(core::mem::size_of_val(&**a), core::mem::align_of_val(&**a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ramfs::RamFs;
    use crate::fs::vfs::{FileSystem, S_IFREG};

    fn open(inode: InodeRef, flags: u32) -> Arc<OpenFile> {
        OpenFile::new(
            InodeFile::new(inode.clone()),
            Some(inode),
            "/x".into(),
            flags,
        )
    }

    #[test]
    fn reads_and_writes_move_the_offset_and_append_goes_to_the_end() {
        let fs = RamFs::new("tmpfs");
        let f = fs
            .root()
            .create("f", S_IFREG | 0o644, 0, 0, 0)
            .expect("create");
        let w = open(f.clone(), O_WRONLY);
        assert_eq!(w.write(b"hello"), Ok(5));
        assert_eq!(w.seek(0, SEEK_CUR), Ok(5));
        let a = open(f.clone(), O_WRONLY | O_APPEND);
        assert_eq!(w.seek(0, SEEK_SET), Ok(0));
        assert_eq!(a.write(b"!"), Ok(1));
        let r = open(f, O_RDONLY);
        let mut buf = [0u8; 16];
        assert_eq!(r.read(&mut buf), Ok(6));
        assert_eq!(&buf[..6], b"hello!");
        assert_eq!(r.read(&mut buf), Ok(0), "EOF");
        assert_eq!(r.write(b"x"), Err(Errno::EBADF), "read-only fd");
        assert_eq!(w.read(&mut buf), Err(Errno::EBADF), "write-only fd");
        assert_eq!(r.seek(-1, SEEK_SET), Err(Errno::EINVAL));
        assert_eq!(r.seek(-2, SEEK_END), Ok(4));
    }

    #[test]
    fn getdents64_lists_dot_entries_and_resumes_at_the_offset() {
        let fs = RamFs::new("tmpfs");
        for n in ["a", "b", "c"] {
            fs.root()
                .create(n, S_IFREG | 0o644, 0, 0, 0)
                .expect("create");
        }
        let d = open(fs.root(), O_RDONLY | O_DIRECTORY);
        // Room for exactly two 24-byte records.
        let mut buf = [0u8; 48];
        let mut names = Vec::new();
        loop {
            let n = d.getdents64(&mut buf).expect("getdents64");
            if n == 0 {
                break;
            }
            let mut off = 0;
            while off < n {
                let reclen = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let name = &buf[off + 19..off + reclen];
                let end = name
                    .iter()
                    .position(|&b| b == 0)
                    .expect("NUL-terminated name");
                names.push(String::from_utf8(name[..end].to_vec()).expect("utf8"));
                off += reclen;
            }
            // Removing entries while reading does not skip the others.
            let _ = fs.root().unlink("a");
        }
        assert_eq!(names, [".", "..", "a", "b", "c"]);
        assert_eq!(
            d.getdents64(&mut [0u8; 8]),
            Ok(0),
            "at the end nothing is returned"
        );
        d.seek(0, SEEK_SET).expect("rewind");
        assert_eq!(
            d.getdents64(&mut [0u8; 8]),
            Err(Errno::EINVAL),
            "buffer too small for one record"
        );
    }

    #[test]
    fn setfl_changes_only_status_flags() {
        let fs = RamFs::new("tmpfs");
        let f = open(
            fs.root()
                .create("f", S_IFREG | 0o644, 0, 0, 0)
                .expect("create"),
            O_RDWR | O_CLOEXEC,
        );
        assert_eq!(
            f.flags(),
            O_RDWR,
            "O_CLOEXEC is an fd flag, not a status flag"
        );
        f.set_status_flags(O_NONBLOCK | O_WRONLY | O_APPEND);
        assert_eq!(f.flags(), O_RDWR | O_NONBLOCK | O_APPEND);
    }
}
