//! Job control: stop signals stop every thread of a process, `SIGCONT` continues it,
//! and the parent learns of both through `wait4`/`waitid` (`WUNTRACED`, `WCONTINUED`)
//! and `SIGCHLD` (`CLD_STOPPED`, `CLD_CONTINUED`, unless `SA_NOCLDSTOP`).

use super::signal::{self, SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, bit};
use super::{Process, TABLES, Thread, exit, sched};
use alloc::sync::Arc;

/// `si_code` values of `SIGCHLD` (siginfo.h).
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;
const SA_NOCLDSTOP: u64 = 1;

/// The stop signals.
pub const STOP_MASK: u64 = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);

/// A state change not yet collected by the parent's `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Stopped(u32),
    Continued,
}

impl Report {
    /// The `wait4` status word: `0x7f | sig << 8` for a stop, `0xffff` for a continue.
    pub fn status(self) -> i32 {
        match self {
            Report::Stopped(sig) => 0x7f | (sig as i32) << 8,
            Report::Continued => 0xffff,
        }
    }
}

/// Per-process job-control state (in `ProcInner`).
#[derive(Default, Debug)]
pub struct Job {
    pub stopped: bool,
    pub report: Option<Report>,
}

/// Channel the threads of a stopped process sleep on.
fn stop_chan(p: &Arc<Process>) -> usize {
    Arc::as_ptr(p) as usize + 2
}

/// Generation-time side effects (signal(7)): a stop signal discards a pending
/// `SIGCONT`; `SIGCONT` discards pending stop signals and continues a stopped process
/// (even when it is ignored or blocked).
pub fn on_generate(p: &Arc<Process>, sig: u32) {
    if bit(sig) & STOP_MASK != 0 {
        let threads = {
            let mut pi = p.inner.lock();
            pi.pending &= !bit(SIGCONT);
            pi.threads.clone()
        };
        for t in threads {
            t.inner.lock().pending &= !bit(SIGCONT);
        }
    } else if sig == SIGCONT {
        let (threads, was_stopped) = {
            let mut pi = p.inner.lock();
            pi.pending &= !STOP_MASK;
            let was = pi.job.stopped;
            if was {
                pi.job.stopped = false;
                pi.job.report = Some(Report::Continued);
            }
            (pi.threads.clone(), was)
        };
        for t in threads {
            t.inner.lock().pending &= !STOP_MASK;
        }
        if was_stopped {
            sched::wakeup(stop_chan(p));
            notify_parent(p, Report::Continued);
        }
    }
}

/// Whether process group `pgid` is orphaned: no member has a parent in another group
/// of the same session (then `SIGTSTP`/`SIGTTIN`/`SIGTTOU` do not stop it).
pub fn pgrp_orphaned(pgid: u32) -> bool {
    let procs: alloc::vec::Vec<_> = TABLES.lock().procs.values().cloned().collect();
    !procs.iter().any(|q| {
        if q.pgid() != pgid || q.inner.lock().zombie.is_some() {
            return false;
        }
        q.parent()
            .is_some_and(|pp| pp.pgid() != pgid && pp.sid() == q.sid())
    })
}

/// The default action of stop signal `sig` taken by thread `t`: stops the process.
pub fn stop(t: &Arc<Thread>, sig: u32) {
    let p = t.process();
    if sig != SIGSTOP && pgrp_orphaned(p.pgid()) {
        return;
    }
    let others = {
        let mut pi = p.inner.lock();
        if pi.job.stopped {
            return;
        }
        pi.job.stopped = true;
        pi.job.report = Some(Report::Stopped(sig));
        pi.threads.clone()
    };
    for o in others.iter().filter(|o| !Arc::ptr_eq(o, t)) {
        sched::interrupt(o);
    }
    notify_parent(p, Report::Stopped(sig));
}

fn notify_parent(p: &Arc<Process>, r: Report) {
    let Some(parent) = p.parent() else { return };
    let act = parent.inner.lock().sigactions.lock()[(SIGCHLD - 1) as usize];
    if act.flags & SA_NOCLDSTOP == 0 {
        let (code, status) = match r {
            Report::Stopped(sig) => (CLD_STOPPED, sig),
            Report::Continued => (CLD_CONTINUED, SIGCONT),
        };
        // si_pid and si_uid as the parent sees the child.
        let detail = signal::SigDetail::from_process(code, p, &parent, status as u64);
        signal::send_to_process_with(&parent, SIGCHLD, Some(detail));
    }
    sched::wakeup(exit::child_chan(&parent));
}

