//! The pids limiter: how many processes a group may hold (`pids.max`, charged at fork,
//! uncharged at reap) and the lowest nice value its members may ask for
//! (`pids.priority`, Linux nice terms).

use crate::errno::Errno;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// The kernel's process limit (the size of a PID container's number space): the root's
/// `pids.max` and a new group's default (LiteOS-A: 64).
pub const PID_MAX: u32 = crate::container::pidmap::PID_MAX;
/// The nice floor of a new group: every nice value is allowed.
pub const NICE_MIN: i32 = -20;
pub const NICE_MAX: i32 = 19;

pub struct Pids {
    count: AtomicU32,
    max: AtomicU32,
    priority: AtomicI32,
}

impl Default for Pids {
    fn default() -> Self {
        Pids {
            count: AtomicU32::new(0),
            max: AtomicU32::new(PID_MAX),
            priority: AtomicI32::new(NICE_MIN),
        }
    }
}

impl Pids {
    pub fn count(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    pub fn max(&self) -> u32 {
        self.max.load(Ordering::Relaxed)
    }

    pub fn priority(&self) -> i32 {
        self.priority.load(Ordering::Relaxed)
    }

    /// One more process (fork): `EACCES` at the limit (LiteOS-A's fork errno).
    pub fn charge(&self) -> Result<(), Errno> {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
                (c < self.max()).then_some(c + 1)
            })
            .map(|_| ())
            .map_err(|_| Errno::EACCES)
    }

    /// One more process without a check (a move the caller checked, the root).
    pub fn add(&self, n: u32) {
        self.count.fetch_add(n, Ordering::AcqRel);
    }

    pub fn uncharge(&self, n: u32) {
        let _ = self
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(n))
            });
    }

    /// `pids.max`: at most [`PID_MAX`] (else `EINVAL`), above the current count (else
    /// `EPERM`).
    pub fn set_max(&self, v: u64) -> Result<(), Errno> {
        if v > PID_MAX as u64 {
            return Err(Errno::EINVAL);
        }
        if v <= self.count() as u64 {
            return Err(Errno::EPERM);
        }
        self.max.store(v as u32, Ordering::Relaxed);
        Ok(())
    }

    /// `pids.priority`: a nice value −20..19 (else `EINVAL`).
    pub fn set_priority(&self, v: i64) -> Result<(), Errno> {
        if !(NICE_MIN as i64..=NICE_MAX as i64).contains(&v) {
            return Err(Errno::EINVAL);
        }
        self.priority.store(v as i32, Ordering::Relaxed);
        Ok(())
    }

    /// Whether a member may set nice value `nice` (`EACCES` below the floor).
    pub fn check_nice(&self, nice: i32) -> Result<(), Errno> {
        if nice < self.priority() {
            Err(Errno::EACCES)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_fails_with_eacces_at_the_limit() {
        let p = Pids::default();
        p.add(1);
        p.set_max(5).expect("5 > 1");
        for _ in 0..4 {
            p.charge().expect("below the limit");
        }
        assert_eq!(p.charge(), Err(Errno::EACCES));
        assert_eq!(p.count(), 5);
        p.uncharge(4);
        assert_eq!(p.count(), 1);
    }

    #[test]
    fn max_is_bounded_by_the_kernel_limit_and_the_count() {
        let p = Pids::default();
        assert_eq!(p.max(), PID_MAX);
        assert_eq!(p.set_max(PID_MAX as u64 + 1), Err(Errno::EINVAL));
        assert_eq!(p.set_max(PID_MAX as u64), Ok(()));
        p.add(3);
        assert_eq!(p.set_max(3), Err(Errno::EPERM));
        assert_eq!(p.set_max(4), Ok(()));
    }

    #[test]
    fn priority_is_a_nice_floor() {
        let p = Pids::default();
        assert_eq!(p.check_nice(-20), Ok(()));
        assert_eq!(p.set_priority(-21), Err(Errno::EINVAL));
        assert_eq!(p.set_priority(20), Err(Errno::EINVAL));
        p.set_priority(5).expect("in range");
        assert_eq!(p.check_nice(4), Err(Errno::EACCES));
        assert_eq!(p.check_nice(5), Ok(()));
    }
}
