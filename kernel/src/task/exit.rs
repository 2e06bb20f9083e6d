//! Thread and process exit, zombies, re-parenting to a subreaper or init, and `wait4`/`waitid`.

use super::signal::{self, SA_NOCLDWAIT, SIG_IGN, SIGCHLD};
use super::{DEAD, Process, TABLES, futex, sched};
use crate::errno::Errno;
use crate::mm::aspace::AddressSpace;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

/// Wait channel of a process's children-state changes.
pub fn child_chan(p: &Arc<Process>) -> usize {
    Arc::as_ptr(p) as usize
}

/// Wait channel of a `vfork` parent waiting for `child`.
pub fn vfork_chan(child: &Arc<Process>) -> usize {
    Arc::as_ptr(child) as usize + 1
}

/// `exit_group`: ends every thread of the process with wait status `status`. The
/// calling thread is marked dead and leaves the CPU on its way back to user mode
/// (`syscall::return_to_user`), where no references are held on its stack.
pub fn exit_group(status: i32) {
    let cur = sched::current();
    let p = cur.process().clone();
    {
        let mut g = p.group_exit.lock();
        if g.is_none() {
            *g = Some(status);
        }
    }
    let others = p.inner.lock().threads.clone();
    for t in others.iter().filter(|t| !Arc::ptr_eq(t, &cur)) {
        sched::interrupt(t);
    }
    exit_thread(status)
}

/// Ends process `p` as if killed by `sig` (reboot inside a PID container ends its init).
pub fn kill_with_status(p: &Arc<Process>, sig: u32) {
    {
        let mut g = p.group_exit.lock();
        if g.is_none() {
            *g = Some(sig as i32 & 0x7f);
        }
    }
    for t in p.inner.lock().threads.clone() {
        sched::interrupt(&t);
    }
}

/// Ends the calling thread (marks it dead; see [`exit_group`]). If it is the last one,
/// the process exits with the group-exit status, or with `status` (a wait status).
pub fn exit_thread(status: i32) {
    let cur = sched::current();
    let p = cur.process().clone();
    let (ctid, new_image) = {
        let ti = cur.inner.lock();
        // A thread ended by another thread's execve must not write into the new image.
        if ti.exit_now {
            (0, true)
        } else {
            (ti.clear_child_tid, false)
        }
    };
    if !new_image && p.inner.lock().vm.is_some() {
        // The futex words hold the tid as the thread itself sees it.
        super::robust::exit_robust_list(&cur, cur.tid_ref().vnr());
    }
    if ctid != 0 && p.live_threads.load(Ordering::Acquire) > 1 {
        // The thread library joins on this word: clear it and wake the joiner.
        if crate::mm::user::write_user::<u32>(ctid, &0).is_ok() {
            futex::wake_addr(ctid, 1);
        }
    }
    {
        let mut pi = p.inner.lock();
        pi.threads.retain(|t| !Arc::ptr_eq(t, &cur));
        pi.dead_threads_tsc += cur.cpu_tsc.load(Ordering::Relaxed);
    }
    super::prctl::parent_thread_exited(&p, &cur);
    if p.live_threads.fetch_sub(1, Ordering::AcqRel) == 1 {
        let status = p.group_exit.lock().unwrap_or(status);
        exit_process(&p, status);
    }
    cur.state.store(DEAD, Ordering::Release);
    cur.note_work();
}

