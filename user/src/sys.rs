//! Linux x86_64 system calls: raw `syscall0..6`, the numbers and constants the programs use, and
//! typed wrappers returning `Result<usize, i32>` (the error is the positive errno).

use core::arch::asm;
use core::ffi::CStr;

/// A system call's result: the value, or the positive errno.
pub type SysResult<T = usize> = Result<T, i32>;

/// Linux x86_64 system call numbers.
pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const OPEN: usize = 2;
    pub const CLOSE: usize = 3;
    pub const STAT: usize = 4;
    pub const FSTAT: usize = 5;
    pub const LSTAT: usize = 6;
    pub const LSEEK: usize = 8;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const BRK: usize = 12;
    pub const RT_SIGACTION: usize = 13;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const RT_SIGRETURN: usize = 15;
    pub const PREAD64: usize = 17;
    pub const READV: usize = 19;
    pub const WRITEV: usize = 20;
    pub const ACCESS: usize = 21;
    pub const PIPE: usize = 22;
    pub const SCHED_YIELD: usize = 24;
    pub const DUP: usize = 32;
    pub const DUP2: usize = 33;
    pub const NANOSLEEP: usize = 35;
    pub const GETPID: usize = 39;
    pub const CLONE: usize = 56;
    pub const FORK: usize = 57;
    pub const EXECVE: usize = 59;
    pub const EXIT: usize = 60;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const UNAME: usize = 63;
    pub const FCNTL: usize = 72;
    pub const GETCWD: usize = 79;
    pub const CHDIR: usize = 80;
    pub const RENAME: usize = 82;
    pub const MKDIR: usize = 83;
    pub const RMDIR: usize = 84;
    pub const CREAT: usize = 85;
    pub const UNLINK: usize = 87;
    pub const READLINK: usize = 89;
    pub const GETUID: usize = 102;
    pub const GETGID: usize = 104;
    pub const GETEUID: usize = 107;
    pub const GETEGID: usize = 108;
    pub const GETPPID: usize = 110;
    pub const RT_SIGPENDING: usize = 127;
    pub const MOUNT: usize = 165;
    /// `afs_syscall`: never implemented by Linux, always `ENOSYS`.
    pub const AFS_SYSCALL: usize = 183;
    /// `tuxcall`: never implemented by Linux, always `ENOSYS`.
    pub const TUXCALL: usize = 184;
    pub const GETTID: usize = 186;
    pub const FUTEX: usize = 202;
    pub const SCHED_GETAFFINITY: usize = 204;
    pub const GETDENTS64: usize = 217;
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_GETRES: usize = 229;
    pub const EXIT_GROUP: usize = 231;
    pub const TGKILL: usize = 234;
    pub const NEWFSTATAT: usize = 262;
    pub const DUP3: usize = 292;
    pub const PIPE2: usize = 293;
    pub const CLONE3: usize = 435;
}

/// Errno values (positive, as in the `Err` of a [`SysResult`]).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EINTR: i32 = 4;
    pub const EBADF: i32 = 9;
    pub const ECHILD: i32 = 10;
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ESPIPE: i32 = 29;
    pub const EPIPE: i32 = 32;
    pub const ERANGE: i32 = 34;
    pub const ENOSYS: i32 = 38;
    pub const ENOTEMPTY: i32 = 39;
    pub const ETIMEDOUT: i32 = 110;
}

pub const O_RDONLY: usize = 0;
pub const O_WRONLY: usize = 1;
pub const O_RDWR: usize = 2;
pub const O_CREAT: usize = 0o100;
pub const O_EXCL: usize = 0o200;
pub const O_TRUNC: usize = 0o1000;
pub const O_APPEND: usize = 0o2000;
pub const O_NONBLOCK: usize = 0o4000;
pub const O_DIRECTORY: usize = 0o200000;
pub const O_CLOEXEC: usize = 0o2000000;

