//! Container system calls: `unshare`, `setns` (link fds and pidfds), `pidfd_open`,
//! and the UTS calls `uname`, `sethostname`, `setdomainname`.

use super::as_i32;
use super::table::syscalls;
use crate::container::user;
use crate::container::{
    ALL_NEW_FLAGS, CLONE_NEWUSER, Container, ContainerSet, ContainerType, Kind, Link,
};
use crate::cred::{CAP_SYS_ADMIN, Credentials};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_from_user, copy_to_user};
use crate::task::clone::credentials_for_new_containers;
use crate::task::clone::{
    CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM, check_new_flags,
};
use crate::task::{self, Process, pidfd};
use alloc::sync::Arc;

syscalls! {
    frame, a;
    63 => uname(a[0]),
    170 => set_name(a[0], a[1], true),
    171 => set_name(a[0], a[1], false),
    272 => unshare(a[0]),
    308 => setns(a[0], a[1]),
    434 => pidfd_open(a[0], a[1]),
}

fn uname(buf: u64) -> SysResult {
    copy_to_user(buf, &task::current_process().containers().uts.utsname())?;
    Ok(0)
}

fn set_name(name: u64, len: u64, host: bool) -> SysResult {
    let len = as_i32(len);
    if !(0..=crate::container::uts::NAME_MAX as i32).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let mut name_buf = [0u8; crate::container::uts::NAME_MAX];
    let buf = &mut name_buf[..len as usize];
    copy_from_user(name, buf)?;
    let uts = task::current_process().containers().uts.clone();
    // CAP_SYS_ADMIN over the user container that owns this UTS container.
    if let Some(owner) = ContainerType::common(&*uts).owner() {
        task::require_cap_in(owner, CAP_SYS_ADMIN)?;
    }
    if host {
        uts.set_hostname(buf)
    } else {
        uts.set_domainname(buf)
    }?;
    Ok(0)
}

/// Installs `c` as the caller's container set (`setns`): each container that changed
/// applies its [`ContainerType::joined`](crate::container::ContainerType::joined) rule to
/// the file-system context, and is entered.
fn install(p: &Arc<Process>, c: ContainerSet) {
    let mut pi = p.inner.lock();
    let mut fs = pi.fs.clone();
    c.install_over(&pi.containers, &mut fs);
    pi.fs = fs;
    // The vDSO's data pages follow the TIME container; a join of another type (the
    // common case, a `setns` of one type) leaves them as they are.
    let vm = pi.vm.clone();
    if let Some(vm) = vm
        && !Arc::ptr_eq(pi.containers.time.own(), c.time.own())
    {
        crate::mm::vdso::sync(&mut vm.lock(), c.time.own());
    }
    pi.containers = Arc::new(c);
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
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 || ns & CLONE_NEWUSER != 0 {
        // These need a single-threaded caller (unshare(2)).
        if !single_threaded(&p) {
            return Err(Errno::EINVAL);
        }
    }
    let cur = p.containers();
    cur.check_unshare(ns)?;
    let (new_cred, owner) = credentials_for_new_containers(&p.cred(), ns)?;
    let new = if ns & !CLONE_NEWUSER != 0 {
        Some(cur.derive(ns, true, &owner)?)
    } else {
        None
    };
    // Copied before anything changes: ENOMEM leaves the caller as it was.
    let files = if flags & CLONE_FILES != 0 {
        Some(p.files().fork_copy()?)
    } else {
        None
    };
    if ns & CLONE_NEWUSER != 0 {
        super::cred::commit(&p, (*new_cred).clone());
    }
    if let Some(files) = files {
        p.inner.lock().files = files;
    }
    if let Some(c) = new {
        // The new containers adjust the context (CLONE_NEWNS: one of its own on the new
        // tree, at the same paths), looked up before taking the process lock: a walk may
        // enter /proc.
        let old = p.fs();
        let mut fs = if flags & CLONE_FS != 0 {
            old.fork_copy()
        } else {
            old.clone()
        };
        c.created_fs(ns, &mut fs);
        let mut pi = p.inner.lock();
        if !Arc::ptr_eq(&fs, &old) {
            pi.fs = fs;
        }
        pi.containers = Arc::new(c);
    } else if flags & CLONE_FS != 0 {
        let fs = p.fs().fork_copy();
        p.inner.lock().fs = fs;
    }
    Ok(0)
}

