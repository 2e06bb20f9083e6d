//! Helpers for the container tests (`t_container`, `t_uts`, `t_pid`, `t_procfs`,
//! `t_stress_containers`): the `CLONE_NEW*` flags, `clone`/`unshare`/`setns`/`pidfd_open`/nsfs
//! ioctls as raw system calls, the `/proc/[pid]/{ns,container}/*` links, the
//! `/proc/sys/user/max_<type>_container` files and LiteOS-A's limit procedure, pipes for
//! children to report values, and the "nothing leaked" check every program ends with.
//!
//! Children made with [`clone_run`] report through their exit status like `test::fork_run`'s
//! (0 when none of their checks failed); they are waited for with `__WALL`, so a child cloned
//! without `SIGCHLD` (LiteOS-A's `clone(fn, stack, CLONE_NEWX, arg)`) is reaped too.

use crate::sys::{self, SysResult, check, syscall1, syscall2, syscall3, syscall5};
use crate::test::{Exit, case_failed};
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

pub const CLONE_NEWTIME: usize = 0x0000_0080;
pub const CLONE_NEWNS: usize = 0x0002_0000;
pub const CLONE_NEWCGROUP: usize = 0x0200_0000;
pub const CLONE_NEWUTS: usize = 0x0400_0000;
pub const CLONE_NEWIPC: usize = 0x0800_0000;
pub const CLONE_NEWUSER: usize = 0x1000_0000;
pub const CLONE_NEWPID: usize = 0x2000_0000;
pub const CLONE_NEWNET: usize = 0x4000_0000;
pub const CLONE_PARENT: usize = 0x0000_8000;
/// The exit signal byte of `clone` for a child that sends SIGCHLD.
pub const SIGCHLD_EXIT: usize = 17;
/// `wait4` option: wait for every kind of child (also those cloned without SIGCHLD).
pub const WALL: usize = 0x4000_0000;

/// Errno values the container tests need beyond `sys::errno`.
pub const ENOSPC: i32 = 28;
pub const EOPNOTSUPP: i32 = 95;

/// nsfs ioctls (ioctl_ns(2)): `_IO(0xb7, n)`.
pub const NS_GET_USERNS: usize = 0xb701;
pub const NS_GET_PARENT: usize = 0xb702;
pub const NS_GET_NSTYPE: usize = 0xb703;
pub const NS_GET_OWNER_UID: usize = 0xb704;

/// Linux x86_64 numbers of the calls used here (beyond `sys::nr`).
pub mod cnr {
    pub const IOCTL: usize = 16;
    pub const SETPGID: usize = 109;
    pub const GETPGRP: usize = 111;
    pub const SETSID: usize = 112;
    pub const GETPRIORITY: usize = 140;
    pub const SETPRIORITY: usize = 141;
    pub const SCHED_SETPARAM: usize = 142;
    pub const SCHED_GETPARAM: usize = 143;
    pub const SCHED_SETSCHEDULER: usize = 144;
    pub const SCHED_GETSCHEDULER: usize = 145;
    pub const SCHED_RR_GET_INTERVAL: usize = 148;
    pub const SETHOSTNAME: usize = 170;
    pub const SETDOMAINNAME: usize = 171;
    pub const SCHED_SETAFFINITY: usize = 203;
    pub const SCHED_GETAFFINITY: usize = 204;
    pub const CLOCK_GETRES: usize = 229;
    pub const WAITID: usize = 247;
    pub const UNSHARE: usize = 272;
    pub const SETNS: usize = 308;
    pub const PIDFD_OPEN: usize = 434;
}

/// The container types with a `/proc/sys/user/max_<type>_container` file, in LiteOS-A's boot
/// order then cgroup (the order of the root containers' numbers).
pub const LIMIT_TYPES: [&str; 8] = ["user", "pid", "uts", "mnt", "ipc", "time", "net", "cgroup"];

