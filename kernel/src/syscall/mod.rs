//! System call entry and dispatch by Linux x86_64 number through one table
//! (`table.rs`). Each family lives in its own file and declares its entries there with
//! `syscalls!`; handlers return `SysResult` and never see raw user pointers except
//! through `crate::mm::user`. Unknown numbers give `ENOSYS`.
#![deny(unsafe_code)]

mod container;
mod cred;
pub mod fs;
mod fsext;
mod fsinfo;
mod inotify;
mod lock;
mod mm;
mod mountapi;
mod mqueue;
mod net;
mod openat2;
mod poll;
mod prctl;
mod process;
mod procext;
mod ptimer;
mod seccomp;
mod sigext;
mod signal;
mod sys;
mod sysv;
mod table;
pub mod time;
mod xattr;

use crate::arch::x86_64::trap::{SYSCALL_VECTOR, TrapFrame};
use crate::errno::{Errno, SysResult};
use core::sync::atomic::Ordering;

/// What a handler did with the frame.
pub enum Ret {
    /// Store this result in `rax`.
    Value(SysResult),
    /// The handler rewrote the whole frame (execve, rt_sigreturn).
    Frame,
}

impl From<SysResult> for Ret {
    fn from(r: SysResult) -> Self {
        Ret::Value(r)
    }
}

pub extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    let nr = frame.rax;
    // The original number, for restarting after a signal.
    frame.error = nr;
    // The running thread is read once for the counter, the call and the return path: it
    // stays the running thread until this returns (a handler that sleeps comes back on
    // it; one that exits only marks it, and `pending_work` leaves the CPU).
    let work = crate::task::sched::with_current(|t| {
        t.process().syscalls.fetch_add(1, Ordering::Relaxed);
        if !(crate::seccomp::any_active() && seccomp::stops(frame)) {
            frame.rax = match table::lookup(nr as usize) {
                Some(handler) => handler(frame),
                None => unknown(nr),
            };
        }
        t.take_work()
    });
    // One test for the rare cases: work for this thread, a reschedule, or an error
    // (`-4095..=-1`: `ENOMEM` may call the OOM killer, `EINTR` may restart).
    if work || crate::task::sched::need_resched() || frame.rax >= MAX_ERRNO.wrapping_neg() {
        after_syscall_slow(frame, work);
    }
}

/// The largest errno: a return value in `-MAX_ERRNO..=-1` is an error (Linux's `IS_ERR_VALUE`).
const MAX_ERRNO: u64 = 4095;

/// The rare way out of a system call (out of line, keeping the common one short).
#[inline(never)]
fn after_syscall_slow(frame: &mut TrapFrame, work: bool) {
    // A rewritten frame (execve's, or rt_sigreturn's restored `rax`) is no failed call
    // to run again: its `vector` is no longer the system call's.
    if frame.rax == Errno::ENOMEM.as_ret() as u64 && frame.vector == SYSCALL_VECTOR {
        out_of_memory(frame);
    }
    if work || crate::task::sched::need_resched() || frame.rax == Errno::EINTR.as_ret() as u64 {
        pending_work(frame);
    }
}

/// A call failed with `ENOMEM`: when the machine (not the caller's group) is out of
/// memory, the OOM killer frees some and the call runs again (it built nothing, so this
/// is the caller's own retry); each retry costs a process, so this ends.
fn out_of_memory(frame: &mut TrapFrame) {
    if crate::task::oom::machine_is_out() && crate::task::oom::out_of_memory() {
        frame.rax = frame.error;
        frame.rip -= 2;
    }
}

/// The last step before any return to ring 3: preemption, then signals.
/// A thread that exited leaves the CPU here, where its stack holds no references.
/// Nothing pending (one flag of the thread, the reschedule flag, no `EINTR` to restart):
/// straight back.
#[inline(always)]
pub fn return_to_user(frame: &mut TrapFrame) {
    use crate::task::sched;
    let work = sched::with_current(|t| t.take_work());
    if !work && !sched::need_resched() && frame.rax != Errno::EINTR.as_ret() as u64 {
        return;
    }
    pending_work(frame);
}

/// Something is pending on the way back to ring 3 (out of line: the rare case).
#[inline(never)]
fn pending_work(frame: &mut TrapFrame) {
    use crate::task::sched;
    if sched::current_is_dead() {
        sched::exit_current();
    }
    if sched::need_resched() {
        sched::yield_now();
    }
    crate::task::signal::deliver(frame);
    if sched::current_is_dead() {
        sched::exit_current();
    }
}

/// A number without a handler: `ENOSYS`.
#[inline(never)]
fn unknown(nr: u64) -> u64 {
    log::debug!("unimplemented syscall {nr}");
    Errno::ENOSYS.as_ret() as u64
}

/// `pid_t`-style argument: the low 32 bits as a signed number.
fn as_i32(v: u64) -> i32 {
    v as u32 as i32
}
