//! "Does number N name a process?" answered once per walk rather than at every step:
//! procfs asks it at each step below `/proc/[pid]` (the number, `ns`, the link), and
//! each answer is a PID-container lookup under its lock with a reference taken and
//! dropped. A thread remembers the last number it found naming a process in its PID
//! container, with the count of processes gone at the time; while no process has gone
//! since, the number still names one.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Processes gone (their last reference dropped): bumped by `Process`'s `drop`.
static GONE: AtomicU64 = AtomicU64::new(0);

/// A process has gone: every thread's memo is out of date.
pub fn process_gone() {
    GONE.fetch_add(1, Ordering::Release);
}

/// The processes gone so far (read before a lookup whose positive answer is kept).
#[inline]
pub fn gone() -> u64 {
    GONE.load(Ordering::Acquire)
}

/// One thread's memo (read and written only by the thread itself; atomics for `Sync`).
#[derive(Default)]
pub struct SeenPid {
    /// The PID container's address (it cannot be freed and reused while a process
    /// numbered in it lives; once that one goes, `GONE` has moved).
    container: AtomicUsize,
    nr: AtomicU32,
    /// `GONE` when the number was found; `u64::MAX`: nothing remembered.
    gone: AtomicU64,
}

impl SeenPid {
    pub fn new() -> SeenPid {
        SeenPid {
            container: AtomicUsize::new(0),
            nr: AtomicU32::new(0),
            gone: AtomicU64::new(u64::MAX),
        }
    }

    /// Whether number `nr` of container `container` was found naming a process and no
    /// process has gone since `now` (what [`gone`] returned).
    #[inline]
    pub fn holds(&self, container: usize, nr: u32, now: u64) -> bool {
        self.gone.load(Ordering::Relaxed) == now
            && self.nr.load(Ordering::Relaxed) == nr
            && self.container.load(Ordering::Relaxed) == container
    }

    /// Remembers that `nr` of `container` named a process when [`gone`] was `then`.
    #[inline]
    pub fn remember(&self, container: usize, nr: u32, then: u64) {
        self.container.store(container, Ordering::Relaxed);
        self.nr.store(nr, Ordering::Relaxed);
        self.gone.store(then, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_number_holds_until_a_process_goes() {
        let s = SeenPid::new();
        let now = gone();
        assert!(!s.holds(0, 0, now), "nothing remembered at first");
        s.remember(0x1000, 7, now);
        assert!(s.holds(0x1000, 7, now));
        assert!(!s.holds(0x1000, 8, now), "another number");
        assert!(!s.holds(0x2000, 7, now), "another container");
        process_gone();
        assert!(!s.holds(0x1000, 7, gone()), "a process went since");
    }
}
