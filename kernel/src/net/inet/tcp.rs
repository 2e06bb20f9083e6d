//! TCP sockets over smoltcp. A smoltcp socket is one connection, so a listener keeps up
//! to [`MAX_IDLE`] listening sockets on its port: one that gets a connection moves to
//! the accept queue and a fresh one takes its place, after every poll of its stack
//! ([`after_poll`]), so a backlog fills without the listener making a call. A closed socket is handed to its
//! stack to finish the FIN exchange (`StackInner::orphan`).

use super::{IP_TTL, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_UNICAST_HOPS, IPV6_V6ONLY};
use super::{TCP_MAXSEG, TCP_NODELAY};
use crate::errno::Errno;
use crate::fs::file::{POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::net::ports::Proto;
use crate::net::stack::{NetStack, StackInner};
use crate::net::userio::{Dst, Src};
use crate::net::{Control, Io, MSG_PEEK, MSG_WAITALL, Received, SHUT_RD, SHUT_WR, SOCK_STREAM};
use crate::net::{Socket, SocketCommon};
use crate::plimits::Group;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};
use spin::Mutex;

/// Send and receive buffer of one connection.
const BUF: usize = 64 * 1024;
/// Listening sockets kept ready per listener (each holds its buffers).
const MAX_IDLE: usize = 8;
const POLLRDHUP: u16 = 0x2000;

enum Conn {
    Idle,
    Connecting(SocketHandle),
    Connected(SocketHandle),
    Listening(Arc<Mutex<Backlog>>),
}

/// A listener's sockets: listening ones (`idle`) and connected ones waiting for
/// `accept` (`ready`). Shared with [`LISTENERS`]; locked before the stack.
struct Backlog {
    idle: Vec<SocketHandle>,
    ready: VecDeque<SocketHandle>,
    backlog: usize,
    local: IpListenEndpoint,
    nodelay: bool,
    ttl: Option<u8>,
    /// The listener is gone: its sockets were taken back, and a poll that still holds
    /// the backlog must not make new ones (they would be nobody's).
    closed: bool,
    /// The listener's plimits group: its listening sockets are charged to it.
    group: Arc<Group>,
}

/// Every listener's backlog, with its stack's address.
static LISTENERS: Mutex<Vec<(usize, Weak<Mutex<Backlog>>)>> = Mutex::new(Vec::new());

/// After a poll of `stack` (its lock released): its listeners move the connections
/// their sockets took to their accept queues and listen again, so that more than
/// [`MAX_IDLE`] clients can connect before an `accept` (up to the backlog). Only when a
/// SYN arrived or a handshake is still pending (`NetStack::listen_work`): a poll that
/// carried data only costs one flag test.
pub fn after_poll(stack: &NetStack) {
    if !stack.listen_work.swap(false, Ordering::AcqRel) {
        return;
    }
    let key = stack.chan();
    let mine: Vec<Arc<Mutex<Backlog>>> = {
        let l = LISTENERS.lock();
        if !l.iter().any(|(k, _)| *k == key) {
            return;
        }
        l.iter()
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, w)| w.upgrade())
            .collect()
    };
    let mut pending = false;
    for b in mine {
        pending |= refill(stack, &mut b.lock());
    }
    if pending {
        stack.listen_work.store(true, Ordering::Release);
    }
}

/// Moves established connections of a listener to its accept queue and keeps its
/// listening sockets topped up. Returns whether a handshake is still half done.
fn refill(stack: &NetStack, b: &mut Backlog) -> bool {
    if b.closed {
        return false;
    }
    let local = b.local;
    stack.with(|g| {
        let mut pending = false;
        let mut i = 0;
        while i < b.idle.len() {
            let s = g.sockets.get_mut::<tcp::Socket>(b.idle[i]);
            match s.state() {
                State::Listen => i += 1,
                State::SynReceived => {
                    pending = true;
                    i += 1;
                }
                State::Closed => {
                    // A half-open connection was reset: listen again.
                    let _ = s.listen(local);
                    i += 1;
                }
                _ => {
                    let h = b.idle.swap_remove(i);
                    if b.ready.try_reserve(1).is_ok() {
                        b.ready.push_back(h);
                    } else {
                        g.sockets.get_mut::<tcp::Socket>(h).abort();
                        g.orphan(h);
                    }
                }
            }
        }
        let proto = Tcp {
            conn: Conn::Idle,
            local: None,
            binding: None,
            nodelay: b.nodelay,
            ttl: b.ttl,
            v6only: false,
        };
        while b.idle.len() < MAX_IDLE && b.idle.len() + b.ready.len() < b.backlog {
            let Ok(h) = new_socket(g, &proto, &b.group) else {
                break;
            };
            if g.sockets.get_mut::<tcp::Socket>(h).listen(local).is_err() {
                g.remove_socket(h);
                break;
            }
            if b.idle.try_reserve(1).is_err() {
                g.remove_socket(h);
                break;
            }
            b.idle.push(h);
        }
        pending
    })
}

