//! The virtual memory areas of an address space: an ordered set of non-overlapping
//! page-aligned ranges with their protection and backing. Pure logic (splitting on
//! `munmap`/`mprotect`, free-range search), unit-tested on the host. The areas' heap is
//! charged to the plimits group of the process that changes them (the charge moves with
//! it into a new group at its next change).

use crate::errno::Errno;
use crate::plimits::kmem::{Charge, heap_cost};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

/// Pages shared between address spaces (a tmpfs file, a shared anonymous mapping).
pub trait PageSource: Send + Sync {
    /// Physical address of page `index`, allocating it zeroed; `None` when out of memory
    /// or past the end of the object.
    fn page_phys(&self, index: u64) -> Option<u64>;

    /// The source a forked child's copy of the area uses; `None` shares this one. (A SysV
    /// segment counts attaches: each child's copy is an attach of its own.)
    fn fork_copy(&self) -> Option<Arc<dyn PageSource>> {
        None
    }

    /// The size in bytes of the SysV segment this source attaches, if it is one (`shmdt`).
    fn shm_size(&self) -> Option<u64> {
        None
    }
}

/// Whether two sources are the same object.
pub fn same_source(a: &Arc<dyn PageSource>, b: &Arc<dyn PageSource>) -> bool {
    core::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

#[derive(Clone)]
pub enum Backing {
    /// Private pages owned by the address space (anonymous, or a private file copy).
    Private,
    /// Pages of a shared object starting at page `pgoff`.
    Shared {
        src: Arc<dyn PageSource>,
        pgoff: u64,
    },
    /// Private pages that start as copies of an object's pages (a `MAP_PRIVATE` file
    /// mapping): copied at the first fault, and again after `MADV_DONTNEED`.
    PrivateCopy {
        src: Arc<dyn PageSource>,
        pgoff: u64,
    },
}

#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u32,
    pub backing: Backing,
    /// What `/proc/[pid]/maps` names it: a path, `[heap]`, `[stack]` or empty.
    pub name: String,
    /// The mapped file's device and inode number (`fstat`'s `st_dev`, `st_ino`): `None`
    /// for anonymous memory.
    pub file: Option<(u64, u64)>,
}

impl Vma {
    /// The part of `self` within `[start, end)` (which must overlap it).
    fn slice(&self, start: u64, end: u64) -> Vma {
        let s = start.max(self.start);
        let e = end.min(self.end);
        let backing = match &self.backing {
            Backing::Private => Backing::Private,
            Backing::Shared { src, pgoff } => Backing::Shared {
                src: src.clone(),
                pgoff: pgoff + (s - self.start) / 4096,
            },
            Backing::PrivateCopy { src, pgoff } => Backing::PrivateCopy {
                src: src.clone(),
                pgoff: pgoff + (s - self.start) / 4096,
            },
        };
        Vma {
            start: s,
            end: e,
            prot: self.prot,
            backing,
            name: self.name.clone(),
            file: self.file,
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self.backing, Backing::Shared { .. })
    }

    /// This area's mapping from its page `from` on, placed at `to` with length `len` (which
    /// may run past this area's end: a grown `mremap` target).
    pub fn moved(&self, from: u64, to: u64, len: u64) -> Vma {
        let mut v = self.slice(from, from + 1);
        v.start = to;
        v.end = to + len;
        v
    }

    /// Whether `next` continues `self` as one area would (Linux merges such neighbours):
    /// adjacent, the same protection and name, and the same backing at the next page.
    fn continued_by(&self, next: &Vma) -> bool {
        let pages = (self.end - self.start) / 4096;
        let backing = match (&self.backing, &next.backing) {
            (Backing::Private, Backing::Private) => true,
            (Backing::Shared { src: a, pgoff: x }, Backing::Shared { src: b, pgoff: y })
            | (
                Backing::PrivateCopy { src: a, pgoff: x },
                Backing::PrivateCopy { src: b, pgoff: y },
            ) => same_source(a, b) && x + pages == *y,
            _ => false,
        };
        backing
            && self.end == next.start
            && self.prot == next.prot
            && self.name == next.name
            && self.file == next.file
    }
}

