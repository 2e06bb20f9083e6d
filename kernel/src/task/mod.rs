//! Processes and threads: the tables, the current thread, and the pieces of their
//! life cycle (clone, exec, exit/wait, signals, futexes, scheduling).

pub mod clone;
pub mod cputimer;
pub mod exec;
pub mod exit;
pub mod futex;
pub mod info;
pub mod io;
pub mod jobctl;
pub mod loadavg;
pub mod oom;
pub mod pidfd;
pub mod prctl;
pub mod ptimer;
pub mod robust;
pub mod sched;
pub mod signal;
pub mod signalfd;

use crate::arch::x86_64::context::CpuContext;
use crate::container::ContainerSet;
use crate::container::pid::{Pid, PidContainer};
use crate::fs::{FdTable, FsContext};
use crate::mm::aspace::AddressSpace;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use spin::Mutex;

pub use info::{pids, proc_info};
pub use sched::{Wake, current, sleep, wakeup};
pub use signal::SigAction;

pub type Vm = Arc<Mutex<AddressSpace>>;

/// Thread run states (`Thread::state`).
pub const RUNNABLE: u8 = 0;
pub const SLEEPING: u8 = 1;
pub const DEAD: u8 = 2;

pub struct Thread {
    tid: Arc<Pid>,
    process: Arc<Process>,
    pub ctx: Box<CpuContext>,
    pub state: AtomicU8,
    pub inner: Mutex<ThreadInner>,
    /// CPU time consumed, in TSC ticks.
    pub cpu_tsc: AtomicU64,
    /// Why the last sleep ended (`sched`'s WAKE_* values).
    pub wake_reason: AtomicU8,
    /// Something may be due on the way back to user mode (a signal, an unblocked mask,
    /// exit): `syscall::return_to_user` takes its slow path. Set by [`Thread::note_work`].
    work: AtomicBool,
    /// The kernel stack and the thread's (and a process's first thread: the process's)
    /// heap objects, counted in the plimits group's memory.
    _charge: ThreadCharge,
    /// seccomp mode and filters (per thread, as Linux).
    pub seccomp: crate::seccomp::ThreadSeccomp,
}

pub struct ThreadInner {
    pub sigmask: u64,
    pub pending: u64,
    pub clear_child_tid: u64,
    pub altstack: (u64, u64, i32),
    /// Mask to restore after `rt_sigsuspend` once a handler has run.
    pub saved_mask: Option<u64>,
    /// Set by `execve` in another thread: this thread ends at its next return to user.
    pub exit_now: bool,
    /// The `siginfo_t` details of a pending signal forced on this thread (seccomp's SIGSYS).
    pub forced: Option<(u32, signal::SigDetail)>,
    /// `siginfo_t` details of pending thread-directed signals (`tgkill`,
    /// `rt_tgsigqueueinfo`, POSIX timers with `SIGEV_THREAD_ID`).
    pub sig_details: alloc::collections::BTreeMap<u32, signal::SigDetail>,
    /// Further instances of pending thread-directed real-time signals, oldest first.
    pub rt_queue: alloc::collections::VecDeque<(u32, Option<signal::SigDetail>)>,
    /// Signals a `rt_sigtimedwait` sleeps for: they wake it though blocked.
    pub sigwait: u64,
    /// `set_robust_list`: (head address, length).
    pub robust_list: (u64, u64),
}

pub struct Process {
    pid: Arc<Pid>,
    /// `pid.vnr()`, kept beside it: getpid reads one field (the number never changes).
    vpid: u32,
    pub inner: Mutex<ProcInner>,
    /// Set when the process is exiting as a group: the wait status it will report.
    pub group_exit: Mutex<Option<i32>>,
    pub live_threads: AtomicU32,
    /// System calls made by its threads (`/proc/[pid]/status` `Syscalls:`; shows that the
    /// vDSO's clock reads make none).
    pub syscalls: AtomicU64,
    /// Bytes and calls of the read and write family (`/proc/[pid]/io`).
    pub io: io::IoCounters,
    /// The plimits group (charged for this process from fork to reap). Its own lock:
    /// the scheduler reads it without taking `inner`.
    pub plimits: Mutex<Arc<crate::plimits::Group>>,
}

