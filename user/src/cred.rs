//! Helpers for the credential and capability tests (`t_caps`, `t_user`): the uid/gid system
//! calls (`setuid` family, `getresuid`, `setfsuid`, groups), `capget`/`capset` with the
//! `_LINUX_CAPABILITY_VERSION_3` layout, the capability `prctl`s, capability numbers, the
//! privileged calls the tests probe (`chroot`, `umount2`, `reboot`, `clock_settime`,
//! `settimeofday`, `setpriority`), `/proc/[pid]/{uid_map,gid_map,setgroups}` and the id and
//! capability lines of `/proc/[pid]/status`.
//!
//! Every wrapper is the raw Linux system call (x86_64 numbers), so the programs run unchanged on
//! a Linux host, which is the oracle.

use crate::container::{read_text, write_text};
use crate::sys::{self, SysResult, check, syscall1, syscall2, syscall3, syscall5};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Linux x86_64 numbers of the calls used here (beyond `sys::nr` and `container::cnr`).
pub mod nr {
    pub const CHMOD: usize = 90;
    pub const UMASK: usize = 95;
    pub const GETRLIMIT: usize = 97;
    pub const SETUID: usize = 105;
    pub const SETGID: usize = 106;
    pub const SETREUID: usize = 113;
    pub const SETREGID: usize = 114;
    pub const GETGROUPS: usize = 115;
    pub const SETGROUPS: usize = 116;
    pub const SETRESUID: usize = 117;
    pub const GETRESUID: usize = 118;
    pub const SETRESGID: usize = 119;
    pub const GETRESGID: usize = 120;
    pub const SETFSUID: usize = 122;
    pub const SETFSGID: usize = 123;
    pub const CAPGET: usize = 125;
    pub const CAPSET: usize = 126;
    pub const GETPRIORITY: usize = 140;
    pub const SETPRIORITY: usize = 141;
    pub const PRCTL: usize = 157;
    pub const CHROOT: usize = 161;
    pub const SETTIMEOFDAY: usize = 164;
    pub const UMOUNT2: usize = 166;
    pub const REBOOT: usize = 169;
    pub const CLOCK_SETTIME: usize = 227;
}

// Capability numbers (capability.h).
pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_MAC_OVERRIDE: u32 = 32;
/// The highest capability Bulkhead knows (Linux 5.9+: `CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST_CAP: u32 = 40;

/// The capabilities an fsuid change from 0 to non-zero clears from the effective set
/// (capabilities(7), `CAP_FS_MASK`).
pub const CAP_FS_MASK: u64 = bit(CAP_CHOWN)
    | bit(CAP_DAC_OVERRIDE)
    | bit(CAP_DAC_READ_SEARCH)
    | bit(CAP_FOWNER)
    | bit(CAP_FSETID)
    | bit(CAP_LINUX_IMMUTABLE)
    | bit(CAP_MKNOD)
    | bit(CAP_MAC_OVERRIDE);

pub const fn bit(cap: u32) -> u64 {
    1 << cap
}

/// `_LINUX_CAPABILITY_VERSION_3` (two data structs).
pub const CAP_V3: u32 = 0x2008_0522;
/// `_LINUX_CAPABILITY_VERSION_1` (one data struct).
pub const CAP_V1: u32 = 0x1998_0330;

// prctl options.
pub const PR_GET_DUMPABLE: usize = 3;
pub const PR_SET_DUMPABLE: usize = 4;
pub const PR_GET_KEEPCAPS: usize = 7;
pub const PR_SET_KEEPCAPS: usize = 8;
pub const PR_CAPBSET_READ: usize = 23;
pub const PR_CAPBSET_DROP: usize = 24;
pub const PR_SET_NO_NEW_PRIVS: usize = 38;
pub const PR_GET_NO_NEW_PRIVS: usize = 39;
pub const PR_CAP_AMBIENT: usize = 47;
pub const PR_CAP_AMBIENT_IS_SET: usize = 1;
pub const PR_CAP_AMBIENT_RAISE: usize = 2;
pub const PR_CAP_AMBIENT_LOWER: usize = 3;
pub const PR_CAP_AMBIENT_CLEAR_ALL: usize = 4;

