//! The ipc limiter: how many POSIX message queues (`ipc.mq_limit`) and how many bytes
//! of SysV shared memory (`ipc.shm_limit`) a group's processes may create, with the
//! failures counted (`ipc.stat`). LiteOS-A's `>=` comparisons are kept: creating the
//! last queue or byte up to the limit exactly fails.

use super::{Group, charge_counter, uncharge_counter};
use crate::errno::Errno;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

pub const MQ_LIMIT_MAX: u64 = 1024;
pub const SHM_LIMIT_MAX: u64 = 0xFFFF_FFFF;

pub struct Ipc {
    mq_count: AtomicU64,
    mq_limit: AtomicU64,
    mq_failed: AtomicU64,
    shm_size: AtomicU64,
    shm_limit: AtomicU64,
    shm_failed: AtomicU64,
}

impl Default for Ipc {
    fn default() -> Self {
        Ipc {
            mq_count: AtomicU64::new(0),
            mq_limit: AtomicU64::new(MQ_LIMIT_MAX),
            mq_failed: AtomicU64::new(0),
            shm_size: AtomicU64::new(0),
            shm_limit: AtomicU64::new(SHM_LIMIT_MAX),
            shm_failed: AtomicU64::new(0),
        }
    }
}

impl Ipc {
    pub fn mq_count(&self) -> u64 {
        self.mq_count.load(Ordering::Relaxed)
    }
    pub fn mq_limit(&self) -> u64 {
        self.mq_limit.load(Ordering::Relaxed)
    }
    pub fn shm_size(&self) -> u64 {
        self.shm_size.load(Ordering::Relaxed)
    }
    pub fn shm_limit(&self) -> u64 {
        self.shm_limit.load(Ordering::Relaxed)
    }

    /// One more queue: refused (failed count + 1) once `count >= limit`.
    pub fn charge_mq(&self) -> bool {
        let limit = self.mq_limit();
        charge_counter(&self.mq_count, &self.mq_failed, |c| {
            (c < limit).then_some(c + 1)
        })
        .is_some()
    }

    pub fn uncharge_mq(&self) {
        uncharge_counter(&self.mq_count, 1);
    }

    /// `bytes` more shared memory: refused (failed count + 1) once
    /// `size + bytes >= limit`.
    pub fn charge_shm(&self, bytes: u64) -> bool {
        let limit = self.shm_limit();
        charge_counter(&self.shm_size, &self.shm_failed, |s| {
            s.checked_add(bytes).filter(|n| *n < limit)
        })
        .is_some()
    }

    pub fn uncharge_shm(&self, bytes: u64) {
        uncharge_counter(&self.shm_size, bytes);
    }

    /// Adds another group's counts (its members moved here).
    pub fn absorb(&self, other: &Ipc) {
        self.mq_count.fetch_add(other.mq_count(), Ordering::AcqRel);
        self.shm_size.fetch_add(other.shm_size(), Ordering::AcqRel);
    }

