//! POSIX message-queue system calls (240–245): `mq_open`, `mq_unlink`, `mq_timedsend`,
//! `mq_timedreceive`, `mq_notify`, `mq_getsetattr`, as Linux's `ipc/mqueue.c` checks
//! them (argument errors first, then the descriptor, then the queue). The queues live in
//! the caller's IPC container (`crate::ipc::mqueue`); descriptors are ordinary fds,
//! always close-on-exec as on Linux.

use super::table::{fd, syscalls};
use crate::errno::{Errno, SysResult};
use crate::fs::env;
use crate::fs::file::{O_ACCMODE, O_NONBLOCK, OpenFile};
use crate::fs::{FdTable, Inode};
use crate::ipc::mqueue::{
    self, MQ_PRIO_MAX, Notify, OpenRequest, Queue, Registration, SIGEV_NONE, SIGEV_SIGNAL,
    SIGEV_THREAD,
};
use crate::mm::user::{copy_from_user, copy_to_user, read_user, read_user_cstr, write_user};
use crate::task::{self, Process};
use alloc::format;
use alloc::sync::{Arc, Weak};
use core::any::Any;

/// `PATH_MAX - 1`: the longest name `getname` takes before `ENAMETOOLONG`.
const NAME_READ_MAX: usize = 4095;
/// Bytes of the `SIGEV_THREAD` cookie Linux copies from `sigev_value.sival_ptr`.
const NOTIFY_COOKIE_LEN: usize = 32;
const NSIG: i32 = 64;
const NS: u64 = 1_000_000_000;

syscalls! {
    frame, a;
    240 => mq_open(a[0], a[1] as u32, a[2] as u32, a[3]),
    241 => mq_unlink(a[0]),
    242 => mq_timedsend(fd(a[0]), a[1], a[2], a[3] as u32, a[4]),
    243 => mq_timedreceive(fd(a[0]), a[1], a[2], a[3], a[4]),
    244 => mq_notify(fd(a[0]), a[1]),
    245 => mq_getsetattr(fd(a[0]), a[1], a[2]),
}

fn files() -> Arc<FdTable> {
    task::current().process().files()
}

fn space_owner() -> Arc<crate::container::ipc::IpcContainer> {
    task::current_process().containers().ipc.clone()
}

/// A queue name from user memory (`EFAULT`, `ENAMETOOLONG`; not UTF-8: `EINVAL`).
fn user_name(addr: u64) -> Result<alloc::string::String, Errno> {
    read_user_cstr(addr, NAME_READ_MAX)
}

/// `struct mq_attr`: flags, maxmsg, msgsize, curmsgs and four reserved longs.
type MqAttr = [i64; 8];

fn mq_open(name: u64, oflag: u32, mode: u32, attr: u64) -> SysResult {
    let attr = if attr != 0 {
        let a: MqAttr = read_user(attr)?;
        Some((a[1], a[2]))
    } else {
        None
    };
    let name = user_name(name)?;
    let umask = task::current_process().fs().umask();
    let req = OpenRequest {
        oflag,
        mode: mode & !umask & 0o7777,
        attr,
    };
    let q = space_owner().mq.open(&name, req, &env::caller())?;
    let ops = q.open(oflag).ok_or(Errno::ENOENT)??;
    let file = OpenFile::new(
        ops,
        Some(q),
        format!("/{name}"),
        oflag & (O_ACCMODE | O_NONBLOCK),
    );
    files().install(file, true).map(|fd| fd as usize)
}

fn mq_unlink(name: u64) -> SysResult {
    let name = user_name(name)?;
    space_owner().mq.unlink(&name, &env::caller())?;
    Ok(0)
}

/// An absolute `CLOCK_REALTIME` timeout as a monotonic deadline (`EFAULT`, `EINVAL`
/// for a negative second or a nanosecond count outside `0..1e9`, checked before
/// anything else as Linux does).
fn deadline(ts: u64) -> Result<Option<u64>, Errno> {
    if ts == 0 {
        return Ok(None);
    }
    let [sec, nsec]: [i64; 2] = read_user(ts)?;
    if sec < 0 || !(0..NS as i64).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let abs = (sec as u64).saturating_mul(NS).saturating_add(nsec as u64);
    let now = crate::time::monotonic_ns();
    Ok(Some(now.saturating_add(
        abs.saturating_sub(crate::time::realtime_ns()),
    )))
}

/// The queue behind `fd` and its open file (`EBADF` for a closed fd or another file).
fn queue_fd(fd: i32) -> Result<(Arc<OpenFile>, Arc<Queue>), Errno> {
    let file = files().get(fd)?;
    let q = mqueue::queue_of(&file)?;
    Ok((file, q))
}

