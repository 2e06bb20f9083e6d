//! Advisory file locks: POSIX record locks (`F_SETLK`, owned by a descriptor table),
//! open-file-description record locks (`F_OFD_SETLK`, owned by an open file) and
//! `flock(2)` locks (whole file, owned by an open file). The table logic here is pure
//! (range arithmetic, merging and splitting, conflicts, deadlock detection) and
//! unit-tested on the host; `syscall/lock.rs` blocks and translates the user ABI.
//!
//! Record locks of both owner kinds share one range table per file and conflict with each
//! other, as on Linux; `flock` locks live apart and never meet record locks. Every
//! allocation is fallible (`ENOLCK`).

use super::env;
use super::file::OpenFile;
use crate::errno::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// The last byte of "to the end of the file, however long" (Linux's `OFFSET_MAX`).
pub const TO_EOF: u64 = i64::MAX as u64;
/// Record locks the whole machine holds at most (`ENOLCK` past it), so lock requests
/// cannot eat the kernel heap.
pub const MAX_RECORD_LOCKS: usize = 65536;
/// How far a wait-for chain is followed (Linux's `MAX_DEADLK_ITERATIONS`).
const MAX_DEADLOCK_STEPS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// Who holds a lock: a descriptor table (POSIX locks: all its fds of the file share
/// them) or an open file description (OFD and `flock` locks); each by address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Posix(usize),
    Ofd(usize),
}

/// One record lock over the bytes `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub owner: Owner,
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    /// The setter's global pid (F_GETLK reports it, translated for the reader).
    pub pid: u32,
}

fn clashes(a: Kind, b: Kind) -> bool {
    a == Kind::Write || b == Kind::Write
}

/// The record locks of one file.
#[derive(Default, Debug)]
pub struct RangeLocks {
    locks: Vec<Lock>,
}

impl RangeLocks {
    pub fn locks(&self) -> &[Lock] {
        &self.locks
    }

    /// The first lock of another owner that keeps `owner` from taking `kind` over
    /// `start..=end`.
    pub fn conflict(&self, owner: Owner, kind: Kind, start: u64, end: u64) -> Option<Lock> {
        self.locks
            .iter()
            .find(|l| l.owner != owner && l.start <= end && start <= l.end && clashes(l.kind, kind))
            .copied()
    }

    /// Sets (`Some(kind)`) or removes (`None`) `owner`'s lock over `start..=end`,
    /// replacing, splitting and merging its own locks there as `fcntl(2)` says. The
    /// caller checked for conflicts. `ENOLCK` when memory runs out (nothing changed).
    pub fn set(
        &mut self,
        owner: Owner,
        kind: Option<Kind>,
        start: u64,
        end: u64,
        pid: u32,
    ) -> Result<(), Errno> {
        self.locks = self.planned(owner, kind, start, end, pid)?;
        Ok(())
    }

    /// The locks [`RangeLocks::set`] would leave, without changing anything.
    fn planned(
        &self,
        owner: Owner,
        kind: Option<Kind>,
        start: u64,
        end: u64,
        pid: u32,
    ) -> Result<Vec<Lock>, Errno> {
        let mut out = Vec::new();
        out.try_reserve(self.locks.len() + 2)
            .map_err(|_| Errno::ENOLCK)?;
        let (mut start, mut end) = (start, end);
        for l in &self.locks {
            let overlaps = l.start <= end && start <= l.end;
            let adjacent =
                l.end.checked_add(1) == Some(start) || end.checked_add(1) == Some(l.start);
            if l.owner != owner || !(overlaps || adjacent) {
                out.push(*l);
            } else if Some(l.kind) == kind {
                // Same kind, touching: one lock over both.
                start = start.min(l.start);
                end = end.max(l.end);
            } else if overlaps {
                // The parts of the old lock outside the new range stay.
                if l.start < start {
                    out.push(Lock {
                        end: start - 1,
                        ..*l
                    });
                }
                if l.end > end {
                    out.push(Lock {
                        start: end + 1,
                        ..*l
                    });
                }
            } else {
                out.push(*l);
            }
        }
        if let Some(kind) = kind {
            out.push(Lock {
                owner,
                kind,
                start,
                end,
                pid,
            });
        }
        out.sort_unstable_by_key(|l| l.start);
        Ok(out)
    }

    /// Removes every lock of `owner`; true if there was one.
    pub fn remove_owner(&mut self, owner: Owner) -> bool {
        let before = self.locks.len();
        self.locks.retain(|l| l.owner != owner);
        self.locks.len() != before
    }
}

/// The `flock` locks of one file: one per open file description.
#[derive(Default, Debug)]
pub struct WholeLocks {
    held: Vec<(usize, Kind)>,
}

