//! The file-system configuration behind an `fsopen` descriptor (Linux's `fs_context`):
//! the type, the parameters `fsconfig` set, and its phase (parameters, then created
//! and awaiting `fsmount`, or failed). Also the decoding of `mount_setattr`'s and
//! `fsmount`'s `MOUNT_ATTR_*` bits into per-mount flags. Pure logic, host-tested;
//! `syscall/mountapi.rs` builds the file system and the descriptors.

use super::mount::{MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY};
use super::mount::{MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_UNBINDABLE};
use crate::errno::Errno;
use alloc::format;
use alloc::string::String;

/// The file-system types `fsopen` knows (`ENODEV` for any other name).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FsType {
    Tmpfs,
    Ramfs,
    Proc,
    Sysfs,
    Cgroup2,
    Mqueue,
    Devpts,
    /// Any other file system (named by its type), reached only by `fspick`: it takes
    /// no parameters.
    Other(&'static str),
}

impl FsType {
    pub fn from_name(name: &str) -> Option<FsType> {
        Some(match name {
            "tmpfs" => FsType::Tmpfs,
            "ramfs" => FsType::Ramfs,
            "proc" => FsType::Proc,
            "sysfs" => FsType::Sysfs,
            "cgroup2" => FsType::Cgroup2,
            "mqueue" => FsType::Mqueue,
            "devpts" => FsType::Devpts,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FsType::Tmpfs => "tmpfs",
            FsType::Ramfs => "ramfs",
            FsType::Proc => "proc",
            FsType::Sysfs => "sysfs",
            FsType::Cgroup2 => "cgroup2",
            FsType::Mqueue => "mqueue",
            FsType::Devpts => "devpts",
            FsType::Other(name) => name,
        }
    }
}

/// Where a configuration is (Linux's `fs_context_phase`, the part `fsopen` uses).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Taking parameters (`fsconfig` `SET_*`), until `FSCONFIG_CMD_CREATE`.
    Params,
    /// Created: `fsmount` may mount it; parameters and a second create give `EBUSY`.
    Created,
    /// A create failed: everything but closing gives `EBUSY`.
    Failed,
    /// From `fspick`: taking parameters for `FSCONFIG_CMD_RECONFIGURE` of a mounted
    /// file system (back here after each reconfigure).
    Reconfig,
}

/// The value of one `fsconfig` `SET_*` command.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `FSCONFIG_SET_FLAG`.
    Flag,
    /// `FSCONFIG_SET_STRING`.
    Str(&'a str),
    /// `FSCONFIG_SET_BINARY`, `SET_PATH`, `SET_PATH_EMPTY`, `SET_FD`: no parameter of
    /// these file systems takes one.
    Other,
}

/// What `fsconfig` set for the file system to be created.
#[derive(Clone, Debug)]
pub struct FsConfig {
    pub fstype: FsType,
    pub phase: Phase,
    /// `source` (shown in `/proc/self/mountinfo`; `none` when unset).
    pub source: Option<String>,
    /// tmpfs `size=`, in pages (`Some(0)`: no limit).
    pub size: Option<u64>,
    /// `mode=` of the root directory (tmpfs, ramfs).
    pub mode: Option<u32>,
    /// `uid=`/`gid=` of the root directory (tmpfs).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The `ro` flag: the mount `fsmount` makes is read-only.
    pub read_only: bool,
    /// The last error's message, as `read(2)` of the descriptor gives it (`e ...`).
    pub message: Option<String>,
}

impl FsConfig {
    pub fn new(fstype: FsType) -> FsConfig {
        FsConfig {
            fstype,
            phase: Phase::Params,
            source: None,
            size: None,
            mode: None,
            uid: None,
            gid: None,
            read_only: false,
            message: None,
        }
    }

    /// `fspick`'s configuration of a mounted file system of type `fstype`.
    pub fn for_reconfigure(fstype: FsType) -> FsConfig {
        FsConfig {
            phase: Phase::Reconfig,
            ..FsConfig::new(fstype)
        }
    }

