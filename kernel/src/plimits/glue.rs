//! What plimits needs from processes and memory: the caller's group, the members of a
//! group as the reader sees them, moving processes between groups. On the host (unit
//! tests) there are no processes: everything is the root's and nothing moves.

use super::{Group, root};
use crate::errno::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A member of a group as a reader of its files sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Member {
    /// The number in the reader's PID container.
    pub pid: u32,
    /// User memory charged for it (its address space's private pages).
    pub mem_bytes: u64,
    /// CPU time used, in µs.
    pub runtime_us: u64,
}

#[cfg(target_os = "none")]
mod imp {
    use super::*;
    use crate::task::{self, Process};

    /// The calling process's group (the root before any process runs).
    pub fn current_group() -> Arc<Group> {
        match task::sched::try_current() {
            Some(t) => t.process().plimits(),
            None => root(),
        }
    }

    pub fn total_memory() -> u64 {
        crate::mm::frame::counts().1 * crate::mm::PAGE_SIZE
    }

    fn mem_bytes(p: &Process) -> u64 {
        p.vm().map_or(0, |vm| vm.lock().charged_bytes())
    }

    /// The processes of `g` the caller sees (zombies until reaped), by number.
    pub fn members(g: &Arc<Group>) -> Vec<Member> {
        task::visible_processes()
            .into_iter()
            .filter(|(_, p)| Arc::ptr_eq(&p.plimits(), g))
            .map(|(pid, p)| Member {
                pid,
                mem_bytes: mem_bytes(&p),
                runtime_us: task::sched::process_cpu_ns(&p) / 1000,
            })
            .collect()
    }

    /// Moves `p` to `to` with its process count and its memory charge.
    fn move_process(p: &Arc<Process>, to: &Arc<Group>) {
        let from = core::mem::replace(&mut *p.plimits.lock(), to.clone());
        if Arc::ptr_eq(&from, to) {
            return;
        }
        from.pids.uncharge(1);
        to.pids.add(1);
        if let Some(vm) = p.vm() {
            vm.lock().move_charge(to);
        }
    }

    /// The caller joins `to` (mkdir).
    pub fn move_current(to: &Arc<Group>) {
        move_process(&task::current_process(), to);
    }

    /// A `plimits.procs` write: process `pid` (the writer's view) joins `to`. `EINVAL`
    /// for no such live process, `EPERM` for a process of the root group (LiteOS-A:
    /// only mkdir and fork lead out of the root), `EACCES` when it does not fit.
    pub fn add_pid(to: &Arc<Group>, pid: u32) -> Result<(), Errno> {
        let p = task::find_process(pid).ok_or(Errno::EINVAL)?;
        if p.inner.lock().zombie.is_some() {
            return Err(Errno::EINVAL);
        }
        let from = p.plimits();
        if from.is_root() {
            return Err(Errno::EPERM);
        }
        if Arc::ptr_eq(&from, to) {
            return Ok(());
        }
        super::super::add_check(to, mem_bytes(&p))?;
        move_process(&p, to);
        Ok(())
    }

    /// Every process of `from` (the caller's view or not) now belongs to `to`; the
    /// counts are moved by the caller.
    pub fn move_all(from: &Arc<Group>, to: &Arc<Group>) {
        let all: Vec<Arc<Process>> = task::TABLES.lock().procs.values().cloned().collect();
        for p in all {
            let mut g = p.plimits.lock();
            if !Arc::ptr_eq(&g, from) {
                continue;
            }
            *g = to.clone();
            drop(g);
            if let Some(vm) = p.vm() {
                vm.lock().set_plimits(to);
            }
        }
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    use super::*;

    pub fn current_group() -> Arc<Group> {
        root()
    }

    pub fn total_memory() -> u64 {
        512 << 20
    }

    pub fn members(_g: &Arc<Group>) -> Vec<Member> {
        Vec::new()
    }

    pub fn move_current(_to: &Arc<Group>) {}

    pub fn add_pid(_to: &Arc<Group>, _pid: u32) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }

    pub fn move_all(_from: &Arc<Group>, _to: &Arc<Group>) {}
}

pub use imp::*;
