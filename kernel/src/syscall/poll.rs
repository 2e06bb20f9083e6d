//! Readiness waits: `poll` (7), `ppoll` (271), `select` (23), `pselect6` (270) and the
//! epoll calls. A waiter sleeps until one of the objects it watches wakes its wait
//! channel (`fs::pollwait`), its deadline, or a signal.

use super::table::{fd, syscalls};
use crate::errno::{Errno, SysResult};
use crate::fs::env::{self, Wake};
use crate::fs::epoll::{self, Epoll, EpollEvent};
use crate::fs::file::*;
use crate::fs::pollwait;
use crate::fs::{FdTable, OpenFile};
use crate::mm::user::{copy_from_user, copy_to_user};
use crate::plimits::kmem::Charge;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The most descriptors one poll or select call looks at.
const MAX_FDS: usize = 1024;

syscalls! {
    frame, a;
    7 => poll(
        a[0],
        a[1],
        (a[2] as i32 >= 0).then(|| a[2] as i32 as u64 * 1_000_000),
    ),
    23 => select(a[0] as i32, [a[1], a[2], a[3]], a[4], None),
    270 => pselect6(a[0] as i32, [a[1], a[2], a[3]], a[4], a[5]),
    271 => ppoll(a[0], a[1], a[2], a[3], a[4]),
    213 => {
        if a[0] as i32 <= 0 {
            Err(Errno::EINVAL)
        } else {
            epoll_create1(0)
        }
    },
    291 => epoll_create1(a[0] as u32),
    233 => epoll_ctl(fd(a[0]), a[1] as u32, fd(a[2]), a[3]),
    232 => epoll_wait(fd(a[0]), a[1], a[2] as i32, ms_timeout(a[3] as i32), (0, 0)),
    281 => epoll_wait(
        fd(a[0]),
        a[1],
        a[2] as i32,
        ms_timeout(a[3] as i32),
        (a[4], a[5]),
    ),
    441 => match read_timespec(a[3]) {
        Ok(t) => epoll_wait(fd(a[0]), a[1], a[2] as i32, t, (a[4], a[5])),
        Err(e) => Err(e),
    },
}

fn files() -> Arc<FdTable> {
    crate::task::current().process().files()
}

fn ms_timeout(ms: i32) -> Option<u64> {
    (ms >= 0).then(|| ms as u64 * 1_000_000)
}

/// A user `struct timespec` as nanoseconds (`None` for a null pointer: no limit).
fn read_timespec(addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut ts = [0u8; 16];
    copy_from_user(addr, &mut ts)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or_default());
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or_default());
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Some(
        (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(nsec as u64),
    ))
}

/// What `poll` reports for `file`: its readiness with the `*NORM` twins.
fn readiness(file: &OpenFile) -> u16 {
    let mut ev = file.poll();
    if ev & POLLIN != 0 {
        ev |= POLLRDNORM;
    }
    if ev & POLLOUT != 0 {
        ev |= POLLWRNORM;
    }
    ev
}

/// Sleeps until one of `files` wakes its channel, `deadline` or a signal (`EINTR`).
/// Objects without a channel are re-checked every `pollwait::RECHECK_NS`, timers at
/// their expiry.
pub fn wait_files(files: &[Arc<OpenFile>], deadline: Option<u64>) -> Result<(), Errno> {
    let mut chans = Vec::new();
    chans
        .try_reserve_exact(files.len())
        .map_err(|_| Errno::ENOMEM)?;
    let mut wake = deadline;
    let now = env::monotonic_ns();
    let earlier = |w: Option<u64>, t: u64| Some(w.map_or(t, |w| w.min(t)));
    for f in files {
        match f.wait_chan() {
            Some(c) => chans.push(c),
            None => wake = earlier(wake, now + pollwait::RECHECK_NS),
        }
        if let Some(t) = f.ready_at() {
            wake = earlier(wake, t);
        }
    }
    match pollwait::wait_any(&chans, wake)? {
        Wake::Interrupted => Err(Errno::EINTR),
        _ => Ok(()),
    }
}

/// What a `poll`/`select` of `n` files holds on the heap besides its registrations
/// (charged by `pollwait::wait_any`): `per_fd` bytes of copied user records per file and
/// the files watched (a reference each, twice for select).
fn wait_cost(n: usize, per_fd: usize) -> u64 {
    let refs = 2 * core::mem::size_of::<(usize, Arc<OpenFile>)>() + size_of::<usize>();
    (n as u64).saturating_mul((per_fd + refs) as u64)
}

