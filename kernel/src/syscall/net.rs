//! Socket system calls (Linux x86_64 numbers): they copy addresses, buffers and
//! control messages between user memory and the socket layer (`crate::net`), install
//! passed files, translate passed credentials, and send SIGPIPE.

use super::table::{fd, syscalls};
use crate::errno::{Errno, SysResult};
use crate::fs::env;
use crate::fs::file::O_NONBLOCK;
use crate::fs::{FdTable, OpenFile};
use crate::mm::user::{copy_from_user, copy_to_user};
use crate::net::{self, Control, Creds, InFlight, Received, SOCK_CLOEXEC, SOCK_NONBLOCK, Socket};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// `sizeof(struct sockaddr_storage)`: the longest address accepted.
const SOCKADDR_MAX: usize = 128;
/// `UIO_MAXIOV`.
const IOV_MAX: usize = 1024;
/// `net.core.optmem_max`: the most control-message bytes one call takes.
const OPTMEM_MAX: usize = 20_480;
/// Largest kernel buffer one stream transfer step uses.
const CHUNK: usize = 64 * 1024;
/// Largest record buffer (twice `rmem_max`: nothing longer can be queued).
const RECORD_MAX: usize = 2 * net::BUF_MAX as usize;
const CMSG_HDR: usize = 16;
const MSGHDR_SIZE: u64 = 56;
const MMSGHDR_SIZE: u64 = 64;

syscalls! {
    frame, a;
    41 => socket(a[0] as i32, a[1] as i32, a[2] as i32),
    42 => connect(fd(a[0]), a[1], a[2] as u32),
    43 => accept4(fd(a[0]), a[1], a[2], 0),
    44 => sendto(fd(a[0]), a[1], a[2], a[3] as u32, a[4], a[5] as u32),
    45 => recvfrom(fd(a[0]), a[1], a[2], a[3] as u32, a[4], a[5]),
    46 => sendmsg(fd(a[0]), a[1], a[2] as u32),
    47 => recvmsg(fd(a[0]), a[1], a[2] as u32),
    48 => shutdown(fd(a[0]), a[1] as u32),
    49 => bind(fd(a[0]), a[1], a[2] as u32),
    50 => listen(fd(a[0]), a[1] as i32),
    51 => name(fd(a[0]), a[1], a[2], false),
    52 => name(fd(a[0]), a[1], a[2], true),
    53 => socketpair(a[0] as i32, a[1] as i32, a[2] as i32, a[3]),
    54 => setsockopt(fd(a[0]), a[1] as i32, a[2] as i32, a[3], a[4] as u32),
    55 => getsockopt(fd(a[0]), a[1] as i32, a[2] as i32, a[3], a[4]),
    288 => accept4(fd(a[0]), a[1], a[2], a[3] as i32),
    299 => recvmmsg(fd(a[0]), a[1], a[2] as u32, a[3] as u32, a[4]),
    307 => sendmmsg(fd(a[0]), a[1], a[2] as u32, a[3] as u32),
}

fn files() -> Arc<FdTable> {
    crate::task::current().process().files()
}

/// The open file and socket behind `fd` (`EBADF`, `ENOTSOCK`).
fn sock_fd(fd: i32) -> Result<(Arc<OpenFile>, Arc<dyn Socket>), Errno> {
    let f = files().get(fd)?;
    let s = net::socket_of(&f)?;
    Ok((f, s))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or_default())
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or_default())
}

/// A user buffer of `len` bytes, fallibly allocated (`ENOMEM`).
fn kbuf(len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    v.resize(len, 0);
    Ok(v)
}

/// A `sockaddr` from user memory (`EINVAL` past `sockaddr_storage`).
fn read_addr(addr: u64, len: u32) -> Result<Vec<u8>, Errno> {
    let len = len as i32;
    if len < 0 || len as usize > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    let mut v = alloc::vec![0u8; len as usize];
    copy_from_user(addr, &mut v)?;
    Ok(v)
}

