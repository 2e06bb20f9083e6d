//! `fork`, `vfork`, `clone` and `clone3`: new processes and threads.

use super::exit::vfork_chan;
use super::{ProcInner, sched};
use crate::arch::x86_64::trap::TrapFrame;
use crate::container::{self, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, Kind};
use crate::errno::{Errno, SysResult};
use crate::impl_pod;
use crate::mm::user::write_user;
use alloc::sync::Arc;
use spin::Mutex;

pub const CSIGNAL: u64 = 0xff;
pub const CLONE_VM: u64 = 0x0000_0100;
pub const CLONE_FS: u64 = 0x0000_0200;
pub const CLONE_FILES: u64 = 0x0000_0400;
pub const CLONE_SIGHAND: u64 = 0x0000_0800;
pub const CLONE_PIDFD: u64 = 0x0000_1000;
pub const CLONE_PTRACE: u64 = 0x0000_2000;
pub const CLONE_VFORK: u64 = 0x0000_4000;
pub const CLONE_PARENT: u64 = 0x0000_8000;
pub const CLONE_THREAD: u64 = 0x0001_0000;
pub const CLONE_SYSVSEM: u64 = 0x0004_0000;
pub const CLONE_SETTLS: u64 = 0x0008_0000;
pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
pub const CLONE_DETACHED: u64 = 0x0040_0000;
pub const CLONE_UNTRACED: u64 = 0x0080_0000;
pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;

/// Flags this kernel implements besides the container flags; any other bit gives `EINVAL`.
const SUPPORTED: u64 = CSIGNAL
    | CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_VFORK
    | CLONE_PARENT
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_UNTRACED
    | CLONE_CHILD_SETTID;

