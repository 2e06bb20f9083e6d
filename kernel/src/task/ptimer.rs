//! POSIX per-process timers (timer_create(2)): each counts expirations with the same
//! [`Timer`] as timerfd (host monotonic nanoseconds) and, when it expires, sends its
//! signal to the process or, with `SIGEV_THREAD_ID`, to one of its threads, with
//! `si_code` `SI_TIMER`, `si_timerid`, `si_overrun` and `si_value`. Expirations while the
//! signal is still pending count as overruns. A process's timers go when it exits.

use super::signal::{self, SI_TIMER, SigDetail};
use super::{Process, Thread};
use crate::errno::Errno;
use crate::fs::timerfd::Timer;
use crate::plimits::kmem::Charge;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

/// Most timers one process may hold (Linux bounds them by RLIMIT_SIGPENDING): `EAGAIN`.
pub const MAX_PER_PROCESS: usize = 1024;

/// Where an expiry goes.
#[derive(Clone)]
pub enum Notify {
    /// `SIGEV_NONE`: nothing; the timer is only read with `timer_gettime`.
    Nothing,
    /// `SIGEV_SIGNAL` (and `SIGEV_THREAD`, which the C library builds on it).
    Process { sig: u32, value: u64 },
    /// `SIGEV_THREAD_ID`.
    Thread {
        thread: Weak<Thread>,
        sig: u32,
        value: u64,
    },
}

struct PTimer {
    owner: Weak<Process>,
    id: i32,
    /// The clock absolute times are on.
    clock: i32,
    notify: Notify,
    timer: Timer,
    /// Expirations not sent because the signal was still pending.
    overrun: u64,
    /// The overrun count of the last delivered expiration (`timer_getoverrun`).
    overrun_last: u64,
    /// Its place in [`TIMERS`] (two: a doubling vector), charged to the creator's
    /// plimits group.
    _kmem: Charge,
}

static TIMERS: Mutex<Vec<PTimer>> = Mutex::new(Vec::new());

fn owned_by(t: &PTimer, p: &Arc<Process>) -> bool {
    t.owner.as_ptr() == Arc::as_ptr(p)
}

/// A new disarmed timer of `p` on `clock` notifying as `notify(id)` says; its id (the
/// lowest free one).
pub fn create(
    p: &Arc<Process>,
    clock: i32,
    notify: impl FnOnce(i32) -> Notify,
) -> Result<i32, Errno> {
    let mut all = TIMERS.lock();
    all.retain(|t| t.owner.strong_count() > 0);
    let mine: Vec<i32> = all
        .iter()
        .filter(|t| owned_by(t, p))
        .map(|t| t.id)
        .collect();
    if mine.len() >= MAX_PER_PROCESS {
        return Err(Errno::EAGAIN);
    }
    let id = (0..).find(|i| !mine.contains(i)).unwrap_or(0);
    // Linux's timer_create gives EAGAIN when it cannot allocate the timer.
    // Two places: the list is a doubling vector.
    let kmem = Charge::new(2 * size_of::<PTimer>() as u64).map_err(|_| Errno::EAGAIN)?;
    all.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    all.push(PTimer {
        owner: Arc::downgrade(p),
        id,
        clock,
        notify: notify(id),
        timer: Timer::default(),
        overrun: 0,
        overrun_last: 0,
        _kmem: kmem,
    });
    Ok(id)
}

/// Runs `f` on timer `id` of `p` brought up to `now` (`EINVAL` if there is none).
fn with<R>(
    p: &Arc<Process>,
    id: i32,
    now: u64,
    f: impl FnOnce(&mut PTimer) -> R,
) -> Result<R, Errno> {
    let mut all = TIMERS.lock();
    let t = all
        .iter_mut()
        .find(|t| owned_by(t, p) && t.id == id)
        .ok_or(Errno::EINVAL)?;
    t.timer.update(now);
    Ok(f(t))
}

/// Arms (`next` Some, host ns) or disarms; returns the previous (remaining, interval).
pub fn set(
    p: &Arc<Process>,
    id: i32,
    now: u64,
    next: Option<u64>,
    interval: u64,
) -> Result<(u64, u64), Errno> {
    with(p, id, now, |t| {
        let old = t.timer.get(now);
        t.timer.set(next, interval);
        t.overrun = 0;
        old
    })
}