pub const AT_FDCWD: isize = -100;
pub const AT_SYMLINK_NOFOLLOW: usize = 0x100;

pub const F_DUPFD: usize = 0;
pub const F_GETFD: usize = 1;
pub const F_SETFD: usize = 2;
pub const F_GETFL: usize = 3;
pub const FD_CLOEXEC: usize = 1;

pub const SEEK_SET: usize = 0;
pub const SEEK_CUR: usize = 1;
pub const SEEK_END: usize = 2;

pub const F_OK: usize = 0;
pub const R_OK: usize = 4;
pub const W_OK: usize = 2;
pub const X_OK: usize = 1;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFIFO: u32 = 0o010000;

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_SHARED: usize = 0x01;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
/// `mmap`'s error return, as an address.
pub const MAP_FAILED: usize = usize::MAX;

pub const WNOHANG: usize = 1;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;

pub const SIG_BLOCK: usize = 0;
pub const SIG_UNBLOCK: usize = 1;
pub const SIG_SETMASK: usize = 2;
pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;
pub const SA_SIGINFO: u64 = 0x4;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_RESTART: u64 = 0x1000_0000;

pub const CLONE_VM: usize = 0x100;
pub const CLONE_FS: usize = 0x200;
pub const CLONE_FILES: usize = 0x400;
pub const CLONE_SIGHAND: usize = 0x800;
pub const CLONE_THREAD: usize = 0x10000;
pub const CLONE_SYSVSEM: usize = 0x40000;
pub const CLONE_SETTLS: usize = 0x80000;
pub const CLONE_PARENT_SETTID: usize = 0x100000;
pub const CLONE_CHILD_CLEARTID: usize = 0x200000;

pub const FUTEX_WAIT: usize = 0;
pub const FUTEX_WAKE: usize = 1;

pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;
pub const CLOCK_BOOTTIME: usize = 7;

pub const MNT_DETACH: usize = 2;

// SAFETY (all `syscallN`): the caller guarantees that every pointer argument is valid for what
// the kernel will do with it, or deliberately invalid to test the kernel's checks.

/// Raw system call with no argument; returns the kernel's raw value (`-errno` on error).
///
/// # Safety
/// The call must not break memory the program relies on (e.g. `munmap` of live data).
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let r: isize;
    // SAFETY: the Linux syscall ABI clobbers only rax, rcx, r11 and memory.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with one argument.
///
/// # Safety
/// As [`syscall0`]; pointer arguments must be valid or deliberately bad.
#[inline(always)]
pub unsafe fn syscall1(n: usize, a: usize) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with two arguments.
///
/// # Safety
/// As [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(n: usize, a: usize, b: usize) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b,
             out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with three arguments.
///
/// # Safety
/// As [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with four arguments (the fourth goes in r10, not rcx).
///
/// # Safety
/// As [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with five arguments.
///
/// # Safety
/// As [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(n: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Raw system call with six arguments.
///
/// # Safety
/// As [`syscall1`].
#[inline(always)]
pub unsafe fn syscall6(
    n: usize,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> isize {
    let r: isize;
    // SAFETY: as syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, in("r9") f, out("rcx") _, out("r11") _, options(nostack))
    };
    r
}

/// Turns a raw return value into a [`SysResult`]: -4095..-1 are errors, as in Linux.
pub fn check(r: isize) -> SysResult {
    if (-4095..0).contains(&r) {
        Err(-r as i32)
    } else {
        Ok(r as usize)
    }
}

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

impl Timespec {
    pub fn from_nanos(ns: u64) -> Self {
        Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        }
    }
    pub fn as_nanos(&self) -> u64 {
        self.tv_sec as u64 * 1_000_000_000 + self.tv_nsec as u64
    }
}

/// x86_64 `struct stat`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub unused: [i64; 3],
}

/// `struct utsname` (six 65-byte NUL-terminated fields).
#[repr(C)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IoVec {
    pub base: usize,
    pub len: usize,
}

