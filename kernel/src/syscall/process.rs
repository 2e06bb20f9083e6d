//! Process and thread system calls: fork/clone/exec/exit/wait, ids, groups,
//! scheduling parameters, TLS.

use super::table::syscalls;
use super::{Ret, as_i32};
use crate::arch::x86_64::trap::TrapFrame;
use crate::errno::{Errno, SysResult};
use crate::mm::user::{read_user, read_user_cstr_bytes, read_user_strv, write_user};
use crate::task::clone::{self, CLONE_VFORK, CLONE_VM};
use crate::task::exit::{self, WaitWho};
use crate::task::{self, sched, signal};
use alloc::sync::Arc;
use alloc::vec::Vec;

syscalls! {
    frame, a;
    39 => Ok(task::current_vpid() as usize),
    110 => Ok(task::current_process().ppid() as usize),
    186 => Ok(sched::with_current(|t| t.tid_ref().vnr()) as usize),
    57 => clone::do_clone(
        frame,
        clone::legacy_args(signal::SIGCHLD as u64, 0, 0, 0, 0),
    ),
    58 => clone::do_clone(
        frame,
        clone::legacy_args(CLONE_VM | CLONE_VFORK | signal::SIGCHLD as u64, 0, 0, 0, 0),
    ),
    56 => clone::do_clone(frame, clone::legacy_args(a[0], a[1], a[2], a[3], a[4])),
    435 => clone::read_clone3_args(a[0], a[1]).and_then(|args| clone::do_clone(frame, args)),
    59 => execve(frame, a[0], a[1], a[2]),
    322 => super::fsext::execveat(frame, a),
    60 => {
        exit::exit_thread(((a[0] & 0xff) << 8) as i32);
        Ok(0)
    },
    231 => {
        exit::exit_group(((a[0] & 0xff) << 8) as i32);
        Ok(0)
    },
    61 => wait4(a[0], a[1], a[2], a[3]),
    247 => waitid(a[0], a[1], a[2], a[3], a[4]),
    24 => {
        sched::yield_now();
        Ok(0)
    },
    218 => {
        let t = sched::current();
        t.inner.lock().clear_child_tid = a[0];
        Ok(t.tid() as usize)
    },
    158 => arch_prctl(a[0], a[1]),
    109 => setpgid(a[0], a[1]),
    111 => Ok(group_view(&task::current_process(), false)),
    // getpgid/getsid: a negative pid names no process (ESRCH, as Linux).
    121 => match as_i32(a[0]) {
        ..0 => Err(Errno::ESRCH),
        _ => with_process(a[0], |p| Ok(group_view(p, false))),
    },
    124 => match as_i32(a[0]) {
        ..0 => Err(Errno::ESRCH),
        _ => with_process(a[0], |p| Ok(group_view(p, true))),
    },
    112 => setsid(),
    140 => getpriority(a[0], a[1]),
    141 => setpriority(a[0], a[1], a[2]),
    142 => sched_setparam(a[0], a[1], None),
    143 => sched_getparam(a[0], a[1]),
    144 => sched_setparam(a[0], a[2], Some(a[1])),
    145 => with_process(a[0], |p| Ok(p.inner.lock().policy as usize)),
    146 => priority_range(a[0]).map(|(_, max)| max as usize),
    147 => priority_range(a[0]).map(|(min, _)| min as usize),
    148 => rr_interval(a[0], a[1]),
    203 => with_process(a[0], |_| affinity_set(a[1], a[2])),
    204 => with_process(a[0], |_| affinity_get(a[1], a[2])),
}

fn execve(frame: &mut TrapFrame, path: u64, argv: u64, envp: u64) -> Ret {
    let r = (|| {
        let path = read_user_cstr_bytes(path, 4095)?;
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let argv = read_user_strv(argv, task::exec::ARG_MAX)?;
        let envp = read_user_strv(envp, task::exec::ARG_MAX)?;
        task::exec::execve(frame, &path, argv, envp)
    })();
    match r {
        Ok(()) => Ret::Frame,
        Err(e) => Ret::Value(Err(e)),
    }
}

/// Looks up a process by pid; 0 means the caller.
fn with_process(pid: u64, f: impl FnOnce(&Arc<task::Process>) -> SysResult) -> SysResult {
    let pid = as_i32(pid);
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let p = if pid == 0 {
        task::current_process()
    } else {
        task::find_process(pid as u32).ok_or(Errno::ESRCH)?
    };
    if p.inner.lock().zombie.is_some() && pid != 0 {
        return Err(Errno::ESRCH);
    }
    f(&p)
}

fn wait4(pid: u64, status: u64, options: u64, rusage: u64) -> SysResult {
    let options = options as u32;
    exit::check_wait4_options(options)?;
    let pid = as_i32(pid);
    let who = match pid {
        -1 => WaitWho::Any,
        0 => WaitWho::Pgid(task::current_process().pgid()),
        p if p > 0 => WaitWho::Pid(global_of(p as u32).ok_or(Errno::ECHILD)?),
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => WaitWho::Pgid(global_of((-p) as u32).ok_or(Errno::ECHILD)?),
    };
    match exit::wait_child(who, options | exit::WEXITED)? {
        None => Ok(0),
        Some((pid, st)) => {
            if status != 0 {
                write_user(status, &st)?;
            }
            if rusage != 0 {
                crate::mm::user::clear_user(rusage, 144)?;
            }
            Ok(pid as usize)
        }
    }
}

