//! UDP sockets over smoltcp: bound on `bind` or on the first send (an ephemeral port),
//! `connect` fixes the peer (others' datagrams are dropped, as Linux drops them).

use super::{IP_TTL, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP, IPV6_UNICAST_HOPS};
use crate::errno::Errno;
use crate::fs::file::{POLLIN, POLLOUT};
use crate::net::ports::Proto;
use crate::net::stack::NetStack;
use crate::net::{AF_UNSPEC, Control, Io, MSG_PEEK, MSG_TRUNC, Received, SOCK_DGRAM};
use crate::net::{SHUT_RD, SHUT_WR, Socket, SocketCommon};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};
use spin::Mutex;

/// Datagrams and payload bytes each way.
const SLOTS: usize = 64;
const PAYLOAD: usize = 64 * 1024;
/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65507;

struct Udp {
    handle: Option<SocketHandle>,
    local: Option<IpListenEndpoint>,
    binding: Option<u64>,
    remote: Option<IpEndpoint>,
    ttl: Option<u8>,
}

pub struct UdpSocket {
    common: SocketCommon,
    stack: Arc<NetStack>,
    st: Mutex<Udp>,
}

/// What one direction's buffer takes on the heap.
fn buffer_cost() -> usize {
    super::packet_buffer_cost::<udp::PacketMetadata>(SLOTS, PAYLOAD)
}

fn buffer() -> Result<udp::PacketBuffer<'static>, Errno> {
    super::packet_buffer(SLOTS, PAYLOAD)
}

impl UdpSocket {
    pub fn new(family: i32) -> Result<UdpSocket, Errno> {
        let common = SocketCommon::new(family, SOCK_DGRAM, IPPROTO_UDP);
        let stack = common.net.stack().clone();
        Ok(UdpSocket {
            common,
            stack,
            st: Mutex::new(Udp {
                handle: None,
                local: None,
                binding: None,
                remote: None,
                ttl: None,
            }),
        })
    }

    fn bind_locked(&self, u: &mut Udp, ep: IpEndpoint) -> Result<(), Errno> {
        if u.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let addr = super::check_bind(&self.common, &self.stack, ep)?;
        let (reuseaddr, reuseport) = {
            let o = self.common.opts.lock();
            (o.reuseaddr, o.reuseport)
        };
        let bytes = crate::net::stack::charge(&self.common.group, 2 * buffer_cost())?;
        let (Ok(rx), Ok(tx)) = (buffer(), buffer()) else {
            return Err(Errno::ENOBUFS);
        };
        let ttl = u.ttl;
        let (id, port, h) = self.stack.with(|g| -> Result<_, Errno> {
            let (id, port) = g
                .ports
                .bind(Proto::Udp, addr, ep.port, reuseaddr, reuseport)?;
            let mut s = udp::Socket::new(rx, tx);
            s.set_hop_limit(ttl);
            if s.bind(IpListenEndpoint { addr, port }).is_err() {
                g.ports.unbind(id);
                return Err(Errno::EINVAL);
            }
            match g.add_socket(s, bytes) {
                Ok(h) => Ok((id, port, h)),
                Err(e) => {
                    g.ports.unbind(id);
                    Err(e)
                }
            }
        })?;
        u.binding = Some(id);
        u.handle = Some(h);
        u.local = Some(IpListenEndpoint { addr, port });
        Ok(())
    }

    fn autobind(&self, u: &mut Udp) -> Result<SocketHandle, Errno> {
        if u.handle.is_none() {
            let any = super::any_addr(self.common.family);
            self.bind_locked(u, IpEndpoint::new(any, 0))?;
        }
        u.handle.ok_or(Errno::EINVAL)
    }
}

impl Socket for UdpSocket {
    fn common(&self) -> &SocketCommon {
        &self.common
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let ep = super::parse_sockaddr(self.common.family, addr)?;
        let mut u = self.st.lock();
        self.bind_locked(&mut u, ep)
    }

    fn connect(&self, addr: &[u8], _io: &Io) -> Result<(), Errno> {
        let fam = addr
            .get(..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as i32)
            .ok_or(Errno::EINVAL)?;
        let mut u = self.st.lock();
        if fam == AF_UNSPEC {
            u.remote = None;
            return Ok(());
        }
        let remote = super::connect_target(super::parse_sockaddr(self.common.family, addr)?);
        self.autobind(&mut u)?;
        u.remote = Some(remote);
        Ok(())
    }

