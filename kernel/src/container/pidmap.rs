//! The number table of one PID container: O(1) lookup (hashbrown) and cyclic
//! allocation (the next number after the last one given, wrapping, skipping those in
//! use), which gives LiteOS-A's "pid 3 after pid 2 exited". Pure logic.

use core::hash::{BuildHasher, Hasher};
use hashbrown::HashMap;

/// Numbers run from 1 to `PID_MAX - 1`.
pub const PID_MAX: u32 = 32768;

pub struct PidMap<T> {
    map: HashMap<u32, T, NumberHash>,
    last: u32,
}

/// The hash of a number: one multiplication (Fibonacci hashing), which spreads
/// consecutive numbers over the table and gives hashbrown distinct top bits. The numbers
/// are the kernel's own choice, so no caller can aim them at one bucket; the general
/// hasher cost a `/proc/[pid]` walk about 50 instructions per lookup.
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

impl<T> Default for PidMap<T> {
    fn default() -> Self {
        PidMap {
            map: HashMap::with_hasher(NumberHash),
            last: 0,
        }
    }
}

impl<T> PidMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocates the next free number and stores `value` under it.
    pub fn alloc(&mut self, value: T) -> Option<u32> {
        if self.map.len() as u32 >= PID_MAX - 1 {
            return None;
        }
        let mut n = self.last;
        loop {
            n = if n >= PID_MAX - 1 { 1 } else { n + 1 };
            if !self.map.contains_key(&n) {
                break;
            }
        }
        self.last = n;
        self.map.insert(n, value);
        Some(n)
    }

    pub fn get(&self, n: u32) -> Option<&T> {
        self.map.get(&n)
    }

    pub fn remove(&mut self, n: u32) -> Option<T> {
        self.map.remove(&n)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.map.iter().map(|(&k, v)| (k, v))
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
        assert_eq!(m.alloc('a'), Some(1));
        assert_eq!(m.alloc('b'), Some(2));
        m.remove(2);
        assert_eq!(m.alloc('c'), Some(3), "cyclic: after 2 exits the next is 3");
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
        assert_eq!(m.alloc(()), Some(PID_MAX - 1));
        assert_eq!(m.alloc(()), Some(5), "wraps to the only free number");
        assert_eq!(m.alloc(()), None, "full");
    }

    #[test]
    fn many_live_entries_are_found_by_number() {
        let mut m = PidMap::new();
        let ids: Vec<u32> = (0..4000).map(|i| m.alloc(i).expect("room")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(*id), Some(&i));
        }
    }
}
