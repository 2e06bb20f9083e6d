//! POSIX timers: `timer_create`, `timer_settime`, `timer_gettime`, `timer_getoverrun`,
//! `timer_delete` on `CLOCK_REALTIME`, `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME` and `CLOCK_TAI`
//! (the CPU-time and alarm clocks give `EINVAL`), with `SIGEV_SIGNAL`, `SIGEV_NONE`,
//! `SIGEV_THREAD` (a signal, as Linux's) and `SIGEV_THREAD_ID`.

use super::as_i32;
use super::table::syscalls;
use super::time::{offset, read_itimerspec, write_itimerspec};
use crate::container::time::{Clock, to_host};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{read_user, write_user};
use crate::task::ptimer::{self, Notify};
use crate::task::{self, signal};
use crate::time::{monotonic_ns, realtime_ns};
use alloc::sync::Arc;

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_TAI: i32 = 11;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;
const TIMER_ABSTIME: u64 = 1;
const SIGALRM: u32 = 14;

syscalls! {
    frame, a;
    222 => timer_create(as_i32(a[0]), a[1], a[2]),
    223 => timer_settime(as_i32(a[0]), a[1], a[2], a[3]),
    224 => timer_gettime(as_i32(a[0]), a[1]),
    225 => ptimer::overrun(&task::current_process(), as_i32(a[0]), monotonic_ns())
        .map(|n| n.min(i32::MAX as u64) as usize),
    226 => ptimer::delete(&task::current_process(), as_i32(a[0])).map(|_| 0),
}

/// What `struct sigevent` asks for (`EINVAL` for a bad notify, signal or thread); `None`
/// for NULL (SIGALRM with the timer id as its value).
fn read_sigevent(addr: u64) -> Result<Option<Notify>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let raw: [u64; 3] = read_user(addr)?;
    let value = raw[0];
    let signo = raw[1] as u32 as i32;
    let notify = (raw[1] >> 32) as u32 as i32;
    let tid = raw[2] as u32 as i32;
    let sig_ok = (1..=signal::NSIG as i32).contains(&signo);
    Ok(Some(match notify {
        SIGEV_NONE => Notify::Nothing,
        SIGEV_SIGNAL | SIGEV_THREAD if sig_ok => Notify::Process {
            sig: signo as u32,
            value,
        },
        n if n == SIGEV_SIGNAL | SIGEV_THREAD_ID && sig_ok => {
            let t = task::find_thread(tid.max(0) as u32).ok_or(Errno::EINVAL)?;
            if !Arc::ptr_eq(t.process(), &task::current_process()) {
                return Err(Errno::EINVAL);
            }
            Notify::Thread {
                thread: Arc::downgrade(&t),
                sig: signo as u32,
                value,
            }
        }
        _ => return Err(Errno::EINVAL),
    }))
}

fn timer_create(clock: i32, sevp: u64, id_out: u64) -> SysResult {
    if !matches!(
        clock,
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI
    ) {
        return Err(Errno::EINVAL);
    }
    let p = task::current_process();
    let notify = read_sigevent(sevp)?;
    write_user(id_out, &0i32)?;
    let id = ptimer::create(&p, clock, |id| {
        notify.unwrap_or(Notify::Process {
            sig: SIGALRM,
            value: id as u64,
        })
    })?;
    if let Err(e) = write_user(id_out, &id) {
        let _ = ptimer::delete(&p, id);
        return Err(e);
    }
    Ok(0)
}

fn timer_settime(id: i32, flags: u64, new: u64, old: u64) -> SysResult {
    if flags & !TIMER_ABSTIME != 0 {
        return Err(Errno::EINVAL);
    }
    let p = task::current_process();
    let (value, interval) = read_itimerspec(new)?;
    let now = monotonic_ns();
    let next = if value == 0 {
        None
    } else if flags & TIMER_ABSTIME == 0 {
        Some(now.saturating_add(value))
    } else {
        Some(match ptimer::clock(&p, id)? {
            CLOCK_MONOTONIC => to_host(value, offset(Clock::Monotonic)),
            CLOCK_BOOTTIME => to_host(value, offset(Clock::Boottime)),
            _ => now.saturating_add(value.saturating_sub(realtime_ns())),
        })
    };
    let prev = ptimer::set(&p, id, now, next, interval)?;
    if old != 0 {
        write_itimerspec(old, prev)?;
    }
    Ok(0)
}

fn timer_gettime(id: i32, cur: u64) -> SysResult {
    let v = ptimer::get(&task::current_process(), id, monotonic_ns())?;
    write_itimerspec(cur, v)?;
    Ok(0)
}