/// The id the kernel shows for an id with no mapping in the reader's user container.
pub const OVERFLOW_ID: u32 = 65534;
/// `(uid_t)-1`: "leave unchanged" for the set*id calls.
pub const KEEP: u32 = u32::MAX;

/// The full capability set: bits 0..=CAP_LAST_CAP (the set of root, and of the first process of
/// a new user container). On Linux the last capability comes from
/// `/proc/sys/kernel/cap_last_cap`.
pub fn full_set() -> u64 {
    let last = read_text("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .unwrap_or(CAP_LAST_CAP);
    (1u64 << (last + 1)) - 1
}

/// `cap_user_header_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapHeader {
    pub version: u32,
    pub pid: i32,
}

/// One `cap_user_data_t` element (v3 has two: bits 0..31, then 32..63).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

/// The three capability sets `capget`/`capset` carry, as 64-bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

impl Caps {
    pub fn from_data(d: &[CapData; 2]) -> Caps {
        let join = |lo: u32, hi: u32| lo as u64 | (hi as u64) << 32;
        Caps {
            effective: join(d[0].effective, d[1].effective),
            permitted: join(d[0].permitted, d[1].permitted),
            inheritable: join(d[0].inheritable, d[1].inheritable),
        }
    }

    pub fn to_data(self) -> [CapData; 2] {
        [
            CapData {
                effective: self.effective as u32,
                permitted: self.permitted as u32,
                inheritable: self.inheritable as u32,
            },
            CapData {
                effective: (self.effective >> 32) as u32,
                permitted: (self.permitted >> 32) as u32,
                inheritable: (self.inheritable >> 32) as u32,
            },
        ]
    }

    /// All three sets equal to `mask`, except inheritable (empty).
    pub fn ep(mask: u64) -> Caps {
        Caps {
            effective: mask,
            permitted: mask,
            inheritable: 0,
        }
    }
}

/// Raw `capget(hdr, data)`; `data` may be absent (a NULL pointer: the version probe).
pub fn capget_raw(hdr: &mut CapHeader, data: Option<&mut [CapData; 2]>) -> SysResult {
    let d = data.map_or(0, |d| d.as_mut_ptr() as usize);
    // SAFETY: both pointers come from references the kernel may write.
    check(unsafe { syscall2(nr::CAPGET, hdr as *mut CapHeader as usize, d) })
}

/// Raw `capset(hdr, data)`. The header is writable: a bad version makes the kernel write its
/// preferred one back.
pub fn capset_raw(hdr: &mut CapHeader, data: &[CapData; 2]) -> SysResult {
    // SAFETY: both pointers come from references.
    check(unsafe {
        syscall2(
            nr::CAPSET,
            hdr as *mut CapHeader as usize,
            data.as_ptr() as usize,
        )
    })
}

/// `capget` (v3) of `pid` (0: the caller).
pub fn capget(pid: i32) -> SysResult<Caps> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid,
    };
    let mut data = [CapData::default(); 2];
    capget_raw(&mut hdr, Some(&mut data))?;
    Ok(Caps::from_data(&data))
}

/// The caller's sets (all zero when `capget` fails, which the checks then show).
pub fn caps() -> Caps {
    capget(0).unwrap_or_default()
}

/// `capset` (v3) of the caller.
pub fn capset(c: Caps) -> SysResult {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    capset_raw(&mut hdr, &c.to_data())
}

/// Removes `mask` from the caller's effective, permitted and inheritable sets.
pub fn drop_caps(mask: u64) -> SysResult {
    let c = capget(0)?;
    capset(Caps {
        effective: c.effective & !mask,
        permitted: c.permitted & !mask,
        inheritable: c.inheritable & !mask,
    })
}

