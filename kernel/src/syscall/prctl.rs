//! `prctl` options beyond credentials and seccomp (those stay in `cred.rs`): the
//! parent-death signal, child subreapers, timer slack and the TSC mode. The state is
//! per process here (Linux keeps the first and third per thread).

use crate::errno::{Errno, SysResult};
use crate::mm::user::write_user;
use crate::task;

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_TSC: u64 = 25;
const PR_SET_TSC: u64 = 26;
const PR_SET_TIMERSLACK: u64 = 29;
const PR_GET_TIMERSLACK: u64 = 30;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const PR_GET_CHILD_SUBREAPER: u64 = 37;
const PR_TSC_ENABLE: u64 = 1;
/// Highest signal number (`_NSIG`).
const NSIG: u64 = 64;

/// The options of this file; `None` for the others (`EINVAL` in the caller).
pub fn option(option: u64, arg2: u64) -> Option<SysResult> {
    let p = task::current_process();
    Some(match option {
        PR_SET_PDEATHSIG => {
            if arg2 > NSIG {
                return Some(Err(Errno::EINVAL));
            }
            p.inner.lock().prctl.pdeath_signal = arg2 as u32;
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let sig = p.inner.lock().prctl.pdeath_signal as i32;
            write_user(arg2, &sig).map(|_| 0)
        }
        PR_SET_CHILD_SUBREAPER => {
            p.inner.lock().prctl.child_subreaper = arg2 != 0;
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let on = p.inner.lock().prctl.child_subreaper as i32;
            write_user(arg2, &on).map(|_| 0)
        }
        PR_SET_TIMERSLACK => {
            let mut pi = p.inner.lock();
            pi.prctl.timer_slack_ns = if arg2 == 0 {
                pi.prctl.default_timer_slack_ns
            } else {
                arg2
            };
            Ok(0)
        }
        PR_GET_TIMERSLACK => Ok(p.inner.lock().prctl.timer_slack_ns as usize),
        PR_GET_TSC => write_user(arg2, &(PR_TSC_ENABLE as i32)).map(|_| 0),
        // PR_TSC_SIGSEGV would need CR4.TSD switched per task, and the vDSO's clocks read
        // the TSC: refused.
        PR_SET_TSC if arg2 == PR_TSC_ENABLE => Ok(0),
        PR_SET_TSC => Err(Errno::EINVAL),
        _ => return None,
    })
}
