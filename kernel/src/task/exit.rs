//! Thread and process exit, zombies, re-parenting to init, and `wait4`/`waitid`.

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

/// `exit_group`: ends every thread of the process with wait status `status`.
pub fn exit_group(status: i32) -> ! {
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

/// Ends the calling thread. If it is the last one, the process exits with the
/// group-exit status, or with `status` (a wait status) when there is none.
pub fn exit_thread(status: i32) -> ! {
    let cur = sched::current();
    let p = cur.process().clone();
    let ctid = {
        let ti = cur.inner.lock();
        // A thread ended by another thread's execve must not write into the new image.
        if ti.exit_now { 0 } else { ti.clear_child_tid }
    };
    if ctid != 0 && p.live_threads.load(Ordering::Acquire) > 1 {
        // The thread library joins on this word: clear it and wake the joiner.
        if crate::mm::user::write_user::<u32>(ctid, &0).is_ok() {
            futex::wake_addr(ctid, 1);
        }
    }
    TABLES.lock().threads.remove(&cur.tid());
    {
        let mut pi = p.inner.lock();
        pi.threads.retain(|t| !Arc::ptr_eq(t, &cur));
        pi.dead_threads_tsc += cur.cpu_tsc.load(Ordering::Relaxed);
    }
    if p.live_threads.fetch_sub(1, Ordering::AcqRel) == 1 {
        let status = p.group_exit.lock().unwrap_or(status);
        exit_process(&p, status);
    }
    cur.state.store(DEAD, Ordering::Release);
    sched::schedule();
    unreachable!("a dead thread is never scheduled again")
}

/// The last thread left: release everything, become a zombie, tell the parent.
fn exit_process(p: &Arc<Process>, status: i32) {
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
    let init = super::find_process(1);
    let children = core::mem::take(&mut p.inner.lock().children);
    if let Some(init) = &init {
        let mut any_zombie = false;
        for c in &children {
            let mut ci = c.inner.lock();
            ci.parent = Arc::downgrade(init);
            any_zombie |= ci.zombie.is_some();
        }
        init.inner.lock().children.extend(children);
        if any_zombie {
            sched::wakeup(child_chan(init));
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
        signal::send_to_process(&parent, exit_signal);
    }
    sched::wakeup(child_chan(&parent));
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

/// Which children a wait call accepts.
pub enum WaitWho {
    Any,
    Pid(u32),
    Pgid(u32),
}

/// Finds a zombie child matching `who`; sleeps unless `WNOHANG`. Returns
/// `(pid, wait status)`; reaps it unless `WNOWAIT`.
pub fn wait_child(who: WaitWho, options: u32) -> Result<Option<(u32, i32)>, Errno> {
    let cur = sched::current();
    let me = cur.process().clone();
    loop {
        let children = me.inner.lock().children.clone();
        let matching: alloc::vec::Vec<_> = children
            .into_iter()
            .filter(|c| match who {
                WaitWho::Any => true,
                WaitWho::Pid(pid) => c.pid() == pid,
                WaitWho::Pgid(g) => c.inner.lock().pgid == g,
            })
            .collect();
        if matching.is_empty() {
            return Err(Errno::ECHILD);
        }
        if let Some(z) = matching.iter().find(|c| c.inner.lock().zombie.is_some()) {
            let status = z.inner.lock().zombie.unwrap_or(0);
            if options & WNOWAIT == 0 {
                reap(&me, z);
            }
            return Ok(Some((z.pid(), status)));
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        if sched::sleep(child_chan(&me), None) == sched::Wake::Interrupted {
            return Err(Errno::EINTR);
        }
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
