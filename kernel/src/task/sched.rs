//! Round-robin preemptive scheduler for one CPU, and sleeping on wait channels.
//!
//! The kernel runs with interrupts disabled; a thread leaves the CPU only by calling
//! [`schedule`] (sleeping, exiting, yielding) or when the timer interrupts it in user
//! mode. Sleepers wait on a channel (any address that names what they wait for) with
//! an optional deadline; [`wakeup`] makes every sleeper on a channel runnable and they
//! re-check their condition.

use super::{DEAD, RUNNABLE, SLEEPING, Thread};
use crate::arch::x86_64::{context, cpu};
use alloc::collections::VecDeque;
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
    chan: usize,
    deadline: Option<u64>,
    interruptible: bool,
}

struct Sched {
    runq: VecDeque<Arc<Thread>>,
    current: Option<Arc<Thread>>,
    sleepers: Vec<Sleeper>,
    /// A thread that exited and switched away; freed by the next thread to run.
    dead: Option<Arc<Thread>>,
}

static SCHED: Mutex<Sched> = Mutex::new(Sched {
    runq: VecDeque::new(),
    current: None,
    sleepers: Vec::new(),
    dead: None,
});

const WAKE_NONE: u8 = 0;
const WAKE_WOKEN: u8 = 1;
const WAKE_TIMEOUT: u8 = 2;
const WAKE_SIGNAL: u8 = 3;
/// Why the current sleeper woke (one CPU: one sleeper resumes at a time).
static WAKE_REASONS: Mutex<alloc::collections::BTreeMap<u32, u8>> =
    Mutex::new(alloc::collections::BTreeMap::new());
static SLICE_START: AtomicU64 = AtomicU64::new(0);
static NEED_RESCHED: AtomicU8 = AtomicU8::new(0);
/// Time slice in timer ticks.
const SLICE_TICKS: u64 = 10;
static TICKS: AtomicU64 = AtomicU64::new(0);
static SWITCH_TSC: AtomicU64 = AtomicU64::new(0);

/// The running thread.
pub fn current() -> Arc<Thread> {
    SCHED
        .lock()
        .current
        .clone()
        .expect("a thread is running after boot")
}

pub fn try_current() -> Option<Arc<Thread>> {
    SCHED.lock().current.clone()
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
        next
    };
    if let Some(vm) = next.process().vm() {
        vm.lock().activate();
    }
    SWITCH_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
    context::switch_to(boot, &next.ctx);
    unreachable!("the boot context is never resumed")
}

