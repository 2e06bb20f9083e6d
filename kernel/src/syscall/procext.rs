//! Process calls beyond the basic set: `getcpu`, `membarrier`, `personality` and
//! `set_robust_list`/`get_robust_list`.

use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::mm::user::write_user;

syscalls! {
    frame, a;
    135 => personality(a[0] as u32),
    273 => set_robust_list(a[0], a[1]),
    274 => get_robust_list(a[0] as u32 as i32, a[1], a[2]),
    309 => getcpu(a[0], a[1]),
    324 => membarrier(a[0] as u32, a[1] as u32, a[2] as u32),
}

/// `getcpu(cpu, node, tcache)`: this kernel runs on CPU 0 of NUMA node 0; either pointer
/// may be NULL.
fn getcpu(cpu: u64, node: u64) -> SysResult {
    if cpu != 0 {
        write_user(cpu, &0u32)?;
    }
    if node != 0 {
        write_user(node, &0u32)?;
    }
    Ok(0)
}

const MEMBARRIER_CMD_QUERY: u32 = 0;
const MEMBARRIER_CMD_GLOBAL: u32 = 1;

/// `membarrier(cmd, flags, cpu_id)`: `MEMBARRIER_CMD_QUERY` lists `MEMBARRIER_CMD_GLOBAL`,
/// the one command offered: with one CPU, every other thread is off the CPU, so the
/// system call itself is the barrier. Other commands `EINVAL`, as a Linux without them.
fn membarrier(cmd: u32, flags: u32, _cpu: u32) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        MEMBARRIER_CMD_QUERY => Ok(MEMBARRIER_CMD_GLOBAL as usize),
        MEMBARRIER_CMD_GLOBAL => {
            core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `personality(persona)`: 0xffffffff only reads; any other value is stored (it changes
/// nothing else here: only the Linux personality exists) and the old one returned.
fn personality(persona: u32) -> SysResult {
    let p = crate::task::current_process();
    let mut pi = p.inner.lock();
    let old = pi.personality;
    if persona != 0xffff_ffff {
        pi.personality = persona;
    }
    Ok(old as usize)
}

/// `set_robust_list(head, len)`: `EINVAL` unless `len` is `sizeof(struct
/// robust_list_head)`; the list is walked when the thread exits (`task::robust`).
fn set_robust_list(head: u64, len: u64) -> SysResult {
    if len != crate::task::robust::HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    crate::task::sched::current().inner.lock().robust_list = (head, len);
    Ok(0)
}

/// `get_robust_list(tid, head_ptr, len_ptr)`: of the caller (0) or of a thread it may
/// trace (`Credentials::may_ptrace` with its real ids: else `EPERM`).
fn get_robust_list(tid: i32, head_ptr: u64, len_ptr: u64) -> SysResult {
    let t = match tid {
        0 => crate::task::sched::current(),
        n if n > 0 => crate::task::find_thread(n as u32).ok_or(Errno::ESRCH)?,
        _ => return Err(Errno::ESRCH),
    };
    if !alloc::sync::Arc::ptr_eq(t.process(), &crate::task::current_process()) {
        let me = crate::task::current_cred();
        let them = t.process().cred();
        if !me.may_ptrace(&them, false) {
            return Err(Errno::EPERM);
        }
    }
    let (head, len) = t.inner.lock().robust_list;
    write_user(head_ptr, &head)?;
    write_user(len_ptr, &len)?;
    Ok(0)
}
