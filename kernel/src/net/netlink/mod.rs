//! AF_NETLINK / NETLINK_ROUTE (rtnetlink) on the socket's net container, as musl's
//! `getifaddrs`/`if_nameindex`, busybox `ip` and iproute2 speak it: the socket, message
//! framing, attribute parsing and the dispatch with Linux's acknowledgements (an
//! `NLMSG_ERROR` carrying 0 for `NLM_F_ACK`, `-errno` for every failure). Links are
//! `link.rs`, addresses `addr.rs`, routes `route.rs`. Changes need CAP_NET_ADMIN in the
//! user container owning the socket's net container (`EPERM`), checked first as Linux
//! does; other message types give `EOPNOTSUPP`.

mod addr;
mod link;
mod route;

use super::stack::{NetStack, SockBytes};
use super::{Control, Family, Io, MSG_PEEK, MSG_TRUNC, Received};
use super::{SOCK_DGRAM, SOCK_RAW, Socket, SocketCommon};
use crate::container::net::NetContainer;
use crate::errno::Errno;
use crate::fs::file::{POLLIN, POLLOUT};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

pub use addr::dump_addrs;
pub use link::dump_links;

pub const AF_NETLINK: i32 = 16;
pub const NETLINK_ROUTE: i32 = 0;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Types below this are netlink's own (NOOP, ERROR, DONE, OVERRUN).
const NLMSG_MIN_TYPE: u16 = 16;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
/// In an acknowledgement: the request is not echoed after the error code.
const NLM_F_CAPPED: u16 = 0x100;
/// Flags of a NEW request.
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

/// Attribute type bits that are flags, not the type (`NLA_F_NESTED`, byte order).
const NLA_TYPE_MASK: u16 = 0x3fff;

/// Bytes of replies one socket holds at most (more: `ENOBUFS`, as a full receive
/// buffer); every queued byte is also charged to the socket-buffer budget.
const QUEUE_BYTES_MAX: usize = 1 << 20;
/// A dump is queued in parts of about this size, each one `recvmsg`, as Linux's.
const PART: usize = 8192;

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
    let queue = Queue {
        parts: VecDeque::new(),
        bytes: SockBytes::new(&common.group),
    };
    Ok(Arc::new(NetlinkSocket {
        common,
        stack,
        port: AtomicU32::new(0),
        queue: Mutex::new(queue),
    }))
}

struct Queue {
    parts: VecDeque<Vec<u8>>,
    /// The bytes of `parts`, held from the budget and the socket's group.
    bytes: SockBytes,
}

pub struct NetlinkSocket {
    common: SocketCommon,
    stack: Arc<NetStack>,
    /// The port id (`nl_pid`), given at bind or the first send.
    port: AtomicU32,
    queue: Mutex<Queue>,
}

static NEXT_PORT: AtomicU32 = AtomicU32::new(1);

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reply messages being built: every append is a fallible allocation, and a failed one
/// makes the whole reply `ENOMEM`.
#[derive(Default)]
pub struct Out {
    buf: Vec<u8>,
    failed: bool,
    /// Where the message being built starts.
    start: usize,
}

impl Out {
    fn put(&mut self, b: &[u8]) {
        if self.failed || self.buf.try_reserve(b.len() + 3).is_err() {
            self.failed = true;
            return;
        }
        self.buf.extend_from_slice(b);
    }

    fn pad(&mut self) {
        let n = align4(self.buf.len()) - self.buf.len();
        self.put(&[0; 3][..n]);
    }

    /// Starts a message (`struct nlmsghdr`; its length is set by [`Out::end`]).
    fn begin(&mut self, ty: u16, flags: u16, seq: u32, port: u32) {
        self.start = self.buf.len();
        self.put(&0u32.to_le_bytes());
        self.put(&ty.to_le_bytes());
        self.put(&flags.to_le_bytes());
        self.put(&seq.to_le_bytes());
        self.put(&port.to_le_bytes());
    }

