//! Signal calls beyond the basic set: `rt_sigtimedwait`, `rt_sigqueueinfo`,
//! `rt_tgsigqueueinfo`, `pidfd_send_signal` and `signalfd`/`signalfd4`.

use super::as_i32;
use super::signal::{check_sig, init_accepts, may_signal};
use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_from_user, copy_to_user, read_user};
use crate::task::signal::{self, SI_TKILL, SI_USER, SigDetail, UNBLOCKABLE};
use crate::task::{self, sched};
use alloc::sync::Arc;

syscalls! {
    frame, a;
    128 => rt_sigtimedwait(a[0], a[1], a[2], a[3]),
    282 => signalfd4(a[0], a[1], a[2], 0),
    289 => signalfd4(a[0], a[1], a[2], a[3] as u32),
    129 => rt_sigqueueinfo(a[0], a[1], a[2]),
    297 => rt_tgsigqueueinfo(a[0], a[1], a[2], a[3]),
    424 => pidfd_send_signal(a[0], a[1], a[2], a[3]),
}

/// A `struct timespec` timeout in nanoseconds (`EINVAL` when out of range).
fn read_timeout(addr: u64) -> Result<u64, Errno> {
    let ts: [i64; 2] = read_user(addr)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return Err(Errno::EINVAL);
    }
    Ok((ts[0] as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts[1] as u64))
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending signal of `set`
/// (waiting for one, with the set unblocked meanwhile), `EAGAIN` at the timeout,
/// `EINTR` when another signal is delivered instead.
fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, size: u64) -> SysResult {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let set: u64 = read_user::<u64>(set)? & !UNBLOCKABLE;
    let deadline = if timeout != 0 {
        Some(crate::time::monotonic_ns().saturating_add(read_timeout(timeout)?))
    } else {
        None
    };
    let t = sched::current();
    let taken = loop {
        if let Some(s) = signal::take_from_set(&t, set) {
            break s;
        }
        t.inner.lock().sigwait = set;
        let woke = sched::sleep(0, deadline);
        t.inner.lock().sigwait = 0;
        if let Some(s) = signal::take_from_set(&t, set) {
            break s;
        }
        match woke {
            sched::Wake::TimedOut => return Err(Errno::EAGAIN),
            sched::Wake::Interrupted if signal::has_pending(&t) => return Err(Errno::EINTR),
            _ => {}
        }
    };
    let (sig, detail) = taken;
    if info != 0 {
        copy_to_user(info, &signal::siginfo_bytes(&t, sig, detail))?;
    }
    Ok(sig as usize)
}

/// A caller-built `siginfo_t` (`rt_sigqueueinfo` and friends). A process may give
/// itself anything; others only negative codes other than `SI_TKILL` (`EPERM`), so it
/// cannot pose as the kernel or `kill`.
fn user_info(addr: u64, to_self: bool) -> Result<(i32, SigDetail), Errno> {
    let mut b = [0u8; 128];
    copy_from_user(addr, &mut b)?;
    let word = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let signo = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let code = i32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    if !to_self && (code >= 0 || code == SI_TKILL) {
        return Err(Errno::EPERM);
    }
    let head = word(16);
    Ok((
        signo,
        SigDetail {
            code,
            pid: head as u32,
            uid: (head >> 32) as u32,
            value: word(24),
            errno: 0,
        },
    ))
}

fn is_self(p: &Arc<task::Process>) -> bool {
    Arc::ptr_eq(p, &task::current_process())
}

fn rt_sigqueueinfo(pid: u64, sig: u64, info: u64) -> SysResult {
    let sig = check_sig(sig)?;
    let p = task::find_process(as_i32(pid).max(0) as u32).ok_or(Errno::ESRCH)?;
    let (_, detail) = user_info(info, is_self(&p))?;
    if !may_signal(&p) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && init_accepts(&p, sig) {
        signal::queue_to_process(&p, sig, Some(detail))?;
    }
    Ok(0)
}

fn rt_tgsigqueueinfo(tgid: u64, tid: u64, sig: u64, info: u64) -> SysResult {
    let sig = check_sig(sig)?;
    let (tgid, tid) = (as_i32(tgid), as_i32(tid));
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let t = task::find_thread(tid as u32).ok_or(Errno::ESRCH)?;
    if task::view_nr(t.process().pid_ref()) != tgid as u32 {
        return Err(Errno::ESRCH);
    }
    let (_, detail) = user_info(info, is_self(t.process()))?;
    if !may_signal(t.process()) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && init_accepts(t.process(), sig) {
        signal::queue_to_thread(&t, sig, Some(detail))?;
    }
    Ok(0)
}

/// `pidfd_send_signal(pidfd, sig, info, flags)`: `kill` through a pidfd (`EBADF` for
/// another kind of fd, `EINVAL` for flags, a process outside the caller's PID container
/// and its descendants, or an `info` whose `si_signo` is not `sig`).
fn pidfd_send_signal(pidfd: u64, sig: u64, info: u64, flags: u64) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let sig = check_sig(sig)?;
    let file = task::current_process().files().get(as_i32(pidfd))?;
    let p = task::pidfd::process_of(&file).ok_or(Errno::EBADF)?;
    if p.inner.lock().zombie.is_some() {
        return Err(Errno::ESRCH);
    }
    if p.pid_ref().nr_in(&task::caller_pid_container()).is_none() {
        return Err(Errno::EINVAL);
    }
    let detail = if info != 0 {
        let (signo, d) = user_info(info, is_self(&p))?;
        if signo != sig as i32 {
            return Err(Errno::EINVAL);
        }
        d
    } else {
        SigDetail::from_process(SI_USER, &task::current_process(), &p, 0)
    };
    if !may_signal(&p) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && init_accepts(&p, sig) {
        signal::queue_to_process(&p, sig, Some(detail))?;
    }
    Ok(0)
}

/// `signalfd4(fd, mask, sizemask, flags)`: a new signalfd (`fd` -1) or a new mask for
/// an existing one (`EINVAL` if `fd` is another kind of file).
fn signalfd4(fd: u64, mask: u64, size: u64, flags: u32) -> SysResult {
    use crate::task::signalfd::{self, SFD_CLOEXEC, SFD_NONBLOCK};
    if size != 8 || flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = read_user(mask)?;
    let files = task::current_process().files();
    match as_i32(fd) {
        -1 => {
            let file = signalfd::open(mask, flags);
            files
                .install(file, flags & SFD_CLOEXEC != 0)
                .map(|fd| fd as usize)
        }
        fd => {
            signalfd::set_mask(files.get(fd)?.as_ref(), mask)?;
            Ok(fd as usize)
        }
    }
}
