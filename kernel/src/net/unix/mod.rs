//! AF_UNIX sockets (unix(7)): `SOCK_STREAM`, `SOCK_DGRAM` and `SOCK_SEQPACKET`.
//!
//! Names: a path name is a socket inode in the VFS (`bind` creates it, `EADDRINUSE`
//! if the name exists; `connect` needs write permission on it) and finds its socket
//! through a table keyed by the inode; an abstract name (`sun_path[0] == 0`) lives in
//! the table of the socket's net container (the creator's, also after `setns`).
//!
//! Each socket has its own receive queue of packets; a sender puts packets straight
//! into its peer's queue. Connections hold their peer weakly: closing a socket shuts
//! its peer down (EOF, `EPIPE`). Senders block while the peer's queue holds their
//! `SO_SNDBUF` bytes (a datagram queue: 10 datagrams, Linux's `max_dgram_qlen`).
//! Passed files stay counted in flight until received or dropped with their packet.
//! `data.rs` holds sending and receiving.

mod data;
pub mod gc;

use super::env as nenv;
use super::{
    AF_UNIX, Control, Creds, Family, Io, Received, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET,
    SOCK_STREAM, Socket, SocketCommon,
};
use crate::container::ContainerType;
use crate::errno::Errno;
use crate::fs::env;
use crate::fs::file::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP};
use crate::fs::vfs::{FileType, InodeRef};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

pub static FAMILY: Family = Family {
    create,
    pair: Some(pair),
};

/// `sizeof(struct sockaddr_un)`.
const SOCKADDR_UN_LEN: usize = 110;
/// `net.unix.max_dgram_qlen`.
pub const MAX_DGRAM_QLEN: usize = 10;

/// A socket's name.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum UnixAddr {
    #[default]
    Unnamed,
    Path(String),
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses a `struct sockaddr_un` of `b.len()` bytes.
    pub fn parse(b: &[u8]) -> Result<UnixAddr, Errno> {
        if b.len() < 2 || b.len() > SOCKADDR_UN_LEN {
            return Err(Errno::EINVAL);
        }
        if u16::from_le_bytes([b[0], b[1]]) != AF_UNIX as u16 {
            return Err(Errno::EINVAL);
        }
        let p = &b[2..];
        Ok(match p.first() {
            None => UnixAddr::Unnamed,
            Some(0) => UnixAddr::Abstract(p[1..].to_vec()),
            Some(_) => {
                let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
                let s = core::str::from_utf8(&p[..end]).map_err(|_| Errno::EINVAL)?;
                UnixAddr::Path(String::from(s))
            }
        })
    }

    /// As a `struct sockaddr_un` (`getsockname` length: a path with its NUL).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::from((AF_UNIX as u16).to_le_bytes());
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                v.extend_from_slice(p.as_bytes());
                v.push(0);
            }
            UnixAddr::Abstract(n) => {
                v.push(0);
                v.extend_from_slice(n);
            }
        }
        v
    }

    /// As `recvfrom` reports a sender: nothing for an unnamed one.
    fn sender_bytes(&self) -> Vec<u8> {
        match self {
            UnixAddr::Unnamed => Vec::new(),
            a => a.to_bytes(),
        }
    }

    /// As `/proc/net/unix` shows it (`@` for the leading NUL of an abstract name).
    pub fn display(&self) -> String {
        match self {
            UnixAddr::Unnamed => String::new(),
            UnixAddr::Path(p) => p.clone(),
            UnixAddr::Abstract(n) => {
                let mut s = String::from("@");
                s.extend(n.iter().map(|&c| if c == 0 { '@' } else { c as char }));
                s
            }
        }
    }
}

/// What a socket's name is registered under (removed when the socket goes).
enum Binding {
    /// The inode (kept alive so its address names it in `PATHS`).
    Path(InodeRef),
    /// (net container number, name).
    Abstract(u32, Vec<u8>),
}

/// Sockets bound to a path, by the address of their inode.
static PATHS: Mutex<BTreeMap<usize, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());
/// Sockets bound to an abstract name, by (net container number, name).
/// (net container number, name).
type AbstractKey = (u32, Vec<u8>);
static ABSTRACT: Mutex<BTreeMap<AbstractKey, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());
/// Every AF_UNIX socket by inode number (`/proc/net/unix`).
static ALL: Mutex<BTreeMap<u64, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());