fn poll(fds: u64, nfds: u64, timeout_ns: Option<u64>) -> SysResult {
    if nfds > MAX_FDS as u64 {
        return Err(Errno::EINVAL);
    }
    let n = nfds as usize;
    // What the call holds while it sleeps, charged to the caller's group: a group's
    // threads each polling 1,024 files would otherwise hold far more than they are
    // charged for.
    let _charge = Charge::new(wait_cost(n, 8))?;
    let mut raw = crate::mm::try_zeroed(n * 8)?;
    copy_from_user(fds, &mut raw)?;
    let deadline = timeout_ns.map(|t| env::monotonic_ns().saturating_add(t));
    let table = files();
    loop {
        let mut ready = 0;
        let mut watched = Vec::new();
        watched.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        for rec in raw.chunks_exact_mut(8) {
            let fd = i32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
            let events = u16::from_le_bytes([rec[4], rec[5]]);
            let revents = if fd < 0 {
                0
            } else {
                match table.get(fd) {
                    Err(_) => POLLNVAL,
                    Ok(f) => {
                        let ev = readiness(&f) & (events | POLLERR | POLLHUP | POLLNVAL);
                        watched.push(f);
                        ev
                    }
                }
            };
            rec[6..8].copy_from_slice(&revents.to_le_bytes());
            if revents != 0 {
                ready += 1;
            }
        }
        if ready > 0 || deadline.is_some_and(|d| env::monotonic_ns() >= d) {
            copy_to_user(fds, &raw)?;
            return Ok(ready);
        }
        wait_files(&watched, deadline)?;
    }
}

/// The signal mask of `ppoll`, `pselect6` and `epoll_pwait` (`set` null: none), in
/// force for the call: the old one comes back on the way out to user space, after a
/// handler the new mask let through has run (as `sigsuspend`).
fn temporary_sigmask(set: u64, size: u64) -> Result<(), Errno> {
    if set == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mut m = [0u8; 8];
    copy_from_user(set, &mut m)?;
    let t = crate::task::current();
    let mut ti = t.inner.lock();
    if ti.saved_mask.is_none() {
        ti.saved_mask = Some(ti.sigmask);
    }
    ti.sigmask = u64::from_le_bytes(m) & !crate::task::signal::UNBLOCKABLE;
    Ok(())
}

/// Writes the time left before `deadline` to a user `timespec` (`micro`: `timeval`).
fn write_time_left(addr: u64, deadline: u64, micro: bool) -> Result<(), Errno> {
    let left = deadline.saturating_sub(env::monotonic_ns());
    let (sec, frac) = (left / 1_000_000_000, left % 1_000_000_000);
    let frac = if micro { frac / 1000 } else { frac };
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&sec.to_le_bytes());
    out[8..].copy_from_slice(&frac.to_le_bytes());
    copy_to_user(addr, &out)
}

fn ppoll(fds: u64, nfds: u64, tmo: u64, set: u64, size: u64) -> SysResult {
    let timeout = read_timespec(tmo)?;
    temporary_sigmask(set, size)?;
    let deadline = timeout.map(|t| env::monotonic_ns().saturating_add(t));
    let r = poll(fds, nfds, timeout);
    if let Some(d) = deadline {
        write_time_left(tmo, d, false)?;
    }
    r
}

/// `pselect6`: the sixth argument points to `{ const sigset_t *ss; size_t ss_len; }`.
fn pselect6(nfds: i32, sets: [u64; 3], tmo: u64, sig: u64) -> SysResult {
    let mask = if sig == 0 {
        (0, 0)
    } else {
        let mut b = [0u8; 16];
        copy_from_user(sig, &mut b)?;
        (
            u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
            u64::from_le_bytes(b[8..].try_into().unwrap_or_default()),
        )
    };
    select(nfds, sets, tmo, Some(mask))
}

// ---- select ----

/// `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET` of Linux's select.
const SELECT_SETS: [u16; 3] = [
    POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR,
    POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR,
    POLLPRI,
];

