//! ICMP echo over smoltcp's ICMP sockets: unprivileged ping sockets
//! (`SOCK_DGRAM`/`IPPROTO_ICMP`: the kernel owns the echo identifier, like a port, and
//! the messages carry no IP header) and `SOCK_RAW`/`IPPROTO_ICMP` with CAP_NET_RAW (the
//! sender's identifier is kept; what is read starts with an IPv4 header). IPv4 only.

use super::{IP_TTL, IPPROTO_ICMP, IPPROTO_IP};
use crate::errno::Errno;
use crate::fs::file::{POLLIN, POLLOUT};
use crate::net::ports::Proto;
use crate::net::stack::NetStack;
use crate::net::{AF_INET, Control, Io, MSG_PEEK, MSG_TRUNC, Received, SOCK_RAW};
use crate::net::{Socket, SocketCommon};
use alloc::sync::Arc;
use alloc::vec::Vec;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::icmp;
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address};
use spin::Mutex;

const SLOTS: usize = 16;
const PAYLOAD: usize = 64 * 1024;
const ICMP_ECHO: u8 = 8;

struct Icmp {
    handle: Option<SocketHandle>,
    /// The echo identifier the smoltcp socket is bound to.
    ident: Option<u16>,
    binding: Option<u64>,
    remote: Option<IpAddress>,
    ttl: Option<u8>,
}

pub struct IcmpSocket {
    common: SocketCommon,
    stack: Arc<NetStack>,
    raw: bool,
    st: Mutex<Icmp>,
}

/// What one direction's buffer takes on the heap.
fn buffer_cost() -> usize {
    super::packet_buffer_cost::<icmp::PacketMetadata>(SLOTS, PAYLOAD)
}

fn buffer() -> Result<icmp::PacketBuffer<'static>, Errno> {
    super::packet_buffer(SLOTS, PAYLOAD)
}

/// The 16-bit one's complement checksum of an ICMP message.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 header for a message read from a raw socket.
fn ipv4_header(from: Ipv4Address, to: Ipv4Address, len: usize, ttl: u8) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + len).min(0xffff) as u16).to_be_bytes());
    h[8] = ttl;
    h[9] = IPPROTO_ICMP as u8;
    h[12..16].copy_from_slice(&from.octets());
    h[16..20].copy_from_slice(&to.octets());
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

impl IcmpSocket {
    /// `socket(AF_INET, SOCK_DGRAM | SOCK_RAW, IPPROTO_ICMP)`; a raw one needs
    /// CAP_NET_RAW over the net container (`EPERM`).
    pub fn new(family: i32, ty: i32) -> Result<IcmpSocket, Errno> {
        if family != AF_INET {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let common = SocketCommon::new(family, ty, IPPROTO_ICMP);
        if ty == SOCK_RAW && !crate::net::env::net_capable(&common.net, crate::cred::CAP_NET_RAW) {
            return Err(Errno::EPERM);
        }
        let stack = common.net.stack().clone();
        Ok(IcmpSocket {
            common,
            stack,
            raw: ty == SOCK_RAW,
            st: Mutex::new(Icmp {
                handle: None,
                ident: None,
                binding: None,
                remote: None,
                ttl: None,
            }),
        })
    }

    /// The smoltcp socket, bound to echo identifier `ident` (made or re-bound).
    fn bind_ident(&self, c: &mut Icmp, ident: u16) -> Result<SocketHandle, Errno> {
        if let (Some(h), Some(i)) = (c.handle, c.ident)
            && i == ident
        {
            return Ok(h);
        }
        if let Some(h) = c.handle.take() {
            self.stack.with(|g| g.remove_socket(h));
        }
        let bytes = crate::net::stack::charge(&self.common.group, 2 * buffer_cost())?;
        let (Ok(rx), Ok(tx)) = (buffer(), buffer()) else {
            return Err(Errno::ENOBUFS);
        };
        let ttl = c.ttl;
        let h = self.stack.with(|g| -> Result<SocketHandle, Errno> {
            let mut s = icmp::Socket::new(rx, tx);
            s.set_hop_limit(ttl);
            s.bind(icmp::Endpoint::Ident(ident))
                .map_err(|_| Errno::EINVAL)?;
            g.add_socket(s, bytes)
        })?;
        c.handle = Some(h);
        c.ident = Some(ident);
        Ok(h)
    }

    /// A ping socket's identifier: its bound "port", or an ephemeral one.
    fn ping_ident(&self, c: &mut Icmp, want: u16) -> Result<u16, Errno> {
        if let Some(i) = c.ident {
            return Ok(i);
        }
        let (id, port) = self
            .stack
            .with(|g| g.ports.bind(Proto::Icmp, None, want, false, false))?;
        c.binding = Some(id);
        Ok(port)
    }
}

impl Socket for IcmpSocket {
    fn common(&self) -> &SocketCommon {
        &self.common
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let ep = super::parse_sockaddr(self.common.family, addr)?;
        if !ep.addr.is_unspecified() && !self.stack.with(|g| g.is_local(ep.addr)) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if self.raw {
            return Ok(());
        }
        let mut c = self.st.lock();
        if c.ident.is_some() {
            return Err(Errno::EINVAL);
        }
        let ident = self.ping_ident(&mut c, ep.port)?;
        self.bind_ident(&mut c, ident)?;
        Ok(())
    }

    fn connect(&self, addr: &[u8], _io: &Io) -> Result<(), Errno> {
        let ep = super::parse_sockaddr(self.common.family, addr)?;
        self.st.lock().remote = Some(super::connect_target(ep).addr);
        Ok(())
    }