fn inode_key(i: &InodeRef) -> usize {
    Arc::as_ptr(i) as *const () as usize
}

fn net_number(c: &SocketCommon) -> u32 {
    c.net.common().number()
}

/// A packet in a receive queue.
pub(crate) struct Packet {
    data: Vec<u8>,
    /// Bytes of `data` already read (stream sockets read packets piecemeal).
    off: usize,
    rights: Option<super::InFlight>,
    creds: Creds,
    from: UnixAddr,
    /// The packet charged to the sender's group ([`crate::net::kmem::queued`]).
    _kmem: crate::plimits::kmem::Charge,
}

pub(crate) enum Conn {
    None,
    Listening {
        backlog: VecDeque<Arc<UnixSocket>>,
        max: usize,
    },
    Connected(Weak<UnixSocket>),
}

pub(crate) struct State {
    addr: UnixAddr,
    binding: Option<Binding>,
    conn: Conn,
    rx: VecDeque<Packet>,
    /// Unread bytes in `rx`.
    rx_bytes: usize,
    /// `SO_PEERCRED`: the peer at connect time (for a listener: its own, given to
    /// the clients).
    peercred: Option<Creds>,
}

pub struct UnixSocket {
    common: SocketCommon,
    state: Mutex<State>,
}

fn check_type(sock_type: i32, protocol: i32) -> Result<i32, Errno> {
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    match sock_type {
        SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET => Ok(sock_type),
        // Linux maps SOCK_RAW to SOCK_DGRAM for AF_UNIX.
        SOCK_RAW => Ok(SOCK_DGRAM),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

impl UnixSocket {
    fn with_common(common: SocketCommon) -> Arc<UnixSocket> {
        let s = Arc::new(UnixSocket {
            common,
            state: Mutex::new(State {
                addr: UnixAddr::Unnamed,
                binding: None,
                conn: Conn::None,
                rx: VecDeque::new(),
                rx_bytes: 0,
                peercred: None,
            }),
        });
        ALL.lock().insert(s.common.ino, Arc::downgrade(&s));
        s
    }

    fn chan(&self) -> usize {
        self as *const UnixSocket as usize
    }

    fn is_connection(&self) -> bool {
        self.common.sock_type != SOCK_DGRAM
    }

    /// The connected peer (`None` if not connected or gone).
    fn peer(&self) -> Option<Arc<UnixSocket>> {
        match &self.state.lock().conn {
            Conn::Connected(w) => w.upgrade(),
            _ => None,
        }
    }

    fn is_connected(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Connected(_))
    }

    /// The socket named `addr`, for a socket of this one's net container.
    fn lookup(&self, addr: &UnixAddr) -> Result<Arc<UnixSocket>, Errno> {
        let found = match addr {
            UnixAddr::Unnamed => return Err(Errno::EINVAL),
            UnixAddr::Path(p) => {
                let inode = nenv::socket_inode_at(p)?;
                if inode.metadata().file_type() != FileType::Socket {
                    return Err(Errno::ECONNREFUSED);
                }
                PATHS.lock().get(&inode_key(&inode)).and_then(Weak::upgrade)
            }
            UnixAddr::Abstract(n) => ABSTRACT
                .lock()
                .get(&(net_number(&self.common), n.clone()))
                .and_then(Weak::upgrade),
        };
        found.ok_or(Errno::ECONNREFUSED)
    }

    /// Gives an unbound socket a unique abstract name of five hex digits (Linux's
    /// autobind: `bind` with only the family).
    fn autobind(self: &Arc<Self>, st: &mut State) -> Result<(), Errno> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let net = net_number(&self.common);
        let mut table = ABSTRACT.lock();
        for _ in 0..0x10_0000 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xfffff;
            let name = format!("{n:05x}").into_bytes();
            let key = (net, name.clone());
            if table.get(&key).is_some_and(|w| w.strong_count() > 0) {
                continue;
            }
            table.insert(key, Arc::downgrade(self));
            st.binding = Some(Binding::Abstract(net, name.clone()));
            st.addr = UnixAddr::Abstract(name);
            return Ok(());
        }
        Err(Errno::ENOSPC)
    }

    fn bind_addr(self: &Arc<Self>, addr: UnixAddr) -> Result<(), Errno> {
        let mut st = self.state.lock();
        if st.binding.is_some() {
            return Err(Errno::EINVAL);
        }
        match addr {
            UnixAddr::Unnamed => self.autobind(&mut st)?,
            UnixAddr::Path(p) => {
                let inode = nenv::make_socket_inode(&p)?;
                PATHS.lock().insert(inode_key(&inode), Arc::downgrade(self));
                st.binding = Some(Binding::Path(inode));
                st.addr = UnixAddr::Path(p);
            }
            UnixAddr::Abstract(n) => {
                let key = (net_number(&self.common), n.clone());
                let mut table = ABSTRACT.lock();
                if table.get(&key).is_some_and(|w| w.strong_count() > 0) {
                    return Err(Errno::EADDRINUSE);
                }
                table.insert(key.clone(), Arc::downgrade(self));
                st.binding = Some(Binding::Abstract(key.0, key.1));
                st.addr = UnixAddr::Abstract(n);
            }
        }
        Ok(())
    }

    /// Connects a stream or seqpacket socket to the listener at `addr`: a new socket
    /// for the server side goes into the listener's backlog.
    fn connect_stream(self: &Arc<Self>, addr: &UnixAddr, io: &Io) -> Result<(), Errno> {
        match self.state.lock().conn {
            Conn::Connected(_) => return Err(Errno::EISCONN),
            Conn::Listening { .. } => return Err(Errno::EINVAL),
            Conn::None => {}
        }
        let me = nenv::current_creds(true);
        loop {
            let target = self.lookup(addr)?;
            if target.common.sock_type != self.common.sock_type {
                return Err(Errno::EPROTOTYPE);
            }
            let server = UnixSocket::with_common(SocketCommon::accepted_from(&target.common));
            // Charged to the listener's group while it waits in the backlog (ENOMEM).
            crate::net::charge_socket(&(server.clone() as Arc<dyn Socket>))?;
            let mut ts = target.state.lock();
            let (backlog, max) = match &mut ts.conn {
                Conn::Listening { backlog, max } => (backlog, *max),
                _ => return Err(Errno::ECONNREFUSED),
            };
            if backlog.len() <= max {
                backlog.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                {
                    let mut ss = server.state.lock();
                    ss.addr = ts.addr.clone();
                    ss.conn = Conn::Connected(Arc::downgrade(self));
                    ss.peercred = Some(me.clone());
                }
                if let Conn::Listening { backlog, .. } = &mut ts.conn {
                    backlog.push_back(server.clone());
                }
                let listener_creds = ts.peercred.clone();
                drop(ts);
                {
                    let mut st = self.state.lock();
                    st.conn = Conn::Connected(Arc::downgrade(&server));
                    st.peercred = listener_creds;
                }
                env::wakeup(target.chan());
                return Ok(());
            }
            drop(ts);
            let chan = target.chan();
            drop(target);
            io.wait(chan)?;
        }
    }

    /// `/proc/net/unix` line of this socket.
    fn proc_line(&self) -> String {
        let st = self.state.lock();
        const SO_ACCEPTCON: u32 = 1 << 16;
        let (flags, state) = match &st.conn {
            Conn::Listening { .. } => (SO_ACCEPTCON, 1),
            Conn::Connected(_) => (0, 3),
            Conn::None => (0, 1),
        };
        let mut line = format!(
            "0000000000000000: 00000002 00000000 {:08X} {:04X} {:02X} {:5}",
            flags, self.common.sock_type, state, self.common.ino
        );
        if st.addr != UnixAddr::Unnamed {
            line.push(' ');
            line.push_str(&st.addr.display());
        }
        line.push('\n');
        line
    }
}

