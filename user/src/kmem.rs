//! The harness of the kernel-memory charging tests (`t_kmem`): a route is a way for a
//! process to make kernel objects in bulk (descriptors, pipes, threads, mappings, ...).
//! [`fill_to_limit`] runs one in a child that made a fresh plimits group with a 32 MiB
//! `memory.limit` and fills it until a call fails, then checks from outside the group:
//! the failure is `ENOMEM`, the group's `memory.usage` reached the limit (within 1 MiB)
//! and `memory.failcnt` went up, the machine's `MemFree` fell by at most 34 MiB, the
//! parent can still fork and open files; after the child is gone the usage is 0 and
//! `MemFree` is back (within 256 kB).
//!
//! A route's `fill` runs near the limit, where a process faulting in a new page is killed:
//! it must not allocate or touch new memory (stack buffers of the size already used,
//! no `Vec`/`String`).

use crate::container::{read_text, write_text};
use crate::sys::{self, errno::ENOMEM};
use crate::test::{Exit, wait_exit};
use crate::{check, check_eq, check_ok, println};
use alloc::ffi::CString;
use alloc::format;

/// The group's `memory.limit`.
pub const LIMIT: u64 = 32 << 20;

pub struct Route {
    pub name: &'static str,
    /// Makes objects until a call fails: `(errno, objects made)`.
    pub fill: fn() -> (i32, usize),
}

