//! Sockets, poll/select and epoll as raw Linux system calls (the numbers, structures and
//! flags of socket(7), unix(7), select(2) and epoll(7)).

use crate::sys::{SysResult, check, syscall2, syscall3, syscall4, syscall5, syscall6};
use alloc::vec::Vec;

pub const SOCKET: usize = 41;
pub const CONNECT: usize = 42;
pub const SENDTO: usize = 44;
pub const RECVFROM: usize = 45;
pub const SENDMSG: usize = 46;
pub const RECVMSG: usize = 47;
pub const SHUTDOWN: usize = 48;
pub const BIND: usize = 49;
pub const LISTEN: usize = 50;
pub const GETSOCKNAME: usize = 51;
pub const GETPEERNAME: usize = 52;
pub const SOCKETPAIR: usize = 53;
pub const SETSOCKOPT: usize = 54;
pub const GETSOCKOPT: usize = 55;
pub const ACCEPT4: usize = 288;
pub const POLL: usize = 7;
pub const SELECT: usize = 23;
pub const PSELECT6: usize = 270;
pub const EPOLL_CREATE1: usize = 291;
pub const EPOLL_CTL: usize = 233;
pub const EPOLL_WAIT: usize = 232;

pub const AF_UNIX: usize = 1;
pub const AF_INET: usize = 2;
pub const SOCK_STREAM: usize = 1;
pub const SOCK_DGRAM: usize = 2;
pub const SOCK_SEQPACKET: usize = 5;
pub const SOCK_NONBLOCK: usize = 0o4000;
pub const SOCK_CLOEXEC: usize = 0o2000000;

pub const MSG_PEEK: usize = 0x2;
pub const MSG_CTRUNC: i32 = 0x8;
pub const MSG_TRUNC: usize = 0x20;
pub const MSG_DONTWAIT: usize = 0x40;
pub const MSG_WAITALL: usize = 0x100;
pub const MSG_NOSIGNAL: usize = 0x4000;

pub const SOL_SOCKET: usize = 1;
pub const SO_REUSEADDR: usize = 2;
pub const SO_TYPE: usize = 3;
pub const SO_ERROR: usize = 4;
pub const SO_SNDBUF: usize = 7;
pub const SO_RCVBUF: usize = 8;
pub const SO_KEEPALIVE: usize = 9;
pub const SO_LINGER: usize = 13;
pub const SO_PASSCRED: usize = 16;
pub const SO_PEERCRED: usize = 17;
pub const SO_RCVTIMEO: usize = 20;
pub const SO_SNDTIMEO: usize = 21;
pub const SO_ACCEPTCONN: usize = 30;
pub const SO_PROTOCOL: usize = 38;
pub const SO_DOMAIN: usize = 39;
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;
pub const SHUT_RD: usize = 0;
pub const SHUT_WR: usize = 1;

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLHUP: i16 = 0x10;
pub const POLLRDHUP: i16 = 0x2000;

pub const EPOLL_CTL_ADD: usize = 1;
pub const EPOLL_CTL_DEL: usize = 2;
pub const EPOLL_CTL_MOD: usize = 3;
pub const EPOLLIN: u32 = 0x1;
pub const EPOLLOUT: u32 = 0x4;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

pub mod errno {
    pub const ENOTSOCK: i32 = 88;
    pub const EMSGSIZE: i32 = 90;
    pub const EPROTOTYPE: i32 = 91;
    pub const EOPNOTSUPP: i32 = 95;
    pub const EAFNOSUPPORT: i32 = 97;
    pub const EADDRINUSE: i32 = 98;
    pub const EISCONN: i32 = 106;
    pub const ENOTCONN: i32 = 107;
    pub const ECONNREFUSED: i32 = 111;
    pub const ELOOP: i32 = 40;
}

/// A `struct sockaddr_un` and its length.
#[derive(Clone)]
pub struct UnixAddr {
    pub bytes: [u8; 110],
    pub len: usize,
}

impl UnixAddr {
    /// A path name (`len` counts the terminating NUL, as `SUN_LEN` + 1).
    pub fn path(p: &str) -> UnixAddr {
        let mut bytes = [0u8; 110];
        bytes[0] = AF_UNIX as u8;
        bytes[2..2 + p.len()].copy_from_slice(p.as_bytes());
        UnixAddr {
            bytes,
            len: 2 + p.len() + 1,
        }
    }

