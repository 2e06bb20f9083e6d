//! Kernel objects charged to the plimits group that made them: a [`Charge`] is held by
//! the object (an open file, a pipe, a thread, a mapping, ...) and charges what it costs
//! on the kernel heap to the group's memory while it lives, counted as the kernel part of
//! the usage (`memory.stat`). A charge over `memory.limit` is `ENOMEM` (and
//! `memory.failcnt` + 1): the caller builds nothing. Dropping it uncharges; the group
//! charged is the one the object was made in, whoever holds it later (as Linux's kmem
//! accounting), or the root once that group is removed.

use super::{Group, current_group};
use crate::errno::Errno;
use crate::mm::heap::{block_bytes, block_bytes_for};
use alloc::sync::Arc;
use core::alloc::Layout;
use core::sync::atomic::Ordering;

/// Bytes of kernel memory charged to a group while this lives.
pub struct Charge {
    /// `None` for a kernel-internal object (charged to nobody).
    group: Option<Arc<Group>>,
    bytes: u64,
}

impl Charge {
    /// Charges `bytes` to the calling process's group: `ENOMEM` over its limit.
    pub fn new(bytes: u64) -> Result<Charge, Errno> {
        Charge::kept_by(current_group().into_effective(), bytes)
    }

    /// Charges `bytes` to `group`: `ENOMEM` over its limit (never for 0 bytes).
    pub fn to(group: &Arc<Group>, bytes: u64) -> Result<Charge, Errno> {
        Charge::kept_by(group.effective(), bytes)
    }

    /// [`Charge::to`] the effective `group`, whose reference the charge keeps.
    fn kept_by(group: Arc<Group>, bytes: u64) -> Result<Charge, Errno> {
        if bytes != 0 {
            group.mem.charge_kernel(bytes)?;
        }
        Ok(Charge {
            group: Some(group),
            bytes,
        })
    }

    /// The heap cost of one `T` (a `Box<T>`) charged to the caller's group.
    pub fn boxed<T>() -> Result<Charge, Errno> {
        Charge::new(heap_cost(Layout::new::<T>()))
    }

    /// The heap cost of an `Arc<T>` charged to the caller's group.
    pub fn arc<T>() -> Result<Charge, Errno> {
        Charge::new(arc_cost::<T>())
    }

    /// Nothing charged yet to the caller's group: an object that grows with
    /// [`Charge::resize`].
    pub fn empty() -> Charge {
        Charge {
            group: Some(current_group().effective()),
            bytes: 0,
        }
    }

    /// A kernel-internal object's: charges nothing.
    pub const fn none() -> Charge {
        Charge {
            group: None,
            bytes: 0,
        }
    }

    /// Bytes charged.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Charges `bytes` in all instead (a buffer grew or shrank): `ENOMEM` over the limit,
    /// with the old charge kept. A kernel-internal charge stays at 0.
    pub fn resize(&mut self, bytes: u64) -> Result<(), Errno> {
        let Some(g) = &self.group else {
            return Ok(());
        };
        let g = g.effective();
        if bytes > self.bytes {
            g.mem.charge_kernel(bytes - self.bytes)?;
        } else if bytes < self.bytes {
            g.mem.uncharge_kernel(self.bytes - bytes);
        }
        self.bytes = bytes;
        Ok(())
    }

    /// Moves the charge to the caller's group if it has moved since (a process's own
    /// structures, such as its memory areas, follow it into a group as LiteOS-A's
    /// limiter migrates a process's memory): `ENOMEM` if the group cannot take it, and
    /// nothing moved. A kernel-internal charge stays where it is.
    pub fn follow_caller(&mut self) -> Result<(), Errno> {
        let Some(g) = &self.group else {
            return Ok(());
        };
        let now = current_group().effective();
        if Arc::ptr_eq(&g.effective(), &now) {
            return Ok(());
        }
        *self = Charge::to(&now, self.bytes)?;
        Ok(())
    }

    /// Charges `bytes` more (see [`Charge::resize`]).
    pub fn grow(&mut self, bytes: u64) -> Result<(), Errno> {
        self.resize(self.bytes.checked_add(bytes).ok_or(Errno::ENOMEM)?)
    }

    /// Moves `other`'s bytes into this charge (same group, or both kernel-internal).
    pub fn merge(&mut self, mut other: Charge) {
        self.bytes += core::mem::take(&mut other.bytes);
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        // `Group::effective` without taking a reference to the group kept.
        match &self.group {
            _ if self.bytes == 0 => {}
            Some(g) if g.removed.load(Ordering::Acquire) => {
                super::root().mem.uncharge_kernel(self.bytes)
            }
            Some(g) => g.mem.uncharge_kernel(self.bytes),
            None => {}
        }
    }
}

impl Default for Charge {
    fn default() -> Charge {
        Charge::none()
    }
}

impl core::fmt::Debug for Charge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Charge({} bytes)", self.bytes)
    }
}

/// What a block of `layout` takes on the kernel heap.
pub fn heap_cost(layout: Layout) -> u64 {
    if layout.size() == 0 {
        return 0;
    }
    block_bytes(layout) as u64
}

/// What an `Arc<T>` takes on the heap (its two counts and the `T`).
pub const fn arc_cost<T>() -> u64 {
    arc_cost_of(size_of::<T>(), align_of::<T>())
}

