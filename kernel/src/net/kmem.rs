//! The socket object's own charge to its creator's plimits group (its buffers are
//! charged by [`super::stack::SockBytes`] and the AF_UNIX queues by their owners).

use super::{AF_INET, AF_INET6, Socket};
use crate::errno::Errno;
use crate::plimits::kmem::{Charge, array_cost, heap_cost};
use alloc::sync::Arc;
use core::alloc::Layout;

/// What the `Arc` of `sock` takes on the heap (its two counts and the socket).
fn cost(sock: &dyn Socket) -> u64 {
    Layout::new::<[usize; 2]>()
        .extend(Layout::for_value(sock))
        .map_or(u64::MAX, |(l, _)| heap_cost(l.pad_to_align()))
}

/// A failed charge for a socket of `family`: `ENOBUFS` for AF_INET/AF_INET6 and
/// `ENOMEM` for the other families, as Linux's `socket(2)` when it cannot allocate.
fn errno(family: i32, e: Errno) -> Errno {
    if family == AF_INET || family == AF_INET6 {
        Errno::ENOBUFS
    } else {
        e
    }
}

/// Charges the socket object `sock` to the group that made it, once, before its fd is
/// installed (`socket`, `socketpair`; an AF_UNIX server socket when it is made by
/// `connect`).
pub fn charge_socket(sock: &Arc<dyn Socket>) -> Result<(), Errno> {
    let c = sock.common();
    let mut k = c.kmem.lock();
    if k.bytes() != 0 {
        return Ok(());
    }
    *k = Charge::to(&c.group, cost(&**sock)).map_err(|e| errno(c.family, e))?;
    Ok(())
}

/// Charges what the socket `accept` on `listener` will make to the listener's group
/// before a connection is taken off its queue, so that a charge over the limit leaves
/// the connection queued (Linux allocates the socket before it dequeues).
pub fn charge_accept(listener: &Arc<dyn Socket>) -> Result<Charge, Errno> {
    let c = listener.common();
    Charge::to(&c.group, cost(&**listener)).map_err(|e| errno(c.family, e))
}

/// Gives the accepted socket `sock` the charge `pre` from [`charge_accept`], sized to
/// it (unless it was charged already, as an AF_UNIX server socket is by `connect`).
pub fn adopt(sock: &Arc<dyn Socket>, mut pre: Charge) {
    let c = sock.common();
    let mut k = c.kmem.lock();
    if k.bytes() != 0 {
        return;
    }
    // Accepted sockets are of the listener's type: the size is the same, and if it
    // were not, the charge made stays (an estimate) rather than failing after the
    // connection was taken.
    let _ = pre.resize(cost(&**sock));
    *k = pre;
}

/// Charges a queued AF_UNIX packet to the sender's socket's `group` until it is read or
/// dropped: its `len` data bytes, the `files` passed with it (`SCM_RIGHTS`: the list; the
/// files themselves are charged to whoever opened them) and its `slot` in the queue.
/// Over the limit that is `ENOBUFS`, as Linux's `sendmsg` when it cannot allocate.
pub fn queued(
    group: &Arc<crate::plimits::Group>,
    len: usize,
    files: usize,
    slot: usize,
) -> Result<Charge, Errno> {
    let cost = array_cost::<u8>(len)
        .saturating_add(array_cost::<usize>(files))
        .saturating_add(slot as u64);
    Charge::to(group, cost).map_err(|_| Errno::ENOBUFS)
}
