//! File system calls (Linux x86_64 numbers and semantics). Paths and buffers come from
//! user memory through `crate::mm::user`; everything else is `crate::fs`.

use super::table::{fd, syscalls};
use crate::cred::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID, CAP_MKNOD, CAP_SYS_ADMIN, CAP_SYS_CHROOT};
use crate::errno::{Errno, SysResult};
use crate::fs::env;
use crate::fs::file::*;
use crate::fs::mount::MountTable;
use crate::fs::vfs::{
    self, Caller, FileSystem, FileType, InodeRef, MAY_EXEC, MAY_WRITE, Metadata, S_IFMT, S_IFREG,
};
use crate::fs::walk::Loc;
use crate::fs::{FdTable, FsContext, OpenFile, path};
use crate::mm::user::{
    CSTR_INLINE, check_writable, copy_from_user, copy_to_user, read_user_cstr, read_user_cstr_in,
};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

pub(super) const AT_FDCWD: i32 = -100;
pub(super) const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
pub(super) const AT_SYMLINK_FOLLOW: u32 = 0x400;
const AT_NO_AUTOMOUNT: u32 = 0x800;
pub(super) const AT_EMPTY_PATH: u32 = 0x1000;
const AT_EACCESS: u32 = 0x200;
const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// Largest kernel buffer one read/write call uses; regular files loop over it.
pub(super) const IO_CHUNK: usize = 64 * 1024;
/// `IOV_MAX`.
const IOV_MAX: usize = 1024;

syscalls! {
    frame, a;
    0 => read(fd(a[0]), a[1], a[2]),
    1 => write(fd(a[0]), a[1], a[2]),
    2 => openat(AT_FDCWD, a[0], a[1] as u32, a[2] as u32),
    3 => files().close(fd(a[0])).map(|_| 0),
    4 => fstatat(AT_FDCWD, a[0], a[1], 0),
    5 => fstat(fd(a[0]), a[1]),
    6 => fstatat(AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW),
    8 => lseek(fd(a[0]), a[1] as i64, a[2] as u32),
    16 => ioctl(fd(a[0]), a[1] as u32, a[2]),
    17 => pread(fd(a[0]), a[1], a[2], a[3] as i64),
    18 => pwrite(fd(a[0]), a[1], a[2], a[3] as i64),
    19 => readv(fd(a[0]), a[1], a[2]),
    20 => writev(fd(a[0]), a[1], a[2]),
    21 => faccessat(AT_FDCWD, a[0], a[1] as u32, 0),
    22 => pipe2(a[0], 0),
    32 => files().dup(fd(a[0])).map(|f| f as usize),
    33 => dup2(fd(a[0]), fd(a[1])),
    72 => fcntl(fd(a[0]), a[1] as u32, a[2]),
    73 => files()
        .get(fd(a[0]))
        .and_then(|f| super::lock::flock(&f, a[1])),
    74 | 75 => files().get(fd(a[0])).map(|_| 0),
    76 => truncate(a[0], a[1] as i64),
    77 => ftruncate(fd(a[0]), a[1] as i64),
    79 => getcwd(a[0], a[1]),
    80 => chdir(a[0]),
    81 => fchdir(fd(a[0])),
    82 => renameat2(AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
    83 => mkdirat(AT_FDCWD, a[0], a[1] as u32),
    84 => unlinkat(AT_FDCWD, a[0], AT_REMOVEDIR),
    85 => openat(AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1] as u32),
    86 => linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
    87 => unlinkat(AT_FDCWD, a[0], 0),
    88 => symlinkat(a[0], AT_FDCWD, a[1]),
    89 => readlinkat(AT_FDCWD, a[0], a[1], a[2]),
    90 => fchmodat(AT_FDCWD, a[0], a[1] as u32),
    91 => fchmod(fd(a[0]), a[1] as u32),
    92 => fchownat(AT_FDCWD, a[0], a[1] as u32, a[2] as u32, 0),
    93 => fchown(fd(a[0]), a[1] as u32, a[2] as u32),
    94 => fchownat(
        AT_FDCWD,
        a[0],
        a[1] as u32,
        a[2] as u32,
        AT_SYMLINK_NOFOLLOW,
    ),
    95 => Ok(context().set_umask(a[0] as u32) as usize),
    133 => mknodat(AT_FDCWD, a[0], a[1] as u32, a[2]),
    161 => chroot(a[0]),
    162 | 306 => Ok(0),
    165 => mount(a[0], a[1], a[2], a[3], a[4]),
    166 => umount2(a[0], a[1] as u32),
    155 => pivot_root(a[0], a[1]),
    217 => getdents64(fd(a[0]), a[1], a[2]),
    221 => files().get(fd(a[0])).map(|_| 0), // fadvise64: advice only
    257 => openat(fd(a[0]), a[1], a[2] as u32, a[3] as u32),
    258 => mkdirat(fd(a[0]), a[1], a[2] as u32),
    259 => mknodat(fd(a[0]), a[1], a[2] as u32, a[3]),
    260 => fchownat(fd(a[0]), a[1], a[2] as u32, a[3] as u32, a[4] as u32),
    262 => fstatat(fd(a[0]), a[1], a[2], a[3] as u32),
    263 => unlinkat(fd(a[0]), a[1], a[2] as u32),
    264 => renameat2(fd(a[0]), a[1], fd(a[2]), a[3], 0),
    265 => linkat(fd(a[0]), a[1], fd(a[2]), a[3], a[4] as u32),
    266 => symlinkat(a[0], fd(a[1]), a[2]),
    267 => readlinkat(fd(a[0]), a[1], a[2], a[3]),
    268 => fchmodat(fd(a[0]), a[1], a[2] as u32),
    269 => faccessat(fd(a[0]), a[1], a[2] as u32, 0),
    280 => super::fsext::utimensat(fd(a[0]), a[1], a[2], a[3] as u32),
    292 => dup3(fd(a[0]), fd(a[1]), a[2] as u32),
    293 => pipe2(a[0], a[1] as u32),
    316 => renameat2(fd(a[0]), a[1], fd(a[2]), a[3], a[4] as u32),
    332 => statx(fd(a[0]), a[1], a[2] as u32, a[4]),
    439 => faccessat(fd(a[0]), a[1], a[2] as u32, a[3] as u32),
}

// Through the borrowed running thread: no reference to the thread taken per call.
pub(super) fn files() -> Arc<FdTable> {
    crate::task::sched::with_current(|t| t.process().files())
}

pub(super) fn context() -> Arc<FsContext> {
    crate::task::sched::with_current(|t| t.process().fs())
}

/// A path from user memory: `ENAMETOOLONG` past `PATH_MAX - 1` bytes, `EFAULT`,
/// `EINVAL` if not UTF-8.
pub(super) fn read_user_path(addr: u64) -> Result<String, Errno> {
    read_user_cstr(addr, path::PATH_MAX - 1)
}