fn waitid(idtype: u64, id: u64, infop: u64, options: u64, rusage: u64) -> SysResult {
    let options = options as u32;
    exit::check_waitid_options(options)?;
    let who = match idtype {
        0 => WaitWho::Any,
        1 if as_i32(id) > 0 => WaitWho::Pid(global_of(id as u32).ok_or(Errno::ECHILD)?),
        2 if as_i32(id) >= 0 => WaitWho::Pgid(if id == 0 {
            task::current_process().pgid()
        } else {
            global_of(id as u32).ok_or(Errno::ECHILD)?
        }),
        _ => return Err(Errno::EINVAL),
    };
    let found = exit::wait_child(who, options)?;
    if infop != 0 {
        let mut info = [0u8; 128];
        if let Some((pid, st)) = found {
            // CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_CONTINUED.
            let (code, status) = if st == 0xffff {
                (6i32, signal::SIGCONT as i32)
            } else if st & 0xff == 0x7f {
                (5i32, (st >> 8) & 0xff)
            } else if st & 0x7f == 0 {
                (1i32, (st >> 8) & 0xff)
            } else {
                (2i32, st & 0x7f)
            };
            info[0..4].copy_from_slice(&(signal::SIGCHLD as i32).to_le_bytes());
            info[8..12].copy_from_slice(&code.to_le_bytes());
            info[16..20].copy_from_slice(&(pid as i32).to_le_bytes());
            info[24..28].copy_from_slice(&status.to_le_bytes());
        }
        crate::mm::user::copy_to_user(infop, &info)?;
    }
    if rusage != 0 {
        crate::mm::user::clear_user(rusage, 144)?;
    }
    Ok(0)
}

fn arch_prctl(code: u64, addr: u64) -> SysResult {
    let t = sched::current();
    match code {
        0x1001 | 0x1002 if addr >= crate::mm::USER_END => Err(Errno::EPERM),
        0x1001 => {
            t.ctx.set_gs_base(addr);
            Ok(0)
        }
        0x1002 => {
            t.ctx.set_fs_base(addr);
            Ok(0)
        }
        0x1003 => write_user(addr, &t.ctx.fs_base()).map(|_| 0),
        0x1004 => write_user(addr, &t.ctx.gs_base()).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

fn setpgid(pid: u64, pgid: u64) -> SysResult {
    let (pid, pgid) = (as_i32(pid), as_i32(pgid));
    if pgid < 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = task::current_process();
    let target = if pid == 0 || pid as u32 == task::current_vpid() {
        me.clone()
    } else {
        let t = task::find_process(pid as u32).ok_or(Errno::ESRCH)?;
        if !t.parent().is_some_and(|pp| Arc::ptr_eq(&pp, &me)) {
            return Err(Errno::ESRCH);
        }
        t
    };
    let my_sid = me.sid();
    if target.sid() != my_sid || target.sid() == target.pid() {
        // Another session, or a session leader (which cannot change its group).
        return Err(Errno::EPERM);
    }
    let group = if pgid == 0 || pgid as u32 == task::view_nr(target.pid_ref()) {
        target.pid_ref().clone()
    } else {
        // The group must exist in the same session, among the processes the caller sees.
        let leader = task::find_process(pgid as u32).ok_or(Errno::EPERM)?;
        let g = leader.inner.lock().pgrp.clone().ok_or(Errno::EPERM)?;
        if g.global() != leader.pid() || leader.sid() != my_sid {
            return Err(Errno::EPERM);
        }
        g
    };
    target.inner.lock().pgrp = Some(group);
    Ok(0)
}

fn setsid() -> SysResult {
    let me = task::current_process();
    let pid = me.pid();
    let leader = task::visible_processes()
        .iter()
        .any(|(_, p)| !Arc::ptr_eq(p, &me) && p.pgid() == pid);
    if me.pgid() == pid || leader {
        return Err(Errno::EPERM);
    }
    let mut pi = me.inner.lock();
    pi.pgrp = Some(me.pid_ref().clone());
    pi.session = Some(me.pid_ref().clone());
    Ok(task::current_vpid() as usize)
}

/// The caller's view of `p`'s process group (or session) id.
fn group_view(p: &Arc<task::Process>, session: bool) -> usize {
    let pi = p.inner.lock();
    let g = if session { &pi.session } else { &pi.pgrp };
    g.as_ref().map_or(0, |g| task::view_nr(g)) as usize
}

/// The global number of the process the caller calls `nr`.
fn global_of(nr: u32) -> Option<u32> {
    task::caller_pid_container().lookup(nr).map(|p| p.global())
}

/// Processes selected by `which`/`who` of get/setpriority, in the caller's view.
fn priority_targets(which: u64, who: u64) -> Result<Vec<Arc<task::Process>>, Errno> {
    let who = as_i32(who);
    let me = task::current_process();
    let all: Vec<_> = task::visible_processes()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let v: Vec<_> = match which {
        0 => {
            let p = if who == 0 {
                Some(me)
            } else {
                task::find_process(who as u32)
            };
            p.into_iter().collect()
        }
        1 => {
            let g = if who == 0 {
                Some(me.pgid())
            } else {
                global_of(who as u32)
            };
            all.into_iter().filter(|p| Some(p.pgid()) == g).collect()
        }
        2 => {
            // Every process belongs to uid 0 until credentials exist.
            if who == 0 { all } else { Vec::new() }
        }
        _ => return Err(Errno::EINVAL),
    };
    let v: Vec<_> = v
        .into_iter()
        .filter(|p| p.inner.lock().zombie.is_none())
        .collect();
    if v.is_empty() {
        Err(Errno::ESRCH)
    } else {
        Ok(v)
    }
}

fn getpriority(which: u64, who: u64) -> SysResult {
    let v = priority_targets(which, who)?;
    let best = v.iter().map(|p| p.inner.lock().nice).min().unwrap_or(0);
    Ok((20 - best) as usize)
}

fn setpriority(which: u64, who: u64, prio: u64) -> SysResult {
    let nice = as_i32(prio).clamp(-20, 19);
    let me = task::current_cred();
    for p in priority_targets(which, who)? {
        let them = p.cred();
        let may_nice = me.capable_in(&them.user, crate::cred::CAP_SYS_NICE);
        // Another user's process needs CAP_SYS_NICE (EPERM); lowering the nice value
        // (raising priority) too (EACCES) (setpriority(2)).
        if them.uid != me.euid && them.euid != me.euid && !may_nice {
            return Err(Errno::EPERM);
        }
        // The plimits group's pids.priority is a floor no capability passes.
        p.plimits().pids.check_nice(nice)?;
        let mut pi = p.inner.lock();
        if nice < pi.nice && !may_nice {
            return Err(Errno::EACCES);
        }
        pi.nice = nice;
    }
    Ok(0)
}

const SCHED_OTHER: u64 = 0;
const SCHED_FIFO: u64 = 1;
const SCHED_RR: u64 = 2;
const SCHED_BATCH: u64 = 3;
const SCHED_IDLE: u64 = 5;
const SCHED_RESET_ON_FORK: u64 = 0x4000_0000;

fn priority_range(policy: u64) -> Result<(u32, u32), Errno> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok((1, 99)),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => Ok((0, 0)),
        _ => Err(Errno::EINVAL),
    }
}