impl WholeLocks {
    /// Whether another description's lock keeps `ofd` from taking `kind`.
    pub fn conflicts(&self, ofd: usize, kind: Kind) -> bool {
        self.held.iter().any(|&(o, k)| o != ofd && clashes(k, kind))
    }
    pub fn held_by(&self, ofd: usize) -> Option<Kind> {
        self.held.iter().find(|h| h.0 == ofd).map(|h| h.1)
    }
    /// Sets or (with `None`) drops `ofd`'s lock; the caller checked for conflicts.
    pub fn set(&mut self, ofd: usize, kind: Option<Kind>) -> Result<(), Errno> {
        self.held.retain(|h| h.0 != ofd);
        if let Some(k) = kind {
            self.held.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
            self.held.push((ofd, k));
        }
        Ok(())
    }
}

/// Locks of one file (by its inode's address).
#[derive(Default, Debug)]
pub struct FileLocks {
    pub records: RangeLocks,
    pub whole: WholeLocks,
}

/// A blocked `F_SETLKW` of a POSIX owner: what it waits for (deadlock detection).
#[derive(Clone, Copy, Debug)]
struct Wait {
    token: u64,
    owner: Owner,
    key: usize,
    kind: Kind,
    start: u64,
    end: u64,
}

/// Every file's locks and the blocked POSIX waiters.
#[derive(Default, Debug)]
pub struct Table {
    files: Vec<(usize, FileLocks)>,
    waits: Vec<Wait>,
    next_token: u64,
    /// Record locks held, over all files, and how many may be.
    records: usize,
    limit: usize,
}

impl Table {
    pub const fn new() -> Table {
        Table {
            files: Vec::new(),
            waits: Vec::new(),
            next_token: 0,
            records: 0,
            limit: MAX_RECORD_LOCKS,
        }
    }

    /// A table holding at most `limit` record locks.
    pub const fn with_limit(limit: usize) -> Table {
        let mut t = Table::new();
        t.limit = limit;
        t
    }

    /// Sets or removes `owner`'s record lock over `start..=end` of `key` (see
    /// [`RangeLocks::set`]); `ENOLCK` past the table's limit or without memory.
    pub fn set_record(
        &mut self,
        key: usize,
        owner: Owner,
        kind: Option<Kind>,
        start: u64,
        end: u64,
        pid: u32,
    ) -> Result<(), Errno> {
        let (held, limit) = (self.records, self.limit);
        let f = self.file_mut(key)?;
        let before = f.records.locks.len();
        let r = f
            .records
            .planned(owner, kind, start, end, pid)
            .and_then(|new| {
                if new.len() > before && held + (new.len() - before) > limit {
                    return Err(Errno::ENOLCK);
                }
                f.records.locks = new;
                Ok(())
            });
        let after = f.records.locks.len();
        self.records = held + after - before;
        self.tidy();
        r
    }

    pub fn file(&self, key: usize) -> Option<&FileLocks> {
        self.files.iter().find(|f| f.0 == key).map(|f| &f.1)
    }

    /// The locks of `key`, made if needed (`ENOLCK` without memory).
    pub fn file_mut(&mut self, key: usize) -> Result<&mut FileLocks, Errno> {
        let i = match self.files.iter().position(|f| f.0 == key) {
            Some(i) => i,
            None => {
                self.files.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
                self.files.push((key, FileLocks::default()));
                self.files.len() - 1
            }
        };
        Ok(&mut self.files[i].1)
    }

    /// Forgets files without locks.
    pub fn tidy(&mut self) {
        self.files
            .retain(|f| !f.1.records.locks.is_empty() || !f.1.whole.held.is_empty());
    }

    /// Record locks held over all files.
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// Whether a table holds no lock at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether `owner` waiting for `kind` over `start..=end` of `key` would close a cycle:
    /// the holder of the conflicting lock waits (transitively) for `owner`. POSIX owners
    /// only; OFD locks are not checked, as on Linux.
    pub fn would_deadlock(
        &self,
        owner: Owner,
        key: usize,
        kind: Kind,
        start: u64,
        end: u64,
    ) -> bool {
        let Owner::Posix(_) = owner else {
            return false;
        };
        let mut want = (owner, key, kind, start, end);
        for _ in 0..MAX_DEADLOCK_STEPS {
            let (who, k, kind, s, e) = want;
            let Some(blocker) = self
                .file(k)
                .and_then(|f| f.records.conflict(who, kind, s, e))
            else {
                return false;
            };
            if blocker.owner == owner {
                return true;
            }
            let Some(w) = self.waits.iter().find(|w| w.owner == blocker.owner) else {
                return false;
            };
            want = (w.owner, w.key, w.kind, w.start, w.end);
        }
        false
    }

