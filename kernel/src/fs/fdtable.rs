//! Per-process file descriptor tables: lowest free number, close-on-exec per fd, the
//! `dup` family, copy on fork, and the caller's `RLIMIT_NOFILE` (`EMFILE`).

use super::file::OpenFile;
use super::lock;
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// `RLIMIT_NOFILE`'s default soft limit (the host tests' limit).
pub const FD_LIMIT: usize = 1024;

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

pub struct FdTable {
    slots: Mutex<Vec<Option<Slot>>>,
    /// Every descriptor below this one is open (Linux's `next_fd`): the search for the
    /// lowest free one starts here. Changed under the `slots` lock.
    free_from: AtomicUsize,
    /// The table and its slots' buffer, charged to the group that made the table (taken
    /// after `slots`).
    charge: Mutex<Charge>,
}

fn index(fd: i32) -> Result<usize, Errno> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

/// The caller's `RLIMIT_NOFILE` soft limit: descriptors are below it.
fn limit() -> usize {
    super::env::nofile_limit()
}

/// What a table with room for `cap` descriptors costs on the heap.
fn table_cost(cap: usize) -> u64 {
    kmem::arc_cost::<FdTable>().saturating_add(kmem::array_cost::<Option<Slot>>(cap))
}

/// Makes `slots` at least `len` long, the bigger buffer charged first; `ENOMEM` over the
/// group's memory limit or when the heap cannot hold it (a table of a million
/// descriptors is 16 MiB).
fn grow(slots: &mut Vec<Option<Slot>>, charge: &Mutex<Charge>, len: usize) -> Result<(), Errno> {
    if slots.len() >= len {
        return Ok(());
    }
    if slots.capacity() < len {
        let cap = len.max(slots.capacity().saturating_mul(2)).max(8);
        let mut charge = charge.lock();
        charge.resize(table_cost(cap))?;
        if slots.try_reserve_exact(cap - slots.len()).is_err() {
            let _ = charge.resize(table_cost(slots.capacity()));
            return Err(Errno::ENOMEM);
        }
        let _ = charge.resize(table_cost(slots.capacity()));
    }
    slots.resize(len, None);
    Ok(())
}

impl Drop for FdTable {
    fn drop(&mut self) {
        lock::release(self.lock_owner(), None);
    }
}

impl FdTable {
    /// The owner of the POSIX record locks taken through this table (Linux's
    /// `current->files`): closing any of its descriptors of a file drops them.
    pub fn lock_owner(&self) -> lock::Owner {
        lock::Owner::Posix(self as *const FdTable as usize)
    }

    fn release_locks(&self, file: &OpenFile) {
        lock::release(self.lock_owner(), Some(lock::key_of(file)));
    }

    /// An empty table, charged to the caller's group as it grows.
    pub fn new() -> Arc<FdTable> {
        let mut charge = Charge::empty();
        // The table object itself: the caller's first table (init's) fits any limit.
        let _ = charge.resize(table_cost(0));
        Arc::new(FdTable {
            slots: Mutex::new(Vec::new()),
            free_from: AtomicUsize::new(0),
            charge: Mutex::new(charge),
        })
    }

    /// Installs `file` at the lowest free descriptor.
    pub fn install(&self, file: Arc<OpenFile>, cloexec: bool) -> Result<i32, Errno> {
        self.install_from(0, file, cloexec)
            .map_err(|e| if e == Errno::EINVAL { Errno::EMFILE } else { e })
    }

    /// Installs `file` at the lowest free descriptor `>= min` (`F_DUPFD`): `EINVAL` if
    /// `min` is beyond the limit, `EMFILE` if no descriptor is free.
    pub fn install_from(
        &self,
        min: usize,
        file: Arc<OpenFile>,
        cloexec: bool,
    ) -> Result<i32, Errno> {
        let limit = limit();
        if min >= limit {
            return Err(Errno::EINVAL);
        }
        // A description is charged once, by its first install.
        file.charge()?;
        let mut slots = self.slots.lock();
        // A plain loop: the iterator chain costs twice as much in the kernel's build.
        let hint = self.free_from.load(Ordering::Relaxed);
        let mut free = min.max(hint);
        while let Some(Some(_)) = slots.get(free) {
            free += 1;
        }
        if free >= limit {
            return Err(Errno::EMFILE);
        }
        if slots.len() <= free {
            grow(&mut slots, &self.charge, free + 1)?;
        }
        slots[free] = Some(Slot { file, cloexec });
        if min <= hint {
            self.free_from.store(free + 1, Ordering::Relaxed);
        }
        Ok(free as i32)
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let i = index(fd)?;
        self.slots
            .lock()
            .get(i)
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(Errno::EBADF)
    }