    fn sendmsg(
        &self,
        data: &[u8],
        addr: Option<&[u8]>,
        _controls: Vec<Control>,
        io: &Io,
    ) -> Result<usize, Errno> {
        let mut c = self.st.lock();
        let dst = match addr {
            Some(a) => super::connect_target(super::parse_sockaddr(self.common.family, a)?).addr,
            None => c.remote.ok_or(Errno::EDESTADDRREQ)?,
        };
        if data.len() < 8 || data.len() > PAYLOAD / 2 {
            return Err(if data.len() < 8 {
                Errno::EINVAL
            } else {
                Errno::EMSGSIZE
            });
        }
        let mut msg = Vec::new();
        msg.try_reserve_exact(data.len())
            .map_err(|_| Errno::ENOBUFS)?;
        msg.extend_from_slice(data);
        let ident = if self.raw {
            u16::from_be_bytes([msg[4], msg[5]])
        } else {
            // Linux's ping sockets send only echo requests and own the identifier.
            if msg[0] != ICMP_ECHO || msg[1] != 0 {
                return Err(Errno::EINVAL);
            }
            let i = self.ping_ident(&mut c, 0)?;
            msg[4..6].copy_from_slice(&i.to_be_bytes());
            i
        };
        msg[2..4].fill(0);
        let sum = checksum(&msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        let h = self.bind_ident(&mut c, ident)?;
        drop(c);
        loop {
            let r = self.stack.with(|g| {
                if !g.is_local(dst) && !g.has_route(dst) {
                    return Err(Errno::ENETUNREACH);
                }
                let s = g.sockets.get_mut::<icmp::Socket>(h);
                Ok(s.send_slice(&msg, dst).is_ok())
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
            self.stack.poll();
            let Some(h) = self.st.lock().handle else {
                super::wait(&self.stack, io)?;
                continue;
            };
            let raw = self.raw;
            let got = self.stack.with(|g| {
                let local = g
                    .link("lo")
                    .and_then(|l| l.ipv4())
                    .map_or(Ipv4Address::LOCALHOST, |(a, _)| a);
                let s = g.sockets.get_mut::<icmp::Socket>(h);
                let (payload, from) = if io.flags & MSG_PEEK != 0 {
                    return None;
                } else {
                    s.recv().ok()?
                };
                let mut m = Vec::new();
                m.try_reserve_exact(payload.len() + 20).ok()?;
                if raw && let IpAddress::Ipv4(f) = from {
                    let to = if f.is_loopback() { f } else { local };
                    m.extend_from_slice(&ipv4_header(f, to, payload.len(), 64));
                }
                m.extend_from_slice(payload);
                if m.len() >= (if raw { 24 } else { 4 }) {
                    // The checksum smoltcp left out on a loopback or veth.
                    let o = if raw { 20 } else { 0 };
                    m[o + 2..o + 4].fill(0);
                    let sum = checksum(&m[o..]);
                    m[o + 2..o + 4].copy_from_slice(&sum.to_be_bytes());
                }
                Some((m, from))
            });
            if let Some((m, from)) = got {
                let n = m.len().min(buf.len());
                buf[..n].copy_from_slice(&m[..n]);
                return Ok(Received {
                    len: n,
                    full_len: m.len(),
                    addr: super::sockaddr(self.common.family, IpEndpoint::new(from, 0)),
                    controls: Vec::new(),
                    flags: if m.len() > n { MSG_TRUNC } else { 0 },
                });
            }
            super::wait(&self.stack, io)?;
        }
    }

    fn shutdown(&self, _how: u32) -> Result<(), Errno> {
        Err(Errno::ENOTCONN)
    }

    fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        let port = if self.raw {
            0
        } else {
            self.st.lock().ident.unwrap_or(0)
        };
        Ok(super::sockaddr(
            self.common.family,
            IpEndpoint::new(super::any_addr(self.common.family), port),
        ))
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        let r = self.st.lock().remote.ok_or(Errno::ENOTCONN)?;
        Ok(super::sockaddr(self.common.family, IpEndpoint::new(r, 0)))
    }

    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno> {
        match (level, name) {
            (IPPROTO_IP, IP_TTL) => {
                let mut c = self.st.lock();
                c.ttl = super::parse_ttl(val)?;
                if let Some(h) = c.handle {
                    let ttl = c.ttl;
                    self.stack
                        .with(|g| g.sockets.get_mut::<icmp::Socket>(h).set_hop_limit(ttl));
                }
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn getsockopt(&self, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
        match (level, name) {
            (IPPROTO_IP, IP_TTL) => {
                let v = self.st.lock().ttl.unwrap_or(super::DEFAULT_TTL) as i32;
                Ok(v.to_le_bytes().to_vec())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn poll(&self) -> u16 {
        self.stack.poll();
        let Some(h) = self.st.lock().handle else {
            return POLLOUT;
        };
        self.stack.with(|g| {
            if g.sockets.get::<icmp::Socket>(h).can_recv() {
                POLLIN | POLLOUT
            } else {
                POLLOUT
            }
        })
    }

    fn wait_chan(&self) -> usize {
        self.stack.chan()
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<usize, Errno> {
        super::ifreq::ioctl(&self.common, &self.stack, cmd, arg)
    }
}

impl Drop for IcmpSocket {
    fn drop(&mut self) {
        let c = self.st.get_mut();
        let (h, b) = (c.handle.take(), c.binding.take());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request() {
        let mut m = [8u8, 0, 0, 0, 0x12, 0x34, 0, 1, b'h', b'i'];
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&m), 0, "a message with its checksum sums to zero");
    }
}
