//! The memory limiter: bytes the group's processes use, charged as they are taken and
//! uncharged when freed: the private user pages and page tables of each address space
//! (page fault, copy-on-write share at fork, program load), kernel stacks, and the pages
//! of SysV shared memory segments (to their creator's group). Over `memory.limit` the
//! allocation fails (a faulting process is killed, a fork gets `ENOMEM`) and
//! `memory.failcnt` goes up.

use super::{Group, charge_counter, uncharge_counter};
use crate::errno::Errno;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

pub struct Memory {
    usage: AtomicU64,
    peak: AtomicU64,
    failcnt: AtomicU64,
    limit: AtomicU64,
    /// Processes killed for a fault over the limit (cgroup2's `memory.events` `oom_kill`).
    oom_kills: AtomicU64,
    /// Whether charges past `limit` fail. The root group's limit only shows the machine's
    /// memory: as Linux's root memory cgroup it is never refused, since its usage counts
    /// a copy-on-write page once per address space sharing it (10,000 forked children
    /// of one parent are charged more than RAM while half of it is free); the machine
    /// running out is the frame allocator's `ENOMEM`.
    limited: bool,
    /// The part of `usage` that is kernel objects on the heap (`kmem::Charge`).
    kernel: AtomicU64,
}

impl Memory {
    pub fn new(limit: u64) -> Memory {
        Memory {
            usage: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            failcnt: AtomicU64::new(0),
            limit: AtomicU64::new(limit),
            oom_kills: AtomicU64::new(0),
            kernel: AtomicU64::new(0),
            limited: true,
        }
    }

    /// The root group's: `limit` (the machine's memory) is shown, never enforced.
    pub fn unlimited(limit: u64) -> Memory {
        Memory {
            limited: false,
            ..Memory::new(limit)
        }
    }

    /// Bytes of kernel objects charged (part of the usage).
    pub fn kernel(&self) -> u64 {
        self.kernel.load(Ordering::Relaxed)
    }

    /// Charges `bytes` of kernel objects: as [`Memory::charge`], and counted apart.
    pub fn charge_kernel(&self, bytes: u64) -> Result<(), Errno> {
        self.charge(bytes)?;
        self.kernel.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    pub fn uncharge_kernel(&self, bytes: u64) {
        uncharge_counter(&self.kernel, bytes);
        self.uncharge(bytes);
    }

    /// Takes over everything charged to `from` (its group is being removed).
    pub fn absorb(&self, from: &Memory) {
        let (usage, kernel) = (from.usage(), from.kernel());
        self.add(usage);
        self.kernel.fetch_add(kernel, Ordering::Relaxed);
        from.uncharge_kernel(kernel);
        from.uncharge(usage.saturating_sub(kernel));
    }

    pub fn usage(&self) -> u64 {
        self.usage.load(Ordering::Relaxed)
    }
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
    pub fn failcnt(&self) -> u64 {
        self.failcnt.load(Ordering::Relaxed)
    }
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }
    pub fn oom_kills(&self) -> u64 {
        self.oom_kills.load(Ordering::Relaxed)
    }

    /// A member faulted over the limit and is being killed.
    pub fn note_oom_kill(&self) {
        self.oom_kills.fetch_add(1, Ordering::Relaxed);
    }