pub struct VmaSet {
    map: BTreeMap<u64, Vma>,
    /// The areas' share of the heap ([`area_cost`] each).
    charge: Charge,
    /// [`find_free`](Self::find_free)'s memory, as Linux's old `free_area_cache`: for a
    /// search from `.0`, nothing in `[.0, .1)` is free, so the next one starts at `.1`.
    /// Lowered by every removal; areas added only cover more.
    free_hint: (u64, u64),
}

/// Linux's `vm.max_map_count` (`/proc/sys/vm/max_map_count`).
fn max_map_count() -> usize {
    let max = crate::fs::sysctl::MAX_MAP_COUNT.load(core::sync::atomic::Ordering::Relaxed);
    usize::try_from(max).unwrap_or(usize::MAX)
}

/// What one area costs on the heap: its share of a B-tree node of 11 entries, counted as
/// at least 5 in use (a split node keeps half), which also covers the inner nodes.
pub fn area_cost() -> u64 {
    let node = core::alloc::Layout::new::<([u64; 11], [Vma; 11], [usize; 2])>();
    heap_cost(node) / 5
}

fn areas_cost(n: usize) -> u64 {
    (n as u64).saturating_mul(area_cost())
}

impl Default for VmaSet {
    fn default() -> Self {
        Self::new()
    }
}

impl VmaSet {
    /// An empty set, charged to the caller's group as it grows.
    pub fn new() -> Self {
        VmaSet {
            map: BTreeMap::new(),
            charge: Charge::empty(),
            free_hint: (0, 0),
        }
    }

    /// A copy (`fork`), charged to the caller's group: `ENOMEM` over its limit.
    pub fn try_clone(&self) -> Result<Self, Errno> {
        let charge = Charge::new(areas_cost(self.map.len()))?;
        Ok(VmaSet {
            map: self.map.clone(),
            charge,
            free_hint: self.free_hint,
        })
    }

    /// Charges room for `more` areas than the set holds, before a change that may add
    /// up to that many (a new area, the pieces of the areas it splits): `ENOMEM` over
    /// the group's limit, and nothing changed.
    pub fn reserve(&mut self, more: usize) -> Result<(), Errno> {
        self.charge.follow_caller()?;
        let want = areas_cost(self.map.len().saturating_add(more));
        if want > self.charge.bytes() {
            self.charge.resize(want)?;
        }
        Ok(())
    }

    /// Linux's `max_map_count` check before a new mapping (`do_mmap`: `ENOMEM` once the
    /// count has passed the limit).
    pub fn may_map(&self) -> Result<(), Errno> {
        if self.map.len() > max_map_count() {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Linux's check before splitting areas at `start` and `end` (`split_vma`: `ENOMEM`
    /// when the count is at the limit and an area would be cut in two). With `hole`, only
    /// a hole in the middle of one area adds one (`munmap`); else any cut does (`mprotect`).
    pub fn may_split(&self, start: u64, end: u64, hole: bool) -> Result<(), Errno> {
        if self.map.len() < max_map_count() {
            return Ok(());
        }
        let cut_at = |a: u64| self.find(a).is_some_and(|v| v.start < a);
        let cuts = if hole {
            self.find(start)
                .is_some_and(|v| v.start < start && end < v.end)
        } else {
            cut_at(start) || cut_at(end)
        };
        if cuts { Err(Errno::ENOMEM) } else { Ok(()) }
    }

    /// After a change: the charge follows the areas held (a change nobody reserved for,
    /// made by the kernel itself, is charged when it fits).
    fn settle(&mut self) {
        let _ = self.charge.resize(areas_cost(self.map.len()));
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.map
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.map.values()
    }

    /// Whether any area overlaps `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.map
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start)
    }