    pub fn close(&self, fd: i32) -> Result<(), Errno> {
        let i = index(fd)?;
        let old = {
            let mut slots = self.slots.lock();
            let old = slots
                .get_mut(i)
                .and_then(|s| s.take())
                .ok_or(Errno::EBADF)?;
            // Under the lock: a load and a store, no atomic update.
            if i < self.free_from.load(Ordering::Relaxed) {
                self.free_from.store(i, Ordering::Relaxed);
            }
            // Closing the highest descriptors gives their room back.
            let used = used_len(&slots);
            if used < slots.len() / 2 {
                slots.truncate(used);
                slots.shrink_to_fit();
                let _ = self.charge.lock().resize(table_cost(slots.capacity()));
            }
            old
        };
        self.release_locks(&old.file);
        // The last reference may run a close hook (pipe end, ...): outside the lock.
        drop(old);
        Ok(())
    }

    pub fn dup(&self, fd: i32) -> Result<i32, Errno> {
        let file = self.get(fd)?;
        self.install(file, false)
    }

    /// `dup2`/`dup3`: makes `new` refer to `old`'s file, closing what `new` held.
    /// `old == new` is the caller's business (dup2 returns it, dup3 gives EINVAL).
    pub fn dup_to(&self, old: i32, new: i32, cloexec: bool) -> Result<i32, Errno> {
        let file = self.get(old)?;
        let i = index(new)?;
        if i >= limit() {
            return Err(Errno::EBADF);
        }
        let prev = {
            let mut slots = self.slots.lock();
            grow(&mut slots, &self.charge, i + 1)?;
            slots[i].replace(Slot { file, cloexec })
        };
        if let Some(p) = &prev {
            self.release_locks(&p.file);
        }
        drop(prev);
        Ok(new)
    }

    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        let i = index(fd)?;
        self.slots
            .lock()
            .get(i)
            .and_then(|s| s.as_ref())
            .map(|s| s.cloexec)
            .ok_or(Errno::EBADF)
    }

    pub fn set_cloexec(&self, fd: i32, on: bool) -> Result<(), Errno> {
        let i = index(fd)?;
        let mut slots = self.slots.lock();
        let slot = slots
            .get_mut(i)
            .and_then(|s| s.as_mut())
            .ok_or(Errno::EBADF)?;
        slot.cloexec = on;
        Ok(())
    }

    /// The table a forked child starts with: the same open files, the same flags.
    /// `ENOMEM` when the heap cannot hold the copy.
    pub fn fork_copy(&self) -> Result<Arc<FdTable>, Errno> {
        let src = self.slots.lock();
        // Up to the highest open descriptor (Linux's `count_open_files`): a table once
        // stretched by a high `dup2` is not copied whole into every child.
        let used = used_len(&src);
        let nr_open = crate::fs::sysctl::NR_OPEN.load(core::sync::atomic::Ordering::Relaxed);
        if !fits_nr_open(used as u64, nr_open) {
            return Err(Errno::EMFILE);
        }
        let charge = Charge::new(table_cost(used))?;
        let mut slots = Vec::new();
        slots.try_reserve_exact(used).map_err(|_| Errno::ENOMEM)?;
        slots.extend_from_slice(&src[..used]);
        drop(src);
        Ok(Arc::new(FdTable {
            slots: Mutex::new(slots),
            free_from: AtomicUsize::new(0),
            charge: Mutex::new(charge),
        }))
    }

    /// Closes the close-on-exec descriptors (at `execve`).
    pub fn close_on_exec(&self) {
        let closed: Vec<Slot> = {
            let mut slots = self.slots.lock();
            self.free_from.store(0, Ordering::Relaxed);
            slots
                .iter_mut()
                .filter(|s| s.as_ref().is_some_and(|s| s.cloexec))
                .filter_map(|s| s.take())
                .collect()
        };
        for s in &closed {
            self.release_locks(&s.file);
        }
        drop(closed);
    }

    /// Closes everything (at exit).
    pub fn close_all(&self) {
        let all = {
            let mut slots = self.slots.lock();
            self.free_from.store(0, Ordering::Relaxed);
            core::mem::take(&mut *slots)
        };
        let _ = self.charge.lock().resize(table_cost(0));
        lock::release(self.lock_owner(), None);
        drop(all);
    }

    /// The open files (each descriptor's; a file open twice comes twice).
    pub fn open_files(&self) -> Vec<Arc<OpenFile>> {
        self.slots
            .lock()
            .iter()
            .flatten()
            .map(|s| s.file.clone())
            .collect()
    }

    /// The open descriptors in ascending order.
    pub fn fds(&self) -> Vec<i32> {
        let slots = self.slots.lock();
        (0..slots.len())
            .filter(|&i| slots[i].is_some())
            .map(|i| i as i32)
            .collect()
    }
}

/// One past the highest open descriptor (0 for none): a plain loop from the end,
/// which `close` runs each time (an iterator's `rposition` costs twice as much in the
/// kernel's build).
fn used_len(slots: &[Option<Slot>]) -> usize {
    let mut used = slots.len();
    while let Some(None) = used.checked_sub(1).and_then(|i| slots.get(i)) {
        used -= 1;
    }
    used
}