/// The last thread left: release everything, become a zombie, tell the parent.
fn exit_process(p: &Arc<Process>, status: i32) {
    crate::ipc::sysv::sem::exit_undo(p.pid());
    // Its POSIX timers (and their charges) go now, as Linux's exit_itimers.
    super::ptimer::delete_all(p);
    let (vm, files) = {
        let mut pi = p.inner.lock();
        (pi.vm.take(), pi.files.clone())
    };
    files.close_all();
    AddressSpace::activate_kernel();
    drop(vm);
    if p.pid() == 1 {
        shutdown_with_init_status(status);
    }
    if p.pid_ref().is_container_init() {
        // A container's init died: everything else in it (and below) is killed, and
        // nothing may enter it any more (pid_namespaces(7)).
        let c = p.pid_ref().container().clone();
        c.mark_dead();
        for (_, pid) in c.members() {
            if let Some(q) = pid.process::<Process>()
                && !Arc::ptr_eq(&q, p)
                && Arc::ptr_eq(q.pid_ref(), &pid)
            {
                signal::send_to_process(&q, signal::SIGKILL);
            }
        }
        reap_container(p, &c);
    }
    if p.sid() == p.pid() {
        // A session leader's exit hangs up its controlling terminal.
        crate::fs::pty::session_ended(p.sid());
    }
    let children = core::mem::take(&mut p.inner.lock().children);
    if !children.is_empty()
        && let Some(reaper) = reaper_for(p)
    {
        let mut any_zombie = false;
        let reaper_tid = reaper.inner.lock().threads.first().map_or(0, |t| t.tid());
        for c in &children {
            let mut ci = c.inner.lock();
            ci.parent = Arc::downgrade(&reaper);
            ci.prctl.parent_tid = reaper_tid;
            any_zombie |= ci.zombie.is_some();
        }
        reaper.inner.lock().children.extend(children);
        if any_zombie {
            sched::wakeup(child_chan(&reaper));
        }
    }
    let parent = p.parent();
    let exit_signal = {
        let mut pi = p.inner.lock();
        pi.zombie = Some(status);
        pi.vfork_done = true;
        pi.exit_signal
    };
    sched::wakeup(vfork_chan(p));
    let Some(parent) = parent else { return };
    let act = parent.inner.lock().sigactions.lock()[(SIGCHLD - 1) as usize];
    if exit_signal == SIGCHLD && (act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0) {
        // The parent does not want zombies: reap at once.
        reap(&parent, p);
    } else if exit_signal != 0 {
        // si_code CLD_EXITED with the exit code, or CLD_KILLED with the signal.
        let (code, value) = if status & 0x7f == 0 {
            (signal::CLD_EXITED, (status >> 8) & 0xff)
        } else {
            (signal::CLD_KILLED, status & 0x7f)
        };
        let detail = signal::SigDetail::from_process(code, p, &parent, value as u64);
        signal::send_to_process_with(&parent, exit_signal, Some(detail));
    }
    sched::wakeup(child_chan(&parent));
}

/// Who adopts the orphans of `p`: the nearest living child subreaper above it in its
/// PID container, else the init of that container, unless that is `p` or already dying;
/// then the init of the nearest ancestor container.
fn reaper_for(p: &Arc<Process>) -> Option<Arc<Process>> {
    if let Some(s) = super::prctl::subreaper_for(p) {
        return Some(s);
    }
    let mut c = Some(p.pid_ref().container().clone());
    while let Some(pc) = c {
        if let Some(init) = pc.lookup(1).and_then(|pid| pid.process::<Process>())
            && !Arc::ptr_eq(&init, p)
            && init.inner.lock().zombie.is_none()
        {
            return Some(init);
        }
        c = pc.parent_container().cloned();
    }
    TABLES.lock().procs.get(&1).cloned()
}

/// The dying init of a PID container reaps its members before it becomes a zombie
/// itself (Linux's zap_pid_ns_processes): they were killed and re-parent to it.
/// Members whose parent is outside (they entered with setns) are left to that parent.
fn reap_container(init: &Arc<Process>, c: &Arc<crate::container::pid::PidContainer>) {
    loop {
        let zombies: alloc::vec::Vec<_> = init
            .inner
            .lock()
            .children
            .iter()
            .filter(|ch| ch.inner.lock().zombie.is_some())
            .cloned()
            .collect();
        for z in &zombies {
            reap(init, z);
        }
        // Drop them first: a reaped process held here would still count as a member.
        drop(zombies);
        let waiting = c.members().into_iter().any(|(_, pid)| {
            pid.process::<Process>().is_some_and(|q| {
                !Arc::ptr_eq(&q, init)
                    && q.inner
                        .lock()
                        .parent
                        .upgrade()
                        .is_some_and(|pp| Arc::ptr_eq(&pp, init))
            })
        });
        if !waiting {
            return;
        }
        sched::sleep_uninterruptible(child_chan(init));
    }
}

