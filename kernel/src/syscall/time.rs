//! Clocks, sleeps, interval timers and timerfds. `CLOCK_MONOTONIC` (with `_RAW`, `_COARSE`) and
//! `CLOCK_BOOTTIME` are seen through the caller's TIME container's offsets.

use super::as_i32;
use super::table::syscalls;
use crate::container::time::{Clock, to_container, to_host};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{read_user, write_user};
use crate::task::{self, sched, signal};
use crate::time::{monotonic_ns, realtime_ns};

const NS: u64 = 1_000_000_000;
const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_TAI: i32 = 11;
const TIMER_ABSTIME: u64 = 1;
/// Coarse clocks advance with the timer tick.
const COARSE_NS: u64 = 1_000_000_000 / crate::arch::x86_64::timer::HZ;

syscalls! {
    frame, a;
    228 => clock_gettime(a[0], a[1]),
    229 => clock_getres(a[0], a[1]),
    227 => clock_settime(a[0], a[1]),
    96 => gettimeofday(a[0]),
    164 => settimeofday(a[0], a[1]),
    201 => {
        let t = realtime_ns() / NS;
        if a[0] != 0 {
            write_user(a[0], &t).map(|_| t as usize)
        } else {
            Ok(t as usize)
        }
    },
    35 => nanosleep(CLOCK_MONOTONIC as u64, 0, a[0], a[1]),
    230 => nanosleep(a[0], a[1], a[2], a[3]),
    100 => times(a[0]),
    98 => getrusage(a[0], a[1]),
    37 => alarm(a[0]),
    36 => getitimer(a[0], a[1]),
    38 => setitimer(a[0], a[1], a[2]),
    283 => timerfd_create(a[0], a[1]),
    286 => timerfd_settime(a[0], a[1], a[2], a[3]),
    287 => timerfd_gettime(a[0], a[1]),
}

pub(super) fn read_timespec(addr: u64) -> Result<u64, Errno> {
    let [sec, nsec]: [i64; 2] = read_user(addr)?;
    if sec < 0 || !(0..NS as i64).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((sec as u64).saturating_mul(NS).saturating_add(nsec as u64))
}

fn write_timespec(addr: u64, ns: u64) -> Result<(), Errno> {
    write_user(addr, &[(ns / NS) as i64, (ns % NS) as i64])
}

/// The caller's offset of `clock`: that of its `time` container (not time_for_children).
pub(super) fn offset(clock: Clock) -> i64 {
    task::current_process().containers().time.offset(clock)
}

/// `CLOCK_BOOTTIME` as the caller sees it (also `sysinfo` and `/proc/uptime`).
pub fn boottime_ns() -> u64 {
    to_container(monotonic_ns(), offset(Clock::Boottime))
}

/// The value of a clock in nanoseconds.
fn clock_value(clk: i32) -> Result<u64, Errno> {
    Ok(match clk {
        CLOCK_REALTIME | CLOCK_TAI => realtime_ns(),
        CLOCK_REALTIME_COARSE => realtime_ns() / COARSE_NS * COARSE_NS,
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW => {
            to_container(monotonic_ns(), offset(Clock::Monotonic))
        }
        CLOCK_BOOTTIME => boottime_ns(),
        CLOCK_MONOTONIC_COARSE => to_container(
            monotonic_ns() / COARSE_NS * COARSE_NS,
            offset(Clock::Monotonic),
        ),
        CLOCK_PROCESS_CPUTIME_ID => sched::process_cpu_ns(&task::current_process()),
        CLOCK_THREAD_CPUTIME_ID => sched::thread_cpu_ns(&sched::current()),
        c if c < 0 => cpu_clock(c)?,
        _ => return Err(Errno::EINVAL),
    })
}

/// Clock ids made by `clock_getcpuclockid`/`pthread_getcpuclockid`:
/// `(~pid << 3) | which`, bit 2 set for a thread.
fn cpu_clock(clk: i32) -> Result<u64, Errno> {
    let which = clk & 3;
    if which == 3 {
        return Err(Errno::EINVAL);
    }
    let id = !(clk >> 3);
    if clk & 4 != 0 {
        let t = if id == 0 {
            sched::current()
        } else {
            task::find_thread(id as u32).ok_or(Errno::EINVAL)?
        };
        Ok(sched::thread_cpu_ns(&t))
    } else {
        let p = if id == 0 {
            task::current_process()
        } else {
            task::find_process(id as u32).ok_or(Errno::EINVAL)?
        };
        Ok(sched::process_cpu_ns(&p))
    }
}

fn clock_gettime(clk: u64, ts: u64) -> SysResult {
    let v = clock_value(as_i32(clk))?;
    write_timespec(ts, v)?;
    Ok(0)
}

fn clock_getres(clk: u64, ts: u64) -> SysResult {
    let clk = as_i32(clk);
    clock_value(clk)?;
    let res = if clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE {
        COARSE_NS
    } else {
        1
    };
    if ts != 0 {
        write_timespec(ts, res)?;
    }
    Ok(0)
}

