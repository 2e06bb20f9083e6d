//! inotify system calls: `inotify_init` (253), `inotify_init1` (294),
//! `inotify_add_watch` (254), `inotify_rm_watch` (255). The instances and events are
//! `crate::fs::inotify`.

use super::fs::{AT_FDCWD, files, resolve_at, user_path};
use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::fs::env;
use crate::fs::inotify::{self, IN_CLOEXEC, IN_DONT_FOLLOW};
use crate::fs::vfs::{MAY_READ, permits};

syscalls! {
    frame, a;
    253 => init(0),
    294 => init(a[0] as u32),
    254 => add_watch(a[0] as u32 as i32, a[1], a[2] as u32),
    255 => rm_watch(a[0] as u32 as i32, a[1] as u32 as i32),
}

fn init(flags: u32) -> SysResult {
    let file = inotify::new(flags)?;
    files()
        .install(file, flags & IN_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

fn add_watch(fd: i32, pathname: u64, mask: u32) -> SysResult {
    let group = inotify::instance(files().get(fd)?.as_ref())?;
    let p = user_path(pathname)?;
    let loc = resolve_at(AT_FDCWD, &p, mask & IN_DONT_FOLLOW == 0)?;
    // Watching needs read permission on the object (Linux: inode_permission MAY_READ).
    if !permits(&loc.inode.metadata(), &env::caller(), MAY_READ) {
        return Err(Errno::EACCES);
    }
    group
        .add_watch(loc.inode, &loc.path, mask)
        .map(|wd| wd as usize)
}

fn rm_watch(fd: i32, wd: i32) -> SysResult {
    let group = inotify::instance(files().get(fd)?.as_ref())?;
    group.rm_watch(wd).map(|_| 0)
}