/// Joins `target` (a container of a kind other than user) into `set`, with the rules
/// of setns(2): CAP_SYS_ADMIN in the caller's own user container and in the one that
/// owns the target, then the target type's own checks.
fn join(
    p: &Process,
    cred: &Credentials,
    set: &ContainerSet,
    target: Arc<dyn Container>,
) -> Result<ContainerSet, Errno> {
    may_join(cred, &target)?;
    set.join(target, cred, single_threaded(p))
}

/// The capabilities setns(2) asks for: CAP_SYS_ADMIN in the caller's own user container
/// and in the one that owns `target`.
fn may_join(cred: &Credentials, target: &Arc<dyn Container>) -> Result<(), Errno> {
    let owner = target.common().owner().ok_or(Errno::EINVAL)?;
    if !cred.capable(CAP_SYS_ADMIN) || !cred.capable_in(owner, CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

fn setns(fd: u64, nstype: u64) -> SysResult {
    let p = task::current_process();
    // The descriptor table borrowed under the process's lock (no reference to it taken).
    let file = p.inner.lock().files.get(as_i32(fd))?;
    // A container link (the common case) is told by its inode's type alone; a pidfd
    // needs the table of pidfds.
    if let Some(target) = crate::fs::container_of_file(&file) {
        // The file keeps the container until the change is made: its last reference is
        // never dropped under the process's lock.
        let done = setns_container(&p, target, nstype);
        drop(file);
        return done;
    }
    let target = pidfd::process_of(&file).ok_or(Errno::EINVAL)?;
    // setns(pidfd, flags): every named container of the target, all or nothing; the
    // user container first, so the others are checked with its rights.
    if nstype == 0 || nstype & !ALL_NEW_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let (theirs, their_cred) = {
        let ti = target.inner.lock();
        if ti.zombie.is_some() {
            return Err(Errno::ESRCH);
        }
        (ti.containers.clone(), ti.cred.clone())
    };
    let cur = p.containers();
    let cred = p.cred();
    let mut new_cred = (*cred).clone();
    if nstype & CLONE_NEWUSER != 0 && !Arc::ptr_eq(&their_cred.user, &cred.user) {
        new_cred = user::join(&cred, their_cred.user.clone())?;
    }
    let mut c = (*cur).clone();
    for kind in Kind::ALL {
        if nstype & kind.clone_flag() == 0 || kind == Kind::User {
            continue;
        }
        if !kind.enabled() {
            return Err(Errno::EINVAL);
        }
        let member = theirs.member(Link::Own(kind)).ok_or(Errno::EINVAL)?;
        c = join(&p, &new_cred, &c, member)?;
    }
    install(&p, c);
    super::cred::commit(&p, new_cred);
    Ok(0)
}

/// `setns` of a container link's `target`: its own checks, then the change made in
/// the caller's set.
fn setns_container(p: &Arc<Process>, target: Arc<dyn Container>, nstype: u64) -> SysResult {
    if nstype != 0 && nstype != target.kind().clone_flag() {
        return Err(Errno::EINVAL);
    }
    if target.kind() == Kind::User {
        if !single_threaded(p) {
            return Err(Errno::EINVAL);
        }
        let c = user::join(&p.cred(), target)?;
        super::cred::commit(p, c);
        return Ok(0);
    }
    let single = single_threaded(p);
    let replaced = {
        // The checks and the change in one hold of the process's lock, the set and the
        // credentials borrowed (no check takes a lock of the process).
        let mut guard = p.inner.lock();
        let pi = &mut *guard;
        may_join(&pi.cred, &target)?;
        let j = pi.containers.check_join(target, &pi.cred, single)?;
        let (kind, changed, replaced) =
            ContainerSet::install_join(&mut pi.containers, j, &mut pi.fs);
        // The vDSO's data pages follow the TIME container.
        if kind == Kind::Time
            && changed
            && let Some(vm) = &pi.vm
        {
            crate::mm::vdso::sync(&mut vm.lock(), pi.containers.time.own());
        }
        replaced
    };
    drop(replaced);
    Ok(0)
}

fn single_threaded(p: &Process) -> bool {
    p.live_threads.load(core::sync::atomic::Ordering::Acquire) <= 1
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