/// Writes an address to `(addr, *len_ptr)`: as much as fits, and the full length to
/// `*len_ptr` (Linux's `move_addr_to_user`). Nothing when `addr` is null.
fn write_addr(addr: u64, len_ptr: u64, bytes: &[u8]) -> Result<(), Errno> {
    if addr == 0 || len_ptr == 0 {
        return Ok(());
    }
    let mut l = [0u8; 4];
    copy_from_user(len_ptr, &mut l)?;
    let cap = i32::from_le_bytes(l);
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let n = bytes.len().min(cap as usize);
    copy_to_user(addr, &bytes[..n])?;
    copy_to_user(len_ptr, &(bytes.len() as u32).to_le_bytes())
}

/// Linux's `SOCK_MAX`: types at or above it are `EINVAL` for every family.
const SOCK_MAX: i32 = 11;

/// The family, and `ty` split into the type and its flags (`EINVAL` for unknown flags
/// or a type out of range).
fn family_and_type(domain: i32, ty: i32) -> Result<(&'static net::Family, i32, i32), Errno> {
    let f = net::family(domain)?;
    let flags = ty & !net::SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 || ty & net::SOCK_TYPE_MASK >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    Ok((f, ty & net::SOCK_TYPE_MASK, flags))
}

fn socket(domain: i32, ty: i32, protocol: i32) -> SysResult {
    let (f, ty, flags) = family_and_type(domain, ty)?;
    let sock = (f.create)(ty, protocol)?;
    net::charge_socket(&sock)?;
    let file = net::open_socket(sock, flags as u32 & O_NONBLOCK);
    files()
        .install(file, flags & SOCK_CLOEXEC != 0)
        .map(|fd| fd as usize)
}

fn socketpair(domain: i32, ty: i32, protocol: i32, sv: u64) -> SysResult {
    let (f, ty, flags) = family_and_type(domain, ty)?;
    let pair = f.pair.ok_or(Errno::EOPNOTSUPP)?;
    let (a, b) = pair(ty, protocol)?;
    net::charge_socket(&a)?;
    net::charge_socket(&b)?;
    let nb = flags as u32 & O_NONBLOCK;
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let t = files();
    let fa = t.install(net::open_socket(a, nb), cloexec)?;
    let fb = match t.install(net::open_socket(b, nb), cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.close(fa);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&fa.to_le_bytes());
    out[4..].copy_from_slice(&fb.to_le_bytes());
    if let Err(e) = copy_to_user(sv, &out) {
        let _ = t.close(fa);
        let _ = t.close(fb);
        return Err(e);
    }
    Ok(0)
}

fn bind(fd: i32, addr: u64, len: u32) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    s.bind(&read_addr(addr, len)?).map(|_| 0)
}

fn connect(fd: i32, addr: u64, len: u32) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    let a = read_addr(addr, len)?;
    let io = s.common().io(f.nonblocking(), 0, true);
    s.connect(&a, &io).map(|_| 0)
}

fn listen(fd: i32, backlog: i32) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    // A negative backlog is a huge unsigned one: SOMAXCONN (Linux).
    s.listen((backlog as u32).min(net::SOMAXCONN)).map(|_| 0)
}

fn accept4(fd: i32, addr: u64, len_ptr: u64, flags: i32) -> SysResult {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (f, s) = sock_fd(fd)?;
    let io = s.common().io(f.nonblocking(), 0, false);
    let pre = net::kmem::charge_accept(&s)?;
    let (new, peer) = s.accept(&io)?;
    net::kmem::adopt(&new, pre);
    let t = files();
    let nfd = t.install(
        net::open_socket(new, flags as u32 & O_NONBLOCK),
        flags & SOCK_CLOEXEC != 0,
    )?;
    if let Err(e) = write_addr(addr, len_ptr, &peer) {
        let _ = t.close(nfd);
        return Err(e);
    }
    Ok(nfd as usize)
}

fn shutdown(fd: i32, how: u32) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    if how > net::SHUT_RDWR {
        return Err(Errno::EINVAL);
    }
    s.shutdown(how).map(|_| 0)
}

fn name(fd: i32, addr: u64, len_ptr: u64, peer: bool) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    let a = if peer {
        s.peer_addr()?
    } else {
        s.local_addr()?
    };
    write_addr(addr, len_ptr, &a).map(|_| 0)
}

