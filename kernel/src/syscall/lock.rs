//! Advisory locks from user space: `fcntl`'s record-lock commands (`F_GETLK`, `F_SETLK`,
//! `F_SETLKW` and their `F_OFD_` forms) with Linux's `struct flock`, and `flock(2)`.
//! The table and its rules are `fs/lock.rs`; this file reads the ABI, checks it, and
//! blocks (interruptibly) when asked to wait.

use crate::errno::{Errno, SysResult};
use crate::fs::file::{OpenFile, SEEK_CUR, SEEK_END, SEEK_SET};
use crate::fs::lock::{self, Kind, LOCKS, Owner, TO_EOF};
use crate::mm::user::{copy_from_user, copy_to_user};
use crate::task::{self, sched};
use alloc::sync::Arc;

pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;

const F_RDLCK: u16 = 0;
const F_WRLCK: u16 = 1;
const F_UNLCK: u16 = 2;

const LOCK_SH: u64 = 1;
const LOCK_EX: u64 = 2;
const LOCK_NB: u64 = 4;
const LOCK_UN: u64 = 8;

/// A blocked waiter looks again this often even without a wakeup, so a release that
/// raced with its going to sleep (another CPU) delays it at most this long.
const RECHECK_NS: u64 = 20_000_000;

/// Linux's `struct flock` on x86_64 (32 bytes).
struct Flock {
    l_type: u16,
    l_whence: u16,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
}

fn read_flock(addr: u64) -> Result<Flock, Errno> {
    let mut b = [0u8; 32];
    copy_from_user(addr, &mut b)?;
    let i64_at = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    Ok(Flock {
        l_type: u16::from_le_bytes([b[0], b[1]]),
        l_whence: u16::from_le_bytes([b[2], b[3]]),
        l_start: i64_at(8),
        l_len: i64_at(16),
        l_pid: i32::from_le_bytes(b[24..28].try_into().expect("4 bytes")),
    })
}

fn write_flock(addr: u64, f: &Flock) -> Result<(), Errno> {
    let mut b = [0u8; 32];
    b[0..2].copy_from_slice(&f.l_type.to_le_bytes());
    b[2..4].copy_from_slice(&f.l_whence.to_le_bytes());
    b[8..16].copy_from_slice(&f.l_start.to_le_bytes());
    b[16..24].copy_from_slice(&f.l_len.to_le_bytes());
    b[24..28].copy_from_slice(&f.l_pid.to_le_bytes());
    copy_to_user(addr, &b)
}