pub struct ProcInner {
    pub parent: Weak<Process>,
    pub children: Vec<Arc<Process>>,
    pub threads: Vec<Arc<Thread>>,
    pub vm: Option<Vm>,
    pub files: Arc<FdTable>,
    pub fs: Arc<FsContext>,
    pub sigactions: Arc<Mutex<[SigAction; 64]>>,
    pub pending: u64,
    /// Wait status once the process is a zombie.
    pub zombie: Option<i32>,
    pub exit_signal: u32,
    /// Process group and session (their leaders' pids; they outlive the leaders).
    pub pgrp: Option<Arc<Pid>>,
    pub session: Option<Arc<Pid>>,
    pub containers: Arc<ContainerSet>,
    pub cred: Arc<crate::cred::Credentials>,
    pub name: String,
    pub cmdline: Vec<u8>,
    /// The environment exec gave it, each string NUL-terminated (`/proc/[pid]/environ`).
    pub environ: Vec<u8>,
    /// The canonical path of the program it runs (`/proc/[pid]/exe`).
    pub exe: String,
    /// `personality(2)`'s value (0: PER_LINUX), inherited by children and kept by exec.
    pub personality: u32,
    pub vfork_done: bool,
    pub policy: u32,
    pub rt_priority: u32,
    pub nice: i32,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// ITIMER_VIRTUAL and ITIMER_PROF: (deadline in CPU ticks, 0 when off; interval ns).
    pub cpu_itimers: [(u64, u64); 2],
    pub child_utime_ticks: u64,
    pub child_stime_ticks: u64,
    /// CPU time of threads that already exited (TSC ticks).
    pub dead_threads_tsc: u64,
    /// ITIMER_REAL: (deadline ns, interval ns).
    pub itimer_real: (u64, u64),
    pub rlimits: [(u64, u64); 16],
    /// The `siginfo_t` details of pending process-wide signals sent with them (mq_notify).
    pub sig_details: alloc::collections::BTreeMap<u32, signal::SigDetail>,
    /// Further instances of pending process-wide real-time signals, oldest first (the
    /// first instance's details are in `sig_details`).
    pub rt_queue: alloc::collections::VecDeque<(u32, Option<signal::SigDetail>)>,
    /// Stopped/continued state and the report the parent has not collected.
    pub job: jobctl::Job,
    /// Parent-death signal, subreaper, timer slack (`prctl`).
    pub prctl: prctl::ProcPrctl,
}

impl Thread {
    /// The kernel-wide (root container) thread number.
    pub fn tid(&self) -> u32 {
        self.tid.global()
    }
    pub fn tid_ref(&self) -> &Arc<Pid> {
        &self.tid
    }
    pub fn process(&self) -> &Arc<Process> {
        &self.process
    }
    pub fn is_runnable(&self) -> bool {
        self.state.load(Ordering::Acquire) == RUNNABLE
    }
    /// Makes the next return to user mode check signals and exit.
    pub fn note_work(&self) {
        self.work.store(true, Ordering::Release);
    }
    /// Takes the flag set by [`Thread::note_work`].
    pub fn take_work(&self) -> bool {
        self.work.swap(false, Ordering::AcqRel)
    }
}

impl Process {
    /// The kernel-wide (root container) number.
    pub fn pid(&self) -> u32 {
        self.pid.global()
    }
    pub fn pid_ref(&self) -> &Arc<Pid> {
        &self.pid
    }
    pub fn containers(&self) -> Arc<ContainerSet> {
        self.inner.lock().containers.clone()
    }
    pub fn cred(&self) -> Arc<crate::cred::Credentials> {
        self.inner.lock().cred.clone()
    }
    /// Global numbers of the process group and session.
    pub fn pgid(&self) -> u32 {
        self.inner.lock().pgrp.as_ref().map_or(0, |p| p.global())
    }
    pub fn sid(&self) -> u32 {
        self.inner.lock().session.as_ref().map_or(0, |p| p.global())
    }
    pub fn files(&self) -> Arc<FdTable> {
        self.inner.lock().files.clone()
    }
    pub fn fs(&self) -> Arc<FsContext> {
        self.inner.lock().fs.clone()
    }
    pub fn vm(&self) -> Option<Vm> {
        self.inner.lock().vm.clone()
    }
    pub fn parent(&self) -> Option<Arc<Process>> {
        self.inner.lock().parent.upgrade()
    }
    /// The parent's number as the caller sees it (0 when invisible).
    pub fn ppid(&self) -> u32 {
        self.parent().map_or(0, |p| view_nr(&p.pid))
    }
    pub fn is_exiting(&self) -> bool {
        self.group_exit.lock().is_some()
    }
    pub fn plimits(&self) -> Arc<crate::plimits::Group> {
        self.plimits.lock().clone()
    }
}