    fn end(&mut self) {
        if self.failed {
            return;
        }
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_le_bytes());
        self.pad();
    }

    /// One attribute (`struct rtattr`).
    fn attr(&mut self, ty: u16, data: &[u8]) {
        self.put(&((4 + data.len()) as u16).to_le_bytes());
        self.put(&ty.to_le_bytes());
        self.put(data);
        self.pad();
    }

    /// A string attribute with its NUL.
    fn attr_str(&mut self, ty: u16, s: &str) {
        self.put(&((5 + s.len()) as u16).to_le_bytes());
        self.put(&ty.to_le_bytes());
        self.put(s.as_bytes());
        self.put(&[0]);
        self.pad();
    }

    /// Opens a nested attribute; [`Out::close_nest`] sets its length.
    fn open_nest(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.attr(ty, &[]);
        at
    }

    fn close_nest(&mut self, at: usize) {
        if self.failed {
            return;
        }
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_le_bytes());
    }

    /// `NLMSG_DONE` after a dump.
    fn done(&mut self, seq: u32, port: u32) {
        self.begin(NLMSG_DONE, NLM_F_MULTI, seq, port);
        self.put(&0i32.to_le_bytes());
        self.end();
    }

    pub fn finish(self) -> Result<Vec<u8>, Errno> {
        if self.failed {
            Err(Errno::ENOMEM)
        } else {
            Ok(self.buf)
        }
    }
}

/// The attributes after a message's fixed part, checked as Linux's `nla_ok`: each at
/// least 4 bytes and inside the buffer (else the request is `EINVAL`).
#[derive(Clone, Copy)]
pub struct Attrs<'a>(&'a [u8]);

impl<'a> Attrs<'a> {
    fn parse(b: &'a [u8]) -> Result<Self, Errno> {
        let mut off = 0;
        while off + 4 <= b.len() {
            let len = u16_at(b, off) as usize;
            if len < 4 || off + len > b.len() {
                return Err(Errno::EINVAL);
            }
            off += align4(len);
        }
        Ok(Attrs(b))
    }

    fn iter(self) -> impl Iterator<Item = (u16, &'a [u8])> {
        let b = self.0;
        let mut off = 0;
        core::iter::from_fn(move || {
            if off + 4 > b.len() {
                return None;
            }
            let len = u16_at(b, off) as usize;
            let item = (u16_at(b, off + 2) & NLA_TYPE_MASK, &b[off + 4..off + len]);
            off += align4(len);
            Some(item)
        })
    }

    /// The last attribute of type `ty` (Linux keeps the last of duplicates).
    fn get(self, ty: u16) -> Option<&'a [u8]> {
        self.iter().filter(|(t, _)| *t == ty).map(|(_, d)| d).last()
    }

    fn u32(self, ty: u16) -> Result<Option<u32>, Errno> {
        match self.get(ty) {
            None => Ok(None),
            Some(d) if d.len() >= 4 => Ok(Some(u32_at(d, 0))),
            Some(_) => Err(Errno::EINVAL),
        }
    }

    /// A string attribute (NUL-terminated or not) of at most `max` bytes (`EINVAL`).
    fn str(self, ty: u16, max: usize) -> Result<Option<&'a str>, Errno> {
        let Some(d) = self.get(ty) else {
            return Ok(None);
        };
        let n = d.iter().position(|&b| b == 0).unwrap_or(d.len());
        if n > max {
            return Err(Errno::EINVAL);
        }
        core::str::from_utf8(&d[..n])
            .map(Some)
            .map_err(|_| Errno::EINVAL)
    }
}

/// What a handler gets: the socket's container and stack, and the request.
pub struct Ctx<'a> {
    pub net: &'a Arc<NetContainer>,
    pub stack: &'a Arc<NetStack>,
    pub seq: u32,
    pub port: u32,
    pub flags: u16,
    /// The message after its header.
    pub body: &'a [u8],
}