/// `select` (timeout a `struct timeval`) and `pselect6` (`mask` given: a `struct
/// timespec`, and the signal mask for the call). The time left is written back, as
/// Linux does.
fn select(nfds: i32, sets: [u64; 3], tmo: u64, mask: Option<(u64, u64)>) -> SysResult {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    let pselect = mask.is_some();
    let n = (nfds as usize).min(MAX_FDS);
    let bytes = n.div_ceil(64) * 8;
    let timeout = if tmo == 0 {
        None
    } else if pselect {
        read_timespec(tmo)?
    } else {
        let mut tv = [0u8; 16];
        copy_from_user(tmo, &mut tv)?;
        let sec = i64::from_le_bytes(tv[..8].try_into().unwrap_or_default());
        let usec = i64::from_le_bytes(tv[8..].try_into().unwrap_or_default());
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some(
            (sec as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(usec as u64 * 1000),
        )
    };
    let _charge = Charge::new(wait_cost(n, 0).saturating_add(6 * bytes as u64))?;
    let zeroed = || crate::mm::try_zeroed(bytes);
    let mut ins = [zeroed()?, zeroed()?, zeroed()?];
    for (i, &p) in sets.iter().enumerate() {
        if p != 0 {
            copy_from_user(p, &mut ins[i])?;
        }
    }
    let bit = |set: &[u8], fd: usize| set[fd / 8] & (1 << (fd % 8)) != 0;
    let table = files();
    if let Some((set, size)) = mask {
        temporary_sigmask(set, size)?;
    }
    let mut watched: Vec<(usize, Arc<OpenFile>)> = Vec::new();
    watched.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    for fd in 0..n {
        if (0..3).any(|i| bit(&ins[i], fd)) {
            watched.push((fd, table.get(fd as i32)?));
        }
    }
    let start = env::monotonic_ns();
    let deadline = timeout.map(|t| start.saturating_add(t));
    let mut all: Vec<Arc<OpenFile>> = Vec::new();
    all.try_reserve_exact(watched.len())
        .map_err(|_| Errno::ENOMEM)?;
    all.extend(watched.iter().map(|(_, f)| f.clone()));
    let result = loop {
        let mut outs = [zeroed()?, zeroed()?, zeroed()?];
        let mut count = 0;
        for (fd, f) in &watched {
            let ev = readiness(f);
            for i in 0..3 {
                if bit(&ins[i], *fd) && ev & SELECT_SETS[i] != 0 {
                    outs[i][fd / 8] |= 1 << (fd % 8);
                    count += 1;
                }
            }
        }
        if count > 0 || deadline.is_some_and(|d| env::monotonic_ns() >= d) {
            for (i, &p) in sets.iter().enumerate() {
                if p != 0 {
                    copy_to_user(p, &outs[i])?;
                }
            }
            break Ok(count);
        }
        if let Err(e) = wait_files(&all, deadline) {
            break Err(e);
        }
    };
    if let Some(d) = deadline {
        write_time_left(tmo, d, !pselect)?;
    }
    result
}

// ---- epoll ----

fn epoll_create1(flags: u32) -> SysResult {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    files()
        .install(epoll::new_epoll(), flags & O_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

fn epoll_of(file: &OpenFile) -> Result<Arc<Epoll>, Errno> {
    epoll::epoll_of(file).ok_or(Errno::EINVAL)
}

fn epoll_ctl(epfd: i32, op: u32, fd: i32, event: u64) -> SysResult {
    let t = files();
    let ef = t.get(epfd)?;
    let target = t.get(fd)?;
    let ep = epoll_of(&ef)?;
    let ev = if op == epoll::EPOLL_CTL_DEL {
        EpollEvent::default()
    } else {
        let mut b = [0u8; 12];
        copy_from_user(event, &mut b)?;
        EpollEvent::from_bytes(&b)
    };
    ep.ctl(op, fd, &target, ev).map(|_| 0)
}

fn epoll_wait(
    epfd: i32,
    events: u64,
    max: i32,
    timeout_ns: Option<u64>,
    (set, size): (u64, u64),
) -> SysResult {
    if max <= 0 || max as usize > epoll::EP_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let ef = files().get(epfd)?;
    let ep = epoll_of(&ef)?;
    // Check the buffer before waiting (Linux: EFAULT at once).
    crate::mm::user::clear_user(events, max as usize * 12)?;
    temporary_sigmask(set, size)?;
    let deadline = timeout_ns.map(|t| env::monotonic_ns().saturating_add(t));
    loop {
        let got = ep.collect(max as usize);
        if !got.is_empty() {
            let mut out = Vec::with_capacity(got.len() * 12);
            for e in &got {
                out.extend_from_slice(&e.to_bytes());
            }
            copy_to_user(events, &out)?;
            return Ok(got.len());
        }
        if deadline.is_some_and(|d| env::monotonic_ns() >= d) {
            return Ok(0);
        }
        let wake = match ep.next_recheck() {
            Some(t) => Some(deadline.map_or(t, |d| d.min(t))),
            None => deadline,
        };
        if env::sleep(ep.chan(), wake) == Wake::Interrupted {
            return Err(Errno::EINTR);
        }
    }
}