/// The kernel's `struct sigaction` for `rt_sigaction` (not libc's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SigAction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    pub mask: u64,
}

/// The bit for `sig` in a 64-bit signal set.
pub const fn sigbit(sig: i32) -> u64 {
    1 << (sig - 1)
}

fn cstr(p: &CStr) -> usize {
    p.as_ptr() as usize
}

// SAFETY (the wrappers below): every pointer passed comes from a Rust reference or slice whose
// length is passed with it, so the kernel only touches memory the caller lent.

pub fn read(fd: i32, buf: &mut [u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

pub fn write(fd: i32, buf: &[u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// Writes all of `buf`, retrying short writes.
pub fn write_all(fd: i32, mut buf: &[u8]) -> SysResult<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(errno::EPIPE),
            Ok(n) => buf = &buf[n..],
            Err(errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn pread(fd: i32, buf: &mut [u8], off: u64) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall4(
            nr::PREAD64,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            off as usize,
        )
    })
}

pub fn readv(fd: i32, iov: &[IoVec]) -> SysResult {
    // SAFETY: the caller built `iov` from buffers it owns (see IoVec users).
    check(unsafe { syscall3(nr::READV, fd as usize, iov.as_ptr() as usize, iov.len()) })
}

pub fn writev(fd: i32, iov: &[IoVec]) -> SysResult {
    // SAFETY: as readv.
    check(unsafe { syscall3(nr::WRITEV, fd as usize, iov.as_ptr() as usize, iov.len()) })
}

pub fn open(path: &CStr, flags: usize, mode: usize) -> SysResult<i32> {
    // SAFETY: see above.
    check(unsafe { syscall3(nr::OPEN, cstr(path), flags, mode) }).map(|fd| fd as i32)
}

pub fn creat(path: &CStr, mode: usize) -> SysResult<i32> {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::CREAT, cstr(path), mode) }).map(|fd| fd as i32)
}

pub fn close(fd: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(nr::CLOSE, fd as usize) })
}

pub fn lseek(fd: i32, off: i64, whence: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::LSEEK, fd as usize, off as usize, whence) })
}

pub fn stat(path: &CStr) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: see above.
    check(unsafe { syscall2(nr::STAT, cstr(path), &mut st as *mut Stat as usize) })?;
    Ok(st)
}

pub fn lstat(path: &CStr) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: see above.
    check(unsafe { syscall2(nr::LSTAT, cstr(path), &mut st as *mut Stat as usize) })?;
    Ok(st)
}

pub fn fstat(fd: i32) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: see above.
    check(unsafe { syscall2(nr::FSTAT, fd as usize, &mut st as *mut Stat as usize) })?;
    Ok(st)
}

pub fn newfstatat(dirfd: isize, path: &CStr, flags: usize) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: see above.
    check(unsafe {
        syscall4(
            nr::NEWFSTATAT,
            dirfd as usize,
            cstr(path),
            &mut st as *mut Stat as usize,
            flags,
        )
    })?;
    Ok(st)
}

pub fn access(path: &CStr, mode: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::ACCESS, cstr(path), mode) })
}

pub fn mkdir(path: &CStr, mode: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::MKDIR, cstr(path), mode) })
}

/// truncate(2) (nr 76).
pub fn truncate(path: &CStr, len: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(76, cstr(path), len) })
}

pub fn rmdir(path: &CStr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall1(nr::RMDIR, cstr(path)) })
}

pub fn unlink(path: &CStr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall1(nr::UNLINK, cstr(path)) })
}

pub fn rename(from: &CStr, to: &CStr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::RENAME, cstr(from), cstr(to)) })
}

pub fn chdir(path: &CStr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall1(nr::CHDIR, cstr(path)) })
}

/// `getcwd`; returns the length including the NUL, as the raw syscall does.
pub fn getcwd(buf: &mut [u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::GETCWD, buf.as_mut_ptr() as usize, buf.len()) })
}

