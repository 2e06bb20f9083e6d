//! The TIME container (time_namespaces(7)): offsets that the processes inside it see added
//! to `CLOCK_MONOTONIC` (and its `_RAW` and `_COARSE` forms) and to `CLOCK_BOOTTIME`.
//!
//! A new container (`unshare` or `clone3` with `CLONE_NEWTIME`) starts with a copy of its
//! parent's offsets, unfrozen; the first process to enter it (a child created into it, or a
//! `setns`) freezes them, after which writes give `EACCES`. The root container is frozen
//! from boot. Offsets are nanoseconds in atomics: `clock_gettime` reads them on every call,
//! and only a frozen container has processes in it, so a reader never sees a half-written
//! pair.

use super::{ContainerCommon, ContainerSet, ContainerType, Kind, Scope};
use crate::cred::Credentials;
use crate::errno::Errno;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use spin::Mutex;

pub const NSEC_PER_SEC: i64 = 1_000_000_000;
/// Linux's `KTIME_SEC_MAX`: the largest second count a nanosecond `i64` holds.
pub const KTIME_SEC_MAX: i64 = i64::MAX / NSEC_PER_SEC;

/// The clocks a TIME container shifts (Linux's `timens_offsets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Monotonic,
    Boottime,
}

impl Clock {
    /// The name in `/proc/[pid]/timens_offsets`.
    pub fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Boottime => "boottime",
        }
    }

    /// A clock named in a `timens_offsets` write: its name or its clock id (1, 7).
    pub fn from_name(s: &[u8]) -> Option<Clock> {
        match s {
            b"monotonic" | b"1" => Some(Clock::Monotonic),
            b"boottime" | b"7" => Some(Clock::Boottime),
            _ => None,
        }
    }
}

pub struct TimeContainer {
    common: ContainerCommon,
    monotonic: AtomicI64,
    boottime: AtomicI64,
    frozen: AtomicBool,
    /// Orders offset writes against freezing (Linux's `offset_lock`): a write that saw
    /// "not frozen" completes before the first process enters.
    lock: Mutex<()>,
}

impl ContainerType for TimeContainer {
    const KIND: Kind = Kind::Time;
    const SCOPE: Scope = Scope::UntilExec;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    /// The root container: zero offsets, frozen.
    fn root(common: ContainerCommon) -> Self {
        TimeContainer {
            common,
            monotonic: AtomicI64::new(0),
            boottime: AtomicI64::new(0),
            frozen: AtomicBool::new(true),
            lock: Mutex::new(()),
        }
    }

    /// A new container with the parent's offsets (Linux's copy_time_ns: the caller's
    /// time_for_children), not frozen.
    fn new_child(
        parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        Ok(TimeContainer {
            common: ContainerCommon::new(Kind::Time, owner)?,
            monotonic: AtomicI64::new(parent.offset(Clock::Monotonic)),
            boottime: AtomicI64::new(parent.offset(Clock::Boottime)),
            frozen: AtomicBool::new(false),
            lock: Mutex::new(()),
        })
    }

    /// A TIME container's clocks are the whole process's (setns(2): `EUSERS` when
    /// multithreaded).
    fn may_join(
        &self,
        _set: &ContainerSet,
        _cred: &Credentials,
        single_threaded: bool,
    ) -> Result<(), Errno> {
        if !single_threaded {
            return Err(Errno::EUSERS);
        }
        Ok(())
    }

    /// The first process to enter fixes the offsets.
    fn entered(&self) {
        self.freeze();
    }
}

impl TimeContainer {
    fn slot(&self, clock: Clock) -> &AtomicI64 {
        match clock {
            Clock::Monotonic => &self.monotonic,
            Clock::Boottime => &self.boottime,
        }
    }

    /// The offset of `clock` in nanoseconds.
    pub fn offset(&self, clock: Clock) -> i64 {
        self.slot(clock).load(Ordering::Acquire)
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }

    /// A process enters: the offsets are fixed from now on.
    pub fn freeze(&self) {
        if self.is_frozen() {
            return;
        }
        let _g = self.lock.lock();
        self.frozen.store(true, Ordering::Release);
    }

    /// Sets offsets (nanoseconds), all or none: `EACCES` once frozen.
    pub fn set_offsets(&self, new: &[(Clock, i64)]) -> Result<(), Errno> {
        let _g = self.lock.lock();
        if self.is_frozen() {
            return Err(Errno::EACCES);
        }
        for &(clock, ns) in new {
            self.slot(clock).store(ns, Ordering::Release);
        }
        Ok(())
    }
}