fn reap(parent: &Arc<Process>, child: &Arc<Process>) {
    let (u, s) = {
        let ci = child.inner.lock();
        (
            ci.utime_ticks + ci.child_utime_ticks,
            ci.stime_ticks + ci.child_stime_ticks,
        )
    };
    let mut pi = parent.inner.lock();
    pi.children.retain(|c| !Arc::ptr_eq(c, child));
    pi.child_utime_ticks += u;
    pi.child_stime_ticks += s;
    drop(pi);
    TABLES.lock().procs.remove(&child.pid());
    // It leaves its plimits group (the root holds the reference until it is freed).
    let group = core::mem::replace(&mut *child.plimits.lock(), crate::plimits::root());
    crate::plimits::release_process(&group);
}

fn shutdown_with_init_status(status: i32) -> ! {
    let code = if status & 0x7f == 0 {
        ((status >> 8) & 0xff).min(125)
    } else {
        126
    };
    log::info!("init exited (wait status {status:#x}): powering off with verdict {code}");
    crate::arch::x86_64::cpu::qemu_exit(code as u32)
}

pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WEXITED: u32 = 4;
pub const WCONTINUED: u32 = 8;
pub const WNOWAIT: u32 = 0x0100_0000;
const WNOTHREAD: u32 = 0x2000_0000;
const WALL: u32 = 0x4000_0000;
const WCLONE: u32 = 0x8000_0000;

/// Which children a wait call accepts (global numbers).
pub enum WaitWho {
    Any,
    Pid(u32),
    Pgid(u32),
}

/// Finds a zombie child matching `who` (with `WEXITED`), or a stopped/continued one
/// (with `WUNTRACED`/`WCONTINUED`); sleeps unless `WNOHANG`. Returns `(pid, wait
/// status)`; reaps it (or consumes the report) unless `WNOWAIT`.
pub fn wait_child(who: WaitWho, options: u32) -> Result<Option<(u32, i32)>, Errno> {
    let cur = sched::current();
    let me = cur.process().clone();
    // A signal ends the wait only after one more look for a zombie: the child's own exit
    // signal arrives with its exit, and Linux's `do_wait` finds the zombie first.
    let mut interrupted = false;
    loop {
        let children = me.inner.lock().children.clone();
        let matching: alloc::vec::Vec<_> = children
            .into_iter()
            .filter(|c| {
                // A "clone child" (exit signal not SIGCHLD) needs __WCLONE or __WALL (wait(2)).
                options & WALL != 0
                    || (c.inner.lock().exit_signal != SIGCHLD) == (options & WCLONE != 0)
            })
            .filter(|c| match who {
                WaitWho::Any => true,
                WaitWho::Pid(pid) => c.pid() == pid,
                WaitWho::Pgid(g) => c.pgid() == g,
            })
            .collect();
        if matching.is_empty() {
            return Err(Errno::ECHILD);
        }
        let exited = options & WEXITED != 0;
        if exited && let Some(z) = matching.iter().find(|c| c.inner.lock().zombie.is_some()) {
            let status = z.inner.lock().zombie.unwrap_or(0);
            if options & WNOWAIT == 0 {
                reap(&me, z);
            }
            return Ok(Some((super::view_nr(z.pid_ref()), status)));
        }
        if let Some(r) = super::jobctl::take_report(&matching, options) {
            return Ok(Some(r));
        }
        if interrupted {
            return Err(Errno::EINTR);
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        interrupted = sched::sleep(child_chan(&me), None) == sched::Wake::Interrupted;
    }
}

/// Validates `wait4` options.
pub fn check_wait4_options(options: u32) -> Result<(), Errno> {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Validates `waitid` options.
pub fn check_waitid_options(options: u32) -> Result<(), Errno> {
    if options & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)
        != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}
