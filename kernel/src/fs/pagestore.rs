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
        if self.pages.len() <= index {
            self.pages
                .try_reserve(index + 1 - self.pages.len())
                .map_err(|_| Errno::ENOSPC)?;
            self.pages.resize_with(index + 1, || None);
        }
        let slot = &mut self.pages[index];
        if slot.is_none() {
            *slot = Some(PageBox::try_zeroed().ok_or(Errno::ENOSPC)?);
            self.allocated += 1;
        }
        slot.as_deref_mut().ok_or(Errno::ENOSPC)
    }

    /// The address of the page at `index` (allocated if needed), for mapping it; `None`
    /// when it cannot be allocated.
    pub fn page_ptr(&mut self, index: usize) -> Option<*const Page> {
        self.page_mut(index).ok().map(|p| p as *const Page)
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
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        while done < data.len() {
            let pos = offset as usize + done;
            let (idx, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let chunk = (PAGE_SIZE - in_page).min(data.len() - done);
            let page = match self.page_mut(idx) {
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
                let freed = self.pages.iter().skip(keep).flatten().count();
                self.allocated -= freed;
                self.pages.truncate(keep);
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
        let mut s = self.lock();
        if index.saturating_mul(PAGE_SIZE as u64) >= s.size() {
            return None;
        }
        Some((s.page_ptr(index as usize)? as u64).wrapping_sub(crate::mm::PHYS_OFFSET))
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
    fn sizes_beyond_the_limit_give_efbig() {
        let mut s = PageStore::new();
        assert_eq!(s.write_at(MAX_FILE_SIZE, b"x"), Err(Errno::EFBIG));
        assert_eq!(s.write_at(u64::MAX, b"x"), Err(Errno::EFBIG));
        assert_eq!(s.truncate(MAX_FILE_SIZE + 1, true), Err(Errno::EFBIG));
    }
}