    /// One `FSCONFIG_SET_*`: `EBUSY` after a create, `EINVAL` for a key this type does
    /// not know or a value of the wrong kind or form (with a message for `read`).
    /// `total_bytes` is the machine's memory, for tmpfs `size=N%`.
    pub fn set(&mut self, key: &str, value: Value<'_>, total_bytes: u64) -> Result<(), Errno> {
        if !matches!(self.phase, Phase::Params | Phase::Reconfig) {
            return Err(Errno::EBUSY);
        }
        let r = self.parse(key, value, total_bytes);
        if let Err(msg) = &r {
            self.message = Some(format!("e {}: {}", self.fstype.name(), msg));
        }
        r.map_err(|_| Errno::EINVAL)
    }

    fn parse(&mut self, key: &str, value: Value<'_>, total_bytes: u64) -> Result<(), String> {
        let string = || match value {
            Value::Str(s) => Ok(s),
            _ => Err(format!("Bad value for '{key}'")),
        };
        let number = |radix: u32| {
            string().and_then(|s| {
                u32::from_str_radix(s, radix).map_err(|_| format!("Bad value for '{key}'"))
            })
        };
        // The keys every type takes (Linux's vfs_parse_fs_param).
        match (key, value) {
            ("source", Value::Str(s)) => {
                if self.source.is_some() {
                    return Err(String::from("VFS: Multiple sources"));
                }
                self.source = Some(String::from(s));
                return Ok(());
            }
            ("source", _) => return Err(String::from("VFS: Non-string source")),
            ("ro", _) => {
                self.read_only = true;
                return Ok(());
            }
            ("rw", _) => {
                self.read_only = false;
                return Ok(());
            }
            _ => {}
        }
        match (self.fstype, key) {
            (FsType::Tmpfs, "size") => {
                let pages = super::ramfs::parse_size(string()?, total_bytes)
                    .ok_or_else(|| format!("Bad value for '{key}'"))?;
                self.size = Some(pages);
            }
            (FsType::Tmpfs | FsType::Ramfs, "mode") => self.mode = Some(number(8)? & 0o7777),
            (FsType::Tmpfs, "uid") => self.uid = Some(number(10)?),
            (FsType::Tmpfs, "gid") => self.gid = Some(number(10)?),
            // Every devpts mount is a new instance already.
            (FsType::Devpts, "newinstance") if matches!(value, Value::Flag) => {}
            // ramfs has always ignored options it does not know.
            (FsType::Ramfs, _) => {}
            _ => return Err(format!("Unknown parameter '{key}'")),
        }
        Ok(())
    }

