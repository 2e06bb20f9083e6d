//! Garbage collection of AF_UNIX sockets kept alive only by files in flight (Linux's
//! `unix_gc`): a socket passed over itself, or two sockets passed into each other's
//! queues and then closed, hold each other for ever. A candidate is a socket file whose
//! every reference is in flight; references from the queues of candidates are taken
//! away; what is left is referenced from a live queue and makes everything in its own
//! queue live; the queues of the rest are emptied, which frees them.

use super::{ALL, UnixSocket};
use crate::net::{AF_UNIX, in_flight_table};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

static RUNNING: AtomicBool = AtomicBool::new(false);

/// The addresses of the in-flight files in `s`'s queue.
fn queued_files(s: &UnixSocket) -> Vec<usize> {
    let st = s.state.lock();
    st.rx
        .iter()
        .filter_map(|p| p.rights.as_ref())
        .flat_map(|r| r.files().iter().map(|f| Arc::as_ptr(f) as usize))
        .collect()
}

/// Runs one collection (nothing when one is running already: freeing sockets closes
/// files, which calls here again).
pub fn collect() {
    if RUNNING.swap(true, Ordering::Acquire) {
        return;
    }
    let table = in_flight_table();
    // file address -> (socket, in-flight references not from a candidate's queue)
    let mut cand: BTreeMap<usize, (Arc<UnixSocket>, usize)> = BTreeMap::new();
    for (f, n) in &table {
        // `table` holds one reference itself.
        if Arc::strong_count(f) != n + 1 {
            continue;
        }
        let Some(sock) = f.socket() else { continue };
        if sock.common().family != AF_UNIX {
            continue;
        }
        let Some(u) = ALL.lock().get(&sock.common().ino).and_then(Weak::upgrade) else {
            continue;
        };
        cand.insert(Arc::as_ptr(f) as usize, (u, *n));
    }
    let children: BTreeMap<usize, Vec<usize>> = cand
        .iter()
        .map(|(k, (s, _))| (*k, queued_files(s)))
        .collect();
    for kids in children.values() {
        for k in kids {
            if let Some(c) = cand.get_mut(k) {
                c.1 = c.1.saturating_sub(1);
            }
        }
    }
    let mut live: BTreeSet<usize> = cand
        .iter()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(k, _)| *k)
        .collect();
    let mut stack: Vec<usize> = live.iter().copied().collect();
    while let Some(k) = stack.pop() {
        for kid in children.get(&k).into_iter().flatten() {
            if cand.contains_key(kid) && live.insert(*kid) {
                stack.push(*kid);
            }
        }
    }
    let mut freed = Vec::new();
    for (k, (s, _)) in &cand {
        if !live.contains(k) {
            let mut st = s.state.lock();
            st.rx_bytes = 0;
            freed.push(core::mem::take(&mut st.rx));
        }
    }
    drop(cand);
    drop(table);
    drop(freed);
    RUNNING.store(false, Ordering::Release);
}