/// Whether `t` must not run user code: its process is stopped. Called on the way
/// back to user mode; sleeps until `SIGCONT` or `SIGKILL` (which ends the process).
pub fn wait_while_stopped(t: &Arc<Thread>) {
    let p = t.process().clone();
    loop {
        if !p.inner.lock().job.stopped {
            return;
        }
        let kill = p.inner.lock().pending & bit(SIGKILL) != 0
            || t.inner.lock().pending & bit(SIGKILL) != 0;
        if kill || p.is_exiting() || t.inner.lock().exit_now {
            return;
        }
        // A short timeout covers a SIGCONT that lands between the check and the sleep.
        sched::sleep_stopped(stop_chan(&p), crate::time::monotonic_ns() + 20_000_000);
    }
}

/// Whether the process is stopped (its threads must go back to the stop loop).
pub fn is_stopped(p: &Process) -> bool {
    p.inner.lock().job.stopped
}

/// The first stop (with `WUNTRACED`) or continue (with `WCONTINUED`) report among
/// `children`, consumed unless `WNOWAIT`: `(pid as the caller sees it, wait status)`.
pub fn take_report(children: &[Arc<Process>], options: u32) -> Option<(u32, i32)> {
    for c in children {
        let mut ci = c.inner.lock();
        if ci.zombie.is_some() {
            continue;
        }
        let Some(r) = ci.job.report else { continue };
        let wanted = match r {
            Report::Stopped(_) => options & exit::WUNTRACED != 0,
            Report::Continued => options & exit::WCONTINUED != 0,
        };
        if wanted {
            if options & exit::WNOWAIT == 0 {
                ci.job.report = None;
            }
            drop(ci);
            return Some((super::view_nr(c.pid_ref()), r.status()));
        }
    }
    None
}

/// The caller's global (pid, process group, session) numbers.
pub fn caller_ids() -> (u32, u32, u32) {
    let p = super::current_process();
    (p.pid(), p.pgid(), p.sid())
}

/// Sends `sig` to every live process of group `pgid` (global number).
pub fn signal_group(pgid: u32, sig: u32) {
    if pgid == 0 {
        return;
    }
    let procs: alloc::vec::Vec<_> = TABLES
        .lock()
        .procs
        .values()
        .filter(|p| p.inner.lock().zombie.is_none())
        .cloned()
        .collect();
    for p in procs.iter().filter(|p| p.pgid() == pgid) {
        signal::send_to_process(p, sig);
    }
}

/// A background process touches its controlling terminal (`SIGTTIN` for a read,
/// `SIGTTOU` for a write with `TOSTOP` or a settings change). Blocked or ignored: a
/// read fails with `EIO`, the rest goes ahead; an orphaned group gets `EIO`; otherwise
/// the group gets the signal and the call ends with `EINTR` (restarted after `SIGCONT`).
pub fn tty_background(sig: u32) -> Result<(), crate::errno::Errno> {
    use crate::errno::Errno;
    let t = sched::current();
    let p = t.process();
    let blocked = t.inner.lock().sigmask & bit(sig) != 0;
    let acts = p.inner.lock().sigactions.clone();
    let ignored = acts.lock()[(sig - 1) as usize].handler == signal::SIG_IGN;
    if blocked || ignored {
        return if sig == SIGTTIN {
            Err(Errno::EIO)
        } else {
            Ok(())
        };
    }
    if pgrp_orphaned(p.pgid()) {
        return Err(Errno::EIO);
    }
    signal_group(p.pgid(), sig);
    Err(Errno::EINTR)
}

/// Global number of the process group the caller names `view` if it exists in session
/// `sid` (the target of `TIOCSPGRP`).
pub fn group_in_session(view: u32, sid: u32) -> Option<u32> {
    let g = super::caller_pid_container().lookup(view)?.global();
    let found = TABLES
        .lock()
        .procs
        .values()
        .any(|p| p.inner.lock().zombie.is_none() && p.pgid() == g && p.sid() == sid);
    found.then_some(g)
}

/// The caller's view of global number `g` (0 when it cannot see it).
pub fn view_of(g: u32) -> u32 {
    crate::container::root()
        .pid
        .lookup(g)
        .map_or(0, |pid| super::view_nr(&pid))
}
