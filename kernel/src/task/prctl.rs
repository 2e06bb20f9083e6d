//! Per-process `prctl` state beyond credentials and seccomp: the parent-death signal
//! (sent when the thread that created the process exits), child subreapers (orphans go
//! to the nearest living subreaper ancestor in the same PID container before the
//! container's init), and the timer slack.

use super::{Process, Thread, signal};
use alloc::sync::Arc;

/// Linux's default timer slack (50 µs).
pub const DEFAULT_TIMER_SLACK_NS: u64 = 50_000;

#[derive(Clone)]
pub struct ProcPrctl {
    /// `PR_SET_PDEATHSIG`: sent to this process when its parent thread exits (0: none).
    pub pdeath_signal: u32,
    /// The kernel-wide tid of the thread that is this process's parent (its creator,
    /// then another thread of the parent, then the reaper's).
    pub parent_tid: u32,
    /// `PR_SET_CHILD_SUBREAPER`.
    pub child_subreaper: bool,
    /// `PR_SET_TIMERSLACK` (ns), and the value `PR_SET_TIMERSLACK` 0 restores.
    pub timer_slack_ns: u64,
    pub default_timer_slack_ns: u64,
    /// `/proc/[pid]/oom_score_adj` and its unprivileged minimum (kept at fork and exec).
    pub oom: crate::mm::oom::OomAdj,
}

impl Default for ProcPrctl {
    fn default() -> Self {
        ProcPrctl {
            pdeath_signal: 0,
            parent_tid: 0,
            child_subreaper: false,
            timer_slack_ns: DEFAULT_TIMER_SLACK_NS,
            default_timer_slack_ns: DEFAULT_TIMER_SLACK_NS,
            oom: crate::mm::oom::OomAdj::default(),
        }
    }
}

impl ProcPrctl {
    /// A forked child's state: no parent-death signal, not a subreaper, the parent's slack
    /// (also as its default), and `parent_tid` as its parent thread.
    pub fn for_child(&self, parent_tid: u32) -> ProcPrctl {
        ProcPrctl {
            pdeath_signal: 0,
            parent_tid,
            child_subreaper: false,
            timer_slack_ns: self.timer_slack_ns,
            default_timer_slack_ns: self.timer_slack_ns,
            oom: self.oom,
        }
    }
}

/// Thread `t` of `p` is exiting (already out of `p`'s thread list): children whose
/// parent thread it was get their parent-death signal and another thread of `p` as
/// parent thread (none when it was the last; the reaper's is set on re-parenting).
pub fn parent_thread_exited(p: &Arc<Process>, t: &Thread) {
    let tid = t.tid();
    let (children, heir) = {
        let pi = p.inner.lock();
        (
            pi.children.clone(),
            pi.threads.first().map_or(0, |h| h.tid()),
        )
    };
    for c in children {
        let sig = {
            let mut ci = c.inner.lock();
            if ci.prctl.parent_tid != tid {
                continue;
            }
            ci.prctl.parent_tid = heir;
            ci.prctl.pdeath_signal
        };
        if sig != 0 && c.inner.lock().zombie.is_none() {
            signal::send_to_process(&c, sig);
        }
    }
}

/// The nearest ancestor of `p` in `p`'s PID container that is a living child
/// subreaper (Linux's `find_new_reaper`), if any.
pub fn subreaper_for(p: &Arc<Process>) -> Option<Arc<Process>> {
    let container = p.pid_ref().container().clone();
    let mut at = p.parent();
    while let Some(a) = at {
        if !Arc::ptr_eq(a.pid_ref().container(), &container) || a.pid_ref().is_container_init() {
            return None;
        }
        let (subreaper, alive) = {
            let ai = a.inner.lock();
            (ai.prctl.child_subreaper, ai.zombie.is_none())
        };
        if subreaper && alive && a.live_threads.load(core::sync::atomic::Ordering::Acquire) > 0 {
            return Some(a);
        }
        at = a.parent();
    }
    None
}
