//! `fork`, `vfork`, `clone` and `clone3`: new processes and threads.

use super::exit::vfork_chan;
use super::{ProcInner, sched};
use crate::arch::x86_64::trap::TrapFrame;
use crate::container::{
    self, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, ContainerType, Kind,
};
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
/// `clone3` only: the child starts in the cgroup2 group of directory fd `cgroup`.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

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
    | CLONE_CHILD_SETTID
    | CLONE_INTO_CGROUP
    | CLONE_PIDFD;

pub struct CloneArgs {
    pub flags: u64,
    pub exit_signal: u32,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
    /// `clone_args.cgroup` with `CLONE_INTO_CGROUP`.
    pub cgroup: Option<i32>,
    /// Where `CLONE_PIDFD` stores the child's pidfd (`parent_tid` for legacy clone).
    pub pidfd: u64,
    /// `clone3`'s `set_tid` array and its length.
    pub set_tid: u64,
    pub set_tid_size: u64,
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
    raw.pidfd = fields[1];
    raw.child_tid = fields[2];
    raw.parent_tid = fields[3];
    raw.exit_signal = fields[4];
    raw.stack = fields[5];
    raw.stack_size = fields[6];
    raw.tls = fields[7];
    raw.set_tid = fields[8];
    raw.set_tid_size = fields[9];
    raw.cgroup = fields[10];
    // Linux's clone3_args_valid: set_tid and its size go together, at most one number
    // per PID container level.
    if raw.flags & CSIGNAL & !container::CLONE_NEWTIME != 0
        || raw.exit_signal > 64
        || raw.set_tid_size > crate::container::pid::LEVEL_CAP as u64
        || (raw.set_tid == 0) != (raw.set_tid_size == 0)
    {
        return Err(Errno::EINVAL);
    }
    // Linux reads `cgroup` only with the flag, from a version-2 structure (88 bytes).
    let into = raw.flags & CLONE_INTO_CGROUP != 0;
    if into && (size < 88 || raw.cgroup > i32::MAX as u64) {
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
        cgroup: into.then_some(raw.cgroup as i32),
        pidfd: raw.pidfd,
        set_tid: raw.set_tid,
        set_tid_size: raw.set_tid_size,
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
        cgroup: None,
        pidfd: ptid,
        set_tid: 0,
        set_tid_size: 0,
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
        || (flags & CLONE_PIDFD != 0 && flags & (CLONE_THREAD | CLONE_DETACHED) != 0)
    {
        return Err(Errno::EINVAL);
    }
    // As Linux's copy_namespaces, the capability comes before whether this kernel
    // creates that type at all: EPERM, then EINVAL.
    if ns & !CLONE_NEWUSER != 0 && ns & CLONE_NEWUSER == 0 {
        let cred = sched::current().process().cred();
        if !cred.capable_in(&cred.user, crate::cred::CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
    }
    check_new_flags(ns)?;
    if args.set_tid_size != 0 {
        set_tid_allowed(&args, ns)?;
    }
    // Legacy clone returns the pidfd through parent_tid: not both (EINVAL).
    if flags & CLONE_PIDFD != 0 && args.pidfd == args.parent_tid && flags & CLONE_PARENT_SETTID != 0
    {
        return Err(Errno::EINVAL);
    }
    // Linux's threads-max check (`nr_threads >= max_threads`): EAGAIN.
    let threads_max = crate::fs::sysctl::THREADS_MAX.load(core::sync::atomic::Ordering::Relaxed);
    if crate::mm::kstack::live() >= threads_max {
        return Err(Errno::EAGAIN);
    }
    if flags & CLONE_PIDFD != 0 {
        // A bad address fails the clone before a child exists (EFAULT).
        write_user(args.pidfd, &-1i32)?;
    }
    let cur = sched::current();
    let me = cur.process().clone();
    if flags & CLONE_PARENT != 0 && (me.pid() == 1 || me.pid_ref().is_container_init()) {
        return Err(Errno::EINVAL);
    }
    let my_set = me.containers();
    my_set.check_clone(ns, flags & CLONE_THREAD != 0)?;
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

    // CLONE_INTO_CGROUP: a process (not a thread) started in the group of a cgroup2
    // directory fd (`EBADF` for another fd; a legacy `clone` has no such field).
    let into = match (flags & CLONE_INTO_CGROUP != 0, args.cgroup) {
        (false, _) => None,
        (true, Some(fd)) if flags & CLONE_THREAD == 0 => {
            let file = me.files().get(fd)?;
            let g = crate::fs::cgroupfs::group_of_file(&file)?;
            crate::fs::cgroupfs::may_clone_into(&g)?;
            Some(g)
        }
        (true, _) => return Err(Errno::EINVAL),
    };
    let thread = if flags & CLONE_THREAD != 0 {
        if me.is_exiting() {
            return Err(Errno::EAGAIN);
        }
        super::new_thread(&me, &child_frame, fpu, fs_base, sigmask)?
    } else {
        // The child joins its parent's plimits group (or CLONE_INTO_CGROUP's): counted
        // there now (EACCES at pids.max), given back if the fork fails below.
        let group = into.clone().unwrap_or_else(|| me.plimits());
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
        let child_set = if ns & !CLONE_NEWUSER != 0 || my_set.has_deferred() {
            Arc::new(my_set.derive(ns, false, &owner)?)
        } else {
            my_set.clone()
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
            child_set,
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
        inner.environ = pi.environ.clone();
        inner.exe = pi.exe.clone();
        inner.personality = pi.personality;
        inner.policy = pi.policy;
        inner.rt_priority = pi.rt_priority;
        inner.nice = pi.nice;
        inner.rlimits = pi.rlimits;
        // CLONE_PARENT: the caller's parent thread is the child's too.
        inner.prctl = pi.prctl.for_child(if flags & CLONE_PARENT != 0 {
            pi.prctl.parent_tid
        } else {
            cur.tid()
        });
        drop(pi);
        // The child's new containers adjust its context (CLONE_NEWNS: onto the new tree),
        // looked up without the process lock: a walk may enter /proc.
        let set = inner.containers.clone();
        set.created_fs(ns, &mut inner.fs);
        let child_vm = if flags & CLONE_VM != 0 {
            vm
        } else {
            let mut copy = vm.lock().fork()?;
            // A child entering another TIME container reads that one's offsets.
            crate::mm::vdso::sync(&mut copy, inner.containers.time.own());
            Arc::new(Mutex::new(copy))
        };
        // A copy's pages were charged to the parent's group: they move with the child.
        if flags & CLONE_VM == 0
            && let Some(g) = &into
        {
            child_vm.lock().move_charge(g);
        }
        let t = super::new_process(inner, group, &child_frame, fpu, fs_base)?;
        charge.keep();
        t.process().inner.lock().vm = Some(child_vm);
        let parent = t.process().parent().unwrap_or_else(|| me.clone());
        parent.inner.lock().children.push(t.process().clone());
        t.inner.lock().sigmask = sigmask;
        t
    };
    // The caller sees the child under its number in the caller's PID container.
    let tid = thread.tid_ref().nr_in(&my_set.pid).unwrap_or(0);
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
    {
        // Under the process lock, which TSYNC holds while it updates the threads: it
        // either sees the new thread or has already updated the caller.
        let _threads = me.inner.lock();
        thread.seccomp.inherit(&cur.seccomp);
    }
    let child = thread.process().clone();
    if flags & CLONE_PIDFD != 0 {
        let file = super::pidfd::open(child.clone(), 0);
        match me.files().install(file, true) {
            Ok(fd) => write_user(args.pidfd, &fd)?,
            Err(e) => {
                // No descriptor left: the child never runs.
                super::signal::send_to_process(&child, super::signal::SIGKILL);
                sched::enqueue(thread);
                return Err(e);
            }
        }
    }
    sched::enqueue(thread);
    if flags & CLONE_VFORK != 0 {
        while !child.inner.lock().vfork_done {
            // Signals do not end the wait: the child still uses our memory.
            sched::sleep_uninterruptible(vfork_chan(&child));
        }
    }
    Ok(tid as usize)
}

/// `clone3`'s `set_tid`: choosing the child's numbers needs CAP_SYS_ADMIN over every
/// PID container it names a number in (Linux's checkpoint_restore_ns_capable): `EPERM`.
/// With it, `EINVAL`: this kernel does not pick numbers on request.
fn set_tid_allowed(args: &CloneArgs, ns: u64) -> Result<(), Errno> {
    let me = sched::current().process().clone();
    let pidc = me.containers().pid.for_children().clone();
    let levels = pidc.level() as u64 + 1 + (ns & CLONE_NEWPID != 0) as u64;
    if args.set_tid_size > levels {
        return Err(Errno::EINVAL);
    }
    let cred = me.cred();
    let owner = pidc
        .common()
        .owner()
        .cloned()
        .unwrap_or_else(crate::container::user::root_user);
    if !cred.capable_in(&owner, crate::cred::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    Err(Errno::EINVAL)
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
        let user = Arc::new(crate::container::user::UserContainer::create(
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