pub struct CloneArgs {
    pub flags: u64,
    pub exit_signal: u32,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// `struct clone_args` of `clone3` (first version, 64 bytes, then set_tid and cgroup).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct RawCloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}
impl_pod!(RawCloneArgs);

/// Reads and checks `clone3`'s argument structure.
pub fn read_clone3_args(addr: u64, size: u64) -> Result<CloneArgs, Errno> {
    if !(64..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let mut raw = RawCloneArgs::default();
    let mut bytes = [0u8; 88];
    let n = size.min(88) as usize;
    crate::mm::user::copy_from_user(addr, &mut bytes[..n])?;
    if size > 88 {
        // Fields this kernel does not know must be zero (E2BIG otherwise, as Linux).
        let mut extra = alloc::vec![0u8; (size - 88) as usize];
        crate::mm::user::copy_from_user(addr + 88, &mut extra)?;
        if extra.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let fields: [u64; 11] = core::array::from_fn(|i| {
        u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
    });
    raw.flags = fields[0];
    raw.child_tid = fields[2];
    raw.parent_tid = fields[3];
    raw.exit_signal = fields[4];
    raw.stack = fields[5];
    raw.stack_size = fields[6];
    raw.tls = fields[7];
    raw.set_tid_size = fields[9];
    if raw.flags & CSIGNAL & !container::CLONE_NEWTIME != 0
        || raw.exit_signal > 64
        || raw.set_tid_size != 0
        || fields[10] != 0
    {
        return Err(Errno::EINVAL);
    }
    if (raw.stack == 0) != (raw.stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    Ok(CloneArgs {
        flags: raw.flags,
        exit_signal: raw.exit_signal as u32,
        stack: if raw.stack != 0 {
            raw.stack + raw.stack_size
        } else {
            0
        },
        parent_tid: raw.parent_tid,
        child_tid: raw.child_tid,
        tls: raw.tls,
    })
}

/// Legacy `clone(flags, stack, parent_tid, child_tid, tls)`. Bit 0x80 (`CLONE_NEWTIME`)
/// lies in the exit-signal byte, where no signal number reaches: it is ignored, so
/// `clone(CLONE_NEWTIME | SIGCHLD)` makes a SIGCHLD child in the caller's
/// time_for_children (LiteOS-A does the same, time_001; only `clone3` creates one).
pub fn legacy_args(flags: u64, stack: u64, ptid: u64, ctid: u64, tls: u64) -> CloneArgs {
    CloneArgs {
        flags: flags & !CSIGNAL,
        exit_signal: (flags & CSIGNAL & !container::CLONE_NEWTIME) as u32,
        stack,
        parent_tid: ptid,
        child_tid: ctid,
        tls,
    }
}

/// Creates the child described by `args`; the child resumes a copy of `frame` with
/// `rax = 0`. Returns the child's number to the parent.
/// Processes and threads created since boot (`/proc/stat`'s `processes`).
static FORKS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

pub fn forks() -> u64 {
    FORKS.load(core::sync::atomic::Ordering::Relaxed)
}

pub fn do_clone(frame: &TrapFrame, args: CloneArgs) -> SysResult {
    FORKS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let flags = args.flags;
    let ns = flags & container::ALL_NEW_FLAGS;
    if flags & !(SUPPORTED | ns) != 0 {
        return Err(Errno::EINVAL);
    }
    check_new_flags(ns)?;
    // clone(2)'s invalid combinations; a thread shares its process's containers.
    if (ns & CLONE_NEWPID != 0 && flags & (CLONE_THREAD | CLONE_PARENT) != 0)
        || (ns & CLONE_NEWUSER != 0 && flags & (CLONE_FS | CLONE_THREAD) != 0)
        || (ns & CLONE_NEWNS != 0 && flags & CLONE_FS != 0)
        || (ns & CLONE_NEWIPC != 0 && flags & CLONE_SYSVSEM != 0)
        || (ns != 0 && flags & CLONE_THREAD != 0)
    {
        return Err(Errno::EINVAL);
    }
    if (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0)
        || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0)
    {
        return Err(Errno::EINVAL);
    }
    // Linux's threads-max check (`nr_threads >= max_threads`): EAGAIN.
    let threads_max = crate::fs::sysctl::THREADS_MAX.load(core::sync::atomic::Ordering::Relaxed);
    if crate::mm::kstack::live() >= threads_max {
        return Err(Errno::EAGAIN);
    }
    let cur = sched::current();
    let me = cur.process().clone();
    if flags & CLONE_PARENT != 0 && (me.pid() == 1 || me.pid_ref().is_container_init()) {
        return Err(Errno::EINVAL);
    }
    let my_container = me.container();
    let unshared_pid = !Arc::ptr_eq(&my_container.pid, &my_container.pid_for_children);
    let unshared_time = !Arc::ptr_eq(&my_container.time, &my_container.time_for_children);
    // After unshare(CLONE_NEWPID) the caller cannot add threads or nest again (Linux).
    if unshared_pid && (flags & CLONE_THREAD != 0 || ns & CLONE_NEWPID != 0) {
        return Err(Errno::EINVAL);
    }
    let mut child_frame = *frame;
    child_frame.rax = 0;
    child_frame.vector = 0;
    if args.stack != 0 {
        child_frame.rsp = args.stack;
    }
    let fpu = cur.ctx.capture_fpu();
    let fs_base = if flags & CLONE_SETTLS != 0 {
        args.tls
    } else {
        cur.ctx.fs_base()
    };
    let sigmask = cur.inner.lock().sigmask;

    let thread = if flags & CLONE_THREAD != 0 {
        if me.is_exiting() {
            return Err(Errno::EAGAIN);
        }
        super::new_thread(&me, &child_frame, fpu, fs_base, sigmask)?
    } else {
        // The child joins its parent's plimits group: counted there now (EACCES at
        // pids.max), given back if the fork fails below.
        let group = me.plimits();
        let charge = crate::plimits::ProcessCharge::take(&group)?;
        let pi = me.inner.lock();
        let vm = pi.vm.clone().ok_or(Errno::ESRCH)?;
        let files = pi.files.clone();
        let fs = pi.fs.clone();
        let sigactions = pi.sigactions.clone();
        let parent = if flags & CLONE_PARENT != 0 {
            pi.parent.clone()
        } else {
            Arc::downgrade(&me)
        };
        let (child_cred, owner) = credentials_for_new_containers(&pi.cred, ns)?;
        let child_container = if ns & !CLONE_NEWUSER != 0 || unshared_pid || unshared_time {
            Arc::new(my_container.derive(ns, false, &owner)?)
        } else {
            my_container.clone()
        };
        let mut inner = ProcInner::new(
            if flags & CLONE_FILES != 0 {
                files
            } else {
                files.fork_copy()?
            },
            if flags & CLONE_FS != 0 {
                fs.clone()
            } else {
                fs.fork_copy()
            },
            child_container,
            child_cred,
        );
        inner.parent = parent;
        inner.sigactions = if flags & CLONE_SIGHAND != 0 {
            sigactions
        } else {
            Arc::new(Mutex::new(*sigactions.lock()))
        };
        inner.exit_signal = args.exit_signal;
        inner.pgrp = pi.pgrp.clone();
        inner.session = pi.session.clone();
        inner.name = pi.name.clone();
        inner.cmdline = pi.cmdline.clone();
        inner.policy = pi.policy;
        inner.rt_priority = pi.rt_priority;
        inner.nice = pi.nice;
        inner.rlimits = pi.rlimits;
        drop(pi);
        if ns & CLONE_NEWNS != 0 {
            // The child's context moves onto its new container's tree (looked up without
            // the process lock: a walk may enter /proc).
            inner.fs = fs.copy_into(inner.container.mnt.mounts());
        }
        let child_vm = if flags & CLONE_VM != 0 {
            vm
        } else {
            Arc::new(Mutex::new(vm.lock().fork()?))
        };
        let t = super::new_process(inner, group, &child_frame, fpu, fs_base)?;
        charge.keep();
        t.process().inner.lock().vm = Some(child_vm);
        let parent = t.process().parent().unwrap_or_else(|| me.clone());
        parent.inner.lock().children.push(t.process().clone());
        t.inner.lock().sigmask = sigmask;
        t
    };
    // The caller sees the child under its number in the caller's PID container.
    let tid = thread.tid_ref().nr_in(&my_container.pid).unwrap_or(0);
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread.inner.lock().clear_child_tid = args.child_tid;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        write_user(args.parent_tid, &tid)?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        // In the child's memory: the same address space for threads, the copy for fork.
        let vm = thread.process().vm().ok_or(Errno::ESRCH)?;
        let mut vm = vm.lock();
        // The child's own view of its number.
        for (i, b) in thread.tid_ref().vnr().to_le_bytes().iter().enumerate() {
            let pa = vm.user_phys(args.child_tid.wrapping_add(i as u64), true)?;
            crate::mm::user::write_phys(pa, core::slice::from_ref(b));
        }
    }
    let child = thread.process().clone();
    sched::enqueue(thread);
    if flags & CLONE_VFORK != 0 {
        while !child.inner.lock().vfork_done {
            // Signals do not end the wait: the child still uses our memory.
            sched::sleep_uninterruptible(vfork_chan(&child));
        }
    }
    Ok(tid as usize)
}

/// `EINVAL` for a container flag whose type this kernel does not create.
pub fn check_new_flags(ns: u64) -> Result<(), Errno> {
    let mut rest = ns;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        rest &= !bit;
        match Kind::from_flag(bit) {
            Some(k) if k.creatable() => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(())
}

/// The credentials a process gets when `ns` includes `CLONE_NEWUSER` (a new user
/// container owned by the caller, with every capability inside it), and the user
/// container that will own the other new containers. Creating any other container
/// needs CAP_SYS_ADMIN in that owner (capabilities(7)); `EPERM` otherwise.
pub fn credentials_for_new_containers(
    cred: &Arc<crate::cred::Credentials>,
    ns: u64,
) -> Result<
    (
        Arc<crate::cred::Credentials>,
        Arc<crate::container::user::UserContainer>,
    ),
    Errno,
> {
    let mut new_cred = cred.clone();
    if ns & CLONE_NEWUSER != 0 {
        let user = Arc::new(crate::container::user::UserContainer::new_child(
            &cred.user, cred.euid, cred.egid,
        )?);
        let mut c = (**cred).clone();
        c.user = user;
        c.cap_permitted = crate::cred::CAP_FULL;
        c.cap_effective = crate::cred::CAP_FULL;
        c.cap_bounding = crate::cred::CAP_FULL;
        c.cap_inheritable = 0;
        c.cap_ambient = 0;
        c.securebits = 0;
        new_cred = Arc::new(c);
    }
    let owner = new_cred.user.clone();
    if ns & !CLONE_NEWUSER != 0 && !new_cred.capable_in(&owner, crate::cred::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    Ok((new_cred, owner))
}
