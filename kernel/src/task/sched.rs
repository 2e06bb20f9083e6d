//! Round-robin preemptive scheduler for one CPU, and sleeping on wait channels.
//!
//! The kernel runs with interrupts disabled; a thread leaves the CPU only by calling
//! [`schedule`] (sleeping, exiting, yielding) or when the timer interrupts it in user
//! mode. Sleepers wait on a channel (any address that names what they wait for) with
//! an optional deadline; [`wakeup`] makes every sleeper on a channel runnable and they
//! re-check their condition.

use super::{DEAD, RUNNABLE, SLEEPING, Thread};
use crate::arch::x86_64::current::CurrentSlot;
use crate::arch::x86_64::{context, cpu};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use spin::Mutex;

/// Why a sleep ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wake {
    Woken,
    TimedOut,
    /// A signal is pending: the system call should return `EINTR`.
    Interrupted,
}

struct Sleeper {
    thread: Arc<Thread>,
    deadline: Option<u64>,
    interruptible: bool,
}

/// What a sleeping thread (in `futex`, `poll`, `wait`, ...) may take in [`Sleepers`]:
/// the first block of its channel's queue (four sleepers) when it waits alone, and its
/// entries in the three B-trees (nodes at least half full: twice an entry). Charged with
/// the thread, as each thread sleeps on one channel at a time.
pub fn sleeper_cost() -> u64 {
    use core::mem::size_of;
    let queue = crate::plimits::kmem::array_cost::<Sleeper>(4);
    let entries = size_of::<(usize, VecDeque<Sleeper>)>() + size_of::<(u32, usize)>() + 16;
    queue.saturating_add(2 * entries as u64)
}

/// Sleeping threads by wait channel (FIFO per channel), with an index of deadlines
/// and of each sleeper's channel: waking is proportional to the woken, not to all
/// sleepers (thousands of processes may sleep at once).
struct Sleepers {
    by_chan: BTreeMap<usize, VecDeque<Sleeper>>,
    /// (deadline, tid) of timed sleepers.
    timed: BTreeSet<(u64, u32)>,
    /// The channel each sleeping thread waits on, by tid.
    chan_of: BTreeMap<u32, usize>,
    /// The queue of the last channel emptied, kept (empty, with its room) for the next
    /// channel slept on: a sleep and its wakeup allocate and free nothing.
    spare: Option<VecDeque<Sleeper>>,
}

impl Sleepers {
    fn add(&mut self, chan: usize, sl: Sleeper) {
        let tid = sl.thread.tid();
        if let Some(d) = sl.deadline {
            self.timed.insert((d, tid));
        }
        self.chan_of.insert(tid, chan);
        let spare = &mut self.spare;
        self.by_chan
            .entry(chan)
            .or_insert_with(|| spare.take().unwrap_or_default())
            .push_back(sl);
    }

    /// Hands at most `n` sleepers of `chan` (longest sleeping first) to `f`; returns
    /// how many.
    fn take_chan_with(&mut self, chan: usize, n: usize, mut f: impl FnMut(Sleeper)) -> usize {
        let Sleepers {
            by_chan,
            timed,
            chan_of,
            spare,
        } = self;
        let Some(q) = by_chan.get_mut(&chan) else {
            return 0;
        };
        let k = n.min(q.len());
        for sl in q.drain(..k) {
            let tid = sl.thread.tid();
            if let Some(d) = sl.deadline {
                timed.remove(&(d, tid));
            }
            chan_of.remove(&tid);
            f(sl);
        }
        if q.is_empty()
            && let Some(q) = by_chan.remove(&chan)
            && spare.is_none()
        {
            *spare = Some(q);
        }
        k
    }

    fn forget(&mut self, sl: &Sleeper) {
        let tid = sl.thread.tid();
        if let Some(d) = sl.deadline {
            self.timed.remove(&(d, tid));
        }
        self.chan_of.remove(&tid);
    }

