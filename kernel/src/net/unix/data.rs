//! Sending and receiving on AF_UNIX sockets: packets go straight into the receiver's
//! queue; a stream reader merges them (stopping at passed files), a datagram or
//! seqpacket reader takes one record per call.

use super::{Conn, MAX_DGRAM_QLEN, Packet, State, UnixAddr, UnixSocket};
use crate::errno::Errno;
use crate::fs::env;
use crate::net::{
    Control, Creds, InFlight, Io, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, Received, SOCK_DGRAM,
    SOCK_SEQPACKET, SOCK_STREAM, env as nenv,
};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

/// Bytes a record may not exceed: `SO_SNDBUF` less Linux's 32-byte allowance.
fn record_max(me: &UnixSocket) -> usize {
    (me.common.opts.lock().sndbuf as usize).saturating_sub(32)
}

/// What a queued packet costs beyond its data (as Linux charges an skb's truesize):
/// many one-byte packets cannot hold more memory than the buffer sizes say.
const PACKET_COST: usize = 256;

/// The memory a queue is charged for.
fn queued_cost(st: &State) -> usize {
    st.rx_bytes + st.rx.len() * PACKET_COST
}

/// Whether `peer`'s queue has no room for more from `me`: a connection holds at most
/// `me`'s `SO_SNDBUF`, a datagram queue `MAX_DGRAM_QLEN` records (and its `SO_RCVBUF`).
pub(super) fn peer_full(me: &UnixSocket, peer: &UnixSocket) -> bool {
    let limit = if me.common.sock_type == SOCK_DGRAM {
        peer.common.opts.lock().rcvbuf as usize
    } else {
        me.common.opts.lock().sndbuf as usize
    };
    let ps = peer.state.lock();
    queued_cost(&ps) + PACKET_COST >= limit
        || (me.common.sock_type == SOCK_DGRAM && ps.rx.len() > MAX_DGRAM_QLEN)
}

fn copy_data(b: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(b.len()).map_err(|_| Errno::ENOMEM)?;
    v.extend_from_slice(b);
    Ok(v)
}

/// The charge of a packet of `n` bytes (and `rights`) from `me` (`ENOBUFS`).
fn charge(
    me: &UnixSocket,
    n: usize,
    rights: &Option<InFlight>,
) -> Result<crate::plimits::kmem::Charge, Errno> {
    let files = rights.as_ref().map_or(0, |r| r.0.len());
    crate::net::kmem::queued(&me.common.group, n, files, size_of::<Packet>())
}

/// Makes room for one more packet on `st` (before the packet is built: a packet
/// dropped under the queue's lock could close a socket and run the collector).
fn reserve(st: &mut State) -> Result<(), Errno> {
    st.rx.try_reserve(1).map_err(|_| Errno::ENOMEM)
}

/// Queues a packet on `st` after [`reserve`].
fn enqueue(st: &mut State, p: Packet) {
    st.rx_bytes += p.data.len() - p.off;
    st.rx.push_back(p);
}

