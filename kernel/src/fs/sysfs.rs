//! `sysfs`: for now only the directories other file systems are mounted on
//! (`/sys/fs/cgroup` for cgroup2). Nothing is created or removed in it.

use super::vfs::{self, DirEntry, FileSystem, FileType, Inode, InodeRef, Metadata, S_IFDIR};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The directories: (name, index of the parent). Index 0 is the root; the inode number
/// is the index + 1.
const DIRS: [(&str, usize); 3] = [("", 0), ("fs", 0), ("cgroup", 1)];

/// One device number for every sysfs mount (Linux's one superblock).
fn dev() -> u64 {
    static DEV: spin::Once<u64> = spin::Once::new();
    *DEV.call_once(vfs::alloc_dev)
}

pub struct SysFs;

impl SysFs {
    pub fn new() -> Arc<SysFs> {
        Arc::new(SysFs)
    }
}

impl FileSystem for SysFs {
    fn name(&self) -> &'static str {
        "sysfs"
    }

    fn root(&self) -> InodeRef {
        Arc::new(SysDir(0))
    }

    fn dev(&self) -> u64 {
        dev()
    }
}

struct SysDir(usize);

impl SysDir {
    fn children(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        DIRS.iter()
            .enumerate()
            .skip(1)
            .filter(|(_, (_, parent))| *parent == self.0)
            .map(|(i, (name, _))| (i, *name))
    }
}

impl Inode for SysDir {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: dev(),
            ino: self.0 as u64 + 1,
            mode: S_IFDIR | 0o755,
            nlink: 2 + self.children().count() as u32,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        self.children()
            .find(|(_, n)| *n == name)
            .map(|(i, _)| Arc::new(SysDir(i)) as InodeRef)
            .ok_or(Errno::ENOENT)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .children()
            .map(|(i, n)| DirEntry {
                name: String::from(n),
                ino: i as u64 + 1,
                ftype: FileType::Directory,
            })
            .collect())
    }

    fn create(
        &self,
        name: &str,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> Result<InodeRef, Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EACCES))
    }

    fn mkdir(&self, name: &str, _mode: u32, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EPERM))
    }

    fn symlink(&self, name: &str, _target: &str, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EPERM))
    }

    fn link(&self, name: &str, _target: &InodeRef) -> Result<(), Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EPERM))
    }

    fn unlink(&self, name: &str) -> Result<(), Errno> {
        self.lookup(name)?;
        Err(Errno::EPERM)
    }

    fn rmdir(&self, name: &str) -> Result<(), Errno> {
        self.lookup(name)?;
        Err(Errno::EPERM)
    }

    fn rename(&self, old: &str, _new_dir: &InodeRef, _new: &str) -> Result<(), Errno> {
        self.lookup(old)?;
        Err(Errno::EPERM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_cgroup_is_there_and_nothing_else_can_be() {
        let root = SysFs::new().root();
        let fs = root.lookup("fs").expect("/sys/fs");
        let cg = fs.lookup("cgroup").expect("/sys/fs/cgroup");
        assert_eq!(cg.metadata().ino, 3);
        assert!(cg.readdir().expect("empty").is_empty());
        assert_eq!(root.lookup("block").err(), Some(Errno::ENOENT));
        assert_eq!(root.mkdir("fs", 0o755, 0, 0).err(), Some(Errno::EEXIST));
        assert_eq!(root.mkdir("x", 0o755, 0, 0).err(), Some(Errno::EPERM));
        assert_eq!(fs.rmdir("cgroup"), Err(Errno::EPERM));
        assert_eq!(root.metadata().nlink, 3);
    }
}
