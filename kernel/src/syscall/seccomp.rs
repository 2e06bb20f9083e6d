//! seccomp(2) (317), `prctl(PR_SET_SECCOMP/PR_GET_SECCOMP)`, and the check every system
//! call of a thread with a seccomp mode passes before dispatch. The filters and their
//! rules are in `crate::seccomp`.

use super::table::syscalls;
use crate::arch::x86_64::trap::TrapFrame;
use crate::cred::CAP_SYS_ADMIN;
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_from_user, read_user, write_user};
use crate::seccomp::{self, Action, Filter, bpf};
use crate::task::{self, Thread, exit, sched, signal};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

const SET_MODE_STRICT: u32 = 0;
const SET_MODE_FILTER: u32 = 1;
const GET_ACTION_AVAIL: u32 = 2;
const GET_NOTIF_SIZES: u32 = 3;

const FLAG_TSYNC: u32 = 1;
const FLAG_LOG: u32 = 2;
const FLAG_SPEC_ALLOW: u32 = 4;
const FLAG_NEW_LISTENER: u32 = 8;
const FLAG_TSYNC_ESRCH: u32 = 16;
const FLAG_WAIT_KILLABLE_RECV: u32 = 32;

const SIGSYS: u32 = 31;

syscalls! {
    frame, a;
    317 => do_seccomp(a[0] as u32, a[1] as u32, a[2]),
}

/// `PR_GET_SECCOMP`: the caller's mode (in strict mode the `prctl` itself kills).
pub fn prctl_get() -> SysResult {
    Ok(sched::current().seccomp.mode() as usize)
}

/// `PR_SET_SECCOMP`: strict mode, or a filter at `arg3` without flags.
pub fn prctl_set(mode: u64, arg3: u64) -> SysResult {
    match mode {
        1 => do_seccomp(SET_MODE_STRICT, 0, 0),
        2 => do_seccomp(SET_MODE_FILTER, 0, arg3),
        _ => Err(Errno::EINVAL),
    }
}

fn do_seccomp(op: u32, flags: u32, uargs: u64) -> SysResult {
    match op {
        SET_MODE_STRICT => {
            if flags != 0 || uargs != 0 {
                return Err(Errno::EINVAL);
            }
            sched::current().seccomp.set_strict()?;
            Ok(0)
        }
        SET_MODE_FILTER => set_mode_filter(flags, uargs),
        GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let action: u32 = read_user(uargs)?;
            if seccomp::action_available(action) {
                Ok(0)
            } else {
                Err(Errno::EOPNOTSUPP)
            }
        }
        GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            // struct seccomp_notif, seccomp_notif_resp, seccomp_data.
            write_user(uargs, &[80u16, 24, 64])?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Copies and checks the program, then stacks it on the caller (and with TSYNC on every
/// thread of the process) in Linux's order of checks.
fn set_mode_filter(flags: u32, uargs: u64) -> SysResult {
    let known = FLAG_TSYNC
        | FLAG_LOG
        | FLAG_SPEC_ALLOW
        | FLAG_NEW_LISTENER
        | FLAG_TSYNC_ESRCH
        | FLAG_WAIT_KILLABLE_RECV;
    // No notification listener exists yet: NEW_LISTENER (and what needs it) is refused.
    if flags & !known != 0 || flags & (FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV) != 0 {
        return Err(Errno::EINVAL);
    }
    // struct sock_fprog: a u16 length, padding, then the pointer.
    let [len, ptr]: [u64; 2] = read_user(uargs)?;
    let len = len as u16 as usize;
    if len == 0 || len > bpf::MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    let cred = task::current_cred();
    if !cred.no_new_privs && !cred.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EACCES);
    }
    let prog = read_program(ptr, len)?;
    let t = sched::current();
    t.seccomp.may_enter(seccomp::MODE_FILTER)?;
    let filter = Filter::new(prog, flags & FLAG_LOG != 0, t.seccomp.filter())?;
    if flags & FLAG_TSYNC == 0 {
        t.seccomp.install(filter);
        return Ok(0);
    }
    // Held while the threads change: clone takes it to copy its creator's filters.
    let p = t.process().clone();
    let pi = p.inner.lock();
    for o in pi.threads.iter().filter(|o| !Arc::ptr_eq(o, &t)) {
        let fits = match o.seccomp.mode() {
            seccomp::MODE_DISABLED => true,
            seccomp::MODE_FILTER => filter.descends_from(o.seccomp.filter().as_ref()),
            _ => false,
        };
        if !fits {
            if flags & FLAG_TSYNC_ESRCH != 0 {
                return Err(Errno::ESRCH);
            }
            // Linux returns the number of the first thread that cannot follow.
            return Ok(task::view_nr(o.tid_ref()) as usize);
        }
    }
    for o in pi.threads.iter() {
        o.seccomp.install(filter.clone());
    }
    t.seccomp.install(filter);
    Ok(0)
}

