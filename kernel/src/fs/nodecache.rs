//! A small fixed-size cache of a pseudo filesystem's inode objects, keyed by what names
//! them (procfs's `Node`): a path walk through `/proc/self/ns/pid` finds the objects of
//! its steps here instead of allocating and freeing one per step. Direct-mapped: each key
//! has one slot, a newer object replaces an older one, so the cache never grows.

use alloc::sync::Arc;
use spin::Mutex;

/// Slots per cache (a power of two).
const SLOTS: usize = 64;

/// Objects whose identity is their key: two with one key behave the same, so a cached
/// one may stand for a new one.
pub trait Keyed {
    type Key: Copy + Eq;
    fn key(&self) -> Self::Key;
}

pub struct NodeCache<T: Keyed> {
    slots: [Mutex<Option<Arc<T>>>; SLOTS],
}

impl<T: Keyed> Default for NodeCache<T> {
    fn default() -> Self {
        NodeCache {
            slots: core::array::from_fn(|_| Mutex::new(None)),
        }
    }
}

impl<T: Keyed> NodeCache<T> {
    /// The cached object for `key` (whose hash is `hash`), else `make()`'s, which is
    /// kept in one of the key's two slots: an empty one, else the first (so two keys
    /// that share a slot both stay).
    ///
    /// The hit is inline in the caller; making and keeping a new object is not.
    #[inline]
    pub fn get_or(&self, key: T::Key, hash: u64, make: impl FnOnce() -> Arc<T>) -> Arc<T> {
        let i = slot_of(hash);
        for slot in [&self.slots[i], &self.slots[i ^ 1]] {
            if let Some(hit) = slot.lock().as_ref().filter(|n| n.key() == key) {
                return hit.clone();
            }
        }
        self.keep(i, make())
    }

    /// Keeps `made` in slot `i` or its pair (see [`get_or`](Self::get_or)).
    #[inline(never)]
    fn keep(&self, i: usize, made: Arc<T>) -> Arc<T> {
        let pair = [&self.slots[i], &self.slots[i ^ 1]];
        let mut first = pair[0].lock();
        let _old = if first.is_none() {
            first.replace(made.clone())
        } else {
            drop(first);
            let mut second = pair[1].lock();
            if second.is_none() {
                second.replace(made.clone())
            } else {
                drop(second);
                pair[0].lock().replace(made.clone())
            }
        };
        // The one replaced (`_old`) is dropped after the locks are released.
        made
    }

    /// Drops every cached object (their owner is going: the objects may point back at it).
    pub fn clear(&self) {
        for s in &self.slots {
            let _old = s.lock().take();
        }
    }

    /// Objects held now.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.lock().is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The slot of a key's hash: one multiplication by an odd constant, the top bits taken
/// (Fibonacci hashing: every bit of the hash reaches them).
#[inline]
fn slot_of(hash: u64) -> usize {
    (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    struct N(u32);
    impl Keyed for N {
        type Key = u32;
        fn key(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn a_hit_returns_the_same_object_and_a_miss_makes_and_keeps_one() {
        let c = NodeCache::<N>::default();
        let mut made = 0;
        let a = c.get_or(7, 7, || {
            made += 1;
            Arc::new(N(7))
        });
        let b = c.get_or(7, 7, || {
            made += 1;
            Arc::new(N(7))
        });
        assert_eq!(made, 1);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(Arc::strong_count(&a), 3, "two callers and the cache");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn two_keys_of_one_slot_both_stay_and_a_third_replaces_the_first() {
        let c = NodeCache::<N>::default();
        let a = c.get_or(1, 5, || Arc::new(N(1)));
        let b = c.get_or(2, 5, || Arc::new(N(2)));
        assert_eq!((a.0, b.0), (1, 2));
        let a2 = c.get_or(1, 5, || Arc::new(N(99)));
        let b2 = c.get_or(2, 5, || Arc::new(N(99)));
        assert!(Arc::ptr_eq(&a, &a2) && Arc::ptr_eq(&b, &b2));
        assert_eq!(c.len(), 2);
        drop((a2, b2));
        let x = c.get_or(3, 5, || Arc::new(N(3)));
        assert_eq!(x.0, 3);
        assert_eq!(Arc::strong_count(&a), 1, "the cache let go of the first");
        assert_eq!(Arc::strong_count(&b), 2, "the second stays");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn clear_lets_go_of_everything() {
        let c = NodeCache::<N>::default();
        let objs: alloc::vec::Vec<_> = (0..200)
            .map(|i| c.get_or(i, u64::from(i), || Arc::new(N(i))))
            .collect();
        assert!(c.len() > 1 && c.len() <= SLOTS);
        c.clear();
        assert!(c.is_empty());
        assert!(objs.iter().all(|o| Arc::strong_count(o) == 1));
    }

    #[test]
    fn slots_stay_in_range() {
        for h in [0, 1, u64::MAX, 1 << 63, 0x1234_5678_9abc_def0] {
            assert!(slot_of(h) < SLOTS);
        }
    }
}