fn setsockopt(fd: i32, level: i32, name: i32, val: u64, len: u32) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    let len = len as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let mut v = alloc::vec![0u8; (len as usize).min(4096)];
    copy_from_user(val, &mut v)?;
    if level == net::SOL_SOCKET && net::set_generic_option(&*s, name, &v)? {
        return Ok(0);
    }
    s.setsockopt(level, name, &v).map(|_| 0)
}

fn getsockopt(fd: i32, level: i32, name: i32, val: u64, len_ptr: u64) -> SysResult {
    let (_, s) = sock_fd(fd)?;
    let mut l = [0u8; 4];
    copy_from_user(len_ptr, &mut l)?;
    let cap = i32::from_le_bytes(l);
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let v = if level == net::SOL_SOCKET && name == net::SO_PEERCRED {
        let c = s.peer_creds().unwrap_or_else(|_| Creds::none());
        ucred_bytes(&c).to_vec()
    } else if level == net::SOL_SOCKET {
        match net::get_generic_option(&*s, name) {
            Some(r) => r?,
            None => s.getsockopt(level, name)?,
        }
    } else {
        s.getsockopt(level, name)?
    };
    let n = v.len().min(cap as usize);
    copy_to_user(val, &v[..n])?;
    copy_to_user(len_ptr, &(n as u32).to_le_bytes())?;
    Ok(0)
}

/// `struct ucred` of `c` as the caller sees it.
fn ucred_bytes(c: &Creds) -> [u8; 12] {
    let (pid, uid, gid) = net::env::view_creds(c);
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&pid.to_le_bytes());
    b[4..8].copy_from_slice(&uid.to_le_bytes());
    b[8..].copy_from_slice(&gid.to_le_bytes());
    b
}

// ---- data ----

/// A user `iovec` array: (base, len) pairs; `EMSGSIZE` past `UIO_MAXIOV`, `EINVAL`
/// when the total overflows `ssize_t`.
fn read_iovecs(iov: u64, cnt: u64) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt > IOV_MAX as u64 {
        return Err(Errno::EMSGSIZE);
    }
    let mut raw = alloc::vec![0u8; cnt as usize * 16];
    copy_from_user(iov, &mut raw)?;
    let mut total: usize = 0;
    let v: Vec<(u64, usize)> = raw
        .chunks_exact(16)
        .map(|c| (u64_at(c, 0), u64_at(c, 8) as usize))
        .collect();
    for &(_, l) in &v {
        total = total.checked_add(l).ok_or(Errno::EINVAL)?;
    }
    if total > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    Ok(v)
}

