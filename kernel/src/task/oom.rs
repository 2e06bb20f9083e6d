//! The OOM killer: when the machine itself runs out of frames (not a plimits group over
//! its own `memory.limit`, which fails or kills as before), the process with the largest
//! badness (`mm::oom`) gets `SIGKILL`, one line is logged as Linux's, the victim's group
//! counts an `oom_kill`, and the caller waits (bounded) for the victim's memory to come
//! back before it retries. Called from the user page-fault path, from a kernel copy to
//! user memory, and for a system call that returned `ENOMEM` (a fork, a kernel object).

use super::{Process, TABLES, sched, signal};
use crate::mm::oom::{Candidate, pick};
use crate::mm::{PAGE_SIZE, frame};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// At or below this many free frames the machine counts as out of memory.
const LOW_FRAMES: u64 = 8;
/// How long a caller waits for a dying victim to give its memory back, in steps of
/// `WAIT_STEP_NS`.
const WAIT_NS: u64 = 2_000_000_000;
const WAIT_STEP_NS: u64 = 5_000_000;

/// Processes the killer has killed since boot.
static KILLS: AtomicU64 = AtomicU64::new(0);

/// Kills since boot.
pub fn kills() -> u64 {
    KILLS.load(Ordering::Relaxed)
}

/// Whether an allocation that just failed failed because the machine is out (and not
/// because the caller's group is at its `memory.limit`: that group's rule comes first).
pub fn machine_is_out() -> bool {
    let g = crate::plimits::current_group().effective();
    if g.mem.usage().saturating_add(PAGE_SIZE) > g.mem.limit() {
        return false;
    }
    frame::counts().0 <= LOW_FRAMES
}

/// Total pages of RAM, the unit of `oom_score_adj` (Linux's `totalram_pages`).
pub fn total_pages() -> u64 {
    crate::mm::memory_pages().1
}

/// What the killer weighs for `p`, and whether `p` is already on its way out with its
/// memory (`None` for the pages: it gave its address space back).
fn candidate(p: &Arc<Process>) -> (Candidate, bool) {
    let (vm, threads, adj, zombie) = {
        let pi = p.inner.lock();
        (
            pi.vm.clone(),
            pi.threads.len() as u64,
            pi.prctl.oom.adj as i32,
            pi.zombie.is_some(),
        )
    };
    let stack = crate::arch::x86_64::context::KERNEL_STACK_SIZE as u64 / PAGE_SIZE;
    // A space another thread is editing now counts as empty rather than waiting for it.
    let pages = vm
        .as_ref()
        .and_then(|vm| vm.try_lock().map(|v| v.charged_pages().0))
        .unwrap_or(0);
    let c = Candidate {
        pages: pages + threads * stack,
        adj,
        unkillable: p.pid() == 1 || vm.is_none() || zombie,
    };
    (c, vm.is_some() && p.is_exiting())
}

/// `/proc/[pid]/oom_score` of `p`.
pub fn oom_score(p: &Arc<Process>) -> u64 {
    crate::mm::oom::oom_score(&candidate(p).0, total_pages())
}

/// The machine is out of memory: kill the worst process (or wait for one already dying)
/// and wait for its memory. True when memory came back and the caller should retry;
/// false when nothing could be freed in time, or the caller itself was the victim.
pub fn out_of_memory() -> bool {
    let me = sched::current().process().clone();
    if me.is_exiting() {
        return false;
    }
    let mut procs: Vec<Arc<Process>> = Vec::new();
    let mut cands = Vec::new();
    {
        let t = TABLES.lock();
        let n = t.procs.len();
        if procs.try_reserve_exact(n).is_err() || cands.try_reserve_exact(n).is_err() {
            return false;
        }
        procs.extend(t.procs.values().cloned());
    }
    let mut dying = None;
    for p in &procs {
        let (c, exiting) = candidate(p);
        if exiting && dying.is_none() {
            dying = Some(p.clone());
        }
        cands.push(c);
    }
    // Linux waits for a victim already on its way out instead of killing a second one.
    let victim = match dying {
        Some(p) => p,
        None => {
            let Some(i) = pick(&cands, total_pages()) else {
                log::error!("Out of memory: no killable process (init, -1000 or none left)");
                return false;
            };
            let victim = procs[i].clone();
            kill(&victim);
            victim
        }
    };
    drop(procs);
    if Arc::ptr_eq(&victim, &me) {
        return false;
    }
    wait_for(&victim)
}

/// Sends `SIGKILL` to `victim`, logs Linux's line and counts it in its group. Nothing
/// here allocates: the heap may be as short as the frames.
fn kill(victim: &Arc<Process>) {
    {
        let pi = victim.inner.lock();
        // Never waits: a space another thread is editing shows as empty.
        let (vsize, (charged, tables)) = pi
            .vm
            .as_ref()
            .and_then(|vm| vm.try_lock().map(|v| (v.virtual_size(), v.charged_pages())))
            .unwrap_or((0, (0, 0)));
        let kb = PAGE_SIZE / 1024;
        log::error!(
            "Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:0kB, shmem-rss:0kB, UID:{} pgtables:{}kB oom_score_adj:{}",
            victim.pid(),
            pi.name,
            vsize / 1024,
            charged.saturating_sub(tables) * kb,
            pi.cred.uid,
            tables * kb,
            pi.prctl.oom.adj
        );
    }
    victim.plimits().effective().mem.note_oom_kill();
    KILLS.fetch_add(1, Ordering::Relaxed);
    // Marked exiting at once (a second shortage waits for it instead of killing again).
    super::exit::kill_with_status(victim, signal::SIGKILL);
}

/// Waits (bounded) until `victim` has given its address space back.
fn wait_for(victim: &Arc<Process>) -> bool {
    let chan = Arc::as_ptr(victim) as usize + 3;
    let me = sched::current().process().clone();
    let end = crate::time::monotonic_ns() + WAIT_NS;
    while crate::time::monotonic_ns() < end {
        if victim.inner.lock().vm.is_none() {
            return true;
        }
        if me.is_exiting() {
            return false;
        }
        let deadline = crate::time::monotonic_ns() + WAIT_STEP_NS;
        if sched::sleep(chan, Some(deadline)) == sched::Wake::Interrupted {
            // A signal is pending for the waiter (the victim's SIGCHLD, say): the sleep
            // ends at once, so give the CPU up instead.
            sched::yield_now();
        }
    }
    victim.inner.lock().vm.is_none()
}
