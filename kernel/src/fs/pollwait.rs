//! Wait queues for poll, select and epoll. A pollable object names itself by a wait
//! channel (`FileOps::wait_chan`) and calls `env::wakeup(chan)` whenever its readiness
//! may change; `env::wakeup` also runs every [`Waiter`] registered on that channel here.
//! A poller registers one waker on each channel it watches and sleeps on its own
//! channel, so it is woken by the objects it watches and by nothing else; an epoll
//! instance keeps one registration per watched file for as long as it watches it.

use super::env::{self, Wake};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// Something to run when a watched channel is woken.
pub trait Waiter: Send + Sync {
    fn notify(&self);
}

static WAITERS: Mutex<BTreeMap<usize, Vec<Arc<dyn Waiter>>>> = Mutex::new(BTreeMap::new());

/// Runs the waiters registered on `chan` (called by `env::wakeup`). The table lock is
/// not held while they run: a waiter may wake other channels (nested epoll).
pub fn notify(chan: usize) {
    let list = match WAITERS.lock().get(&chan) {
        Some(l) => l.clone(),
        None => return,
    };
    for w in list {
        w.notify();
    }
}

/// `waiter` registered on `chan` until this is dropped.
pub struct Registration {
    chan: usize,
    waiter: Arc<dyn Waiter>,
}

impl Registration {
    pub fn new(chan: usize, waiter: Arc<dyn Waiter>) -> Registration {
        WAITERS.lock().entry(chan).or_default().push(waiter.clone());
        Registration { chan, waiter }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = WAITERS.lock();
        if let Some(l) = t.get_mut(&self.chan) {
            if let Some(i) = l.iter().position(|w| Arc::ptr_eq(w, &self.waiter)) {
                l.swap_remove(i);
            }
            if l.is_empty() {
                t.remove(&self.chan);
            }
        }
    }
}

/// Whether anything waits on `chan` (tests: nothing stays registered).
pub fn is_registered(chan: usize) -> bool {
    WAITERS.lock().contains_key(&chan)
}

/// A sleeping poller: wakes the thread sleeping on its own address.
struct Waker;

impl Waiter for Waker {
    fn notify(&self) {
        env::wakeup(self as *const Waker as usize);
    }
}

/// How long a poller sleeps at most when it watches an object without a wait channel.
pub const RECHECK_NS: u64 = 20_000_000;

/// Sleeps until one of `chans` is woken, until `deadline` (monotonic ns) or a signal.
pub fn wait_any(chans: &[usize], deadline: Option<u64>) -> Wake {
    let waker: Arc<dyn Waiter> = Arc::new(Waker);
    let own = Arc::as_ptr(&waker) as *const () as usize;
    let mut regs = Vec::new();
    for (i, &c) in chans.iter().enumerate() {
        if !chans[..i].contains(&c) {
            regs.push(Registration::new(c, waker.clone()));
        }
    }
    let r = env::sleep(own, deadline);
    drop(regs);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);
    impl Waiter for Count {
        fn notify(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_wakeup_runs_the_waiters_of_its_channel_only_while_registered() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let chan = 0x1234_5678;
        let r = Registration::new(chan, c.clone());
        env::wakeup(chan);
        env::wakeup(chan + 1);
        assert_eq!(c.0.load(Ordering::Relaxed), 1);
        drop(r);
        env::wakeup(chan);
        assert_eq!(c.0.load(Ordering::Relaxed), 1, "unregistered");
        assert!(!is_registered(chan), "empty lists are removed");
    }
}
