//! The socket layer: the [`Socket`] trait every address family implements, the state
//! and options every socket shares ([`SocketCommon`]), the socket file object
//! ([`SocketFile`]) that an fd points to, and the family registry `socket(2)` and
//! `socketpair(2)` dispatch through. The system calls themselves are
//! `syscall/net.rs`; AF_UNIX is `unix/`; AF_INET/AF_INET6 are `inet/` over one TCP/IP
//! stack per net container (`stack.rs`, smoltcp).
//!
//! # How a family plugs in
//!
//! 1. Write a socket type that holds a [`SocketCommon`] (made with
//!    [`SocketCommon::new`]: it records the family, type, protocol and the caller's net
//!    container, and holds the generic options) and implement [`Socket`] for it. Every
//!    blocking operation gets an [`Io`] (non-blocking or not, the `SO_RCVTIMEO` /
//!    `SO_SNDTIMEO` deadline, the `MSG_*` flags) and sleeps with [`Io::wait`] on its
//!    wait channel; whatever changes its readiness calls `fs::env::wakeup(chan)` with
//!    the channel its `wait_chan` returns, which wakes blocked callers and poll, select
//!    and epoll waiters alike.
//! 2. Write a [`Family`] (a constructor, and `socketpair` if the family has one) and
//!    call [`register_family`] once at boot (AF_UNIX is built in). Until a family is
//!    registered, `socket()` gives `EAFNOSUPPORT`.
//! 3. Addresses reach the family as the raw `sockaddr` bytes and go back as such; the
//!    family parses and checks them (`EINVAL`, `EAFNOSUPPORT`). Control messages reach
//!    it parsed ([`Control`]); SCM_RIGHTS files and SCM_CREDENTIALS are installed and
//!    translated for the receiver by the system-call layer.
//! 4. The generic `SOL_SOCKET` options, `SIGPIPE` on `EPIPE` (unless `MSG_NOSIGNAL`),
//!    `MSG_DONTWAIT`/`O_NONBLOCK` and the timeouts are handled once, by the layer; the
//!    family answers its own levels in `setsockopt`/`getsockopt`.
#![deny(unsafe_code)]

pub mod env;
pub mod inet;
pub mod kmem;
pub mod netlink;
pub mod nic;
pub mod ports;
pub mod stack;
pub mod unix;
pub mod userio;

pub use kmem::charge_socket;

use crate::container::net::NetContainer;
use crate::errno::Errno;
use crate::fs::env::Wake;
use crate::fs::file::{FileOps, O_NONBLOCK, O_RDWR, OpenFile};
use crate::fs::vfs::{Metadata, S_IFSOCK, alloc_dev};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use spin::{Mutex, Once};

pub const AF_UNSPEC: i32 = 0;
pub const AF_UNIX: i32 = 1;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
pub const AF_NETLINK: i32 = 16;
pub const AF_PACKET: i32 = 17;
/// One past the highest family number.
pub const AF_MAX: usize = 46;

pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_RAW: i32 = 3;
pub const SOCK_RDM: i32 = 4;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_NONBLOCK: i32 = 0o4000;
pub const SOCK_CLOEXEC: i32 = 0o2000000;
pub const SOCK_TYPE_MASK: i32 = 0xf;

pub const MSG_OOB: u32 = 0x1;
pub const MSG_PEEK: u32 = 0x2;
pub const MSG_DONTROUTE: u32 = 0x4;
pub const MSG_CTRUNC: u32 = 0x8;
pub const MSG_TRUNC: u32 = 0x20;
pub const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_EOR: u32 = 0x80;
pub const MSG_WAITALL: u32 = 0x100;
pub const MSG_NOSIGNAL: u32 = 0x4000;
pub const MSG_MORE: u32 = 0x8000;
pub const MSG_WAITFORONE: u32 = 0x10000;
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