/// Whether a table whose highest open descriptor is `used - 1` may be copied under
/// `/proc/sys/fs/nr_open` (Linux's `dup_fd`: both sizes in whole 64-descriptor words;
/// `EMFILE` otherwise, for `fork` and `unshare(CLONE_FILES)` alike).
pub fn fits_nr_open(used: u64, nr_open: u64) -> bool {
    let words = |n: u64| n.div_ceil(64) * 64;
    words(used) <= words(nr_open.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::file::{InodeFile, O_RDONLY};
    use crate::fs::ramfs::RamFs;
    use crate::fs::vfs::FileSystem;

    fn file() -> Arc<OpenFile> {
        let fs = RamFs::new("tmpfs");
        OpenFile::new(
            InodeFile::new(fs.root()),
            Some(fs.root()),
            "/".into(),
            O_RDONLY,
        )
    }

    #[test]
    fn nr_open_bounds_a_copy_in_words() {
        // unshare03: fd 65 open, nr_open 64 -> 128 descriptors do not fit in 64.
        assert!(!fits_nr_open(66, 64));
        assert!(fits_nr_open(64, 64));
        assert!(fits_nr_open(66, 65));
        assert!(fits_nr_open(0, 64));
        assert!(fits_nr_open(1024, 1 << 20));
    }

    #[test]
    fn lowest_free_descriptor_is_used_and_reused() {
        let t = FdTable::new();
        assert_eq!(t.install(file(), false), Ok(0));
        assert_eq!(t.install(file(), false), Ok(1));
        assert_eq!(t.install(file(), false), Ok(2));
        t.close(1).expect("close 1");
        assert_eq!(t.install(file(), false), Ok(1));
        assert_eq!(t.close(7), Err(Errno::EBADF));
        assert_eq!(t.close(-1), Err(Errno::EBADF));
        assert_eq!(t.get(1 << 20).err(), Some(Errno::EBADF));
    }

    /// The search's starting hint never skips a free descriptor: closes in any order,
    /// `F_DUPFD` above it, `dup2` past the end, close-on-exec.
    #[test]
    fn the_lowest_free_descriptor_survives_every_way_of_freeing_one() {
        let t = FdTable::new();
        for fd in 0..10 {
            assert_eq!(t.install(file(), fd % 2 == 1), Ok(fd));
        }
        t.close(7).expect("close 7");
        t.close(3).expect("close 3");
        assert_eq!(
            t.install_from(5, file(), false),
            Ok(7),
            "F_DUPFD above the hint"
        );
        assert_eq!(t.install(file(), false), Ok(3));
        assert_eq!(t.install(file(), false), Ok(10));
        assert_eq!(t.dup_to(0, 20, false), Ok(20));
        assert_eq!(t.install(file(), false), Ok(11));
        t.close_on_exec();
        // 1, 5, 9 were close-on-exec (7 and 3 came back without it).
        assert_eq!(t.install(file(), false), Ok(1));
        assert_eq!(t.install(file(), false), Ok(5));
        assert_eq!(t.install(file(), false), Ok(9));
        assert_eq!(t.install(file(), false), Ok(12));
        t.close_all();
        assert_eq!(t.install(file(), false), Ok(0));
    }

    #[test]
    fn the_limit_gives_emfile_and_dupfd_beyond_it_einval() {
        let t = FdTable::new();
        let f = file();
        for i in 0..FD_LIMIT {
            assert_eq!(t.install(f.clone(), false), Ok(i as i32));
        }
        assert_eq!(t.install(f.clone(), false), Err(Errno::EMFILE));
        assert_eq!(
            t.install_from(FD_LIMIT, f.clone(), false),
            Err(Errno::EINVAL)
        );
        t.close_all();
        assert_eq!(t.fds(), Vec::<i32>::new());
        assert_eq!(
            Arc::strong_count(&f),
            1,
            "close_all dropped every reference"
        );
    }

    #[test]
    fn dup_shares_the_file_and_dup_to_replaces() {
        let t = FdTable::new();
        let a = file();
        t.install(a.clone(), true).expect("install");
        assert_eq!(t.dup(0), Ok(1));
        assert!(Arc::ptr_eq(&t.get(1).expect("fd 1"), &a));
        assert_eq!(t.cloexec(1), Ok(false), "dup clears close-on-exec");
        assert_eq!(t.install_from(10, a.clone(), false), Ok(10));
        t.install(file(), false).expect("fd 2");
        assert_eq!(t.dup_to(0, 2, true), Ok(2));
        assert!(Arc::ptr_eq(&t.get(2).expect("fd 2"), &a));
        assert_eq!(t.dup_to(5, 3, false), Err(Errno::EBADF));
        assert_eq!(t.dup_to(0, FD_LIMIT as i32, false), Err(Errno::EBADF));
    }

    #[test]
    fn fork_copy_and_close_on_exec() {
        let t = FdTable::new();
        t.install(file(), true).expect("fd 0");
        t.install(file(), false).expect("fd 1");
        let c = t.fork_copy().expect("copy");
        c.close_on_exec();
        assert_eq!(c.fds(), [1]);
        assert_eq!(t.fds(), [0, 1], "the parent's table is untouched");
    }
}
