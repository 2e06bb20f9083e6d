//! `ITIMER_VIRTUAL` and `ITIMER_PROF` (setitimer(2)): count down in the CPU time the
//! process uses (user time, or user and system time), measured in timer ticks as
//! `times` does, and send `SIGVTALRM` or `SIGPROF` when they run out. Not inherited by
//! `fork` children; kept across `execve`.

use super::{Process, sched, signal};
use crate::arch::x86_64::timer::HZ;
use alloc::sync::Arc;

pub const ITIMER_VIRTUAL: usize = 1;
pub const ITIMER_PROF: usize = 2;
const SIGVTALRM: u32 = 26;
const SIGPROF: u32 = 27;
const TICK_NS: u64 = 1_000_000_000 / HZ;

/// The CPU ticks a timer counts: user (virtual) or user + system (prof).
fn used(pi: &super::ProcInner, which: usize) -> u64 {
    if which == ITIMER_VIRTUAL {
        pi.utime_ticks
    } else {
        pi.utime_ticks + pi.stime_ticks
    }
}

/// (remaining ns, interval ns) of timer `which` (1 or 2).
pub fn get(p: &Arc<Process>, which: usize) -> (u64, u64) {
    let pi = p.inner.lock();
    let (deadline, interval) = pi.cpu_itimers[which - 1];
    let left = if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(used(&pi, which)).max(1) * TICK_NS
    };
    (left, interval)
}

/// Arms (value > 0, rounded up to whole ticks) or disarms timer `which`; returns the
/// previous (remaining, interval).
pub fn set(p: &Arc<Process>, which: usize, value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let old = get(p, which);
    let mut pi = p.inner.lock();
    let now = used(&pi, which);
    pi.cpu_itimers[which - 1] = if value_ns == 0 {
        (0, 0)
    } else {
        (now + value_ns.div_ceil(TICK_NS), interval_ns)
    };
    old
}

/// Timer tick, after the running process was charged: fires its expired CPU timers.
pub fn tick() {
    let Some(t) = sched::try_current() else {
        return;
    };
    let p = t.process().clone();
    let mut fire = [false; 2];
    {
        let mut pi = p.inner.lock();
        for which in [ITIMER_VIRTUAL, ITIMER_PROF] {
            let (deadline, interval) = pi.cpu_itimers[which - 1];
            let now = used(&pi, which);
            if deadline == 0 || now < deadline {
                continue;
            }
            fire[which - 1] = true;
            pi.cpu_itimers[which - 1] = if interval == 0 {
                (0, 0)
            } else {
                (now + interval.div_ceil(TICK_NS), interval)
            };
        }
    }
    if fire[0] {
        signal::send_to_process(&p, SIGVTALRM);
    }
    if fire[1] {
        signal::send_to_process(&p, SIGPROF);
    }
}
