//! Helpers for `t_mnt` (mount containers): the "device" LiteOS-A's mount tests mount at
//! `/userdata` (Bulkhead's `ramblk` `/dev/ram0`; on a Linux host a block device named by
//! `T_MNT_DEV`/`T_MNT_FSTYPE`, else a tmpfs stand-in bound from a backing directory, so that
//! contents survive unmounting as on a real device), the fixture that creates
//! `/userdata/mntcontainertest` once, run-time probes for kernel support that may not have
//! landed (`CLONE_NEWNS`, `/dev/ram0`, `setns` of a mount container, `/proc/self/mounts`), and
//! `/proc/*/mounts` parsing.

use crate::container::{CLONE_NEWNS, SIGCHLD_EXIT, clone_probe, wait_exit};
use crate::cred::{mount, umount2};
use crate::sys::{self, SysResult, errno::*};
use crate::test::on_bulkhead;
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

pub const MS_RDONLY: usize = 1;
pub const MS_BIND: usize = 4096;
pub const MNT_DETACH: usize = 2;

/// LiteOS-A's mount point of `/dev/mmcblk0p2`.
pub const USERDATA: &str = "/userdata";
/// The directory the fixture creates once on the device.
pub const TEST_DIR: &str = "/userdata/mntcontainertest";
/// Backing directory of the host's tmpfs stand-in.
const BACKING: &str = "/tmp/t_mnt.ram0";

fn cpath(path: &str) -> CString {
    CString::new(path).expect("path has a NUL")
}

pub fn access_ok(path: &str) -> bool {
    sys::access(&cpath(path), sys::F_OK).is_ok()
}

pub fn mkdir_p(path: &str, mode: usize) -> SysResult {
    match sys::mkdir(&cpath(path), mode) {
        Err(EEXIST) => Ok(0),
        r => r,
    }
}

/// `/dev` (devtmpfs) and `/dev/pts` (devpts) for the pseudo-terminal tests, mounted unless
/// they are there already (under the suite's init they are): the devpts mount's result.
pub fn mount_dev_pts() -> SysResult {
    let _ = mkdir_p("/dev", 0o755);
    if !access_ok("/dev/ptmx") {
        let _ = mount("devtmpfs", "/dev", "devtmpfs", 0);
    }
    let _ = mkdir_p("/dev/pts", 0o755);
    if access_ok("/dev/pts/ptmx") {
        return Ok(0);
    }
    mount("devpts", "/dev/pts", "devpts", 0)
}

pub fn rmdir(path: &str) -> SysResult {
    sys::rmdir(&cpath(path))
}

/// `/tmp/t_mnt.<name>`, created (with `/tmp`) if missing: a scratch mount point.
pub fn scratch(name: &str) -> String {
    let _ = sys::mkdir(c"/tmp", 0o1777);
    let p = alloc::format!("/tmp/t_mnt.{}", name);
    let _ = mkdir_p(&p, 0o755);
    p
}

/// Creates (or truncates) a regular file.
pub fn touch(path: &str) -> SysResult {
    let fd = sys::open(
        &cpath(path),
        sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC | sys::O_CLOEXEC,
        0o644,
    )?;
    sys::close(fd)
}

// ---------------------------------------------------------------------------------------------
// The device

/// What stands for LiteOS-A's `/dev/mmcblk0p2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    /// A block device and its file system type (Bulkhead: `/dev/ram0`, `ramblk`).
    Block(String, String),
    /// Host only: a tmpfs at [`BACKING`], bind-mounted (a second mount at the same place stacks
    /// instead of `EBUSY`).
    StandIn,
}

/// The device: Bulkhead's `/dev/ram0` (`None` when it is missing: the mount containers issue
/// has not landed), or on a Linux host `$T_MNT_DEV`/`$T_MNT_FSTYPE`, else the tmpfs stand-in.
pub fn device() -> Option<Device> {
    if on_bulkhead() {
        sys::stat(c"/dev/ram0")
            .ok()
            .map(|_| Device::Block(String::from("/dev/ram0"), String::from("ramblk")))
    } else {
        let args = crate::Args::get();
        match (args.getenv("T_MNT_DEV"), args.getenv("T_MNT_FSTYPE")) {
            (Some(d), Some(t)) => Some(Device::Block(String::from(d), String::from(t))),
            _ => Some(Device::StandIn),
        }
    }
}

/// Whether the device is the host's stand-in (no `EBUSY` for a second mount at one place).
pub fn stand_in() -> bool {
    device() == Some(Device::StandIn)
}