/// (time to the next expiry, interval).
pub fn get(p: &Arc<Process>, id: i32, now: u64) -> Result<(u64, u64), Errno> {
    with(p, id, now, |t| t.timer.get(now))
}

pub fn clock(p: &Arc<Process>, id: i32) -> Result<i32, Errno> {
    with(p, id, 0, |t| t.clock)
}

pub fn overrun(p: &Arc<Process>, id: i32, now: u64) -> Result<u64, Errno> {
    with(p, id, now, |t| t.overrun_last)
}

pub fn delete(p: &Arc<Process>, id: i32) -> Result<(), Errno> {
    let mut all = TIMERS.lock();
    let i = all
        .iter()
        .position(|t| owned_by(t, p) && t.id == id)
        .ok_or(Errno::EINVAL)?;
    all.swap_remove(i);
    Ok(())
}

/// Deletes every timer of `p` (`execve`, exit).
pub fn delete_all(p: &Arc<Process>) {
    TIMERS.lock().retain(|t| !owned_by(t, p));
}

/// How many timers `p` holds.
pub fn count(p: &Arc<Process>) -> usize {
    TIMERS.lock().iter().filter(|t| owned_by(t, p)).count()
}

/// Whether `sig` is pending for the target of a notification.
fn pending(p: &Arc<Process>, n: &Notify, sig: u32) -> bool {
    let bit = signal::bit(sig);
    let thread = match n {
        Notify::Thread { thread, .. } => thread.upgrade(),
        _ => None,
    };
    let own = thread.is_some_and(|t| t.inner.lock().pending & bit != 0);
    own || p.inner.lock().pending & bit != 0
}

/// Sets `si_overrun` of timer `id`'s pending signal `sig` to `over`.
fn bump_overrun(p: &Arc<Process>, n: &Notify, sig: u32, id: i32, over: u64) {
    let over = over.min(i32::MAX as u64) as u32;
    let set = |d: Option<&mut SigDetail>| {
        if let Some(d) = d.filter(|d| d.code == SI_TIMER && d.pid == id as u32) {
            d.uid = over;
        }
    };
    if let Notify::Thread { thread, .. } = n
        && let Some(t) = thread.upgrade()
    {
        set(t.inner.lock().sig_details.get_mut(&sig));
    }
    set(p.inner.lock().sig_details.get_mut(&sig));
}

/// The timer interrupt's part: counts expirations up to `now` and sends the signals;
/// drops the timers of processes that are gone or exiting.
pub fn check(now: u64) {
    let mut sends: Vec<(Arc<Process>, Notify, SigDetail)> = Vec::new();
    {
        let Some(mut all) = TIMERS.try_lock() else {
            return; // a system call is at it: the next tick counts these expirations
        };
        all.retain(|t| {
            t.owner
                .upgrade()
                .is_some_and(|p| !p.is_exiting() && p.inner.lock().zombie.is_none())
        });
        for t in all.iter_mut() {
            if t.timer.next.is_none_or(|n| n > now) {
                continue;
            }
            t.timer.update(now);
            let n = core::mem::take(&mut t.timer.ticks);
            let (sig, value) = match &t.notify {
                Notify::Nothing => continue,
                Notify::Process { sig, value } | Notify::Thread { sig, value, .. } => {
                    (*sig, *value)
                }
            };
            let Some(p) = t.owner.upgrade() else { continue };
            if pending(&p, &t.notify, sig) {
                // The queued signal reports these too (Linux counts them at delivery).
                t.overrun = t.overrun.saturating_add(n);
                t.overrun_last = t.overrun_last.saturating_add(n);
                bump_overrun(&p, &t.notify, sig, t.id, t.overrun_last);
                continue;
            }
            let over = t.overrun.saturating_add(n - 1);
            t.overrun = 0;
            t.overrun_last = over;
            let detail = SigDetail {
                code: SI_TIMER,
                pid: t.id as u32,
                uid: over.min(i32::MAX as u64) as u32,
                value,
                errno: 0,
            };
            sends.push((p, t.notify.clone(), detail));
        }
    }
    for (p, n, d) in sends {
        match n {
            Notify::Thread { thread, sig, .. } => {
                if let Some(th) = thread.upgrade() {
                    signal::send_to_thread_with(&th, sig, Some(d));
                }
            }
            Notify::Process { sig, .. } => signal::send_to_process_with(&p, sig, Some(d)),
            Notify::Nothing => {}
        }
    }
}