fn mq_timedsend(fd: i32, ptr: u64, len: u64, prio: u32, ts: u64) -> SysResult {
    if prio >= MQ_PRIO_MAX {
        return Err(Errno::EINVAL);
    }
    let deadline = deadline(ts)?;
    let (file, q) = queue_fd(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    if len > q.msgsize() as u64 {
        return Err(Errno::EMSGSIZE);
    }
    if !crate::mm::heap::room_for_user_objects(len as usize) {
        return Err(Errno::ENOMEM);
    }
    let mut msg = crate::mm::try_zeroed(len as usize)?;
    copy_from_user(ptr, &mut msg)?;
    if let Some(r) = q.send(msg, prio, file.nonblocking(), deadline)? {
        notify(r);
    }
    Ok(0)
}

fn mq_timedreceive(fd: i32, ptr: u64, len: u64, prio: u64, ts: u64) -> SysResult {
    let deadline = deadline(ts)?;
    let (file, q) = queue_fd(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let cap = usize::try_from(len).unwrap_or(usize::MAX);
    let (msg, p) = q.receive(cap, file.nonblocking(), deadline)?;
    // As Linux, a bad buffer loses the message (it has left the queue).
    if prio != 0 {
        write_user(prio, &p)?;
    }
    copy_to_user(ptr, &msg)?;
    Ok(msg.len())
}

/// The calling process as a registration owner.
fn caller_owner() -> Weak<dyn Any + Send + Sync> {
    let p: Arc<dyn Any + Send + Sync> = task::current_process();
    Arc::downgrade(&p)
}

fn owner_process(w: &Weak<dyn Any + Send + Sync>) -> Option<Arc<Process>> {
    w.upgrade()?
        .downcast::<Process>()
        .ok()
        .filter(|p| !p.is_exiting())
}

/// Sends a fired registration's signal (mq_notify(3)) with `si_code` `SI_MESGQ`, the
/// sender's pid and uid as the registered process sees them and the registered
/// `sigev_value`; `SIGEV_NONE` and signal 0 send nothing, a process that is gone gets
/// nothing. (Linux also skips a process that has exec'd since registering.)
fn notify(r: Registration) {
    let Notify::Signal { signo, value } = r.how else {
        return;
    };
    if signo == 0 {
        return;
    }
    let Some(p) = owner_process(&r.owner) else {
        return;
    };
    let sender = task::current_process();
    let detail = task::signal::SigDetail::from_process(task::signal::SI_MESGQ, &sender, &p, value);
    task::signal::send_to_process_with(&p, signo, Some(detail));
}

fn mq_notify(fd: i32, sevp: u64) -> SysResult {
    let how = if sevp == 0 {
        None
    } else {
        // struct sigevent: sigev_value (8 bytes), sigev_signo, sigev_notify, then a
        // union up to 64 bytes.
        let ev: [u64; 8] = read_user(sevp)?;
        let value = ev[0];
        let signo = ev[1] as u32 as i32;
        let kind = (ev[1] >> 32) as u32 as i32;
        match kind {
            SIGEV_NONE => Some(Notify::None),
            SIGEV_SIGNAL => {
                if !(0..=NSIG).contains(&signo) {
                    return Err(Errno::EINVAL);
                }
                Some(Notify::Signal {
                    signo: signo as u32,
                    value,
                })
            }
            SIGEV_THREAD => {
                // Linux wants a netlink socket in sigev_signo (musl's mq_notify makes
                // one and runs the thread itself): copy the cookie, then the fd must be
                // open (EBADF) and a netlink socket, which no fd is here (ENOTSOCK).
                let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
                copy_from_user(value, &mut cookie)?;
                files().get(signo)?;
                return Err(Errno::ENOTSOCK);
            }
            _ => return Err(Errno::EINVAL),
        }
    };
    let (_, q) = queue_fd(fd)?;
    let owner = caller_owner();
    let req = how.map(|how| Registration {
        owner: owner.clone(),
        pid: env::current_pid(),
        how,
    });
    q.set_notify(req, &owner, |w| owner_process(w).is_some())?;
    Ok(0)
}

fn mq_getsetattr(fd: i32, new: u64, old: u64) -> SysResult {
    let new = if new != 0 {
        let a: MqAttr = read_user(new)?;
        if a[0] & !(O_NONBLOCK as i64) != 0 {
            return Err(Errno::EINVAL);
        }
        Some(a[0] as u32)
    } else {
        None
    };
    let (file, q) = queue_fd(fd)?;
    let cur: MqAttr = [
        (file.flags() & O_NONBLOCK) as i64,
        q.maxmsg() as i64,
        q.msgsize() as i64,
        q.curmsgs() as i64,
        0,
        0,
        0,
        0,
    ];
    if let Some(f) = new {
        file.set_status_flags((file.flags() & !O_NONBLOCK) | f);
    }
    if old != 0 {
        write_user(old, &cur)?;
    }
    Ok(0)
}
