//! The entries of a ramfs directory: the name map, and the last few short names found
//! in it. A path walk looks a name up in every directory it passes, and in a small
//! directory (`/`, `/dev`) that is a scan of the map costing about 70 instructions per
//! entry passed; a name found again (`proc` in `/` on every `/proc/...` walk) is
//! compared against a handful of packed names instead. Every change to the map forgets
//! the recent names, so they never name a removed or replaced entry.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::ops::Deref;

/// Directories up to this many entries are scanned instead of searched: the map's search
/// calls `memcmp` for every key it passes, a length and first-byte test costs a few.
const SCAN_ENTRIES: usize = 16;

/// Names remembered per directory.
const RECENT: usize = 4;

/// Longest name remembered (it is packed into two words).
const PACKED_MAX: usize = 16;

/// A name of at most [`PACKED_MAX`] bytes as two words (zero-padded) and its length.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Packed {
    words: [u64; 2],
    len: usize,
}

impl Packed {
    fn new(name: &str) -> Option<Packed> {
        let b = name.as_bytes();
        if b.len() > PACKED_MAX {
            return None;
        }
        // Each word from its last byte down: a shift and an OR a byte.
        let word = |part: &[u8]| {
            part.iter()
                .rev()
                .fold(0u64, |w, &c| (w << 8) | u64::from(c))
        };
        let (low, high) = b.split_at(b.len().min(8));
        Some(Packed {
            words: [word(low), word(high)],
            len: b.len(),
        })
    }
}

pub struct Entries<V> {
    map: BTreeMap<String, V>,
    recent: [Option<(Packed, V)>; RECENT],
    /// The slot the next remembered name takes (round robin).
    next: usize,
}

impl<V: Clone> Default for Entries<V> {
    fn default() -> Self {
        Entries {
            map: BTreeMap::new(),
            recent: Default::default(),
            next: 0,
        }
    }
}

/// Reading goes straight to the map; changes go through [`Entries::insert`] and
/// [`Entries::remove`], which forget the recent names.
impl<V> Deref for Entries<V> {
    type Target = BTreeMap<String, V>;
    fn deref(&self) -> &BTreeMap<String, V> {
        &self.map
    }
}

impl<V: Clone> Entries<V> {
    /// The entry called `name`, remembering it when found by a scan or search.
    pub fn lookup(&mut self, name: &str) -> Option<&V> {
        let packed = Packed::new(name);
        if let Some(p) = packed
            && let Some(i) = self
                .recent
                .iter()
                .position(|r| r.as_ref().is_some_and(|(q, _)| *q == p))
        {
            return self.recent[i].as_ref().map(|(_, v)| v);
        }
        let found = if self.map.len() <= SCAN_ENTRIES {
            self.map
                .iter()
                .find(|(k, _)| {
                    k.len() == name.len()
                        && k.as_bytes().first() == name.as_bytes().first()
                        && k.as_bytes() == name.as_bytes()
                })
                .map(|(_, v)| v)
        } else {
            self.map.get(name)
        }?;
        let Some(p) = packed else {
            return Some(found);
        };
        let slot = self.next;
        self.next = (slot + 1) % RECENT;
        self.recent[slot] = Some((p, found.clone()));
        self.recent[slot].as_ref().map(|(_, v)| v)
    }

    /// Adds or replaces entry `name`; the one replaced, if any.
    pub fn insert(&mut self, name: String, v: V) -> Option<V> {
        self.forget();
        self.map.insert(name, v)
    }

    pub fn remove(&mut self, name: &str) -> Option<V> {
        self.forget();
        self.map.remove(name)
    }

    fn forget(&mut self) {
        self.recent = Default::default();
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::sync::Arc;

    #[test]
    fn a_name_found_again_comes_from_the_recent_names_and_is_the_same_entry() {
        let mut e = Entries::<Arc<u32>>::default();
        for (i, n) in ["bin", "dev", "proc", "tmp"].iter().enumerate() {
            e.insert(n.to_string(), Arc::new(i as u32));
        }
        let first = e.lookup("proc").cloned().expect("proc");
        assert_eq!(*first, 2);
        assert!(
            e.recent
                .iter()
                .flatten()
                .any(|(_, v)| Arc::ptr_eq(v, &first))
        );
        let again = e.lookup("proc").cloned().expect("proc again");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(
            e.lookup("pro").map(|v| **v),
            None,
            "a prefix is another name"
        );
        assert_eq!(e.lookup("procx").map(|v| **v), None);
        assert_eq!(e.lookup("dev").map(|v| **v), Some(1));
    }

    #[test]
    fn remove_and_replace_forget_recent_names_and_their_references() {
        let mut e = Entries::<Arc<u32>>::default();
        let v = Arc::new(7);
        e.insert("a".to_string(), v.clone());
        assert_eq!(e.lookup("a").map(|v| **v), Some(7));
        assert_eq!(
            Arc::strong_count(&v),
            3,
            "ours, the map's, the recent slot's"
        );
        assert_eq!(e.remove("a").map(|v| *v), Some(7));
        assert_eq!(Arc::strong_count(&v), 1, "nothing keeps the removed entry");
        assert_eq!(e.lookup("a"), None);
        e.insert("a".to_string(), Arc::new(8));
        assert_eq!(e.lookup("a").map(|v| **v), Some(8));
        e.insert("a".to_string(), Arc::new(9));
        assert_eq!(
            e.lookup("a").map(|v| **v),
            Some(9),
            "a replaced entry is not kept"
        );
    }

    #[test]
    fn long_names_and_big_directories_are_found_without_being_remembered() {
        let mut e = Entries::<u32>::default();
        let long = "a_name_longer_than_sixteen";
        e.insert(long.to_string(), 1);
        for i in 0..40 {
            e.insert(alloc::format!("f{i}"), 100 + i);
        }
        assert_eq!(e.lookup(long), Some(&1));
        assert!(e.recent.iter().all(Option::is_none));
        assert_eq!(e.lookup("f39"), Some(&139), "a search past the scan size");
        for i in 0..10 {
            assert_eq!(e.lookup(&alloc::format!("f{i}")), Some(&(100 + i)));
        }
        assert_eq!(e.recent.iter().flatten().count(), RECENT);
        assert_eq!(e.lookup("f9"), Some(&109));
        assert_eq!(
            e.lookup("f0"),
            Some(&100),
            "an older name is found again by a search"
        );
    }

    #[test]
    fn packing_keeps_names_of_one_length_apart() {
        let a = Packed::new("abcdefgh12345678").expect("16 bytes pack");
        let b = Packed::new("abcdefgh12345679").expect("16 bytes pack");
        assert!(a != b);
        assert!(Packed::new("x") != Packed::new("x\0"));
        assert!(Packed::new("abcdefgh123456789").is_none());
    }
}
