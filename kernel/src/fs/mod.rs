//! File systems: the VFS (inodes, mounts, path walk), open files and fd tables, and the
//! file systems themselves (ramfs/tmpfs, devtmpfs, procfs, pipes).
#![deny(unsafe_code)]

pub mod context;
pub mod cpio;
pub mod devfs;
pub mod env;
pub mod fdtable;
pub mod file;
pub mod mount;
pub mod pagestore;
pub mod path;
pub mod pipe;
pub mod procfs;
pub mod ramfs;
pub mod tty;
pub mod vfs;
pub mod walk;

pub use context::FsContext;
pub use fdtable::FdTable;
pub use file::OpenFile;
pub use vfs::{Inode, InodeRef};