    /// Inserts an area; the caller made room with [`remove_range`](Self::remove_range).
    /// An area that continues its neighbour as one would (adjacent, the same protection,
    /// name and backing) joins it, as Linux's `vma_merge`, so it does not count again
    /// against `max_map_count`.
    pub fn insert(&mut self, mut vma: Vma) {
        debug_assert!(!self.overlaps(vma.start, vma.end));
        if let Some(next) = self.map.get(&vma.end).filter(|n| vma.continued_by(n)) {
            vma.end = next.end;
            let key = next.start;
            self.map.remove(&key);
        }
        match self.map.range_mut(..vma.start).next_back() {
            Some((_, prev)) if prev.continued_by(&vma) => prev.end = vma.end,
            _ => {
                self.map.insert(vma.start, vma);
            }
        }
        self.settle();
    }

    /// Removes `[start, end)` from every area, splitting as needed; returns the removed pieces.
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.free_hint.1 = self.free_hint.1.min(start);
        // Areas do not overlap, so their ends are ordered as their starts: walking down
        // from `end`, the first area ending at or before `start` ends the search.
        let mut keys: Vec<u64> = self
            .map
            .range(..end)
            .rev()
            .take_while(|(_, v)| v.end > start)
            .map(|(&k, _)| k)
            .collect();
        keys.reverse();
        let mut removed = Vec::new();
        for k in keys {
            let Some(v) = self.map.remove(&k) else {
                continue;
            };
            if v.start < start {
                self.map.insert(v.start, v.slice(v.start, start));
            }
            if v.end > end {
                self.map.insert(end, v.slice(end, v.end));
            }
            removed.push(v.slice(start, end));
        }
        self.settle();
        removed
    }

    /// Whether `[start, end)` is entirely covered by areas.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        // From the area holding `start` (or the first after it) on.
        let from = self
            .map
            .range(..=start)
            .next_back()
            .map_or(start, |(&k, _)| k);
        for (_, v) in self.map.range(from..end) {
            if v.end <= at {
                continue;
            }
            if v.start > at {
                return false;
            }
            at = v.end;
            if at >= end {
                return true;
            }
        }
        at >= end
    }

    /// Sets the protection of `[start, end)`, which must be fully mapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) -> bool {
        if !self.covers(start, end) {
            return false;
        }
        for mut v in self.remove_range(start, end) {
            v.prot = prot;
            self.map.insert(v.start, v);
        }
        self.settle();
        true
    }

    /// Gives a forked copy of the set the sources [`PageSource::fork_copy`] asks for: one new
    /// source per old one, shared by all the pieces the old one backed.
    pub fn fork_sources(&mut self) {
        let mut done: Vec<(Arc<dyn PageSource>, Arc<dyn PageSource>)> = Vec::new();
        for v in self.map.values_mut() {
            let Backing::Shared { src, .. } = &mut v.backing else {
                continue;
            };
            if let Some((_, new)) = done.iter().find(|(old, _)| same_source(old, src)) {
                *src = new.clone();
            } else if let Some(new) = src.fork_copy() {
                done.push((src.clone(), new.clone()));
                *src = new;
            }
        }
    }

    /// The end of the area holding `addr`, counting neighbours that continue each other
    /// (pieces left by `munmap`/`mprotect` that Linux would have merged) as one.
    pub fn area_end(&self, addr: u64) -> Option<u64> {
        let mut cur = self.find(addr)?;
        while let Some(next) = self.map.get(&cur.end).filter(|n| cur.continued_by(n)) {
            cur = next;
        }
        Some(cur.end)
    }

    /// Grows the area ending at `end` to `new_end`; the caller checked the room is free.
    pub fn extend(&mut self, end: u64, new_end: u64) -> bool {
        match self.map.range_mut(..end).next_back() {
            Some((_, v)) if v.end == end && new_end >= end => {
                v.end = new_end;
                true
            }
            _ => false,
        }
    }

    /// Moves the areas of `[from, from + len)` to start at `to` (a free range), splitting
    /// at the edges; with `keep`, copies stay at the old place too (`MREMAP_DONTUNMAP`).
    pub fn relocate(&mut self, from: u64, len: u64, to: u64, keep: bool) {
        for v in self.remove_range(from, from + len) {
            let moved = v.moved(v.start, v.start - from + to, v.end - v.start);
            self.map.insert(moved.start, moved);
            if keep {
                self.map.insert(v.start, v);
            }
        }
        self.settle();
    }

    /// The lowest address `>= from` where `len` bytes fit below `limit`. The search
    /// starts where the last one from `from` found the first free page, so filling an
    /// address space one mapping at a time costs a step per mapping, not one per area.
    pub fn find_free(&mut self, len: u64, from: u64, limit: u64) -> Option<u64> {
        let mut at = if self.free_hint.0 == from {
            from.max(self.free_hint.1)
        } else {
            from
        };
        let first = self.map.range(..=at).next_back().map_or(at, |(&k, _)| k);
        let mut first_free = None;
        for v in self.map.range(first..).map(|(_, v)| v) {
            if v.end <= at {
                continue;
            }
            if v.start > at {
                first_free.get_or_insert(at);
                if v.start - at >= len {
                    break;
                }
            }
            at = at.max(v.end);
        }
        self.free_hint = (from, first_free.unwrap_or(at));
        (at.checked_add(len)? <= limit).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(start: u64, end: u64) -> Vma {
        Vma {
            start,
            end,
            prot: PROT_READ | PROT_WRITE,
            backing: Backing::Private,
            name: String::new(),
            file: None,
        }
    }

    #[test]
    fn the_charge_follows_the_areas_and_a_copy_has_its_own() {
        let mut s = VmaSet::new();
        assert!(area_cost() >= 64, "{}", area_cost());
        s.insert(anon(0x1000, 0x5000));
        assert_eq!(s.charge.bytes(), area_cost());
        s.reserve(2).expect("room");
        assert_eq!(s.charge.bytes(), 3 * area_cost(), "reserved ahead");
        s.remove_range(0x2000, 0x3000);
        assert_eq!(
            s.charge.bytes(),
            2 * area_cost(),
            "a split is one more area"
        );
        let c = s.try_clone().expect("copy");
        assert_eq!((c.len(), c.charge.bytes()), (2, 2 * area_cost()));
        s.remove_range(0, 0x10000);
        assert_eq!((s.len(), s.charge.bytes()), (0, 0));
    }

    #[test]
    fn neighbours_that_continue_each_other_merge_on_insert() {
        let mut s = VmaSet::new();
        s.insert(anon(0x1000, 0x2000));
        s.insert(anon(0x3000, 0x4000));
        s.insert(anon(0x2000, 0x3000));
        let areas: Vec<_> = s.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(areas, [(0x1000, 0x4000)], "one area, as Linux's vma_merge");
        let mut ro = anon(0x4000, 0x5000);
        ro.prot = PROT_READ;
        s.insert(ro);
        assert_eq!(s.len(), 2, "another protection stays apart");
    }

    #[test]
    fn find_free_resumes_after_the_last_hole_and_sees_a_new_one() {
        let mut s = VmaSet::new();
        let base = 0x10_0000;
        for i in 0..1000u64 {
            let at = s.find_free(0x1000, base, u64::MAX).expect("room");
            assert_eq!(at, base + i * 0x1000, "the lowest free page");
            let mut v = anon(at, at + 0x1000);
            v.prot = if i % 2 == 0 { PROT_READ } else { PROT_WRITE };
            s.insert(v);
        }
        assert_eq!(s.len(), 1000);
        assert_eq!(s.free_hint, (base, base + 999 * 0x1000));
        s.remove_range(base + 0x5000, base + 0x6000);
        assert_eq!(s.find_free(0x1000, base, u64::MAX), Some(base + 0x5000));
        assert_eq!(
            s.find_free(0x2000, base, u64::MAX),
            Some(base + 1000 * 0x1000)
        );
        assert_eq!(s.find_free(0x1000, 0x1000, u64::MAX), Some(0x1000));
    }

    #[test]
    fn max_map_count_stops_new_areas_and_splits() {
        let mut s = VmaSet::new();
        for i in 0..4u64 {
            let mut v = anon(0x1000 + i * 0x2000, 0x3000 + i * 0x2000 - 0x1000);
            v.prot = PROT_READ;
            s.insert(v);
        }
        s.insert(anon(0x10000, 0x14000));
        assert_eq!(s.len(), 5);
        let max = &crate::fs::sysctl::MAX_MAP_COUNT;
        let saved = max.swap(5, core::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            s.may_map(),
            Ok(()),
            "Linux maps while the count is not past it"
        );
        assert_eq!(s.may_split(0x11000, 0x12000, true), Err(Errno::ENOMEM));
        assert_eq!(s.may_split(0x10000, 0x12000, true), Ok(()), "no hole");
        assert_eq!(s.may_split(0x10000, 0x12000, false), Err(Errno::ENOMEM));
        assert_eq!(s.may_split(0x10000, 0x14000, false), Ok(()), "no cut");
        max.store(4, core::sync::atomic::Ordering::Relaxed);
        assert_eq!(s.may_map(), Err(Errno::ENOMEM));
        max.store(saved, core::sync::atomic::Ordering::Relaxed);
    }

    #[test]
    fn munmap_in_the_middle_splits_an_area_in_two() {
        let mut s = VmaSet::new();
        s.insert(anon(0x1000, 0x5000));
        let removed = s.remove_range(0x2000, 0x3000);
        assert_eq!(removed.len(), 1);
        assert_eq!((removed[0].start, removed[0].end), (0x2000, 0x3000));
        let left: Vec<_> = s.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(left, [(0x1000, 0x2000), (0x3000, 0x5000)]);
        assert!(s.find(0x2800).is_none());
        assert_eq!(s.find(0x4fff).map(|v| v.start), Some(0x3000));
    }

    #[test]
    fn mprotect_needs_the_whole_range_mapped() {
        let mut s = VmaSet::new();
        s.insert(anon(0x1000, 0x3000));
        s.insert(anon(0x4000, 0x5000));
        assert!(!s.protect(0x1000, 0x5000, PROT_READ));
        assert!(s.protect(0x2000, 0x3000, PROT_READ));
        assert_eq!(s.find(0x2000).map(|v| v.prot), Some(PROT_READ));
        assert_eq!(s.find(0x1000).map(|v| v.prot), Some(PROT_READ | PROT_WRITE));
    }

    #[test]
    fn find_free_skips_areas_and_respects_the_limit() {
        let mut s = VmaSet::new();
        s.insert(anon(0x10000, 0x12000));
        assert_eq!(s.find_free(0x1000, 0x10000, 0x100000), Some(0x12000));
        assert_eq!(s.find_free(0x1000, 0x8000, 0x100000), Some(0x8000));
        assert_eq!(s.find_free(0x9000, 0x8000, 0x100000), Some(0x12000));
        assert_eq!(s.find_free(0x1000, 0xff000, 0xff800), None);
    }

    struct Pages;
    impl PageSource for Pages {
        fn page_phys(&self, index: u64) -> Option<u64> {
            Some(index * 4096)
        }
    }

    /// Counts its copies, as a SysV segment counts attaches.
    struct Counted(Arc<core::sync::atomic::AtomicU32>);
    impl PageSource for Counted {
        fn page_phys(&self, index: u64) -> Option<u64> {
            Some(index * 4096)
        }
        fn fork_copy(&self) -> Option<Arc<dyn PageSource>> {
            self.0.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            Some(Arc::new(Counted(self.0.clone())))
        }
    }

    #[test]
    fn fork_sources_copies_each_source_once_for_all_its_pieces() {
        let n = Arc::new(core::sync::atomic::AtomicU32::new(0));
        let src: Arc<dyn PageSource> = Arc::new(Counted(n.clone()));
        let mut s = VmaSet::new();
        s.insert(Vma {
            start: 0x1000,
            end: 0x5000,
            prot: 3,
            backing: Backing::Shared {
                src: src.clone(),
                pgoff: 0,
            },
            name: String::new(),
            file: None,
        });
        s.remove_range(0x2000, 0x3000);
        let mut child = s.try_clone().expect("copy");
        child.fork_sources();
        assert_eq!(n.load(core::sync::atomic::Ordering::Relaxed), 1);
        let srcs: Vec<Arc<dyn PageSource>> = child
            .iter()
            .filter_map(|v| match &v.backing {
                Backing::Shared { src, .. } => Some(src.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(srcs.len(), 2);
        assert!(same_source(&srcs[0], &srcs[1]));
        assert!(!same_source(&srcs[0], &src));
    }

    #[test]
    fn area_end_joins_pieces_an_mprotect_round_trip_left() {
        let mut s = VmaSet::new();
        s.insert(anon(0x1000, 0x5000));
        s.insert(anon(0x6000, 0x7000));
        assert!(s.protect(0x2000, 0x3000, PROT_READ));
        assert_eq!(s.area_end(0x1000), Some(0x2000));
        assert!(s.protect(0x2000, 0x3000, PROT_READ | PROT_WRITE));
        assert_eq!(s.area_end(0x1000), Some(0x5000));
        assert_eq!(s.area_end(0x4fff), Some(0x5000));
        assert_eq!(s.area_end(0x5000), None);
    }

    #[test]
    fn relocate_moves_part_of_an_area_and_keeps_shared_offsets() {
        let mut s = VmaSet::new();
        let src: Arc<dyn PageSource> = Arc::new(Pages);
        s.insert(Vma {
            start: 0x1000,
            end: 0x5000,
            prot: 3,
            backing: Backing::Shared { src, pgoff: 0 },
            name: String::new(),
            file: None,
        });
        s.relocate(0x2000, 0x2000, 0x10000, false);
        let areas: Vec<_> = s.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(
            areas,
            [(0x1000, 0x2000), (0x4000, 0x5000), (0x10000, 0x12000)]
        );
        match s.find(0x10000).map(|v| v.backing.clone()) {
            Some(Backing::Shared { pgoff, .. }) => assert_eq!(pgoff, 1),
            _ => panic!("shared area expected at 0x10000"),
        }
        s.relocate(0x10000, 0x1000, 0x20000, true);
        assert!(s.find(0x10000).is_some() && s.find(0x20000).is_some());
        assert!(s.extend(0x21000, 0x23000));
        assert_eq!(s.area_end(0x20000), Some(0x23000));
        assert!(!s.extend(0x20800, 0x30000));
    }

    #[test]
    fn splitting_a_shared_area_keeps_page_offsets() {
        let mut s = VmaSet::new();
        let src: Arc<dyn PageSource> = Arc::new(Pages);
        s.insert(Vma {
            start: 0x1000,
            end: 0x5000,
            prot: 3,
            backing: Backing::Shared { src, pgoff: 2 },
            name: String::new(),
            file: None,
        });
        s.remove_range(0x1000, 0x3000);
        match &s.find(0x3000).map(|v| v.backing.clone()) {
            Some(Backing::Shared { pgoff, .. }) => assert_eq!(*pgoff, 4),
            _ => panic!("shared area expected at 0x3000"),
        }
    }
}
