//! Wait queues for poll, select and epoll. A pollable object names itself by a wait
//! channel (`FileOps::wait_chan`) and calls `env::wakeup(chan)` whenever its readiness
//! may change; `env::wakeup` also runs every [`Waiter`] registered on that channel here.
//! A poller registers one waker on each channel it watches and sleeps on its own
//! channel, so it is woken by the objects it watches and by nothing else; an epoll
//! instance keeps one registration per watched file for as long as it watches it.
//! Registering takes memory a user can multiply (threads × watched files), so it is
//! fallible (`ENOMEM`, nothing registered) and its cost ([`registration_cost`]) is
//! charged by the callers; waking allocates nothing.

use super::env::{self, Wake};
use crate::container::pidmap::NumberHash;
use crate::errno::Errno;
use crate::plimits::kmem::Charge;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hashbrown::HashMap;
use spin::Mutex;

/// Something to run when a watched channel is woken.
pub trait Waiter: Send + Sync {
    fn notify(&self);
}

type Table = HashMap<u64, Vec<Arc<dyn Waiter>>, NumberHash>;

/// The waiters of each channel (channels are kernel addresses: no user picks the hash).
static WAITERS: Mutex<Table> = Mutex::new(HashMap::with_hasher(NumberHash));

/// Waiters run per lock hold by [`notify`] (kept on the stack: waking allocates nothing).
const BATCH: usize = 16;

/// Runs the waiters registered on `chan` (called by `env::wakeup`). The table lock is
/// not held while they run: a waiter may wake other channels (nested epoll). The list
/// is walked from its end in batches, so a registration dropped meanwhile (its place
/// taken by the last one, already run) makes at most a spurious second notification,
/// never a missed one.
pub fn notify(chan: usize) {
    let mut end = usize::MAX;
    loop {
        let mut batch: [Option<Arc<dyn Waiter>>; BATCH] = Default::default();
        {
            let t = WAITERS.lock();
            let Some(l) = t.get(&(chan as u64)) else {
                return;
            };
            end = end.min(l.len());
            let start = end.saturating_sub(BATCH);
            for (slot, w) in batch.iter_mut().zip(&l[start..end]) {
                *slot = Some(w.clone());
            }
            end = start;
        }
        for w in batch.iter().flatten() {
            w.notify();
        }
        if end == 0 {
            return;
        }
    }
}

/// What one registration may take on the heap: its place in the channel's list (which
/// doubles as it grows), the channel's table entry (hashbrown keeps at least an eighth
/// free, and doubles) and the [`Registration`] the caller keeps.
pub fn registration_cost() -> u64 {
    use core::mem::size_of;
    let slot = 2 * size_of::<Arc<dyn Waiter>>();
    let entry = 2 * (size_of::<(u64, Vec<Arc<dyn Waiter>>)>() + 1);
    (slot + entry + size_of::<Registration>()) as u64
}

/// `waiter` registered on `chan` until this is dropped.
pub struct Registration {
    chan: usize,
    waiter: Arc<dyn Waiter>,
}

impl Registration {
    /// Registers `waiter` on `chan`: `ENOMEM` when the table cannot grow.
    pub fn new(chan: usize, waiter: Arc<dyn Waiter>) -> Result<Registration, Errno> {
        let mut t = WAITERS.lock();
        match t.get_mut(&(chan as u64)) {
            Some(l) => {
                l.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                l.push(waiter.clone());
            }
            None => {
                t.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                let mut l = Vec::new();
                l.try_reserve_exact(1).map_err(|_| Errno::ENOMEM)?;
                l.push(waiter.clone());
                t.insert(chan as u64, l);
            }
        }
        Ok(Registration { chan, waiter })
    }
}

/// Gives `v`'s room back once under a quarter of it is used (kept as it is when there
/// is no memory for the smaller copy).
fn shrink_list(v: &mut Vec<Arc<dyn Waiter>>) {
    if v.capacity() > 8 && v.len() < v.capacity() / 4 {
        let mut smaller = Vec::new();
        if smaller.try_reserve_exact(v.len() * 2).is_ok() {
            smaller.append(v);
            *v = smaller;
        }
    }
}

/// The table's counterpart of [`shrink_list`]: thousands of pollers gone leave no
/// table of their peak behind, and an empty table holds no memory (as the B-tree it
/// replaced).
fn shrink_table(t: &mut Table) {
    if t.is_empty() {
        *t = HashMap::with_hasher(NumberHash);
    } else if t.capacity() > 16 && t.len() < t.capacity() / 4 {
        let mut smaller = HashMap::with_hasher(NumberHash);
        if smaller.try_reserve(t.len() * 2).is_ok() {
            smaller.extend(t.drain());
            *t = smaller;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = WAITERS.lock();
        let key = self.chan as u64;
        if let Some(l) = t.get_mut(&key) {
            if let Some(i) = l.iter().position(|w| Arc::ptr_eq(w, &self.waiter)) {
                l.swap_remove(i);
            }
            if l.is_empty() {
                t.remove(&key);
                shrink_table(&mut t);
            } else {
                shrink_list(l);
            }
        }
    }
}

/// Whether anything waits on `chan` (tests: nothing stays registered).
pub fn is_registered(chan: usize) -> bool {
    WAITERS.lock().contains_key(&(chan as u64))
}

/// Channels with waiters and the table's capacity (tests: its room comes back).
pub fn table_size() -> (usize, usize) {
    let t = WAITERS.lock();
    (t.len(), t.capacity())
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
/// Its registrations are charged to the caller's group while it sleeps: `ENOMEM` over
/// the group's limit or without memory for them, before sleeping.
pub fn wait_any(chans: &[usize], deadline: Option<u64>) -> Result<Wake, Errno> {
    let _charge = Charge::new((chans.len() as u64).saturating_mul(registration_cost()))?;
    if !crate::mm::heap::room_for_user_objects(chans.len() * registration_cost() as usize) {
        return Err(Errno::ENOMEM);
    }
    let mut regs = Vec::new();
    regs.try_reserve_exact(chans.len())
        .map_err(|_| Errno::ENOMEM)?;
    let waker: Arc<dyn Waiter> = Arc::new(Waker);
    let own = Arc::as_ptr(&waker) as *const () as usize;
    for (i, &c) in chans.iter().enumerate() {
        if !chans[..i].contains(&c) {
            regs.push(Registration::new(c, waker.clone())?);
        }
    }
    let r = env::sleep(own, deadline);
    drop(regs);
    Ok(r)
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
    fn the_table_gives_its_room_back_when_the_pollers_go() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let base = 0x7_0000_0000;
        let regs: Vec<Registration> = (0..1000)
            .map(|i| Registration::new(base + 64 * i, c.clone()).expect("memory"))
            .collect();
        assert!(table_size().1 >= 1000, "grown: {:?}", table_size());
        drop(regs);
        let (len, cap) = table_size();
        assert!(cap <= 64, "{len} channels in a table of {cap}");
    }

    #[test]
    fn a_wakeup_runs_the_waiters_of_its_channel_only_while_registered() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let chan = 0x1234_5678;
        let r = Registration::new(chan, c.clone()).expect("memory");
        env::wakeup(chan);
        env::wakeup(chan + 1);
        assert_eq!(c.0.load(Ordering::Relaxed), 1);
        drop(r);
        env::wakeup(chan);
        assert_eq!(c.0.load(Ordering::Relaxed), 1, "unregistered");
        assert!(!is_registered(chan), "empty lists are removed");
    }
}
