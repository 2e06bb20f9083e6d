//! Signal system calls: sigaction, masks, kill/tgkill, sigreturn, sigsuspend, pause.

use super::table::syscalls;
use super::{Ret, as_i32};
use crate::errno::{Errno, SysResult};
use crate::mm::user::{read_user, write_user};
use crate::task::signal::{self, NSIG, SigAction, UNBLOCKABLE, bit};
use crate::task::{self, sched};
use alloc::sync::Arc;
use alloc::vec::Vec;

syscalls! {
    frame, a;
    13 => rt_sigaction(a[0], a[1], a[2], a[3]),
    14 => rt_sigprocmask(a[0], a[1], a[2], a[3]),
    15 => match signal::sigreturn(frame) {
        Ok(()) => Ret::Frame,
        Err(_) => {
            crate::task::exit::exit_group(signal::SIGSEGV as i32);
            Ret::Frame
        }
    },
    127 => rt_sigpending(a[0], a[1]),
    130 => rt_sigsuspend(a[0], a[1]),
    131 => sigaltstack(a[0], a[1], frame.rsp),
    34 => pause(),
    62 => kill(a[0], a[1]),
    200 => tgkill(None, a[0], a[1]),
    234 => tgkill(Some(a[0]), a[1], a[2]),
}

pub(super) fn check_sig(sig: u64) -> Result<u32, Errno> {
    if sig > NSIG as u64 {
        Err(Errno::EINVAL)
    } else {
        Ok(sig as u32)
    }
}

