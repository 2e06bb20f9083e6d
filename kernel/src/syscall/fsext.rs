//! File calls beyond the basic set: the signal-driven I/O commands of `fcntl`
//! (`F_SETOWN`, `F_GETOWN`, `F_SETSIG`, `F_GETSIG`, `O_ASYNC` through `F_SETFL`),
//! `eventfd`/`eventfd2`, positioned vector I/O (`preadv`, `pwritev` and the `2` forms),
//! in-kernel copies (`sendfile`, `copy_file_range`), `readahead`, `close_range`,
//! `fallocate`, `pidfd_getfd`, the timestamp calls `utimensat`, `utimes`, `futimesat`,
//! `execveat`, `splice`/`tee` (copies through a kernel buffer, not page moves), and
//! `memfd_create` with `fcntl`'s `F_ADD_SEALS`/`F_GET_SEALS`.

use super::fs::{
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, IO_CHUNK, each_iovec, files, read_into,
    read_iovecs, readv, resolve_at, user_path_maybe_empty, writable_path, write_from, writev,
};
use super::table::{fd, syscalls};
use crate::errno::{Errno, SysResult};
use crate::fs::OpenFile;
use crate::fs::file::{O_APPEND, O_ASYNC, O_CLOEXEC};
use crate::fs::vfs::FileType;
use crate::fs::vfs::{InodeRef, Timespec};
use crate::mm::user::{read_user, write_user};
use crate::task;
use alloc::sync::Arc;
use alloc::vec::Vec;

syscalls! {
    frame, a;
    40 => sendfile(fd(a[0]), fd(a[1]), a[2], a[3]),
    285 => fallocate(fd(a[0]), a[1] as u32, a[2] as i64, a[3] as i64),
    438 => pidfd_getfd(fd(a[0]), fd(a[1]), a[2] as u32),
    187 => readahead(fd(a[0]), a[1] as i64),
    284 => eventfd(a[0] as u32, 0),
    290 => eventfd(a[0] as u32, a[1] as u32),
    295 => preadv(fd(a[0]), a[1], a[2], a[3] as i64, 0),
    296 => pwritev(fd(a[0]), a[1], a[2], a[3] as i64, 0),
    326 => copy_file_range(fd(a[0]), a[1], fd(a[2]), a[3], a[4], a[5] as u32),
    327 => preadv(fd(a[0]), a[1], a[2], a[3] as i64, a[5] as u32),
    328 => pwritev(fd(a[0]), a[1], a[2], a[3] as i64, a[5] as u32),
    436 => close_range(a[0] as u32, a[1] as u32, a[2] as u32),
    235 => utimes(AT_FDCWD, a[0], a[1]),
    275 => splice(fd(a[0]), a[1], fd(a[2]), a[3], a[4], a[5] as u32),
    276 => tee(fd(a[0]), fd(a[1]), a[2], a[3] as u32),
    319 => memfd_create(a[0], a[1] as u32),
    261 => utimes(fd(a[0]), a[1], a[2]),
}