/// Removes one capability from the caller's effective, permitted and inheritable sets.
pub fn drop_cap(cap: u32) -> SysResult {
    drop_caps(bit(cap))
}

/// Makes the effective set equal to the permitted set.
pub fn raise_effective() -> SysResult {
    let c = capget(0)?;
    capset(Caps {
        effective: c.permitted,
        ..c
    })
}

/// `prctl(option, a2, a3, a4, a5)`.
pub fn prctl(option: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> SysResult {
    // SAFETY: only integer options are used.
    check(unsafe { syscall5(nr::PRCTL, option, a2, a3, a4, a5) })
}

pub fn set_keepcaps(on: bool) -> SysResult {
    prctl(PR_SET_KEEPCAPS, on as usize, 0, 0, 0)
}

pub fn get_keepcaps() -> SysResult {
    prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0)
}

/// `PR_SET_DUMPABLE 1`: after a uid change Linux makes a process non-dumpable, which makes its
/// `/proc/[pid]` files root's; the tests that write their own maps set it back.
pub fn set_dumpable() -> SysResult {
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
}

pub fn bset_read(cap: u32) -> SysResult {
    prctl(PR_CAPBSET_READ, cap as usize, 0, 0, 0)
}

pub fn bset_drop(cap: u32) -> SysResult {
    prctl(PR_CAPBSET_DROP, cap as usize, 0, 0, 0)
}

/// The bounding set, read capability by capability up to the first `EINVAL`.
pub fn bset() -> u64 {
    let mut m = 0;
    for cap in 0..64 {
        match bset_read(cap) {
            Ok(1) => m |= bit(cap),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    m
}

pub fn ambient(op: usize, cap: u32) -> SysResult {
    prctl(PR_CAP_AMBIENT, op, cap as usize, 0, 0)
}

/// The ambient set, read capability by capability up to the first `EINVAL`.
pub fn ambient_set() -> u64 {
    let mut m = 0;
    for cap in 0..64 {
        match ambient(PR_CAP_AMBIENT_IS_SET, cap) {
            Ok(1) => m |= bit(cap),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    m
}

pub fn set_no_new_privs() -> SysResult {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
}

pub fn get_no_new_privs() -> SysResult {
    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
}

// ---------------------------------------------------------------------------------------------
// Ids

fn id(v: u32) -> usize {
    v as usize
}

pub fn setuid(uid: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(nr::SETUID, id(uid)) })
}

pub fn setgid(gid: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(nr::SETGID, id(gid)) })
}

pub fn setreuid(r: u32, e: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(nr::SETREUID, id(r), id(e)) })
}

pub fn setregid(r: u32, e: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(nr::SETREGID, id(r), id(e)) })
}

pub fn setresuid(r: u32, e: u32, s: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::SETRESUID, id(r), id(e), id(s)) })
}

pub fn setresgid(r: u32, e: u32, s: u32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::SETRESGID, id(r), id(e), id(s)) })
}

fn get3(n: usize) -> SysResult<(u32, u32, u32)> {
    let (mut r, mut e, mut s) = (0u32, 0u32, 0u32);
    // SAFETY: three writable u32s.
    check(unsafe {
        syscall3(
            n,
            &mut r as *mut u32 as usize,
            &mut e as *mut u32 as usize,
            &mut s as *mut u32 as usize,
        )
    })?;
    Ok((r, e, s))
}

/// `(ruid, euid, suid)`.
pub fn getresuid() -> SysResult<(u32, u32, u32)> {
    get3(nr::GETRESUID)
}

/// `(rgid, egid, sgid)`.
pub fn getresgid() -> SysResult<(u32, u32, u32)> {
    get3(nr::GETRESGID)
}

/// `setfsuid` returns the previous fsuid, whether or not it changed anything.
pub fn setfsuid(uid: u32) -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall1(nr::SETFSUID, id(uid)) as u32 }
}

pub fn setfsgid(gid: u32) -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall1(nr::SETFSGID, id(gid)) as u32 }
}