/// Copies `len` bytes starting `skip` bytes into the iovecs into a kernel buffer.
fn gather(iovs: &[(u64, usize)], mut skip: usize, len: usize) -> Result<Vec<u8>, Errno> {
    let mut out = kbuf(len)?;
    let mut done = 0;
    for &(base, l) in iovs {
        if done == len {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let n = (l - skip).min(len - done);
        copy_from_user(base + skip as u64, &mut out[done..done + n])?;
        done += n;
        skip = 0;
    }
    Ok(out)
}

/// Copies `data` into the iovecs starting `skip` bytes in.
fn scatter(iovs: &[(u64, usize)], mut skip: usize, data: &[u8]) -> Result<(), Errno> {
    let mut done = 0;
    for &(base, l) in iovs {
        if done == data.len() {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let n = (l - skip).min(data.len() - done);
        copy_to_user(base + skip as u64, &data[done..done + n])?;
        done += n;
        skip = 0;
    }
    Ok(())
}

/// Parses user control messages (`EINVAL` for malformed ones, `EBADF` for a bad fd).
fn read_controls(addr: u64, len: usize) -> Result<Vec<Control>, Errno> {
    let mut out = Vec::new();
    if len == 0 {
        return Ok(out);
    }
    if len > OPTMEM_MAX {
        return Err(Errno::ENOBUFS);
    }
    let mut buf = alloc::vec![0u8; len];
    copy_from_user(addr, &mut buf)?;
    let mut off = 0;
    while off + CMSG_HDR <= len {
        let clen = u64_at(&buf, off) as usize;
        if clen < CMSG_HDR || clen > len - off {
            return Err(Errno::EINVAL);
        }
        let level = u32_at(&buf, off + 8) as i32;
        let kind = u32_at(&buf, off + 12) as i32;
        let data = &buf[off + CMSG_HDR..off + clen];
        if level == net::SOL_SOCKET {
            match kind {
                net::SCM_RIGHTS => {
                    let n = data.len() / 4;
                    if n == 0 || n > net::SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    let t = files();
                    let mut fs = Vec::with_capacity(n);
                    for c in data.chunks_exact(4) {
                        fs.push(t.get(u32_at(c, 0) as i32)?);
                    }
                    out.push(Control::Rights(InFlight::new(fs)?));
                }
                net::SCM_CREDENTIALS => {
                    if data.len() != 12 {
                        return Err(Errno::EINVAL);
                    }
                    let c = net::env::creds_from_user(
                        u32_at(data, 0) as i32,
                        u32_at(data, 4),
                        u32_at(data, 8),
                    )?;
                    out.push(Control::Credentials(c));
                }
                _ => return Err(Errno::EINVAL),
            }
        } else {
            out.push(Control::Other {
                level,
                kind,
                data: data.to_vec(),
            });
        }
        off += clen.next_multiple_of(8);
    }
    Ok(out)
}

/// Encodes received control messages into at most `space` bytes: credentials for
/// the receiver's view, passed files installed as new fds (as many as fit; the rest
/// are closed and `MSG_CTRUNC` set). Returns the bytes and the extra `msg_flags`.
fn encode_controls(controls: Vec<Control>, space: usize, cloexec: bool) -> (Vec<u8>, u32) {
    let mut out = Vec::new();
    let mut flags = 0;
    let put = |out: &mut Vec<u8>, level: i32, kind: i32, data: &[u8]| -> bool {
        let clen = CMSG_HDR + data.len();
        if out.len() + clen > space {
            return false;
        }
        out.extend_from_slice(&(clen as u64).to_le_bytes());
        out.extend_from_slice(&level.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(data);
        let pad = clen.next_multiple_of(8) - clen;
        if out.len() + pad <= space {
            out.resize(out.len() + pad, 0);
        }
        true
    };
    // Linux's order: credentials, then files.
    let (mut creds, mut rest): (Vec<Control>, Vec<Control>) = controls
        .into_iter()
        .partition(|c| matches!(c, Control::Credentials(_)));
    creds.append(&mut rest);
    for c in creds {
        match c {
            Control::Credentials(c) => {
                if !put(
                    &mut out,
                    net::SOL_SOCKET,
                    net::SCM_CREDENTIALS,
                    &ucred_bytes(&c),
                ) {
                    flags |= net::MSG_CTRUNC;
                }
            }
            Control::Rights(f) => {
                let all = f.take();
                let total = all.len();
                let room = space.saturating_sub(out.len() + CMSG_HDR) / 4;
                let t = files();
                let mut fds = Vec::new();
                for file in all.into_iter().take(room) {
                    match t.install(file, cloexec) {
                        Ok(fd) => fds.extend_from_slice(&fd.to_le_bytes()),
                        Err(_) => break,
                    }
                }
                if fds.len() / 4 < total {
                    flags |= net::MSG_CTRUNC;
                }
                if !fds.is_empty() {
                    put(&mut out, net::SOL_SOCKET, net::SCM_RIGHTS, &fds);
                }
            }
            Control::Other { level, kind, data } => {
                if !put(&mut out, level, kind, &data) {
                    flags |= net::MSG_CTRUNC;
                }
            }
        }
    }
    (out, flags)
}

/// Sends the iovecs' bytes: a stream socket in steps of `CHUNK` (a short step ends
/// the call), a record in one piece. `EPIPE` raises SIGPIPE unless `MSG_NOSIGNAL`.
fn send_iov(
    file: &OpenFile,
    s: &Arc<dyn Socket>,
    iovs: &[(u64, usize)],
    addr: Option<Vec<u8>>,
    mut controls: Vec<Control>,
    flags: u32,
) -> SysResult {
    let total: usize = iovs.iter().map(|&(_, l)| l).sum();
    let io = s.common().io(file.nonblocking(), flags, true);
    let r = if s.common().sock_type == net::SOCK_STREAM {
        let mut sent = 0;
        loop {
            let n = (total - sent).min(CHUNK);
            let data = gather(iovs, sent, n)?;
            match s.sendmsg(&data, addr.as_deref(), core::mem::take(&mut controls), &io) {
                Ok(k) => {
                    sent += k;
                    if k < n || sent == total {
                        break Ok(sent);
                    }
                }
                Err(_) if sent > 0 => break Ok(sent),
                Err(e) => break Err(e),
            }
        }
    } else {
        if total > RECORD_MAX {
            return Err(Errno::EMSGSIZE);
        }
        let data = gather(iovs, 0, total)?;
        s.sendmsg(&data, addr.as_deref(), controls, &io)
    };
    if r == Err(Errno::EPIPE) && flags & net::MSG_NOSIGNAL == 0 {
        env::sigpipe_current();
    }
    r
}

/// Receives into the iovecs; returns the call's value (`MSG_TRUNC` on a record: its
/// whole length) and what came with the data.
fn recv_iov(
    file: &OpenFile,
    s: &Arc<dyn Socket>,
    iovs: &[(u64, usize)],
    flags: u32,
) -> Result<(usize, Received), Errno> {
    let total: usize = iovs.iter().map(|&(_, l)| l).sum();
    let mut io = s.common().io(file.nonblocking(), flags, false);
    if s.common().sock_type != net::SOCK_STREAM {
        let mut buf = kbuf(total.min(RECORD_MAX))?;
        let r = s.recvmsg(&mut buf, &io)?;
        scatter(iovs, 0, &buf[..r.len])?;
        let ret = if flags & net::MSG_TRUNC != 0 {
            r.full_len
        } else {
            r.len
        };
        return Ok((ret, r));
    }
    let mut first: Option<Received> = None;
    let mut got = 0;
    loop {
        let n = (total - got).min(CHUNK);
        let mut buf = kbuf(n)?;
        let r = match s.recvmsg(&mut buf, &io) {
            Ok(r) => r,
            Err(_) if got > 0 => break,
            Err(e) => return Err(e),
        };
        scatter(iovs, got, &buf[..r.len])?;
        got += r.len;
        let more = r.len == n && got < total && r.controls.is_empty() && flags & net::MSG_PEEK == 0;
        if first.is_none() {
            first = Some(r);
        }
        if !more {
            break;
        }
        // Later steps take only what is there already (MSG_WAITALL waits on).
        if flags & net::MSG_WAITALL == 0 {
            io.nonblock = true;
        }
    }
    let mut r = first.unwrap_or_default();
    r.len = got;
    Ok((got, r))
}

fn sendto(fd: i32, buf: u64, len: u64, flags: u32, addr: u64, alen: u32) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    let a = if addr != 0 {
        Some(read_addr(addr, alen)?)
    } else {
        None
    };
    send_iov(&f, &s, &[(buf, len as usize)], a, Vec::new(), flags)
}

fn recvfrom(fd: i32, buf: u64, len: u64, flags: u32, addr: u64, alen: u64) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    let (ret, r) = recv_iov(&f, &s, &[(buf, len as usize)], flags)?;
    if addr != 0 && alen != 0 {
        write_addr(addr, alen, &r.addr)?;
    }
    Ok(ret)
}

/// `sendmsg` on one `struct msghdr` at `msg`.
fn send_msghdr(f: &OpenFile, s: &Arc<dyn Socket>, msg: u64, flags: u32) -> SysResult {
    let mut h = [0u8; MSGHDR_SIZE as usize];
    copy_from_user(msg, &mut h)?;
    let name = u64_at(&h, 0);
    let addr = if name != 0 && u32_at(&h, 8) != 0 {
        Some(read_addr(name, u32_at(&h, 8))?)
    } else {
        None
    };
    let iovs = read_iovecs(u64_at(&h, 16), u64_at(&h, 24))?;
    let controls = read_controls(u64_at(&h, 32), u64_at(&h, 40) as usize)?;
    send_iov(f, s, &iovs, addr, controls, flags)
}

/// `recvmsg` on one `struct msghdr` at `msg`: writes back `msg_namelen`,
/// `msg_controllen` and `msg_flags`.
fn recv_msghdr(f: &OpenFile, s: &Arc<dyn Socket>, msg: u64, flags: u32) -> SysResult {
    let mut h = [0u8; MSGHDR_SIZE as usize];
    copy_from_user(msg, &mut h)?;
    let iovs = read_iovecs(u64_at(&h, 16), u64_at(&h, 24))?;
    let (ret, r) = recv_iov(f, s, &iovs, flags)?;
    let name = u64_at(&h, 0);
    let namelen = u32_at(&h, 8) as i32;
    let mut out_namelen = 0u32;
    if name != 0 && namelen > 0 {
        let n = r.addr.len().min(namelen as usize);
        copy_to_user(name, &r.addr[..n])?;
        out_namelen = r.addr.len() as u32;
    }
    let control = u64_at(&h, 32);
    let space = if control == 0 {
        0
    } else {
        u64_at(&h, 40) as usize
    };
    let cloexec = flags & net::MSG_CMSG_CLOEXEC != 0;
    let (cbytes, cflags) = encode_controls(r.controls, space, cloexec);
    if !cbytes.is_empty() {
        copy_to_user(control, &cbytes)?;
    }
    copy_to_user(msg + 8, &out_namelen.to_le_bytes())?;
    copy_to_user(msg + 40, &(cbytes.len() as u64).to_le_bytes())?;
    copy_to_user(msg + 48, &(r.flags | cflags).to_le_bytes())?;
    Ok(ret)
}

fn sendmsg(fd: i32, msg: u64, flags: u32) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    send_msghdr(&f, &s, msg, flags)
}

