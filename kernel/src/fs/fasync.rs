//! Signal-driven I/O (fcntl(2) "Managing signals"): an open file's owner (`F_SETOWN`),
//! the signal it gets (`F_SETSIG`, else `SIGIO`) and the per-object list of open files
//! with `O_ASYNC` set (Linux's fasync list), told when data or room arrives.

use super::env;
use super::file::{O_ASYNC, OpenFile};
use crate::container::pid::Pid;
use crate::errno::Errno;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

/// `si_code` of an I/O signal (`POLL_IN`, `POLL_OUT`) and its `si_band` bits.
pub const POLL_IN: i32 = 1;
pub const POLL_OUT: i32 = 2;
pub const BAND_IN: u64 = 0x41; // POLLIN | POLLRDNORM
pub const BAND_OUT: u64 = 0x104; // POLLOUT | POLLWRNORM

/// Who an open file signals, and how.
#[derive(Clone, Default)]
pub struct Fown {
    /// The process (false) or process group (true) that gets the signal.
    pub owner: Option<(Arc<Pid>, bool)>,
    /// `F_SETSIG`: 0 means `SIGIO` without details.
    pub sig: u32,
    /// The descriptor `O_ASYNC` was set through: `si_fd`.
    pub fd: i32,
}

/// The open files of one object that asked for I/O signals.
#[derive(Default)]
pub struct FasyncList(Mutex<Vec<Weak<OpenFile>>>);

impl FasyncList {
    /// Adds `file` once (`ENOMEM` if the list cannot grow); closed files drop out.
    pub fn add(&self, file: &Arc<OpenFile>) -> Result<(), Errno> {
        let mut v = self.0.lock();
        v.retain(|w| w.strong_count() > 0);
        if v.iter().any(|w| w.as_ptr() == Arc::as_ptr(file)) {
            return Ok(());
        }
        v.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        v.push(Arc::downgrade(file));
        Ok(())
    }

    /// Signals the owner of every listed file that still has `O_ASYNC` set.
    pub fn notify(&self, code: i32, band: u64) {
        let files: Vec<Arc<OpenFile>> = self.0.lock().iter().filter_map(Weak::upgrade).collect();
        for f in files {
            if f.flags() & O_ASYNC != 0 {
                env::send_io_signal(&f.fown(), code, band);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().iter().all(|w| w.strong_count() == 0)
    }
}