pub const SOL_SOCKET: i32 = 1;
pub const SO_DEBUG: i32 = 1;
pub const SO_REUSEADDR: i32 = 2;
pub const SO_TYPE: i32 = 3;
pub const SO_ERROR: i32 = 4;
pub const SO_DONTROUTE: i32 = 5;
pub const SO_BROADCAST: i32 = 6;
pub const SO_SNDBUF: i32 = 7;
pub const SO_RCVBUF: i32 = 8;
pub const SO_KEEPALIVE: i32 = 9;
pub const SO_OOBINLINE: i32 = 10;
pub const SO_PRIORITY: i32 = 12;
pub const SO_LINGER: i32 = 13;
pub const SO_REUSEPORT: i32 = 15;
pub const SO_PASSCRED: i32 = 16;
pub const SO_PEERCRED: i32 = 17;
pub const SO_RCVLOWAT: i32 = 18;
pub const SO_SNDLOWAT: i32 = 19;
pub const SO_RCVTIMEO_OLD: i32 = 20;
pub const SO_SNDTIMEO_OLD: i32 = 21;
pub const SO_ACCEPTCONN: i32 = 30;
pub const SO_SNDBUFFORCE: i32 = 32;
pub const SO_RCVBUFFORCE: i32 = 33;
pub const SO_PROTOCOL: i32 = 38;
pub const SO_DOMAIN: i32 = 39;
pub const SO_RCVTIMEO_NEW: i32 = 66;
pub const SO_SNDTIMEO_NEW: i32 = 67;

pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;

pub const SHUT_RD: u32 = 0;
pub const SHUT_WR: u32 = 1;
pub const SHUT_RDWR: u32 = 2;

/// `net.core.wmem_default`/`rmem_default` and `wmem_max`/`rmem_max`.
pub const BUF_DEFAULT: u32 = 212_992;
pub const BUF_MAX: u32 = 212_992;
const SOCK_MIN_SNDBUF: u32 = 4608;
const SOCK_MIN_RCVBUF: u32 = 2304;
/// `SOMAXCONN`: the most a `listen` backlog is taken as.
pub const SOMAXCONN: u32 = 4096;

/// A sender's identity as the kernel holds it (kernel pid object, kernel uid/gid);
/// translated for the receiver's PID and user containers when it is read.
#[derive(Clone)]
pub struct Creds {
    pub pid: Option<Arc<crate::container::pid::Pid>>,
    pub uid: u32,
    pub gid: u32,
}

impl Creds {
    /// Nobody: what `SO_PEERCRED` gives on an unconnected socket (pid 0, uid/gid -1).
    pub fn none() -> Creds {
        Creds {
            pid: None,
            uid: u32::MAX,
            gid: u32::MAX,
        }
    }
}