/// The current fsuid (`setfsuid(-1)` changes nothing and returns it).
pub fn fsuid() -> u32 {
    setfsuid(KEEP)
}

pub fn fsgid() -> u32 {
    setfsgid(KEEP)
}

/// Raw `getgroups(size, list)`.
pub fn getgroups_raw(size: usize, list: usize) -> SysResult {
    // SAFETY: the caller passes a buffer of `size` u32s or 0.
    check(unsafe { syscall2(nr::GETGROUPS, size, list) })
}

pub fn getgroups() -> SysResult<Vec<u32>> {
    let n = getgroups_raw(0, 0)?;
    let mut v = alloc::vec![0u32; n];
    let got = getgroups_raw(n, v.as_mut_ptr() as usize)?;
    v.truncate(got);
    Ok(v)
}

pub fn setgroups(groups: &[u32]) -> SysResult {
    // SAFETY: the slice holds `len` u32s.
    check(unsafe { syscall2(nr::SETGROUPS, groups.len(), groups.as_ptr() as usize) })
}

/// Raw `setgroups(size, list)`.
pub fn setgroups_raw(size: usize, list: usize) -> SysResult {
    // SAFETY: the caller passes a buffer of `size` u32s, or a deliberately bad one.
    check(unsafe { syscall2(nr::SETGROUPS, size, list) })
}

/// Becomes an ordinary user the classic way: no supplementary groups, gid and uid `uid`, without
/// `PR_SET_KEEPCAPS` (so every capability is gone), then dumpable again (see [`set_dumpable`]).
pub fn become_user(uid: u32) -> SysResult {
    setgroups(&[])?;
    setgid(uid)?;
    setuid(uid)?;
    let _ = set_dumpable();
    Ok(0)
}

/// Becomes `uid`/`gid` but keeps the whole permitted set, effective again
/// (`PR_SET_KEEPCAPS` + `capset`: the port of LiteOS-A's "capabilities survive setuid").
pub fn become_user_keeping_caps(uid: u32, gid: u32) -> SysResult {
    set_keepcaps(true)?;
    setgroups(&[])?;
    setgid(gid)?;
    setuid(uid)?;
    raise_effective()?;
    let _ = set_dumpable();
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// Other privileged calls

fn cpath(path: &str) -> alloc::ffi::CString {
    alloc::ffi::CString::new(path).expect("path has a NUL")
}

pub fn chroot(path: &str) -> SysResult {
    let p = cpath(path);
    // SAFETY: a NUL-terminated path.
    check(unsafe { syscall1(nr::CHROOT, p.as_ptr() as usize) })
}

pub fn chmod(path: &str, mode: u32) -> SysResult {
    let p = cpath(path);
    // SAFETY: a NUL-terminated path.
    check(unsafe { syscall2(nr::CHMOD, p.as_ptr() as usize, mode as usize) })
}

/// `umask(mask)`; returns the old mask.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall1(nr::UMASK, mask as usize) as u32 }
}

pub fn umount2(path: &str, flags: usize) -> SysResult {
    let p = cpath(path);
    // SAFETY: a NUL-terminated path.
    check(unsafe { syscall2(nr::UMOUNT2, p.as_ptr() as usize, flags) })
}

/// `mount(source, target, fstype, flags, NULL)`.
pub fn mount(source: &str, target: &str, fstype: &str, flags: usize) -> SysResult {
    let (s, t, f) = (cpath(source), cpath(target), cpath(fstype));
    sys::mount(&s, &t, &f, flags)
}

pub const MS_REC: usize = 0x4000;
pub const MS_PRIVATE: usize = 1 << 18;

/// `mount(NULL, "/", NULL, MS_REC|MS_PRIVATE)`: keeps a new mount container's mounts from
/// propagating to the host's (Linux hosts mount `/` shared).
pub fn make_root_private() -> SysResult {
    // SAFETY: a NUL-terminated path; NULL source, type and data.
    check(unsafe {
        syscall5(
            sys::nr::MOUNT,
            0,
            c"/".as_ptr() as usize,
            0,
            MS_REC | MS_PRIVATE,
            0,
        )
    })
}