pub(super) fn send(
    me: &UnixSocket,
    buf: &[u8],
    addr: Option<&[u8]>,
    controls: Vec<Control>,
    io: &Io,
) -> Result<usize, Errno> {
    // Out-of-band data is not supported (Linux without CONFIG_AF_UNIX_OOB).
    if io.flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let mut rights: Vec<Arc<crate::fs::OpenFile>> = Vec::new();
    let mut creds = None;
    for c in controls {
        match c {
            Control::Rights(r) => rights.extend(r.take()),
            Control::Credentials(c) => creds = Some(c),
            Control::Other { .. } => {}
        }
    }
    let rights = if rights.is_empty() {
        None
    } else {
        Some(InFlight::new(rights)?)
    };
    let creds = creds.unwrap_or_else(|| nenv::current_creds(false));
    let from = me.state.lock().addr.clone();
    if me.common.sock_type == SOCK_DGRAM {
        return send_dgram(me, buf, addr, rights, creds, from, io);
    }
    let stream = me.common.sock_type == SOCK_STREAM;
    let peer = match &me.state.lock().conn {
        Conn::Connected(w) => w.clone(),
        _ if addr.is_some() && stream => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::ENOTCONN),
    };
    if addr.is_some() && stream {
        return Err(Errno::EISCONN);
    }
    if !stream && buf.len() > record_max(me) {
        return Err(Errno::EMSGSIZE);
    }
    if stream && buf.is_empty() && rights.is_none() {
        return Ok(0);
    }
    let limit = me.common.opts.lock().sndbuf as usize;
    let mut rights = rights;
    let mut sent = 0;
    loop {
        let partial = |e: Errno| if sent > 0 { Ok(sent) } else { Err(e) };
        if me.common.wr_shut.load(Ordering::Acquire) {
            return partial(Errno::EPIPE);
        }
        let Some(p) = peer.upgrade() else {
            return partial(Errno::EPIPE);
        };
        if p.common.rd_shut.load(Ordering::Acquire) {
            return partial(Errno::EPIPE);
        }
        let mut ps = p.state.lock();
        let room = limit.saturating_sub(queued_cost(&ps) + PACKET_COST);
        let left = buf.len() - sent;
        // A stream takes what fits (a files-only message: an empty packet); a record
        // goes whole when it fits or the queue is empty.
        let (go, n) = if stream {
            let n = room.min(left);
            (n > 0 || left == 0, n)
        } else {
            (ps.rx.is_empty() || room >= left, left)
        };
        if go {
            let kmem = match charge(me, n, &rights) {
                Ok(k) => k,
                Err(e) => return partial(e),
            };
            reserve(&mut ps)?;
            let data = copy_data(&buf[sent..sent + n])?;
            enqueue(
                &mut ps,
                Packet {
                    data,
                    off: 0,
                    rights: rights.take(),
                    creds: creds.clone(),
                    from: from.clone(),
                    _kmem: kmem,
                },
            );
            drop(ps);
            env::wakeup(p.chan());
            sent += n;
            if sent == buf.len() {
                return Ok(sent);
            }
            continue;
        }
        drop(ps);
        let chan = p.chan();
        drop(p);
        if let Err(e) = io.wait(chan) {
            return partial(e);
        }
    }
}

fn send_dgram(
    me: &UnixSocket,
    buf: &[u8],
    addr: Option<&[u8]>,
    rights: Option<InFlight>,
    creds: Creds,
    from: UnixAddr,
    io: &Io,
) -> Result<usize, Errno> {
    let target: Weak<UnixSocket> = match addr {
        Some(a) => Arc::downgrade(&me.lookup(&UnixAddr::parse(a)?)?),
        None => match &me.state.lock().conn {
            Conn::Connected(w) => w.clone(),
            _ => return Err(Errno::ENOTCONN),
        },
    };
    if buf.len() > record_max(me) {
        return Err(Errno::EMSGSIZE);
    }
    let mut rights = rights;
    loop {
        let t = target.upgrade().ok_or(Errno::ECONNREFUSED)?;
        if t.common.sock_type != SOCK_DGRAM {
            return Err(Errno::EPROTOTYPE);
        }
        if t.common.rd_shut.load(Ordering::Acquire) {
            return Err(Errno::EPIPE);
        }
        let full = peer_full(me, &t);
        let mut ts = t.state.lock();
        // A socket connected to another one takes datagrams only from that one.
        if let Conn::Connected(p) = &ts.conn
            && !core::ptr::eq(p.as_ptr(), me)
        {
            return Err(Errno::EPERM);
        }
        if !full {
            let kmem = charge(me, buf.len(), &rights)?;
            reserve(&mut ts)?;
            let data = copy_data(buf)?;
            enqueue(
                &mut ts,
                Packet {
                    data,
                    off: 0,
                    rights: rights.take(),
                    creds,
                    from,
                    _kmem: kmem,
                },
            );
            drop(ts);
            env::wakeup(t.chan());
            return Ok(buf.len());
        }
        drop(ts);
        let chan = t.chan();
        drop(t);
        io.wait(chan)?;
    }
}

fn same_creds(a: &Creds, b: &Creds) -> bool {
    let pid = match (&a.pid, &b.pid) {
        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
        (None, None) => true,
        _ => false,
    };
    pid && a.uid == b.uid && a.gid == b.gid
}