    /// An abstract name: `sun_path[0] == 0`, then `name` (its length is the address's).
    pub fn abstract_name(name: &[u8]) -> UnixAddr {
        let mut bytes = [0u8; 110];
        bytes[0] = AF_UNIX as u8;
        bytes[3..3 + name.len()].copy_from_slice(name);
        UnixAddr {
            bytes,
            len: 3 + name.len(),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

// SAFETY (the wrappers below): every pointer passed comes from a Rust reference or slice whose
// length is passed with it, so the kernel only touches memory the caller lent.

pub fn socket(family: usize, ty: usize, proto: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall3(SOCKET, family, ty, proto) }).map(|f| f as i32)
}

pub fn socketpair(family: usize, ty: usize) -> SysResult<[i32; 2]> {
    let mut sv = [0i32; 2];
    // SAFETY: see above.
    check(unsafe { syscall4(SOCKETPAIR, family, ty, 0, sv.as_mut_ptr() as usize) })?;
    Ok(sv)
}

pub fn bind(fd: i32, a: &UnixAddr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall3(BIND, fd as usize, a.bytes.as_ptr() as usize, a.len) })
}

pub fn connect(fd: i32, a: &UnixAddr) -> SysResult {
    // SAFETY: see above.
    check(unsafe { syscall3(CONNECT, fd as usize, a.bytes.as_ptr() as usize, a.len) })
}

pub fn listen(fd: i32, backlog: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(LISTEN, fd as usize, backlog) })
}

/// `accept4`: the new fd and the peer's address.
pub fn accept4(fd: i32, flags: usize) -> SysResult<(i32, UnixAddr)> {
    let mut a = UnixAddr {
        bytes: [0; 110],
        len: 110,
    };
    let mut len: u32 = 110;
    // SAFETY: see above.
    let r = check(unsafe {
        syscall4(
            ACCEPT4,
            fd as usize,
            a.bytes.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
            flags,
        )
    })?;
    a.len = len as usize;
    Ok((r as i32, a))
}

pub fn send(fd: i32, buf: &[u8], flags: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall6(
            SENDTO,
            fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
            flags,
            0,
            0,
        )
    })
}

pub fn sendto(fd: i32, buf: &[u8], flags: usize, a: &UnixAddr) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall6(
            SENDTO,
            fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
            flags,
            a.bytes.as_ptr() as usize,
            a.len,
        )
    })
}

pub fn recv(fd: i32, buf: &mut [u8], flags: usize) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall6(
            RECVFROM,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            flags,
            0,
            0,
        )
    })
}

/// `recvfrom`: the count and the sender's address.
pub fn recvfrom(fd: i32, buf: &mut [u8], flags: usize) -> SysResult<(usize, UnixAddr)> {
    let mut a = UnixAddr {
        bytes: [0; 110],
        len: 0,
    };
    let mut len: u32 = 110;
    // SAFETY: see above.
    let n = check(unsafe {
        syscall6(
            RECVFROM,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            flags,
            a.bytes.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
        )
    })?;
    a.len = len as usize;
    Ok((n, a))
}

pub fn shutdown(fd: i32, how: usize) -> SysResult {
    // SAFETY: no pointer.
    check(unsafe { syscall2(SHUTDOWN, fd as usize, how) })
}

fn name_call(nr: usize, fd: i32) -> SysResult<Vec<u8>> {
    let mut b = [0u8; 128];
    let mut len: u32 = 128;
    // SAFETY: see above.
    check(unsafe {
        syscall3(
            nr,
            fd as usize,
            b.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
        )
    })?;
    Ok(b[..(len as usize).min(128)].to_vec())
}

pub fn getsockname(fd: i32) -> SysResult<Vec<u8>> {
    name_call(GETSOCKNAME, fd)
}

pub fn getpeername(fd: i32) -> SysResult<Vec<u8>> {
    name_call(GETPEERNAME, fd)
}

pub fn setsockopt(fd: i32, level: usize, name: usize, val: &[u8]) -> SysResult {
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            SETSOCKOPT,
            fd as usize,
            level,
            name,
            val.as_ptr() as usize,
            val.len(),
        )
    })
}

pub fn setsockopt_int(fd: i32, level: usize, name: usize, v: i32) -> SysResult {
    setsockopt(fd, level, name, &v.to_le_bytes())
}

/// `getsockopt` into a buffer of `cap` bytes; returns what the kernel wrote.
pub fn getsockopt(fd: i32, level: usize, name: usize, cap: usize) -> SysResult<Vec<u8>> {
    let mut b = alloc::vec![0u8; cap];
    let mut len = cap as u32;
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            GETSOCKOPT,
            fd as usize,
            level,
            name,
            b.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
        )
    })?;
    b.truncate(len as usize);
    Ok(b)
}

pub fn getsockopt_int(fd: i32, level: usize, name: usize) -> SysResult<i32> {
    let v = getsockopt(fd, level, name, 4)?;
    Ok(i32::from_le_bytes([v[0], v[1], v[2], v[3]]))
}

#[repr(C)]
struct IoVec {
    base: usize,
    len: usize,
}

