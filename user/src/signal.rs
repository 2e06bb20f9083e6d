//! Signal details for the test programs: Linux's `siginfo_t` and the calls that carry
//! one (`rt_sigtimedwait`, `rt_sigqueueinfo`).

use crate::sys::{self, SysResult};

const NR_RT_SIGTIMEDWAIT: usize = 128;
const NR_RT_SIGQUEUEINFO: usize = 129;
const SIG_BLOCK: usize = 0;

/// A `siginfo_t`: signo, errno, code, then the union as words from byte 16.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pad: i32,
    pub words: [u64; 14],
}

impl SigInfo {
    /// A siginfo with `si_pid` `pid` and `si_value` `value`.
    pub fn new(signo: i32, code: i32, pid: u32, value: u64) -> SigInfo {
        let mut words = [0; 14];
        words[0] = pid as u64;
        words[1] = value;
        SigInfo {
            signo,
            errno: 0,
            code,
            pad: 0,
            words,
        }
    }

    pub fn pid(&self) -> u32 {
        self.words[0] as u32
    }

    pub fn uid(&self) -> u32 {
        (self.words[0] >> 32) as u32
    }

    /// `si_value`, `si_status` or `si_fd` (the word at byte 24).
    pub fn third(&self) -> u64 {
        self.words[1]
    }
}

/// Adds `set` to the blocked signals.
pub fn block(set: u64) {
    let _ = sys::sigprocmask(SIG_BLOCK, Some(set));
}

/// `rt_sigtimedwait(set, info, timeout)`; `timeout_ns` `None` waits forever.
pub fn sigtimedwait(set: u64, timeout_ns: Option<u64>) -> SysResult<(i32, SigInfo)> {
    let mut info = SigInfo::new(0, 0, 0, 0);
    let ts = timeout_ns.map(sys::Timespec::from_nanos);
    let tsp = ts.as_ref().map_or(0, |t| t as *const _ as usize);
    // SAFETY: live set, info and timespec.
    let r = sys::check(unsafe {
        sys::syscall4(
            NR_RT_SIGTIMEDWAIT,
            &set as *const u64 as usize,
            &mut info as *mut SigInfo as usize,
            tsp,
            8,
        )
    })?;
    Ok((r as i32, info))
}

/// `rt_sigqueueinfo(pid, sig, info)`.
pub fn sigqueueinfo(pid: i32, sig: i32, info: &SigInfo) -> SysResult {
    // SAFETY: a live siginfo.
    sys::check(unsafe {
        sys::syscall3(
            NR_RT_SIGQUEUEINFO,
            pid as usize,
            sig as usize,
            info as *const SigInfo as usize,
        )
    })
}