    fn take_chan(&mut self, chan: usize, n: usize) -> Vec<Sleeper> {
        let mut taken = Vec::new();
        self.take_chan_with(chan, n, |sl| taken.push(sl));
        taken
    }

    fn take_thread(&mut self, tid: u32, only_interruptible: bool) -> Option<Sleeper> {
        let chan = *self.chan_of.get(&tid)?;
        let q = self.by_chan.get_mut(&chan)?;
        let i = q.iter().position(|sl| sl.thread.tid() == tid)?;
        if only_interruptible && !q[i].interruptible {
            return None;
        }
        let sl = q.remove(i)?;
        if q.is_empty() {
            self.by_chan.remove(&chan);
        }
        self.forget(&sl);
        Some(sl)
    }

    fn take_expired(&mut self, now: u64) -> Vec<Sleeper> {
        let due: Vec<u32> = self
            .timed
            .iter()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, t)| *t)
            .collect();
        due.into_iter()
            .filter_map(|tid| self.take_thread(tid, false))
            .collect()
    }
}

struct Sched {
    runq: VecDeque<Arc<Thread>>,
    current: Option<Arc<Thread>>,
    sleepers: Sleepers,
    /// A thread that exited and switched away; freed by the next thread to run.
    dead: Option<Arc<Thread>>,
}

static SCHED: Mutex<Sched> = Mutex::new(Sched {
    runq: VecDeque::new(),
    current: None,
    sleepers: Sleepers {
        by_chan: BTreeMap::new(),
        timed: BTreeSet::new(),
        chan_of: BTreeMap::new(),
        spare: None,
    },
    dead: None,
});

const WAKE_NONE: u8 = 0;
const WAKE_WOKEN: u8 = 1;
const WAKE_TIMEOUT: u8 = 2;
const WAKE_SIGNAL: u8 = 3;
/// Why the current sleeper woke (one CPU: one sleeper resumes at a time).
static SLICE_START: AtomicU64 = AtomicU64::new(0);
static NEED_RESCHED: AtomicU8 = AtomicU8::new(0);
/// Time slice in timer ticks.
const SLICE_TICKS: u64 = 10;
static TICKS: AtomicU64 = AtomicU64::new(0);
static SWITCH_TSC: AtomicU64 = AtomicU64::new(0);
/// Timer ticks spent in user mode and in the kernel (`/proc/stat`).
static CPU_TICKS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];
/// Context switches since boot.
static SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Timer ticks (at `timer::HZ`) spent in user mode and in the kernel since boot.
pub fn cpu_ticks() -> [u64; 2] {
    CPU_TICKS.each_ref().map(|t| t.load(Ordering::Relaxed))
}

/// Context switches since boot.
pub fn switches() -> u64 {
    SWITCHES.load(Ordering::Relaxed)
}

/// Threads that can run now (the running one included).
pub fn runnable_threads() -> u32 {
    let s = SCHED.lock();
    s.runq.len() as u32 + s.current.as_ref().is_some_and(|c| c.is_runnable()) as u32
}

/// The running thread as the system-call path reads it: no lock, no reference count.
/// Always the thread in `SCHED.current` (set together).
static CURRENT: CurrentSlot<Thread> = CurrentSlot::new();

/// The running thread.
pub fn current() -> Arc<Thread> {
    CURRENT.get().expect("a thread is running after boot")
}

pub fn try_current() -> Option<Arc<Thread>> {
    CURRENT.get()
}

/// Runs `f` with the running thread, borrowed, if one runs. Inline: procfs asks it at
/// every step of a walk below `/proc/[pid]`.
#[inline(always)]
pub fn try_with_current<R>(f: impl FnOnce(&Arc<Thread>) -> R) -> Option<R> {
    CURRENT.with(f)
}

/// Runs `f` with the running thread, borrowed (the hot paths: no reference count).
#[inline(always)]
pub fn with_current<R>(f: impl FnOnce(&Arc<Thread>) -> R) -> R {
    CURRENT.with(f).expect("a thread is running after boot")
}