/// The `CLONE_NEW*` flag of a type name (`pid_for_children` and `time_for_children` included).
pub fn flag_of(name: &str) -> usize {
    match name {
        "user" => CLONE_NEWUSER,
        "pid" | "pid_for_children" => CLONE_NEWPID,
        "uts" => CLONE_NEWUTS,
        "mnt" => CLONE_NEWNS,
        "ipc" => CLONE_NEWIPC,
        "time" | "time_for_children" => CLONE_NEWTIME,
        "net" => CLONE_NEWNET,
        "cgroup" => CLONE_NEWCGROUP,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// System calls

/// `clone(flags, NULL stack, ...)`: fork-like (the child continues on a copy of the caller's
/// stack); `Ok(0)` in the child, the child's pid (in the caller's view) in the parent.
pub fn clone(flags: usize) -> SysResult<i32> {
    // SAFETY: no CLONE_VM: the child gets a copy of the address space, as with fork.
    check(unsafe { syscall5(sys::nr::CLONE, flags, 0, 0, 0, 0) }).map(|p| p as i32)
}

/// A `clone` whose child (if one is made) exits at once with `code`, without returning into
/// Rust: for probing flag combinations that must fail (`CLONE_THREAD`, `CLONE_VM`…), where a
/// wrongly accepted call must not run Rust code on a shared stack. Returns the raw result.
pub fn clone_probe(flags: usize, code: i32) -> SysResult<i32> {
    // SAFETY: the child only runs the instructions after `syscall` up to its exit, using no
    // memory; the parent's registers are as after any syscall.
    let r: isize;
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov edi, {code:e}",
            "mov eax, 60",
            "syscall",
            "ud2",
            "2:",
            code = in(reg) code,
            inlateout("rax") sys::nr::CLONE as isize => r,
            in("rdi") flags,
            in("rsi") 0usize,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            out("rcx") _,
            out("r11") _,
        )
    };
    check(r).map(|p| p as i32)
}

/// A `clone` whose child (if one is made) calls `unshare(unshare_flags)` `times` times,
/// stops itself with `SIGSTOP` and then waits in `pause` until it is killed, without
/// returning into Rust or touching memory (so nothing is copied on write). A failed
/// `unshare` ends it with the errno as its exit status. The caller learns which through
/// `wait4` with `WUNTRACED`.
pub fn clone_unshare_stop(flags: usize, unshare_flags: usize, times: usize) -> SysResult<i32> {
    // SAFETY: the child only runs the instructions after `syscall` (system calls on
    // registers, no memory); the parent's registers are as after any syscall.
    let r: isize;
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "3:",
            "test r12, r12",
            "jz 4f",
            "mov eax, 272",
            "mov rdi, r13",
            "syscall",
            "test rax, rax",
            "jnz 5f",
            "dec r12",
            "jmp 3b",
            "5:",
            "neg rax",
            "mov rdi, rax",
            "mov eax, 60",
            "syscall",
            "4:",
            "mov eax, 39",
            "syscall",
            "mov rdi, rax",
            "mov esi, 19",
            "mov eax, 62",
            "syscall",
            "6:",
            "mov eax, 34",
            "syscall",
            "jmp 6b",
            "2:",
            inlateout("rax") sys::nr::CLONE as isize => r,
            in("rdi") flags,
            in("rsi") 0usize,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") times,
            in("r13") unshare_flags,
            out("rcx") _,
            out("r11") _,
        )
    };
    check(r).map(|p| p as i32)
}

pub fn unshare(flags: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(cnr::UNSHARE, flags) })
}

pub fn setns(fd: i32, nstype: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(cnr::SETNS, fd as isize as usize, nstype) })
}

pub fn pidfd_open(pid: i32, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall2(cnr::PIDFD_OPEN, pid as isize as usize, flags) }).map(|f| f as i32)
}

/// `ioctl(fd, req, arg)` with a plain integer argument.
pub fn ioctl(fd: i32, req: usize, arg: usize) -> SysResult {
    // SAFETY: the caller passes an address only for requests that write to it (NS_GET_OWNER_UID).
    check(unsafe { syscall3(cnr::IOCTL, fd as isize as usize, req, arg) })
}

pub fn sethostname(name: &[u8]) -> SysResult {
    // SAFETY: the kernel reads `name.len()` bytes of the slice.
    check(unsafe { syscall2(cnr::SETHOSTNAME, name.as_ptr() as usize, name.len()) })
}

pub fn setdomainname(name: &[u8]) -> SysResult {
    // SAFETY: the kernel reads `name.len()` bytes of the slice.
    check(unsafe { syscall2(cnr::SETDOMAINNAME, name.as_ptr() as usize, name.len()) })
}

/// `sethostname`/`setdomainname` (by number) with a raw pointer, for the EFAULT cases.
pub fn set_uts_raw(nr: usize, ptr: usize, len: usize) -> SysResult {
    // SAFETY: a bad pointer is what the caller tests; the kernel must refuse it.
    check(unsafe { syscall2(nr, ptr, len) })
}