pub fn readlink(path: &CStr, buf: &mut [u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall3(
            nr::READLINK,
            cstr(path),
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

pub fn getdents64(fd: i32, buf: &mut [u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall3(
            nr::GETDENTS64,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

pub fn dup(fd: i32) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall1(nr::DUP, fd as usize) }).map(|fd| fd as i32)
}

pub fn dup2(old: i32, new: i32) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall2(nr::DUP2, old as usize, new as usize) }).map(|fd| fd as i32)
}

pub fn dup3(old: i32, new: i32, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::DUP3, old as usize, new as usize, flags) }).map(|fd| fd as i32)
}

pub fn fcntl(fd: i32, cmd: usize, arg: usize) -> SysResult {
    // SAFETY: only integer commands are used.
    check(unsafe { syscall3(nr::FCNTL, fd as usize, cmd, arg) })
}

/// `pipe2`; returns `[read end, write end]`.
pub fn pipe2(flags: usize) -> SysResult<[i32; 2]> {
    let mut fds = [0i32; 2];
    // SAFETY: see above.
    check(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, flags) })?;
    Ok(fds)
}

/// `pipe`; returns `[read end, write end]`.
pub fn pipe() -> SysResult<[i32; 2]> {
    let mut fds = [0i32; 2];
    // SAFETY: see above.
    check(unsafe { syscall1(nr::PIPE, fds.as_mut_ptr() as usize) })?;
    Ok(fds)
}

pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            nr::MOUNT,
            cstr(source),
            cstr(target),
            cstr(fstype),
            flags,
            0,
        )
    })
}

/// `mmap`; returns the address.
///
/// # Safety
/// With `MAP_FIXED` it may replace memory the program uses.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: i32,
    off: usize,
) -> SysResult {
    // SAFETY: the caller's contract.
    check(unsafe { syscall6(nr::MMAP, addr, len, prot, flags, fd as isize as usize, off) })
}

/// An anonymous private read/write mapping.
pub fn mmap_anon(len: usize) -> SysResult {
    // SAFETY: no MAP_FIXED: the kernel picks free addresses.
    unsafe {
        mmap(
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        )
    }
}

/// # Safety
/// The range must hold nothing the program still uses.
pub unsafe fn munmap(addr: usize, len: usize) -> SysResult {
    // SAFETY: the caller's contract.
    check(unsafe { syscall2(nr::MUNMAP, addr, len) })
}

/// # Safety
/// Removing access to memory the program uses makes it fault.
pub unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> SysResult {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::MPROTECT, addr, len, prot) })
}

/// `brk`: the raw call returns the (possibly unchanged) break, never an error.
pub fn brk(addr: usize) -> usize {
    // SAFETY: shrinking the break only affects memory obtained by growing it.
    unsafe { syscall1(nr::BRK, addr) as usize }
}

pub fn getpid() -> i32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETPID) as i32 }
}

pub fn getppid() -> i32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETPPID) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETTID) as i32 }
}

pub fn getuid() -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETUID) as u32 }
}

pub fn geteuid() -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETEUID) as u32 }
}

pub fn getgid() -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETGID) as u32 }
}

pub fn getegid() -> u32 {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::GETEGID) as u32 }
}

pub fn sched_yield() {
    // SAFETY: no pointer.
    unsafe { syscall0(nr::SCHED_YIELD) };
}

/// `fork`: `Ok(0)` in the child, `Ok(pid)` in the parent.
pub fn fork() -> SysResult<i32> {
    // SAFETY: the child gets a copy of the address space.
    check(unsafe { syscall0(nr::FORK) }).map(|p| p as i32)
}