    /// Charges `bytes`: `ENOMEM` (and `failcnt` + 1) when the usage would pass the limit.
    pub fn charge(&self, bytes: u64) -> Result<(), Errno> {
        let limit = self.limit();
        let old = charge_counter(&self.usage, &self.failcnt, |u| {
            u.checked_add(bytes)
                .filter(|n| *n <= limit || !self.limited)
        })
        .ok_or(Errno::ENOMEM)?;
        // Most charges stay under the peak: a load, no locked update.
        if old + bytes > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(old + bytes, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Charges `bytes` without a check (moving a process whose check passed).
    pub fn add(&self, bytes: u64) {
        let old = self.usage.fetch_add(bytes, Ordering::AcqRel);
        self.peak.fetch_max(old + bytes, Ordering::Relaxed);
    }

    pub fn uncharge(&self, bytes: u64) {
        uncharge_counter(&self.usage, bytes);
    }

    /// `memory.limit`: not 0 and not below the usage (`EINVAL`).
    pub fn set_limit(&self, v: u64) -> Result<(), Errno> {
        if v == 0 || v < self.usage() {
            return Err(Errno::EINVAL);
        }
        self.limit.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// Whether `bytes` more fit (the check of a process joining).
    pub fn fits(&self, bytes: u64) -> bool {
        self.usage().saturating_add(bytes) <= self.limit() || !self.limited
    }
}

/// A member of `g` is killed for a fault it could not be given a page for: counted
/// in `g`'s `oom_kill` when `g` is at its limit (not when the machine is out of frames).
pub fn note_fault_kill(g: &Arc<Group>) {
    let m = &g.effective().mem;
    if !m.fits(4096) {
        m.note_oom_kill();
    }
}

/// Memory held for a group outside its processes' address spaces (a thread's kernel
/// stack, the pages of a shared memory segment), charged to the group while this lives.
pub struct KernelCharge {
    group: Arc<Group>,
    bytes: AtomicU64,
}

impl KernelCharge {
    /// Charges `bytes` to `group`: `ENOMEM` over its `memory.limit`.
    pub fn take(group: &Arc<Group>, bytes: u64) -> Result<KernelCharge, Errno> {
        let c = KernelCharge {
            group: group.effective(),
            bytes: AtomicU64::new(0),
        };
        c.grow(bytes)?;
        Ok(c)
    }

    /// Charges `bytes` more: `ENOMEM` over the limit.
    pub fn grow(&self, bytes: u64) -> Result<(), Errno> {
        self.group.effective().mem.charge(bytes)?;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for KernelCharge {
    fn drop(&mut self) {
        self.group.effective().mem.uncharge(*self.bytes.get_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_up_to_the_limit_then_counts_failures() {
        let m = Memory::new(3 * 4096);
        for _ in 0..3 {
            m.charge(4096).expect("fits");
        }
        assert_eq!(m.charge(4096), Err(Errno::ENOMEM));
        assert_eq!((m.usage(), m.peak(), m.failcnt()), (3 * 4096, 3 * 4096, 1));
        m.uncharge(2 * 4096);
        assert_eq!((m.usage(), m.peak()), (4096, 3 * 4096), "the peak stays");
        m.uncharge(10 * 4096);
        assert_eq!(m.usage(), 0, "never below zero");
    }

    #[test]
    fn limit_is_not_zero_nor_below_the_usage() {
        let m = Memory::new(1 << 20);
        m.charge(8192).expect("fits");
        assert_eq!(m.set_limit(0), Err(Errno::EINVAL));
        assert_eq!(m.set_limit(4096), Err(Errno::EINVAL));
        assert_eq!(m.set_limit(8192), Ok(()));
        assert!(!m.fits(1));
    }

    #[test]
    fn the_root_groups_limit_is_shown_not_enforced() {
        let m = Memory::unlimited(2 * 4096);
        for _ in 0..3 {
            m.charge(4096).expect("never refused");
        }
        assert_eq!((m.usage(), m.limit(), m.failcnt()), (3 * 4096, 2 * 4096, 0));
        assert!(m.fits(1 << 30));
    }

    #[test]
    fn kernel_objects_are_part_of_the_usage_and_move_on_absorb() {
        let m = Memory::new(1 << 20);
        m.charge(8192).expect("fits");
        m.charge_kernel(512).expect("fits");
        assert_eq!((m.usage(), m.kernel()), (8192 + 512, 512));
        assert_eq!(m.charge_kernel(1 << 20), Err(Errno::ENOMEM));
        assert_eq!(
            (m.kernel(), m.failcnt()),
            (512, 1),
            "nothing charged on failure"
        );
        let root = Memory::new(4 << 20);
        root.absorb(&m);
        assert_eq!((m.usage(), m.kernel()), (0, 0));
        assert_eq!((root.usage(), root.kernel()), (8192 + 512, 512));
        root.uncharge_kernel(512);
        assert_eq!((root.usage(), root.kernel()), (8192, 0));
    }
}