    /// `FSCONFIG_CMD_CREATE` begins: `EBUSY` unless still taking parameters.
    pub fn begin_create(&self) -> Result<(), Errno> {
        if self.phase != Phase::Params {
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    /// `FSCONFIG_CMD_RECONFIGURE` of an `fspick` configuration: the new tmpfs size in
    /// pages, if one was set (`mode=`, `uid=`, `gid=` are ignored on a reconfigure, as
    /// Linux's tmpfs does). `EBUSY` for a configuration not from `fspick`; `EINVAL`
    /// for `ro` (Bulkhead has no read-only superblocks: `mount_setattr` makes a mount
    /// read-only). The parameters are cleared for the next one, as Linux's.
    pub fn take_reconfigure(&mut self) -> Result<Option<u64>, Errno> {
        if self.phase != Phase::Reconfig {
            return Err(Errno::EBUSY);
        }
        let read_only = self.read_only;
        let size = self.size;
        *self = FsConfig::for_reconfigure(self.fstype);
        if read_only {
            self.message = Some(format!(
                "e {}: read-only superblocks are not supported",
                self.fstype.name()
            ));
            return Err(Errno::EINVAL);
        }
        Ok(size)
    }
}

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x200000;

/// The `MOUNT_ATTR_*` bits Linux knows; of them Bulkhead refuses `IDMAP` (no idmapped
/// mounts) and `NOSYMFOLLOW` (no such per-mount flag) with `EINVAL`.
const KNOWN: u64 = MOUNT_ATTR_RDONLY
    | MOUNT_ATTR_NOSUID
    | MOUNT_ATTR_NODEV
    | MOUNT_ATTR_NOEXEC
    | MOUNT_ATTR__ATIME
    | MOUNT_ATTR_NODIRATIME;

/// Per-mount flags (`MS_*`) of `MOUNT_ATTR_*` bits other than the atime field.
fn flags_of(attr: u64) -> u64 {
    [
        (MOUNT_ATTR_RDONLY, MS_RDONLY),
        (MOUNT_ATTR_NOSUID, MS_NOSUID),
        (MOUNT_ATTR_NODEV, MS_NODEV),
        (MOUNT_ATTR_NOEXEC, MS_NOEXEC),
        (MOUNT_ATTR_NODIRATIME, MS_NODIRATIME),
    ]
    .iter()
    .filter(|(a, _)| attr & a != 0)
    .fold(0, |acc, (_, f)| acc | f)
}

/// The atime mode of `MOUNT_ATTR__ATIME`'s field as `MS_*` flags; `EINVAL` for an
/// undefined value.
fn atime_flags(field: u64) -> Result<u64, Errno> {
    match field & MOUNT_ATTR__ATIME {
        MOUNT_ATTR_RELATIME => Ok(0),
        MOUNT_ATTR_NOATIME => Ok(MS_NOATIME),
        MOUNT_ATTR_STRICTATIME => Ok(MS_STRICTATIME),
        _ => Err(Errno::EINVAL),
    }
}

/// `fsmount`'s `attr_flags` as per-mount flags: `EINVAL` for bits outside
/// `MOUNT_ATTR_*` (and the refused ones) or an undefined atime value.
pub fn fsmount_flags(attr: u64) -> Result<u64, Errno> {
    if attr & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(flags_of(attr) | atime_flags(attr)?)
}

/// `struct mount_attr` decoded: the flags to set, the flags to clear, and the
/// propagation change (0 or one of `MS_SHARED`/`MS_SLAVE`/`MS_PRIVATE`/`MS_UNBINDABLE`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SetAttr {
    pub set: u64,
    pub clear: u64,
    pub propagation: u64,
}

/// Linux's `build_mount_kattr`: `EINVAL` for unknown or refused bits, a propagation
/// that is not exactly one of the four, or an atime field changed without being
/// cleared whole (`MOUNT_ATTR__ATIME` in `attr_clr`) or set to an undefined value.
pub fn decode_mount_attr(attr_set: u64, attr_clr: u64, propagation: u64) -> Result<SetAttr, Errno> {
    if !matches!(
        propagation,
        0 | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE
    ) {
        return Err(Errno::EINVAL);
    }
    if (attr_set | attr_clr) & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let mut set = flags_of(attr_set);
    let mut clear = flags_of(attr_clr);
    if attr_clr & MOUNT_ATTR__ATIME != 0 {
        if attr_clr & MOUNT_ATTR__ATIME != MOUNT_ATTR__ATIME {
            return Err(Errno::EINVAL);
        }
        clear |= MS_NOATIME | MS_STRICTATIME;
        set |= atime_flags(attr_set)?;
    } else if attr_set & MOUNT_ATTR__ATIME != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(SetAttr {
        set,
        clear,
        propagation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_per_type_and_locked_after_create() {
        let mut c = FsConfig::new(FsType::Tmpfs);
        assert_eq!(c.set("size", Value::Str("1m"), 1 << 30), Ok(()));
        assert_eq!(c.size, Some(256), "1 MiB in pages");
        assert_eq!(c.set("mode", Value::Str("1777"), 0), Ok(()));
        assert_eq!(c.mode, Some(0o1777));
        assert_eq!(
            c.set("size", Value::Flag, 0),
            Err(Errno::EINVAL),
            "a string key"
        );
        assert_eq!(c.set("mode", Value::Str("9"), 0), Err(Errno::EINVAL));
        assert_eq!(c.set("nosuchkey", Value::Str("x"), 0), Err(Errno::EINVAL));
        assert_eq!(
            c.message.as_deref(),
            Some("e tmpfs: Unknown parameter 'nosuchkey'")
        );
        assert_eq!(c.set("source", Value::Str("mine"), 0), Ok(()));
        assert_eq!(c.set("source", Value::Str("again"), 0), Err(Errno::EINVAL));
        assert_eq!(c.set("ro", Value::Flag, 0), Ok(()));
        assert!(c.read_only);
        assert_eq!(c.begin_create(), Ok(()));
        c.phase = Phase::Created;
        assert_eq!(c.begin_create(), Err(Errno::EBUSY), "created once");
        assert_eq!(c.set("mode", Value::Str("700"), 0), Err(Errno::EBUSY));
    }

    #[test]
    fn an_fspick_configuration_reconfigures_and_never_creates() {
        let mut c = FsConfig::for_reconfigure(FsType::Tmpfs);
        assert_eq!(c.begin_create(), Err(Errno::EBUSY));
        assert_eq!(c.set("size", Value::Str("8k"), 0), Ok(()));
        assert_eq!(c.take_reconfigure(), Ok(Some(2)));
        assert_eq!(c.take_reconfigure(), Ok(None), "parameters cleared");
        assert_eq!(c.set("ro", Value::Flag, 0), Ok(()));
        assert_eq!(c.take_reconfigure(), Err(Errno::EINVAL));
        assert_eq!(c.phase, Phase::Reconfig, "still usable");
        let mut other = FsConfig::for_reconfigure(FsType::Other("rootfs"));
        assert_eq!(other.set("size", Value::Str("1m"), 0), Err(Errno::EINVAL));
        assert_eq!(
            other.message.as_deref(),
            Some("e rootfs: Unknown parameter 'size'")
        );
        assert_eq!(
            FsConfig::new(FsType::Tmpfs).take_reconfigure(),
            Err(Errno::EBUSY)
        );
    }

    #[test]
    fn types_without_parameters_refuse_them_but_ramfs_ignores_them() {
        for name in ["proc", "sysfs", "cgroup2", "mqueue", "devpts"] {
            let ty = FsType::from_name(name).expect("known");
            assert_eq!(ty.name(), name);
            let mut c = FsConfig::new(ty);
            assert_eq!(
                c.set("size", Value::Str("1m"), 0),
                Err(Errno::EINVAL),
                "{name}"
            );
            assert_eq!(c.set("source", Value::Str(name), 0), Ok(()));
        }
        let mut d = FsConfig::new(FsType::Devpts);
        assert_eq!(d.set("newinstance", Value::Flag, 0), Ok(()));
        let mut r = FsConfig::new(FsType::Ramfs);
        assert_eq!(r.set("whatever", Value::Other, 0), Ok(()));
        assert_eq!(FsType::from_name("ext4"), None);
    }

    #[test]
    fn mount_attr_bits_become_mount_flags_and_bad_ones_einval() {
        assert_eq!(
            fsmount_flags(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOATIME),
            Ok(MS_RDONLY | MS_NOEXEC | MS_NOATIME)
        );
        assert_eq!(fsmount_flags(0x30), Err(Errno::EINVAL), "undefined atime");
        assert_eq!(fsmount_flags(MOUNT_ATTR_IDMAP), Err(Errno::EINVAL));
        assert_eq!(fsmount_flags(1 << 40), Err(Errno::EINVAL));
        assert_eq!(
            decode_mount_attr(MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MS_PRIVATE),
            Ok(SetAttr {
                set: MS_RDONLY,
                clear: MS_NOSUID,
                propagation: MS_PRIVATE
            })
        );
        assert_eq!(
            decode_mount_attr(MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, 0),
            Ok(SetAttr {
                set: MS_STRICTATIME,
                clear: MS_NOATIME | MS_STRICTATIME,
                propagation: 0
            })
        );
        assert_eq!(
            decode_mount_attr(MOUNT_ATTR_NOATIME, 0, 0),
            Err(Errno::EINVAL),
            "atime set without clearing the field"
        );
        assert_eq!(
            decode_mount_attr(0, 0, MS_SHARED | MS_SLAVE),
            Err(Errno::EINVAL)
        );
        assert_eq!(decode_mount_attr(0, 0, 1), Err(Errno::EINVAL));
        assert_eq!(
            decode_mount_attr(MOUNT_ATTR_IDMAP, 0, 0),
            Err(Errno::EINVAL)
        );
    }
}