    /// Records that `owner` now waits; returns the token [`Table::end_wait`] takes.
    pub fn begin_wait(
        &mut self,
        owner: Owner,
        key: usize,
        kind: Kind,
        start: u64,
        end: u64,
    ) -> Result<u64, Errno> {
        self.waits.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
        self.next_token += 1;
        let token = self.next_token;
        self.waits.push(Wait {
            token,
            owner,
            key,
            kind,
            start,
            end,
        });
        Ok(token)
    }

    pub fn end_wait(&mut self, token: u64) {
        self.waits.retain(|w| w.token != token);
    }

    /// Drops `owner`'s record locks on `key` (a POSIX owner closing a descriptor of the
    /// file) or, with `key` `None`, on every file; true if one went.
    pub fn release(&mut self, owner: Owner, key: Option<usize>) -> bool {
        let mut any = false;
        for (k, f) in self.files.iter_mut() {
            if key.is_none_or(|key| key == *k) {
                let before = f.records.locks.len();
                any |= f.records.remove_owner(owner);
                self.records -= before - f.records.locks.len();
                if let Owner::Ofd(ofd) = owner
                    && f.whole.held_by(ofd).is_some()
                {
                    f.whole.held.retain(|h| h.0 != ofd);
                    any = true;
                }
            }
        }
        self.tidy();
        any
    }
}

/// All advisory locks of the machine.
pub static LOCKS: Mutex<Table> = Mutex::new(Table::new());
/// Lock-holding files, so closing a file skips the table when nothing is locked.
static LOCKED_FILES: AtomicUsize = AtomicUsize::new(0);

/// Remembers how many files have locks after a change (the table's lock held).
pub fn note_files(t: &Table) {
    LOCKED_FILES.store(t.files.len(), Ordering::Release);
}

/// Which file a lock is on: its inode (its operations for a file without one).
#[inline]
pub fn key_of(file: &OpenFile) -> usize {
    match file.inode() {
        Some(i) => Arc::as_ptr(i) as *const () as usize,
        None => Arc::as_ptr(file.ops()) as *const () as usize,
    }
}

/// An open file description's identity (by address).
pub fn ofd_id(file: &OpenFile) -> usize {
    file as *const OpenFile as usize
}

/// The owner of an open file description's OFD record locks.
pub fn ofd_of(file: &OpenFile) -> Owner {
    Owner::Ofd(ofd_id(file))
}

/// The wait channel of a file's lock waiters.
pub fn chan(key: usize) -> usize {
    key | 1
}

/// Releases `owner`'s locks (on `key` only, or on every file) and wakes the file's
/// waiters: a descriptor closed, a table or an open file description gone.
///
/// Inline, so a close with nothing locked anywhere (the common case) costs one load
/// and not a call; the table's work is [`release_held`]'s.
#[inline]
pub fn release(owner: Owner, key: Option<usize>) {
    if LOCKED_FILES.load(Ordering::Acquire) != 0 {
        release_held(owner, key);
    }
}