fn recvmsg(fd: i32, msg: u64, flags: u32) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    recv_msghdr(&f, &s, msg, flags)
}

/// `sendmmsg`: the count sent; an error only when the first message fails.
fn sendmmsg(fd: i32, vec: u64, vlen: u32, flags: u32) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    let n = (vlen as usize).min(IOV_MAX);
    let mut done = 0;
    while done < n {
        let m = vec + done as u64 * MMSGHDR_SIZE;
        match send_msghdr(&f, &s, m, flags) {
            Ok(k) => copy_to_user(m + MSGHDR_SIZE, &(k as u32).to_le_bytes())?,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
        done += 1;
    }
    Ok(done)
}

/// `recvmmsg`: `MSG_WAITFORONE` makes the calls after the first non-blocking; the
/// timeout is checked after each message (as Linux).
fn recvmmsg(fd: i32, vec: u64, vlen: u32, flags: u32, timeout: u64) -> SysResult {
    let (f, s) = sock_fd(fd)?;
    let deadline = if timeout != 0 {
        let mut ts = [0u8; 16];
        copy_from_user(timeout, &mut ts)?;
        let (sec, nsec) = (u64_at(&ts, 0) as i64, u64_at(&ts, 8) as i64);
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
        Some(
            env::monotonic_ns()
                .saturating_add((sec as u64).saturating_mul(1_000_000_000))
                .saturating_add(nsec as u64),
        )
    } else {
        None
    };
    let n = (vlen as usize).min(IOV_MAX);
    let mut done = 0;
    let mut fl = flags & !net::MSG_WAITFORONE;
    while done < n {
        let m = vec + done as u64 * MMSGHDR_SIZE;
        match recv_msghdr(&f, &s, m, fl) {
            Ok(k) => copy_to_user(m + MSGHDR_SIZE, &(k as u32).to_le_bytes())?,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
        done += 1;
        if flags & net::MSG_WAITFORONE != 0 {
            fl |= net::MSG_DONTWAIT;
        }
        if deadline.is_some_and(|d| env::monotonic_ns() >= d) {
            break;
        }
    }
    Ok(done)
}