/// Open files in flight in SCM_RIGHTS messages (sent, not received yet).
static FILES_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Most files in flight at once (Linux: the sender's `RLIMIT_NOFILE`): `ETOOMANYREFS`.
pub const MAX_FILES_IN_FLIGHT: usize = 4096;
/// Most files in one SCM_RIGHTS message (`SCM_MAX_FD`).
pub const SCM_MAX_FD: usize = 253;

/// Each file in flight by address: the file and how many times it is in flight (the
/// garbage collector of `unix::gc` compares that with its reference count).
type FlightTable = BTreeMap<usize, (Weak<OpenFile>, usize)>;
static FLIGHTS: Mutex<FlightTable> = Mutex::new(BTreeMap::new());

fn file_key(f: &Arc<OpenFile>) -> usize {
    Arc::as_ptr(f) as usize
}

/// Files on their way through a socket. Counted in [`files_in_flight`] until taken by
/// the receiver or dropped with an unread message.
pub struct InFlight(Vec<Arc<OpenFile>>);

impl InFlight {
    pub fn new(files: Vec<Arc<OpenFile>>) -> Result<InFlight, Errno> {
        let n = files.len();
        let prev = FILES_IN_FLIGHT.fetch_add(n, Ordering::Relaxed);
        if prev + n > MAX_FILES_IN_FLIGHT {
            FILES_IN_FLIGHT.fetch_sub(n, Ordering::Relaxed);
            return Err(Errno::ETOOMANYREFS);
        }
        let mut t = FLIGHTS.lock();
        for f in &files {
            t.entry(file_key(f))
                .or_insert_with(|| (Arc::downgrade(f), 0))
                .1 += 1;
        }
        Ok(InFlight(files))
    }

    fn land(files: &[Arc<OpenFile>]) {
        FILES_IN_FLIGHT.fetch_sub(files.len(), Ordering::Relaxed);
        let mut t = FLIGHTS.lock();
        for f in files {
            let k = file_key(f);
            if let Some(e) = t.get_mut(&k) {
                e.1 -= 1;
                if e.1 == 0 {
                    t.remove(&k);
                }
            }
        }
    }

    /// The files (a receiver installs them); they are no longer in flight.
    pub fn take(mut self) -> Vec<Arc<OpenFile>> {
        let v = core::mem::take(&mut self.0);
        Self::land(&v);
        v
    }

    /// A second reference to the same files (`MSG_PEEK`), counted too.
    pub fn try_clone(&self) -> Result<InFlight, Errno> {
        InFlight::new(self.0.clone())
    }

    pub fn files(&self) -> &[Arc<OpenFile>] {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The files are released after the table lock: closing one may run the
        // garbage collector.
        let v = core::mem::take(&mut self.0);
        Self::land(&v);
        drop(v);
    }
}

/// Every file in flight with its in-flight count.
pub fn in_flight_table() -> Vec<(Arc<OpenFile>, usize)> {
    FLIGHTS
        .lock()
        .values()
        .filter_map(|(w, n)| Some((w.upgrade()?, *n)))
        .collect()
}

pub fn files_in_flight() -> usize {
    FILES_IN_FLIGHT.load(Ordering::Relaxed)
}

/// A control message, parsed (`cmsghdr` level and type).
pub enum Control {
    /// `SCM_RIGHTS`: open files.
    Rights(InFlight),
    /// `SCM_CREDENTIALS`.
    Credentials(Creds),
    /// Any other (level, type, data), for the family to interpret.
    Other {
        level: i32,
        kind: i32,
        data: Vec<u8>,
    },
}

/// What one receive produced.
#[derive(Default)]
pub struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The whole record's length (datagrams; `MSG_TRUNC` returns it).
    pub full_len: usize,
    /// The sender's address (`recvfrom`), raw `sockaddr` bytes; empty for none.
    pub addr: Vec<u8>,
    pub controls: Vec<Control>,
    /// `msg_flags` bits: `MSG_TRUNC`, `MSG_EOR`, `MSG_CTRUNC`.
    pub flags: u32,
}

impl Received {
    /// A stream receive of `n` bytes: no address, controls or flags, and the whole
    /// "record" is what was copied.
    pub fn bytes(n: usize) -> Self {
        Received {
            len: n,
            full_len: n,
            ..Default::default()
        }
    }
}

/// How one socket operation may block.
#[derive(Clone, Copy, Debug)]
pub struct Io {
    pub nonblock: bool,
    /// Monotonic deadline from `SO_RCVTIMEO`/`SO_SNDTIMEO`: `EAGAIN` when it passes.
    pub deadline: Option<u64>,
    /// The call's `MSG_*` flags.
    pub flags: u32,
}

impl Io {
    /// Sleeps on `chan` once: `EAGAIN` if non-blocking or timed out, `EINTR` on a signal.
    pub fn wait(&self, chan: usize) -> Result<(), Errno> {
        if self.nonblock {
            return Err(Errno::EAGAIN);
        }
        match crate::fs::env::sleep(chan, self.deadline) {
            Wake::Woken => Ok(()),
            Wake::TimedOut => Err(Errno::EAGAIN),
            Wake::Interrupted => Err(Errno::EINTR),
        }
    }
}

/// The generic `SOL_SOCKET` options.
#[derive(Clone, Debug)]
pub struct SockOpts {
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub keepalive: bool,
    pub broadcast: bool,
    pub oobinline: bool,
    pub passcred: bool,
    pub dontroute: bool,
    pub debug: bool,
    pub priority: i32,
    pub rcvlowat: i32,
    pub rcvbuf: u32,
    pub sndbuf: u32,
    /// Nanoseconds; `None` waits for ever.
    pub rcvtimeo: Option<u64>,
    pub sndtimeo: Option<u64>,
    /// (`l_onoff`, `l_linger`).
    pub linger: (i32, i32),
}

