//! `/proc/[pid]/fd` and `/proc/[pid]/fdinfo`: one magic link per open descriptor
//! (`readlink` gives the file's path as the reader names it, `pipe:[ino]`,
//! `socket:[ino]`, `anon_inode:[eventfd]`...; opening it opens the same inode again, or
//! for a pipe the same pipe) and one text file per descriptor (`pos:`, `flags:`,
//! `mnt_id:`, `ino:` and the object's own lines). Looking at another process's
//! descriptors needs Linux's ptrace read access (`KernelView::may_trace_read`): `EACCES`.

use super::fdtable::FdTable;
use super::file::{FileOps, O_ACCMODE, O_CLOEXEC, O_RDONLY, O_WRONLY, OpenFile};
use super::procfs::Shared;
use super::vfs::*;
use crate::errno::Errno;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// Which file below `/proc/[pid]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    /// `fd` (false) or `fdinfo` (true).
    Dir(bool),
    Link(i32),
    Info(i32),
}

pub(super) struct FdInode {
    fs: Arc<Shared>,
    pid: u32,
    node: Node,
}

/// `/proc/[pid]/fd` (`info` false) or `/proc/[pid]/fdinfo` (true).
pub(super) fn dir(fs: Arc<Shared>, pid: u32, info: bool) -> InodeRef {
    Arc::new(FdInode {
        fs,
        pid,
        node: Node::Dir(info),
    })
}

/// The `fdinfo` text (Linux 6.1's `seq_show`): the position, the status flags in octal
/// with `O_CLOEXEC` when the descriptor has it, the mount id and inode number, then
/// the object's own lines.
pub fn render_fdinfo(
    pos: u64,
    flags: u32,
    cloexec: bool,
    mnt_id: u32,
    ino: u64,
    extra: &str,
) -> String {
    let flags = flags | if cloexec { O_CLOEXEC } else { 0 };
    format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt_id}\nino:\t{ino}\n{extra}")
}

/// The `fd/N` link's permission bits: Linux's `r` and `w` for the access mode.
pub fn link_mode(flags: u32) -> u32 {
    match flags & O_ACCMODE {
        O_RDONLY => 0o500,
        O_WRONLY => 0o300,
        _ => 0o700,
    }
}

/// Whether the file has a path in the mount tree (rather than a name like `pipe:[3]`
/// or a memfd's `/memfd:x (deleted)`).
fn has_tree_path(file: &OpenFile) -> bool {
    file.inode().is_some() && file.path().starts_with('/') && !file.path().starts_with("/memfd:")
}

impl FdInode {
    fn ino(&self) -> u64 {
        // Apart from procfs's other numbers (below 2^53).
        let (kind, fd) = match self.node {
            Node::Dir(info) => (1 + info as u64, 0),
            Node::Link(fd) => (3, fd as u64),
            Node::Info(fd) => (4, fd as u64),
        };
        (1 << 62) | (kind << 58) | ((self.pid as u64) << 26) | (fd & 0x3ff_ffff)
    }

    fn table(&self) -> Result<Arc<FdTable>, Errno> {
        self.fs.view.fd_table(self.pid).ok_or(Errno::ENOENT)
    }

    /// The table, once the reader may look at it (`EACCES` otherwise).
    fn checked_table(&self) -> Result<Arc<FdTable>, Errno> {
        let t = self.table()?;
        if !self.fs.view.may_trace_read(self.pid) {
            return Err(Errno::EACCES);
        }
        Ok(t)
    }

    fn file(&self, fd: i32) -> Result<(Arc<OpenFile>, bool), Errno> {
        let t = self.checked_table()?;
        let file = t.get(fd).map_err(|_| Errno::ENOENT)?;
        let cloexec = t.cloexec(fd).unwrap_or(false);
        Ok((file, cloexec))
    }

    fn fd(&self) -> Option<i32> {
        match self.node {
            Node::Link(fd) | Node::Info(fd) => Some(fd),
            Node::Dir(_) => None,
        }
    }

    fn content(&self) -> Result<String, Errno> {
        let fd = self.fd().ok_or(Errno::EISDIR)?;
        let (file, cloexec) = self.file(fd)?;
        let mnt_id = match has_tree_path(&file) {
            true => super::current_context()
                .mounts()
                .mount_of(file.path())
                .map_or(0, |m| m.id),
            false => 0,
        };
        let ino = file.stat().map_or(0, |m| m.ino);
        let pos = *file.pos().lock();
        Ok(render_fdinfo(
            pos,
            file.flags(),
            cloexec,
            mnt_id,
            ino,
            &file.ops().fdinfo(),
        ))
    }
}

