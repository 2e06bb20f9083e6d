//! `statfs(2)` and `fstatfs(2)`: the file system a path or an fd is on, with Linux's
//! magic numbers (`crate::fs::statfs`).

use super::fs::{context, files, user_path};
use crate::errno::SysResult;
use crate::fs::OpenFile;
use crate::fs::statfs::StatFs;
use crate::mm::user::copy_to_user;

pub fn dispatch(nr: usize, a: [u64; 6]) -> Option<SysResult> {
    Some(match nr {
        137 => statfs(a[0], a[1]),
        138 => fstatfs(a[0] as u32 as i32, a[1]),
        _ => return None,
    })
}

/// The instance holding canonical `path` whose device is `dev` (the mount over the path,
/// else any mount of that device in the caller's tree).
fn stat_mount(path: &str, dev: u64) -> Option<StatFs> {
    let mounts = context().mounts().clone();
    let m = mounts
        .mount_of(path)
        .filter(|m| m.fs.dev() == dev)
        .or_else(|| mounts.list().into_iter().find(|m| m.fs.dev() == dev))?;
    Some(m.fs.statfs().with_mount_flags(m.flags))
}

fn statfs(pathname: u64, buf: u64) -> SysResult {
    let p = user_path(pathname)?;
    let loc = context().resolve(&p, true)?;
    let dev = loc.inode.metadata().dev;
    let st =
        stat_mount(&loc.path, dev).unwrap_or_else(|| StatFs::of_type("", dev).with_mount_flags(0));
    copy_to_user(buf, &st.to_bytes())?;
    Ok(0)
}

/// Files outside every mount: pipes are on pipefs; nsfs files and the anonymous ones
/// (timerfd, pidfd, ...) on their own internal instances.
fn unmounted(file: &OpenFile) -> StatFs {
    match file.inode() {
        Some(i) => {
            let m = i.metadata();
            let fstype = if m.dev == crate::fs::nsfs::NSFS_DEV {
                "nsfs"
            } else {
                ""
            };
            StatFs::of_type(fstype, m.dev)
        }
        None => match file.stat() {
            Ok(m) if m.file_type() == crate::fs::vfs::FileType::Fifo => {
                StatFs::of_type("pipefs", m.dev)
            }
            Ok(m) => StatFs::of_type("", m.dev),
            Err(_) => StatFs::of_type("", 0),
        },
    }
    .with_mount_flags(0)
}

fn fstatfs(fd: i32, buf: u64) -> SysResult {
    let file = files().get(fd)?;
    let st = file
        .inode()
        .and_then(|i| stat_mount(file.path(), i.metadata().dev))
        .unwrap_or_else(|| unmounted(&file));
    copy_to_user(buf, &st.to_bytes())?;
    Ok(0)
}
