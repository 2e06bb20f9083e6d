//! File data in 4 KiB pages. A `PageStore` is the data of one tmpfs/ramfs regular file;
//! `mmap(MAP_SHARED)` maps its very pages into user space, so a page, once allocated,
//! never moves (it is a [`PageBox`]: a frame of its own) and is not freed while anyone
//! else holds the store.

use crate::errno::Errno;
use crate::mm::vma::PageSource;
use alloc::vec::Vec;
use spin::Mutex;

pub const PAGE_SIZE: usize = 4096;

/// Largest file size (1 GiB): keeps page indexes and the page vector small.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

pub use crate::mm::{Page, PageBox};

#[derive(Default)]
pub struct PageStore {
    pages: Vec<Option<PageBox>>,
    size: u64,
    /// How many of `pages` are allocated.
    allocated: usize,
    /// The tag of each allocated page (beside `pages`): who it is charged to, as its
    /// owner numbers them (tmpfs: the plimits group of the process that made the page);
    /// a page allocated without one has tag 0. Empty while every page has tag 0 (a file
    /// one group wrote costs nothing more).
    tags: Vec<u16>,
    /// Allocated pages by tag, once `tags` is kept.
    per_tag: Vec<u64>,
}

impl PageStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of pages holding data (for `st_blocks`).
    pub fn allocated_pages(&self) -> usize {
        self.allocated
    }

    /// How many bytes of a `len`-byte write at `offset` fit when at most `free` new pages
    /// may be allocated (the write stops at the first page that does not fit).
    pub fn fitting_len(&self, offset: u64, len: usize, free: u64) -> usize {
        let mut new = 0;
        let mut done = 0;
        while done < len {
            let pos = offset as usize + done;
            let (idx, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - in_page).min(len - done);
            if self.page(idx).is_none() {
                if new == free {
                    break;
                }
                new += 1;
            }
            done += chunk;
        }
        done
    }

    /// The page at `index`, allocated (zeroed) if it was a hole; `ENOSPC` when the
    /// kernel heap has no room for it. Its address is stable for the life of the store.
    pub fn page_mut(&mut self, index: usize) -> Result<&mut Page, Errno> {
        self.page_mut_as(index, 0)
    }

    /// [`page_mut`](Self::page_mut), a page allocated now tagged `tag`.
    pub fn page_mut_as(&mut self, index: usize, tag: u16) -> Result<&mut Page, Errno> {
        if self.pages.len() <= index {
            let more = index + 1 - self.pages.len();
            self.pages.try_reserve(more).map_err(|_| Errno::ENOSPC)?;
            if !self.tags.is_empty() {
                self.tags.try_reserve(more).map_err(|_| Errno::ENOSPC)?;
                self.tags.resize(index + 1, 0);
            }
            self.pages.resize_with(index + 1, || None);
        }
        if self.pages[index].is_none() {
            if tag != 0 || !self.tags.is_empty() {
                self.keep_tags(tag)?;
            }
            self.pages[index] = Some(PageBox::try_zeroed().ok_or(Errno::ENOSPC)?);
            self.allocated += 1;
            if let Some(t) = self.tags.get_mut(index) {
                *t = tag;
                self.per_tag[usize::from(tag)] += 1;
            }
        }
        self.pages[index].as_deref_mut().ok_or(Errno::ENOSPC)
    }

    /// Keeps per-page tags from now on (every page so far has tag 0), with room to
    /// count `tag`.
    fn keep_tags(&mut self, tag: u16) -> Result<(), Errno> {
        if self.tags.is_empty() {
            self.tags
                .try_reserve_exact(self.pages.len())
                .map_err(|_| Errno::ENOSPC)?;
            self.per_tag.try_reserve(1).map_err(|_| Errno::ENOSPC)?;
            self.tags.resize(self.pages.len(), 0);
            self.per_tag.push(self.allocated as u64);
        }
        let t = usize::from(tag);
        if self.per_tag.len() <= t {
            self.per_tag
                .try_reserve(t + 1 - self.per_tag.len())
                .map_err(|_| Errno::ENOSPC)?;
            self.per_tag.resize(t + 1, 0);
        }
        Ok(())
    }

    /// The address of the page at `index` (allocated if needed), for mapping it; `None`
    /// when it cannot be allocated.
    pub fn page_ptr(&mut self, index: usize) -> Option<*const Page> {
        self.page_ptr_as(index, 0)
    }

    /// [`page_ptr`](Self::page_ptr), a page allocated now tagged `tag`.
    pub fn page_ptr_as(&mut self, index: usize, tag: u16) -> Option<*const Page> {
        self.page_mut_as(index, tag).ok().map(|p| p as *const Page)
    }

    /// Allocated pages tagged `tag`.
    pub fn pages_tagged(&self, tag: u16) -> u64 {
        match (self.tags.is_empty(), tag) {
            (true, 0) => self.allocated as u64,
            (true, _) => 0,
            (false, t) => self.per_tag.get(usize::from(t)).copied().unwrap_or(0),
        }
    }

    /// The page at `index` if it holds data (`None` for a hole, which reads as zeros).
    pub fn page(&self, index: usize) -> Option<&Page> {
        self.pages.get(index).and_then(|p| p.as_deref())
    }

    /// Reads at `offset`; returns the byte count (0 at or past the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let n = buf.len().min((self.size - offset) as usize);
        let mut done = 0;
        while done < n {
            let pos = offset as usize + done;
            let (idx, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - in_page).min(n - done);
            let dst = &mut buf[done..done + chunk];
            match self.page(idx) {
                Some(p) => dst.copy_from_slice(&p.0[in_page..in_page + chunk]),
                None => dst.fill(0),
            }
            done += chunk;
        }
        n
    }

    /// Writes at `offset`, growing the file; `EFBIG` beyond `MAX_FILE_SIZE`.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        self.write_at_as(offset, data, 0)
    }

    /// [`write_at`](Self::write_at), the pages it allocates tagged `tag`.
    pub fn write_at_as(&mut self, offset: u64, data: &[u8], tag: u16) -> Result<usize, Errno> {
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        while done < data.len() {
            let pos = offset as usize + done;
            let (idx, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - in_page).min(data.len() - done);
            let page = match self.page_mut_as(idx, tag) {
                Ok(p) => p,
                // Out of memory part way: what was written counts.
                Err(_) if done > 0 => break,
                Err(e) => return Err(e),
            };
            page.0[in_page..in_page + chunk].copy_from_slice(&data[done..done + chunk]);
            done += chunk;
        }
        let end = offset + done as u64;
        if end > self.size {
            self.size = end;
        }
        Ok(done)
    }

    /// Sets the size. Shrinking zeroes the bytes past the new end, so growing again reads
    /// zeros there. Pages wholly past the end are freed only when `may_free` (the caller
    /// knows no mapping holds the store); otherwise they stay, zeroed, at their address.
    pub fn truncate(&mut self, size: u64, may_free: bool) -> Result<(), Errno> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if size < self.size {
            let keep = (size as usize).div_ceil(PAGE_SIZE);
            let in_page = size as usize % PAGE_SIZE;
            if let (true, Some(Some(p))) = (in_page != 0, self.pages.get_mut(keep.wrapping_sub(1)))
            {
                p.0[in_page..].fill(0);
            }
            if may_free {
                for (i, page) in self.pages.iter().enumerate().skip(keep) {
                    if page.is_some() {
                        self.allocated -= 1;
                        if let Some(&tag) = self.tags.get(i)
                            && let Some(n) = self.per_tag.get_mut(usize::from(tag))
                        {
                            *n -= 1;
                        }
                    }
                }
                self.pages.truncate(keep);
                self.tags.truncate(keep.min(self.tags.len()));
            } else {
                for p in self.pages.iter_mut().skip(keep).flatten() {
                    p.0.fill(0);
                }
            }
        }
        self.size = size;
        Ok(())
    }
}

