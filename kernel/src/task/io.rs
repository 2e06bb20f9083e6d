//! Per-process I/O counters (`/proc/[pid]/io`): the bytes and calls of the read and
//! write family, counted once per system call on its way out.

use core::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct IoCounters {
    rchar: AtomicU64,
    wchar: AtomicU64,
    syscr: AtomicU64,
    syscw: AtomicU64,
}

/// `read`, `pread64`, `readv`, `preadv`, `preadv2` count as reads; their `write`
/// counterparts as writes (Linux's `vfs_read`/`vfs_write` family). `None`: neither.
pub const fn kind(nr: u64) -> Option<bool> {
    match nr {
        0 | 17 | 19 | 295 | 327 => Some(true),
        1 | 18 | 20 | 296 | 328 => Some(false),
        _ => None,
    }
}

impl IoCounters {
    /// Counts system call `nr` that returned `ret` (a byte count or `-errno`).
    #[inline]
    pub fn account(&self, nr: u64, ret: u64) {
        let Some(read) = kind(nr) else {
            return;
        };
        let (calls, bytes) = match read {
            true => (&self.syscr, &self.rchar),
            false => (&self.syscw, &self.wchar),
        };
        calls.fetch_add(1, Ordering::Relaxed);
        if (ret as i64) > 0 {
            bytes.fetch_add(ret, Ordering::Relaxed);
        }
    }

    /// (rchar, wchar, syscr, syscw).
    pub fn get(&self) -> [u64; 4] {
        [&self.rchar, &self.wchar, &self.syscr, &self.syscw].map(|c| c.load(Ordering::Relaxed))
    }
}