/// `struct clone_args` (CLONE_ARGS_SIZE_VER2, 88 bytes).
#[repr(C)]
#[derive(Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// `clone3(args, size)`; `size` may be smaller than `CloneArgs` (an older layout) or wrong on
/// purpose. Without `CLONE_VM` (and no stack) it is fork-like: `Ok(0)` in the child, its pid in
/// the parent.
pub fn clone3(args: &CloneArgs, size: usize) -> SysResult<i32> {
    // SAFETY: `args` is live; without CLONE_VM the child gets a copy of the address space, so it
    // can go on running Rust code like a fork child.
    check(unsafe { syscall2(nr::CLONE3, args as *const CloneArgs as usize, size) })
        .map(|p| p as i32)
}

/// `execve`; `argv` and `envp` are NULL-terminated arrays of C string pointers.
pub fn execve(path: &CStr, argv: &[*const u8], envp: &[*const u8]) -> SysResult {
    assert!(argv.last() == Some(&core::ptr::null()) && envp.last() == Some(&core::ptr::null()));
    // SAFETY: the arrays are NULL-terminated (checked above).
    check(unsafe {
        syscall3(
            nr::EXECVE,
            cstr(path),
            argv.as_ptr() as usize,
            envp.as_ptr() as usize,
        )
    })
}

/// `exit`: ends the calling thread only.
pub fn exit_thread(code: i32) -> ! {
    loop {
        // SAFETY: no pointer.
        unsafe { syscall1(nr::EXIT, code as usize) };
    }
}

/// `exit_group`: ends the whole process.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: no pointer.
        unsafe { syscall1(nr::EXIT_GROUP, code as usize) };
    }
}

/// `wait4` without rusage; returns `(pid, status)` (`pid` 0 with `WNOHANG` and nothing ready).
pub fn wait4(pid: i32, options: usize) -> SysResult<(i32, i32)> {
    let mut status = 0i32;
    // SAFETY: see above.
    let r = check(unsafe {
        syscall4(
            nr::WAIT4,
            pid as isize as usize,
            &mut status as *mut i32 as usize,
            options,
            0,
        )
    })?;
    Ok((r as i32, status))
}

/// Waits for `pid`, retrying `EINTR`; returns its raw status.
pub fn waitpid(pid: i32) -> SysResult<i32> {
    loop {
        match wait4(pid, 0) {
            Err(errno::EINTR) => continue,
            r => return r.map(|(_, s)| s),
        }
    }
}

pub fn kill(pid: i32, sig: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(nr::KILL, pid as isize as usize, sig as usize) })
}

pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::TGKILL, tgid as usize, tid as usize, sig as usize) })
}

/// `rt_sigaction` with an 8-byte signal set.
pub fn sigaction(sig: i32, act: Option<&SigAction>, old: Option<&mut SigAction>) -> SysResult {
    let a = act.map_or(0, |a| a as *const SigAction as usize);
    let o = old.map_or(0, |o| o as *mut SigAction as usize);
    // SAFETY: see above; a handler address in `act` is the caller's responsibility.
    check(unsafe { syscall4(nr::RT_SIGACTION, sig as usize, a, o, 8) })
}

/// `rt_sigprocmask`; returns the old mask.
pub fn sigprocmask(how: usize, set: Option<u64>) -> SysResult<u64> {
    let mut old = 0u64;
    let set_ptr = set.as_ref().map_or(0, |s| s as *const u64 as usize);
    // SAFETY: see above.
    check(unsafe {
        syscall4(
            nr::RT_SIGPROCMASK,
            how,
            set_ptr,
            &mut old as *mut u64 as usize,
            8,
        )
    })?;
    Ok(old)
}

pub fn sigpending() -> SysResult<u64> {
    let mut set = 0u64;
    // SAFETY: see above.
    check(unsafe { syscall2(nr::RT_SIGPENDING, &mut set as *mut u64 as usize, 8) })?;
    Ok(set)
}

pub fn clock_gettime(clock: usize) -> SysResult<Timespec> {
    let mut ts = Timespec::default();
    // SAFETY: see above.
    check(unsafe { syscall2(nr::CLOCK_GETTIME, clock, &mut ts as *mut Timespec as usize) })?;
    Ok(ts)
}

