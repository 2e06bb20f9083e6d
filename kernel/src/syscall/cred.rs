//! Identity and capability system calls: the get/set uid and gid families,
//! supplementary groups, `capget`/`capset`, and the capability `prctl`s.

use super::as_i32;
use super::table::syscalls;
use crate::cred::{
    self, CAP_FULL, CAP_LAST_CAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, Credentials, cap_bit,
};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_from_user, copy_to_user, read_user, write_user};
use crate::task::{self, Process};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

syscalls! {
    frame, a;
    102 => Ok(uid_as_seen(|c| c.uid) as usize),
    107 => Ok(uid_as_seen(|c| c.euid) as usize),
    104 => Ok(gid_as_seen(|c| c.gid) as usize),
    108 => Ok(gid_as_seen(|c| c.egid) as usize),
    118 => put_three(
        a,
        [uid_as_seen(|c| c.uid), uid_as_seen(|c| c.euid), uid_as_seen(|c| c.suid)],
    ),
    120 => put_three(
        a,
        [gid_as_seen(|c| c.gid), gid_as_seen(|c| c.egid), gid_as_seen(|c| c.sgid)],
    ),
    105 => set_ids(false, [Some(a[0]), None, None], Mode::Setid),
    106 => set_ids(true, [Some(a[0]), None, None], Mode::Setid),
    113 => set_ids(false, [opt(a[0]), opt(a[1]), None], Mode::Setre),
    114 => set_ids(true, [opt(a[0]), opt(a[1]), None], Mode::Setre),
    117 => set_ids(false, [opt(a[0]), opt(a[1]), opt(a[2])], Mode::Setres),
    119 => set_ids(true, [opt(a[0]), opt(a[1]), opt(a[2])], Mode::Setres),
    122 => setfsid(false, a[0]),
    123 => setfsid(true, a[0]),
    115 => getgroups(a[0], a[1]),
    116 => setgroups(a[0], a[1]),
    125 => capget(a[0], a[1]),
    126 => capset(a[0], a[1]),
    157 => prctl(a[0], a[1], a[2], a[3] | a[4]),
}

/// One of the caller's user ids as its own user container sees it.
fn uid_as_seen(id: impl Fn(&Credentials) -> u32) -> u32 {
    let c = task::current_cred();
    c.view_uid(id(&c))
}

/// One of the caller's group ids as its own user container sees it.
fn gid_as_seen(id: impl Fn(&Credentials) -> u32) -> u32 {
    let c = task::current_cred();
    c.view_gid(id(&c))
}

/// `-1` (as a 32-bit id) means "unchanged".
fn opt(v: u64) -> Option<u64> {
    if v as u32 == u32::MAX { None } else { Some(v) }
}

fn put_three(a: [u64; 6], v: [u32; 3]) -> SysResult {
    for (p, x) in a.iter().zip(v) {
        write_user(*p, &x)?;
    }
    Ok(0)
}

