//! The sched limiter: at most `sched.quota` µs of CPU time for the group's threads in
//! every `sched.period` µs (0 and 0 by default: no limit). The scheduler charges run
//! time with [`Sched::account`] and skips the group's threads while [`Sched::may_run`]
//! is false. Atomics only: the scheduler reads them with its own lock held.

use crate::errno::Errno;
use core::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Sched {
    period_us: AtomicU64,
    quota_us: AtomicU64,
    /// Start of the current period and CPU time used in it (monotonic ns).
    period_start: AtomicU64,
    used_ns: AtomicU64,
    /// The group's threads do not run before this time (monotonic ns).
    throttled_until: AtomicU64,
}

impl Sched {
    pub fn period(&self) -> u64 {
        self.period_us.load(Ordering::Relaxed)
    }
    pub fn quota(&self) -> u64 {
        self.quota_us.load(Ordering::Relaxed)
    }

    /// `sched.period` in µs: any value not below the quota (`EINVAL`).
    pub fn set_period(&self, us: u64) -> Result<(), Errno> {
        if us < self.quota() {
            return Err(Errno::EINVAL);
        }
        self.period_us.store(us, Ordering::Relaxed);
        self.restart();
        Ok(())
    }

    /// `sched.quota` in µs: not above the period (`EINVAL`).
    pub fn set_quota(&self, us: u64) -> Result<(), Errno> {
        if us > self.period() {
            return Err(Errno::EINVAL);
        }
        self.quota_us.store(us, Ordering::Relaxed);
        self.restart();
        Ok(())
    }

    fn restart(&self) {
        self.period_start.store(0, Ordering::Relaxed);
        self.used_ns.store(0, Ordering::Relaxed);
        self.throttled_until.store(0, Ordering::Relaxed);
    }

    /// Whether a quota below the period applies.
    fn limited(&self) -> bool {
        let (p, q) = (self.period(), self.quota());
        p != 0 && q != 0 && q < p
    }

    /// Charges `ns` of CPU time that ended at `now`; returns whether the group is now
    /// out of quota (its running thread should leave the CPU).
    pub fn account(&self, ns: u64, now: u64) -> bool {
        if !self.limited() {
            return false;
        }
        let period = self.period().saturating_mul(1000);
        let start = self.period_start.load(Ordering::Relaxed);
        if start == 0 || now >= start.saturating_add(period) {
            self.period_start.store(now, Ordering::Relaxed);
            self.used_ns.store(0, Ordering::Relaxed);
        }
        let used = self.used_ns.fetch_add(ns, Ordering::Relaxed) + ns;
        if used >= self.quota().saturating_mul(1000) {
            let end = self
                .period_start
                .load(Ordering::Relaxed)
                .saturating_add(period);
            self.throttled_until.store(end, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Whether the group's threads may run at `now`.
    pub fn may_run(&self, now: u64) -> bool {
        now >= self.throttled_until.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_bounded_by_the_period() {
        let s = Sched::default();
        assert_eq!(s.set_quota(1), Err(Errno::EINVAL));
        s.set_period(100_000).expect("any period");
        assert_eq!(s.set_quota(100_001), Err(Errno::EINVAL));
        s.set_quota(20_000).expect("20%");
        assert_eq!(s.set_period(10_000), Err(Errno::EINVAL), "below the quota");
    }

    #[test]
    fn a_group_out_of_quota_waits_for_the_next_period() {
        let s = Sched::default();
        assert!(!s.account(1 << 40, 1), "no limit by default");
        s.set_period(100_000).expect("100 ms");
        s.set_quota(20_000).expect("20 ms");
        let t0 = 1_000_000_000;
        assert!(!s.account(10_000_000, t0));
        assert!(s.may_run(t0));
        assert!(s.account(10_000_000, t0 + 10_000_000), "20 ms used");
        assert!(!s.may_run(t0 + 50_000_000));
        assert!(s.may_run(t0 + 100_000_000), "the next period");
        assert!(!s.account(1_000_000, t0 + 100_000_000), "a fresh quota");
    }

    #[test]
    fn a_full_quota_never_throttles() {
        let s = Sched::default();
        s.set_period(10_000).expect("period");
        s.set_quota(10_000).expect("100%");
        assert!(!s.account(1 << 40, 5));
        assert!(s.may_run(6));
    }
}
