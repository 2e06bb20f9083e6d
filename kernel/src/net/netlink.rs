//! AF_NETLINK / NETLINK_ROUTE, the read side: `RTM_GETLINK` and `RTM_GETADDR` dumps of the
//! socket's net container, as musl's `getifaddrs`/`if_nameindex` and busybox `ip link` /
//! `ip addr` ask for them. Other requests get an `NLMSG_ERROR` with `EOPNOTSUPP`.

use super::stack::{IFF_RUNNING, IFF_UP, LinkKind, NetStack};
use super::{AF_INET, AF_INET6, Control, Family, Io, MSG_PEEK, MSG_TRUNC, Received};
use super::{SOCK_DGRAM, SOCK_RAW, Socket, SocketCommon};
use crate::errno::Errno;
use crate::fs::file::{POLLIN, POLLOUT};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use smoltcp::wire::IpCidr;
use spin::Mutex;

pub const AF_NETLINK: i32 = 16;
pub const NETLINK_ROUTE: i32 = 0;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_DUMP: u16 = 0x300;

const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_OPERSTATE: u16 = 16;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;

/// Replies waiting to be read at most (a request that would queue more: `ENOBUFS`).
const QUEUE_MAX: usize = 64;

/// Registers AF_NETLINK with the socket layer (boot).
pub fn init() {
    super::register_family(AF_NETLINK, &FAMILY);
}

pub static FAMILY: Family = Family { create, pair: None };