impl Default for SockOpts {
    fn default() -> Self {
        SockOpts {
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            broadcast: false,
            oobinline: false,
            passcred: false,
            dontroute: false,
            debug: false,
            priority: 0,
            rcvlowat: 1,
            rcvbuf: BUF_DEFAULT,
            sndbuf: BUF_DEFAULT,
            rcvtimeo: None,
            sndtimeo: None,
            linger: (0, 0),
        }
    }
}

/// What every socket holds: identity, container, options, pending error.
pub struct SocketCommon {
    pub family: i32,
    pub sock_type: i32,
    pub protocol: i32,
    /// The net container of the creator, kept for the socket's whole life (also after
    /// the creator's `setns`).
    pub net: Arc<NetContainer>,
    /// The inode number `fstat` and `/proc/net/*` show.
    pub ino: u64,
    pub opts: Mutex<SockOpts>,
    /// `SO_ERROR`: read and cleared by `getsockopt`.
    pub error: Mutex<Option<Errno>>,
    /// Shut down for reading / writing (`shutdown(2)`, or the peer went away).
    pub rd_shut: AtomicBool,
    pub wr_shut: AtomicBool,
    /// The plimits group of the creator: the socket object and its buffers are charged
    /// to it while they live (an accepted socket: its listener's).
    pub group: Arc<crate::plimits::Group>,
    /// The socket object's own charge ([`kmem::charge_socket`]).
    pub(crate) kmem: Mutex<crate::plimits::kmem::Charge>,
}

static NEXT_INO: AtomicU64 = AtomicU64::new(10_000);

impl SocketCommon {
    /// A socket of the caller's net container.
    pub fn new(family: i32, sock_type: i32, protocol: i32) -> SocketCommon {
        Self::new_in(env::current_net(), family, sock_type, protocol)
    }

    pub fn new_in(
        net: Arc<NetContainer>,
        family: i32,
        sock_type: i32,
        protocol: i32,
    ) -> SocketCommon {
        SocketCommon {
            family,
            sock_type,
            protocol,
            net,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            opts: Mutex::new(SockOpts::default()),
            error: Mutex::new(None),
            rd_shut: AtomicBool::new(false),
            wr_shut: AtomicBool::new(false),
            group: crate::plimits::current_group(),
            kmem: Mutex::new(crate::plimits::kmem::Charge::none()),
        }
    }

    /// A socket made by `accept`: its listener's options, a new inode.
    pub fn accepted_from(l: &SocketCommon) -> SocketCommon {
        let mut c = Self::new_in(l.net.clone(), l.family, l.sock_type, l.protocol);
        *c.opts.lock() = l.opts.lock().clone();
        c.group = l.group.clone();
        c
    }

    pub fn set_error(&self, e: Errno) {
        *self.error.lock() = Some(e);
    }

    pub fn take_error(&self) -> Option<Errno> {
        self.error.lock().take()
    }

    pub fn passcred(&self) -> bool {
        self.opts.lock().passcred
    }

    /// The `Io` of a receive (`sending` false) or send with `flags`.
    pub fn io(&self, nonblock: bool, flags: u32, sending: bool) -> Io {
        let o = self.opts.lock();
        let t = if sending { o.sndtimeo } else { o.rcvtimeo };
        Io {
            nonblock: nonblock || flags & MSG_DONTWAIT != 0,
            deadline: t.map(|t| crate::fs::env::monotonic_ns().saturating_add(t)),
            flags,
        }
    }
}

