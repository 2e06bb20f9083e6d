//! Futexes: waiters sleep on the physical address of the futex word, so private and
//! shared mappings (across processes) both work.

use super::sched::{self, Wake};
use crate::errno::{Errno, SysResult};
use crate::mm::user::read_user;

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;

/// The wait channel of the futex word at `uaddr`.
fn key(uaddr: u64) -> Result<usize, Errno> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let vm = super::current_vm();
    let pa = vm.lock().user_phys(uaddr, false)?;
    Ok(pa as usize)
}

/// FUTEX_WAIT: sleeps while `*uaddr == val`, until woken or `deadline_ns` (monotonic).
pub fn wait(uaddr: u64, val: u32, deadline_ns: Option<u64>) -> SysResult {
    let k = key(uaddr)?;
    let cur: u32 = read_user(uaddr)?;
    if cur != val {
        return Err(Errno::EAGAIN);
    }
    match sched::sleep(k, deadline_ns) {
        Wake::Woken => Ok(0),
        Wake::TimedOut => Err(Errno::ETIMEDOUT),
        Wake::Interrupted => Err(Errno::EINTR),
    }
}

/// FUTEX_WAKE: wakes up to `n` waiters; returns how many.
pub fn wake(uaddr: u64, n: u32) -> SysResult {
    let k = key(uaddr)?;
    Ok(sched::wakeup_n(k, n as usize))
}

/// Wakes waiters on `uaddr` of the current address space, ignoring errors (thread exit).
pub fn wake_addr(uaddr: u64, n: u32) {
    let _ = wake(uaddr, n);
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE.
pub fn requeue(
    uaddr: u64,
    n_wake: u32,
    n_requeue: u32,
    uaddr2: u64,
    cmp: Option<u32>,
) -> SysResult {
    let k1 = key(uaddr)?;
    let k2 = key(uaddr2)?;
    if let Some(expected) = cmp {
        let cur: u32 = read_user(uaddr)?;
        if cur != expected {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = sched::wakeup_n(k1, n_wake as usize);
    let moved = sched::requeue(k1, k2, n_requeue as usize);
    Ok(woken + moved)
}