#[repr(C)]
struct MsgHdr {
    name: usize,
    namelen: u32,
    iov: *const IoVec,
    iovlen: usize,
    control: usize,
    controllen: usize,
    flags: i32,
}

/// Encodes control messages: (level, type, data) each.
pub fn cmsgs(list: &[(i32, i32, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (level, ty, data) in list {
        let len = 16 + data.len();
        v.extend_from_slice(&(len as u64).to_le_bytes());
        v.extend_from_slice(&level.to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        v.extend_from_slice(data);
        v.resize(v.len().next_multiple_of(8), 0);
    }
    v
}

/// Parses received control messages into (level, type, data).
pub fn parse_cmsgs(b: &[u8]) -> Vec<(i32, i32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= b.len() {
        let len = u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or_default()) as usize;
        if len < 16 || off + len > b.len() {
            break;
        }
        let level = i32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap_or_default());
        let ty = i32::from_le_bytes(b[off + 12..off + 16].try_into().unwrap_or_default());
        out.push((level, ty, b[off + 16..off + len].to_vec()));
        off += len.next_multiple_of(8);
    }
    out
}

/// `sendmsg` of `data` with control bytes `control`.
pub fn sendmsg(fd: i32, data: &[u8], control: &[u8], flags: usize) -> SysResult {
    let iov = IoVec {
        base: data.as_ptr() as usize,
        len: data.len(),
    };
    let m = MsgHdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: control.as_ptr() as usize,
        controllen: control.len(),
        flags: 0,
    };
    // SAFETY: see above.
    check(unsafe { syscall3(SENDMSG, fd as usize, &m as *const MsgHdr as usize, flags) })
}

/// What `recvmsg` gave: count, control bytes, `msg_flags`.
pub struct RecvMsg {
    pub len: usize,
    pub control: Vec<u8>,
    pub flags: i32,
}

/// `recvmsg` into `buf` with `control_cap` bytes of room for control messages.
pub fn recvmsg(fd: i32, buf: &mut [u8], control_cap: usize, flags: usize) -> SysResult<RecvMsg> {
    let iov = IoVec {
        base: buf.as_mut_ptr() as usize,
        len: buf.len(),
    };
    let mut control = alloc::vec![0u8; control_cap];
    let mut m = MsgHdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: if control_cap == 0 {
            0
        } else {
            control.as_mut_ptr() as usize
        },
        controllen: control_cap,
        flags: 0,
    };
    // SAFETY: see above.
    let n =
        check(unsafe { syscall3(RECVMSG, fd as usize, &mut m as *mut MsgHdr as usize, flags) })?;
    control.truncate(m.controllen);
    Ok(RecvMsg {
        len: n,
        control,
        flags: m.flags,
    })
}

/// `poll` on (fd, events) pairs; returns the count and each `revents`.
pub fn poll(fds: &[(i32, i16)], timeout_ms: i32) -> SysResult<(usize, Vec<i16>)> {
    let mut raw: Vec<[i32; 2]> = fds.iter().map(|&(fd, ev)| [fd, ev as u16 as i32]).collect();
    // SAFETY: see above.
    let n = check(unsafe {
        syscall3(
            POLL,
            raw.as_mut_ptr() as usize,
            raw.len(),
            timeout_ms as isize as usize,
        )
    })?;
    Ok((n, raw.iter().map(|r| (r[1] >> 16) as i16).collect()))
}

/// An `fd_set` of 1024 bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct FdSet(pub [u64; 16]);

impl FdSet {
    pub fn set(&mut self, fd: i32) {
        self.0[fd as usize / 64] |= 1 << (fd as usize % 64);
    }
    pub fn is_set(&self, fd: i32) -> bool {
        self.0[fd as usize / 64] & (1 << (fd as usize % 64)) != 0
    }
}

fn set_ptr(s: &mut Option<&mut FdSet>) -> usize {
    s.as_mut().map_or(0, |s| s.0.as_mut_ptr() as usize)
}

/// `select(nfds, r, w, e, timeout)` with a `struct timeval` (written back).
pub fn select(
    nfds: i32,
    mut r: Option<&mut FdSet>,
    mut w: Option<&mut FdSet>,
    timeout: Option<&mut [i64; 2]>,
) -> SysResult {
    let t = timeout.map_or(0, |t| t.as_mut_ptr() as usize);
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            SELECT,
            nfds as usize,
            set_ptr(&mut r),
            set_ptr(&mut w),
            0,
            t,
        )
    })
}

/// `pselect6(nfds, r, w, e, timeout, NULL)` with a `struct timespec` (written back).
pub fn pselect6(
    nfds: i32,
    mut r: Option<&mut FdSet>,
    mut w: Option<&mut FdSet>,
    timeout: Option<&mut [i64; 2]>,
) -> SysResult {
    let t = timeout.map_or(0, |t| t.as_mut_ptr() as usize);
    // SAFETY: see above.
    check(unsafe {
        syscall6(
            PSELECT6,
            nfds as usize,
            set_ptr(&mut r),
            set_ptr(&mut w),
            0,
            t,
            0,
        )
    })
}

