//! The `mqueue` file system (mq_overview(7)): one flat directory of the message queues
//! of the IPC container of the process that mounted it. Each file is the queue itself
//! (reading gives `QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:...`), `unlink` is
//! `mq_unlink`, creating a file creates a queue with the default attributes. The mount
//! holds its IPC container's queues; once no process is in that container any more,
//! creating gives `EACCES` (Linux's superblock outlives its IPC namespace).

use super::env;
use super::file::{O_CREAT, O_EXCL, O_RDWR};
use super::vfs::{
    DirEntry, FileSystem, FileType, Inode, InodeRef, Metadata, S_IFDIR, S_IFMT, S_IFREG,
};
use crate::container::ipc::IpcContainer;
use crate::errno::Errno;
use crate::ipc::mqueue::OpenRequest;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The root directory's mode: sticky, everyone may create (Linux's).
const ROOT_MODE: u32 = S_IFDIR | 0o1777;

pub struct MqueueFs {
    root: Arc<MqueueDir>,
}

impl MqueueFs {
    pub fn new(ipc: Arc<IpcContainer>) -> Arc<MqueueFs> {
        Arc::new(MqueueFs {
            root: Arc::new(MqueueDir { ipc }),
        })
    }
}

impl FileSystem for MqueueFs {
    fn name(&self) -> &'static str {
        "mqueue"
    }

    fn root(&self) -> InodeRef {
        self.root.clone()
    }

    fn dev(&self) -> u64 {
        self.root.ipc.mq.dev()
    }
}

struct MqueueDir {
    ipc: Arc<IpcContainer>,
}

impl Inode for MqueueDir {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: self.ipc.mq.dev(),
            ino: 1,
            mode: ROOT_MODE,
            nlink: 2,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        self.ipc
            .mq
            .lookup(name)
            .map(|q| q as InodeRef)
            .ok_or(Errno::ENOENT)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .ipc
            .mq
            .list()
            .into_iter()
            .map(|(name, q)| DirEntry {
                name,
                ino: q.metadata().ino,
                ftype: FileType::Regular,
            })
            .collect())
    }

    /// `open(O_CREAT)` here: a queue with the default attributes (`mknod` of other
    /// types: `EPERM`, as the directory has no mknod operation on Linux).
    fn create(
        &self,
        name: &str,
        mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> Result<InodeRef, Errno> {
        if mode & S_IFMT != S_IFREG {
            return Err(Errno::EPERM);
        }
        // The IPC container whose queues these are is gone (no process left in it):
        // the queues made before stay visible, new ones cannot be made (Linux: EACCES).
        if !env::ipc_in_use(&self.ipc) {
            return Err(Errno::EACCES);
        }
        let req = OpenRequest {
            oflag: O_RDWR | O_CREAT | O_EXCL,
            mode,
            attr: None,
        };
        let q = self.ipc.mq.open(name, req, &env::caller())?;
        Ok(q)
    }

    fn mkdir(&self, _name: &str, _mode: u32, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(Errno::EPERM)
    }

    fn symlink(&self, _name: &str, _target: &str, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(Errno::EPERM)
    }

    fn link(&self, _name: &str, _target: &InodeRef) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    fn unlink(&self, name: &str) -> Result<(), Errno> {
        self.ipc.mq.remove(name)
    }

    fn rmdir(&self, _name: &str) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }

    fn rename(&self, _old: &str, _new_dir: &InodeRef, _new: &str) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    fn readlink(&self) -> Result<String, Errno> {
        Err(Errno::EINVAL)
    }
}