/// All processes (zombies included until reaped) and threads, by global number.
pub struct Tables {
    pub procs: BTreeMap<u32, Arc<Process>>,
}

pub static TABLES: Mutex<Tables> = Mutex::new(Tables {
    procs: BTreeMap::new(),
});

/// The PID container the caller sees others through (its own, innermost one).
pub fn caller_pid_container() -> Arc<PidContainer> {
    match sched::try_current() {
        Some(t) => t.process().pid.container().clone(),
        None => crate::container::root().pid.clone(),
    }
}

/// The number of `pid` in the caller's PID container, 0 if it is not visible there.
pub fn view_nr(pid: &Pid) -> u32 {
    pid.nr_in(&caller_pid_container()).unwrap_or(0)
}

/// The caller's own number (`getpid`).
pub fn current_vpid() -> u32 {
    sched::with_current(|t| t.process().vpid)
}

/// The process with number `nr` in the caller's PID container (zombies included).
pub fn find_process(nr: u32) -> Option<Arc<Process>> {
    find_process_any(nr)?.downcast::<Process>().ok()
}

/// [`find_process`] as a type-erased object (what a path walk keeps: it asks its type
/// once, when it uses it).
pub fn find_process_any(nr: u32) -> Option<Arc<dyn core::any::Any + Send + Sync>> {
    // The caller is its own number: no lookup in the PID container.
    sched::try_with_current(|t| {
        let p = t.process();
        match p.vpid == nr {
            true => Some(p.clone() as Arc<dyn core::any::Any + Send + Sync>),
            false => p.pid.container().lookup(nr)?.process_any(),
        }
    })
    .unwrap_or_else(|| crate::container::root().pid.lookup(nr)?.process_any())
}

/// Whether number `nr` in the caller's PID container names a process (zombies
/// included): `find_process(nr).is_some()` without taking the process.
pub fn process_exists(nr: u32) -> bool {
    // The caller is its own number: answered in the same borrow of the running thread.
    sched::try_with_current(|t| {
        let p = t.process();
        p.vpid == nr
            || p.pid
                .container()
                .lookup(nr)
                .is_some_and(|pid| pid.has_process())
    })
    .unwrap_or_else(|| {
        crate::container::root()
            .pid
            .lookup(nr)
            .is_some_and(|pid| pid.has_process())
    })
}

/// The thread with number `nr` in the caller's PID container.
pub fn find_thread(nr: u32) -> Option<Arc<Thread>> {
    let pid = caller_pid_container().lookup(nr)?;
    pid.thread::<Thread>()
}

/// The container set of process `nr` as the caller sees it. A zombie keeps it until
/// it is reaped (as LiteOS-A; Linux keeps at least its PID container visible).
pub fn containers_of(nr: u32) -> Option<Arc<ContainerSet>> {
    Some(find_process(nr)?.containers())
}

/// Every process visible to the caller, with its number there.
pub fn visible_processes() -> Vec<(u32, Arc<Process>)> {
    let mut v: Vec<_> = caller_pid_container()
        .members()
        .into_iter()
        .filter_map(|(n, pid)| {
            let p = pid.process::<Process>()?;
            // Thread numbers share the table: keep only thread-group leaders.
            Arc::ptr_eq(&p.pid, &pid).then_some((n, p))
        })
        .collect();
    v.sort_by_key(|(n, _)| *n);
    v
}

/// The address space of the running thread.
pub fn current_vm() -> Vm {
    current()
        .process()
        .vm()
        .expect("a running thread's process has an address space")
}

/// The running thread's process, through the borrowed thread (no reference to the
/// thread taken).
pub fn current_process() -> Arc<Process> {
    sched::with_current(|t| t.process().clone())
}

