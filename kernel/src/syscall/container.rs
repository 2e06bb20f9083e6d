//! Container system calls: `unshare`, `setns` (link fds and pidfds), `pidfd_open`,
//! and the UTS calls `uname`, `sethostname`, `setdomainname`.

use super::as_i32;
use crate::container::{ALL_NEW_FLAGS, CLONE_NEWPID, Container, ContainerType, Kind};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_from_user, copy_to_user};
use crate::task::clone::{
    CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM, check_new_flags,
};
use crate::task::{self, Process, pidfd};
use alloc::sync::Arc;
use alloc::vec;

pub fn dispatch(nr: usize, a: [u64; 6]) -> Option<SysResult> {
    Some(match nr {
        63 => uname(a[0]),
        170 => set_name(a[0], a[1], true),
        171 => set_name(a[0], a[1], false),
        272 => unshare(a[0]),
        308 => setns(a[0], a[1]),
        434 => pidfd_open(a[0], a[1]),
        _ => return None,
    })
}

fn uname(buf: u64) -> SysResult {
    copy_to_user(buf, &task::current_process().container().uts.utsname())?;
    Ok(0)
}

fn set_name(name: u64, len: u64, host: bool) -> SysResult {
    let len = as_i32(len);
    if !(0..=crate::container::uts::NAME_MAX as i32).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let mut buf = vec![0u8; len as usize];
    copy_from_user(name, &mut buf)?;
    let uts = task::current_process().container().uts.clone();
    if host {
        uts.set_hostname(&buf)
    } else {
        uts.set_domainname(&buf)
    }?;
    Ok(0)
}

/// Installs `c` as the caller's container set.
fn install(p: &Arc<Process>, c: Container) {
    p.inner.lock().container = Arc::new(c);
}

fn unshare(flags: u64) -> SysResult {
    let allowed = CLONE_THREAD
        | CLONE_FS
        | CLONE_SIGHAND
        | CLONE_VM
        | CLONE_FILES
        | CLONE_SYSVSEM
        | ALL_NEW_FLAGS;
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let ns = flags & ALL_NEW_FLAGS;
    check_new_flags(ns)?;
    let p = task::current_process();
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0
        && p.live_threads.load(core::sync::atomic::Ordering::Acquire) > 1
    {
        return Err(Errno::EINVAL);
    }
    let cur = p.container();
    if ns & CLONE_NEWPID != 0 && !Arc::ptr_eq(&cur.pid, &cur.pid_for_children) {
        return Err(Errno::EINVAL);
    }
    let new = if ns != 0 {
        Some(cur.derive(ns, true)?)
    } else {
        None
    };
    if flags & CLONE_FILES != 0 {
        let files = p.files().fork_copy();
        p.inner.lock().files = files;
    }
    if flags & CLONE_FS != 0 {
        let fs = p.fs().fork_copy();
        p.inner.lock().fs = fs;
    }
    if let Some(c) = new {
        install(&p, c);
    }
    Ok(0)
}

/// Joins `target` (one container) into `c`, with the rules of setns(2).
fn join(c: &Container, target: Arc<dyn ContainerType>) -> Result<Container, Errno> {
    match target.kind() {
        // Only the root user container exists: the caller is always in it already.
        Kind::User => Err(Errno::EINVAL),
        Kind::Pid => {
            let t: Arc<crate::container::pid::PidContainer> =
                target.clone().downcast().ok_or(Errno::EINVAL)?;
            // Only the caller's own PID container or one below it.
            if !c.pid.is_ancestor_of(&t) {
                return Err(Errno::EINVAL);
            }
            c.replace(target)
        }
        _ => c.replace(target),
    }
}

fn setns(fd: u64, nstype: u64) -> SysResult {
    let p = task::current_process();
    let file = p.files().get(as_i32(fd))?;
    let cur = p.container();
    if let Some(target) = pidfd::process_of(&file) {
        // setns(pidfd, flags): every named container of the target, all or nothing.
        if nstype == 0 || nstype & !ALL_NEW_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        let theirs = {
            let ti = target.inner.lock();
            if ti.zombie.is_some() {
                return Err(Errno::ESRCH);
            }
            ti.container.clone()
        };
        let mut c = (*cur).clone();
        for kind in Kind::ALL {
            if nstype & kind.clone_flag() == 0 {
                continue;
            }
            if !kind.enabled() {
                return Err(Errno::EINVAL);
            }
            if kind == Kind::User {
                continue; // one user container: joining it changes nothing
            }
            let member = theirs.member(kind.name()).ok_or(Errno::EINVAL)?;
            c = join(&c, member)?;
        }
        install(&p, c);
        return Ok(0);
    }
    let target = crate::fs::container_of_file(&file).ok_or(Errno::EINVAL)?;
    if nstype != 0 && nstype != target.kind().clone_flag() {
        return Err(Errno::EINVAL);
    }
    let c = join(&cur, target)?;
    install(&p, c);
    Ok(0)
}

fn pidfd_open(pid: u64, flags: u64) -> SysResult {
    const PIDFD_NONBLOCK: u64 = 0o4000;
    if flags & !PIDFD_NONBLOCK != 0 || as_i32(pid) <= 0 {
        return Err(Errno::EINVAL);
    }
    let pidc = task::caller_pid_container();
    let nr = pid as u32;
    let target_pid = pidc.lookup(nr).ok_or(Errno::ESRCH)?;
    let target = target_pid.process::<Process>().ok_or(Errno::ESRCH)?;
    if !Arc::ptr_eq(target.pid_ref(), &target_pid) {
        return Err(Errno::EINVAL); // a thread, not a process
    }
    let file = pidfd::open(target, flags as u32);
    let fd = task::current_process().files().install(file, true)?;
    Ok(fd as usize)
}
