//! System call entry and dispatch by Linux x86_64 number. Each family lives in its
//! own file; handlers return `SysResult` and never see raw user pointers except
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

use crate::arch::x86_64::trap::TrapFrame;
use crate::errno::{Errno, SysResult};
use core::sync::atomic::{AtomicU8, Ordering};

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
            match table::lookup(nr as usize) {
                Some(handler) => frame.rax = handler(frame),
                None => {
                    if let Ret::Value(r) = by_family(frame, nr as usize) {
                        frame.rax = table::ret(r);
                    }
                    // The read and write family are never in the table (its build
                    // checks), so the table's calls skip this.
                    t.process().io.account(nr, frame.rax);
                }
            }
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
    if frame.rax == Errno::ENOMEM.as_ret() as u64 {
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

/// A number without a slot in the direct table: its family's `dispatch`. Kept out of
/// line so the table's path has a small stack frame.
#[inline(never)]
fn by_family(frame: &mut TrapFrame, nr: usize) -> Ret {
    let a = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    dispatch(frame, nr, a)
}

/// The family (1 + index in [`family`]'s order) that last handled each number: the
/// next call goes there first instead of asking every family in turn. Only a hint: a
/// family that declines falls back to the full search.
static FAMILY_OF: [AtomicU8; 512] = [const { AtomicU8::new(0) }; 512];
const FAMILIES: u8 = 22;

fn dispatch(frame: &mut TrapFrame, nr: usize, a: [u64; 6]) -> Ret {
    let hint = FAMILY_OF.get(nr).map_or(0, |f| f.load(Ordering::Relaxed));
    if hint != 0
        && let Some(r) = family(hint, frame, nr, a)
    {
        return r;
    }
    for fam in (1..=FAMILIES).filter(|&f| f != hint) {
        if let Some(r) = family(fam, frame, nr, a) {
            if let Some(slot) = FAMILY_OF.get(nr) {
                slot.store(fam, Ordering::Relaxed);
            }
            return r;
        }
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

/// Asks family `fam` (1..=FAMILIES) to handle `nr`.
fn family(fam: u8, frame: &mut TrapFrame, nr: usize, a: [u64; 6]) -> Option<Ret> {
    match fam {
        1 => fs::dispatch(nr, a).map(Ret::Value),
        2 => process::dispatch(frame, nr, a),
        3 => signal::dispatch(frame, nr, a),
        4 => cred::dispatch(nr, a).map(Ret::Value),
        5 => container::dispatch(nr, a).map(Ret::Value),
        6 => poll::dispatch(nr, a).map(Ret::Value),
        7 => net::dispatch(nr, a).map(Ret::Value),
        8 => mqueue::dispatch(nr, a).map(Ret::Value),
        9 => sysv::dispatch(nr, a).map(Ret::Value),
        10 => mm::dispatch(nr, a).map(Ret::Value),
        11 => time::dispatch(nr, a).map(Ret::Value),
        12 => seccomp::dispatch(nr, a).map(Ret::Value),
        13 => sys::dispatch(nr, a).map(Ret::Value),
        14 => fsinfo::dispatch(nr, a).map(Ret::Value),
        15 => sigext::dispatch(nr, a).map(Ret::Value),
        16 => fsext::dispatch(nr, a).map(Ret::Value),
        17 => procext::dispatch(nr, a).map(Ret::Value),
        18 => ptimer::dispatch(nr, a).map(Ret::Value),
        19 => mountapi::dispatch(nr, a).map(Ret::Value),
        20 => openat2::dispatch(nr, a).map(Ret::Value),
        21 => xattr::dispatch(nr, a).map(Ret::Value),
        22 => inotify::dispatch(nr, a).map(Ret::Value),
        _ => None,
    }
}

/// `pid_t`-style argument: the low 32 bits as a signed number.
fn as_i32(v: u64) -> i32 {
    v as u32 as i32
}