/// `/proc/net/unix` for a reader of net container `net` (its number).
pub fn proc_net_unix(net: u32) -> String {
    let mut out = String::from("Num       RefCount Protocol Flags    Type St Inode Path\n");
    let socks: Vec<Arc<UnixSocket>> = ALL.lock().values().filter_map(Weak::upgrade).collect();
    for s in socks {
        if net_number(&s.common) == net {
            out.push_str(&s.proc_line());
        }
    }
    out
}

/// Number of live AF_UNIX sockets (tests: everything is freed).
pub fn live_sockets() -> usize {
    ALL.lock().len()
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        ALL.lock().remove(&self.common.ino);
        let st = self.state.get_mut();
        match st.binding.take() {
            Some(Binding::Path(i)) => {
                let mut t = PATHS.lock();
                let k = inode_key(&i);
                if t.get(&k).is_some_and(|w| w.strong_count() == 0) {
                    t.remove(&k);
                }
            }
            Some(Binding::Abstract(net, n)) => {
                let mut t = ABSTRACT.lock();
                let k = (net, n);
                if t.get(&k).is_some_and(|w| w.strong_count() == 0) {
                    t.remove(&k);
                }
            }
            None => {}
        }
        let conn = core::mem::replace(&mut st.conn, Conn::None);
        // Unread packets (and the files in them) go now.
        st.rx.clear();
        match conn {
            Conn::Connected(w) => {
                if let Some(peer) = w.upgrade() {
                    if self.common.sock_type != SOCK_DGRAM {
                        peer.common.rd_shut.store(true, Ordering::Release);
                        peer.common.wr_shut.store(true, Ordering::Release);
                    }
                    env::wakeup(peer.chan());
                }
            }
            // Connections never accepted are closed with the listener.
            Conn::Listening { backlog, .. } => drop(backlog),
            Conn::None => {}
        }
        env::wakeup(self.chan());
    }
}

