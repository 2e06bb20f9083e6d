//! File calls beyond the basic set: the signal-driven I/O commands of `fcntl`
//! (`F_SETOWN`, `F_GETOWN`, `F_SETSIG`, `F_GETSIG`, `O_ASYNC` through `F_SETFL`).

use crate::errno::{Errno, SysResult};
use crate::fs::OpenFile;
use crate::fs::file::O_ASYNC;
use crate::task;
use alloc::sync::Arc;

pub const F_SETFL: u32 = 4;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
pub const F_SETSIG: u32 = 10;
pub const F_GETSIG: u32 = 11;

/// The signal-driven I/O part of `fcntl(fd, cmd, arg)`; `None` for other commands.
pub fn fcntl_async(file: &Arc<OpenFile>, fd: i32, cmd: u32, arg: u64) -> Option<SysResult> {
    Some(match cmd {
        F_SETOWN => set_owner(file, arg as u32 as i32),
        F_GETOWN => Ok(file.fown().owner.map_or(0, |(pid, group)| {
            let nr = task::view_nr(&pid) as i32;
            (if group { -nr } else { nr }) as isize as usize
        })),
        F_SETSIG => {
            if arg > crate::task::signal::NSIG as u64 {
                return Some(Err(Errno::EINVAL));
            }
            file.set_fown(|f| f.sig = arg as u32);
            Ok(0)
        }
        F_GETSIG => Ok(file.fown().sig as usize),
        F_SETFL => {
            if arg as u32 & O_ASYNC != 0
                && file.flags() & O_ASYNC == 0
                && let Err(e) = file.ops().fasync(file)
            {
                return Some(Err(e));
            }
            file.set_fown(|f| f.fd = fd);
            file.set_status_flags(arg as u32);
            Ok(0)
        }
        _ => return None,
    })
}

/// `F_SETOWN`: a process (`pid` > 0) or process group (`-pid`) of the caller's PID
/// container (`ESRCH` if there is none), 0 for nobody.
fn set_owner(file: &OpenFile, pid: i32) -> SysResult {
    let owner = match pid {
        0 => None,
        i32::MIN => return Err(Errno::EINVAL),
        p => {
            let nr = p.unsigned_abs();
            let found = task::caller_pid_container()
                .lookup(nr)
                .ok_or(Errno::ESRCH)?;
            Some((found, p < 0))
        }
    };
    file.set_fown(|f| f.owner = owner);
    Ok(0)
}
