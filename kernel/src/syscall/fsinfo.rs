//! `statfs(2)` and `fstatfs(2)`: the file system a path or an fd is on, with Linux's
//! magic numbers (`crate::fs::statfs`); `sysfs(2)`: the registered file system types,
//! in `/proc/filesystems`'s order.

use super::fs::{context, files, user_path};
use super::table::syscalls;
use crate::errno::SysResult;
use crate::fs::OpenFile;
use crate::fs::statfs::StatFs;
use crate::mm::user::copy_to_user;

syscalls! {
    frame, a;
    137 => statfs(a[0], a[1]),
    138 => fstatfs(a[0] as u32 as i32, a[1]),
    139 => sysfs(a[0] as u32 as i32, a[1], a[2]),
}

/// The registered file system type names, as `/proc/filesystems` lists them.
fn fs_types() -> impl Iterator<Item = &'static str> {
    crate::fs::procfs::FILESYSTEMS
        .lines()
        .filter_map(|l| l.rsplit('\t').next())
}

/// `sysfs(1, name)`: the index of type `name`; `sysfs(2, index, buf)`: its name into
/// `buf`; `sysfs(3)`: how many types. `EINVAL` for unknown names, indexes and options.
fn sysfs(option: i32, arg1: u64, arg2: u64) -> SysResult {
    match option {
        1 => {
            let name = crate::mm::user::read_user_cstr_bytes(arg1, crate::fs::path::PATH_MAX - 1)?;
            fs_types()
                .position(|t| t.as_bytes() == name.as_slice())
                .ok_or(crate::errno::Errno::EINVAL)
        }
        2 => {
            let name = fs_types()
                .nth(arg1 as u32 as usize)
                .ok_or(crate::errno::Errno::EINVAL)?;
            // The name and its NUL.
            let mut bytes = [0u8; 32];
            bytes
                .get_mut(..name.len())
                .ok_or(crate::errno::Errno::EINVAL)?
                .copy_from_slice(name.as_bytes());
            copy_to_user(arg2, &bytes[..=name.len()])?;
            Ok(0)
        }
        3 => Ok(fs_types().count()),
        _ => Err(crate::errno::Errno::EINVAL),
    }
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