/// The bytes `start..=end` a `struct flock` names, as `fcntl(2)` says (`l_len` 0: to the
/// end of the file however it grows; negative: the bytes before `l_start`).
fn range(file: &OpenFile, f: &Flock) -> Result<(u64, u64), Errno> {
    let base: i64 = match f.l_whence as u32 {
        SEEK_SET => 0,
        SEEK_CUR => *file.pos().lock() as i64,
        SEEK_END => file.stat()?.size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(f.l_start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = match f.l_len {
        0 => (start, TO_EOF as i64),
        len if len > 0 => (start, start.checked_add(len - 1).ok_or(Errno::EOVERFLOW)?),
        len => (start.checked_add(len).ok_or(Errno::EINVAL)?, start - 1),
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    Ok((start as u64, end as u64))
}

/// Sleeps until the file's locks change, a signal, or the recheck interval.
fn wait(key: usize) -> Result<(), Errno> {
    let deadline = crate::time::monotonic_ns() + RECHECK_NS;
    match sched::sleep(lock::chan(key), Some(deadline)) {
        sched::Wake::Interrupted => Err(Errno::EINTR),
        _ => Ok(()),
    }
}

/// `fcntl(fd, cmd, &flock)` for the six record-lock commands.
pub fn fcntl_lock(file: &Arc<OpenFile>, cmd: u32, arg: u64) -> SysResult {
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let mut f = read_flock(arg)?;
    if ofd && f.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let kind = match f.l_type {
        F_RDLCK => Some(Kind::Read),
        F_WRLCK => Some(Kind::Write),
        F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    let (start, end) = range(file, &f)?;
    let files = task::current_process().files();
    let owner = if ofd {
        lock::ofd_of(file)
    } else {
        files.lock_owner()
    };
    let key = lock::key_of(file);

    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        let Some(kind) = kind else {
            return Err(Errno::EINVAL);
        };
        let holder = LOCKS
            .lock()
            .file(key)
            .and_then(|l| l.records.conflict(owner, kind, start, end));
        match holder {
            None => f.l_type = F_UNLCK,
            Some(h) => {
                f.l_type = if h.kind == Kind::Write {
                    F_WRLCK
                } else {
                    F_RDLCK
                };
                f.l_whence = SEEK_SET as u16;
                f.l_start = h.start as i64;
                f.l_len = if h.end == TO_EOF {
                    0
                } else {
                    (h.end - h.start + 1) as i64
                };
                // OFD locks have no process: -1, as Linux reports them.
                f.l_pid = match h.owner {
                    Owner::Ofd(_) => -1,
                    Owner::Posix(_) => view_pid(h.pid) as i32,
                };
            }
        }
        write_flock(arg, &f)?;
        return Ok(0);
    }

    match kind {
        Some(Kind::Read) if !file.readable() => return Err(Errno::EBADF),
        Some(Kind::Write) if !file.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    let block = matches!(cmd, F_SETLKW | F_OFD_SETLKW);
    let pid = task::current_process().pid();
    loop {
        let token = {
            let mut t = LOCKS.lock();
            let blocked = match kind {
                Some(k) => t
                    .file(key)
                    .and_then(|l| l.records.conflict(owner, k, start, end))
                    .is_some(),
                None => false,
            };
            if !blocked {
                let r = t.set_record(key, owner, kind, start, end, pid);
                lock::note_files(&t);
                drop(t);
                // Unlocking or downgrading may let a waiter in.
                crate::fs::env::wakeup(lock::chan(key));
                return r.map(|_| 0);
            }
            let k = kind.expect("only a lock request can be blocked");
            if !block {
                return Err(Errno::EAGAIN);
            }
            if t.would_deadlock(owner, key, k, start, end) {
                return Err(Errno::EDEADLK);
            }
            t.begin_wait(owner, key, k, start, end)?
        };
        let r = wait(key);
        LOCKS.lock().end_wait(token);
        r?;
    }
}

/// The caller's number for the global pid `pid` (0 when it cannot see that process).
fn view_pid(pid: u32) -> u32 {
    crate::container::root()
        .pid
        .lookup(pid)
        .map_or(0, |p| task::view_nr(&p))
}

/// `flock(fd, op)`: a whole-file lock per open file description. Changing the kind of a
/// held lock first drops it (as on Linux, not atomically).
pub fn flock(file: &Arc<OpenFile>, op: u64) -> SysResult {
    let kind = match op & !LOCK_NB {
        LOCK_SH => Some(Kind::Read),
        LOCK_EX => Some(Kind::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let ofd = lock::ofd_id(file);
    let key = lock::key_of(file);
    let mut first = true;
    loop {
        {
            let mut t = LOCKS.lock();
            let held = t.file(key).and_then(|l| l.whole.held_by(ofd));
            if held == kind {
                return Ok(0);
            }
            if first && held.is_some() {
                t.file_mut(key)?.whole.set(ofd, None)?;
                crate::fs::env::wakeup(lock::chan(key));
            }
            first = false;
            let blocked =
                kind.is_some_and(|k| t.file(key).is_some_and(|l| l.whole.conflicts(ofd, k)));
            if !blocked {
                let r = match kind {
                    Some(_) => t.file_mut(key).and_then(|l| l.whole.set(ofd, kind)),
                    None => Ok(()),
                };
                t.tidy();
                lock::note_files(&t);
                return r.map(|_| 0);
            }
            t.tidy();
            lock::note_files(&t);
            if op & LOCK_NB != 0 {
                return Err(Errno::EAGAIN);
            }
        }
        wait(key)?;
    }
}