/// The `struct sock_filter` array at `ptr` (`EFAULT` when unreadable).
fn read_program(ptr: u64, len: usize) -> Result<Vec<bpf::Insn>, Errno> {
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len * 8)
        .map_err(|_| Errno::ENOMEM)?;
    bytes.resize(len * 8, 0);
    copy_from_user(ptr, &mut bytes)?;
    let mut prog = Vec::new();
    prog.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    prog.extend(bytes.chunks_exact(8).map(|c| bpf::Insn {
        code: u16::from_le_bytes([c[0], c[1]]),
        jt: c[2],
        jf: c[3],
        k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
    }));
    Ok(prog)
}

/// Called at system-call entry. While no thread has a seccomp mode this is one load;
/// otherwise the caller's mode and filters decide. Returns true when the call must not run (`rax`
/// then holds its result, or the thread is dying, or SIGSYS is pending).
pub fn stops(frame: &mut TrapFrame) -> bool {
    if !seccomp::any_active() {
        return false;
    }
    let t = sched::current();
    match t.seccomp.mode() {
        seccomp::MODE_DISABLED => false,
        seccomp::MODE_STRICT => {
            if seccomp::strict_allows(frame.error) {
                return false;
            }
            log::info!(
                "seccomp: strict mode killed tid {} (nr {})",
                t.tid(),
                frame.error
            );
            kill(&t, signal::SIGKILL);
            true
        }
        _ => run_filters(&t, frame),
    }
}

fn run_filters(t: &Arc<Thread>, frame: &mut TrapFrame) -> bool {
    let Some(filter) = t.seccomp.filter() else {
        return false;
    };
    let nr = frame.error as i32;
    let data = bpf::Data {
        nr,
        arch: seccomp::AUDIT_ARCH_X86_64,
        instruction_pointer: frame.rip,
        args: [
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ],
    };
    let (ret, log) = filter.run(&data);
    drop(filter);
    let action = Action::of(ret);
    let logged = match action {
        Action::Allow => false,
        Action::KillProcess | Action::KillThread | Action::Log => true,
        _ => log,
    };
    if logged {
        log::info!(
            "seccomp: pid {} tid {} nr {nr} ip {:#x}: {action:?}",
            t.process().pid(),
            t.tid(),
            frame.rip
        );
    }
    match action {
        Action::Allow | Action::Log => return false,
        Action::Errno(e) => frame.rax = (-(e as i64)) as u64,
        Action::Trace | Action::UserNotif => frame.rax = Errno::ENOSYS.as_ret() as u64,
        Action::Trap(data) => {
            // As Linux's syscall_rollback: the handler sees the number in rax.
            frame.rax = frame.error;
            let d =
                signal::SigDetail::sigsys(frame.rip, nr, seccomp::AUDIT_ARCH_X86_64, data as i32);
            signal::force_on_thread(t, SIGSYS, d);
        }
        Action::KillThread => kill(t, SIGSYS),
        Action::KillProcess => exit::exit_group(SIGSYS as i32),
    }
    // Not a system call that ran: an ERRNO of EINTR is returned, never restarted.
    frame.vector = 0;
    true
}

/// Ends the calling thread as killed by `sig`; the last thread takes the process.
fn kill(t: &Arc<Thread>, sig: u32) {
    if t.process().live_threads.load(Ordering::Acquire) <= 1 {
        exit::exit_group(sig as i32);
    } else {
        exit::exit_thread(sig as i32);
    }
}
