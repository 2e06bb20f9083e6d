//! Scheduling policies and parameters: `sched_{get,set}scheduler`, `sched_{get,set}param`,
//! the priority ranges and `sched_setaffinity`, with `struct sched_param` as one `i32` priority.

use crate::container::cnr;
use crate::sys::{SysResult, check, syscall1, syscall2, syscall3};

pub const SCHED_OTHER: usize = 0;
pub const SCHED_FIFO: usize = 1;
pub const SCHED_RR: usize = 2;

const SCHED_GET_PRIORITY_MAX: usize = 146;
const SCHED_GET_PRIORITY_MIN: usize = 147;

/// `sched_getscheduler(pid)`: the policy.
pub fn getscheduler(pid: i32) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(cnr::SCHED_GETSCHEDULER, pid as isize as usize) })
}

/// `sched_setscheduler(pid, policy, {prio})`.
pub fn setscheduler(pid: i32, policy: usize, prio: i32) -> SysResult {
    // SAFETY: `prio` is a live `struct sched_param` (one int).
    check(unsafe {
        syscall3(
            cnr::SCHED_SETSCHEDULER,
            pid as isize as usize,
            policy,
            &prio as *const i32 as usize,
        )
    })
}

/// `sched_getparam(pid)`: the priority.
pub fn getparam(pid: i32) -> SysResult<i32> {
    let mut param = -1i32;
    // SAFETY: `param` is a live `struct sched_param`.
    check(unsafe {
        syscall2(
            cnr::SCHED_GETPARAM,
            pid as isize as usize,
            &mut param as *mut i32 as usize,
        )
    })?;
    Ok(param)
}

/// `sched_setparam(pid, {prio})`.
pub fn setparam(pid: i32, prio: i32) -> SysResult {
    // SAFETY: `prio` is a live `struct sched_param`.
    check(unsafe {
        syscall2(
            cnr::SCHED_SETPARAM,
            pid as isize as usize,
            &prio as *const i32 as usize,
        )
    })
}

/// `sched_get_priority_max(policy)`.
pub fn prio_max(policy: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(SCHED_GET_PRIORITY_MAX, policy) })
}

/// `sched_get_priority_min(policy)`.
pub fn prio_min(policy: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall1(SCHED_GET_PRIORITY_MIN, policy) })
}

/// `sched_setaffinity(pid, 8, &mask)`: CPUs 0..63.
pub fn setaffinity(pid: i32, mask: u64) -> SysResult {
    // SAFETY: `mask` is 8 live bytes.
    check(unsafe {
        syscall3(
            cnr::SCHED_SETAFFINITY,
            pid as isize as usize,
            8,
            &mask as *const u64 as usize,
        )
    })
}
