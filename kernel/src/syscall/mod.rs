//! System call entry and dispatch by Linux x86_64 number. Each family lives in its
//! own file; handlers return `SysResult` and never see raw user pointers except
//! through `crate::mm::user`. Unknown numbers give `ENOSYS`.
#![deny(unsafe_code)]

mod container;
mod cred;
pub mod fs;
mod fsext;
mod fsinfo;
mod mm;
mod mqueue;
mod process;
mod procext;
mod ptimer;
mod sigext;
mod signal;
mod sys;
mod sysv;
pub mod time;

use crate::arch::x86_64::trap::TrapFrame;
use crate::errno::{Errno, SysResult};

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
    let a = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    let ret = dispatch(frame, nr as usize, a);
    if let Ret::Value(r) = ret {
        frame.rax = match r {
            Ok(v) => v as u64,
            Err(e) => e.as_ret() as u64,
        };
    }
    return_to_user(frame);
}

/// The last step before any return to ring 3: preemption, then signals.
/// A thread that exited leaves the CPU here, where its stack holds no references.
pub fn return_to_user(frame: &mut TrapFrame) {
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

fn dispatch(frame: &mut TrapFrame, nr: usize, a: [u64; 6]) -> Ret {
    if let Some(r) = fs::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = process::dispatch(frame, nr, a) {
        return r;
    }
    if let Some(r) = signal::dispatch(frame, nr, a) {
        return r;
    }
    if let Some(r) = cred::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = container::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = mqueue::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = sysv::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = mm::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = time::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = sys::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = fsinfo::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = sigext::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = fsext::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = procext::dispatch(nr, a) {
        return Ret::Value(r);
    }
    if let Some(r) = ptimer::dispatch(nr, a) {
        return Ret::Value(r);
    }
    log::debug!("unimplemented syscall {nr}");
    Ret::Value(Err(Errno::ENOSYS))
}

/// `pid_t`-style argument: the low 32 bits as a signed number.
fn as_i32(v: u64) -> i32 {
    v as u32 as i32
}
