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
    /// Through the borrowed running thread: no reference to the thread taken (every
    /// charge asks).
    pub fn current_group() -> Arc<Group> {
        task::sched::try_with_current(|t| t.process().plimits()).unwrap_or_else(root)
    }

    pub fn total_memory() -> u64 {
        crate::mm::memory_pages().1 * crate::mm::PAGE_SIZE
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

    /// A cgroup2 `cgroup.procs` write: process `pid` (the writer's view, 0 the writer)
    /// joins `to`, from or to the root as well. `ESRCH` for no such live process,
    /// `EACCES` when it does not fit a child's limits.
    pub fn move_pid(to: &Arc<Group>, pid: u32) -> Result<(), Errno> {
        let p = if pid == 0 {
            task::current_process()
        } else {
            task::find_process(pid).ok_or(Errno::ESRCH)?
        };
        if p.inner.lock().zombie.is_some() || p.is_exiting() {
            return Err(Errno::ESRCH);
        }
        if Arc::ptr_eq(&p.plimits(), to) {
            return Ok(());
        }
        if !to.is_root() {
            super::super::add_check(to, mem_bytes(&p))?;
        }
        move_process(&p, to);
        Ok(())
    }

    /// Every live process of `g`, whoever can see it.
    fn all_members(g: &Arc<Group>) -> Vec<Arc<Process>> {
        let all: Vec<Arc<Process>> = task::TABLES.lock().procs.values().cloned().collect();
        all.into_iter()
            .filter(|p| Arc::ptr_eq(&p.plimits(), g) && p.inner.lock().zombie.is_none())
            .collect()
    }

    /// How many live (not zombie) processes `g` has, whoever can see them.
    pub fn live_count(g: &Arc<Group>) -> usize {
        all_members(g).len()
    }

    /// The live members of `g` the caller sees, by number (cgroup2's `cgroup.procs`:
    /// a process leaves it when it exits, not when it is reaped).
    pub fn live_pids(g: &Arc<Group>) -> Vec<u32> {
        task::visible_processes()
            .into_iter()
            .filter(|(_, p)| Arc::ptr_eq(&p.plimits(), g) && p.inner.lock().zombie.is_none())
            .map(|(pid, _)| pid)
            .collect()
    }

    /// `cgroup.kill`: SIGKILL to every live member.
    pub fn kill_members(g: &Arc<Group>) {
        for p in all_members(g) {
            task::signal::send_to_process(&p, task::signal::SIGKILL);
        }
    }

    /// `(anon, kernel_stack)` bytes of the live members: their address spaces' charges
    /// and their threads' kernel stacks.
    pub fn memory_parts(g: &Arc<Group>) -> (u64, u64) {
        all_members(g).iter().fold((0, 0), |(anon, stacks), p| {
            let threads = p.inner.lock().threads.len() as u64;
            (
                anon + mem_bytes(p),
                stacks + threads * crate::arch::x86_64::context::KERNEL_STACK_SIZE as u64,
            )
        })
    }

    /// `(user, system)` CPU time of the live members, µs (sampled at the timer tick).
    pub fn cpu_split_us(g: &Arc<Group>) -> (u64, u64) {
        let tick_us = 1_000_000 / crate::arch::x86_64::timer::HZ;
        all_members(g).iter().fold((0, 0), |(u, s), p| {
            let pi = p.inner.lock();
            (u + pi.utime_ticks * tick_us, s + pi.stime_ticks * tick_us)
        })
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

    pub fn move_pid(_to: &Arc<Group>, _pid: u32) -> Result<(), Errno> {
        Err(Errno::ESRCH)
    }

    pub fn kill_members(_g: &Arc<Group>) {}

    pub fn live_count(_g: &Arc<Group>) -> usize {
        0
    }

    pub fn live_pids(_g: &Arc<Group>) -> Vec<u32> {
        Vec::new()
    }

    pub fn memory_parts(_g: &Arc<Group>) -> (u64, u64) {
        (0, 0)
    }

    pub fn cpu_split_us(_g: &Arc<Group>) -> (u64, u64) {
        (0, 0)
    }
}

pub use imp::*;