/// Installs new credentials for the caller.
pub fn commit(p: &Arc<Process>, c: Credentials) {
    p.inner.lock().cred = Arc::new(c);
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Mode {
    Setid,
    Setre,
    Setres,
}

/// The setuid/setgid families (`gid` picks the group ids), with capabilities(7)'s
/// effects on the capability sets.
fn set_ids(gid: bool, args: [Option<u64>; 3], mode: Mode) -> SysResult {
    let p = task::current_process();
    let old = p.cred();
    let cap = if gid { CAP_SETGID } else { CAP_SETUID };
    let privileged = old.capable(cap);
    let to_kernel = |v: u64| -> Result<u32, Errno> {
        let id = v as u32;
        let k = if gid {
            old.user.gid_to_kernel(id)
        } else {
            old.user.uid_to_kernel(id)
        };
        k.ok_or(Errno::EINVAL)
    };
    let (r, e, s) = if gid {
        (old.gid, old.egid, old.sgid)
    } else {
        (old.uid, old.euid, old.suid)
    };
    let mut new = (*old).clone();
    let (mut nr, mut ne, mut ns) = (r, e, s);
    match mode {
        Mode::Setid => {
            let id = to_kernel(args[0].ok_or(Errno::EINVAL)?)?;
            if privileged {
                (nr, ne, ns) = (id, id, id);
            } else if id == r || id == s {
                ne = id;
            } else {
                return Err(Errno::EPERM);
            }
        }
        Mode::Setre => {
            let want_r = args[0].map(to_kernel).transpose()?;
            let want_e = args[1].map(to_kernel).transpose()?;
            if !privileged
                && (want_r.is_some_and(|x| x != r && x != e)
                    || want_e.is_some_and(|x| x != r && x != e && x != s))
            {
                return Err(Errno::EPERM);
            }
            if let Some(x) = want_r {
                nr = x;
            }
            if let Some(x) = want_e {
                ne = x;
            }
            if want_r.is_some() || want_e.is_some_and(|x| x != r) {
                ns = ne;
            }
        }
        Mode::Setres => {
            let wants: [Option<u32>; 3] = [
                args[0].map(to_kernel).transpose()?,
                args[1].map(to_kernel).transpose()?,
                args[2].map(to_kernel).transpose()?,
            ];
            if !privileged
                && wants
                    .iter()
                    .flatten()
                    .any(|x| *x != r && *x != e && *x != s)
            {
                return Err(Errno::EPERM);
            }
            nr = wants[0].unwrap_or(r);
            ne = wants[1].unwrap_or(e);
            ns = wants[2].unwrap_or(s);
        }
    }
    if gid {
        (new.gid, new.egid, new.sgid, new.fsgid) = (nr, ne, ns, ne);
    } else {
        (new.uid, new.euid, new.suid, new.fsuid) = (nr, ne, ns, ne);
        new.fixup_caps_after_uid_change(&old);
    }
    commit(&p, new);
    Ok(0)
}

/// `setfsuid`/`setfsgid`: always return the old value; change it when allowed.
fn setfsid(gid: bool, v: u64) -> SysResult {
    let p = task::current_process();
    let old = p.cred();
    let prev = if gid {
        old.view_gid(old.fsgid)
    } else {
        old.view_uid(old.fsuid)
    };
    let k = if gid {
        old.user.gid_to_kernel(v as u32)
    } else {
        old.user.uid_to_kernel(v as u32)
    };
    if let Some(k) = k {
        let allowed_ids = if gid {
            [old.gid, old.egid, old.sgid, old.fsgid]
        } else {
            [old.uid, old.euid, old.suid, old.fsuid]
        };
        let cap = if gid { CAP_SETGID } else { CAP_SETUID };
        if old.capable(cap) || allowed_ids.contains(&k) {
            let mut new = (*old).clone();
            if gid {
                new.fsgid = k;
            } else {
                new.fsuid = k;
                new.fixup_caps_after_uid_change(&old);
            }
            commit(&p, new);
        }
    }
    Ok(prev as usize)
}

fn getgroups(size: u64, list: u64) -> SysResult {
    let c = task::current_cred();
    let n = c.groups.len();
    if size == 0 {
        return Ok(n);
    }
    if (as_i32(size) as i64) < n as i64 {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = c
        .groups
        .iter()
        .flat_map(|g| c.view_gid(*g).to_le_bytes())
        .collect();
    copy_to_user(list, &bytes)?;
    Ok(n)
}

fn setgroups(size: u64, list: u64) -> SysResult {
    const NGROUPS_MAX: u64 = 65536;
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let p = task::current_process();
    let old = p.cred();
    if !old.capable(CAP_SETGID) || old.user.setgroups_denied() {
        return Err(Errno::EPERM);
    }
    let mut raw = vec![0u8; size as usize * 4];
    copy_from_user(list, &mut raw)?;
    let mut groups = Vec::with_capacity(size as usize);
    for g in raw.chunks_exact(4) {
        let g = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
        groups.push(old.user.gid_to_kernel(g).ok_or(Errno::EINVAL)?);
    }
    groups.sort_unstable();
    let mut new = (*old).clone();
    new.groups = groups;
    commit(&p, new);
    Ok(0)
}

/// Reads the capget/capset header; an unknown version gets the preferred one written back.
fn cap_header(hdr: u64) -> Result<(u32, i32), Errno> {
    let [version, pid]: [u32; 2] = read_user(hdr)?;
    match version {
        cred::LINUX_CAPABILITY_VERSION_1
        | cred::LINUX_CAPABILITY_VERSION_2
        | cred::LINUX_CAPABILITY_VERSION_3 => Ok((version, pid as i32)),
        _ => {
            write_user(hdr, &cred::LINUX_CAPABILITY_VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

fn words(version: u32) -> usize {
    if version == cred::LINUX_CAPABILITY_VERSION_1 {
        1
    } else {
        2
    }
}

fn capget(hdr: u64, data: u64) -> SysResult {
    let (version, pid) = match cap_header(hdr) {
        Ok(v) => v,
        Err(e) if data == 0 => return if e == Errno::EINVAL { Ok(0) } else { Err(e) },
        Err(e) => return Err(e),
    };
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let c = if pid == 0 {
        task::current_cred()
    } else {
        task::find_process(pid as u32).ok_or(Errno::ESRCH)?.cred()
    };
    if data == 0 {
        return Ok(0);
    }
    let mut out = Vec::new();
    for i in 0..words(version) {
        for set in [c.cap_effective, c.cap_permitted, c.cap_inheritable] {
            out.extend_from_slice(&((set >> (32 * i)) as u32).to_le_bytes());
        }
    }
    copy_to_user(data, &out)?;
    Ok(0)
}

fn capset(hdr: u64, data: u64) -> SysResult {
    let (version, pid) = cap_header(hdr)?;
    if pid != 0 && pid as u32 != task::current_vpid() {
        return Err(Errno::EPERM);
    }
    let n = words(version);
    let mut raw = vec![0u8; n * 12];
    copy_from_user(data, &mut raw)?;
    let mut sets = [0u64; 3];
    for i in 0..n {
        for (j, set) in sets.iter_mut().enumerate() {
            let o = i * 12 + j * 4;
            *set |= (u32::from_le_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]) as u64)
                << (32 * i);
        }
    }
    let [eff, perm, inh] = sets.map(|s| s & CAP_FULL);
    let p = task::current_process();
    let old = p.cred();
    cred::check_capset(
        (old.cap_permitted, old.cap_effective, old.cap_inheritable),
        (perm, eff, inh),
        old.cap_bounding,
        old.capable(CAP_SETPCAP),
    )?;
    let mut new = (*old).clone();
    new.cap_permitted = perm;
    new.cap_effective = eff;
    new.cap_inheritable = inh;
    new.cap_ambient &= perm & inh;
    commit(&p, new);
    Ok(0)
}

/// `args_rest` is arg4 | arg5, which several options require to be zero.
fn prctl(option: u64, arg2: u64, arg3: u64, args_rest: u64) -> SysResult {
    const PR_GET_KEEPCAPS: u64 = 7;
    const PR_SET_KEEPCAPS: u64 = 8;
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    const PR_GET_SECCOMP: u64 = 21;
    const PR_SET_SECCOMP: u64 = 22;
    const PR_CAPBSET_READ: u64 = 23;
    const PR_CAPBSET_DROP: u64 = 24;
    const PR_GET_SECUREBITS: u64 = 27;
    const PR_SET_SECUREBITS: u64 = 28;
    const PR_SET_NO_NEW_PRIVS: u64 = 38;
    const PR_GET_NO_NEW_PRIVS: u64 = 39;
    const PR_CAP_AMBIENT: u64 = 47;
    let p = task::current_process();
    let old = p.cred();
    let cap_arg = |v: u64| -> Result<u32, Errno> {
        if v <= CAP_LAST_CAP as u64 {
            Ok(v as u32)
        } else {
            Err(Errno::EINVAL)
        }
    };
    match option {
        PR_SET_NAME | PR_GET_NAME => super::sys::prctl_name(option == PR_SET_NAME, arg2),
        PR_GET_SECCOMP => super::seccomp::prctl_get(),
        PR_SET_SECCOMP => super::seccomp::prctl_set(arg2, arg3),
        PR_GET_KEEPCAPS => Ok((old.securebits & cred::SECBIT_KEEP_CAPS != 0) as usize),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 || old.securebits & cred::SECBIT_KEEP_CAPS_LOCKED != 0 {
                return Err(if arg2 > 1 {
                    Errno::EINVAL
                } else {
                    Errno::EPERM
                });
            }
            let mut new = (*old).clone();
            if arg2 == 1 {
                new.securebits |= cred::SECBIT_KEEP_CAPS;
            } else {
                new.securebits &= !cred::SECBIT_KEEP_CAPS;
            }
            commit(&p, new);
            Ok(0)
        }
        PR_GET_SECUREBITS => Ok(old.securebits as usize),
        PR_SET_SECUREBITS => {
            if !old.capable(CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            let bits = arg2 as u32;
            // Locked bits may not change.
            let locked = (old.securebits & 0xaa) >> 1;
            if bits & !0xff != 0 || (bits ^ old.securebits) & locked != 0 {
                return Err(Errno::EPERM);
            }
            let mut new = (*old).clone();
            new.securebits = bits;
            commit(&p, new);
            Ok(0)
        }
        PR_CAPBSET_READ => Ok((old.cap_bounding & cap_bit(cap_arg(arg2)?) != 0) as usize),
        PR_CAPBSET_DROP => {
            let cap = cap_arg(arg2)?;
            if !old.capable(CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            let mut new = (*old).clone();
            new.cap_bounding &= !cap_bit(cap);
            commit(&p, new);
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || arg3 != 0 || args_rest != 0 {
                return Err(Errno::EINVAL);
            }
            let mut new = (*old).clone();
            new.no_new_privs = true;
            commit(&p, new);
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg2 != 0 || arg3 != 0 || args_rest != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(old.no_new_privs as usize)
        }
        PR_CAP_AMBIENT => {
            const IS_SET: u64 = 1;
            const RAISE: u64 = 2;
            const LOWER: u64 = 3;
            const CLEAR_ALL: u64 = 4;
            if args_rest != 0 {
                return Err(Errno::EINVAL);
            }
            let mut new = (*old).clone();
            match arg2 {
                IS_SET => return Ok((old.cap_ambient & cap_bit(cap_arg(arg3)?) != 0) as usize),
                RAISE => {
                    let b = cap_bit(cap_arg(arg3)?);
                    if old.cap_permitted & b == 0
                        || old.cap_inheritable & b == 0
                        || old.securebits & cred::SECBIT_NO_CAP_AMBIENT_RAISE != 0
                    {
                        return Err(Errno::EPERM);
                    }
                    new.cap_ambient |= b;
                }
                LOWER => new.cap_ambient &= !cap_bit(cap_arg(arg3)?),
                CLEAR_ALL if arg3 == 0 => new.cap_ambient = 0,
                _ => return Err(Errno::EINVAL),
            }
            commit(&p, new);
            Ok(0)
        }
        _ => super::prctl::option(option, arg2).unwrap_or(Err(Errno::EINVAL)),
    }
}