fn create(ty: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    if ty != SOCK_RAW && ty != SOCK_DGRAM {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    if protocol != NETLINK_ROUTE {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let common = SocketCommon::new(AF_NETLINK, ty, protocol);
    let stack = common.net.stack().clone();
    Ok(Arc::new(NetlinkSocket {
        common,
        stack,
        port: AtomicU32::new(0),
        queue: Mutex::new(VecDeque::new()),
    }))
}

pub struct NetlinkSocket {
    common: SocketCommon,
    stack: Arc<NetStack>,
    /// The port id (`nl_pid`), given at bind or the first send.
    port: AtomicU32,
    queue: Mutex<VecDeque<Vec<u8>>>,
}

static NEXT_PORT: AtomicU32 = AtomicU32::new(1);

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Appends one attribute (`struct rtattr`) to `m`.
fn attr(m: &mut Vec<u8>, ty: u16, data: &[u8]) {
    m.extend_from_slice(&((4 + data.len()) as u16).to_le_bytes());
    m.extend_from_slice(&ty.to_le_bytes());
    m.extend_from_slice(data);
    m.resize(align4(m.len()), 0);
}

fn header(m: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, port: u32) {
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&ty.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend_from_slice(&port.to_le_bytes());
}

/// Appends message `body` (built after a header at `start`) and fixes its length.
fn finish(m: &mut Vec<u8>, start: usize) {
    let len = (m.len() - start) as u32;
    m[start..start + 4].copy_from_slice(&len.to_le_bytes());
    m.resize(align4(m.len()), 0);
}

fn done(m: &mut Vec<u8>, seq: u32, port: u32) {
    let s = m.len();
    header(m, NLMSG_DONE, NLM_F_MULTI, seq, port);
    m.extend_from_slice(&0i32.to_le_bytes());
    finish(m, s);
}

fn error(m: &mut Vec<u8>, seq: u32, port: u32, errno: i32, req: &[u8]) {
    let s = m.len();
    header(m, NLMSG_ERROR, 0, seq, port);
    m.extend_from_slice(&(-errno).to_le_bytes());
    m.extend_from_slice(&req[..16.min(req.len())]);
    finish(m, s);
}

/// The `RTM_NEWLINK` messages of every link, then `NLMSG_DONE`.
pub fn dump_links(stack: &NetStack, seq: u32, port: u32) -> Vec<u8> {
    let mut m = Vec::new();
    stack.with(|g| {
        for l in g.links() {
            let s = m.len();
            header(&mut m, RTM_NEWLINK, NLM_F_MULTI, seq, port);
            let arphrd: u16 = if l.kind == LinkKind::Loopback { 772 } else { 1 };
            m.extend_from_slice(&[0, 0]);
            m.extend_from_slice(&arphrd.to_le_bytes());
            m.extend_from_slice(&(l.index as i32).to_le_bytes());
            m.extend_from_slice(&l.flags.to_le_bytes());
            m.extend_from_slice(&0u32.to_le_bytes());
            let mut name = l.name.as_bytes().to_vec();
            name.push(0);
            attr(&mut m, IFLA_IFNAME, &name);
            attr(&mut m, IFLA_MTU, &(l.mtu as u32).to_le_bytes());
            attr(&mut m, IFLA_ADDRESS, &l.hwaddr);
            let bcast = if l.kind == LinkKind::Loopback {
                [0; 6]
            } else {
                [0xff; 6]
            };
            attr(&mut m, IFLA_BROADCAST, &bcast);
            let up = l.flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING;
            // IF_OPER_UP 6, IF_OPER_DOWN 2; Linux reports UNKNOWN (0) for lo.
            let oper = if l.kind == LinkKind::Loopback {
                0
            } else if up {
                6
            } else {
                2
            };
            attr(&mut m, IFLA_OPERSTATE, &[oper]);
            finish(&mut m, s);
        }
    });
    done(&mut m, seq, port);
    m
}

/// The `RTM_NEWADDR` messages of every address of `family` (0: all), then `NLMSG_DONE`.
pub fn dump_addrs(stack: &NetStack, family: u8, seq: u32, port: u32) -> Vec<u8> {
    let mut m = Vec::new();
    stack.with(|g| {
        for l in g.links() {
            for c in &l.addrs {
                let (fam, bytes): (u8, Vec<u8>) = match c {
                    IpCidr::Ipv4(v4) => (AF_INET as u8, v4.address().octets().to_vec()),
                    IpCidr::Ipv6(v6) => (AF_INET6 as u8, v6.address().octets().to_vec()),
                };
                if family != 0 && family != fam {
                    continue;
                }
                let s = m.len();
                header(&mut m, RTM_NEWADDR, NLM_F_MULTI, seq, port);
                // RT_SCOPE_HOST (254) for loopback addresses, else universe (0).
                let scope = if l.kind == LinkKind::Loopback { 254 } else { 0 };
                m.extend_from_slice(&[fam, c.prefix_len(), 0x80, scope]);
                m.extend_from_slice(&l.index.to_le_bytes());
                attr(&mut m, IFA_ADDRESS, &bytes);
                attr(&mut m, IFA_LOCAL, &bytes);
                let mut name = l.name.as_bytes().to_vec();
                name.push(0);
                attr(&mut m, IFA_LABEL, &name);
                finish(&mut m, s);
            }
        }
    });
    done(&mut m, seq, port);
    m
}

impl NetlinkSocket {
    fn port(&self) -> u32 {
        let p = self.port.load(Ordering::Relaxed);
        if p != 0 {
            return p;
        }
        let n = NEXT_PORT.fetch_add(1, Ordering::Relaxed) | 0x8000_0000;
        match self
            .port
            .compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => n,
            Err(old) => old,
        }
    }

    fn sockaddr(port: u32) -> Vec<u8> {
        let mut a = alloc::vec![0u8; 12];
        a[..2].copy_from_slice(&(AF_NETLINK as u16).to_le_bytes());
        a[4..8].copy_from_slice(&port.to_le_bytes());
        a
    }
}

impl Socket for NetlinkSocket {
    fn common(&self) -> &SocketCommon {
        &self.common
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        if addr.len() < 12 || u16::from_le_bytes([addr[0], addr[1]]) != AF_NETLINK as u16 {
            return Err(Errno::EINVAL);
        }
        let pid = u32::from_le_bytes([addr[4], addr[5], addr[6], addr[7]]);
        if pid != 0 {
            self.port.store(pid, Ordering::Relaxed);
        } else {
            self.port();
        }
        Ok(())
    }

    fn connect(&self, _addr: &[u8], _io: &Io) -> Result<(), Errno> {
        Ok(())
    }

    fn sendmsg(
        &self,
        data: &[u8],
        _addr: Option<&[u8]>,
        _controls: Vec<Control>,
        _io: &Io,
    ) -> Result<usize, Errno> {
        let port = self.port();
        let mut off = 0;
        let mut replies = Vec::new();
        while off + 16 <= data.len() {
            let h = &data[off..];
            let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
            if len < 16 || off + len > data.len() {
                break;
            }
            let ty = u16::from_le_bytes([h[4], h[5]]);
            let flags = u16::from_le_bytes([h[6], h[7]]);
            let seq = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
            let body = &h[16..len];
            let r = match ty {
                RTM_GETLINK if flags & NLM_F_DUMP == NLM_F_DUMP => {
                    dump_links(&self.stack, seq, port)
                }
                RTM_GETADDR if flags & NLM_F_DUMP == NLM_F_DUMP => {
                    dump_addrs(&self.stack, body.first().copied().unwrap_or(0), seq, port)
                }
                _ => {
                    let mut m = Vec::new();
                    error(&mut m, seq, port, Errno::EOPNOTSUPP as i32, &h[..len]);
                    m
                }
            };
            replies.push(r);
            off += align4(len);
        }
        let mut q = self.queue.lock();
        if q.len() + replies.len() > QUEUE_MAX {
            return Err(Errno::ENOBUFS);
        }
        q.extend(replies);
        drop(q);
        crate::fs::env::wakeup(self.stack.chan());
        Ok(data.len())
    }

    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
        loop {
            {
                let mut q = self.queue.lock();
                if let Some(m) = q.front() {
                    let n = m.len().min(buf.len());
                    buf[..n].copy_from_slice(&m[..n]);
                    let full = m.len();
                    if io.flags & MSG_PEEK == 0 {
                        q.pop_front();
                    }
                    return Ok(Received {
                        len: n,
                        full_len: full,
                        addr: Self::sockaddr(0),
                        controls: Vec::new(),
                        flags: if full > n { MSG_TRUNC } else { 0 },
                    });
                }
            }
            io.wait(self.stack.chan())?;
        }
    }

    fn shutdown(&self, _how: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        Ok(Self::sockaddr(self.port.load(Ordering::Relaxed)))
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        Ok(Self::sockaddr(0))
    }

    fn setsockopt(&self, _level: i32, _name: i32, _val: &[u8]) -> Result<(), Errno> {
        // SOL_NETLINK options (NETLINK_EXT_ACK, ...) are accepted and have no effect.
        Ok(())
    }

    fn poll(&self) -> u16 {
        if self.queue.lock().is_empty() {
            POLLOUT
        } else {
            POLLIN | POLLOUT
        }
    }

    fn wait_chan(&self) -> usize {
        self.stack.chan()
    }

    fn readable_bytes(&self) -> usize {
        self.queue.lock().front().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_dump_has_lo_then_done() {
        let s = NetStack::new().expect("stack");
        let m = dump_links(&s, 7, 42);
        let len = u32::from_le_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(u16::from_le_bytes([m[4], m[5]]), RTM_NEWLINK);
        assert_eq!(u32::from_le_bytes([m[8], m[9], m[10], m[11]]), 7);
        assert_eq!(
            i32::from_le_bytes([m[20], m[21], m[22], m[23]]),
            1,
            "lo is 1"
        );
        assert!(m[32..len].windows(3).any(|w| w == b"lo\0"));
        let d = &m[align4(len)..];
        assert_eq!(u16::from_le_bytes([d[4], d[5]]), NLMSG_DONE);
        let a = dump_addrs(&s, AF_INET as u8, 1, 1);
        assert_eq!(a[16], AF_INET as u8);
        assert_eq!(a[17], 8, "127.0.0.1/8");
    }
}