/// Mounts the device at `target` (LiteOS-A's `mount("/dev/mmcblk0p2", target, "vfat", 0, 0)`).
pub fn mount_dev(target: &str) -> SysResult {
    match device() {
        Some(Device::Block(dev, fstype)) => mount(&dev, target, &fstype, 0),
        Some(Device::StandIn) => mount(BACKING, target, "none", MS_BIND),
        None => Err(ENODEV),
    }
}

pub fn umount(target: &str) -> SysResult {
    umount2(target, 0)
}

pub const ENODEV: i32 = 19;

/// The fixture: `/userdata` exists, the device is mounted there and `mntcontainertest` exists
/// on it (created once). Returns whether `/userdata` was created here (to remove at the end).
pub fn setup_fixture() -> SysResult<bool> {
    if stand_in() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        mkdir_p(BACKING, 0o755)?;
        mount("tmpfs", BACKING, "tmpfs", 0)?;
    }
    let created = match sys::mkdir(&cpath(USERDATA), 0o755) {
        Ok(_) => true,
        Err(EEXIST) => false,
        Err(e) => return Err(e),
    };
    if !access_ok(TEST_DIR) {
        if let Err(e) = mount_dev(USERDATA) {
            if created {
                let _ = rmdir(USERDATA);
            }
            return Err(e);
        }
        mkdir_p(TEST_DIR, 0o755)?;
    }
    Ok(created)
}

/// Makes sure the fixture holds at the start of a case (an earlier failing case may have left
/// `/userdata` unmounted): remounts if the test directory is not visible.
pub fn fixture_ready() -> bool {
    access_ok(TEST_DIR) || (mount_dev(USERDATA).is_ok() && access_ok(TEST_DIR))
}

/// Removes the test directory and unmounts every mount at `/userdata` (and the host stand-in's
/// backing tmpfs), then `/userdata` itself when the program created it.
pub fn teardown_fixture(created_userdata: bool) {
    let _ = rmdir(TEST_DIR);
    for _ in 0..8 {
        if umount(USERDATA).is_err() {
            break;
        }
    }
    if created_userdata {
        let _ = rmdir(USERDATA);
    }
    if stand_in() {
        let _ = umount(BACKING);
        let _ = rmdir(BACKING);
    }
}

// ---------------------------------------------------------------------------------------------
// Probes

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;
static NEWNS: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the kernel creates mount containers: a `clone(CLONE_NEWNS|SIGCHLD)` child is made
/// (Bulkhead before the mount containers issue: `EINVAL`). Cached.
pub fn newns_supported() -> bool {
    match NEWNS.load(Ordering::Relaxed) {
        YES => return true,
        NO => return false,
        _ => {}
    }
    let yes = match clone_probe(CLONE_NEWNS | SIGCHLD_EXIT, 0) {
        Ok(pid) => {
            let _ = wait_exit(pid);
            true
        }
        Err(EINVAL) => false,
        // Any other error is a real failure the cases will report.
        Err(_) => true,
    };
    NEWNS.store(if yes { YES } else { NO }, Ordering::Relaxed);
    yes
}

/// The link of `pid`'s mount container: LiteOS-A's `/proc/<pid>/container/mnt` on Bulkhead,
/// Linux's `/proc/<pid>/ns/mnt` on a host.
pub fn mnt_link_path(pid: &str) -> String {
    if on_bulkhead() {
        crate::container::container_path(pid, "mnt")
    } else {
        crate::container::ns_path(pid, "mnt")
    }
}

/// The text of [`mnt_link_path`] (empty when unreadable).
pub fn mnt_link(pid: &str) -> String {
    crate::container::readlink_text(&mnt_link_path(pid)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// /proc/*/mounts

/// One line of `/proc/mounts`: source, mount point, type, options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountLine {
    pub source: String,
    pub target: String,
    pub fstype: String,
    pub options: String,
}

/// Parses `/proc/mounts` text (six fields a line; `0 0` at the end).
pub fn parse_mounts(text: &str) -> Option<Vec<MountLine>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() != 6 || f[4] != "0" || f[5] != "0" {
            return None;
        }
        out.push(MountLine {
            source: String::from(f[0]),
            target: String::from(f[1]),
            fstype: String::from(f[2]),
            options: String::from(f[3]),
        });
    }
    Some(out)
}

/// The mounts listed in `path` (`/proc/mounts`, `/proc/self/mounts`).
pub fn read_mounts(path: &str) -> SysResult<Vec<MountLine>> {
    parse_mounts(&crate::container::read_text(path)?).ok_or(EINVAL)
}

/// Whether `path` lists a mount at `target`.
pub fn lists_target(path: &str, target: &str) -> bool {
    read_mounts(path).is_ok_and(|m| m.iter().any(|l| l.target == target))
}