/// The operations of one socket. Defaults give the errors a family without that
/// operation returns on Linux.
pub trait Socket: Send + Sync {
    fn common(&self) -> &SocketCommon;
    /// `bind(2)` to the raw `sockaddr` bytes.
    fn bind(&self, addr: &[u8]) -> Result<(), Errno>;
    /// `connect(2)`; a non-blocking connect that cannot finish at once gives
    /// `EINPROGRESS` (later readiness is `POLLOUT`, the outcome in `SO_ERROR`).
    fn connect(&self, addr: &[u8], io: &Io) -> Result<(), Errno>;
    fn listen(&self, _backlog: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Takes one connection: the new socket, and the peer's address.
    fn accept(&self, _io: &Io) -> Result<(Arc<dyn Socket>, Vec<u8>), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Sends `data` (to `addr` when given); returns the bytes taken. A stream socket
    /// may take part of it; a record is all or nothing.
    fn sendmsg(
        &self,
        data: &[u8],
        addr: Option<&[u8]>,
        controls: Vec<Control>,
        io: &Io,
    ) -> Result<usize, Errno>;
    /// Receives into `buf` (`io.flags` may hold `MSG_PEEK`, `MSG_WAITALL`, `MSG_TRUNC`).
    fn recvmsg(&self, buf: &mut [u8], io: &Io) -> Result<Received, Errno>;
    /// `write(2)` straight from user memory into the socket; `None`: the socket has no
    /// such path (the caller copies into a kernel buffer and calls `sendmsg`).
    fn write_user(&self, _addr: u64, _len: usize, _io: &Io) -> Option<Result<usize, Errno>> {
        None
    }
    /// `read(2)` straight into user memory; `None` as for [`Socket::write_user`].
    fn read_user(&self, _addr: u64, _len: usize, _io: &Io) -> Option<Result<usize, Errno>> {
        None
    }
    fn shutdown(&self, how: u32) -> Result<(), Errno>;
    /// Own address, raw `sockaddr` bytes.
    fn local_addr(&self) -> Result<Vec<u8>, Errno>;
    /// The peer's address; `ENOTCONN` when not connected.
    fn peer_addr(&self) -> Result<Vec<u8>, Errno>;
    /// Options of the family's own levels (the layer handles `SOL_SOCKET` first and
    /// passes on the ones it does not know).
    fn setsockopt(&self, _level: i32, _name: i32, _val: &[u8]) -> Result<(), Errno> {
        Err(Errno::ENOPROTOOPT)
    }
    fn getsockopt(&self, _level: i32, _name: i32) -> Result<Vec<u8>, Errno> {
        Err(Errno::ENOPROTOOPT)
    }
    /// Readiness now (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLRDHUP`, `POLLERR`).
    fn poll(&self) -> u16;
    /// The channel passed to `env::wakeup` when readiness changes.
    fn wait_chan(&self) -> usize;
    fn is_listening(&self) -> bool {
        false
    }
    /// `SO_PEERCRED`: who is at the other end (as of connect/socketpair).
    fn peer_creds(&self) -> Result<Creds, Errno> {
        Err(Errno::ENOPROTOOPT)
    }
    /// Bytes ready to read (`FIONREAD`/`SIOCINQ`).
    fn readable_bytes(&self) -> usize {
        0
    }
    /// Other ioctls (interface requests of the inet families).
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<usize, Errno> {
        Err(Errno::ENOTTY)
    }
}

/// `socket(sock_type, protocol)` of one family.
pub type CreateFn = fn(sock_type: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno>;
/// Two connected sockets.
pub type SocketPair = (Arc<dyn Socket>, Arc<dyn Socket>);
/// `socketpair(sock_type, protocol)` of one family.
pub type PairFn = fn(sock_type: i32, protocol: i32) -> Result<SocketPair, Errno>;

/// A registered address family.
pub struct Family {
    /// `socket(family, sock_type, protocol)`; `sock_type` without the flag bits.
    pub create: CreateFn,
    /// `socketpair`, if the family has one (`EOPNOTSUPP` otherwise).
    pub pair: Option<PairFn>,
}

static FAMILIES: Mutex<[Option<&'static Family>; AF_MAX]> = Mutex::new({
    let mut t: [Option<&'static Family>; AF_MAX] = [None; AF_MAX];
    t[AF_UNIX as usize] = Some(&unix::FAMILY);
    t
});

/// Makes `socket(family, ...)` reach `f` (called once at boot by each family).
pub fn register_family(family: i32, f: &'static Family) {
    if let Some(slot) = FAMILIES.lock().get_mut(family as usize) {
        *slot = Some(f);
    }
}

/// The family `family`: `EAFNOSUPPORT` when out of range or not registered.
pub fn family(family: i32) -> Result<&'static Family, Errno> {
    let t = FAMILIES.lock();
    usize::try_from(family)
        .ok()
        .and_then(|i| t.get(i).copied().flatten())
        .ok_or(Errno::EAFNOSUPPORT)
}

/// The file object of a socket: what its fd points to.
pub struct SocketFile {
    sock: Arc<dyn Socket>,
}

/// The open file of socket `sock`; `flags` may hold `O_NONBLOCK`.
pub fn open_socket(sock: Arc<dyn Socket>, flags: u32) -> Arc<OpenFile> {
    let name = format!("socket:[{}]", sock.common().ino);
    OpenFile::new(
        Arc::new(SocketFile { sock }),
        None,
        name,
        O_RDWR | (flags & O_NONBLOCK),
    )
}

/// The socket behind `file` (`ENOTSOCK` for other files).
pub fn socket_of(file: &OpenFile) -> Result<Arc<dyn Socket>, Errno> {
    file.socket().ok_or(Errno::ENOTSOCK)
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        // A closed socket may leave a cycle of sockets reachable only through each
        // other's queues (a socket passed over itself).
        if files_in_flight() > 0 {
            unix::gc::collect();
        }
    }
}