pub fn epoll_create1(flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall2(EPOLL_CREATE1, flags, 0) }).map(|f| f as i32)
}

/// `struct epoll_event` (packed: 12 bytes).
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

pub fn epoll_ctl(ep: i32, op: usize, fd: i32, events: u32, data: u64) -> SysResult {
    let ev = EpollEvent { events, data };
    // SAFETY: see above.
    check(unsafe {
        syscall4(
            EPOLL_CTL,
            ep as usize,
            op,
            fd as usize,
            &ev as *const EpollEvent as usize,
        )
    })
}

/// `epoll_wait`: the (events, data) of the ready items.
pub fn epoll_wait(ep: i32, max: usize, timeout_ms: i32) -> SysResult<Vec<(u32, u64)>> {
    let mut evs = alloc::vec![EpollEvent::default(); max];
    // SAFETY: see above.
    let n = check(unsafe {
        syscall4(
            EPOLL_WAIT,
            ep as usize,
            evs.as_mut_ptr() as usize,
            max,
            timeout_ms as isize as usize,
        )
    })?;
    Ok(evs[..n]
        .iter()
        .map(|e| {
            let (ev, d) = (e.events, e.data);
            (ev, d)
        })
        .collect())
}

pub const PPOLL: usize = 271;

/// `ppoll(fds, timeout, sigmask)`: a `struct timespec` timeout (written back) and the
/// signal mask for the call.
pub fn ppoll(fds: &[(i32, i16)], timeout: &mut [i64; 2], mask: Option<u64>) -> SysResult {
    let mut raw: Vec<[i32; 2]> = fds.iter().map(|&(fd, ev)| [fd, ev as u16 as i32]).collect();
    let m = mask.unwrap_or(0);
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            PPOLL,
            raw.as_mut_ptr() as usize,
            raw.len(),
            timeout.as_mut_ptr() as usize,
            if mask.is_some() {
                &m as *const u64 as usize
            } else {
                0
            },
            8,
        )
    })
}

pub const SENDMMSG: usize = 307;
pub const RECVMMSG: usize = 299;
pub const MSG_WAITFORONE: usize = 0x10000;

#[repr(C)]
struct MMsgHdr {
    hdr: MsgHdr,
    len: u32,
}

/// One `struct mmsghdr` per buffer of `iovs`, without addresses or control data; `iovs`
/// must outlive the system call that reads them.
fn mmsg_headers(iovs: &[IoVec]) -> Vec<MMsgHdr> {
    iovs.iter()
        .map(|iov| MMsgHdr {
            hdr: MsgHdr {
                name: 0,
                namelen: 0,
                iov,
                iovlen: 1,
                control: 0,
                controllen: 0,
                flags: 0,
            },
            len: 0,
        })
        .collect()
}

/// `sendmmsg` of one message per slice; returns how many were sent and each length.
pub fn sendmmsg(fd: i32, msgs: &[&[u8]], flags: usize) -> SysResult<(usize, Vec<u32>)> {
    let iovs: Vec<IoVec> = msgs
        .iter()
        .map(|m| IoVec {
            base: m.as_ptr() as usize,
            len: m.len(),
        })
        .collect();
    let mut hdrs = mmsg_headers(&iovs);
    // SAFETY: see above.
    let n = check(unsafe {
        syscall4(
            SENDMMSG,
            fd as usize,
            hdrs.as_mut_ptr() as usize,
            hdrs.len(),
            flags,
        )
    })?;
    Ok((n, hdrs.iter().map(|h| h.len).collect()))
}

/// `recvmmsg` of up to `n` messages of at most `cap` bytes each (no timeout).
pub fn recvmmsg(fd: i32, n: usize, cap: usize, flags: usize) -> SysResult<Vec<Vec<u8>>> {
    let mut bufs: Vec<Vec<u8>> = (0..n).map(|_| alloc::vec![0u8; cap]).collect();
    let iovs: Vec<IoVec> = bufs
        .iter_mut()
        .map(|b| IoVec {
            base: b.as_mut_ptr() as usize,
            len: b.len(),
        })
        .collect();
    let mut hdrs = mmsg_headers(&iovs);
    // SAFETY: see above.
    let got = check(unsafe {
        syscall5(
            RECVMMSG,
            fd as usize,
            hdrs.as_mut_ptr() as usize,
            n,
            flags,
            0,
        )
    })?;
    Ok((0..got)
        .map(|i| bufs[i][..hdrs[i].len as usize].to_vec())
        .collect())
}