fn create(sock_type: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    let t = check_type(sock_type, protocol)?;
    Ok(UnixSocket::with_common(SocketCommon::new(AF_UNIX, t, 0)))
}

fn pair(sock_type: i32, protocol: i32) -> Result<super::SocketPair, Errno> {
    let t = check_type(sock_type, protocol)?;
    let a = UnixSocket::with_common(SocketCommon::new(AF_UNIX, t, 0));
    let b = UnixSocket::with_common(SocketCommon::new(AF_UNIX, t, 0));
    let me = nenv::current_creds(true);
    for (x, y) in [(&a, &b), (&b, &a)] {
        let mut st = x.state.lock();
        st.conn = Conn::Connected(Arc::downgrade(y));
        st.peercred = Some(me.clone());
    }
    Ok((a, b))
}

impl Socket for UnixSocket {
    fn common(&self) -> &SocketCommon {
        &self.common
    }

    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let me = self.arc()?;
        me.bind_addr(UnixAddr::parse(addr)?)
    }

    fn connect(&self, addr: &[u8], io: &Io) -> Result<(), Errno> {
        let me = self.arc()?;
        if self.common.sock_type == SOCK_DGRAM {
            // AF_UNSPEC dissolves the association.
            if addr.len() >= 2 && u16::from_le_bytes([addr[0], addr[1]]) == 0 {
                self.state.lock().conn = Conn::None;
                return Ok(());
            }
            let target = self.lookup(&UnixAddr::parse(addr)?)?;
            if target.common.sock_type != SOCK_DGRAM {
                return Err(Errno::EPROTOTYPE);
            }
            let mut st = self.state.lock();
            st.conn = Conn::Connected(Arc::downgrade(&target));
            st.peercred = None;
            return Ok(());
        }
        me.connect_stream(&UnixAddr::parse(addr)?, io)
    }

    fn listen(&self, backlog: u32) -> Result<(), Errno> {
        if !self.is_connection() {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut st = self.state.lock();
        if st.binding.is_none() {
            return Err(Errno::EINVAL);
        }
        match &mut st.conn {
            Conn::Connected(_) => return Err(Errno::EINVAL),
            Conn::Listening { max, .. } => *max = backlog as usize,
            Conn::None => {
                st.conn = Conn::Listening {
                    backlog: VecDeque::new(),
                    max: backlog as usize,
                };
                st.peercred = Some(nenv::current_creds(true));
            }
        }
        drop(st);
        // Blocked connectors may fit now.
        env::wakeup(self.chan());
        Ok(())
    }

    fn accept(&self, io: &Io) -> Result<(Arc<dyn Socket>, Vec<u8>), Errno> {
        if !self.is_connection() {
            return Err(Errno::EOPNOTSUPP);
        }
        loop {
            let next = match &mut self.state.lock().conn {
                Conn::Listening { backlog, .. } => backlog.pop_front(),
                _ => return Err(Errno::EINVAL),
            };
            if let Some(s) = next {
                // A connector waiting for room in the backlog may go on.
                env::wakeup(self.chan());
                let peer = s.peer().map_or_else(
                    || UnixAddr::Unnamed.to_bytes(),
                    |p| p.state.lock().addr.to_bytes(),
                );
                return Ok((s, peer));
            }
            io.wait(self.chan())?;
        }
    }

    fn sendmsg(
        &self,
        buf: &[u8],
        addr: Option<&[u8]>,
        controls: Vec<Control>,
        io: &Io,
    ) -> Result<usize, Errno> {
        data::send(self, buf, addr, controls, io)
    }

    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno> {
        data::recv(self, buf, io)
    }

    fn shutdown(&self, how: u32) -> Result<(), Errno> {
        let (rd, wr) = (how != super::SHUT_WR, how != super::SHUT_RD);
        if rd {
            self.common.rd_shut.store(true, Ordering::Release);
        }
        if wr {
            self.common.wr_shut.store(true, Ordering::Release);
        }
        if self.is_connection()
            && let Some(p) = self.peer()
        {
            if rd {
                p.common.wr_shut.store(true, Ordering::Release);
            }
            if wr {
                p.common.rd_shut.store(true, Ordering::Release);
            }
            env::wakeup(p.chan());
        }
        env::wakeup(self.chan());
        Ok(())
    }

    fn local_addr(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.state.lock().addr.to_bytes())
    }

    fn peer_addr(&self) -> Result<Vec<u8>, Errno> {
        if !self.is_connected() {
            return Err(Errno::ENOTCONN);
        }
        Ok(self.peer().map_or_else(
            || UnixAddr::Unnamed.to_bytes(),
            |p| p.state.lock().addr.to_bytes(),
        ))
    }

    fn poll(&self) -> u16 {
        let st = self.state.lock();
        let rd = self.common.rd_shut.load(Ordering::Acquire);
        let wr = self.common.wr_shut.load(Ordering::Acquire);
        let mut ev = 0;
        if self.common.error.lock().is_some() {
            ev |= POLLERR;
        }
        if rd && wr {
            ev |= POLLHUP;
        }
        if rd {
            ev |= POLLRDHUP | POLLIN;
        }
        if !st.rx.is_empty() {
            ev |= POLLIN;
        }
        match &st.conn {
            Conn::Listening { backlog, .. } => {
                if !backlog.is_empty() {
                    ev |= POLLIN;
                }
                return ev;
            }
            // Linux: an unconnected stream socket is hung up, and writable.
            Conn::None if self.is_connection() => ev |= POLLHUP,
            _ => {}
        }
        let peer = match &st.conn {
            Conn::Connected(w) => w.upgrade(),
            _ => None,
        };
        drop(st);
        let writable = match peer {
            Some(p) => !data::peer_full(self, &p),
            // An unconnected datagram socket can send to anyone; a gone peer gives
            // writability too (the send reports the error), as Linux.
            None => true,
        };
        if writable {
            ev |= POLLOUT;
        }
        ev
    }

    fn wait_chan(&self) -> usize {
        self.chan()
    }

    /// AF_UNIX has no options of its own: other levels are `EOPNOTSUPP` (Linux's
    /// `sock_no_setsockopt`), unknown `SOL_SOCKET` ones `ENOPROTOOPT`.
    fn setsockopt(&self, level: i32, _name: i32, _val: &[u8]) -> Result<(), Errno> {
        Err(if level == super::SOL_SOCKET {
            Errno::ENOPROTOOPT
        } else {
            Errno::EOPNOTSUPP
        })
    }

    fn getsockopt(&self, level: i32, _name: i32) -> Result<Vec<u8>, Errno> {
        Err(if level == super::SOL_SOCKET {
            Errno::ENOPROTOOPT
        } else {
            Errno::EOPNOTSUPP
        })
    }

    fn is_listening(&self) -> bool {
        matches!(self.state.lock().conn, Conn::Listening { .. })
    }

    fn peer_creds(&self) -> Result<Creds, Errno> {
        Ok(self
            .state
            .lock()
            .peercred
            .clone()
            .unwrap_or_else(Creds::none))
    }

    fn readable_bytes(&self) -> usize {
        let st = self.state.lock();
        if self.common.sock_type == SOCK_STREAM {
            st.rx_bytes
        } else {
            st.rx.front().map_or(0, |p| p.data.len())
        }
    }
}

