//! The allocator of page ranges in the kernel's vmalloc area (`mm::vmalloc`): one bit
//! per page in a fixed bitmap, next-fit from where the last allocation ended. It never
//! allocates (the heap calls it), so a fixed array sized for the largest area holds it;
//! pure logic, host-tested.

/// A bitmap of `len` pages (at most `64 * WORDS`): a set bit is a page in use.
pub struct VirtRanges<const WORDS: usize> {
    bits: [u64; WORDS],
    /// Pages the area has (bits past it are never handed out).
    len: usize,
    /// Pages in use.
    used: usize,
    /// Where the next search starts (just past the last allocation).
    hint: usize,
}

impl<const WORDS: usize> VirtRanges<WORDS> {
    pub const fn new() -> Self {
        VirtRanges {
            bits: [0; WORDS],
            len: 0,
            used: 0,
            hint: 0,
        }
    }

    /// Sets the area's size in pages (capped at what the bitmap holds); done once, while
    /// nothing is allocated.
    pub fn set_len(&mut self, pages: usize) {
        self.len = pages.min(64 * WORDS);
    }

    /// Pages in the area.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the area has no pages.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pages in use.
    pub fn used(&self) -> usize {
        self.used
    }

    fn is_set(&self, page: usize) -> bool {
        self.bits[page / 64] & (1 << (page % 64)) != 0
    }

    fn set(&mut self, start: usize, n: usize, on: bool) {
        for page in start..start + n {
            let (w, b) = (page / 64, 1u64 << (page % 64));
            if on {
                self.bits[w] |= b;
            } else {
                self.bits[w] &= !b;
            }
        }
    }

    /// The first index of `n` free pages in `[from, to)` whose start is a multiple of
    /// `align` pages; whole used words are skipped 64 pages at a time.
    fn search(&self, from: usize, to: usize, n: usize, align: usize) -> Option<usize> {
        let mut start = from.next_multiple_of(align);
        let mut page = start;
        while start.checked_add(n)? <= to {
            if page == start + n {
                return Some(start);
            }
            if page.is_multiple_of(64) && self.bits[page / 64] == u64::MAX {
                page += 64;
                start = page.next_multiple_of(align);
                page = start;
            } else if self.is_set(page) {
                start = (page + 1).next_multiple_of(align);
                page = start;
            } else {
                page += 1;
            }
        }
        None
    }

    /// Takes `n` consecutive free pages (at least one) starting at a multiple of `align`
    /// pages: the index of the first, `None` when no such run is free.
    pub fn alloc(&mut self, n: usize, align: usize) -> Option<usize> {
        if n == 0 || align == 0 {
            return None;
        }
        let start = self
            .search(self.hint, self.len, n, align)
            .or_else(|| self.search(0, self.len.min(self.hint.saturating_add(n)), n, align))?;
        self.set(start, n, true);
        self.used += n;
        self.hint = start + n;
        Some(start)
    }

    /// Gives back `n` pages from `start`, all in use (the caller's invariant: a range it
    /// was given, or part of one).
    pub fn free(&mut self, start: usize, n: usize) {
        debug_assert!(
            (start..start + n).all(|p| self.is_set(p)),
            "freeing free pages"
        );
        self.set(start, n, false);
        self.used -= n;
    }

    /// Extends the range in use `[start, start + old)` to `new` pages when the pages
    /// after it are free; false (nothing changed) otherwise.
    pub fn grow(&mut self, start: usize, old: usize, new: usize) -> bool {
        let Some(end) = start.checked_add(new) else {
            return false;
        };
        if new <= old || end > self.len || (start + old..end).any(|p| self.is_set(p)) {
            return false;
        }
        self.set(start + old, new - old, true);
        self.used += new - old;
        true
    }
}

impl<const WORDS: usize> Default for VirtRanges<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(pages: usize) -> VirtRanges<4> {
        let mut r = VirtRanges::new();
        r.set_len(pages);
        r
    }

    #[test]
    fn ranges_follow_each_other_and_never_overlap() {
        let mut r = area(256);
        assert_eq!(r.alloc(3, 1), Some(0));
        assert_eq!(r.alloc(5, 1), Some(3));
        assert_eq!(r.alloc(70, 1), Some(8), "across word boundaries");
        assert_eq!(r.used(), 78);
        r.free(3, 5);
        assert_eq!(r.used(), 73);
        assert_eq!(r.alloc(2, 1), Some(78), "next fit: past the last one");
    }

    #[test]
    fn a_full_area_refuses_and_a_freed_range_is_found_again() {
        let mut r = area(100);
        assert_eq!(r.alloc(60, 1), Some(0));
        assert_eq!(r.alloc(41, 1), None, "only 40 pages left");
        assert_eq!(r.alloc(40, 1), Some(60));
        assert_eq!(r.alloc(1, 1), None, "full");
        r.free(10, 20);
        assert_eq!(r.alloc(21, 1), None, "the hole holds 20");
        assert_eq!(r.alloc(20, 1), Some(10), "the search wraps to the hole");
        assert_eq!(r.used(), 100);
    }

    #[test]
    fn alignment_is_in_pages() {
        let mut r = area(256);
        assert_eq!(r.alloc(1, 1), Some(0));
        assert_eq!(r.alloc(4, 16), Some(16));
        assert_eq!(r.alloc(1, 64), Some(64));
        assert_eq!(r.alloc(1, 0), None, "no alignment");
        assert_eq!(r.alloc(0, 1), None, "no pages");
    }

    #[test]
    fn the_bitmap_caps_the_area() {
        let mut r = area(10_000);
        assert_eq!(r.len(), 256, "4 words of 64 pages");
        assert_eq!(r.alloc(256, 1), Some(0));
        assert_eq!(r.alloc(1, 1), None);
        r.free(0, 256);
        assert_eq!(r.used(), 0);
        assert!(!r.is_empty());
        assert_eq!(r.alloc(usize::MAX, 1), None, "no overflow");
    }

    #[test]
    fn grow_takes_the_free_pages_after_a_range() {
        let mut r = area(256);
        let a = r.alloc(4, 1).unwrap();
        assert!(r.grow(a, 4, 10), "the pages after it are free");
        assert_eq!(r.used(), 10);
        let b = r.alloc(1, 1).unwrap();
        assert_eq!(b, 10);
        assert!(!r.grow(a, 10, 11), "the next range is in the way");
        assert!(!r.grow(a, 10, 10), "not a growth");
        assert!(!r.grow(b, 1, 300), "past the end");
        assert!(!r.grow(b, 1, usize::MAX), "no overflow");
        assert_eq!(r.used(), 11, "failed growths change nothing");
        r.free(a + 6, 4);
        r.free(a, 6);
        r.free(b, 1);
        assert_eq!(r.used(), 0, "every page back");
    }

    #[test]
    fn used_words_are_skipped_and_free_runs_inside_them_found() {
        let mut r = area(256);
        assert_eq!(r.alloc(200, 1), Some(0));
        r.free(130, 3);
        // From the hint (200) to the end: 56 pages; wrap finds the 3-page hole.
        assert_eq!(r.alloc(57, 1), None);
        assert_eq!(r.alloc(3, 1), Some(200), "next fit first");
        assert_eq!(r.alloc(53, 1), Some(203));
        assert_eq!(r.alloc(3, 1), Some(130), "then the hole");
        assert_eq!(r.used(), 256);
    }
}