fn clock_settime(clk: u64, ts: u64) -> SysResult {
    let ns = read_timespec(ts)?;
    task::require_cap(crate::cred::CAP_SYS_TIME)?;
    match as_i32(clk) {
        CLOCK_REALTIME => {
            crate::time::set_realtime_ns(ns);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn settimeofday(tv: u64, tz: u64) -> SysResult {
    if tv == 0 {
        // Only a timezone: the kernel keeps none (and Linux ignores it for clocks).
        let _ = tz;
        task::require_cap(crate::cred::CAP_SYS_TIME)?;
        return Ok(0);
    }
    let v: [i64; 2] = read_user(tv)?;
    let ns = timeval_ns(v)?;
    task::require_cap(crate::cred::CAP_SYS_TIME)?;
    crate::time::set_realtime_ns(ns);
    Ok(0)
}

fn gettimeofday(tv: u64) -> SysResult {
    if tv != 0 {
        let ns = realtime_ns();
        write_user(tv, &[(ns / NS) as i64, ((ns % NS) / 1000) as i64])?;
    }
    Ok(0)
}

fn nanosleep(clk: u64, flags: u64, req: u64, rem: u64) -> SysResult {
    let clk = as_i32(clk);
    let ns = read_timespec(req)?;
    let now = monotonic_ns();
    let deadline = match clk {
        // An absolute time of the caller's shifted clock, as host time.
        CLOCK_MONOTONIC if flags & TIMER_ABSTIME != 0 => to_host(ns, offset(Clock::Monotonic)),
        CLOCK_BOOTTIME if flags & TIMER_ABSTIME != 0 => to_host(ns, offset(Clock::Boottime)),
        CLOCK_REALTIME | CLOCK_TAI if flags & TIMER_ABSTIME != 0 => {
            now.saturating_add(ns.saturating_sub(realtime_ns()))
        }
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_REALTIME | CLOCK_TAI => now.saturating_add(ns),
        // Sleeping on a CPU-time clock is not supported (Linux: EOPNOTSUPP for threads).
        CLOCK_THREAD_CPUTIME_ID | CLOCK_PROCESS_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EINVAL),
    };
    if monotonic_ns() >= deadline {
        // Due already (a tiny or past request): still give the CPU to a runnable peer,
        // as Linux's schedule() in do_nanosleep does; usleep(1) loops rely on it.
        sched::yield_now();
        return Ok(0);
    }
    loop {
        match sched::sleep(0, Some(deadline)) {
            sched::Wake::TimedOut => return Ok(0),
            sched::Wake::Interrupted => {
                if rem != 0 && flags & TIMER_ABSTIME == 0 {
                    write_timespec(rem, deadline.saturating_sub(monotonic_ns()))?;
                }
                return Err(Errno::EINTR);
            }
            sched::Wake::Woken => continue,
        }
    }
}

/// Clock ticks of `times` and `/proc` (USER_HZ).
pub const USER_HZ: u64 = 100;

fn ticks_to_user_hz(t: u64) -> u64 {
    t * USER_HZ / crate::arch::x86_64::timer::HZ
}

fn times(buf: u64) -> SysResult {
    if buf != 0 {
        let p = task::current_process();
        let pi = p.inner.lock();
        let v = [
            ticks_to_user_hz(pi.utime_ticks),
            ticks_to_user_hz(pi.stime_ticks),
            ticks_to_user_hz(pi.child_utime_ticks),
            ticks_to_user_hz(pi.child_stime_ticks),
        ];
        drop(pi);
        write_user(buf, &v)?;
    }
    Ok(ticks_to_user_hz(sched::ticks()) as usize)
}

fn getrusage(who: u64, buf: u64) -> SysResult {
    let p = task::current_process();
    let (u, s) = {
        let pi = p.inner.lock();
        match as_i32(who) {
            0 | 1 => (pi.utime_ticks, pi.stime_ticks),
            -1 => (pi.child_utime_ticks, pi.child_stime_ticks),
            _ => return Err(Errno::EINVAL),
        }
    };
    let us = |t: u64| t * 1_000_000 / crate::arch::x86_64::timer::HZ;
    let mut r = [0u64; 18];
    r[0] = us(u) / 1_000_000;
    r[1] = us(u) % 1_000_000;
    r[2] = us(s) / 1_000_000;
    r[3] = us(s) % 1_000_000;
    write_user(buf, &r)?;
    Ok(0)
}

fn alarm(secs: u64) -> SysResult {
    let p = task::current_process();
    let (remaining, _) = signal::set_itimer_real(&p, (secs as u32 as u64) * NS, 0);
    // Rounded to the nearest second, and never 0 while a timer was pending.
    Ok(if remaining == 0 {
        0
    } else {
        ((remaining + NS / 2) / NS).max(1) as usize
    })
}

fn timeval_ns(v: [i64; 2]) -> Result<u64, Errno> {
    if v[0] < 0 || !(0..1_000_000).contains(&v[1]) {
        return Err(Errno::EINVAL);
    }
    Ok((v[0] as u64)
        .saturating_mul(NS)
        .saturating_add(v[1] as u64 * 1000))
}

fn write_itimerval(addr: u64, (value, interval): (u64, u64)) -> Result<(), Errno> {
    let tv = |ns: u64| [(ns / NS) as i64, ((ns % NS) / 1000) as i64];
    let (i, v) = (tv(interval), tv(value));
    write_user(addr, &[i[0], i[1], v[0], v[1]])
}

fn getitimer(which: u64, addr: u64) -> SysResult {
    let p = task::current_process();
    match which {
        0 => write_itimerval(addr, signal::get_itimer_real(&p)).map(|_| 0),
        1 | 2 => write_itimerval(addr, task::cputimer::get(&p, which as usize)).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

fn setitimer(which: u64, new: u64, old: u64) -> SysResult {
    if which > 2 {
        return Err(Errno::EINVAL);
    }
    let v: [i64; 4] = if new != 0 { read_user(new)? } else { [0; 4] };
    let interval = timeval_ns([v[0], v[1]])?;
    let value = timeval_ns([v[2], v[3]])?;
    let p = task::current_process();
    let prev = if which == 0 {
        signal::set_itimer_real(&p, value, interval)
    } else {
        task::cputimer::set(&p, which as usize, value, interval)
    };
    if old != 0 {
        write_itimerval(old, prev)?;
    }
    Ok(0)
}

const TFD_TIMER_ABSTIME: u64 = 1;
const TFD_TIMER_CANCEL_ON_SET: u64 = 2;
const TFD_NONBLOCK: u64 = crate::fs::file::O_NONBLOCK as u64;
const TFD_CLOEXEC: u64 = crate::fs::file::O_CLOEXEC as u64;

/// `timerfd_create`: CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME (the alarm clocks
/// are not provided: `EINVAL`); flags TFD_NONBLOCK and TFD_CLOEXEC.
fn timerfd_create(clock: u64, flags: u64) -> SysResult {
    let clock = as_i32(clock);
    if !matches!(clock, CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME)
        || flags & !(TFD_NONBLOCK | TFD_CLOEXEC) != 0
    {
        return Err(Errno::EINVAL);
    }
    let file = crate::fs::timerfd::open(clock, (flags & TFD_NONBLOCK) as u32);
    let fd = task::current_process()
        .files()
        .install(file, flags & TFD_CLOEXEC != 0)?;
    Ok(fd as usize)
}

/// The timerfd behind `fd`: `EBADF` if not open, `EINVAL` if another kind of file.
fn timerfd_of(fd: u64) -> Result<alloc::sync::Arc<crate::fs::timerfd::TimerFd>, Errno> {
    let file = task::current_process().files().get(as_i32(fd))?;
    crate::fs::timerfd::of_file(&file).ok_or(Errno::EINVAL)
}

/// `struct itimerspec` from `(value, interval)` nanoseconds.
/// Reads a user `struct itimerspec` as (value, interval) in nanoseconds; EINVAL for a
/// negative second count or nanoseconds outside 0..1e9 (timer_settime(2), timerfd_settime(2)).
pub(super) fn read_itimerspec(addr: u64) -> Result<(u64, u64), Errno> {
    let [isec, insec, vsec, vnsec]: [i64; 4] = read_user(addr)?;
    let valid = |s: i64, n: i64| s >= 0 && (0..NS as i64).contains(&n);
    if !valid(isec, insec) || !valid(vsec, vnsec) {
        return Err(Errno::EINVAL);
    }
    let ns = |s: i64, n: i64| (s as u64).saturating_mul(NS).saturating_add(n as u64);
    Ok((ns(vsec, vnsec), ns(isec, insec)))
}

pub(super) fn write_itimerspec(addr: u64, (value, interval): (u64, u64)) -> Result<(), Errno> {
    let ts = |ns: u64| [(ns / NS) as i64, (ns % NS) as i64];
    let (i, v) = (ts(interval), ts(value));
    write_user(addr, &[i[0], i[1], v[0], v[1]])
}

/// `timerfd_settime`: an absolute time (TFD_TIMER_ABSTIME) is on the timer's clock as the
/// caller sees it (TIME container offsets, Linux's `timens_ktime_to_host`); a value of 0
/// disarms. A realtime deadline is fixed when set (a later `clock_settime` does not move it).
fn timerfd_settime(fd: u64, flags: u64, new: u64, old: u64) -> SysResult {
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let t = timerfd_of(fd)?;
    let (value, interval) = read_itimerspec(new)?;
    let now = monotonic_ns();
    let next = if value == 0 {
        None
    } else if flags & TFD_TIMER_ABSTIME == 0 {
        Some(now.saturating_add(value))
    } else {
        Some(match t.clock {
            CLOCK_MONOTONIC => to_host(value, offset(Clock::Monotonic)),
            CLOCK_BOOTTIME => to_host(value, offset(Clock::Boottime)),
            _ => now.saturating_add(value.saturating_sub(realtime_ns())),
        })
    };
    let prev = t.set(next, interval);
    if old != 0 {
        write_itimerspec(old, prev)?;
    }
    Ok(0)
}

fn timerfd_gettime(fd: u64, cur: u64) -> SysResult {
    let t = timerfd_of(fd)?;
    write_itimerspec(cur, t.current().get(monotonic_ns()))?;
    Ok(0)
}