pub fn clock_getres(clock: usize) -> SysResult<Timespec> {
    let mut ts = Timespec::default();
    // SAFETY: see above.
    check(unsafe { syscall2(nr::CLOCK_GETRES, clock, &mut ts as *mut Timespec as usize) })?;
    Ok(ts)
}

/// Monotonic time in nanoseconds.
pub fn monotonic_ns() -> u64 {
    clock_gettime(CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos())
}

pub fn nanosleep(req: &Timespec) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall2(nr::NANOSLEEP, req as *const Timespec as usize, 0) })
}

/// Sleeps for `ms` milliseconds (one `nanosleep`; may end early on a signal).
pub fn sleep_ms(ms: u64) -> SysResult {
    nanosleep(&Timespec::from_nanos(ms * 1_000_000))
}

pub fn uname() -> SysResult<Utsname> {
    let mut u = Utsname {
        sysname: [0; 65],
        nodename: [0; 65],
        release: [0; 65],
        version: [0; 65],
        machine: [0; 65],
        domainname: [0; 65],
    };
    // SAFETY: see above.
    check(unsafe { syscall1(nr::UNAME, &mut u as *mut Utsname as usize) })?;
    Ok(u)
}

/// `FUTEX_WAIT` (private or shared as `op` says): sleeps while `*word == val`.
pub fn futex_wait(
    word: &core::sync::atomic::AtomicU32,
    val: u32,
    timeout: Option<&Timespec>,
) -> SysResult {
    let t = timeout.map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: see above.
    check(unsafe {
        syscall4(
            nr::FUTEX,
            word.as_ptr() as usize,
            FUTEX_WAIT,
            val as usize,
            t,
        )
    })
}

/// `FUTEX_WAKE`: wakes up to `n` waiters; returns how many woke.
pub fn futex_wake(word: &core::sync::atomic::AtomicU32, n: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall3(nr::FUTEX, word.as_ptr() as usize, FUTEX_WAKE, n) })
}

/// The bytes of a NUL-terminated C string.
///
/// # Safety
/// `p` must point to a NUL-terminated string that lives for `'a`.
pub unsafe fn cstr_bytes<'a>(p: *const u8) -> &'a [u8] {
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(p.cast()).to_bytes() }
}

/// Whether the process exited normally (`WIFEXITED`).
pub fn wifexited(status: i32) -> bool {
    status & 0x7f == 0
}
/// The exit code (`WEXITSTATUS`).
pub fn wexitstatus(status: i32) -> i32 {
    (status >> 8) & 0xff
}
/// Whether a signal ended the process (`WIFSIGNALED`).
pub fn wifsignaled(status: i32) -> bool {
    ((status & 0x7f) + 1) as i8 >> 1 > 0
}
/// The signal that ended the process (`WTERMSIG`).
pub fn wtermsig(status: i32) -> i32 {
    status & 0x7f
}

/// Reads the byte at `addr` with one `mov`, so a bad address faults exactly there (tests use it
/// to provoke SIGSEGV; a Rust read of a null pointer would hit a debug assertion instead).
///
/// # Safety
/// Faults (SIGSEGV) if `addr` is not readable.
pub unsafe fn peek(addr: usize) -> u8 {
    let v: u8;
    // SAFETY: the caller's contract.
    unsafe {
        asm!("mov {v}, byte ptr [{a}]", a = in(reg) addr, v = out(reg_byte) v, options(nostack, readonly))
    };
    v
}

/// Writes the byte at `addr` with one `mov` (see [`peek`]).
///
/// # Safety
/// Faults (SIGSEGV) if `addr` is not writable; corrupts whatever lives there.
pub unsafe fn poke(addr: usize, v: u8) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("mov byte ptr [{a}], {v}", a = in(reg) addr, v = in(reg_byte) v, options(nostack))
    };
}