/// Gives the CPU to another runnable thread; returns when this thread runs again.
/// If the current thread is not runnable (sleeping, dead), waits for one to become runnable.
pub fn schedule() {
    // A running thread goes back to the queue; one that slept and was woken while
    // this loop idled is already there (pushing it again would run it twice).
    let requeue = current().is_runnable();
    loop {
        let mut s = SCHED.lock();
        let cur = s.current.clone().expect("a thread is running after boot");
        let next = match s.runq.pop_front() {
            Some(n) => n,
            None if cur.is_runnable() => {
                NEED_RESCHED.store(0, Ordering::Relaxed);
                SLICE_START.store(TICKS.load(Ordering::Relaxed), Ordering::Relaxed);
                return;
            }
            None => {
                drop(s);
                // Idle time is nobody's CPU time.
                let now = cpu::rdtsc();
                let last = SWITCH_TSC.swap(now, Ordering::Relaxed);
                cur.cpu_tsc
                    .fetch_add(now.wrapping_sub(last), Ordering::Relaxed);
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
        s.current = Some(next.clone());
        drop(s);
        NEED_RESCHED.store(0, Ordering::Relaxed);
        SLICE_START.store(TICKS.load(Ordering::Relaxed), Ordering::Relaxed);
        let now = cpu::rdtsc();
        let last = SWITCH_TSC.swap(now, Ordering::Relaxed);
        cur.cpu_tsc
            .fetch_add(now.wrapping_sub(last), Ordering::Relaxed);
        if let Some(vm) = next.process().vm() {
            vm.lock().activate();
        }
        context::switch_consuming(cur, next, |t| &t.ctx);
        finish_switch();
        return;
    }
}

pub fn current_is_dead() -> bool {
    SCHED
        .lock()
        .current
        .as_ref()
        .is_some_and(|t| t.state.load(Ordering::Acquire) == DEAD)
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
    WAKE_REASONS.lock().insert(cur.tid(), WAKE_NONE);
    cur.state.store(SLEEPING, Ordering::Release);
    SCHED.lock().sleepers.push(Sleeper {
        thread: cur.clone(),
        chan,
        deadline: deadline_ns,
        interruptible: true,
    });
    schedule();
    match WAKE_REASONS.lock().remove(&cur.tid()).unwrap_or(WAKE_WOKEN) {
        WAKE_TIMEOUT => Wake::TimedOut,
        WAKE_SIGNAL => Wake::Interrupted,
        _ => Wake::Woken,
    }
}

/// Sleeps on `chan` until woken; signals do not interrupt it.
pub fn sleep_uninterruptible(chan: usize) {
    let cur = current();
    cur.state.store(SLEEPING, Ordering::Release);
    SCHED.lock().sleepers.push(Sleeper {
        thread: cur.clone(),
        chan,
        deadline: None,
        interruptible: false,
    });
    schedule();
    WAKE_REASONS.lock().remove(&cur.tid());
}

#[track_caller]
fn wake_where(mut pred: impl FnMut(&Sleeper) -> Option<u8>, limit: usize) -> usize {
    let mut s = SCHED.lock();
    let mut woken = Vec::new();
    let mut i = 0;
    while i < s.sleepers.len() && woken.len() < limit {
        if let Some(reason) = pred(&s.sleepers[i]) {
            let sl = s.sleepers.remove(i);
            woken.push((sl.thread, reason));
        } else {
            i += 1;
        }
    }
    let n = woken.len();
    let mut reasons = WAKE_REASONS.lock();
    for (t, reason) in woken {
        assert!(
            t.state.load(Ordering::Acquire) != DEAD,
            "waking dead thread {} from {}",
            t.tid(),
            core::panic::Location::caller()
        );
        reasons.insert(t.tid(), reason);
        t.state.store(RUNNABLE, Ordering::Release);
        s.runq.push_back(t);
    }
    n
}

/// Wakes every thread sleeping on `chan`.
#[track_caller]
pub fn wakeup(chan: usize) {
    wake_where(|sl| (sl.chan == chan).then_some(WAKE_WOKEN), usize::MAX);
}

/// Wakes at most `n` threads sleeping on `chan`; returns how many.
#[track_caller]
pub fn wakeup_n(chan: usize, n: usize) -> usize {
    wake_where(|sl| (sl.chan == chan).then_some(WAKE_WOKEN), n)
}

/// Moves up to `n` sleepers from `from` to `to` without waking them (FUTEX_REQUEUE).
pub fn requeue(from: usize, to: usize, n: usize) -> usize {
    let mut s = SCHED.lock();
    let mut moved = 0;
    for sl in s.sleepers.iter_mut() {
        if moved >= n {
            break;
        }
        if sl.chan == from {
            sl.chan = to;
            moved += 1;
        }
    }
    moved
}

/// Interrupts `t`'s sleep because a signal arrived for it.
#[track_caller]
pub fn interrupt(t: &Arc<Thread>) {
    wake_where(
        |sl| (sl.interruptible && Arc::ptr_eq(&sl.thread, t)).then_some(WAKE_SIGNAL),
        1,
    );
}

/// Timer interrupt: advances time, wakes expired sleepers, asks for preemption.
#[track_caller]
pub fn tick(from_user: bool) {
    let ticks = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    let now = crate::time::monotonic_ns();
    wake_where(
        |sl| {
            sl.deadline
                .is_some_and(|d| d <= now)
                .then_some(WAKE_TIMEOUT)
        },
        usize::MAX,
    );
    if let Some(cur) = try_current() {
        let mut p = cur.process().inner.lock();
        if from_user {
            p.utime_ticks += 1;
        } else if cur.is_runnable() {
            p.stime_ticks += 1;
        }
    }
    super::signal::check_timers(now);
    if ticks - SLICE_START.load(Ordering::Relaxed) >= SLICE_TICKS {
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

pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}