struct Tcp {
    conn: Conn,
    /// The bound address (`None`: any) and port, once bound.
    local: Option<IpListenEndpoint>,
    binding: Option<u64>,
    nodelay: bool,
    ttl: Option<u8>,
    v6only: bool,
}

pub struct TcpSocket {
    common: SocketCommon,
    stack: Arc<NetStack>,
    st: Mutex<Tcp>,
}

fn new_socket(g: &mut StackInner, t: &Tcp, group: &Arc<Group>) -> Result<SocketHandle, Errno> {
    let bytes = crate::net::stack::charge(group, 2 * BUF)?;
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    if rx.try_reserve_exact(BUF).is_err() || tx.try_reserve_exact(BUF).is_err() {
        return Err(Errno::ENOBUFS);
    }
    rx.resize(BUF, 0);
    tx.resize(BUF, 0);
    let mut s = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
    // No delayed ACKs: on a loopback or veth they only add latency.
    s.set_ack_delay(None);
    s.set_nagle_enabled(!t.nodelay);
    s.set_hop_limit(t.ttl);
    g.add_socket(s, bytes)
}

impl TcpSocket {
    pub fn new(family: i32) -> Result<TcpSocket, Errno> {
        let common = SocketCommon::new(family, SOCK_STREAM, IPPROTO_TCP);
        Ok(Self::with_common(common, Conn::Idle))
    }

    fn with_common(common: SocketCommon, conn: Conn) -> TcpSocket {
        let stack = common.net.stack().clone();
        TcpSocket {
            common,
            stack,
            st: Mutex::new(Tcp {
                conn,
                local: None,
                binding: None,
                nodelay: false,
                ttl: None,
                v6only: false,
            }),
        }
    }

    fn bind_locked(&self, t: &mut Tcp, ep: IpEndpoint) -> Result<(), Errno> {
        if t.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let addr = super::check_bind(&self.common, &self.stack, ep)?;
        let (reuseaddr, reuseport) = {
            let o = self.common.opts.lock();
            (o.reuseaddr, o.reuseport)
        };
        let (id, port) = self.stack.with(|g| {
            g.ports
                .bind(Proto::Tcp, addr, ep.port, reuseaddr, reuseport)
        })?;
        t.binding = Some(id);
        t.local = Some(IpListenEndpoint { addr, port });
        Ok(())
    }

    /// Tops up a listener (see [`refill`]); its options as they are now.
    fn refill(&self, t: &mut Tcp) {
        if let Conn::Listening(b) = &t.conn {
            let mut b = b.lock();
            b.nodelay = t.nodelay;
            b.ttl = t.ttl;
            if refill(&self.stack, &mut b) {
                self.stack.listen_work.store(true, Ordering::Release);
            }
        }
    }

    /// A connecting socket whose handshake ended: connected, or refused (`SO_ERROR`).
    fn settle(&self, t: &mut Tcp) {
        if let Conn::Connecting(h) = t.conn {
            let st = self.stack.with(|g| g.sockets.get::<tcp::Socket>(h).state());
            match st {
                State::SynSent | State::SynReceived => {}
                State::Closed => {
                    self.stack.with(|g| g.remove_socket(h));
                    t.conn = Conn::Idle;
                    self.common.set_error(Errno::ECONNREFUSED);
                }
                _ => t.conn = Conn::Connected(h),
            }
        }
    }

    /// The connection's socket after settling a connect in progress: `None` while it is
    /// still connecting, `Err(gone)` when there is no connection.
    fn connection(&self, gone: Errno) -> Result<Option<SocketHandle>, Errno> {
        let mut t = self.st.lock();
        self.settle(&mut t);
        match t.conn {
            Conn::Connected(h) => Ok(Some(h)),
            Conn::Connecting(_) => Ok(None),
            _ => Err(gone),
        }
    }