/// A store's pages for `mmap`: the physical address of page `index` (allocated if a
/// hole); `None` past the end of the file (the fault gets SIGBUS).
impl PageSource for Mutex<PageStore> {
    fn page_phys(&self, index: u64) -> Option<u64> {
        self.lock().page_phys_as(index, 0)
    }
}

impl PageStore {
    /// [`PageSource::page_phys`], a page allocated now tagged `tag`.
    pub fn page_phys_as(&mut self, index: u64, tag: u16) -> Option<u64> {
        if index.saturating_mul(PAGE_SIZE as u64) >= self.size() {
            return None;
        }
        Some((self.page_ptr_as(index as usize, tag)? as u64).wrapping_sub(crate::mm::PHYS_OFFSET))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_read_as_zeros_and_writes_span_pages() {
        let mut s = PageStore::new();
        s.write_at(5000, b"abc").expect("write");
        assert_eq!(s.size(), 5003);
        assert_eq!(s.allocated_pages(), 1, "only the written page is allocated");
        let mut buf = [0xffu8; 10];
        assert_eq!(s.read_at(0, &mut buf), 10);
        assert_eq!(buf, [0; 10]);
        s.write_at(4090, &[7u8; 20])
            .expect("write across a page boundary");
        let mut buf = [0u8; 20];
        assert_eq!(s.read_at(4090, &mut buf), 20);
        assert_eq!(buf, [7; 20]);
        assert_eq!(s.read_at(5003, &mut buf), 0, "read at EOF");
        assert_eq!(s.read_at(5000, &mut buf), 3, "short read near EOF");
    }

    #[test]
    fn page_addresses_do_not_move_when_the_file_grows() {
        let mut s = PageStore::new();
        let p0 = s.page_ptr(0).expect("room");
        for i in 1..100 {
            s.page_mut(i).expect("room");
        }
        assert_eq!(Some(p0), s.page_ptr(0));
        assert_eq!(p0 as usize % 4096, 0, "pages are 4 KiB aligned");
    }

    #[test]
    fn truncate_zeroes_the_tail_and_keeps_mapped_pages() {
        let mut s = PageStore::new();
        s.write_at(0, &[1u8; 8192]).expect("write");
        let p1 = s.page_ptr(1).expect("room");
        s.truncate(100, false).expect("shrink");
        assert_eq!(s.page_ptr(1), Some(p1), "a page that may be mapped stays");
        s.truncate(8192, false).expect("grow");
        let mut buf = [9u8; 8192];
        s.read_at(0, &mut buf);
        assert!(buf[..100].iter().all(|&b| b == 1));
        assert!(
            buf[100..].iter().all(|&b| b == 0),
            "bytes past the old end read as zero"
        );
        s.truncate(0, true).expect("shrink and free");
        assert_eq!(s.allocated_pages(), 0);
    }

    #[test]
    fn pages_are_counted_by_the_tag_they_were_made_with() {
        let mut one = PageStore::new();
        one.write_at(0, &[1u8; 3 * 4096]).expect("write");
        assert!(one.tags.is_empty(), "no tags while every page has tag 0");
        assert_eq!((one.pages_tagged(0), one.pages_tagged(1)), (3, 0));
        let mut s = PageStore::new();
        s.write_at_as(0, &[1u8; 2 * 4096], 1).expect("write");
        s.write_at_as(4096, &[2u8; 2 * 4096], 2)
            .expect("one new page");
        assert!(s.page_ptr_as(5, 3).is_some());
        assert_eq!(
            (0..4).map(|t| s.pages_tagged(t)).collect::<Vec<_>>(),
            [0, 2, 1, 1],
            "a page keeps the tag it was made with"
        );
        s.truncate(4096, true).expect("shrink");
        assert_eq!(
            (0..4).map(|t| s.pages_tagged(t)).collect::<Vec<_>>(),
            [0, 1, 0, 0]
        );
        assert_eq!(s.allocated_pages(), 1);
    }

    #[test]
    fn sizes_beyond_the_limit_give_efbig() {
        let mut s = PageStore::new();
        assert_eq!(s.write_at(MAX_FILE_SIZE, b"x"), Err(Errno::EFBIG));
        assert_eq!(s.write_at(u64::MAX, b"x"), Err(Errno::EFBIG));
        assert_eq!(s.truncate(MAX_FILE_SIZE + 1, true), Err(Errno::EFBIG));
    }
}
