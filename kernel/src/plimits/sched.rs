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
    /// CPU time of the group's threads since it was made (ns), periods begun, times
    /// throttled and the time throttled (ns): cgroup2's `cpu.stat`.
    usage_ns: AtomicU64,
    periods: AtomicU64,
    throttled: AtomicU64,
    throttled_ns: AtomicU64,
}

/// `cpu.stat`'s counters of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedStat {
    pub usage_ns: u64,
    pub periods: u64,
    pub throttled: u64,
    pub throttled_ns: u64,
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

    /// Both at once (cgroup2's `cpu.max`): the quota not above the period (`EINVAL`).
    pub fn set_both(&self, period_us: u64, quota_us: u64) -> Result<(), Errno> {
        if quota_us > period_us {
            return Err(Errno::EINVAL);
        }
        // Quota 0 first: the pair never reads as a quota above its period.
        self.quota_us.store(0, Ordering::Relaxed);
        self.period_us.store(period_us, Ordering::Relaxed);
        self.quota_us.store(quota_us, Ordering::Relaxed);
        self.restart();
        Ok(())
    }

    pub fn stat(&self) -> SchedStat {
        SchedStat {
            usage_ns: self.usage_ns.load(Ordering::Relaxed),
            periods: self.periods.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttled_ns: self.throttled_ns.load(Ordering::Relaxed),
        }
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
        self.usage_ns.fetch_add(ns, Ordering::Relaxed);
        if !self.limited() {
            return false;
        }
        let period = self.period().saturating_mul(1000);
        let start = self.period_start.load(Ordering::Relaxed);
        if start == 0 || now >= start.saturating_add(period) {
            self.period_start.store(now, Ordering::Relaxed);
            self.used_ns.store(0, Ordering::Relaxed);
            self.periods.fetch_add(1, Ordering::Relaxed);
        }
        let used = self.used_ns.fetch_add(ns, Ordering::Relaxed) + ns;
        if used >= self.quota().saturating_mul(1000) {
            let end = self
                .period_start
                .load(Ordering::Relaxed)
                .saturating_add(period);
            // Counted once a period (charges after the quota ran out end here too).
            if self.throttled_until.swap(end, Ordering::Relaxed) != end {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                self.throttled_ns
                    .fetch_add(end.saturating_sub(now), Ordering::Relaxed);
            }
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
    fn both_at_once_and_the_stat_counters() {
        let s = Sched::default();
        assert_eq!(s.set_both(100_000, 100_001), Err(Errno::EINVAL));
        s.set_both(100_000, 20_000).expect("20%");
        assert_eq!((s.period(), s.quota()), (100_000, 20_000));
        s.set_both(10_000, 5_000).expect("a shorter period at once");
        assert_eq!((s.period(), s.quota()), (10_000, 5_000));
        let t0 = 1_000_000_000;
        assert!(s.account(6_000_000, t0));
        let st = s.stat();
        assert_eq!((st.usage_ns, st.periods, st.throttled), (6_000_000, 1, 1));
        assert_eq!(st.throttled_ns, 10_000_000, "until the period ends");
        assert!(s.account(1_000, t0 + 1_000), "still out of quota");
        assert_eq!(s.stat().throttled, 1, "once a period");
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