impl FileOps for SocketFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() && self.sock.common().sock_type == SOCK_STREAM {
            return Ok(0);
        }
        let io = self.sock.common().io(file.nonblocking(), 0, false);
        self.sock.recvmsg(buf, &io).map(|r| r.len)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let io = self.sock.common().io(file.nonblocking(), 0, true);
        let r = self.sock.sendmsg(buf, None, Vec::new(), &io);
        if r == Err(Errno::EPIPE) {
            crate::fs::env::sigpipe_current();
        }
        r
    }

    fn read_user(&self, file: &OpenFile, addr: u64, len: usize) -> Option<Result<usize, Errno>> {
        let io = self.sock.common().io(file.nonblocking(), 0, false);
        self.sock.read_user(addr, len, &io)
    }

    fn write_user(&self, file: &OpenFile, addr: u64, len: usize) -> Option<Result<usize, Errno>> {
        let io = self.sock.common().io(file.nonblocking(), 0, true);
        let r = self.sock.write_user(addr, len, &io)?;
        if r == Err(Errno::EPIPE) {
            crate::fs::env::sigpipe_current();
        }
        Some(r)
    }

    fn stat(&self) -> Result<Metadata, Errno> {
        static DEV: Once<u64> = Once::new();
        let now = crate::fs::env::now();
        let (uid, gid) = crate::fs::env::current_ids();
        Ok(Metadata {
            dev: *DEV.call_once(alloc_dev),
            ino: self.sock.common().ino,
            mode: S_IFSOCK | 0o777,
            nlink: 1,
            uid,
            gid,
            blksize: 4096,
            atime: now,
            mtime: now,
            ctime: now,
            ..Default::default()
        })
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        const FIONREAD: u32 = 0x541B;
        if cmd == FIONREAD {
            let n = self.sock.readable_bytes().min(i32::MAX as usize) as i32;
            crate::fs::env::copy_to_user(arg, &n.to_le_bytes())?;
            return Ok(0);
        }
        match self.sock.ioctl(cmd, arg) {
            // As Linux's `sock_do_ioctl`: what the family does not know goes to the
            // interface ioctls (musl's `if_nametoindex` asks an AF_UNIX socket).
            Err(Errno::ENOTTY) if (0x8900..0x89e0).contains(&cmd) => {
                let common = self.sock.common();
                inet::ifreq::ioctl(common, common.net.stack(), cmd, arg)
            }
            r => r,
        }
    }

    fn poll(&self) -> u16 {
        self.sock.poll()
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.sock.wait_chan())
    }

    fn socket(&self) -> Option<Arc<dyn Socket>> {
        Some(self.sock.clone())
    }
}