/// Makes a new or woken thread runnable.
#[track_caller]
pub fn enqueue(t: Arc<Thread>) {
    assert!(
        t.state.load(Ordering::Acquire) != DEAD,
        "enqueue dead from {}",
        core::panic::Location::caller()
    );
    t.state.store(RUNNABLE, Ordering::Release);
    SCHED.lock().runq.push_back(t);
}

static BOOT_CTX: spin::Once<alloc::boxed::Box<context::CpuContext>> = spin::Once::new();

/// Starts scheduling: switches from the boot stack to the first runnable thread.
pub fn start() -> ! {
    let boot: &'static context::CpuContext = BOOT_CTX.call_once(context::CpuContext::bootstrap);
    let next = {
        let mut s = SCHED.lock();
        let next = s.runq.pop_front().expect("init is runnable");
        s.current = Some(next.clone());
        CURRENT.set(&next);
        next
    };
    if let Some(vm) = next.process().vm() {
        vm.lock().activate();
    }
    SWITCH_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
    context::switch_to(boot, &next.ctx);
    unreachable!("the boot context is never resumed")
}

/// Charges the CPU time the running thread `cur` used since the last switch or tick
/// (to the thread and to its plimits group); returns whether its group is now out of
/// its sched quota.
fn charge_running(cur: &Arc<Thread>) -> bool {
    let now = cpu::rdtsc();
    let last = SWITCH_TSC.swap(now, Ordering::Relaxed);
    let delta = now.wrapping_sub(last);
    cur.cpu_tsc.fetch_add(delta, Ordering::Relaxed);
    // try_lock: the group is moved only in system calls, never with the scheduler lock
    // held; a busy lock just defers the charge's effect.
    cur.process().plimits.try_lock().is_some_and(|g| {
        g.sched
            .account(crate::time::tsc_to_ns(delta), crate::time::monotonic_ns())
    })
}

/// Whether `t`'s plimits group has sched quota left at `now` (monotonic ns) and is
/// not frozen (cgroup2's `cgroup.freeze`; a process being killed still runs, to die).
fn may_run(t: &Thread, now: u64) -> bool {
    let p = t.process();
    p.plimits
        .try_lock()
        .is_none_or(|g| g.sched.may_run(now) && (!g.cg2.frozen() || being_killed(p)))
}

/// Whether process `p` exits or has SIGKILL pending (`try_lock`: the scheduler's lock
/// is held; a busy lock reads as no).
fn being_killed(p: &super::Process) -> bool {
    p.group_exit.try_lock().is_some_and(|e| e.is_some())
        || p.inner
            .try_lock()
            .is_some_and(|pi| pi.pending & (1 << (super::signal::SIGKILL - 1)) != 0)
}

/// Gives the CPU to another runnable thread; returns when this thread runs again.
/// If the current thread is not runnable (sleeping, dead), waits for one to become runnable.
/// Threads of a plimits group out of sched quota are passed over until its period ends.
pub fn schedule() {
    // A running thread goes back to the queue; one that slept and was woken while
    // this loop idled is already there (pushing it again would run it twice).
    let mut requeue = current().is_runnable();
    loop {
        let mut s = SCHED.lock();
        let cur = s.current.clone().expect("a thread is running after boot");
        let now = crate::time::monotonic_ns();
        let pick = s.runq.iter().position(|t| may_run(t, now));
        let next = match pick.and_then(|i| s.runq.remove(i)) {
            Some(n) => n,
            None if cur.is_runnable() && may_run(&cur, now) => {
                NEED_RESCHED.store(0, Ordering::Relaxed);
                SLICE_START.store(TICKS.load(Ordering::Relaxed), Ordering::Relaxed);
                return;
            }
            None => {
                if requeue && cur.is_runnable() {
                    // Out of quota: it waits in the queue like the others.
                    s.runq.push_back(cur.clone());
                    requeue = false;
                }
                drop(s);
                // Idle time is nobody's CPU time.
                charge_running(&cur);
                drop(cur);
                // Idle: the timer or the console makes someone runnable.
                cpu::enable_and_halt();
                cpu::disable_interrupts();
                SWITCH_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
                continue;
            }
        };
        if Arc::ptr_eq(&next, &cur) {
            return;
        }
        if requeue {
            s.runq.push_back(cur.clone());
        }
        if cur.state.load(Ordering::Acquire) == DEAD {
            s.dead = Some(cur.clone());
        }
        CURRENT.set(&next);
        s.current = Some(next.clone());
        drop(s);
        NEED_RESCHED.store(0, Ordering::Relaxed);
        SLICE_START.store(TICKS.load(Ordering::Relaxed), Ordering::Relaxed);
        charge_running(&cur);
        SWITCHES.fetch_add(1, Ordering::Relaxed);
        if let Some(vm) = next.process().vm() {
            vm.lock().activate();
        }
        context::switch_consuming(cur, next, |t| &t.ctx);
        finish_switch();
        return;
    }
}

