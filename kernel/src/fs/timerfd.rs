//! timerfd (timerfd_create(2)): a file that counts timer expirations. Reading gives the
//! count as a `u64` (blocking until one, `EAGAIN` when non-blocking) and resets it; `poll`
//! says `POLLIN` while it is non-zero. Times are kept as host monotonic nanoseconds (the
//! system call converts an absolute time of the caller's clock, TIME container offsets
//! included); expirations are counted lazily from the clock when the file is looked at.

use super::env;
use super::file::{FileOps, O_RDWR, OpenFile, POLLIN};
use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

/// When a timer fires: the next expiry (host monotonic ns; `None` when disarmed), the
/// interval (0: once), and the expirations not yet read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    pub next: Option<u64>,
    pub interval: u64,
    pub ticks: u64,
}

impl Timer {
    /// Counts the expirations up to `now`.
    pub fn update(&mut self, now: u64) {
        let Some(next) = self.next else { return };
        if now < next {
            return;
        }
        match (now - next).checked_div(self.interval) {
            // A one-shot timer.
            None => {
                self.ticks = self.ticks.saturating_add(1);
                self.next = None;
            }
            Some(missed) => {
                let n = missed + 1;
                self.ticks = self.ticks.saturating_add(n);
                self.next = next.checked_add(n.saturating_mul(self.interval));
            }
        }
    }

    /// Arms (`next` Some) or disarms; pending expirations are dropped (as Linux).
    pub fn set(&mut self, next: Option<u64>, interval: u64) {
        *self = Timer {
            next,
            interval: if next.is_some() { interval } else { 0 },
            ticks: 0,
        };
    }

    /// `(time to the next expiry, interval)` at `now`, as `timerfd_gettime` reports them.
    pub fn get(&self, now: u64) -> (u64, u64) {
        (
            self.next.map_or(0, |n| n.saturating_sub(now).max(1)),
            self.interval,
        )
    }
}

pub struct TimerFd {
    /// The clock it was created on (CLOCK_REALTIME, _MONOTONIC or _BOOTTIME).
    pub clock: i32,
    timer: Mutex<Timer>,
}

/// Open timerfds by the address of their file object (to recognise one by its fd).
static TIMERFDS: Mutex<BTreeMap<usize, Weak<TimerFd>>> = Mutex::new(BTreeMap::new());

impl TimerFd {
    fn chan(&self) -> usize {
        self as *const TimerFd as usize
    }

    /// The timer after counting expirations up to now.
    pub fn current(&self) -> Timer {
        let mut t = self.timer.lock();
        t.update(env::monotonic_ns());
        *t
    }

    /// Arms or disarms; returns the previous `(value, interval)`.
    pub fn set(&self, next: Option<u64>, interval: u64) -> (u64, u64) {
        let now = env::monotonic_ns();
        let mut t = self.timer.lock();
        t.update(now);
        let old = t.get(now);
        t.set(next, interval);
        drop(t);
        // A blocked reader recomputes its deadline.
        env::wakeup(self.chan());
        old
    }
}

impl FileOps for TimerFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        loop {
            let deadline = {
                let mut t = self.timer.lock();
                t.update(env::monotonic_ns());
                if t.ticks > 0 {
                    buf[..8].copy_from_slice(&t.ticks.to_ne_bytes());
                    t.ticks = 0;
                    return Ok(8);
                }
                t.next
            };
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            if env::sleep(self.chan(), deadline) == env::Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn poll(&self) -> u16 {
        if self.current().ticks > 0 { POLLIN } else { 0 }
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.chan())
    }

    fn ready_at(&self) -> Option<u64> {
        self.current().next
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        TIMERFDS.lock().remove(&(self as *const TimerFd as usize));
    }
}

/// A new, disarmed timerfd on `clock`; `flags` may hold `O_NONBLOCK`.
pub fn open(clock: i32, flags: u32) -> Arc<OpenFile> {
    let t = Arc::new(TimerFd {
        clock,
        timer: Mutex::new(Timer::default()),
    });
    TIMERFDS
        .lock()
        .insert(Arc::as_ptr(&t) as usize, Arc::downgrade(&t));
    OpenFile::new(
        t,
        None,
        String::from("anon_inode:[timerfd]"),
        O_RDWR | flags,
    )
}

/// The timerfd behind `file`, if it is one.
pub fn of_file(file: &OpenFile) -> Option<Arc<TimerFd>> {
    let key = Arc::as_ptr(file.ops()) as *const () as usize;
    TIMERFDS.lock().get(&key).and_then(Weak::upgrade)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_fires_once() {
        let mut t = Timer::default();
        t.set(Some(100), 0);
        t.update(99);
        assert_eq!(t.ticks, 0);
        assert_eq!(t.get(40), (60, 0));
        t.update(100);
        assert_eq!((t.ticks, t.next), (1, None));
        t.update(1000);
        assert_eq!(t.ticks, 1);
        assert_eq!(t.get(1000), (0, 0));
    }

    #[test]
    fn interval_counts_missed_expirations() {
        let mut t = Timer::default();
        t.set(Some(100), 10);
        t.update(135);
        assert_eq!((t.ticks, t.next), (4, Some(140)));
        assert_eq!(t.get(135), (5, 10));
        t.update(140);
        assert_eq!(t.ticks, 5);
    }

    #[test]
    fn set_drops_pending_and_disarm_clears_interval() {
        let mut t = Timer::default();
        t.set(Some(1), 5);
        t.update(100);
        assert!(t.ticks > 0);
        t.set(None, 5);
        assert_eq!(t, Timer::default());
    }
}