/// An offset in nanoseconds as a normalised `timespec` (`tv_nsec` in 0..1e9), as
/// `timens_offsets` shows it: -0.5 s is `-1 500000000`.
pub fn split(ns: i64) -> (i64, i64) {
    (ns.div_euclid(NSEC_PER_SEC), ns.rem_euclid(NSEC_PER_SEC))
}

/// The offset `sec` s + `nsec` ns in nanoseconds, with Linux's bounds
/// (`proc_timens_set_offset`): `|sec| <= KTIME_SEC_MAX`, and the clock shifted by it (now
/// `now_ns`) must lie in 0..=KTIME_SEC_MAX/2 seconds, else `ERANGE`. The result then fits
/// an `i64` and shifted clocks never go negative or overflow.
pub fn checked_offset(now_ns: u64, sec: i64, nsec: i64) -> Result<i64, Errno> {
    if !(-KTIME_SEC_MAX..=KTIME_SEC_MAX).contains(&sec) {
        return Err(Errno::ERANGE);
    }
    let off = sec as i128 * NSEC_PER_SEC as i128 + nsec as i128;
    let shifted = now_ns as i128 + off;
    if shifted < 0 || shifted / NSEC_PER_SEC as i128 > (KTIME_SEC_MAX / 2) as i128 {
        return Err(Errno::ERANGE);
    }
    i64::try_from(off).map_err(|_| Errno::ERANGE)
}

/// A host clock value as a process with offset `off` sees it.
pub fn to_container(host_ns: u64, off: i64) -> u64 {
    (host_ns as i128 + off as i128).clamp(0, u64::MAX as i128) as u64
}

/// An absolute time of a shifted clock as a host clock value (Linux's
/// `do_timens_ktime_to_host`): a time before the offset has already passed (0).
pub fn to_host(ns: u64, off: i64) -> u64 {
    (ns as i128 - off as i128).clamp(0, u64::MAX as i128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_normalises_negative_offsets() {
        assert_eq!(split(0), (0, 0));
        assert_eq!(split(1_500_000_000), (1, 500_000_000));
        assert_eq!(split(-500_000_000), (-1, 500_000_000));
        assert_eq!(split(-2_000_000_000), (-2, 0));
    }

    #[test]
    fn checked_offset_bounds() {
        let now = 10 * NSEC_PER_SEC as u64;
        assert_eq!(checked_offset(now, 600, 800_000_000), Ok(600_800_000_000));
        assert_eq!(checked_offset(now, -10, 0), Ok(-10 * NSEC_PER_SEC));
        assert_eq!(checked_offset(now, -11, 999_999_999), Err(Errno::ERANGE));
        assert_eq!(
            checked_offset(now + 1, -11, 999_999_999),
            Ok(-10_000_000_001)
        );
        assert_eq!(checked_offset(now, -11, 0), Err(Errno::ERANGE));
        assert_eq!(
            checked_offset(now, KTIME_SEC_MAX + 1, 0),
            Err(Errno::ERANGE)
        );
        assert_eq!(
            checked_offset(now, -KTIME_SEC_MAX - 1, 0),
            Err(Errno::ERANGE)
        );
        assert_eq!(checked_offset(now, i64::MIN, 0), Err(Errno::ERANGE));
        assert!(checked_offset(now, KTIME_SEC_MAX / 2 - 10, 0).is_ok());
        assert_eq!(
            checked_offset(now, KTIME_SEC_MAX / 2 - 9, 0),
            Err(Errno::ERANGE)
        );
    }

    #[test]
    fn conversions_clamp() {
        assert_eq!(to_container(100, -40), 60);
        assert_eq!(to_container(100, -400), 0);
        assert_eq!(to_host(500, 200), 300);
        assert_eq!(to_host(100, 200), 0);
        assert_eq!(to_host(100, -200), 300);
    }

    #[test]
    fn clock_names_and_ids() {
        assert_eq!(Clock::from_name(b"monotonic"), Some(Clock::Monotonic));
        assert_eq!(Clock::from_name(b"1"), Some(Clock::Monotonic));
        assert_eq!(Clock::from_name(b"boottime"), Some(Clock::Boottime));
        assert_eq!(Clock::from_name(b"7"), Some(Clock::Boottime));
        assert_eq!(Clock::from_name(b"4"), None);
        assert_eq!(Clock::from_name(b"realtime"), None);
    }
}