fn rt_sigaction(sig: u64, act: u64, old: u64, size: u64) -> SysResult {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let sig = check_sig(sig)?;
    if sig == 0 {
        return Err(Errno::EINVAL);
    }
    let new: Option<SigAction> = if act != 0 {
        Some(read_user(act)?)
    } else {
        None
    };
    if new.is_some() && (sig == signal::SIGKILL || sig == signal::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let acts = task::current_process().inner.lock().sigactions.clone();
    let prev = acts.lock()[(sig - 1) as usize];
    if old != 0 {
        write_user(old, &prev)?;
    }
    if let Some(mut n) = new {
        n.mask &= !UNBLOCKABLE;
        acts.lock()[(sig - 1) as usize] = n;
        if n.handler == signal::SIG_IGN {
            // Setting a signal to ignored discards it where it is pending.
            signal::discard(&task::current_process(), sig);
        }
    }
    Ok(0)
}

fn rt_sigprocmask(how: u64, set: u64, old: u64, size: u64) -> SysResult {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let t = sched::current();
    let new: Option<u64> = if set != 0 {
        Some(read_user(set)?)
    } else {
        None
    };
    if new.is_some() && how > 2 {
        return Err(Errno::EINVAL);
    }
    let cur = t.inner.lock().sigmask;
    if old != 0 {
        write_user(old, &cur)?;
    }
    if let Some(s) = new {
        let m = match how {
            0 => cur | s,
            1 => cur & !s,
            _ => s,
        };
        t.inner.lock().sigmask = m & !UNBLOCKABLE;
        t.note_work();
    }
    Ok(0)
}

fn rt_sigpending(set: u64, size: u64) -> SysResult {
    if size > 8 {
        return Err(Errno::EINVAL);
    }
    let t = sched::current();
    let (own, mask) = {
        let ti = t.inner.lock();
        (ti.pending, ti.sigmask)
    };
    let shared = t.process().inner.lock().pending;
    let v = (own | shared) & mask;
    crate::mm::user::copy_to_user(set, &v.to_le_bytes()[..size as usize])?;
    Ok(0)
}

fn rt_sigsuspend(set: u64, size: u64) -> SysResult {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = read_user(set)?;
    let t = sched::current();
    {
        let mut ti = t.inner.lock();
        ti.saved_mask = Some(ti.sigmask);
        ti.sigmask = mask & !UNBLOCKABLE;
    }
    t.note_work();
    loop {
        if sched::sleep(0, None) == sched::Wake::Interrupted {
            return Err(Errno::EINTR);
        }
    }
}

fn pause() -> SysResult {
    loop {
        if sched::sleep(0, None) == sched::Wake::Interrupted {
            return Err(Errno::EINTR);
        }
    }
}

fn sigaltstack(new: u64, old: u64, sp: u64) -> SysResult {
    let n = if new != 0 {
        let raw: [u64; 3] = read_user(new)?;
        Some((raw[0], raw[2], raw[1] as u32 as i32))
    } else {
        None
    };
    let prev = signal::set_altstack(n, sp)?;
    if old != 0 {
        write_user(old, &[prev.0, prev.2 as u32 as u64, prev.1])?;
    }
    Ok(0)
}

/// Whether the caller may deliver `sig` to `p` given init protection
/// (pid_namespaces(7)): an init (the global one or a container's) only receives
/// signals it has a handler for, except SIGKILL and SIGSTOP from an ancestor container.
pub(super) fn init_accepts(p: &Arc<task::Process>, sig: u32) -> bool {
    let pid = p.pid_ref();
    if p.pid() != 1 && !pid.is_container_init() {
        return true;
    }
    if (sig == signal::SIGKILL || sig == signal::SIGSTOP) && pid.is_container_init() {
        let mine = task::caller_pid_container();
        let theirs = pid.container();
        if !Arc::ptr_eq(&mine, theirs) && mine.is_ancestor_of(theirs) {
            return true;
        }
    }
    // A blocked signal is queued whatever its handler: the init may install one before
    // unblocking it (Linux's sig_ignored); one still at SIG_DFL is dropped at delivery.
    let main = p.inner.lock().threads.first().cloned();
    let blocked = main.is_some_and(|t| t.inner.lock().sigmask & bit(sig) != 0);
    let acts = p.inner.lock().sigactions.clone();
    blocked || acts.lock()[(sig - 1) as usize].handler != signal::SIG_DFL
}

/// kill(2)'s permission rule: same real or effective uid as the target's real or
/// saved uid (in the same user container), or CAP_KILL over the target's container.
pub(super) fn may_signal(p: &Arc<task::Process>) -> bool {
    let me = task::current_cred();
    let them = p.cred();
    let ids_match = Arc::ptr_eq(&me.user, &them.user)
        && [me.uid, me.euid]
            .iter()
            .any(|id| *id == them.uid || *id == them.suid);
    ids_match || me.capable_in(&them.user, crate::cred::CAP_KILL)
}

/// Sends `sig` to `p` if allowed; `EPERM` when the caller may not signal it.
fn send(p: &Arc<task::Process>, sig: u32) -> Result<(), Errno> {
    if !may_signal(p) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && init_accepts(p, sig) {
        let me = task::current_process();
        let detail = signal::SigDetail::from_process(signal::SI_USER, &me, p, 0);
        signal::send_to_process_with(p, sig, Some(detail));
    }
    Ok(())
}

fn kill(pid: u64, sig: u64) -> SysResult {
    let sig = check_sig(sig)?;
    let pid = as_i32(pid);
    let me = task::current_process();
    let group = |g: u32| -> Vec<Arc<task::Process>> {
        task::visible_processes()
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| p.pgid() == g)
            .collect()
    };
    let targets: Vec<_> = match pid {
        p if p > 0 => task::find_process(p as u32).into_iter().collect(),
        0 => group(me.pgid()),
        // Every process but the caller and its own container's init (number 1 as the
        // caller sees it): inits of containers below are signalled too (Linux's
        // task_pid_vnr > 1; init_accepts lets SIGKILL from an ancestor through). Fuzz seed
        // 14 left a container init and its zombies alive after init's kill(-1, SIGKILL).
        -1 => task::visible_processes()
            .into_iter()
            .filter(|(n, x)| *n != 1 && !Arc::ptr_eq(x, &me))
            .map(|(_, p)| p)
            .collect(),
        i32::MIN => return Err(Errno::ESRCH),
        p => match task::caller_pid_container().lookup((-p) as u32) {
            Some(leader) => group(leader.global()),
            None => Vec::new(),
        },
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    // kill(-1) counts only errors other than EPERM (Linux's kill_something_info), so a
    // caller allowed to signal none of its targets still gets 0.
    let mut result = if pid == -1 { Ok(0) } else { Err(Errno::EPERM) };
    // Otherwise success if at least one process could be signalled (kill(2)).
    for p in &targets {
        if send(p, sig).is_ok() {
            result = Ok(0);
        }
    }
    result
}

fn tgkill(tgid: Option<u64>, tid: u64, sig: u64) -> SysResult {
    let sig = check_sig(sig)?;
    let tid = as_i32(tid);
    if tid <= 0 || tgid.is_some_and(|g| as_i32(g) <= 0) {
        return Err(Errno::EINVAL);
    }
    let t = task::find_thread(tid as u32).ok_or(Errno::ESRCH)?;
    if let Some(g) = tgid
        && task::view_nr(t.process().pid_ref()) != g as u32
    {
        return Err(Errno::ESRCH);
    }
    if !may_signal(t.process()) {
        return Err(Errno::EPERM);
    }
    if sig != 0 && init_accepts(t.process(), sig) {
        let me = task::current_process();
        let detail = signal::SigDetail::from_process(signal::SI_TKILL, &me, t.process(), 0);
        signal::send_to_thread_with(&t, sig, Some(detail));
    }
    Ok(0)
}