#[inline(never)]
fn release_held(owner: Owner, key: Option<usize>) {
    let mut t = LOCKS.lock();
    for (k, f) in t.files.iter() {
        let holds = f.records.locks.iter().any(|l| l.owner == owner)
            || matches!(owner, Owner::Ofd(o) if f.whole.held_by(o).is_some());
        if holds && key.is_none_or(|key| key == *k) {
            env::wakeup(chan(*k));
        }
    }
    t.release(owner, key);
    note_files(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Owner = Owner::Posix(1);
    const B: Owner = Owner::Posix(2);
    const C: Owner = Owner::Posix(3);

    fn ranges(r: &RangeLocks) -> Vec<(Owner, Kind, u64, u64)> {
        r.locks()
            .iter()
            .map(|l| (l.owner, l.kind, l.start, l.end))
            .collect()
    }

    #[test]
    fn touching_locks_of_one_kind_merge() {
        let mut r = RangeLocks::default();
        r.set(A, Some(Kind::Read), 0, 9, 1).unwrap();
        r.set(A, Some(Kind::Read), 10, 19, 1).unwrap();
        r.set(A, Some(Kind::Read), 5, 12, 1).unwrap();
        assert_eq!(ranges(&r), [(A, Kind::Read, 0, 19)]);
    }

    #[test]
    fn a_write_lock_in_the_middle_splits_a_read_lock() {
        let mut r = RangeLocks::default();
        r.set(A, Some(Kind::Read), 0, TO_EOF, 1).unwrap();
        r.set(A, Some(Kind::Write), 10, 19, 1).unwrap();
        assert_eq!(
            ranges(&r),
            [
                (A, Kind::Read, 0, 9),
                (A, Kind::Write, 10, 19),
                (A, Kind::Read, 20, TO_EOF)
            ]
        );
        r.set(A, None, 5, 24, 1).unwrap();
        assert_eq!(
            ranges(&r),
            [(A, Kind::Read, 0, 4), (A, Kind::Read, 25, TO_EOF)]
        );
    }

    #[test]
    fn different_kinds_side_by_side_stay_apart() {
        let mut r = RangeLocks::default();
        r.set(A, Some(Kind::Read), 0, 9, 1).unwrap();
        r.set(A, Some(Kind::Write), 10, 19, 1).unwrap();
        assert_eq!(
            ranges(&r),
            [(A, Kind::Read, 0, 9), (A, Kind::Write, 10, 19)]
        );
    }

    #[test]
    fn conflicts_need_another_owner_an_overlap_and_a_writer() {
        let mut r = RangeLocks::default();
        r.set(A, Some(Kind::Read), 0, 9, 1).unwrap();
        r.set(B, Some(Kind::Read), 5, 14, 2).unwrap();
        assert_eq!(r.conflict(C, Kind::Read, 0, 100), None);
        assert_eq!(r.conflict(C, Kind::Write, 10, 10).map(|l| l.owner), Some(B));
        assert_eq!(r.conflict(C, Kind::Write, 15, 20), None);
        assert_eq!(
            r.conflict(A, Kind::Write, 0, 4),
            None,
            "own locks never conflict"
        );
        assert_eq!(r.conflict(A, Kind::Write, 0, 5).map(|l| l.pid), Some(2));
        assert_eq!(
            r.conflict(Owner::Ofd(7), Kind::Write, 0, 0)
                .map(|l| l.owner),
            Some(A),
            "OFD and POSIX locks conflict"
        );
    }

    #[test]
    fn a_wait_cycle_is_a_deadlock() {
        let mut t = Table::new();
        t.set_record(100, A, Some(Kind::Write), 0, 0, 1).unwrap();
        t.set_record(200, B, Some(Kind::Write), 0, 0, 2).unwrap();
        // A waits for B's lock on file 200.
        assert!(!t.would_deadlock(A, 200, Kind::Write, 0, 0));
        let tok = t.begin_wait(A, 200, Kind::Write, 0, 0).unwrap();
        // B asking for A's lock closes the cycle; C asking does not.
        assert!(t.would_deadlock(B, 100, Kind::Write, 0, 0));
        assert!(!t.would_deadlock(C, 100, Kind::Write, 0, 0));
        // A's wait ended: no cycle.
        t.end_wait(tok);
        assert!(!t.would_deadlock(B, 100, Kind::Write, 0, 0));
        // OFD owners are not checked.
        assert!(!t.would_deadlock(Owner::Ofd(5), 100, Kind::Write, 0, 0));
    }

    #[test]
    fn release_drops_one_owners_locks_on_one_file_or_all() {
        let mut t = Table::new();
        t.set_record(100, A, Some(Kind::Read), 0, 9, 1).unwrap();
        t.set_record(200, A, Some(Kind::Read), 0, 9, 1).unwrap();
        t.set_record(200, B, Some(Kind::Read), 0, 9, 2).unwrap();
        assert!(t.release(A, Some(100)));
        assert!(t.file(100).is_none(), "a file without locks is forgotten");
        assert!(!t.release(A, Some(100)));
        assert!(t.release(A, None));
        assert_eq!(t.file(200).map(|f| f.records.locks().len()), Some(1));
        assert!(t.release(B, None));
        assert!(t.is_empty());
    }

    #[test]
    fn the_record_lock_limit_gives_enolck_and_counts_go_back() {
        let mut t = Table::with_limit(4);
        for i in 0..4 {
            assert_eq!(
                t.set_record(100, A, Some(Kind::Read), i * 10, i * 10, 1),
                Ok(()),
                "lock {i}"
            );
        }
        assert_eq!(t.record_count(), 4);
        assert_eq!(
            t.set_record(100, A, Some(Kind::Read), 99, 99, 1),
            Err(Errno::ENOLCK)
        );
        // Merging into one lock frees room.
        assert_eq!(t.set_record(100, A, Some(Kind::Read), 0, 30, 1), Ok(()));
        assert_eq!(t.record_count(), 1);
        assert!(t.release(A, None));
        assert_eq!(t.record_count(), 0);
        assert!(t.is_empty());
    }

    #[test]
    fn flock_shares_readers_and_excludes_writers() {
        let mut w = WholeLocks::default();
        w.set(1, Some(Kind::Read)).unwrap();
        assert!(!w.conflicts(2, Kind::Read));
        assert!(w.conflicts(2, Kind::Write));
        assert!(!w.conflicts(1, Kind::Write), "conversion of one's own lock");
        w.set(1, Some(Kind::Write)).unwrap();
        assert_eq!(w.held_by(1), Some(Kind::Write));
        w.set(1, None).unwrap();
        assert_eq!(w.held_by(1), None);
        assert!(!w.conflicts(2, Kind::Write));
    }
}