pub const LINUX_REBOOT_MAGIC1: usize = 0xfee1_dead;
pub const LINUX_REBOOT_MAGIC2: usize = 672_274_793;
/// A `reboot` command no kernel knows: with the capability the call gives `EINVAL` and does
/// nothing (never a real command: the tests must not power the machine off).
pub const REBOOT_CMD_INVALID: usize = 0x1234_5678;

pub fn reboot_invalid_cmd() -> SysResult {
    // SAFETY: no pointer; the command is invalid.
    check(unsafe {
        syscall3(
            nr::REBOOT,
            LINUX_REBOOT_MAGIC1,
            LINUX_REBOOT_MAGIC2,
            REBOOT_CMD_INVALID,
        )
    })
}

pub fn clock_settime(clock: usize, ts: &sys::Timespec) -> SysResult {
    // SAFETY: a reference to a timespec.
    check(unsafe {
        syscall2(
            nr::CLOCK_SETTIME,
            clock,
            ts as *const sys::Timespec as usize,
        )
    })
}

/// `struct timeval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

pub fn settimeofday(tv: &Timeval) -> SysResult {
    // SAFETY: a reference to a timeval; NULL timezone.
    check(unsafe { syscall2(nr::SETTIMEOFDAY, tv as *const Timeval as usize, 0) })
}

pub const PRIO_PROCESS: usize = 0;

/// `setpriority(PRIO_PROCESS, pid, nice)`.
pub fn setpriority(pid: i32, nice: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe {
        syscall3(
            nr::SETPRIORITY,
            PRIO_PROCESS,
            pid as isize as usize,
            nice as isize as usize,
        )
    })
}

/// The nice value of `pid` (the raw `getpriority` returns `20 - nice`).
pub fn getnice(pid: i32) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall2(nr::GETPRIORITY, PRIO_PROCESS, pid as isize as usize) })
        .map(|v| 20 - v as i32)
}

// ---------------------------------------------------------------------------------------------
// /proc

/// `/proc/<pid>/<file>` (`pid` may be "self").
pub fn proc_path(pid: &str, file: &str) -> String {
    format!("/proc/{}/{}", pid, file)
}

/// Writes `text` to `/proc/<pid>/<file>` (`uid_map`, `gid_map`, `setgroups`) with one `write`.
pub fn write_proc(pid: &str, file: &str, text: &str) -> SysResult {
    write_text(&proc_path(pid, file), text.as_bytes())
}

/// The extents of a `uid_map`/`gid_map` text (`None` if a line is not three numbers).
pub fn parse_map(text: &str) -> Option<Vec<(u32, u32, u32)>> {
    text.lines()
        .map(|l| {
            let mut it = l.split_ascii_whitespace().map(|w| w.parse::<u32>().ok());
            let t = (it.next()??, it.next()??, it.next()??);
            it.next().is_none().then_some(t)
        })
        .collect()
}

/// One map line as Linux prints it: `"%10u %10u %10u\n"`.
pub fn map_line(inside: u32, outside: u32, count: u32) -> String {
    format!("{:>10} {:>10} {:>10}\n", inside, outside, count)
}

/// The four ids (real, effective, saved, fs) of the `Uid:` or `Gid:` line of
/// `/proc/<pid>/status`.
pub fn status_ids(pid: &str, key: &str) -> Option<[u32; 4]> {
    let v = crate::container::status_field(pid, key)?;
    let mut it = v.split_ascii_whitespace().map(|w| w.parse::<u32>().ok());
    Some([it.next()??, it.next()??, it.next()??, it.next()??])
}

/// A capability line (`CapInh`, `CapPrm`, `CapEff`, `CapBnd`, `CapAmb`) of `/proc/<pid>/status`.
pub fn status_caps(pid: &str, key: &str) -> Option<u64> {
    let v = crate::container::status_field(pid, key)?;
    u64::from_str_radix(&v, 16).ok()
}