impl Ctx<'_> {
    /// The fixed part (`ifinfomsg`, `ifaddrmsg`, `rtmsg`) of `n` bytes, and the
    /// attributes after it (`EINVAL` when short or malformed).
    fn split(&self, n: usize) -> Result<(&[u8], Attrs<'_>), Errno> {
        if self.body.len() < n {
            return Err(Errno::EINVAL);
        }
        Ok((&self.body[..n], Attrs::parse(&self.body[align4(n)..])?))
    }

    fn dump(&self) -> bool {
        self.flags & NLM_F_DUMP == NLM_F_DUMP
    }
}

/// CAP_NET_ADMIN over `net` for the caller (`EPERM`).
fn admin(net: &NetContainer) -> Result<(), Errno> {
    if super::env::net_capable(net, crate::cred::CAP_NET_ADMIN) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Runs one request; its reply messages (none for a change that succeeded).
fn handle(ty: u16, cx: &Ctx) -> Result<Vec<u8>, Errno> {
    let change = matches!(
        ty,
        RTM_NEWLINK
            | RTM_DELLINK
            | RTM_SETLINK
            | RTM_NEWADDR
            | RTM_DELADDR
            | RTM_NEWROUTE
            | RTM_DELROUTE
    );
    if change {
        admin(cx.net)?;
    }
    match ty {
        RTM_GETLINK => link::get(cx),
        RTM_NEWLINK => link::new(cx).map(|_| Vec::new()),
        RTM_SETLINK => link::set(cx).map(|_| Vec::new()),
        RTM_DELLINK => link::del(cx).map(|_| Vec::new()),
        RTM_GETADDR if cx.dump() => {
            let family = cx.body.first().copied().unwrap_or(0);
            dump_addrs(cx.stack, family, cx.seq, cx.port)
        }
        RTM_NEWADDR => addr::new(cx).map(|_| Vec::new()),
        RTM_DELADDR => addr::del(cx).map(|_| Vec::new()),
        RTM_GETROUTE if cx.dump() => route::dump(cx),
        RTM_GETROUTE => route::get(cx),
        RTM_NEWROUTE => route::new(cx).map(|_| Vec::new()),
        RTM_DELROUTE => route::del(cx).map(|_| Vec::new()),
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// The acknowledgement of `req`: error 0 and its header (`NLM_F_CAPPED`), or `-errno`
/// and the whole request, as Linux's `netlink_ack`.
fn ack(req: &[u8], errno: i32, port: u32) -> Result<Vec<u8>, Errno> {
    let mut m = Out::default();
    let flags = if errno == 0 { NLM_F_CAPPED } else { 0 };
    m.begin(NLMSG_ERROR, flags, u32_at(req, 8), port);
    m.put(&(-errno).to_le_bytes());
    m.put(if errno == 0 { &req[..16] } else { req });
    m.end();
    m.finish()
}

/// Splits `reply` into parts of about [`PART`] bytes at message boundaries.
fn parts(reply: Vec<u8>) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if reply.len() <= PART {
        out.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        out.push(reply);
        return Ok(out);
    }
    let mut start = 0;
    let mut off = 0;
    while off + 4 <= reply.len() {
        let len = align4(u32_at(&reply, off) as usize).max(4);
        if off > start && off + len - start > PART {
            let mut p = Vec::new();
            p.try_reserve_exact(off - start)
                .map_err(|_| Errno::ENOMEM)?;
            p.extend_from_slice(&reply[start..off]);
            out.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            out.push(p);
            start = off;
        }
        off += len;
    }
    let mut p = Vec::new();
    p.try_reserve_exact(reply.len() - start)
        .map_err(|_| Errno::ENOMEM)?;
    p.extend_from_slice(&reply[start..]);
    out.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    out.push(p);
    Ok(out)
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

    /// Takes room in the queue for the acknowledgement of a request of `len` bytes
    /// before the request runs (the largest: an error carrying the whole request), so
    /// that a change is never made without room for its answer: `ENOBUFS` then, and
    /// nothing done. Returns the bytes taken, which [`queue`](Self::queue) uses.
    fn reserve_ack(&self, len: usize) -> Result<usize, Errno> {
        let n = 16 + 4 + len;
        let mut q = self.queue.lock();
        if q.bytes.bytes() + n > QUEUE_BYTES_MAX {
            return Err(Errno::ENOBUFS);
        }
        q.parts.try_reserve(1).map_err(|_| Errno::ENOBUFS)?;
        q.bytes.grow(n)?;
        Ok(n)
    }

    /// Gives back room taken by [`reserve_ack`](Self::reserve_ack) and not used.
    fn release(&self, reserved: usize) {
        if reserved > 0 {
            self.queue.lock().bytes.shrink(reserved);
        }
    }

    /// Queues `reply` (in parts), charged to the budget, in the `reserved` bytes taken
    /// for it first: `ENOBUFS` past the budget or past [`QUEUE_BYTES_MAX`] (the room
    /// reserved is given back then too).
    fn queue(&self, reply: Vec<u8>, reserved: usize) -> Result<(), Errno> {
        let n = reply.len();
        if n == 0 {
            self.release(reserved);
            return Ok(());
        }
        let parts = match parts(reply) {
            Ok(p) => p,
            Err(e) => {
                self.release(reserved);
                return Err(e);
            }
        };
        let mut q = self.queue.lock();
        let fits = q.bytes.bytes() - reserved + n <= QUEUE_BYTES_MAX
            && q.parts.try_reserve(parts.len()).is_ok()
            && (n <= reserved || q.bytes.grow(n - reserved).is_ok());
        if !fits {
            q.bytes.shrink(reserved);
            return Err(Errno::ENOBUFS);
        }
        if n < reserved {
            q.bytes.shrink(reserved - n);
        }
        q.parts.extend(parts);
        Ok(())
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

    /// Runs each message in `data` in order, as Linux's `netlink_rcv_skb`: a message
    /// without `NLM_F_REQUEST` or of a control type does nothing (acknowledged when
    /// asked); a failure is answered with its errno and the next message still runs.
    fn sendmsg(
        &self,
        data: &[u8],
        _addr: Option<&[u8]>,
        _controls: Vec<Control>,
        _io: &Io,
    ) -> Result<usize, Errno> {
        let port = self.port();
        let mut off = 0;
        let mut woke = false;
        while off + 16 <= data.len() {
            let h = &data[off..];
            let len = u32_at(h, 0) as usize;
            if len < 16 || off + len > data.len() {
                break;
            }
            let req = &h[..len];
            let ty = u16_at(req, 4);
            let flags = u16_at(req, 6);
            let cx = Ctx {
                net: &self.common.net,
                stack: &self.stack,
                seq: u32_at(req, 8),
                port,
                flags,
                body: &req[16..],
            };
            let reserved = match flags & NLM_F_ACK {
                0 => 0,
                _ => self.reserve_ack(len)?,
            };
            let r = if flags & NLM_F_REQUEST == 0 || ty < NLMSG_MIN_TYPE {
                Ok(Vec::new())
            } else {
                handle(ty, &cx)
            };
            let reply = match r {
                Ok(m) if flags & NLM_F_ACK != 0 && (m.is_empty() || !cx.dump()) => {
                    self.queue(m, 0).and_then(|()| ack(req, 0, port))
                }
                Ok(m) => Ok(m),
                Err(e) => ack(req, e as i32, port),
            };
            let reply = reply.inspect_err(|_| self.release(reserved))?;
            woke |= !reply.is_empty();
            self.queue(reply, reserved)?;
            off += align4(len);
        }
        if woke {
            crate::fs::env::wakeup(self.stack.chan());
        }
        Ok(data.len())
    }

    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
        loop {
            {
                let mut q = self.queue.lock();
                if let Some(m) = q.parts.front() {
                    let n = m.len().min(buf.len());
                    buf[..n].copy_from_slice(&m[..n]);
                    let full = m.len();
                    if io.flags & MSG_PEEK == 0 {
                        q.parts.pop_front();
                        q.bytes.shrink(full);
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
        if self.queue.lock().parts.is_empty() {
            POLLOUT
        } else {
            POLLIN | POLLOUT
        }
    }

    fn wait_chan(&self) -> usize {
        self.stack.chan()
    }

    fn readable_bytes(&self) -> usize {
        self.queue.lock().parts.front().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests;