pub fn getpgrp() -> i32 {
    // SAFETY: no pointer.
    unsafe { sys::syscall0(cnr::GETPGRP) as i32 }
}

pub fn setsid() -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { sys::syscall0(cnr::SETSID) })
}

pub fn setpgid(pid: i32, pgid: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(cnr::SETPGID, pid as isize as usize, pgid as isize as usize) })
}

/// The `nodename` of `uname`.
pub fn hostname() -> String {
    sys::uname().map_or(String::new(), |u| field(&u.nodename))
}

/// The `domainname` of `uname`.
pub fn domainname() -> String {
    sys::uname().map_or(String::new(), |u| field(&u.domainname))
}

/// A NUL-terminated `utsname` field as text.
pub fn field(f: &[u8; 65]) -> String {
    let n = f.iter().position(|&b| b == 0).unwrap_or(65);
    String::from_utf8_lossy(&f[..n]).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Children

/// Clones a child with `flags` (fork-like, NULL stack) that runs `f`, then exits 0 if none of
/// its checks failed, else 1. Returns the child's pid in the caller's view.
pub fn clone_run(flags: usize, f: impl FnOnce()) -> SysResult<i32> {
    match clone(flags)? {
        0 => {
            f();
            sys::exit(if case_failed() { 1 } else { 0 })
        }
        pid => Ok(pid),
    }
}

/// [`clone_run`] where the child's exit code is what `f` returns (LiteOS-A's child functions
/// return a code the parent checks).
pub fn clone_code(flags: usize, f: impl FnOnce() -> i32) -> SysResult<i32> {
    match clone(flags)? {
        0 => sys::exit(f()),
        pid => Ok(pid),
    }
}

/// `wait4(pid, __WALL)`, retrying EINTR; returns `(pid, status)`.
pub fn wait_all(pid: i32) -> SysResult<(i32, i32)> {
    loop {
        match sys::wait4(pid, WALL) {
            Err(sys::errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Waits (`__WALL`) for `pid` and says how it ended.
pub fn wait_exit(pid: i32) -> Exit {
    match wait_all(pid) {
        Ok((_, status)) => Exit::from_status(status),
        Err(e) => Exit::Other(-e),
    }
}

/// Reaps every child that has already ended (`wait4(-1, __WALL|WNOHANG)`), without blocking
/// on live ones; returns how many were reaped.
pub fn reap_all() -> usize {
    let mut n = 0;
    while let Ok((p, _)) = sys::wait4(-1, WALL | sys::WNOHANG) {
        if p <= 0 {
            break;
        }
        n += 1;
    }
    n
}

/// Sleeps forever (a child that waits to be killed).
pub fn sleep_forever() -> ! {
    loop {
        let _ = sys::sleep_ms(1000);
    }
}

/// A pipe for one-way reports: `[read, write]`.
pub fn pipe_pair() -> [i32; 2] {
    sys::pipe().expect("pipe")
}

/// Writes a little-endian i64 (a value a child reports).
pub fn send(fd: i32, v: i64) {
    let _ = sys::write_all(fd, &v.to_le_bytes());
}

/// Reads a little-endian i64 (`None` at EOF or on error).
pub fn recv(fd: i32) -> Option<i64> {
    let mut b = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match sys::read(fd, &mut b[got..]) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(sys::errno::EINTR) => {}
            Err(_) => return None,
        }
    }
    Some(i64::from_le_bytes(b))
}

/// Blocks until the other end writes a byte or closes (a "go" signal).
pub fn wait_go(fd: i32) {
    let mut b = [0u8; 1];
    loop {
        match sys::read(fd, &mut b) {
            Err(sys::errno::EINTR) => {}
            _ => return,
        }
    }
}

/// Sends a "go" byte.
pub fn go(fd: i32) {
    let _ = sys::write_all(fd, b"g");
}

/// Closes fds, ignoring errors.
pub fn close_all(fds: &[i32]) {
    for &fd in fds {
        let _ = sys::close(fd);
    }
}

// ---------------------------------------------------------------------------------------------
// Files

fn cpath(path: &str) -> CString {
    CString::new(path).expect("path has a NUL")
}

/// The whole content of a file.
pub fn read_text(path: &str) -> SysResult<String> {
    let fd = sys::open(&cpath(path), sys::O_RDONLY | sys::O_CLOEXEC, 0)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let r = loop {
        match sys::read(fd, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(sys::errno::EINTR) => {}
            Err(e) => break Err(e),
        }
    };
    let _ = sys::close(fd);
    r.map(|_| String::from_utf8_lossy(&out).into_owned())
}

/// Writes `data` with one `write` (as LiteOS-A's `WriteFile`: `strlen` bytes, no newline);
/// returns what `write` returned.
pub fn write_text(path: &str, data: &[u8]) -> SysResult {
    let fd = sys::open(&cpath(path), sys::O_WRONLY | sys::O_CLOEXEC, 0)?;
    let r = sys::write(fd, data);
    let _ = sys::close(fd);
    r
}

/// `readlink` as text.
pub fn readlink_text(path: &str) -> SysResult<String> {
    let mut buf = [0u8; 256];
    let n = sys::readlink(&cpath(path), &mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

pub fn stat_path(path: &str) -> SysResult<sys::Stat> {
    sys::stat(&cpath(path))
}

pub fn lstat_path(path: &str) -> SysResult<sys::Stat> {
    sys::lstat(&cpath(path))
}

pub fn open_path(path: &str, flags: usize) -> SysResult<i32> {
    sys::open(&cpath(path), flags | sys::O_CLOEXEC, 0)
}

/// The numeric entries of `/proc` (the pids the reader can see), sorted.
pub fn list_pids() -> SysResult<Vec<i32>> {
    let mut pids: Vec<i32> = list_dir("/proc")?
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The fields of `/proc/<pid>/stat` after the `(comm)`: index 0 is field 3 (state), index 1
/// field 4 (ppid), index 11 field 14 (utime), index 12 field 15 (stime), index 17 field 20
/// (num_threads). Also returns field 1 (the pid) and the comm.
pub fn proc_stat(pid: &str) -> SysResult<(i64, String, Vec<String>)> {
    let text = read_text(&format!("/proc/{}/stat", pid))?;
    let open = text.find('(').ok_or(sys::errno::EINVAL)?;
    let close = text.rfind(')').ok_or(sys::errno::EINVAL)?;
    let pid_field = text[..open]
        .trim()
        .parse::<i64>()
        .map_err(|_| sys::errno::EINVAL)?;
    let comm = String::from(&text[open + 1..close]);
    let rest = text[close + 1..]
        .split_ascii_whitespace()
        .map(String::from)
        .collect();
    Ok((pid_field, comm, rest))
}

/// `utime + stime` (fields 14 and 15, in clock ticks) of a `/proc/<pid>/stat` text: CPU time
/// counted by the guest's timer ticks, which stop with the guest when the host takes QEMU's
/// CPU away (so shares of it hold on a loaded host, where shares of wall time do not).
pub fn stat_cpu_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// [`stat_cpu_ticks`] of process `pid` (0 when it cannot be read).
pub fn cpu_ticks(pid: i32) -> u64 {
    read_text(&format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| stat_cpu_ticks(&t))
        .unwrap_or(0)
}

/// The value of `Key:` in `/proc/<pid>/status` (trimmed).
pub fn status_field(pid: &str, key: &str) -> Option<String> {
    let text = read_text(&format!("/proc/{}/status", pid)).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        Some(String::from(rest.trim()))
    })
}

/// `MemFree` of `/proc/meminfo` in kB.
pub fn mem_free_kb() -> Option<u64> {
    let text = read_text("/proc/meminfo").ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("MemFree:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

// ---------------------------------------------------------------------------------------------
// Links

/// `/proc/<pid>/ns/<name>` (`pid` may be "self").
pub fn ns_path(pid: &str, name: &str) -> String {
    format!("/proc/{}/ns/{}", pid, name)
}

/// `/proc/<pid>/container/<name>`.
pub fn container_path(pid: &str, name: &str) -> String {
    format!("/proc/{}/container/{}", pid, name)
}

/// The base type a link prints (`pid_for_children` prints `pid`).
pub fn base_name(name: &str) -> &str {
    name.strip_suffix("_for_children").unwrap_or(name)
}

/// Parses `<t>:[N]` (Linux's `/proc/[pid]/ns` text) exactly.
pub fn parse_ns_text(text: &str, t: &str) -> Option<u64> {
    let digits = text
        .strip_prefix(t)?
        .strip_prefix(":[")?
        .strip_suffix(']')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses `'<t>:[N]'` (LiteOS-A's `/proc/[pid]/container` text, quotes included) exactly.
pub fn parse_container_text(text: &str, t: &str) -> Option<u64> {
    parse_ns_text(text.strip_prefix('\'')?.strip_suffix('\'')?, t)
}

/// The container number of `/proc/<pid>/ns/<name>` (from its text).
pub fn ns_number(pid: &str, name: &str) -> SysResult<u64> {
    let text = readlink_text(&ns_path(pid, name))?;
    parse_ns_text(&text, base_name(name)).ok_or(sys::errno::EINVAL)
}

/// The container number of `/proc/<pid>/container/<name>` (from its text).
pub fn container_number(pid: &str, name: &str) -> SysResult<u64> {
    let text = readlink_text(&container_path(pid, name))?;
    parse_container_text(&text, base_name(name)).ok_or(sys::errno::EINVAL)
}

/// LiteOS-A's `ReadlinkContainer`: the text of `/proc/<pid>/container/<name>`.
pub fn readlink_container(pid: i32, name: &str) -> String {
    readlink_text(&container_path(&format!("{}", pid), name)).unwrap_or_default()
}

/// Own container link text (`/proc/self/container/<name>`).
pub fn own_container(name: &str) -> String {
    readlink_text(&container_path("self", name)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Limits

pub fn limit_path(t: &str) -> String {
    format!("/proc/sys/user/max_{}_container", t)
}

/// Parses `"\nlimit: %u\ncount: %u\n"` exactly.
pub fn parse_limit_text(text: &str) -> Option<(u32, u32)> {
    let rest = text.strip_prefix("\nlimit: ")?;
    let (limit, rest) = rest.split_once('\n')?;
    let count = rest.strip_prefix("count: ")?.strip_suffix('\n')?;
    let num = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse::<u32>().ok()
        }
    };
    Some((num(limit)?, num(count)?))
}

/// `(limit, count)` of `max_<t>_container`; `EINVAL` when the text is not in the format.
pub fn read_limit(t: &str) -> SysResult<(u32, u32)> {
    parse_limit_text(&read_text(&limit_path(t))?).ok_or(sys::errno::EINVAL)
}

/// Writes `n` (digits only, no newline) to `max_<t>_container`.
pub fn write_limit(t: &str, n: u32) -> SysResult {
    write_text(&limit_path(t), format!("{}", n).as_bytes())
}

/// The count of `max_<t>_container` once it equals `want`, polling up to ~3 s (a container
/// is freed when its last process is reaped; allow the kernel a moment). Returns the last
/// count read (or `u32::MAX` when the file cannot be read).
pub fn wait_count(t: &str, want: u32) -> u32 {
    let mut last = u32::MAX;
    for _ in 0..300 {
        last = read_limit(t).map_or(u32::MAX, |(_, c)| c);
        if last == want {
            break;
        }
        let _ = sys::sleep_ms(10);
    }
    last
}

const UNSET: u32 = u32::MAX;
static START_COUNTS: [AtomicU32; LIMIT_TYPES.len()] =
    [const { AtomicU32::new(UNSET) }; LIMIT_TYPES.len()];

/// Records the count of every `max_*_container` at program start (for
/// [`counts_back_to_start`]).
pub fn record_start_counts() {
    for (i, t) in LIMIT_TYPES.iter().enumerate() {
        let c = read_limit(t).map_or(UNSET, |(_, c)| c);
        START_COUNTS[i].store(c, Ordering::Relaxed);
    }
}

/// The counts recorded by [`record_start_counts`].
pub fn start_count(t: &str) -> Option<u32> {
    let i = LIMIT_TYPES.iter().position(|x| *x == t)?;
    let c = START_COUNTS[i].load(Ordering::Relaxed);
    (c != UNSET).then_some(c)
}

/// The last case of every container program: every `max_*_container` count (and limit 10) is
/// what it was at the start, i.e. no container leaked.
pub fn counts_back_to_start() {
    reap_all();
    for t in LIMIT_TYPES {
        let start = start_count(t);
        crate::check!(start.is_some(), "max_{}_container unreadable at start", t);
        let Some(start) = start else { continue };
        crate::check_eq!(wait_count(t, start), start, "count of max_{}_container", t);
        crate::check_eq!(
            read_limit(t).map(|(l, _)| l),
            Ok(10),
            "limit of max_{}_container",
            t
        );
    }
}

/// LiteOS-A's "limit test (clone)": limit is 10; write count+1; the first `clone(flag)` works,
/// the second gives ENOSPC (Bulkhead's errno; LiteOS-A only checks -1); write 10 back.
/// The first child stays alive (blocked on a pipe) until the second clone was tried.
/// `exit_signal` is 0 for LiteOS-A's `clone(fn, stack, CLONE_NEWX, arg)` (reaped with __WALL).
pub fn limit_test_clone(t: &str, flag: usize, exit_signal: usize) {
    let (limit, count) = crate::check_ok!(read_limit(t));
    crate::check_eq!(limit, 10);
    crate::check_eq!(
        write_limit(t, count + 1),
        Ok(format!("{}", count + 1).len())
    );
    crate::check_eq!(read_limit(t), Ok((count + 1, count)));
    let [r, w] = pipe_pair();
    let first = clone_run(flag | exit_signal, || {
        let _ = sys::close(w);
        wait_go(r);
    });
    crate::check!(first.is_ok(), "first clone: {:?}", first);
    crate::check_eq!(read_limit(t).map(|(_, c)| c), Ok(count + 1));
    let second = clone_run(flag | exit_signal, || {});
    crate::check_eq!(second, Err(ENOSPC), "second clone over the limit");
    if let Ok(p) = second {
        crate::check_eq!(wait_exit(p), Exit::Code(0));
    }
    // Nothing was half-built: the count is unchanged by the failed clone.
    crate::check_eq!(read_limit(t).map(|(_, c)| c), Ok(count + 1));
    close_all(&[r, w]);
    if let Ok(p) = first {
        crate::check_eq!(wait_exit(p), Exit::Code(0));
    }
    crate::check_eq!(wait_count(t, count), count);
    crate::check_eq!(write_limit(t, 10), Ok(2));
    crate::check_eq!(read_limit(t), Ok((10, count)));
}

/// LiteOS-A's "limit test (unshare)": limit 10, write count+1; a child created with `flag`
/// (taking the last slot) must see `unshare(flag)` fail (ENOSPC) and keep its containers;
/// write 10 back.
pub fn limit_test_unshare(t: &str, flag: usize) {
    let (limit, count) = crate::check_ok!(read_limit(t));
    crate::check_eq!(limit, 10);
    crate::check_ok!(write_limit(t, count + 1));
    let link = if flag == CLONE_NEWPID {
        "pid_for_children"
    } else {
        t
    };
    let child = clone_run(flag | SIGCHLD_EXIT, || {
        let before = own_container(link);
        crate::check_eq!(read_limit(t).map(|(_, c)| c), Ok(count + 1));
        crate::check_eq!(unshare(flag), Err(ENOSPC), "unshare over the limit");
        crate::check_eq!(
            own_container(link),
            before,
            "a failed unshare changed the link"
        );
        crate::check_eq!(read_limit(t).map(|(_, c)| c), Ok(count + 1));
    });
    let child = crate::check_ok!(child);
    crate::check_eq!(wait_exit(child), Exit::Code(0));
    crate::check_eq!(wait_count(t, count), count);
    crate::check_ok!(write_limit(t, 10));
    crate::check_eq!(read_limit(t), Ok((10, count)));
}

/// The names in a directory (without `.` and `..`), sorted.
pub fn list_dir(path: &str) -> SysResult<Vec<String>> {
    let fd = sys::open(
        &cpath(path),
        sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC,
        0,
    )?;
    let mut names = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match sys::getdents64(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = sys::close(fd);
                return Err(e);
            }
        };
        let mut off = 0;
        while off < n {
            let d = &buf[off..n];
            let reclen = u16::from_ne_bytes([d[16], d[17]]) as usize;
            let name = &d[19..reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if name != b"." && name != b".." {
                names.push(String::from_utf8_lossy(name).into_owned());
            }
            off += reclen;
        }
    }
    let _ = sys::close(fd);
    names.sort();
    Ok(names)
}

/// `clone(flags, stack_top)` with a fresh stack: the child pops `arg` from `stack_top` and
/// calls `entry(arg)` (LiteOS-A's `clone(fn, stack, flags, arg)`). Returns the raw result.
///
/// # Safety
/// `stack_top` must be the 16-byte aligned top of a writable mapping with `arg` stored at
/// `stack_top`, and `entry` must never return.
#[unsafe(naked)]
pub unsafe extern "C" fn clone_on_stack(
    flags: usize,
    stack_top: usize,
    entry: extern "C" fn(usize) -> !,
) -> isize {
    core::arch::naked_asm!(
        "mov r9, rdx",
        "xor edx, edx",
        "xor r10d, r10d",
        "xor r8d, r8d",
        "mov eax, 56",
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // Child: on the new stack; r9 (entry) survives the syscall.
        "xor ebp, ebp",
        "pop rdi",
        "and rsp, -16",
        "call r9",
        "ud2",
        "2:",
        "ret",
    )
}