    /// `ipc.mq_limit`: 1..=1024 (`EINVAL`), not below the count (`EINVAL`).
    pub fn set_mq_limit(&self, v: u64) -> Result<(), Errno> {
        if v == 0 || v > MQ_LIMIT_MAX || v < self.mq_count() {
            return Err(Errno::EINVAL);
        }
        self.mq_limit.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// `ipc.shm_limit`: 1..=0xFFFFFFFF (`EINVAL`), not below the size (`EINVAL`).
    pub fn set_shm_limit(&self, v: u64) -> Result<(), Errno> {
        if v == 0 || v > SHM_LIMIT_MAX || v < self.shm_size() {
            return Err(Errno::EINVAL);
        }
        self.shm_limit.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// `ipc.stat` (LiteOS-A's text, no leading newline).
    pub fn render_stat(&self) -> alloc::string::String {
        alloc::format!(
            "mq count: {}\nmq failed count: {}\nshm size: {}\nshm failed count: {}\n",
            self.mq_count(),
            self.mq_failed.load(Ordering::Relaxed),
            self.shm_size(),
            self.shm_failed.load(Ordering::Relaxed)
        )
    }
}

/// One message queue counted in a group: dropping it (the queue is freed) gives the
/// count back, to the root if the group was removed meanwhile.
pub struct MqCharge {
    group: Arc<Group>,
}

impl MqCharge {
    /// Counts a new queue of `group`. The errno of a refusal: LiteOS-A's `mq_open`
    /// fails without setting one; Bulkhead gives `ENOSPC`, mq_open(3)'s errno for
    /// "the queue limit was reached" (Linux's `queues_max`).
    pub fn take(group: &Arc<Group>) -> Result<MqCharge, Errno> {
        let group = group.effective();
        if group.ipc.charge_mq() {
            Ok(MqCharge { group })
        } else {
            Err(Errno::ENOSPC)
        }
    }
}

impl Drop for MqCharge {
    fn drop(&mut self) {
        self.group.effective().ipc.uncharge_mq();
    }
}

/// The bytes of one SysV shared memory segment counted in its creator's group; given
/// back when the segment is freed.
pub struct ShmCharge {
    group: Arc<Group>,
    bytes: u64,
}

impl ShmCharge {
    /// Counts a new segment of `bytes` (whole pages) in `group`: see [`charge_shm`].
    pub fn take(group: &Arc<Group>, bytes: u64) -> Result<ShmCharge, Errno> {
        charge_shm(group, bytes)?;
        Ok(ShmCharge {
            group: group.clone(),
            bytes,
        })
    }
}

impl Drop for ShmCharge {
    fn drop(&mut self) {
        uncharge_shm(&self.group, self.bytes);
    }
}

/// Charges `bytes` of a new SysV shared memory segment to `group` (the creator's):
/// `ENOMEM` (shmget(2)'s errno; LiteOS-A's too) when `shm size + bytes >= limit`, with
/// the failed count + 1. The segment keeps `group` and gives the bytes back with
/// [`uncharge_shm`] when it is freed.
pub fn charge_shm(group: &Arc<Group>, bytes: u64) -> Result<(), Errno> {
    if group.effective().ipc.charge_shm(bytes) {
        Ok(())
    } else {
        Err(Errno::ENOMEM)
    }
}

/// Gives back `bytes` charged with [`charge_shm`] (to the root if the group was removed).
pub fn uncharge_shm(group: &Arc<Group>, bytes: u64) {
    group.effective().ipc.uncharge_shm(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mq_count_stops_at_the_limit_and_counts_failures() {
        let i = Ipc::default();
        i.set_mq_limit(10).expect("in range");
        for _ in 0..10 {
            assert!(i.charge_mq());
        }
        assert!(!i.charge_mq());
        assert_eq!(
            i.render_stat(),
            "mq count: 10\nmq failed count: 1\nshm size: 0\nshm failed count: 0\n"
        );
        assert_eq!(i.set_mq_limit(9), Err(Errno::EINVAL), "below the count");
        i.uncharge_mq();
        assert_eq!(i.mq_count(), 9);
    }

    #[test]
    fn shm_reaching_the_limit_exactly_fails() {
        // LiteOS-A ipc_010: 9 pages fit in 40960, 2 more do not.
        let i = Ipc::default();
        i.set_shm_limit(40960).expect("in range");
        assert!(i.charge_shm(9 * 4096));
        assert!(!i.charge_shm(2 * 4096));
        assert!(!i.charge_shm(4096), "36864 + 4096 == 40960: >= fails");
        assert!(
            i.render_stat()
                .contains("shm size: 36864\nshm failed count: 2\n")
        );
        i.uncharge_shm(9 * 4096);
        assert_eq!(i.shm_size(), 0);
    }

    #[test]
    fn limits_reject_zero_and_out_of_range() {
        let i = Ipc::default();
        assert_eq!(i.mq_limit(), 1024);
        assert_eq!(i.shm_limit(), 4294967295);
        assert_eq!(i.set_mq_limit(0), Err(Errno::EINVAL));
        assert_eq!(i.set_mq_limit(1025), Err(Errno::EINVAL));
        assert_eq!(i.set_shm_limit(0), Err(Errno::EINVAL));
        assert_eq!(i.set_shm_limit(1 << 32), Err(Errno::EINVAL));
        assert_eq!(i.set_shm_limit(123), Ok(()));
    }
}