impl UnixSocket {
    /// This socket as an `Arc` (it is always made in one).
    fn arc(&self) -> Result<Arc<UnixSocket>, Errno> {
        ALL.lock()
            .get(&self.common.ino)
            .and_then(Weak::upgrade)
            .ok_or(Errno::EBADF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::net::NetContainer;
    use crate::container::{ContainerCommon, Kind};

    fn new_net() -> Arc<NetContainer> {
        crate::container::init("");
        let owner = crate::container::user::root_user();
        Arc::new(NetContainer::root(
            ContainerCommon::new(Kind::Net, &owner).expect("a net container slot"),
        ))
    }

    fn sock_in(net: &Arc<NetContainer>, ty: i32) -> Arc<UnixSocket> {
        UnixSocket::with_common(SocketCommon::new_in(net.clone(), AF_UNIX, ty, 0))
    }

    #[test]
    fn abstract_names_belong_to_the_socket_s_net_container() {
        let (n1, n2) = (new_net(), new_net());
        let name = UnixAddr::Abstract(b"host-test-abstract".to_vec());
        let a = sock_in(&n1, SOCK_DGRAM);
        let b = sock_in(&n2, SOCK_DGRAM);
        a.bind_addr(name.clone()).expect("bind in the first");
        b.bind_addr(name.clone())
            .expect("the same name in another container");
        let c = sock_in(&n1, SOCK_DGRAM);
        assert_eq!(
            c.bind_addr(name.clone()).map_err(|e| e as i32),
            Err(Errno::EADDRINUSE as i32)
        );
        let io = Io {
            nonblock: true,
            deadline: None,
            flags: 0,
        };
        assert_eq!(
            c.sendmsg(b"to n1", Some(&name.to_bytes()), Vec::new(), &io),
            Ok(5)
        );
        let d = sock_in(&n2, SOCK_DGRAM);
        assert_eq!(
            d.sendmsg(b"to n2!", Some(&name.to_bytes()), Vec::new(), &io),
            Ok(6)
        );
        let mut buf = [0u8; 16];
        assert_eq!(a.recvmsg(&mut buf, &io).map(|r| r.len), Ok(5));
        assert_eq!(b.recvmsg(&mut buf, &io).map(|r| r.len), Ok(6));
        drop(a);
        c.bind_addr(name)
            .expect("free once the first socket is gone");
    }

    #[test]
    fn addresses_parse_and_print_as_linux() {
        let mut a = Vec::from(1u16.to_le_bytes());
        assert_eq!(UnixAddr::parse(&a), Ok(UnixAddr::Unnamed));
        a.extend_from_slice(b"/tmp/s\0junk");
        assert_eq!(UnixAddr::parse(&a), Ok(UnixAddr::Path("/tmp/s".into())));
        assert_eq!(UnixAddr::Path("/tmp/s".into()).to_bytes().len(), 2 + 6 + 1);
        let mut ab = Vec::from(1u16.to_le_bytes());
        ab.extend_from_slice(b"\0name\0x");
        let parsed = UnixAddr::parse(&ab).expect("abstract");
        assert_eq!(parsed, UnixAddr::Abstract(b"name\0x".to_vec()));
        assert_eq!(parsed.to_bytes(), ab, "abstract names keep their length");
        assert_eq!(parsed.display(), "@name@x");
        assert_eq!(UnixAddr::parse(&[2, 0, b'x']), Err(Errno::EINVAL));
        assert_eq!(UnixAddr::parse(&[1]), Err(Errno::EINVAL));
        assert_eq!(UnixAddr::parse(&[1u8; 111]), Err(Errno::EINVAL));
    }
}