/// Reads stream data from the queue into `buf`: across packets, but not past a
/// packet with files (nor, with `SO_PASSCRED`, into one from another sender).
fn take_stream(
    st: &mut State,
    buf: &mut [u8],
    peek: bool,
    passcred: bool,
) -> Result<Received, Errno> {
    let mut r = Received::default();
    let Some(first) = st.rx.front() else {
        return Ok(r);
    };
    let first_creds = first.creds.clone();
    r.addr = first.from.sender_bytes();
    let mut got = 0;
    let mut i = 0;
    while got < buf.len() && i < st.rx.len() {
        let p = &mut st.rx[i];
        if got > 0 && (p.rights.is_some() || (passcred && !same_creds(&p.creds, &first_creds))) {
            break;
        }
        let avail = &p.data[p.off..];
        let n = avail.len().min(buf.len() - got);
        buf[got..got + n].copy_from_slice(&avail[..n]);
        got += n;
        let had_rights = p.rights.is_some();
        if had_rights {
            let f = if peek {
                p.rights.as_ref().map(InFlight::try_clone).transpose()?
            } else {
                p.rights.take()
            };
            if let Some(f) = f {
                r.controls.push(Control::Rights(f));
            }
        }
        if peek {
            i += 1;
        } else {
            p.off += n;
            st.rx_bytes -= n;
            if p.off == p.data.len() {
                st.rx.pop_front();
            } else {
                break;
            }
        }
        if had_rights {
            break;
        }
    }
    if passcred {
        r.controls.insert(0, Control::Credentials(first_creds));
    }
    r.len = got;
    r.full_len = got;
    Ok(r)
}

/// Takes one record (datagram, seqpacket) into `buf`, truncating it.
fn take_record(
    st: &mut State,
    buf: &mut [u8],
    peek: bool,
    passcred: bool,
) -> Result<Received, Errno> {
    let mut r = Received::default();
    let rights = {
        let Some(p) = st.rx.front_mut() else {
            return Ok(r);
        };
        let n = p.data.len().min(buf.len());
        buf[..n].copy_from_slice(&p.data[..n]);
        r.len = n;
        r.full_len = p.data.len();
        if n < p.data.len() {
            r.flags |= MSG_TRUNC;
        }
        r.addr = p.from.sender_bytes();
        if passcred {
            r.controls.push(Control::Credentials(p.creds.clone()));
        }
        if peek {
            p.rights.as_ref().map(InFlight::try_clone).transpose()?
        } else {
            p.rights.take()
        }
    };
    if let Some(f) = rights {
        r.controls.push(Control::Rights(f));
    }
    if !peek && let Some(p) = st.rx.pop_front() {
        st.rx_bytes -= p.data.len();
    }
    Ok(r)
}

pub(super) fn recv(me: &UnixSocket, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
    let ty = me.common.sock_type;
    if io.flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let peek = io.flags & MSG_PEEK != 0;
    let passcred = me.common.passcred();
    if ty != SOCK_DGRAM {
        match me.state.lock().conn {
            Conn::Listening { .. } => return Err(Errno::EINVAL),
            Conn::None if ty == SOCK_STREAM => return Err(Errno::EINVAL),
            Conn::None if ty == SOCK_SEQPACKET => return Err(Errno::ENOTCONN),
            _ => {}
        }
    }
    let waitall = ty == SOCK_STREAM && io.flags & MSG_WAITALL != 0 && !peek;
    let mut total: Option<Received> = None;
    loop {
        let got = total.as_ref().map_or(0, |r| r.len);
        let mut st = me.state.lock();
        if !st.rx.is_empty() {
            let r = if ty == SOCK_STREAM {
                take_stream(&mut st, &mut buf[got..], peek, passcred)?
            } else {
                take_record(&mut st, buf, peek, passcred)?
            };
            let peer_chan = match &st.conn {
                Conn::Connected(w) => w.upgrade().map(|p| p.chan()),
                _ => None,
            };
            drop(st);
            if !peek {
                // Senders blocked on this queue, and pollers of the sender's POLLOUT.
                env::wakeup(me.chan());
                if let Some(c) = peer_chan {
                    env::wakeup(c);
                }
            }
            let done = match &mut total {
                None => {
                    let stop = !r.controls.is_empty();
                    total = Some(r);
                    stop
                }
                Some(t) => {
                    t.len += r.len;
                    t.full_len += r.len;
                    !r.controls.is_empty()
                }
            };
            let t = total.as_ref().map_or(0, |r| r.len);
            if !waitall || done || t == buf.len() {
                return Ok(total.unwrap_or_default());
            }
            continue;
        }
        drop(st);
        if me.common.rd_shut.load(Ordering::Acquire) {
            return Ok(total.unwrap_or_default());
        }
        if let Err(e) = io.wait(me.chan()) {
            return match total {
                Some(t) if t.len > 0 => Ok(t),
                _ => Err(e),
            };
        }
    }
}
