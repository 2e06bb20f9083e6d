//! File systems: the VFS (inodes, mounts, path walk), open files and fd tables, and the
//! file systems themselves (ramfs/tmpfs, devtmpfs, procfs, pipes).
#![deny(unsafe_code)]

pub mod cpio;
pub mod env;
pub mod file;
pub mod mount;
pub mod pagestore;
pub mod path;
pub mod ramfs;
pub mod vfs;
pub mod walk;

pub use file::OpenFile;
pub use vfs::{Inode, InodeRef};