pub(super) fn user_path(addr: u64) -> Result<String, Errno> {
    let p = read_user_path(addr)?;
    if p.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// [`user_path`] copied into `buf` when it fits (the usual case: no heap allocation).
pub(super) fn user_path_in(addr: u64, buf: &mut [u8; CSTR_INLINE]) -> Result<Cow<'_, str>, Errno> {
    let p = read_user_cstr_in(addr, path::PATH_MAX - 1, buf)?;
    if p.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// A path that may be empty (with `AT_EMPTY_PATH`).
pub(super) fn user_path_maybe_empty(addr: u64, flags: u32) -> Result<String, Errno> {
    let p = read_user_path(addr)?;
    if p.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// The location an fd refers to.
pub(super) fn fd_loc(file: &OpenFile) -> Result<Loc, Errno> {
    let inode = file.inode().ok_or(Errno::ENOTDIR)?.clone();
    Ok(Loc {
        path: String::from(file.path()),
        inode,
    })
}

/// The directory a `*at` call resolves `path` from (`None`: the working directory).
fn base_dir(dirfd: i32, p: &str) -> Result<Option<Loc>, Errno> {
    if path::is_absolute(p) || dirfd == AT_FDCWD {
        return Ok(None);
    }
    let loc = fd_loc(files().get(dirfd)?.as_ref())?;
    if loc.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(Some(loc))
}

/// Resolves `(dirfd, path)`; an empty path (with `AT_EMPTY_PATH`) is `dirfd` itself.
pub(super) fn resolve_at(dirfd: i32, p: &str, follow: bool) -> Result<Loc, Errno> {
    if p.is_empty() {
        return if dirfd == AT_FDCWD {
            Ok(context().cwd())
        } else {
            fd_loc(files().get(dirfd)?.as_ref())
        };
    }
    let base = base_dir(dirfd, p)?;
    context().resolve_at(base.as_ref(), p, follow)
}

/// [`resolve_at`] for a caller that wants only the inode (the walk makes no path
/// `String`).
fn resolve_inode_at(dirfd: i32, p: &str, follow: bool) -> Result<InodeRef, Errno> {
    if p.is_empty() {
        return resolve_at(dirfd, p, follow).map(|l| l.inode);
    }
    let base = base_dir(dirfd, p)?;
    context().resolve_inode_at(base.as_ref(), p, follow)
}

pub(super) fn parent_at(dirfd: i32, p: &str) -> Result<crate::fs::walk::Parent, Errno> {
    let base = base_dir(dirfd, p)?;
    context().resolve_parent_at(base.as_ref(), p)
}

/// `bind` of an AF_UNIX socket to `p`: creates the socket inode (mode 0777 less the
/// umask); `EADDRINUSE` if the name exists.
pub(crate) fn make_socket_inode(p: &str) -> Result<InodeRef, Errno> {
    let parent = parent_at(AT_FDCWD, p)?;
    if is_dot(&parent.name) {
        return Err(Errno::EADDRINUSE);
    }
    may_create(&parent.dir, &parent.name, &env::caller()).map_err(|e| match e {
        Errno::EEXIST => Errno::EADDRINUSE,
        e => e,
    })?;
    let (uid, gid) = env::current_ids();
    let perm = 0o777 & !context().umask();
    parent
        .dir
        .inode
        .create(&parent.name, vfs::S_IFSOCK | perm, uid, gid, 0)
}

/// `connect` of an AF_UNIX socket to `p`: the inode there, which the caller must be
/// allowed to write (`EACCES`).
pub(crate) fn socket_inode_at(p: &str) -> Result<InodeRef, Errno> {
    let loc = resolve_at(AT_FDCWD, p, true)?;
    if !vfs::permits(&loc.inode.metadata(), &env::caller(), MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    Ok(loc.inode)
}

fn is_dot(name: &str) -> bool {
    name.is_empty() || name == "." || name == ".."
}

// ---- reading and writing ----

fn is_regular(file: &OpenFile) -> bool {
    file.inode()
        .is_some_and(|i| i.metadata().file_type() == FileType::Regular)
}

fn read(fd: i32, buf: u64, count: u64) -> SysResult {
    let file = files().get(fd)?;
    read_into(&file, buf, count as usize, None)
}

/// Reads into user memory at `buf`: one call for pipes and devices, chunks until short
/// for regular files. `offset` makes it a `pread`.
pub(super) fn read_into(file: &OpenFile, buf: u64, count: usize, offset: Option<u64>) -> SysResult {
    if count == 0 {
        return if file.readable() {
            Ok(0)
        } else {
            Err(Errno::EBADF)
        };
    }
    if offset.is_none()
        && file.readable()
        && let Some(r) = file.ops().read_user(file, buf, count)
    {
        return r;
    }
    // Check the destination first, so a bad buffer does not consume data (the first
    // chunk: a huge count must not fault in a huge mapping here).
    check_writable(buf, count.min(IO_CHUNK))?;
    let regular = is_regular(file);
    let mut done = 0;
    let mut kbuf = vec![0u8; count.min(IO_CHUNK)];
    while done < count {
        let want = (count - done).min(kbuf.len());
        let n = match offset {
            Some(off) => file.pread(off + done as u64, &mut kbuf[..want]),
            None => file.read(&mut kbuf[..want]),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        match copy_to_user(buf + done as u64, &kbuf[..n]) {
            Ok(()) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
        if n < want || !regular || long_io_interrupted() {
            break;
        }
    }
    Ok(done)
}

/// Between the chunks of a long transfer: lets other threads run when the time slice is
/// over (the kernel is not preempted), and says whether a signal arrived (the transfer
/// then ends with what it did, as Linux's do).
fn long_io_interrupted() -> bool {
    use crate::task::sched;
    if sched::need_resched() {
        sched::yield_now();
    }
    crate::task::signal::has_pending(&sched::current())
}

fn write(fd: i32, buf: u64, count: u64) -> SysResult {
    let file = files().get(fd)?;
    write_from(&file, buf, count as usize, None)
}

pub(super) fn write_from(
    file: &OpenFile,
    buf: u64,
    count: usize,
    offset: Option<u64>,
) -> SysResult {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    if offset.is_none()
        && let Some(r) = file.ops().write_user(file, buf, count)
    {
        return r;
    }
    let mut done = 0;
    let mut kbuf = vec![0u8; count.min(IO_CHUNK)];
    while done < count {
        let want = (count - done).min(kbuf.len());
        match copy_from_user(buf + done as u64, &mut kbuf[..want]) {
            Ok(()) => {}
            Err(e) if done == 0 => return Err(e),
            // The source ends: what was written counts (never the stale buffer).
            Err(_) => break,
        }
        let n = match offset {
            Some(off) => file.pwrite(off + done as u64, &kbuf[..want]),
            None => file.write(&kbuf[..want]),
        };
        match n {
            Ok(n) => {
                done += n;
                if n < want || long_io_interrupted() {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

fn pread(fd: i32, buf: u64, count: u64, offset: i64) -> SysResult {
    let off = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let file = files().get(fd)?;
    read_into(&file, buf, count as usize, Some(off))
}

fn pwrite(fd: i32, buf: u64, count: u64, offset: i64) -> SysResult {
    let off = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let file = files().get(fd)?;
    write_from(&file, buf, count as usize, Some(off))
}

/// Reads an iovec array: (base, len) pairs.
pub(super) fn read_iovecs(iov: u64, cnt: u64) -> Result<Vec<(u64, usize)>, Errno> {
    let cnt = usize::try_from(cnt).map_err(|_| Errno::EINVAL)?;
    if cnt > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; cnt * 16];
    copy_from_user(iov, &mut raw)?;
    let mut total: usize = 0;
    let v: Vec<(u64, usize)> = raw
        .chunks_exact(16)
        .map(|c| {
            let base = u64::from_le_bytes(c[0..8].try_into().unwrap_or_default());
            let len = u64::from_le_bytes(c[8..16].try_into().unwrap_or_default()) as usize;
            (base, len)
        })
        .collect();
    for (_, len) in &v {
        total = total
            .checked_add(*len)
            .filter(|t| *t <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
    }
    Ok(v)
}

/// Transfers the buffers `iovs` in turn with `io(base, len, done)` (`done`: the bytes
/// moved so far), up to the first short one: the total, or the first error when nothing
/// moved (readv(2), writev(2) and their positioned forms).
pub(super) fn each_iovec(
    iovs: Vec<(u64, usize)>,
    mut io: impl FnMut(u64, usize, usize) -> SysResult,
) -> SysResult {
    let mut done = 0usize;
    for (base, len) in iovs {
        match io(base, len, done) {
            Ok(n) => {
                done += n;
                if n < len {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

pub(super) fn readv(fd: i32, iov: u64, cnt: u64) -> SysResult {
    let file = files().get(fd)?;
    let iovs = read_iovecs(iov, cnt)?;
    let total: usize = iovs.iter().map(|(_, l)| l).sum();
    let cap = total.min(16 * IO_CHUNK);
    // Check the destinations first (the part one call can fill).
    let mut left = cap;
    for (base, len) in &iovs {
        let n = (*len).min(left);
        check_writable(*base, n)?;
        left -= n;
    }
    // One read for the whole vector, so a pipe delivers what it has at once.
    let mut kbuf = vec![0u8; cap];
    let n = if kbuf.is_empty() {
        0
    } else {
        file.read(&mut kbuf)?
    };
    let mut off = 0;
    for (base, len) in iovs {
        if off >= n {
            break;
        }
        let k = len.min(n - off);
        copy_to_user(base, &kbuf[off..off + k])?;
        off += k;
    }
    Ok(n)
}

pub(super) fn writev(fd: i32, iov: u64, cnt: u64) -> SysResult {
    let file = files().get(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let iovs = read_iovecs(iov, cnt)?;
    let total: usize = iovs.iter().map(|(_, l)| l).sum();
    if total > 16 * IO_CHUNK {
        // Too much to gather: one write per buffer, up to the first short one.
        return each_iovec(iovs, |base, len, _| write_from(&file, base, len, None));
    }
    // Gathered, so a write to a pipe stays one write.
    let mut kbuf = Vec::with_capacity(total);
    for (base, len) in iovs {
        let start = kbuf.len();
        kbuf.resize(start + len, 0);
        copy_from_user(base, &mut kbuf[start..])?;
    }
    if kbuf.is_empty() {
        return Ok(0);
    }
    file.write(&kbuf)
}

fn lseek(fd: i32, offset: i64, whence: u32) -> SysResult {
    files().get(fd)?.seek(offset, whence).map(|p| p as usize)
}

fn getdents64(fd: i32, buf: u64, count: u64) -> SysResult {
    let file = files().get(fd)?;
    let count = (count as usize).min(IO_CHUNK);
    check_writable(buf, count)?;
    let mut kbuf = vec![0u8; count];
    let n = file.getdents64(&mut kbuf)?;
    copy_to_user(buf, &kbuf[..n])?;
    Ok(n)
}

// ---- open, pipes, descriptors ----

fn openat(dirfd: i32, pathname: u64, flags: u32, mode: u32) -> SysResult {
    let mut buf = [0; CSTR_INLINE];
    let p = user_path_in(pathname, &mut buf)?;
    open_restricted(dirfd, &p, flags, mode, 0)
}

/// `openat`, with `openat2`'s `RESOLVE_*` restrictions `rules` on the path walk.
pub(super) fn open_restricted(dirfd: i32, p: &str, flags: u32, mode: u32, rules: u64) -> SysResult {
    if flags & O_TMPFILE == O_TMPFILE {
        return Err(Errno::EOPNOTSUPP);
    }
    let follow = flags & O_NOFOLLOW == 0;
    let base = restricted_base(dirfd, p, rules)?;
    let loc = match context().resolve_open(base.as_ref(), p, follow, rules) {
        Ok(loc) => {
            if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
                return Err(Errno::EEXIST);
            }
            if flags & O_CREAT != 0 && loc.file_type() == FileType::Directory {
                return Err(Errno::EISDIR);
            }
            loc
        }
        Err(Errno::ENOENT) if flags & O_CREAT != 0 => {
            // The context only for creating (a plain open's walk takes its own).
            let ctx = context();
            let parent = if rules == 0 {
                parent_at(dirfd, p)?
            } else {
                ctx.resolve_parent_restricted(base.as_ref(), p, rules)?
            };
            if parent.trailing_slash || is_dot(&parent.name) {
                return Err(Errno::EISDIR);
            }
            if parent.dir.inode.lookup(&parent.name).is_ok() {
                // A dangling symlink: Linux would create its target; not supported.
                return Err(if flags & O_EXCL != 0 {
                    Errno::EEXIST
                } else {
                    Errno::ENOENT
                });
            }
            may_create(&parent.dir, &parent.name, &env::caller())?;
            let (uid, gid) = env::current_ids();
            let perm = mode & vfs::MODE_PERM & !ctx.umask();
            let inode = parent
                .dir
                .inode
                .create(&parent.name, S_IFREG | perm, uid, gid, 0)?;
            Loc {
                path: path::join(&parent.dir.path, &parent.name),
                inode,
            }
        }
        Err(e) => return Err(e),
    };
    let file = crate::fs::open_loc(loc, flags)?;
    files()
        .install(file, flags & O_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

/// The start of a restricted walk: `dirfd` for a relative path or a scoped walk (whose
/// root it is), else the root.
fn restricted_base(dirfd: i32, p: &str, rules: u64) -> Result<Option<Loc>, Errno> {
    use crate::fs::walk::{RESOLVE_BENEATH, RESOLVE_IN_ROOT};
    let scoped = rules & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
    if dirfd == AT_FDCWD || (path::is_absolute(p) && !scoped) {
        return Ok(None);
    }
    let loc = fd_loc(files().get(dirfd)?.as_ref())?;
    if loc.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(Some(loc))
}

fn pipe2(fds: u64, flags: u32) -> SysResult {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = crate::fs::pipe::new_pipe(flags)?;
    let table = files();
    let cloexec = flags & O_CLOEXEC != 0;
    let rfd = table.install(r, cloexec)?;
    let wfd = match table.install(w, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = table.close(rfd);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_le_bytes());
    out[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = copy_to_user(fds, &out) {
        let _ = table.close(rfd);
        let _ = table.close(wfd);
        return Err(e);
    }
    Ok(0)
}

fn dup2(old: i32, new: i32) -> SysResult {
    let t = files();
    if old == new {
        return t.get(old).map(|_| new as usize);
    }
    t.dup_to(old, new, false).map(|fd| fd as usize)
}

fn dup3(old: i32, new: i32, flags: u32) -> SysResult {
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    files()
        .dup_to(old, new, flags & O_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

fn fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    const F_DUPFD: u32 = 0;
    const F_GETFD: u32 = 1;
    const F_SETFD: u32 = 2;
    const F_GETFL: u32 = 3;
    use super::lock::{F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLK, F_SETLKW};
    const F_SETPIPE_SZ: u32 = 1031;
    const F_GETPIPE_SZ: u32 = 1032;
    const F_DUPFD_CLOEXEC: u32 = 1030;
    const FD_CLOEXEC: u64 = 1;
    let t = files();
    let file = t.get(fd)?;
    if let Some(r) = super::fsext::fcntl_async(&file, fd, cmd, arg) {
        return r;
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(arg as u32 as i32).map_err(|_| Errno::EINVAL)?;
            t.install_from(min, file, cmd == F_DUPFD_CLOEXEC)
                .map(|fd| fd as usize)
        }
        F_GETFD => t.cloexec(fd).map(|c| c as usize),
        F_SETFD => t.set_cloexec(fd, arg & FD_CLOEXEC != 0).map(|_| 0),
        F_GETFL => Ok(file.flags() as usize),
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW => {
            super::lock::fcntl_lock(&file, cmd, arg)
        }
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            if file.stat()?.file_type() != FileType::Fifo {
                return Err(Errno::EBADF);
            }
            Ok(crate::fs::pipe::PIPE_CAPACITY)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn ioctl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    const FIONCLEX: u32 = 0x5450;
    const FIOCLEX: u32 = 0x5451;
    const FIONBIO: u32 = 0x5421;
    let t = files();
    let file = t.get(fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => t.set_cloexec(fd, cmd == FIOCLEX).map(|_| 0),
        FIONBIO => {
            let mut v = [0u8; 4];
            copy_from_user(arg, &mut v)?;
            let flags = file.flags() & !O_NONBLOCK;
            file.set_status_flags(if i32::from_le_bytes(v) != 0 {
                flags | O_NONBLOCK
            } else {
                flags
            });
            Ok(0)
        }
        _ => file.ioctl(cmd, arg),
    }
}

fn ftruncate(fd: i32, len: i64) -> SysResult {
    let size = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
    let file = files().get(fd)?;
    if file.stat()?.file_type() == FileType::Directory {
        return Err(Errno::EISDIR);
    }
    file.truncate(size).map(|_| 0)
}

fn truncate(pathname: u64, len: i64) -> SysResult {
    let size = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
    let loc = resolve_at(AT_FDCWD, &user_path(pathname)?, true)?;
    match loc.file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => {
            if !vfs::permits(&loc.inode.metadata(), &env::caller(), MAY_WRITE) {
                return Err(Errno::EACCES);
            }
            writable(&loc)?;
            loc.inode.truncate(size).map(|_| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

// ---- metadata ----

fn stat_bytes(m: &Metadata) -> [u8; 144] {
    let mut b = [0u8; 144];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(0, m.dev);
    put(8, m.ino);
    put(16, m.nlink as u64);
    // Owners are kernel ids: show them as the caller's user container sees them.
    let (uid, gid) = env::view_ids(m.uid, m.gid);
    put(24, m.mode as u64 | ((uid as u64) << 32));
    put(32, gid as u64);
    put(40, m.rdev);
    put(48, m.size);
    put(56, m.blksize as u64);
    put(64, m.blocks);
    put(72, m.atime.sec as u64);
    put(80, m.atime.nsec as u64);
    put(88, m.mtime.sec as u64);
    put(96, m.mtime.nsec as u64);
    put(104, m.ctime.sec as u64);
    put(112, m.ctime.nsec as u64);
    b
}

fn fstat(fd: i32, buf: u64) -> SysResult {
    let m = files().get(fd)?.stat()?;
    copy_to_user(buf, &stat_bytes(&m))?;
    Ok(0)
}

fn fstatat(dirfd: i32, pathname: u64, buf: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let m = stat_at(dirfd, pathname, flags)?;
    copy_to_user(buf, &stat_bytes(&m))?;
    Ok(0)
}

fn stat_at(dirfd: i32, pathname: u64, flags: u32) -> Result<Metadata, Errno> {
    let p = user_path_maybe_empty(pathname, flags)?;
    if p.is_empty() && dirfd != AT_FDCWD {
        return files().get(dirfd)?.stat();
    }
    Ok(resolve_inode_at(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?.metadata())
}

fn statx(dirfd: i32, pathname: u64, flags: u32, buf: u64) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let m = stat_at(dirfd, pathname, flags)?;
    let mut b = [0u8; 256];
    let put32 =
        |b: &mut [u8; 256], off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    let put64 =
        |b: &mut [u8; 256], off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put32(&mut b, 0, 0x7ff); // STATX_BASIC_STATS
    put32(&mut b, 4, m.blksize);
    put32(&mut b, 16, m.nlink);
    let (uid, gid) = env::view_ids(m.uid, m.gid);
    put32(&mut b, 20, uid);
    put32(&mut b, 24, gid);
    b[28..30].copy_from_slice(&(m.mode as u16).to_le_bytes());
    put64(&mut b, 32, m.ino);
    put64(&mut b, 40, m.size);
    put64(&mut b, 48, m.blocks);
    for (off, t) in [(64, m.atime), (96, m.ctime), (112, m.mtime)] {
        put64(&mut b, off, t.sec as u64);
        put32(&mut b, off + 8, t.nsec as u32);
    }
    put32(&mut b, 128, vfs::major(m.rdev));
    put32(&mut b, 132, vfs::minor(m.rdev));
    put32(&mut b, 136, vfs::major(m.dev));
    put32(&mut b, 140, vfs::minor(m.dev));
    copy_to_user(buf, &b)?;
    Ok(0)
}

fn faccessat(dirfd: i32, pathname: u64, mode: u32, flags: u32) -> SysResult {
    if mode & !7 != 0 || flags & !(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = user_path_maybe_empty(pathname, flags)?;
    let loc = resolve_at(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    let meta = loc.inode.metadata();
    if mode != 0 && !vfs::permits(&meta, &access_caller(flags), mode) {
        return Err(Errno::EACCES);
    }
    // Linux (SuS): write access to a file (not a device, fifo or socket) on a read-only
    // mount is EROFS, once the permission bits allow it.
    const W_OK: u32 = 2;
    let special = matches!(
        meta.file_type(),
        FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket
    );
    if mode & W_OK != 0 && !special && context().mounts().read_only(&loc.path) {
        return Err(Errno::EROFS);
    }
    Ok(0)
}

/// The caller of `access`/`faccessat`: the real uid and gid instead of the filesystem
/// ones, and (capabilities(7)) the permitted set if the real uid is root in its user
/// container, none otherwise; `AT_EACCESS` checks as `open` does.
fn access_caller(flags: u32) -> Caller {
    let mut c = env::caller();
    if flags & AT_EACCESS != 0 {
        return c;
    }
    if let Some(cred) = env::current_cred() {
        c.uid = cred.uid;
        c.gid = cred.gid;
        let root = cred.user.uid_to_kernel(0) == Some(cred.uid);
        c.caps = if root { cred.cap_permitted } else { 0 };
    }
    c
}

/// `chmod`: the owner or `CAP_FOWNER`; the set-group-id bit is dropped when the caller
/// is not in the file's group and lacks `CAP_FSETID` (Linux's `setattr_prepare`).
fn chmod_inode(inode: &InodeRef, mode: u32) -> SysResult {
    let meta = inode.metadata();
    let caller = env::caller();
    if !caller.owns(&meta) {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & vfs::MODE_PERM;
    if !caller.in_group(meta.gid) && !caller.capable_over(CAP_FSETID, &meta) {
        mode &= !S_ISGID;
    }
    inode.chmod(mode).map(|_| 0)
}

fn fchmod(fd: i32, mode: u32) -> SysResult {
    let file = files().get(fd)?;
    let inode = file.inode().ok_or(Errno::EPERM)?;
    writable_path(file.path())?;
    chmod_inode(inode, mode)
}

fn fchmodat(dirfd: i32, pathname: u64, mode: u32) -> SysResult {
    let loc = resolve_at(dirfd, &user_path(pathname)?, true)?;
    writable(&loc)?;
    chmod_inode(&loc.inode, mode)
}

fn id_arg(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;
const S_IXGRP: u32 = 0o010;

/// Linux's `chown_ok`/`chgrp_ok`: ids are the caller's (`EINVAL` if its user container
/// does not map them); the owner may "change" the owner to itself and the group to one
/// of its groups, anything else needs `CAP_CHOWN` over the file. A non-directory loses
/// its set-user-id bit, and its set-group-id bit when group-executable.
fn chown_inode(inode: &InodeRef, uid: u32, gid: u32) -> SysResult {
    let caller = env::caller();
    let uid = id_arg(uid)
        .map(|u| caller.kernel_uid(u).ok_or(Errno::EINVAL))
        .transpose()?;
    let gid = id_arg(gid)
        .map(|g| caller.kernel_gid(g).ok_or(Errno::EINVAL))
        .transpose()?;
    let meta = inode.metadata();
    let owner = caller.uid == meta.uid;
    let may_chown = || caller.capable_over(CAP_CHOWN, &meta);
    if uid.is_some_and(|u| !(owner && u == meta.uid)) && !may_chown() {
        return Err(Errno::EPERM);
    }
    if gid.is_some_and(|g| !(owner && (g == meta.gid || caller.in_group(g)))) && !may_chown() {
        return Err(Errno::EPERM);
    }
    inode.chown(uid, gid)?;
    if !meta.is_dir() && meta.mode & (S_ISUID | S_ISGID) != 0 {
        let mut mode = meta.mode & vfs::MODE_PERM & !S_ISUID;
        if mode & S_IXGRP != 0 {
            mode &= !S_ISGID;
        }
        inode.chmod(mode)?;
    }
    Ok(0)
}

fn fchown(fd: i32, uid: u32, gid: u32) -> SysResult {
    let file = files().get(fd)?;
    let inode = file.inode().ok_or(Errno::EPERM)?;
    writable_path(file.path())?;
    chown_inode(inode, uid, gid)
}

fn fchownat(dirfd: i32, pathname: u64, uid: u32, gid: u32, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = user_path_maybe_empty(pathname, flags)?;
    let loc = resolve_at(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    writable(&loc)?;
    chown_inode(&loc.inode, uid, gid)
}

/// Linux's `may_create`: `EEXIST` if `name` exists in `dir`, else write and search
/// permission on `dir` (`EACCES`).
pub(super) fn may_create(dir: &Loc, name: &str, caller: &Caller) -> Result<(), Errno> {
    let dir_loc = dir;
    let dir = &dir.inode;
    if dir.lookup(name).is_ok() {
        return Err(Errno::EEXIST);
    }
    writable(dir_loc)?;
    if !vfs::permits(&dir.metadata(), caller, MAY_WRITE | MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// `EROFS` when `loc` lies on a read-only mount of the caller's tree.
pub(super) fn writable(loc: &Loc) -> Result<(), Errno> {
    writable_path(&loc.path)
}

/// `EROFS` when canonical `path` lies on a read-only mount of the caller's tree.
pub(super) fn writable_path(path: &str) -> Result<(), Errno> {
    if context().mounts().read_only(path) {
        return Err(Errno::EROFS);
    }
    Ok(())
}

/// Linux's `may_delete`: write and search permission on `dir` (`EACCES`), and in a
/// sticky directory the caller must own the file or the directory or have
/// `CAP_FOWNER` over the file (`EPERM`).
fn may_delete(dir: &Loc, name: &str, caller: &Caller) -> Result<(), Errno> {
    let dir_loc = dir;
    let dir = &dir.inode;
    let victim = dir.lookup(name)?.metadata();
    writable(dir_loc)?;
    let d = dir.metadata();
    if !vfs::permits(&d, caller, MAY_WRITE | MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    if d.mode & S_ISVTX != 0
        && caller.uid != victim.uid
        && caller.uid != d.uid
        && !caller.capable_over(CAP_FOWNER, &victim)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

// ---- the directory tree ----

fn getcwd(buf: u64, size: u64) -> SysResult {
    let ctx = context();
    let cwd = ctx.path_from_root(&ctx.cwd().path);
    let len = cwd.len() + 1;
    if (size as usize) < len {
        return Err(Errno::ERANGE);
    }
    let mut out = cwd.into_bytes();
    out.push(0);
    copy_to_user(buf, &out)?;
    Ok(len)
}

fn enter_dir(loc: Loc) -> SysResult {
    let meta = loc.inode.metadata();
    if !meta.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if !vfs::permits(&meta, &env::caller(), MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    context().set_cwd(loc);
    Ok(0)
}

/// `chroot`: a searchable directory (`ENOTDIR`, `EACCES`) and `CAP_SYS_CHROOT` in the
/// caller's user container (`EPERM`). The working directory stays where it is.
fn chroot(pathname: u64) -> SysResult {
    let ctx = context();
    let loc = ctx.resolve(&user_path(pathname)?, true)?;
    let meta = loc.inode.metadata();
    if !meta.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let caller = env::caller();
    if !vfs::permits(&meta, &caller, MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    if !caller.capable(CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    ctx.set_root(loc);
    Ok(0)
}

fn chdir(pathname: u64) -> SysResult {
    enter_dir(resolve_at(AT_FDCWD, &user_path(pathname)?, true)?)
}

fn fchdir(fd: i32) -> SysResult {
    enter_dir(fd_loc(files().get(fd)?.as_ref())?)
}

fn mkdirat(dirfd: i32, pathname: u64, mode: u32) -> SysResult {
    let p = user_path(pathname)?;
    let parent = parent_at(dirfd, &p)?;
    if is_dot(&parent.name) {
        return Err(Errno::EEXIST);
    }
    may_create(&parent.dir, &parent.name, &env::caller())?;
    let (uid, gid) = env::current_ids();
    let perm = mode & vfs::MODE_PERM & !context().umask();
    parent
        .dir
        .inode
        .mkdir(&parent.name, perm, uid, gid)
        .map(|_| 0)
}

fn mknodat(dirfd: i32, pathname: u64, mode: u32, dev: u64) -> SysResult {
    let p = user_path(pathname)?;
    let ftype = match mode & S_IFMT {
        0 => FileType::Regular,
        m => FileType::from_mode(m).ok_or(Errno::EINVAL)?,
    };
    if ftype == FileType::Directory || ftype == FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let parent = parent_at(dirfd, &p)?;
    if is_dot(&parent.name) {
        return Err(Errno::EEXIST);
    }
    may_create(&parent.dir, &parent.name, &env::caller())?;
    // Device nodes need CAP_MKNOD in the root user container (Linux's `capable`).
    if matches!(ftype, FileType::CharDevice | FileType::BlockDevice) {
        env::require_cap(CAP_MKNOD)?;
    }
    let (uid, gid) = env::current_ids();
    let perm = mode & vfs::MODE_PERM & !context().umask();
    let rdev = vfs::makedev(
        ((dev >> 8) & 0xfff) as u32,
        ((dev & 0xff) | ((dev >> 12) & 0xfff00)) as u32,
    );
    parent
        .dir
        .inode
        .create(&parent.name, ftype.mode_bits() | perm, uid, gid, rdev)
        .map(|_| 0)
}

fn is_mount_point(mounts: &MountTable, p: &str) -> bool {
    mounts.mount_at(p).is_some()
}

fn unlinkat(dirfd: i32, pathname: u64, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let p = user_path(pathname)?;
    let parent = parent_at(dirfd, &p)?;
    let ctx = context();
    let full = path::join(&parent.dir.path, &parent.name);
    if flags & AT_REMOVEDIR != 0 {
        match parent.name.as_str() {
            "" => return Err(Errno::EBUSY),
            "." => return Err(Errno::EINVAL),
            ".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        may_delete(&parent.dir, &parent.name, &env::caller())?;
        if is_mount_point(ctx.mounts(), &full) {
            return Err(Errno::EBUSY);
        }
        parent.dir.inode.rmdir(&parent.name)?;
        ctx.mounts().detach_removed(&full);
        return Ok(0);
    }
    if is_dot(&parent.name) {
        return Err(Errno::EISDIR);
    }
    if parent.trailing_slash {
        let target = parent.dir.inode.lookup(&parent.name)?;
        return Err(if target.metadata().is_dir() {
            Errno::EISDIR
        } else {
            Errno::ENOTDIR
        });
    }
    may_delete(&parent.dir, &parent.name, &env::caller())?;
    parent.dir.inode.unlink(&parent.name).map(|_| 0)
}

fn renameat2(olddfd: i32, oldpath: u64, newdfd: i32, newpath: u64, flags: u32) -> SysResult {
    const RENAME_NOREPLACE: u32 = 1;
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(Errno::EINVAL);
    }
    let (op, np) = (user_path(oldpath)?, user_path(newpath)?);
    let old = parent_at(olddfd, &op)?;
    let new = parent_at(newdfd, &np)?;
    if is_dot(&old.name) || is_dot(&new.name) {
        return Err(Errno::EBUSY);
    }
    let moving = old.dir.inode.lookup(&old.name)?;
    let ctx = context();
    let (old_full, new_full) = (
        path::join(&old.dir.path, &old.name),
        path::join(&new.dir.path, &new.name),
    );
    if is_mount_point(ctx.mounts(), &old_full) || is_mount_point(ctx.mounts(), &new_full) {
        return Err(Errno::EBUSY);
    }
    if old.dir.inode.metadata().dev != new.dir.inode.metadata().dev {
        return Err(Errno::EXDEV);
    }
    if (old.trailing_slash || new.trailing_slash) && !moving.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if old_full != new_full && path::is_within(&new_full, &old_full) {
        return Err(Errno::EINVAL);
    }
    let replaces = new.dir.inode.lookup(&new.name).is_ok();
    if flags & RENAME_NOREPLACE != 0 && replaces {
        return Err(Errno::EEXIST);
    }
    let caller = env::caller();
    may_delete(&old.dir, &old.name, &caller)?;
    if replaces {
        may_delete(&new.dir, &new.name, &caller)?;
    } else {
        may_create(&new.dir, &new.name, &caller)?;
    }
    old.dir.inode.rename(&old.name, &new.dir.inode, &new.name)?;
    if moving.metadata().is_dir() {
        if replaces {
            ctx.mounts().detach_removed(&new_full);
        }
        ctx.mounts().follow_rename(&old_full, &new_full);
    }
    Ok(0)
}

fn linkat(olddfd: i32, oldpath: u64, newdfd: i32, newpath: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let op = user_path_maybe_empty(oldpath, flags)?;
    let target: InodeRef = resolve_at(olddfd, &op, flags & AT_SYMLINK_FOLLOW != 0)?.inode;
    if target.metadata().is_dir() {
        return Err(Errno::EPERM);
    }
    let new = parent_at(newdfd, &user_path(newpath)?)?;
    if is_dot(&new.name) {
        return Err(Errno::EEXIST);
    }
    if new.dir.inode.metadata().dev != target.metadata().dev {
        return Err(Errno::EXDEV);
    }
    may_create(&new.dir, &new.name, &env::caller())?;
    new.dir.inode.link(&new.name, &target).map(|_| 0)
}

fn symlinkat(target: u64, newdfd: i32, linkpath: u64) -> SysResult {
    let t = user_path(target)?;
    let parent = parent_at(newdfd, &user_path(linkpath)?)?;
    if is_dot(&parent.name) || parent.trailing_slash {
        return Err(Errno::EEXIST);
    }
    may_create(&parent.dir, &parent.name, &env::caller())?;
    let (uid, gid) = env::current_ids();
    parent
        .dir
        .inode
        .symlink(&parent.name, &t, uid, gid)
        .map(|_| 0)
}

fn readlinkat(dirfd: i32, pathname: u64, buf: u64, size: u64) -> SysResult {
    if size as i64 <= 0 {
        return Err(Errno::EINVAL);
    }
    let mut path_buf = [0; CSTR_INLINE];
    let inode = resolve_inode_at(dirfd, &user_path_in(pathname, &mut path_buf)?, false)?;
    let mut short = [0; crate::fs::vfs::SHORT_LINK];
    if let Some(len) = inode.readlink_short(&mut short) {
        let n = len?.min(size as usize);
        copy_to_user(buf, &short[..n])?;
        return Ok(n);
    }
    let target = inode.readlink()?;
    let n = target.len().min(size as usize);
    copy_to_user(buf, &target.as_bytes()[..n])?;
    Ok(n)
}

// ---- mounts ----

/// CAP_SYS_ADMIN over the user container that owns the caller's mount container.
pub(super) fn require_mount_admin() -> Result<(), Errno> {
    let mnt = crate::task::current_process().containers().mnt.clone();
    match crate::container::ContainerType::common(&*mnt).owner() {
        Some(owner) => crate::task::require_cap_in(owner, CAP_SYS_ADMIN),
        None => env::require_cap(CAP_SYS_ADMIN),
    }
}

fn mount(source: u64, target: u64, fstype: u64, flags: u64, data: u64) -> SysResult {
    const MS_REMOUNT: u64 = 32;
    const MS_BIND: u64 = 4096;
    const MS_MOVE: u64 = 8192;
    const MS_RDONLY: u64 = 1;
    const MS_PROPAGATION: u64 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
    require_mount_admin()?;
    let ctx = context();
    let loc = ctx.resolve(&user_path(target)?, true)?;
    if flags & MS_REMOUNT != 0 {
        // New per-mount flags (read-only, nosuid, nodev, noexec) for the mount there.
        let m = ctx.mounts().mount_at(&loc.path).ok_or(Errno::EINVAL)?;
        let (root, here) = (m.root().metadata(), loc.inode.metadata());
        if (root.dev, root.ino) != (here.dev, here.ino) {
            return Err(Errno::EINVAL);
        }
        // tmpfs takes a new `size=` (not below what it holds, and only if it had one).
        if flags & MS_BIND == 0
            && let Some(pages) = tmpfs_size(data)?
        {
            m.fs.resize(pages)?;
        }
        // Read-only while a file there is open for writing: EBUSY (Linux's
        // mnt_make_readonly).
        if flags & MS_RDONLY != 0 && m.flags & MS_RDONLY == 0 && has_writers(ctx.mounts(), &m) {
            return Err(Errno::EBUSY);
        }
        return ctx.mounts().remount(&loc.path, flags & 0xf).map(|_| 0);
    }
    if flags & MS_PROPAGATION != 0 {
        const MS_REC: u64 = 16384;
        let kind = flags & MS_PROPAGATION;
        if !kind.is_power_of_two() {
            return Err(Errno::EINVAL);
        }
        let m = ctx.mounts().mount_at(&loc.path).ok_or(Errno::EINVAL)?;
        let (root, here) = (m.root().metadata(), loc.inode.metadata());
        if (root.dev, root.ino) != (here.dev, here.ino) {
            return Err(Errno::EINVAL);
        }
        return ctx
            .mounts()
            .set_propagation(&loc.path, kind, flags & MS_REC != 0)
            .map(|_| 0);
    }
    if flags & MS_MOVE != 0 {
        if source == 0 {
            return Err(Errno::EFAULT);
        }
        let src = ctx.resolve(&user_path(source)?, true)?;
        return move_attached(&ctx, &src, &loc);
    }
    if flags & MS_BIND != 0 {
        const MS_REC: u64 = 16384;
        if source == 0 {
            return Err(Errno::EFAULT);
        }
        let src = ctx.resolve(&user_path(source)?, true)?;
        // A directory on a directory, anything else (a single file) on a non-directory.
        if src.inode.metadata().is_dir() != loc.inode.metadata().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        return ctx
            .mounts()
            .bind(
                &src.path,
                src.inode,
                &loc.path,
                flags & 0xf,
                flags & MS_REC != 0,
            )
            .map(|_| 0);
    }
    if !loc.inode.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fstype = read_user_cstr(fstype, 64)?;
    let source = if source == 0 {
        String::from("none")
    } else {
        read_user_cstr(source, path::PATH_MAX)?
    };
    let fs: Arc<dyn FileSystem> = match fstype.as_str() {
        "devtmpfs" => crate::fs::devfs::devtmpfs(),
        "ramblk" => {
            // A block device file system: the source names the device.
            let dev = ctx.resolve(&source, true)?.inode.metadata();
            if dev.file_type() != vfs::FileType::BlockDevice {
                return Err(Errno::ENOTBLK);
            }
            let disk = crate::fs::devfs::ramblk(dev.rdev).ok_or(Errno::ENXIO)?;
            // The same device already on top here: EBUSY (other mounts stack).
            if let Some(top) = ctx.mounts().mount_at(&loc.path)
                && top.fs.dev() == disk.dev()
            {
                return Err(Errno::EBUSY);
            }
            disk
        }
        name => {
            let ty = crate::fs::fscontext::FsType::from_name(name).ok_or(Errno::ENODEV)?;
            let mut config = crate::fs::fscontext::FsConfig::new(ty);
            if ty == crate::fs::fscontext::FsType::Tmpfs {
                config.size = tmpfs_size(data)?;
            }
            super::mountapi::new_fs(&config)?
        }
    };
    ctx.mounts()
        .mount(&loc.path, fs, &source, flags & 0xf)
        .map(|_| 0)
}

/// `MS_MOVE` (and `move_mount` of an attached mount): the mount whose root is `src`
/// and the mounts below it move to `to`; processes there follow. `EINVAL` when `src`
/// is not a mount's root or is the caller's root, `ENOTDIR` for a directory onto a
/// non-directory or the reverse.
pub(super) fn move_attached(ctx: &FsContext, src: &Loc, to: &Loc) -> SysResult {
    let m = ctx.mounts().mount_at(&src.path).ok_or(Errno::EINVAL)?;
    let (root, here) = (m.root().metadata(), src.inode.metadata());
    if (root.dev, root.ino) != (here.dev, here.ino) || src.path == ctx.root().path {
        return Err(Errno::EINVAL);
    }
    if src.inode.metadata().is_dir() != to.inode.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    ctx.mounts().move_mount(&src.path, &to.path)?;
    for c in contexts_on(ctx.mounts()) {
        c.moved(&src.path, &to.path);
    }
    Ok(0)
}

/// Whether a process of tree `mounts` has a file of mount `m` open for writing (a
/// change to read-only then gives `EBUSY`, as Linux's `mnt_make_readonly`).
pub(super) fn has_writers(mounts: &Arc<MountTable>, m: &crate::fs::mount::Mount) -> bool {
    processes_on(mounts)
        .iter()
        .any(|(p, _)| open_in(p, m, true))
}

/// The `size=` option of a tmpfs mount's data string, in pages (`EINVAL` if malformed;
/// other options are ignored).
fn tmpfs_size(data: u64) -> Result<Option<u64>, Errno> {
    if data == 0 {
        return Ok(None);
    }
    let text = read_user_cstr(data, 4096)?;
    let total = crate::mm::frame::counts().1 * 4096;
    let mut size = None;
    for opt in text.split(',') {
        if let Some(v) = opt.strip_prefix("size=") {
            size = Some(crate::fs::ramfs::parse_size(v, total).ok_or(Errno::EINVAL)?);
        }
    }
    Ok(size)
}

/// The live processes whose mount tree is `mounts`, with their file contexts.
fn processes_on(
    mounts: &Arc<crate::fs::mount::MountTable>,
) -> Vec<(Arc<crate::task::Process>, Arc<FsContext>)> {
    let procs: Vec<_> = crate::task::TABLES.lock().procs.values().cloned().collect();
    procs
        .into_iter()
        .filter(|p| !p.is_exiting())
        .map(|p| {
            let c = p.fs();
            (p, c)
        })
        .filter(|(_, c)| Arc::ptr_eq(c.mounts(), mounts))
        .collect()
}

/// The file contexts (each once) of the live processes whose mount tree is `mounts`.
fn contexts_on(mounts: &Arc<crate::fs::mount::MountTable>) -> Vec<Arc<FsContext>> {
    let mut out: Vec<Arc<FsContext>> = Vec::new();
    for (_, c) in processes_on(mounts) {
        if !out.iter().any(|o| Arc::ptr_eq(o, &c)) {
            out.push(c);
        }
    }
    out
}

/// Whether the mount `m` (at canonical `m.path`) is busy: a process of the tree has
/// its root or working directory in it, or a file of it open.
fn mount_busy(mounts: &Arc<crate::fs::mount::MountTable>, m: &crate::fs::mount::Mount) -> bool {
    // Every path is below `/`: a mount stacked there is used by a root or working
    // directory on its file system.
    let dev = m.fs.dev();
    let on_it = |c: &FsContext| {
        if m.path == "/" {
            c.root().inode.metadata().dev == dev || c.cwd().inode.metadata().dev == dev
        } else {
            c.uses(&m.path)
        }
    };
    processes_on(mounts)
        .iter()
        .any(|(p, c)| on_it(c) || open_in(p, m, false))
}

/// Whether process `p` has a file of mount `m` open (with `writing`: open for writing).
fn open_in(p: &crate::task::Process, m: &crate::fs::mount::Mount, writing: bool) -> bool {
    let dev = m.fs.dev();
    p.files().open_files().iter().any(|f| {
        (!writing || f.writable())
            && path::is_within(f.path(), &m.path)
            && f.inode().is_some_and(|i| i.metadata().dev == dev)
    })
}

/// `pivot_root(new_root, put_old)`: `new_root` (a mount point, not the root's mount)
/// becomes the root of the caller's mount tree and the old tree moves to `put_old`
/// (at or under `new_root`). Every process of the tree whose root or working
/// directory is the old root moves to the new one. `EPERM` without `CAP_SYS_ADMIN`
/// over the container's owner, `ENOTDIR`, `EINVAL` (not a mount point, `put_old`
/// outside, a caller whose root is not the tree's root), `EBUSY` (new_root or
/// put_old on the root's mount, checked first as Linux).
fn pivot_root(new_root: u64, put_old: u64) -> SysResult {
    require_mount_admin()?;
    let ctx = context();
    let new = ctx.resolve(&user_path(new_root)?, true)?;
    let old = ctx.resolve(&user_path(put_old)?, true)?;
    if !new.inode.metadata().is_dir() || !old.inode.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if ctx.root().path != "/" {
        return Err(Errno::EINVAL);
    }
    // As Linux: new_root or put_old on the root's mount first gives EBUSY.
    let top = ctx.mounts().mount_at("/").ok_or(Errno::EINVAL)?;
    let on_top = |p: &str| ctx.mounts().mount_of(p).is_some_and(|m| m.id == top.id);
    if on_top(&new.path) || on_top(&old.path) {
        return Err(Errno::EBUSY);
    }
    let m = ctx.mounts().mount_at(&new.path).ok_or(Errno::EINVAL)?;
    let (root, here) = (m.root().metadata(), new.inode.metadata());
    if (root.dev, root.ino) != (here.dev, here.ino) {
        return Err(Errno::EINVAL);
    }
    if !path::is_within(&old.path, &new.path) {
        return Err(Errno::EINVAL);
    }
    let mounts = ctx.mounts().clone();
    let users = contexts_on(&mounts);
    mounts.pivot(&new.path, &old.path);
    let top = mounts.root();
    for c in users {
        c.pivot(&new.path, &old.path, &top);
    }
    Ok(0)
}

fn umount2(target: u64, flags: u32) -> SysResult {
    const UMOUNT_NOFOLLOW: u32 = 8;
    const MNT_DETACH: u32 = 2;
    if flags & !(1 | 2 | 4 | UMOUNT_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    require_mount_admin()?;
    let ctx = context();
    let loc = ctx.resolve(&user_path(target)?, flags & UMOUNT_NOFOLLOW == 0)?;
    let m = ctx.mounts().mount_at(&loc.path).ok_or(Errno::EINVAL)?;
    let (root, here) = (m.root().metadata(), loc.inode.metadata());
    if (root.dev, root.ino) != (here.dev, here.ino) {
        return Err(Errno::EINVAL);
    }
    if flags & MNT_DETACH != 0 {
        return ctx.mounts().detach(&loc.path).map(|_| 0);
    }
    // Busy while a process's root or working directory is inside or one of its
    // files is open (files that moved to another tree are not seen).
    if mount_busy(ctx.mounts(), &m) {
        return Err(Errno::EBUSY);
    }
    // So is a copy that the umount would take with it at a receiver.
    for (t, p, below) in ctx.mounts().propagated_copies(&m, &loc.path) {
        if !below && t.mount_at(&p).is_some_and(|c| mount_busy(&t, &c)) {
            return Err(Errno::EBUSY);
        }
    }
    ctx.mounts().umount(&loc.path).map(|_| 0)
}