fn eventfd(initval: u32, flags: u32) -> SysResult {
    let file = crate::fs::eventfd::new(initval, flags)?;
    files()
        .install(file, flags & O_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

/// `preadv2`/`pwritev2` flags: `RWF_HIPRI`, `RWF_DSYNC`, `RWF_SYNC` (tmpfs is always in
/// sync), `RWF_NOWAIT` (nothing here waits for a disk), `RWF_APPEND`; others
/// `EOPNOTSUPP`.
const RWF_SUPPORTED: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10;
const RWF_APPEND: u32 = 0x10;

/// `preadv`/`preadv2`: the buffers in turn from `offset` (-1 in `preadv2`: the file
/// position, as `readv`), up to the first short read.
fn preadv(fd: i32, iov: u64, cnt: u64, offset: i64, flags: u32) -> SysResult {
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if offset == -1 {
        return readv(fd, iov, cnt);
    }
    let off = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let file = files().get(fd)?;
    each_iovec(read_iovecs(iov, cnt)?, |base, len, done| {
        read_into(&file, base, len, Some(off + done as u64))
    })
}

/// `pwritev`/`pwritev2` (`RWF_APPEND`: at the end of the file).
fn pwritev(fd: i32, iov: u64, cnt: u64, offset: i64, flags: u32) -> SysResult {
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if offset == -1 && flags & RWF_APPEND == 0 {
        return writev(fd, iov, cnt);
    }
    let file = files().get(fd)?;
    let mut off = u64::try_from(offset).unwrap_or(0);
    if offset < -1 {
        return Err(Errno::EINVAL);
    }
    if flags & RWF_APPEND != 0 || file.flags() & O_APPEND != 0 {
        off = file.stat()?.size;
    }
    each_iovec(read_iovecs(iov, cnt)?, |base, len, done| {
        write_from(&file, base, len, Some(off + done as u64))
    })
}

/// A kernel buffer for a copy of `len` bytes (`ENOMEM` rather than a panic).
fn chunk_buf(len: u64) -> Result<Vec<u8>, Errno> {
    let n = len.min(IO_CHUNK as u64) as usize;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    v.resize(n, 0);
    Ok(v)
}

/// Copies up to `len` bytes: reads with `read(buf)` (returning how many), writes all of
/// them with `write(buf)`; stops at a short read or write, or a signal between chunks.
fn copy_loop(
    len: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> Result<usize, Errno>,
    mut write: impl FnMut(u64, &[u8]) -> Result<usize, Errno>,
) -> SysResult {
    let mut buf = chunk_buf(len)?;
    let mut done: u64 = 0;
    while done < len {
        let want = ((len - done) as usize).min(buf.len());
        let n = match read(done, &mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let w = match write(done, &buf[..n]) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += w as u64;
        if w < n || n < want || crate::task::signal::has_pending(&task::sched::current()) {
            break;
        }
    }
    Ok(done as usize)
}

/// `sendfile(out_fd, in_fd, offset, count)`: from `in_fd` (at `*offset`, which is then
/// advanced, or at its position) to `out_fd`. `EINVAL` for an `O_APPEND` output or an
/// input that cannot be read at an offset; `EBADF` for the wrong access modes.
fn sendfile(out_fd: i32, in_fd: i32, offset: u64, count: u64) -> SysResult {
    let t = files();
    let input = t.get(in_fd)?;
    let output = t.get(out_fd)?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    if output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let count = count.min(0x7fff_f000);
    let start: Option<u64> = if offset != 0 {
        let o: i64 = read_user(offset)?;
        Some(u64::try_from(o).map_err(|_| Errno::EINVAL)?)
    } else {
        None
    };
    if !matches!(input.stat()?.file_type(), FileType::Regular) {
        return Err(Errno::EINVAL);
    }
    let n = copy_loop(
        count,
        |done, buf| match start {
            Some(s) => input.pread(s + done, buf),
            None => input.read(buf),
        },
        |_, buf| write_all(&output, buf),
    )?;
    if let Some(s) = start {
        write_user(offset, &((s + n as u64) as i64))?;
    }
    Ok(n)
}

/// Writes all of `buf` (a pipe or socket may take it in parts).
fn write_all(f: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
    let mut done = 0;
    while done < buf.len() {
        match f.write(&buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`: between two regular
/// files (`EINVAL` otherwise, `EISDIR` for a directory), at the given offsets or the
/// files' positions; `EBADF` for an `O_APPEND` output, `EINVAL` for flags or an
/// overlapping range of one file.
fn copy_file_range(
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: u64,
    flags: u32,
) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let t = files();
    let input = t.get(fd_in)?;
    let output = t.get(fd_out)?;
    if !input.readable() || !output.writable() || output.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let (mi, mo) = (input.stat()?, output.stat()?);
    if mi.is_dir() || mo.is_dir() {
        return Err(Errno::EISDIR);
    }
    if mi.file_type() != FileType::Regular || mo.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    let read_off = |addr: u64| -> Result<Option<u64>, Errno> {
        if addr == 0 {
            return Ok(None);
        }
        let o: i64 = read_user(addr)?;
        u64::try_from(o).map(Some).map_err(|_| Errno::EINVAL)
    };
    let pos = |f: &OpenFile| *f.pos().lock();
    let src = read_off(off_in)?.unwrap_or_else(|| pos(&input));
    let dst = read_off(off_out)?.unwrap_or_else(|| pos(&output));
    let len = len.min(0x7fff_f000);
    if mi.dev == mo.dev
        && mi.ino == mo.ino
        && src < dst.saturating_add(len)
        && dst < src.saturating_add(len)
    {
        return Err(Errno::EINVAL);
    }
    let n = copy_loop(
        len,
        |done, buf| input.pread(src + done, buf),
        |done, buf| output.pwrite(dst + done, buf),
    )? as u64;
    match off_in {
        0 => *input.pos().lock() = src + n,
        a => write_user(a, &((src + n) as i64))?,
    }
    match off_out {
        0 => *output.pos().lock() = dst + n,
        a => write_user(a, &((dst + n) as i64))?,
    }
    Ok(n as usize)
}

/// `readahead(fd, offset, count)`: file data is always in memory here, so there is
/// nothing to start; `EBADF` unless `fd` is open for reading, `EINVAL` unless it is a
/// regular file.
fn readahead(fd: i32, offset: i64) -> SysResult {
    let file = files().get(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    if offset < 0 || file.stat()?.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

const CLOSE_RANGE_UNSHARE: u32 = 2;
const CLOSE_RANGE_CLOEXEC: u32 = 4;

/// `close_range(first, last, flags)`: closes (or, with `CLOSE_RANGE_CLOEXEC`, marks
/// close-on-exec) every open descriptor in `first..=last`, after unsharing the table
/// with `CLOSE_RANGE_UNSHARE`.
fn close_range(first: u32, last: u32, flags: u32) -> SysResult {
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let p = task::current_process();
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        let copy = p.files().fork_copy()?;
        p.inner.lock().files = copy;
    }
    let t = p.files();
    for fd in t.fds() {
        if (first..=last).contains(&(fd as u32)) {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                t.set_cloexec(fd, true)?;
            } else {
                let _ = t.close(fd);
            }
        }
    }
    Ok(0)
}

pub const F_SETFL: u32 = 4;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
pub const F_SETSIG: u32 = 10;
pub const F_GETSIG: u32 = 11;
pub const F_ADD_SEALS: u32 = 1033;
pub const F_GET_SEALS: u32 = 1034;

/// The signal-driven I/O part of `fcntl(fd, cmd, arg)`; `None` for other commands.
pub fn fcntl_async(file: &Arc<OpenFile>, fd: i32, cmd: u32, arg: u64) -> Option<SysResult> {
    Some(match cmd {
        F_SETOWN => set_owner(file, arg as u32 as i32),
        F_GETOWN => Ok(file.fown().owner.map_or(0, |(pid, group)| {
            let nr = task::view_nr(&pid) as i32;
            (if group { -nr } else { nr }) as isize as usize
        })),
        F_SETSIG => {
            if arg > crate::task::signal::NSIG as u64 {
                return Some(Err(Errno::EINVAL));
            }
            file.set_fown(|f| f.sig = arg as u32);
            Ok(0)
        }
        F_GETSIG => Ok(file.fown().sig as usize),
        F_ADD_SEALS => crate::fs::memfd::add_seals(file, arg as u32).map(|_| 0),
        F_GET_SEALS => crate::fs::memfd::get_seals(file).map(|s| s as usize),
        F_SETFL => {
            if arg as u32 & O_ASYNC != 0
                && file.flags() & O_ASYNC == 0
                && let Err(e) = file.ops().fasync(file)
            {
                return Some(Err(e));
            }
            file.set_fown(|f| f.fd = fd);
            file.set_status_flags(arg as u32);
            Ok(0)
        }
        _ => return None,
    })
}

/// `F_SETOWN`: a process (`pid` > 0) or process group (`-pid`) of the caller's PID
/// container (`ESRCH` if there is none), 0 for nobody.
fn set_owner(file: &OpenFile, pid: i32) -> SysResult {
    let owner = match pid {
        0 => None,
        i32::MIN => return Err(Errno::EINVAL),
        p => {
            let nr = p.unsigned_abs();
            let found = task::caller_pid_container()
                .lookup(nr)
                .ok_or(Errno::ESRCH)?;
            Some((found, p < 0))
        }
    };
    file.set_fown(|f| f.owner = owner);
    Ok(0)
}

const FALLOC_FL_KEEP_SIZE: u32 = 1;
const FALLOC_FL_PUNCH_HOLE: u32 = 2;
const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
/// The largest file size (`MAX_LFS_FILESIZE`).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// `fallocate(fd, mode, offset, len)` on a tmpfs file: mode 0 grows the file to cover the
/// range (pages come on first use, as a sparse tmpfs file's), `FALLOC_FL_KEEP_SIZE` alone
/// changes nothing, `FALLOC_FL_PUNCH_HOLE` (with `KEEP_SIZE`) and `FALLOC_FL_ZERO_RANGE`
/// zero the range. Other modes `EOPNOTSUPP`.
fn fallocate(fd: i32, mode: u32, offset: i64, len: i64) -> SysResult {
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if mode & !known != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & FALLOC_FL_PUNCH_HOLE != 0
        && (mode & FALLOC_FL_KEEP_SIZE == 0 || mode & FALLOC_FL_ZERO_RANGE != 0)
    {
        return Err(Errno::EINVAL);
    }
    let file = files().get(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let meta = file.stat()?;
    match meta.file_type() {
        FileType::Regular => {}
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Fifo => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    let (off, len) = (offset as u64, len as u64);
    let end = off
        .checked_add(len)
        .filter(|e| *e <= MAX_FILE_SIZE)
        .ok_or(Errno::EFBIG)?;
    if mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) != 0 {
        // Zero what lies inside the file; past its end is already zero.
        let stop = end.min(meta.size);
        if off < stop {
            let zeros = chunk_buf(stop - off)?;
            let mut at = off;
            while at < stop {
                let n = ((stop - at) as usize).min(zeros.len());
                file.pwrite(at, &zeros[..n])?;
                at += n as u64;
            }
        }
    }
    if mode & FALLOC_FL_KEEP_SIZE == 0 && end > meta.size {
        file.truncate(end)?;
    }
    Ok(0)
}

/// `pidfd_getfd(pidfd, targetfd, flags)`: a duplicate (close-on-exec) of another
/// process's descriptor. The caller must be allowed to trace it (Linux's
/// PTRACE_MODE_ATTACH_REALCREDS: the same real uid and gid as all of the target's, or
/// `CAP_SYS_PTRACE` over its user container): `EPERM` otherwise.
fn pidfd_getfd(pidfd: i32, targetfd: i32, flags: u32) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = files().get(pidfd)?;
    let p = task::pidfd::process_of(&file).ok_or(Errno::EBADF)?;
    if p.inner.lock().zombie.is_some() {
        return Err(Errno::ESRCH);
    }
    let me = task::current_cred();
    let them = p.cred();
    if !me.may_ptrace(&them, false) {
        return Err(Errno::EPERM);
    }
    let target = p.files().get(targetfd)?;
    files().install(target, true).map(|fd| fd as usize)
}

const UTIME_NOW: i64 = 0x3fff_ffff;
const UTIME_OMIT: i64 = 0x3fff_fffe;

/// One new timestamp: `None` to leave it (`UTIME_OMIT`), else the time (`UTIME_NOW`: now).
type NewTime = Option<Timespec>;

/// Sets the times of the file at `(dirfd, pathname)` (NULL `pathname`: `dirfd` itself, as
/// `futimens`). Setting them to now needs the owner, `CAP_FOWNER` or write permission
/// (`EACCES`); to other values the owner or `CAP_FOWNER` (`EPERM`); `EROFS` on a
/// read-only mount.
fn set_times(
    dirfd: i32,
    pathname: u64,
    flags: u32,
    times: [NewTime; 2],
    explicit: bool,
) -> SysResult {
    let (inode, path): (InodeRef, alloc::string::String) = if pathname == 0 {
        let file = files().get(dirfd)?;
        let inode = file.inode().ok_or(Errno::EBADF)?.clone();
        (inode, alloc::string::String::from(file.path()))
    } else {
        let p = user_path_maybe_empty(pathname, flags)?;
        let loc = resolve_at(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        (loc.inode, loc.path)
    };
    if times == [None, None] {
        return Ok(0);
    }
    writable_path(&path)?;
    let meta = inode.metadata();
    let caller = crate::fs::env::caller();
    if !caller.owns(&meta) {
        if explicit {
            return Err(Errno::EPERM);
        }
        if !caller.permits(&meta, crate::fs::vfs::MAY_WRITE) {
            return Err(Errno::EACCES);
        }
    }
    inode.set_times(times[0], times[1])?;
    Ok(0)
}

/// `utimensat(dirfd, pathname, times, flags)`: `UTIME_NOW` and `UTIME_OMIT` as Linux.
pub(super) fn utimensat(dirfd: i32, pathname: u64, times: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let now = crate::fs::env::now();
    if times == 0 {
        return set_times(dirfd, pathname, flags, [Some(now), Some(now)], false);
    }
    let raw: [i64; 4] = read_user(times)?;
    let mut new = [None; 2];
    let mut explicit = false;
    for i in 0..2 {
        let (sec, nsec) = (raw[2 * i], raw[2 * i + 1]);
        new[i] = match nsec {
            UTIME_OMIT => None,
            UTIME_NOW => Some(now),
            n if (0..1_000_000_000).contains(&n) => {
                explicit = true;
                Some(Timespec { sec, nsec: n })
            }
            _ => return Err(Errno::EINVAL),
        };
    }
    set_times(dirfd, pathname, flags, new, explicit)
}

/// `utimes(path, tv)` and `futimesat(dirfd, path, tv)`: microseconds (`EINVAL` out of
/// range); NULL `tv` is now.
fn utimes(dirfd: i32, pathname: u64, tv: u64) -> SysResult {
    if pathname == 0 && dirfd == AT_FDCWD {
        return Err(Errno::EFAULT);
    }
    let now = crate::fs::env::now();
    if tv == 0 {
        return set_times(dirfd, pathname, 0, [Some(now), Some(now)], false);
    }
    let raw: [i64; 4] = read_user(tv)?;
    let mut new = [None; 2];
    for i in 0..2 {
        let (sec, usec) = (raw[2 * i], raw[2 * i + 1]);
        if !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        new[i] = Some(Timespec {
            sec,
            nsec: usec * 1000,
        });
    }
    set_times(dirfd, pathname, 0, new, true)
}

/// `execveat(dirfd, pathname, argv, envp, flags)`: `execve` of the file `(dirfd,
/// pathname)` names, or with `AT_EMPTY_PATH` and an empty name of `dirfd` itself (by
/// the path it was opened with: a file unlinked since cannot be run this way, `ENOENT`);
/// `AT_SYMLINK_NOFOLLOW` refuses a final symlink (`ELOOP`).
pub(super) fn execveat(
    frame: &mut crate::arch::x86_64::trap::TrapFrame,
    a: [u64; 6],
) -> super::Ret {
    let r = (|| {
        let (dirfd, flags) = (a[0] as u32 as i32, a[4] as u32);
        if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
            return Err(Errno::EINVAL);
        }
        let name = crate::mm::user::read_user_cstr_bytes(a[1], 4095)?;
        let name = core::str::from_utf8(&name).map_err(|_| Errno::ENOENT)?;
        let canonical = if name.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return Err(Errno::ENOENT);
            }
            let file = files().get(dirfd)?;
            file.inode().ok_or(Errno::EACCES)?;
            alloc::string::String::from(file.path())
        } else {
            let loc = resolve_at(dirfd, name, flags & AT_SYMLINK_NOFOLLOW == 0)?;
            if loc.file_type() == FileType::Symlink {
                return Err(Errno::ELOOP);
            }
            loc.path
        };
        let path = super::fs::context().path_from_root(&canonical);
        let argv = crate::mm::user::read_user_strv(a[2], task::exec::ARG_MAX)?;
        let envp = crate::mm::user::read_user_strv(a[3], task::exec::ARG_MAX)?;
        task::exec::execve(frame, path.as_bytes(), argv, envp)
    })();
    match r {
        Ok(()) => super::Ret::Frame,
        Err(e) => super::Ret::Value(Err(e)),
    }
}

const SPLICE_F_NONBLOCK: u32 = 2;
/// SPLICE_F_MOVE, _NONBLOCK, _MORE, _GIFT.
const SPLICE_FLAGS: u32 = 0xf;

fn is_pipe(f: &OpenFile) -> bool {
    f.stat().is_ok_and(|m| m.file_type() == FileType::Fifo)
}

/// With `SPLICE_F_NONBLOCK`: `EAGAIN` unless the pipe side(s) can go on at once.
fn splice_ready(input: &OpenFile, output: &OpenFile, flags: u32) -> Result<(), Errno> {
    use crate::fs::file::{POLLHUP, POLLIN, POLLOUT};
    if flags & SPLICE_F_NONBLOCK == 0 {
        return Ok(());
    }
    if is_pipe(input) && input.poll() & (POLLIN | POLLHUP) == 0 {
        return Err(Errno::EAGAIN);
    }
    if is_pipe(output) && output.poll() & POLLOUT == 0 {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// The offset a `splice` side uses: `*addr` for a file (`ESPIPE` for a pipe), else
/// `None` (the file position).
fn splice_offset(f: &OpenFile, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if is_pipe(f) {
        return Err(Errno::ESPIPE);
    }
    let o: i64 = read_user(addr)?;
    u64::try_from(o).map(Some).map_err(|_| Errno::EINVAL)
}

/// `splice(fd_in, off_in, fd_out, off_out, len, flags)`: up to `len` bytes between a
/// pipe and a file or another pipe (`EINVAL` when neither is a pipe), in one step of at
/// most 64 KiB; 0 at the end of the input.
fn splice(fd_in: i32, off_in: u64, fd_out: i32, off_out: u64, len: u64, flags: u32) -> SysResult {
    if flags & !SPLICE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let t = files();
    let (input, output) = (t.get(fd_in)?, t.get(fd_out)?);
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    if !is_pipe(&input) && !is_pipe(&output) {
        return Err(Errno::EINVAL);
    }
    if !is_pipe(&output) && output.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let (src, dst) = (
        splice_offset(&input, off_in)?,
        splice_offset(&output, off_out)?,
    );
    if len == 0 {
        return Ok(0);
    }
    splice_ready(&input, &output, flags)?;
    let mut buf = chunk_buf(len)?;
    // A file input is read at its offset (or position) and advanced by what was written.
    let n = match (is_pipe(&input), src) {
        (true, _) => input.read(&mut buf)?,
        (false, Some(o)) => input.pread(o, &mut buf)?,
        (false, None) => input.pread(*input.pos().lock(), &mut buf)?,
    };
    if n == 0 {
        return Ok(0);
    }
    let w = match dst {
        Some(o) => output.pwrite(o, &buf[..n])?,
        None if is_pipe(&output) => write_all(&output, &buf[..n])?,
        None => {
            let at = *output.pos().lock();
            let w = output.pwrite(at, &buf[..n])?;
            *output.pos().lock() = at + w as u64;
            w
        }
    };
    if !is_pipe(&input) {
        match src {
            Some(o) => write_user(off_in, &((o + w as u64) as i64))?,
            None => *input.pos().lock() += w as u64,
        }
    }
    if let Some(o) = dst {
        write_user(off_out, &((o + w as u64) as i64))?;
    }
    Ok(w)
}

/// `tee(fd_in, fd_out, len, flags)`: copies up to `len` bytes from one pipe to another
/// without consuming them (`EINVAL` unless both are pipes, and different ones).
fn tee(fd_in: i32, fd_out: i32, len: u64, flags: u32) -> SysResult {
    if flags & !SPLICE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let t = files();
    let (input, output) = (t.get(fd_in)?, t.get(fd_out)?);
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    if !is_pipe(&input) || !is_pipe(&output) {
        return Err(Errno::EINVAL);
    }
    if input.stat()?.ino == output.stat()?.ino {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    splice_ready(&input, &output, flags)?;
    let mut buf = chunk_buf(len)?;
    let n = input.peek(&mut buf)?;
    if n == 0 {
        return Ok(0);
    }
    write_all(&output, &buf[..n])
}

/// `memfd_create(name, flags)`: `EINVAL` for a name over 249 bytes or unknown flags
/// (`MFD_HUGETLB` included: there are no huge pages).
fn memfd_create(name: u64, flags: u32) -> SysResult {
    let name =
        crate::mm::user::read_user_cstr(name, crate::fs::memfd::NAME_MAX + 1).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::EINVAL
            } else {
                e
            }
        })?;
    let (uid, gid) = crate::fs::env::current_ids();
    let half_of_ram = crate::mm::frame::counts().1 / 2;
    let file = crate::fs::memfd::create(&name, flags, uid, gid, half_of_ram)?;
    files()
        .install(file, flags & crate::fs::memfd::MFD_CLOEXEC != 0)
        .map(|fd| fd as usize)
}