    fn sendmsg(
        &self,
        data: &[u8],
        addr: Option<&[u8]>,
        _controls: Vec<Control>,
        io: &Io,
    ) -> Result<usize, Errno> {
        if self.common.wr_shut.load(Ordering::Relaxed) {
            return Err(Errno::EPIPE);
        }
        if data.len() > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        let (h, dst) = {
            let mut u = self.st.lock();
            let dst = match addr {
                Some(a) => super::connect_target(super::parse_sockaddr(self.common.family, a)?),
                None => u.remote.ok_or(Errno::EDESTADDRREQ)?,
            };
            if dst.port == 0 {
                return Err(Errno::EINVAL);
            }
            (self.autobind(&mut u)?, dst)
        };
        loop {
            let r = self.stack.with(|g| {
                let routable = g.is_local(dst.addr) || g.has_route(dst.addr);
                let s = g.sockets.get_mut::<udp::Socket>(h);
                // A socket bound to an address of one IP version has no source for a
                // destination of the other (an AF_INET6 socket bound to ::1 sending to
                // ::ffff:127.0.0.1): smoltcp would panic building the packet (fuzz seed 9).
                let bound = s.endpoint().addr;
                if !routable || bound.is_some_and(|b| b.version() != dst.addr.version()) {
                    return Err(Errno::ENETUNREACH);
                }
                if data.len() > s.payload_send_capacity() {
                    return Err(Errno::EMSGSIZE);
                }
                match s.send_slice(data, dst) {
                    Ok(()) => Ok(true),
                    Err(udp::SendError::BufferFull) => Ok(false),
                    Err(udp::SendError::Unaddressable) => Err(Errno::EDESTADDRREQ),
                }
            })?;
            self.stack.poll();
            if r {
                return Ok(data.len());
            }
            super::wait(&self.stack, io)?;
        }
    }

    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
        loop {
            if self.common.rd_shut.load(Ordering::Relaxed) {
                return Ok(Received::default());
            }
            self.stack.poll();
            let (h, remote) = {
                let mut u = self.st.lock();
                (self.autobind(&mut u)?, u.remote)
            };
            let got = self.stack.with(|g| {
                let s = g.sockets.get_mut::<udp::Socket>(h);
                loop {
                    let (payload, from) = if io.flags & MSG_PEEK != 0 {
                        match s.peek() {
                            Ok((p, m)) => (p, m.endpoint),
                            Err(_) => return None,
                        }
                    } else {
                        match s.recv() {
                            Ok((p, m)) => (p, m.endpoint),
                            Err(_) => return None,
                        }
                    };
                    if remote.is_some_and(|r| r != from) {
                        if io.flags & MSG_PEEK != 0 {
                            // Drop the stranger's datagram so the peek can go on.
                            let _ = s.recv();
                        }
                        continue;
                    }
                    let n = payload.len().min(buf.len());
                    buf[..n].copy_from_slice(&payload[..n]);
                    return Some((n, payload.len(), from));
                }
            });
            if let Some((n, full, from)) = got {
                return Ok(Received {
                    len: n,
                    full_len: full,
                    addr: super::sockaddr(self.common.family, from),
                    controls: Vec::new(),
                    flags: if full > n { MSG_TRUNC } else { 0 },
                });
            }
            super::wait(&self.stack, io)?;
        }
    }

    fn shutdown(&self, how: u32) -> Result<(), Errno> {
        if self.st.lock().remote.is_none() {
            return Err(Errno::ENOTCONN);
        }
        if how != SHUT_RD {
            self.common.wr_shut.store(true, Ordering::Relaxed);
        }
        if how != SHUT_WR {
            self.common.rd_shut.store(true, Ordering::Relaxed);
        }
        crate::fs::env::wakeup(self.stack.chan());
        Ok(())
    }

    fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        Ok(super::listen_sockaddr(
            self.common.family,
            self.st.lock().local,
        ))
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        let r = self.st.lock().remote.ok_or(Errno::ENOTCONN)?;
        Ok(super::sockaddr(self.common.family, r))
    }

    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno> {
        match (level, name) {
            (IPPROTO_IP, IP_TTL) | (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => {
                let mut u = self.st.lock();
                u.ttl = super::parse_ttl(val)?;
                if let Some(h) = u.handle {
                    let ttl = u.ttl;
                    self.stack
                        .with(|g| g.sockets.get_mut::<udp::Socket>(h).set_hop_limit(ttl));
                }
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
        match (level, name) {
            (IPPROTO_IP, IP_TTL) | (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => {
                let v = self.st.lock().ttl.unwrap_or(super::DEFAULT_TTL) as i32;
                Ok(v.to_le_bytes().to_vec())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn poll(&self) -> u16 {
        self.stack.poll();
        let h = self.st.lock().handle;
        let rd_shut = self.common.rd_shut.load(Ordering::Relaxed);
        let Some(h) = h else {
            return POLLOUT;
        };
        self.stack.with(|g| {
            let s = g.sockets.get::<udp::Socket>(h);
            let mut ev = 0;
            if s.can_recv() || rd_shut {
                ev |= POLLIN;
            }
            if s.can_send() {
                ev |= POLLOUT;
            }
            ev
        })
    }

    fn wait_chan(&self) -> usize {
        self.stack.chan()
    }

    fn readable_bytes(&self) -> usize {
        let Some(h) = self.st.lock().handle else {
            return 0;
        };
        // FIONREAD on a datagram socket: the size of the next datagram.
        self.stack.with(|g| {
            g.sockets
                .get_mut::<udp::Socket>(h)
                .peek()
                .map_or(0, |(p, _)| p.len())
        })
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        super::ifreq::ioctl(&self.common, &self.stack, cmd, arg)
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let u = self.st.get_mut();
        let (h, b) = (u.handle.take(), u.binding.take());
        self.stack.with(|g| {
            if let Some(h) = h {
                g.remove_socket(h);
            }
            if let Some(id) = b {
                g.ports.unbind(id);
            }
        });
    }
}