    /// Sends from `src` (a kernel buffer or user memory, copied straight into the
    /// socket's send ring).
    fn send_from(&self, src: &Src, io: &Io) -> Result<usize, Errno> {
        let mut sent = 0;
        loop {
            if self.common.wr_shut.load(Ordering::Relaxed) {
                return Err(Errno::EPIPE);
            }
            let h = self.connection(Errno::EPIPE)?;
            if let Some(h) = h {
                let r = self.stack.with(|g| {
                    let s = g.sockets.get_mut::<tcp::Socket>(h);
                    if !s.may_send() {
                        return Err(if s.state() == State::Closed {
                            Errno::ECONNRESET
                        } else {
                            Errno::EPIPE
                        });
                    }
                    // Twice: the free space may wrap around the ring's end.
                    twice(|n| {
                        s.send(|ring| match src.copy_into(sent + n, ring) {
                            Ok(k) => (k, Ok(k)),
                            Err(e) => (0, Err(e)),
                        })
                        .ok()
                    })
                });
                match r {
                    Ok(n) => sent += n,
                    Err(e) if sent > 0 => {
                        let _ = e;
                        return Ok(sent);
                    }
                    Err(e) => return Err(e),
                }
                if sent > 0 {
                    self.stack.poll();
                }
                if sent == src.len() {
                    return Ok(sent);
                }
            }
            match super::wait(&self.stack, io) {
                Ok(()) => self.stack.poll(),
                Err(_) if sent > 0 => return Ok(sent),
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives into `dst` (a kernel buffer or user memory, copied straight from the
    /// socket's receive ring).
    fn recv_into(&self, dst: &mut Dst, io: &Io) -> Result<Received, Errno> {
        let mut got = 0;
        // The stack is polled only when the socket has nothing: a sender's poll has
        // usually delivered the data already.
        let mut polled = false;
        loop {
            if self.common.rd_shut.load(Ordering::Relaxed) {
                return Ok(Received::bytes(got));
            }
            let h = self.connection(Errno::ENOTCONN)?;
            if let Some(h) = h {
                let r = self.stack.with(|g| {
                    let s = g.sockets.get_mut::<tcp::Socket>(h);
                    if s.can_recv() {
                        let before = s.recv_queue();
                        let n = if io.flags & MSG_PEEK != 0 {
                            let want = dst.len() - got;
                            let ring = s.peek(want).unwrap_or(&[]);
                            dst.copy_from(got, ring)?
                        } else {
                            // Twice: the data may wrap around the ring's end.
                            twice(|n| {
                                s.recv(|ring| match dst.copy_from(got + n, ring) {
                                    Ok(k) => (k, Ok(k)),
                                    Err(e) => (0, Err(e)),
                                })
                                .ok()
                            })?
                        };
                        Ok(Some((
                            n,
                            opened_wide(before, s.recv_queue(), s.recv_capacity()),
                        )))
                    } else if !s.may_recv() {
                        // The peer's FIN (end of stream) or a reset.
                        Ok(Some((0, false)))
                    } else {
                        Ok(None)
                    }
                });
                match r {
                    Ok(Some((0, _))) => {
                        return Ok(Received::bytes(got));
                    }
                    Ok(Some((n, full))) => {
                        got += n;
                        if full {
                            // The window opened past half the ring: let the peer know
                            // now (a read that frees less waits, as Linux's receiver
                            // does, instead of announcing a window a few bytes wide).
                            self.stack.poll();
                        }
                        if got == dst.len()
                            || io.flags & MSG_WAITALL == 0
                            || io.flags & MSG_PEEK != 0
                        {
                            return Ok(Received::bytes(got));
                        }
                    }
                    Ok(None) => {}
                    // A bad user buffer after some bytes: those count (Linux too).
                    Err(_) if got > 0 => {
                        return Ok(Received::bytes(got));
                    }
                    Err(e) => return Err(e),
                }
            }
            if dst.is_empty() {
                return Ok(Received::default());
            }
            if !polled {
                self.stack.poll();
                polled = true;
                continue;
            }
            polled = false;
            match super::wait(&self.stack, io) {
                Ok(()) => {}
                Err(_) if got > 0 => {
                    return Ok(Received::bytes(got));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn handle(&self, t: &Tcp) -> Option<SocketHandle> {
        match t.conn {
            Conn::Connected(h) | Conn::Connecting(h) => Some(h),
            _ => None,
        }
    }
}

impl Socket for TcpSocket {
    fn common(&self) -> &SocketCommon {
        &self.common
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let ep = super::parse_sockaddr(self.common.family, addr)?;
        let mut t = self.st.lock();
        self.bind_locked(&mut t, ep)
    }

    fn connect(&self, addr: &[u8], io: &Io) -> Result<(), Errno> {
        let remote = super::connect_target(super::parse_sockaddr(self.common.family, addr)?);
        {
            let mut t = self.st.lock();
            self.settle(&mut t);
            match t.conn {
                Conn::Connected(_) => return Err(Errno::EISCONN),
                Conn::Connecting(_) => return Err(Errno::EALREADY),
                Conn::Listening { .. } => return Err(Errno::EISCONN),
                Conn::Idle => {}
            }
            if remote.port == 0 {
                return Err(Errno::ECONNREFUSED);
            }
            if t.local.is_none() {
                let any = super::any_addr(self.common.family);
                self.bind_locked(&mut t, IpEndpoint::new(any, 0))?;
            }
            let local = t.local.unwrap_or_default();
            let h = self.stack.with(|g| -> Result<SocketHandle, Errno> {
                let h = new_socket(g, &t, &self.common.group)?;
                let (cx, sockets) = g.cx_and_sockets();
                let r = sockets.get_mut::<tcp::Socket>(h).connect(cx, remote, local);
                if let Err(e) = r {
                    g.remove_socket(h);
                    return Err(match e {
                        tcp::ConnectError::Unaddressable => Errno::ENETUNREACH,
                        tcp::ConnectError::InvalidState => Errno::EISCONN,
                    });
                }
                Ok(h)
            })?;
            t.conn = Conn::Connecting(h);
        }
        loop {
            self.stack.poll();
            let mut t = self.st.lock();
            self.settle(&mut t);
            match t.conn {
                Conn::Connected(_) => return Ok(()),
                Conn::Idle => {
                    self.common.take_error();
                    return Err(Errno::ECONNREFUSED);
                }
                _ => {}
            }
            drop(t);
            match super::wait(&self.stack, io) {
                Ok(()) => {}
                Err(Errno::EAGAIN) => return Err(Errno::EINPROGRESS),
                Err(e) => return Err(e),
            }
        }
    }

    fn listen(&self, backlog: u32) -> Result<(), Errno> {
        let mut t = self.st.lock();
        match &mut t.conn {
            Conn::Listening(b) => {
                b.lock().backlog = (backlog as usize).max(1);
            }
            Conn::Idle => {
                if t.local.is_none() {
                    let any = super::any_addr(self.common.family);
                    self.bind_locked(&mut t, IpEndpoint::new(any, 0))?;
                }
                let id = t.binding.ok_or(Errno::EINVAL)?;
                let local = t.local.ok_or(Errno::EINVAL)?;
                let mut listeners = LISTENERS.lock();
                listeners.retain(|(_, w)| w.strong_count() > 0);
                listeners.try_reserve(1).map_err(|_| Errno::ENOBUFS)?;
                self.stack.with(|g| g.ports.set_listening(id))?;
                let b = Arc::new(Mutex::new(Backlog {
                    idle: Vec::new(),
                    ready: VecDeque::new(),
                    backlog: (backlog as usize).max(1),
                    local,
                    nodelay: t.nodelay,
                    ttl: t.ttl,
                    closed: false,
                    group: self.common.group.clone(),
                }));
                listeners.push((self.stack.chan(), Arc::downgrade(&b)));
                drop(listeners);
                t.conn = Conn::Listening(b);
            }
            _ => return Err(Errno::EINVAL),
        }
        self.refill(&mut t);
        Ok(())
    }

    fn accept(&self, io: &Io) -> Result<(Arc<dyn Socket>, Vec<u8>), Errno> {
        loop {
            self.stack.poll();
            let mut t = self.st.lock();
            if !matches!(t.conn, Conn::Listening { .. }) {
                return Err(Errno::EINVAL);
            }
            self.refill(&mut t);
            let (nodelay, ttl) = (t.nodelay, t.ttl);
            let popped = match &t.conn {
                Conn::Listening(b) => b.lock().ready.pop_front(),
                _ => None,
            };
            if let Some(h) = popped {
                self.refill(&mut t);
                drop(t);
                let remote = self.stack.with(|g| {
                    let s = g.sockets.get_mut::<tcp::Socket>(h);
                    s.set_nagle_enabled(!nodelay);
                    s.remote_endpoint()
                });
                let common = SocketCommon::accepted_from(&self.common);
                let new = TcpSocket::with_common(common, Conn::Connected(h));
                {
                    let mut nt = new.st.lock();
                    nt.nodelay = nodelay;
                    nt.ttl = ttl;
                }
                let peer = super::sockaddr(
                    self.common.family,
                    remote.unwrap_or(IpEndpoint::new(super::any_addr(self.common.family), 0)),
                );
                return Ok((Arc::new(new), peer));
            }
            drop(t);
            super::wait(&self.stack, io)?;
        }
    }

    fn sendmsg(
        &self,
        data: &[u8],
        _addr: Option<&[u8]>,
        _controls: Vec<Control>,
        io: &Io,
    ) -> Result<usize, Errno> {
        self.send_from(&Src::Kernel(data), io)
    }

    fn write_user(&self, addr: u64, len: usize, io: &Io) -> Option<Result<usize, Errno>> {
        Some(self.send_from(&Src::User { addr, len }, io))
    }

    fn read_user(&self, addr: u64, len: usize, io: &Io) -> Option<Result<usize, Errno>> {
        Some(
            self.recv_into(&mut Dst::User { addr, len }, io)
                .map(|r| r.len),
        )
    }

    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
        self.recv_into(&mut Dst::Kernel(buf), io)
    }

    fn shutdown(&self, how: u32) -> Result<(), Errno> {
        let t = self.st.lock();
        let Conn::Connected(h) = t.conn else {
            return Err(Errno::ENOTCONN);
        };
        if how != SHUT_RD {
            self.common.wr_shut.store(true, Ordering::Relaxed);
            self.stack
                .with(|g| g.sockets.get_mut::<tcp::Socket>(h).close());
        }
        if how != SHUT_WR {
            self.common.rd_shut.store(true, Ordering::Relaxed);
        }
        drop(t);
        self.stack.poll();
        Ok(())
    }

    fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        let t = self.st.lock();
        if let Some(h) = self.handle(&t)
            && let Some(ep) = self
                .stack
                .with(|g| g.sockets.get::<tcp::Socket>(h).local_endpoint())
        {
            return Ok(super::sockaddr(self.common.family, ep));
        }
        Ok(super::listen_sockaddr(self.common.family, t.local))
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        let t = self.st.lock();
        let Conn::Connected(h) = t.conn else {
            return Err(Errno::ENOTCONN);
        };
        let ep = self
            .stack
            .with(|g| g.sockets.get::<tcp::Socket>(h).remote_endpoint())
            .ok_or(Errno::ENOTCONN)?;
        Ok(super::sockaddr(self.common.family, ep))
    }

    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno> {
        let mut t = self.st.lock();
        match (level, name) {
            (IPPROTO_TCP, TCP_NODELAY) => {
                t.nodelay = super::opt_int(val)? != 0;
                if let Some(h) = self.handle(&t) {
                    let on = !t.nodelay;
                    self.stack
                        .with(|g| g.sockets.get_mut::<tcp::Socket>(h).set_nagle_enabled(on));
                }
            }
            (IPPROTO_TCP, TCP_MAXSEG) => {
                super::opt_int(val)?;
            }
            (IPPROTO_IP, IP_TTL) | (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => {
                t.ttl = super::parse_ttl(val)?;
                if let Some(h) = self.handle(&t) {
                    let ttl = t.ttl;
                    self.stack
                        .with(|g| g.sockets.get_mut::<tcp::Socket>(h).set_hop_limit(ttl));
                }
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.common.family == crate::net::AF_INET6 => {
                t.v6only = super::opt_int(val)? != 0;
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
        let t = self.st.lock();
        let v: i32 = match (level, name) {
            (IPPROTO_TCP, TCP_NODELAY) => i32::from(t.nodelay),
            (IPPROTO_TCP, TCP_MAXSEG) => 536,
            (IPPROTO_IP, IP_TTL) | (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => {
                t.ttl.unwrap_or(super::DEFAULT_TTL) as i32
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if self.common.family == crate::net::AF_INET6 => {
                i32::from(t.v6only)
            }
            _ => return Err(Errno::ENOPROTOOPT),
        };
        Ok(v.to_le_bytes().to_vec())
    }

    fn poll(&self) -> u16 {
        self.stack.poll();
        let mut t = self.st.lock();
        self.settle(&mut t);
        self.refill(&mut t);
        let rd_shut = self.common.rd_shut.load(Ordering::Relaxed);
        let wr_shut = self.common.wr_shut.load(Ordering::Relaxed);
        match &t.conn {
            Conn::Listening(b) => {
                if b.lock().ready.is_empty() {
                    0
                } else {
                    POLLIN
                }
            }
            Conn::Connecting(_) => 0,
            Conn::Idle => {
                // A refused connect: writable with an error (SO_ERROR holds it).
                if self.common.error.lock().is_some() {
                    POLLOUT | POLLERR | POLLHUP
                } else {
                    POLLOUT | POLLHUP
                }
            }
            Conn::Connected(h) => self.stack.with(|g| {
                let s = g.sockets.get::<tcp::Socket>(*h);
                let mut ev = 0;
                if s.can_recv() || !s.may_recv() || rd_shut {
                    ev |= POLLIN;
                }
                if !s.may_recv() {
                    ev |= POLLRDHUP;
                }
                if s.can_send() && !wr_shut {
                    ev |= POLLOUT;
                }
                if s.state() == State::Closed {
                    ev |= POLLHUP;
                }
                ev
            }),
        }
    }

    fn wait_chan(&self) -> usize {
        self.stack.chan()
    }

    fn is_listening(&self) -> bool {
        matches!(self.st.lock().conn, Conn::Listening { .. })
    }

    fn readable_bytes(&self) -> usize {
        let t = self.st.lock();
        match t.conn {
            Conn::Connected(h) => self
                .stack
                .with(|g| g.sockets.get::<tcp::Socket>(h).recv_queue()),
            _ => 0,
        }
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        super::ifreq::ioctl(&self.common, &self.stack, cmd, arg)
    }
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        let t = self.st.get_mut();
        let conn = core::mem::replace(&mut t.conn, Conn::Idle);
        let binding = t.binding.take();
        // A listener's sockets, taken out of its backlog before the stack is locked.
        let (idle, ready) = match &conn {
            Conn::Listening(b) => {
                let mut b = b.lock();
                b.closed = true;
                (core::mem::take(&mut b.idle), core::mem::take(&mut b.ready))
            }
            _ => (Vec::new(), VecDeque::new()),
        };
        self.stack.with(|g| {
            match conn {
                Conn::Connected(h) | Conn::Connecting(h) => g.orphan(h),
                Conn::Listening(_) => {
                    for h in idle {
                        g.remove_socket(h);
                    }
                    for h in ready {
                        g.sockets.get_mut::<tcp::Socket>(h).abort();
                        g.orphan(h);
                    }
                }
                Conn::Idle => {}
            }
            if let Some(id) = binding {
                g.ports.unbind(id);
            }
        });
        self.stack.poll();
    }
}

/// Whether a read took the receive queue from over half of the ring to at most half:
/// the window opened wide enough to announce (once per crossing, whatever the reads'
/// sizes).
fn opened_wide(before: usize, after: usize, capacity: usize) -> bool {
    before * 2 > capacity && after * 2 <= capacity
}

/// Copies through a socket ring up to twice (its free space or data may wrap around its
/// end): `step(done)` copies one contiguous part after the `done` bytes already copied,
/// `None` when the ring refuses. A copy error counts only when nothing was copied.
fn twice(mut step: impl FnMut(usize) -> Option<Result<usize, Errno>>) -> Result<usize, Errno> {
    let mut n = 0;
    for _ in 0..2 {
        match step(n) {
            Some(Ok(0)) | None => break,
            Some(Ok(k)) => n += k,
            Some(Err(e)) if n == 0 => return Err(e),
            Some(Err(_)) => break,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::opened_wide;

    #[test]
    fn the_window_is_announced_once_when_a_read_frees_half_the_ring() {
        let cap = 65536;
        assert!(
            !opened_wide(65535, 65534, cap),
            "one byte read off a full ring"
        );
        assert!(opened_wide(65534, 0, cap), "the rest read: past half");
        assert!(opened_wide(40000, 32768, cap), "exactly half left");
        assert!(!opened_wide(32768, 0, cap), "never over half");
        assert!(!opened_wide(60000, 40000, cap), "still over half");
    }
}