/// `setsockopt(SOL_SOCKET, ...)` on the generic options; `Ok(false)` when `name` is
/// not one of them (the family gets it then).
pub fn set_generic_option(sock: &dyn Socket, name: i32, val: &[u8]) -> Result<bool, Errno> {
    let c = sock.common();
    let int = || -> Result<i32, Errno> {
        let b: [u8; 4] = val
            .get(..4)
            .ok_or(Errno::EINVAL)?
            .try_into()
            .unwrap_or_default();
        Ok(i32::from_le_bytes(b))
    };
    let mut o = c.opts.lock();
    match name {
        SO_REUSEADDR => o.reuseaddr = int()? != 0,
        SO_REUSEPORT => o.reuseport = int()? != 0,
        SO_KEEPALIVE => o.keepalive = int()? != 0,
        SO_BROADCAST => o.broadcast = int()? != 0,
        SO_OOBINLINE => o.oobinline = int()? != 0,
        SO_PASSCRED => o.passcred = int()? != 0,
        SO_DONTROUTE => o.dontroute = int()? != 0,
        SO_DEBUG => o.debug = int()? != 0,
        SO_PRIORITY => {
            let v = int()?;
            if !(0..=6).contains(&v) && !env::net_admin() {
                return Err(Errno::EPERM);
            }
            o.priority = v;
        }
        SO_RCVLOWAT => o.rcvlowat = int()?.max(1),
        SO_SNDBUF | SO_SNDBUFFORCE => {
            if name == SO_SNDBUFFORCE && !env::net_admin() {
                return Err(Errno::EPERM);
            }
            o.sndbuf = buf_size(int()?, SOCK_MIN_SNDBUF, name == SO_SNDBUFFORCE);
        }
        SO_RCVBUF | SO_RCVBUFFORCE => {
            if name == SO_RCVBUFFORCE && !env::net_admin() {
                return Err(Errno::EPERM);
            }
            o.rcvbuf = buf_size(int()?, SOCK_MIN_RCVBUF, name == SO_RCVBUFFORCE);
        }
        SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW | SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => {
            let t = parse_timeval(val)?;
            if matches!(name, SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW) {
                o.rcvtimeo = t;
            } else {
                o.sndtimeo = t;
            }
        }
        SO_LINGER => {
            if val.len() < 8 {
                return Err(Errno::EINVAL);
            }
            let on = i32::from_le_bytes(val[..4].try_into().unwrap_or_default());
            let secs = i32::from_le_bytes(val[4..8].try_into().unwrap_or_default());
            o.linger = (i32::from(on != 0), secs);
        }
        SO_TYPE | SO_ERROR | SO_PROTOCOL | SO_DOMAIN | SO_ACCEPTCONN | SO_PEERCRED => {
            return Err(Errno::ENOPROTOOPT);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Linux doubles the requested size (bookkeeping overhead), caps the request at
/// `rmem_max`/`wmem_max` (unless forced) and keeps a minimum.
fn buf_size(v: i32, min: u32, force: bool) -> u32 {
    let v = v.max(0) as u32;
    let v = if force { v } else { v.min(BUF_MAX) };
    v.saturating_mul(2).max(min)
}

/// `struct timeval` as a timeout: `None` for zero (for ever), `EDOM` for bad
/// microseconds, a negative time as an immediate timeout.
fn parse_timeval(val: &[u8]) -> Result<Option<u64>, Errno> {
    if val.len() < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = i64::from_le_bytes(val[..8].try_into().unwrap_or_default());
    let usec = i64::from_le_bytes(val[8..16].try_into().unwrap_or_default());
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(Some(0));
    }
    if sec == 0 && usec == 0 {
        return Ok(None);
    }
    Ok(Some(
        (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(usec as u64 * 1000),
    ))
}

fn timeval_bytes(t: Option<u64>) -> Vec<u8> {
    let ns = t.unwrap_or(0);
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    v.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_le_bytes());
    v
}

fn int_bytes(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// `getsockopt(SOL_SOCKET, name)` of the generic options; `None` when not one of them.
/// `SO_PEERCRED` comes back untranslated: the system-call layer translates it.
pub fn get_generic_option(sock: &dyn Socket, name: i32) -> Option<Result<Vec<u8>, Errno>> {
    let c = sock.common();
    let o = c.opts.lock().clone();
    let b = |x: bool| int_bytes(i32::from(x));
    Some(Ok(match name {
        SO_REUSEADDR => b(o.reuseaddr),
        SO_REUSEPORT => b(o.reuseport),
        SO_KEEPALIVE => b(o.keepalive),
        SO_BROADCAST => b(o.broadcast),
        SO_OOBINLINE => b(o.oobinline),
        SO_PASSCRED => b(o.passcred),
        SO_DONTROUTE => b(o.dontroute),
        SO_DEBUG => b(o.debug),
        SO_PRIORITY => int_bytes(o.priority),
        SO_RCVLOWAT => int_bytes(o.rcvlowat),
        SO_SNDLOWAT => int_bytes(1),
        SO_SNDBUF => int_bytes(o.sndbuf as i32),
        SO_RCVBUF => int_bytes(o.rcvbuf as i32),
        SO_RCVTIMEO_OLD | SO_RCVTIMEO_NEW => timeval_bytes(o.rcvtimeo),
        SO_SNDTIMEO_OLD | SO_SNDTIMEO_NEW => timeval_bytes(o.sndtimeo),
        SO_LINGER => {
            let mut v = int_bytes(o.linger.0);
            v.extend_from_slice(&o.linger.1.to_le_bytes());
            v
        }
        SO_TYPE => int_bytes(c.sock_type),
        SO_DOMAIN => int_bytes(c.family),
        SO_PROTOCOL => int_bytes(c.protocol),
        SO_ACCEPTCONN => b(sock.is_listening()),
        SO_ERROR => int_bytes(c.take_error().map_or(0, |e| e as i32)),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_sizes_are_doubled_capped_and_kept_above_the_minimum() {
        assert_eq!(buf_size(10_000, SOCK_MIN_RCVBUF, false), 20_000);
        assert_eq!(buf_size(1, SOCK_MIN_RCVBUF, false), SOCK_MIN_RCVBUF);
        assert_eq!(buf_size(-5, SOCK_MIN_SNDBUF, false), SOCK_MIN_SNDBUF);
        assert_eq!(buf_size(i32::MAX, SOCK_MIN_RCVBUF, false), 2 * BUF_MAX);
    }

    #[test]
    fn timeouts_parse_as_linux_does() {
        let tv = |s: i64, us: i64| {
            let mut v = s.to_le_bytes().to_vec();
            v.extend_from_slice(&us.to_le_bytes());
            v
        };
        assert_eq!(parse_timeval(&tv(0, 0)), Ok(None), "zero waits for ever");
        assert_eq!(parse_timeval(&tv(1, 500_000)), Ok(Some(1_500_000_000)));
        assert_eq!(parse_timeval(&tv(0, 1_000_000)), Err(Errno::EDOM));
        assert_eq!(parse_timeval(&tv(-1, 0)), Ok(Some(0)));
        assert_eq!(parse_timeval(&[0; 8]), Err(Errno::EINVAL));
        assert_eq!(timeval_bytes(Some(1_500_000_000)), tv(1, 500_000));
    }

    #[test]
    fn files_in_flight_are_counted_until_taken_or_dropped() {
        let before = files_in_flight();
        let (r, w) = crate::fs::pipe::new_pipe(0).expect("pipe");
        let f = InFlight::new(alloc::vec![r, w]).expect("in flight");
        let g = f.try_clone().expect("peek copy");
        assert_eq!(files_in_flight(), before + 4);
        drop(g);
        assert_eq!(f.take().len(), 2);
        assert_eq!(files_in_flight(), before);
    }
}