pub const DEFAULT_RLIMITS: [(u64, u64); 16] = {
    const INF: u64 = u64::MAX;
    let mut r = [(INF, INF); 16];
    r[3] = (8 << 20, INF); // RLIMIT_STACK
    r[4] = (0, INF); // RLIMIT_CORE
    r[7] = (1024, 4096); // RLIMIT_NOFILE
    r[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
    r[11] = (4096, 4096); // RLIMIT_SIGPENDING
    r
};

/// Creates a process with one thread that will resume `frame` in user mode, numbered
/// in `inner.containers.pid`, in plimits group `group` (already charged for it).
pub fn new_process(
    mut inner: ProcInner,
    group: Arc<crate::plimits::Group>,
    frame: &crate::arch::x86_64::trap::TrapFrame,
    fpu: crate::arch::x86_64::trap::FpuState,
    fs_base: u64,
) -> Result<Arc<Thread>, crate::errno::Errno> {
    let charge = thread_charge(&group, true)?;
    let pid = inner.containers.pid.alloc()?;
    if inner.pgrp.is_none() {
        inner.pgrp = Some(pid.clone());
        inner.session = Some(pid.clone());
    }
    let proc = Arc::new(Process {
        vpid: pid.vnr(),
        pid: pid.clone(),
        inner: Mutex::new(inner),
        group_exit: Mutex::new(None),
        live_threads: AtomicU32::new(1),
        syscalls: AtomicU64::new(0),
        io: io::IoCounters::default(),
        plimits: Mutex::new(group),
    });
    let thread = make_thread(pid.clone(), &proc, frame, fpu, fs_base, 0, charge)?;
    pid.set_process(&proc);
    pid.set_thread(&thread);
    proc.inner.lock().threads.push(thread.clone());
    TABLES.lock().procs.insert(pid.global(), proc);
    Ok(thread)
}

/// Adds a thread to `proc` (CLONE_THREAD).
pub fn new_thread(
    proc: &Arc<Process>,
    frame: &crate::arch::x86_64::trap::TrapFrame,
    fpu: crate::arch::x86_64::trap::FpuState,
    fs_base: u64,
    sigmask: u64,
) -> Result<Arc<Thread>, crate::errno::Errno> {
    let charge = thread_charge(&proc.plimits(), false)?;
    let tid = proc.pid.container().alloc()?;
    let thread = make_thread(tid.clone(), proc, frame, fpu, fs_base, sigmask, charge)?;
    tid.set_process(proc);
    tid.set_thread(&thread);
    proc.inner.lock().threads.push(thread.clone());
    proc.live_threads.fetch_add(1, Ordering::AcqRel);
    Ok(thread)
}

/// What a thread holds charged to its group.
struct ThreadCharge {
    _stack: crate::plimits::memory::KernelCharge,
    _objects: crate::plimits::kmem::Charge,
}

/// A thread's kernel stack and heap objects (with `process`, also the process's)
/// charged to plimits group `group` (`ENOMEM` over its limit).
fn thread_charge(
    group: &Arc<crate::plimits::Group>,
    process: bool,
) -> Result<ThreadCharge, crate::errno::Errno> {
    use crate::plimits::kmem::{arc_cost, heap_cost};
    let mut objects = arc_cost::<Thread>()
        + heap_cost(core::alloc::Layout::new::<CpuContext>())
        + arc_cost::<Pid>()
        + sched::sleeper_cost();
    if process {
        objects += arc_cost::<Process>() + arc_cost::<Mutex<[SigAction; 64]>>();
    }
    let objects = crate::plimits::kmem::Charge::to(group, objects)?;
    let stack = crate::plimits::memory::KernelCharge::take(
        group,
        crate::arch::x86_64::context::KERNEL_STACK_SIZE as u64,
    )?;
    Ok(ThreadCharge {
        _stack: stack,
        _objects: objects,
    })
}

/// A runnable thread of `proc` that will resume `frame` in user mode.
fn make_thread(
    tid: Arc<Pid>,
    proc: &Arc<Process>,
    frame: &crate::arch::x86_64::trap::TrapFrame,
    fpu: crate::arch::x86_64::trap::FpuState,
    fs_base: u64,
    sigmask: u64,
    charge: ThreadCharge,
) -> Result<Arc<Thread>, crate::errno::Errno> {
    let ctx = CpuContext::new_user(frame, fpu, fs_base).ok_or(crate::errno::Errno::ENOMEM)?;
    Ok(Arc::new(Thread {
        tid,
        process: proc.clone(),
        ctx,
        state: AtomicU8::new(RUNNABLE),
        inner: Mutex::new(ThreadInner {
            sigmask,
            pending: 0,
            clear_child_tid: 0,
            altstack: (0, 0, 2),
            saved_mask: None,
            exit_now: false,
            forced: None,
            sig_details: alloc::collections::BTreeMap::new(),
            rt_queue: alloc::collections::VecDeque::new(),
            sigwait: 0,
            robust_list: (0, 0),
        }),
        cpu_tsc: AtomicU64::new(0),
        wake_reason: AtomicU8::new(0),
        // A new thread checks once (a signal may be pending from its creator's mask).
        work: AtomicBool::new(true),
        _charge: charge,
        seccomp: crate::seccomp::ThreadSeccomp::new(),
    }))
}

impl ProcInner {
    /// A fresh process state with the given files and file-system context.
    pub fn new(
        files: Arc<FdTable>,
        fs: Arc<FsContext>,
        containers: Arc<ContainerSet>,
        cred: Arc<crate::cred::Credentials>,
    ) -> ProcInner {
        ProcInner {
            parent: Weak::new(),
            children: Vec::new(),
            threads: Vec::new(),
            vm: None,
            files,
            fs,
            sigactions: Arc::new(Mutex::new([SigAction::default(); 64])),
            pending: 0,
            zombie: None,
            exit_signal: signal::SIGCHLD,
            pgrp: None,
            session: None,
            containers,
            cred,
            name: String::new(),
            cmdline: Vec::new(),
            environ: Vec::new(),
            exe: String::new(),
            personality: 0,
            vfork_done: false,
            policy: 0,
            rt_priority: 0,
            nice: 0,
            utime_ticks: 0,
            stime_ticks: 0,
            cpu_itimers: [(0, 0); 2],
            child_utime_ticks: 0,
            child_stime_ticks: 0,
            dead_threads_tsc: 0,
            itimer_real: (0, 0),
            rlimits: DEFAULT_RLIMITS,
            sig_details: alloc::collections::BTreeMap::new(),
            rt_queue: alloc::collections::VecDeque::new(),
            job: jobctl::Job::default(),
            prctl: prctl::ProcPrctl::default(),
        }
    }
}

/// Creates PID 1 running `path`, with fds 0–2 on `/dev/console`.
pub fn spawn_init(
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<(), crate::errno::Errno> {
    let (file, canonical) = crate::fs::open_exec(path)?;
    let image = exec::load(&file, path.as_bytes(), &argv, &envp)?;
    let files = FdTable::new();
    for _ in 0..3 {
        files.install(
            crate::fs::open_path("/dev/console", crate::fs::file::O_RDWR)?,
            false,
        )?;
    }
    let root_cred = Arc::new(crate::cred::Credentials::root(
        crate::container::user::root_user(),
    ));
    let mut inner = ProcInner::new(
        files,
        crate::fs::kernel_context().fork_copy(),
        crate::container::root(),
        root_cred,
    );
    exec::set_program(&mut inner, &canonical, &argv);
    let frame = crate::arch::x86_64::trap::TrapFrame::new_user(image.entry, image.sp);
    let root = crate::plimits::root();
    root.pids.add(1);
    let t = new_process(
        inner,
        root,
        &frame,
        crate::arch::x86_64::trap::FpuState::initial(),
        0,
    )?;
    t.process().inner.lock().vm = Some(Arc::new(Mutex::new(image.vm)));
    sched::enqueue(t);
    Ok(())
}

/// The caller's process group id in its own view (the console's foreground group).
pub fn current_pgid() -> u32 {
    let p = current_process();
    let g = p.inner.lock().pgrp.clone();
    g.map_or(0, |g| view_nr(&g))
}

/// The calling process's credentials.
pub fn current_cred() -> Arc<crate::cred::Credentials> {
    current_process().cred()
}

/// `EPERM` unless the caller has `cap` in user container `ns`.
pub fn require_cap_in(
    ns: &Arc<crate::container::user::UserContainer>,
    cap: u32,
) -> Result<(), crate::errno::Errno> {
    if current_cred().capable_in(ns, cap) {
        Ok(())
    } else {
        Err(crate::errno::Errno::EPERM)
    }
}

/// `EPERM` unless the caller has `cap` in the root user container (machine-wide rights:
/// the clock, reboot, `/proc/sys`).
pub fn require_cap(cap: u32) -> Result<(), crate::errno::Errno> {
    require_cap_in(&crate::container::user::root_user(), cap)
}

/// The container behind link `link` of process `p`.
pub fn member_of(
    p: &Process,
    link: crate::container::Link,
) -> Option<Arc<dyn crate::container::Container>> {
    if link.kind() == crate::container::Kind::User {
        return Some(p.cred().user.clone());
    }
    // Under the lock: only the member is taken, not the whole set.
    p.inner.lock().containers.member(link)
}

/// The user container behind link `user` of process `nr` (it lives in the credentials),
/// or the member of its container set for the other links.
pub fn container_member(
    nr: u32,
    link: crate::container::Link,
) -> Option<Arc<dyn crate::container::Container>> {
    member_of(&*find_process(nr)?, link)
}