pub fn current_is_dead() -> bool {
    CURRENT
        .with(|t| t.state.load(Ordering::Acquire) == DEAD)
        .unwrap_or(false)
}

/// Leaves the CPU for good (the current thread has exited). Called only where the
/// thread's stack holds no references (`syscall::return_to_user`).
pub fn exit_current() -> ! {
    schedule();
    let t = current();
    panic!(
        "dead thread {} (state {}) was scheduled again",
        t.tid(),
        t.state.load(Ordering::Acquire)
    )
}

/// Runs on the new thread right after a switch: frees the thread that died.
#[unsafe(no_mangle)]
pub extern "C" fn finish_switch() {
    let dead = SCHED.lock().dead.take();
    drop(dead);
}

/// Sleeps on `chan` until woken, until `deadline_ns` (monotonic), or until a signal.
pub fn sleep(chan: usize, deadline_ns: Option<u64>) -> Wake {
    let cur = current();
    if super::signal::has_pending(&cur) {
        return Wake::Interrupted;
    }
    if let Some(d) = deadline_ns
        && crate::time::monotonic_ns() >= d
    {
        return Wake::TimedOut;
    }
    cur.wake_reason.store(WAKE_NONE, Ordering::Relaxed);
    cur.state.store(SLEEPING, Ordering::Release);
    SCHED.lock().sleepers.add(
        chan,
        Sleeper {
            thread: cur.clone(),
            deadline: deadline_ns,
            interruptible: true,
        },
    );
    schedule();
    match cur.wake_reason.load(Ordering::Relaxed) {
        WAKE_TIMEOUT => Wake::TimedOut,
        WAKE_SIGNAL => Wake::Interrupted,
        _ => Wake::Woken,
    }
}

/// The sleep of a stopped thread: like [`sleep`] but pending signals do not end it
/// (only a wakeup, the deadline or a new signal's interrupt).
pub fn sleep_stopped(chan: usize, deadline_ns: u64) {
    let cur = current();
    cur.state.store(SLEEPING, Ordering::Release);
    SCHED.lock().sleepers.add(
        chan,
        Sleeper {
            thread: cur.clone(),
            deadline: Some(deadline_ns),
            interruptible: true,
        },
    );
    schedule();
}

/// Sleeps on `chan` until woken; signals do not interrupt it.
pub fn sleep_uninterruptible(chan: usize) {
    let cur = current();
    cur.state.store(SLEEPING, Ordering::Release);
    SCHED.lock().sleepers.add(
        chan,
        Sleeper {
            thread: cur.clone(),
            deadline: None,
            interruptible: false,
        },
    );
    schedule();
}

/// Makes woken sleepers runnable.
fn make_runnable(s: &mut Sched, woken: Vec<Sleeper>, reason: u8) -> usize {
    let n = woken.len();
    for sl in woken {
        run(&mut s.runq, sl, reason);
    }
    n
}