/// A `/proc/meminfo` field in kB (0 when missing).
pub fn meminfo_kb(field: &str) -> u64 {
    read_text("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.split(':').next() == Some(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// A file holding one number (0 when unreadable).
pub fn read_num(path: &str) -> u64 {
    read_text(path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// `prlimit64(0, RLIMIT_NOFILE, {n, n}, NULL)`.
pub fn set_nofile(n: u64) -> sys::SysResult {
    let v = [n, n];
    // SAFETY: a pointer to a live array of two u64s.
    sys::check(unsafe { sys::syscall4(302, 0, 7, v.as_ptr() as usize, 0) })
}

/// Uses `len` bytes of stack once, so the fill's calls find their stack pages present.
#[inline(never)]
fn touch_stack() {
    let mut pad = [0u8; 64 * 1024];
    // SAFETY: a volatile write to a live local array (kept from being optimised out).
    unsafe { core::ptr::write_volatile(pad.as_mut_ptr().add(pad.len() - 1), 1) };
    core::hint::black_box(&pad);
}

/// The child: joins a fresh group `dir` with the `limit`, fills `route`, reports
/// `(errno, count)` on `report` and waits to be killed (reading `hold`, which the parent
/// never writes).
fn child(dir: &str, route: &Route, limit: u64, report: i32, hold: i32) -> ! {
    touch_stack();
    let Ok(cdir) = CString::new(dir) else {
        sys::exit(2)
    };
    let limit = format!("{limit}");
    let limit_file = format!("{dir}/memory.limit");
    if sys::mkdir(&cdir, 0o700).is_err() || write_text(&limit_file, limit.as_bytes()).is_err() {
        sys::exit(3);
    }
    let (errno, count) = (route.fill)();
    let mut rec = [0u8; 16];
    rec[..8].copy_from_slice(&(errno as i64).to_le_bytes());
    rec[8..].copy_from_slice(&(count as u64).to_le_bytes());
    let _ = sys::write(report, &rec);
    loop {
        let mut b = [0u8; 1];
        let _ = sys::read(hold, &mut b);
    }
}

/// Runs `route` as the module says, printing its figures.
pub fn fill_to_limit(route: &Route) {
    fill_until(route, ENOMEM, LIMIT);
}

/// [`fill_to_limit`] for a route whose stop at the limit is the errno `stop` (sockets:
/// `ENOBUFS`, as Linux when a socket cannot get its buffers), in a group of `limit`
/// bytes (`MemFree` may then fall by `limit` + 2 MiB).
pub fn fill_until(route: &Route, stop: i32, limit: u64) {
    let dir = format!("/proc/plimits/kmem_{}", route.name);
    let cdir = CString::new(dir.as_str()).unwrap_or_default();
    let _ = sys::rmdir(&cdir);
    // Warm the reader's own buffers first: the reads below then allocate nothing new.
    let _ = meminfo_kb("MemFree");
    let free0 = meminfo_kb("MemFree");
    // The child's report, and a pipe it sleeps on.
    let (Ok([r, w]), Ok([hr, hw])) = (sys::pipe(), sys::pipe()) else {
        check!(false, "{}: pipe", route.name);
        return;
    };
    let t0 = sys::monotonic_ns();
    let pid = match sys::fork() {
        Ok(0) => child(&dir, route, limit, w, hr),
        Ok(pid) => pid,
        Err(e) => {
            check!(false, "{}: fork: {}", route.name, e);
            return;
        }
    };
    let mut rec = [0u8; 16];
    let got = sys::read(r, &mut rec);
    check_eq!(
        got,
        Ok(16),
        "{}: the child's report (0: it died)",
        route.name
    );
    let errno = i64::from_le_bytes(rec[..8].try_into().unwrap_or([0; 8])) as i32;
    let count = u64::from_le_bytes(rec[8..].try_into().unwrap_or([0; 8]));
    let usage = read_num(&format!("{dir}/memory.usage"));
    let failcnt = read_num(&format!("{dir}/memory.failcnt"));
    let kernel = read_text(&format!("{dir}/memory.stat"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Mem kernel: "))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let free1 = meminfo_kb("MemFree");
    let ms = (sys::monotonic_ns() - t0) / 1_000_000;
    println!(
        "  {}: {} objects in {} ms, stopped by errno {}; usage {} of {} (kernel {}), failcnt {}, MemFree {} kB -> {} kB",
        route.name, count, ms, errno, usage, limit, kernel, failcnt, free0, free1
    );
    check_eq!(errno, stop, "{}: the stop", route.name);
    check!(count > 0, "{}: nothing made", route.name);
    check!(
        (limit - (1 << 20)..=limit).contains(&usage),
        "{}: usage {} for a limit of {}",
        route.name,
        usage,
        limit
    );
    check!(failcnt >= 1, "{}: failcnt {}", route.name, failcnt);
    check!(
        free0.saturating_sub(free1) <= (limit >> 10) + (2 << 10),
        "{}: MemFree fell {} kB",
        route.name,
        free0.saturating_sub(free1)
    );
    // Everyone else goes on: a fork and an open outside the group.
    match sys::fork() {
        Ok(0) => sys::exit(7),
        Ok(p) => check_eq!(
            wait_exit(p),
            Exit::Code(7),
            "{}: a fork outside",
            route.name
        ),
        Err(e) => {
            check!(false, "{}: fork outside the group: {}", route.name, e);
        }
    }
    match sys::open(c"/", sys::O_RDONLY | sys::O_DIRECTORY, 0) {
        Ok(fd) => {
            check_ok!(sys::close(fd));
        }
        Err(e) => {
            check!(false, "{}: open outside the group: {}", route.name, e);
        }
    }
    check_eq!(sys::kill(pid, 9), Ok(0));
    check_eq!(wait_exit(pid), Exit::Signal(9), "{}: the child", route.name);
    for fd in [r, w, hr, hw] {
        let _ = sys::close(fd);
    }
    check_eq!(
        read_num(&format!("{dir}/memory.usage")),
        0,
        "{}: usage after the child",
        route.name
    );
    let free2 = meminfo_kb("MemFree");
    check!(
        free2 + 256 >= free0,
        "{}: MemFree {} kB before, {} kB after",
        route.name,
        free0,
        free2
    );
    check_eq!(sys::rmdir(&cdir), Ok(0), "{}: rmdir", route.name);
}

/// Makes containers with `unshare(flag)` and holds each by an fd on `link`
/// (`/proc/self/ns/<type>`) until a call fails: `(errno, containers made)`. For PID and
/// TIME (`<type>_for_children`: a second `unshare` is `EINVAL` while it differs from the
/// process's own), `setns` goes back to the first after each.
pub fn hold_containers(flag: usize, link: &core::ffi::CStr) -> (i32, usize) {
    use crate::container::{CLONE_NEWPID, CLONE_NEWTIME, setns, unshare};
    if set_nofile(1 << 20).is_err() {
        return (0, 0);
    }
    let back = flag & (CLONE_NEWPID | CLONE_NEWTIME) != 0;
    let first = match sys::open(link, sys::O_RDONLY, 0) {
        Ok(fd) => fd,
        Err(e) => return (e, 0),
    };
    let mut n = 0;
    loop {
        if let Err(e) = unshare(flag) {
            return (e, n);
        }
        match sys::open(link, sys::O_RDONLY, 0) {
            Ok(_) => n += 1,
            Err(e) => return (e, n),
        }
        if back && let Err(e) = setns(first, flag) {
            return (e, n);
        }
    }
}

/// `/proc/<pid>/ns/<link>` written into `buf` (no allocation): the path, or `None` when
/// it does not fit.
pub fn proc_ns_path<'a>(buf: &'a mut [u8], pid: i32, link: &str) -> Option<&'a core::ffi::CStr> {
    let mut digits = [0u8; 12];
    let mut v = pid.unsigned_abs();
    let mut d = digits.len();
    loop {
        d -= 1;
        digits[d] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let parts: [&[u8]; 4] = [b"/proc/", &digits[d..], b"/ns/", link.as_bytes()];
    let mut at = 0;
    for p in parts {
        buf.get_mut(at..at + p.len())?.copy_from_slice(p);
        at += p.len();
    }
    *buf.get_mut(at)? = 0;
    core::ffi::CStr::from_bytes_until_nul(&buf[..=at]).ok()
}

/// A limit's value as a write takes it back: the number, or the `limit:` line of a
/// `max_<type>_container` file.
fn limit_text(path: &str) -> Option<alloc::string::String> {
    let text = read_text(path).ok()?;
    Some(match text.split_once("limit:") {
        Some((_, rest)) => rest.lines().next().unwrap_or("").trim().into(),
        None => text.trim().into(),
    })
}

/// [`fill_to_limit`] with the limits in `raise` (`(file, value)`) set first, so that
/// memory is what stops the route, and put back after it. A file this build lacks (a
/// container type built out) skips the route.
pub fn fill_with_raised(route: &Route, raise: &[(&str, &str)]) {
    fill_raised_until(route, raise, ENOMEM, LIMIT);
}

/// [`fill_with_raised`] with the stop errno `stop` in a group of `limit` bytes
/// ([`fill_until`]).
pub fn fill_raised_until(route: &Route, raise: &[(&str, &str)], stop: i32, limit: u64) {
    let mut saved = alloc::vec::Vec::new();
    let mut ready = true;
    for (path, value) in raise {
        let Some(old) = limit_text(path) else {
            ready = false;
            break;
        };
        saved.push((*path, old));
        let set = write_text(path, value.as_bytes());
        check!(set.is_ok(), "{}: {path} = {value}: {set:?}", route.name);
    }
    if ready {
        fill_until(route, stop, limit);
    }
    for (path, old) in saved {
        let back = write_text(path, old.as_bytes());
        check!(back.is_ok(), "{path} back to {old:?}: {back:?}");
    }
}

/// A container type's live count (`count:` of `max_<type>_container`; `u64::MAX` when
/// unreadable).
pub fn live_containers(max: &str) -> u64 {
    read_text(max)
        .ok()
        .and_then(|t| {
            t.split_once("count:")
                .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(u64::MAX)
}

/// [`fill_with_raised`] for a container route, `max` (`max_<type>_container`) raised, and
/// the type's live count checked back afterwards.
pub fn fill_containers(route: &Route, max: &str) {
    let count = live_containers(max);
    fill_with_raised(route, &[(max, "1000000")]);
    check_eq!(
        live_containers(max),
        count,
        "{}: containers back",
        route.name
    );
}

/// Runs `f` (given the group's directory) in a child that made the fresh group
/// `/proc/plimits/NAME` with the 32 MiB [`LIMIT`] and then unshared `unshare_flags`
/// (0 for none); checks that `f` returned true and that the group's usage is 0 once the
/// child is gone, and removes the group.
pub fn in_fresh_group(name: &str, unshare_flags: usize, f: fn(&str) -> bool) {
    let dir = format!("/proc/plimits/{name}");
    let cdir = CString::new(dir.as_str()).unwrap_or_default();
    let _ = sys::rmdir(&cdir);
    let child = crate::test::fork_run(|| {
        if sys::mkdir(&cdir, 0o700).is_err()
            || write_text(
                &format!("{dir}/memory.limit"),
                format!("{LIMIT}").as_bytes(),
            )
            .is_err()
            || (unshare_flags != 0 && crate::container::unshare(unshare_flags).is_err())
        {
            sys::exit(3);
        }
        sys::exit(if f(&dir) { 0 } else { 1 });
    });
    check_eq!(
        wait_exit(child),
        Exit::Code(0),
        "{name}: the child's checks"
    );
    check_eq!(
        read_num(&format!("{dir}/memory.usage")),
        0,
        "{name}: usage after"
    );
    check_eq!(sys::rmdir(&cdir), Ok(0), "{name}: rmdir");
}