fn sched_setparam(pid: u64, param: u64, policy: Option<u64>) -> SysResult {
    if param == 0 || as_i32(pid) < 0 {
        return Err(Errno::EINVAL);
    }
    let prio: i32 = read_user(param)?;
    with_process(pid, |p| {
        let policy = match policy {
            Some(pol) => (pol as u32 as u64) & !SCHED_RESET_ON_FORK,
            None => p.inner.lock().policy as u64,
        };
        let (min, max) = priority_range(policy)?;
        if prio < min as i32 || prio > max as i32 {
            return Err(Errno::EINVAL);
        }
        // Real-time policies need CAP_SYS_NICE (sched(7)).
        if max > 0 && !task::current_cred().capable(crate::cred::CAP_SYS_NICE) {
            return Err(Errno::EPERM);
        }
        // A real-time policy outranks every nice value: a plimits group with a
        // pids.priority floor above -20 refuses it.
        if max > 0 && p.plimits().pids.priority() > crate::plimits::pids::NICE_MIN {
            return Err(Errno::EACCES);
        }
        let mut pi = p.inner.lock();
        pi.policy = policy as u32;
        pi.rt_priority = prio as u32;
        Ok(0)
    })
}

fn sched_getparam(pid: u64, param: u64) -> SysResult {
    if param == 0 {
        return Err(Errno::EINVAL);
    }
    let prio = with_process(pid, |p| Ok(p.inner.lock().rt_priority as usize))?;
    write_user(param, &(prio as i32))?;
    Ok(0)
}

fn rr_interval(pid: u64, ts: u64) -> SysResult {
    let policy = with_process(pid, |p| Ok(p.inner.lock().policy as usize))? as u64;
    let ns: i64 = match policy {
        SCHED_FIFO => 0,
        SCHED_RR => 100_000_000,
        _ => 10_000_000,
    };
    write_user(ts, &[ns / 1_000_000_000, ns % 1_000_000_000])?;
    Ok(0)
}

/// One CPU: the mask is `{0}`; `len` must hold a `long`.
fn affinity_get(len: u64, mask: u64) -> SysResult {
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    write_user(mask, &1u64)?;
    Ok(8)
}

fn affinity_set(len: u64, mask: u64) -> SysResult {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let mut first = [0u8; 1];
    crate::mm::user::copy_from_user(mask, &mut first)?;
    if first[0] & 1 == 0 {
        return Err(Errno::EINVAL); // no CPU of the mask exists
    }
    Ok(0)
}