/// What an `Arc` of a value of `size` bytes aligned to `align` (a power of two) takes
/// on the heap: the two counts, the value at the next multiple of its alignment, the
/// whole rounded to the block's alignment (`Layout::extend`'s sum, done by hand:
/// [`crate::fs::file::OpenFile`] computes one per open).
pub const fn arc_cost_of(size: usize, align: usize) -> u64 {
    const COUNTS: usize = 2 * size_of::<usize>();
    let align = if align > align_of::<usize>() {
        align
    } else {
        align_of::<usize>()
    };
    // Rounding by masks: `align` is a power of two (no division).
    let mask = align - 1;
    let Some(end) = ((COUNTS + mask) & !mask).checked_add(size) else {
        return u64::MAX;
    };
    match end.checked_add(mask) {
        Some(total) if total & !mask <= isize::MAX as usize => {
            block_bytes_for(total & !mask, align) as u64
        }
        _ => u64::MAX,
    }
}

/// What a buffer of `n` `T`s (a `Vec<T>` of capacity `n`) takes on the heap.
pub const fn array_cost<T>(n: usize) -> u64 {
    match n.checked_mul(size_of::<T>()) {
        Some(0) => 0,
        Some(bytes) if bytes <= isize::MAX as usize - (align_of::<T>() - 1) => {
            block_bytes_for(bytes, align_of::<T>()) as u64
        }
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plimits::test_group;

    #[test]
    fn costs_follow_the_heap_classes() {
        assert_eq!(heap_cost(Layout::new::<()>()), 0);
        assert_eq!(heap_cost(Layout::new::<[u8; 40]>()), 64);
        assert_eq!(arc_cost::<u64>(), 32, "two counts and 8 bytes");
        assert_eq!(arc_cost::<[u8; 3000]>(), 4096);
        assert_eq!(array_cost::<u64>(0), 0);
        assert_eq!(array_cost::<u64>(300), 4096);
        assert_eq!(array_cost::<u8>(65536), 65536);
        assert_eq!(array_cost::<u64>(usize::MAX), u64::MAX);
        assert_eq!(array_cost::<u8>(1), 16);
        assert_eq!(array_cost::<u8>(2049), 4096);
    }

    #[test]
    fn arc_costs_are_layouts_sums() {
        fn by_layout(size: usize, align: usize) -> u64 {
            let value = Layout::from_size_align(size, align).expect("a valid layout");
            let (l, _) = Layout::new::<[usize; 2]>().extend(value).expect("fits");
            heap_cost(l.pad_to_align())
        }
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [0, 1, 7, 8, 15, 16, 17, 100, 1000, 2032, 2033, 4000, 5000] {
                assert_eq!(
                    arc_cost_of(size, align),
                    by_layout(size, align),
                    "size {size} align {align}"
                );
            }
        }
        assert_eq!(arc_cost_of(usize::MAX - 8, 8), u64::MAX);
        const OPEN: u64 = arc_cost::<[u64; 20]>();
        assert_eq!(OPEN, 256);
    }

    #[test]
    fn a_charge_counts_while_it_lives() {
        let g = test_group(70, "kmem-a");
        let c = Charge::to(&g, 100).expect("fits");
        let d = Charge::to(&g, 28).expect("fits");
        assert_eq!((g.mem.usage(), g.mem.kernel()), (128, 128));
        drop(c);
        assert_eq!((g.mem.usage(), g.mem.kernel()), (28, 28));
        drop(d);
        assert_eq!((g.mem.usage(), g.mem.kernel(), g.mem.failcnt()), (0, 0, 0));
    }

    #[test]
    fn over_the_limit_is_enomem_and_counted() {
        let g = test_group(71, "kmem-b");
        let limit = g.mem.limit();
        let c = Charge::to(&g, limit - 10).expect("fits");
        assert_eq!(Charge::to(&g, 11).err(), Some(Errno::ENOMEM));
        assert_eq!(g.mem.failcnt(), 1);
        assert_eq!(g.mem.usage(), limit - 10, "the failed charge took nothing");
        let last = Charge::to(&g, 10).expect("exactly the limit");
        drop((c, last));
        assert_eq!(g.mem.usage(), 0);
    }

    #[test]
    fn resize_grows_and_shrinks_keeping_the_old_charge_on_failure() {
        let g = test_group(72, "kmem-c");
        let limit = g.mem.limit();
        let mut c = Charge::to(&g, 4096).expect("fits");
        c.resize(65536).expect("fits");
        assert_eq!((c.bytes(), g.mem.kernel()), (65536, 65536));
        assert_eq!(c.resize(limit + 1), Err(Errno::ENOMEM));
        assert_eq!(
            (c.bytes(), g.mem.kernel(), g.mem.failcnt()),
            (65536, 65536, 1)
        );
        c.resize(16).expect("shrinks");
        assert_eq!(g.mem.usage(), 16);
        c.grow(16).expect("fits");
        assert_eq!(g.mem.usage(), 32);
        let mut n = Charge::none();
        n.resize(1 << 40).expect("internal objects charge nothing");
        assert_eq!(n.bytes(), 0);
        let other = Charge::to(&g, 64).expect("fits");
        c.merge(other);
        assert_eq!((c.bytes(), g.mem.usage()), (96, 96));
        drop(c);
        assert_eq!((g.mem.usage(), g.mem.kernel()), (0, 0));
    }
}