/// Puts a woken sleeper on the run queue.
fn run(runq: &mut VecDeque<Arc<Thread>>, sl: Sleeper, reason: u8) {
    debug_assert!(
        sl.thread.state.load(Ordering::Acquire) != DEAD,
        "waking a dead thread"
    );
    sl.thread.wake_reason.store(reason, Ordering::Relaxed);
    sl.thread.state.store(RUNNABLE, Ordering::Release);
    runq.push_back(sl.thread);
}

/// Wakes every thread sleeping on `chan`.
pub fn wakeup(chan: usize) {
    wakeup_n(chan, usize::MAX);
}

/// Wakes at most `n` threads sleeping on `chan` (longest sleeping first); returns how many.
pub fn wakeup_n(chan: usize, n: usize) -> usize {
    let mut guard = SCHED.lock();
    let s = &mut *guard;
    let runq = &mut s.runq;
    s.sleepers
        .take_chan_with(chan, n, |sl| run(runq, sl, WAKE_WOKEN))
}

/// Moves up to `n` sleepers from `from` to `to` without waking them (FUTEX_REQUEUE).
pub fn requeue(from: usize, to: usize, n: usize) -> usize {
    let mut s = SCHED.lock();
    let moved = s.sleepers.take_chan(from, n);
    let count = moved.len();
    for sl in moved {
        s.sleepers.add(to, sl);
    }
    count
}

/// Interrupts `t`'s sleep because a signal arrived for it (or its process is ending),
/// and makes its next return to user mode take the slow path.
pub fn interrupt(t: &Arc<Thread>) {
    t.note_work();
    let mut s = SCHED.lock();
    if let Some(sl) = s.sleepers.take_thread(t.tid(), true) {
        make_runnable(&mut s, alloc::vec![sl], WAKE_SIGNAL);
    }
}

/// Timer interrupt: advances time, wakes expired sleepers, asks for preemption.
#[track_caller]
pub fn tick(from_user: bool) {
    let ticks = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    let now = crate::time::monotonic_ns();
    {
        let mut s = SCHED.lock();
        let expired = s.sleepers.take_expired(now);
        make_runnable(&mut s, expired, WAKE_TIMEOUT);
    }
    if let Some(cur) = try_current() {
        let mut p = cur.process().inner.lock();
        if from_user {
            p.utime_ticks += 1;
            CPU_TICKS[0].fetch_add(1, Ordering::Relaxed);
        } else if cur.is_runnable() {
            p.stime_ticks += 1;
            CPU_TICKS[1].fetch_add(1, Ordering::Relaxed);
        }
    }
    super::signal::check_timers(now);
    // A thread whose group used up its sched quota leaves the CPU at once.
    let out_of_quota = from_user && try_current().is_some_and(|c| charge_running(&c));
    if out_of_quota || ticks - SLICE_START.load(Ordering::Relaxed) >= SLICE_TICKS {
        NEED_RESCHED.store(1, Ordering::Relaxed);
    }
}

/// Whether the running thread's time slice is used up.
pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed) != 0
}

/// Gives up the CPU voluntarily (sched_yield, preemption).
pub fn yield_now() {
    schedule();
}

/// CPU time of a thread in nanoseconds, including the running slice.
pub fn thread_cpu_ns(t: &Arc<Thread>) -> u64 {
    let mut tsc = t.cpu_tsc.load(Ordering::Relaxed);
    if try_current().is_some_and(|c| Arc::ptr_eq(&c, t)) {
        tsc += cpu::rdtsc().wrapping_sub(SWITCH_TSC.load(Ordering::Relaxed));
    }
    crate::time::tsc_to_ns(tsc)
}

/// CPU time of a process in nanoseconds: its live threads' and its dead threads'.
pub fn process_cpu_ns(p: &Arc<super::Process>) -> u64 {
    let (threads, dead) = {
        let pi = p.inner.lock();
        (pi.threads.clone(), pi.dead_threads_tsc)
    };
    crate::time::tsc_to_ns(dead) + threads.iter().map(thread_cpu_ns).sum::<u64>()
}

pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}