impl Inode for FdInode {
    fn metadata(&self) -> Metadata {
        let (uid, gid) = self.fs.view.pid_owner(self.pid).unwrap_or((0, 0));
        let mode = match self.node {
            Node::Dir(false) => S_IFDIR | 0o500,
            Node::Dir(true) => S_IFDIR | 0o555,
            Node::Link(fd) => {
                let flags = self
                    .table()
                    .and_then(|t| t.get(fd))
                    .map_or(O_RDONLY, |f| f.flags());
                S_IFLNK | link_mode(flags)
            }
            Node::Info(_) => S_IFREG | 0o444,
        };
        Metadata {
            dev: self.fs.dev,
            ino: self.ino(),
            mode,
            nlink: if matches!(self.node, Node::Dir(_)) {
                2
            } else {
                1
            },
            uid,
            gid,
            size: if matches!(self.node, Node::Link(_)) {
                64
            } else {
                0
            },
            blksize: 1024,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        match self.node {
            Node::Dir(_) => FileType::Directory,
            Node::Link(_) => FileType::Symlink,
            Node::Info(_) => FileType::Regular,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(super::procfs::read_text_at(
            self.content()?.as_bytes(),
            offset,
            buf,
        ))
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        let Node::Dir(info) = self.node else {
            return Err(Errno::ENOTDIR);
        };
        let fd: i32 = name.parse().map_err(|_| Errno::ENOENT)?;
        if fd < 0 || (name.starts_with('0') && name != "0") || name.starts_with('+') {
            return Err(Errno::ENOENT);
        }
        let t = self.table()?;
        t.get(fd).map_err(|_| Errno::ENOENT)?;
        let node = if info { Node::Info(fd) } else { Node::Link(fd) };
        Ok(Arc::new(FdInode {
            fs: self.fs.clone(),
            pid: self.pid,
            node,
        }))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let Node::Dir(info) = self.node else {
            return Err(Errno::ENOTDIR);
        };
        let t = self.checked_table()?;
        let fds = t.fds();
        let mut v = Vec::new();
        v.try_reserve(fds.len()).map_err(|_| Errno::ENOMEM)?;
        for fd in fds {
            let node = if info { Node::Info(fd) } else { Node::Link(fd) };
            let i = FdInode {
                fs: self.fs.clone(),
                pid: self.pid,
                node,
            };
            v.push(DirEntry {
                name: fd.to_string(),
                ino: i.ino(),
                ftype: i.file_type(),
            });
        }
        Ok(v)
    }

    /// The path as the reader names it (relative to its root), or the object's name.
    fn readlink(&self) -> Result<String, Errno> {
        let Node::Link(fd) = self.node else {
            return Err(Errno::EINVAL);
        };
        let (file, _) = self.file(fd)?;
        Ok(match has_tree_path(&file) {
            true => super::current_context().path_from_root(file.path()),
            false => match file.inode().and_then(|i| i.object_name()) {
                Some(name) => name,
                None => file.path().to_string(),
            },
        })
    }

    /// The file's object; the walk continues from the file's own path (its name for
    /// pipes and sockets), so `..` from a directory is its real parent and a reopened
    /// pipe is `pipe:[ino]`.
    fn follow(&self, _memo: &WalkMemo) -> Follow {
        let Node::Link(fd) = self.node else {
            return Follow::Text;
        };
        match self.file(fd) {
            Ok((file, _)) => {
                let path = (has_tree_path(&file) || file.inode().is_none())
                    .then(|| file.path().to_string());
                let target = match file.inode() {
                    Some(i) => i.clone(),
                    None => Arc::new(ObjectInode { file }) as InodeRef,
                };
                Follow::Magic(Ok(target), path)
            }
            Err(e) => Follow::Magic(Err(e), None),
        }
    }
}

/// What `/proc/[pid]/fd/N` lands on for a file with no inode in any file system (a pipe,
/// a socket, an anonymous object): its `fstat` metadata, and opening it opens the same
/// pipe again (`ENXIO` for the others, as Linux).
struct ObjectInode {
    file: Arc<OpenFile>,
}

impl Inode for ObjectInode {
    fn metadata(&self) -> Metadata {
        self.file.stat().unwrap_or(Metadata {
            mode: 0o600,
            nlink: 1,
            ..Default::default()
        })
    }

    fn file_type(&self) -> FileType {
        FileType::from_mode(self.metadata().mode).unwrap_or(FileType::Regular)
    }

    fn open(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        Some(self.file.ops().reopen(flags).unwrap_or(Err(Errno::ENXIO)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_shows_octal_flags_with_cloexec() {
        assert_eq!(
            render_fdinfo(5, 0o2, true, 21, 7, ""),
            "pos:\t5\nflags:\t02000002\nmnt_id:\t21\nino:\t7\n"
        );
        assert_eq!(
            render_fdinfo(0, 0, false, 0, 3, "eventfd-count:                3\n"),
            "pos:\t0\nflags:\t00\nmnt_id:\t0\nino:\t3\neventfd-count:                3\n"
        );
    }

    #[test]
    fn link_modes_follow_the_access_mode() {
        assert_eq!(link_mode(O_RDONLY), 0o500);
        assert_eq!(link_mode(O_WRONLY), 0o300);
        assert_eq!(link_mode(super::super::file::O_RDWR | O_CLOEXEC), 0o700);
    }
}
