//! The number table of one PID container: O(1) lookup and cyclic
//! allocation (the next number after the last one given, wrapping, skipping those in
//! use), which gives LiteOS-A's "pid 3 after pid 2 exited". Pure logic.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hasher};

/// Numbers run from 1 to `PID_MAX - 1`.
pub const PID_MAX: u32 = 32768;

/// Open addressing with linear probing over at most half-full slots (a lookup is one
/// multiplication and, nearly always, one slot: hashbrown's search cost about 80
/// instructions in the kernel's build), removal by backward shift (no tombstones), and
/// growth that fails as `ENOMEM` instead of aborting.
pub struct PidMap<T> {
    slots: Vec<Option<(u32, T)>>,
    len: usize,
    last: u32,
}

/// Slots of a table's first allocation.
const FIRST_SLOTS: usize = 8;

/// Why [`PidMap::alloc`] gave no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// Every number is in use.
    Full,
    /// No memory for a bigger table.
    NoMemory,
}

impl<T> Default for PidMap<T> {
    fn default() -> Self {
        PidMap {
            slots: Vec::new(),
            len: 0,
            last: 0,
        }
    }
}

impl<T> PidMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The slot where number `n`'s search starts (`slots.len()` is a power of two).
    #[inline]
    fn home(&self, n: u32) -> usize {
        let h = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 32) as usize & (self.slots.len() - 1)
    }

    /// The slot holding `n`.
    #[inline]
    fn find(&self, n: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(n);
        loop {
            match self.slots.get(i)? {
                None => return None,
                Some((k, _)) if *k == n => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Allocates the next free number and stores `value` under it.
    pub fn alloc(&mut self, value: T) -> Result<u32, AllocError> {
        if self.len as u32 >= PID_MAX - 1 {
            return Err(AllocError::Full);
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow()?;
        }
        let mut n = self.last;
        loop {
            n = if n >= PID_MAX - 1 { 1 } else { n + 1 };
            if self.find(n).is_none() {
                break;
            }
        }
        self.last = n;
        self.place(n, value);
        self.len += 1;
        Ok(n)
    }

    /// Puts `n` (not in the table; a free slot exists) in the first free slot from its
    /// home.
    fn place(&mut self, n: u32, value: T) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(n);
        while let Some(Some(_)) = self.slots.get(i) {
            i = (i + 1) & mask;
        }
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some((n, value));
        }
    }

    /// Twice the slots (fallibly), every entry placed again.
    fn grow(&mut self) -> Result<(), AllocError> {
        let size = (self.slots.len() * 2).max(FIRST_SLOTS);
        let mut bigger = Vec::new();
        bigger
            .try_reserve_exact(size)
            .map_err(|_| AllocError::NoMemory)?;
        bigger.resize_with(size, || None);
        let old = core::mem::replace(&mut self.slots, bigger);
        for (n, v) in old.into_iter().flatten() {
            self.place(n, v);
        }
        Ok(())
    }

    pub fn get(&self, n: u32) -> Option<&T> {
        let i = self.find(n)?;
        self.slots.get(i)?.as_ref().map(|(_, v)| v)
    }

    pub fn remove(&mut self, n: u32) -> Option<T> {
        let mut hole = self.find(n)?;
        let (_, value) = self.slots.get_mut(hole)?.take()?;
        self.len -= 1;
        // Backward shift: an entry after the hole whose search passes the hole moves
        // into it, so every search still reaches its entry before a free slot.
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((k, _)) = self.slots.get(j).and_then(|s| s.as_ref()) else {
                break;
            };
            let home = self.home(*k);
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                let moved = self.slots.get_mut(j).and_then(Option::take);
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = moved;
                }
                hole = j;
            }
        }
        Some(value)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots.iter().flatten().map(|(k, v)| (*k, v))
    }
}

/// The hash of a number: one multiplication (Fibonacci hashing), which spreads
/// consecutive numbers over a table and gives hashbrown distinct top bits. The numbers
/// are the kernel's own choice, so no caller can aim them at one bucket (the poll
/// tables key on them).
#[derive(Clone, Copy, Default)]
pub struct NumberHash;

pub struct NumberHasher(u64);

impl BuildHasher for NumberHash {
    type Hasher = NumberHasher;
    fn build_hasher(&self) -> NumberHasher {
        NumberHasher(0)
    }
}

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_number_is_not_found_and_its_value_is_dropped() {
        let mut m = PidMap::new();
        let a = alloc::sync::Arc::new('a');
        let n = m.alloc(a.clone()).expect("room");
        let b = m.alloc(alloc::sync::Arc::new('b')).expect("room");
        assert_eq!(m.get(n).map(|v| **v), Some('a'));
        assert_eq!(m.get(b).map(|v| **v), Some('b'));
        assert_eq!(m.get(99), None);
        m.remove(n);
        assert_eq!(m.get(n), None, "a removed number is not found");
        assert_eq!(
            alloc::sync::Arc::strong_count(&a),
            1,
            "nothing keeps a removed value"
        );
    }

    #[test]
    fn first_number_is_one_and_freed_numbers_are_not_reused_at_once() {
        let mut m = PidMap::new();
        assert_eq!(m.alloc('a'), Ok(1));
        assert_eq!(m.alloc('b'), Ok(2));
        m.remove(2);
        assert_eq!(m.alloc('c'), Ok(3), "cyclic: after 2 exits the next is 3");
        assert_eq!(m.get(1), Some(&'a'));
        assert_eq!(m.get(2), None);
    }

    #[test]
    fn allocation_wraps_and_skips_numbers_in_use() {
        let mut m = PidMap::new();
        for _ in 1..PID_MAX - 1 {
            m.alloc(()).expect("room");
        }
        assert_eq!(m.len() as u32, PID_MAX - 2);
        m.remove(5);
        assert_eq!(m.alloc(()), Ok(PID_MAX - 1));
        assert_eq!(m.alloc(()), Ok(5), "wraps to the only free number");
        assert_eq!(m.alloc(()), Err(AllocError::Full), "full");
    }

    #[test]
    fn many_live_entries_are_found_by_number() {
        let mut m = PidMap::new();
        let ids: Vec<u32> = (0..4000).map(|i| m.alloc(i).expect("room")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(*id), Some(&i));
        }
    }

    /// Removals in the middle of probe runs (a small table, many collisions) keep every
    /// other number reachable: checked against a model after each step.
    #[test]
    fn removals_keep_every_other_number_found() {
        let mut m = PidMap::new();
        let mut model = alloc::collections::BTreeMap::new();
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for step in 0..20_000 {
            if model.is_empty() || next() % 3 != 0 {
                let n = m.alloc(step).expect("room");
                assert!(
                    model.insert(n, step).is_none(),
                    "a number in use given again"
                );
            } else {
                let keys: Vec<u32> = model.keys().copied().collect();
                let n = keys[next() % keys.len()];
                assert_eq!(m.remove(n), model.remove(&n));
                assert_eq!(m.remove(n), None);
            }
            if step % 97 == 0 {
                assert_eq!(m.len(), model.len());
                for (n, v) in &model {
                    assert_eq!(m.get(*n), Some(v));
                }
                assert_eq!(m.iter().count(), model.len());
            }
        }
    }
}
