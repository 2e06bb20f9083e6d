//! POSIX message queues (mq_overview(7)): the per-container name space ([`Space`]), the
//! queues themselves ([`Queue`]: messages by priority, blocking send and receive,
//! `mq_notify` registrations) and the rules of `mq_open` (names, attributes, limits).
//!
//! A queue is also the inode the `mqueue` file system shows and the inode of every queue
//! descriptor, so `read(2)` and `poll(2)` on a descriptor and the file system's files are
//! one object. Descriptors hold the queue (`Arc`): after `mq_unlink`, or after its IPC
//! container is gone, a queue lives until its last descriptor is closed, as on Linux.
//! Sleeping and waking go through `crate::fs::env`, so everything here runs in host tests
//! (where a sleep is interrupted at once).
#![deny(unsafe_code)]

use crate::cred::CAP_SYS_RESOURCE;
use crate::errno::Errno;
use crate::fs::env::{self, Wake};
use crate::fs::file::{
    FileOps, O_ACCMODE, O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, OpenFile, POLLIN, POLLOUT, POLLRDNORM,
    POLLWRNORM, SEEK_CUR, SEEK_SET,
};
use crate::fs::vfs::{
    Caller, FileType, Inode, MAY_READ, MAY_WRITE, Metadata, S_IFREG, Timespec, alloc_dev,
};
use crate::plimits::kmem::{self, Charge};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use spin::Mutex;

/// Priorities are `0..MQ_PRIO_MAX`.
pub const MQ_PRIO_MAX: u32 = 32768;
/// Longest queue name (without musl's stripped leading `/`).
pub const NAME_MAX: usize = 255;
/// `/proc/sys/fs/mqueue/msg_max` and `msgsize_max` (Linux's defaults): the ceilings for a
/// caller without `CAP_SYS_RESOURCE`, and the defaults when `mq_open` gets no attributes.
pub const MSG_MAX: i64 = 10;
pub const MSGSIZE_MAX: i64 = 8192;
/// `/proc/sys/fs/mqueue/queues_max`: queues per IPC container without `CAP_SYS_RESOURCE`.
pub const QUEUES_MAX: usize = 256;
/// Linux's `HARD_MSGMAX` and `HARD_MSGSIZEMAX`: the ceilings with `CAP_SYS_RESOURCE`.
pub const HARD_MSGMAX: i64 = 65536;
pub const HARD_MSGSIZEMAX: i64 = 16 * 1024 * 1024;
/// `st_size` of a queue file (Linux's `FILENT_SIZE`).
const FILENT_SIZE: u64 = 80;

/// `sigev_notify` values (`struct sigevent`).
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;

/// Linux's name rules for `mq_open`/`mq_unlink` (the name as musl passes it, without
/// the leading `/`): empty `ENOENT`, `.`, `..` or a `/` inside `EACCES` (the lookup of
/// one path component refuses them), longer than `NAME_MAX` `ENAMETOOLONG`.
pub fn check_name(name: &str) -> Result<(), Errno> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name == "." || name == ".." || name.contains('/') {
        return Err(Errno::EACCES);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// Linux's `mq_attr_ok`: `(maxmsg, msgsize)` of a new queue, `EINVAL` when either is not
/// positive or above the ceiling (`MSG_MAX`/`MSGSIZE_MAX`, or the hard limits when
/// `privileged`, i.e. `CAP_SYS_RESOURCE`).
pub fn check_attr(maxmsg: i64, msgsize: i64, privileged: bool) -> Result<(usize, usize), Errno> {
    if maxmsg <= 0 || msgsize <= 0 {
        return Err(Errno::EINVAL);
    }
    let (max_msg, max_size) = if privileged {
        (HARD_MSGMAX, HARD_MSGSIZEMAX)
    } else {
        (MSG_MAX, MSGSIZE_MAX)
    };
    if maxmsg > max_msg || msgsize > max_size {
        return Err(Errno::EINVAL);
    }
    Ok((maxmsg as usize, msgsize as usize))
}

/// `CAP_SYS_RESOURCE` in the root user container (Linux's `capable()` in the queue limits).
pub fn privileged(caller: &Caller) -> bool {
    caller.user.is_none() && caller.capable(CAP_SYS_RESOURCE)
}

/// Messages by priority, highest first, FIFO within one priority.
#[derive(Default)]
pub struct MsgList {
    /// Each message with its charge (to its sender's plimits group).
    by_prio: BTreeMap<u32, VecDeque<(Vec<u8>, Charge)>>,
    len: usize,
    bytes: usize,
}

impl MsgList {
    pub fn push(&mut self, prio: u32, msg: Vec<u8>, charge: Charge) {
        self.len += 1;
        self.bytes += msg.len();
        self.by_prio
            .entry(prio)
            .or_default()
            .push_back((msg, charge));
    }

    /// The oldest message of the highest priority, with its priority.
    pub fn pop(&mut self) -> Option<(Vec<u8>, u32)> {
        let mut entry = self.by_prio.last_entry()?;
        let prio = *entry.key();
        let (msg, _uncharged) = entry.get_mut().pop_front()?;
        if entry.get().is_empty() {
            entry.remove();
        }
        self.len -= 1;
        self.bytes -= msg.len();
        Some((msg, prio))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of message data queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// How a registered process wants to hear of a message arriving on an empty queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notify {
    /// `SIGEV_NONE`: registered, nothing is sent.
    None,
    /// `SIGEV_SIGNAL` with `sigev_signo` (0: nothing is sent, as Linux) and `sigev_value`.
    Signal { signo: u32, value: u64 },
}

/// An `mq_notify` registration.
#[derive(Clone)]
pub struct Registration {
    /// The registered process (the kernel's `Process`; any object in host tests).
    pub owner: Weak<dyn Any + Send + Sync>,
    /// Its pid as the registering process saw it (`NOTIFY_PID` of the queue file).
    pub pid: u32,
    pub how: Notify,
}

struct State {
    msgs: MsgList,
    notify: Option<Registration>,
    /// Receivers sleeping for a message: a message then goes to them, not to the
    /// registered process (Linux notifies only when nobody waits).
    receivers: usize,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// One message queue.
pub struct Queue {
    me: Weak<Queue>,
    dev: u64,
    ino: u64,
    maxmsg: usize,
    msgsize: usize,
    ctime: Timespec,
    state: Mutex<State>,
    /// The queue count of the space that made it (Linux counts a queue until it is freed).
    live: Arc<AtomicUsize>,
    /// The queue's place in its creator's plimits group (`ipc.mq_limit`), given back
    /// when the queue is freed.
    _plimits: crate::plimits::ipc::MqCharge,
    /// The queue object, to its creator's group.
    _kmem: Charge,
}

impl Queue {
    /// A new queue of `space` (the count is the caller's business).
    fn new(
        space: &Space,
        (plimits, kmem): (crate::plimits::ipc::MqCharge, Charge),
        maxmsg: usize,
        msgsize: usize,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Arc<Queue> {
        static NEXT_INO: AtomicU64 = AtomicU64::new(2);
        Arc::new_cyclic(|me| Queue {
            me: me.clone(),
            dev: space.dev,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            maxmsg,
            msgsize,
            ctime: env::now(),
            state: Mutex::new(State {
                msgs: MsgList::default(),
                notify: None,
                receivers: 0,
                mode: mode & 0o7777,
                uid,
                gid,
            }),
            live: space.live.clone(),
            _plimits: plimits,
            _kmem: kmem,
        })
    }

    fn chan(&self) -> usize {
        self as *const Queue as usize
    }

    pub fn maxmsg(&self) -> usize {
        self.maxmsg
    }

    pub fn msgsize(&self) -> usize {
        self.msgsize
    }

    /// Messages queued now (`mq_curmsgs`).
    pub fn curmsgs(&self) -> usize {
        self.state.lock().msgs.len()
    }

    /// Queues `msg` with `prio`, sleeping for room unless `nonblock` (then `EAGAIN`),
    /// until `deadline` (monotonic ns: `ETIMEDOUT`) or a signal (`EINTR`). Returns the
    /// registration to notify when the message made an empty queue non-empty and no
    /// receiver was waiting (it is removed: a registration fires once).
    pub fn send(
        &self,
        msg: Vec<u8>,
        prio: u32,
        nonblock: bool,
        deadline: Option<u64>,
    ) -> Result<Option<Registration>, Errno> {
        if prio >= MQ_PRIO_MAX {
            return Err(Errno::EINVAL);
        }
        if msg.len() > self.msgsize {
            return Err(Errno::EMSGSIZE);
        }
        // The text and its entry in the list, to the sender's group (`ENOMEM` over
        // its limit).
        let cost = kmem::array_cost::<u8>(msg.capacity())
            .saturating_add(core::mem::size_of::<(Vec<u8>, Charge)>() as u64);
        let mut msg = Some((msg, Charge::new(cost)?));
        loop {
            {
                let mut s = self.state.lock();
                if s.msgs.len() < self.maxmsg {
                    if let Some((m, charge)) = msg.take() {
                        s.msgs.push(prio, m, charge);
                    }
                    let fire = if s.msgs.len() == 1 && s.receivers == 0 {
                        s.notify.take()
                    } else {
                        None
                    };
                    drop(s);
                    env::wakeup(self.chan());
                    return Ok(fire);
                }
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            sleep(self.chan(), deadline)?;
        }
    }

    /// Takes the oldest message of the highest priority; `cap` is the receiver's buffer
    /// size (`EMSGSIZE` when below the queue's message size). Blocks as [`Queue::send`].
    pub fn receive(
        &self,
        cap: usize,
        nonblock: bool,
        deadline: Option<u64>,
    ) -> Result<(Vec<u8>, u32), Errno> {
        if cap < self.msgsize {
            return Err(Errno::EMSGSIZE);
        }
        loop {
            {
                let mut s = self.state.lock();
                if let Some(m) = s.msgs.pop() {
                    drop(s);
                    env::wakeup(self.chan());
                    return Ok(m);
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                s.receivers += 1;
            }
            let slept = sleep(self.chan(), deadline);
            self.state.lock().receivers -= 1;
            slept?;
        }
    }

    /// `mq_notify`: `Some` registers (`EBUSY` while any live registration exists, the
    /// caller's own included), `None` removes the caller's own (`caller` identifies the
    /// process). `alive` says whether a registered process still exists: a registration
    /// of a process that is gone counts as none.
    pub fn set_notify(
        &self,
        req: Option<Registration>,
        caller: &Weak<dyn Any + Send + Sync>,
        alive: impl Fn(&Weak<dyn Any + Send + Sync>) -> bool,
    ) -> Result<(), Errno> {
        let mut s = self.state.lock();
        if s.notify.as_ref().is_some_and(|r| !alive(&r.owner)) {
            s.notify = None;
        }
        match req {
            None => {
                if s.notify
                    .as_ref()
                    .is_some_and(|r| Weak::ptr_eq(&r.owner, caller))
                {
                    s.notify = None;
                }
            }
            Some(r) => {
                if s.notify.is_some() {
                    return Err(Errno::EBUSY);
                }
                s.notify = Some(r);
            }
        }
        Ok(())
    }

    /// The text of the queue's file and of `read(2)` on a descriptor (mq_overview(7)).
    /// QSIZE is the bytes of message data queued, as the manual says (Linux also counts
    /// its per-priority tree nodes).
    pub fn info_text(&self) -> String {
        let s = self.state.lock();
        let (notify, signo, pid) = match &s.notify {
            None => (0, 0, 0),
            Some(r) => match r.how {
                Notify::None => (SIGEV_NONE, 0, r.pid),
                Notify::Signal { signo, .. } => (SIGEV_SIGNAL, signo, r.pid),
            },
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            s.msgs.bytes(),
            notify,
            signo,
            pid
        )
    }

    fn read_text(&self, offset: u64, buf: &mut [u8]) -> usize {
        let text = self.info_text();
        let bytes = text.as_bytes();
        let start = (offset as usize).min(bytes.len());
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        n
    }
}

/// Sleeps on `chan` until woken: `EINTR` for a signal, `ETIMEDOUT` past `deadline`.
fn sleep(chan: usize, deadline: Option<u64>) -> Result<(), Errno> {
    match env::sleep(chan, deadline) {
        Wake::Woken => Ok(()),
        Wake::TimedOut => Err(Errno::ETIMEDOUT),
        Wake::Interrupted => Err(Errno::EINTR),
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Inode for Queue {
    fn metadata(&self) -> Metadata {
        let s = self.state.lock();
        Metadata {
            dev: self.dev,
            ino: self.ino,
            mode: S_IFREG | s.mode,
            nlink: 1,
            uid: s.uid,
            gid: s.gid,
            size: FILENT_SIZE,
            blksize: 4096,
            atime: self.ctime,
            mtime: self.ctime,
            ctime: self.ctime,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.read_text(offset, buf))
    }

    fn open(&self, _flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        let q = self.me.upgrade()?;
        Some(Ok(Arc::new(QueueFile(q))))
    }

    /// `open(O_TRUNC)`/`creat` of a queue file: a queue has no byte size to cut, and
    /// Linux's setattr of an mqueue inode succeeds.
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }

    fn chmod(&self, mode: u32) -> Result<(), Errno> {
        self.state.lock().mode = mode & 0o7777;
        Ok(())
    }

    fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        let mut s = self.state.lock();
        if let Some(u) = uid {
            s.uid = u;
        }
        if let Some(g) = gid {
            s.gid = g;
        }
        Ok(())
    }
}

/// The file object of a queue descriptor (and of an `open(2)` of a queue file): reads
/// give the queue's text, poll says whether a receive or a send would not block.
pub struct QueueFile(Arc<Queue>);

impl FileOps for QueueFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = file.pos().lock();
        let n = self.0.read_text(*pos, buf);
        *pos += n as u64;
        Ok(n)
    }

    /// Queue files have no write operation (Linux: `EINVAL`).
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(self.0.read_text(offset, buf))
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = file.pos().lock();
        let new = match whence {
            SEEK_SET => offset,
            SEEK_CUR => (*pos as i64).checked_add(offset).ok_or(Errno::EOVERFLOW)?,
            _ => return Err(Errno::EINVAL),
        };
        *pos = u64::try_from(new).map_err(|_| Errno::EINVAL)?;
        Ok(*pos)
    }

    fn poll(&self) -> u16 {
        let n = self.0.curmsgs();
        let mut ev = 0;
        if n > 0 {
            ev |= POLLIN | POLLRDNORM;
        }
        if n < self.0.maxmsg {
            ev |= POLLOUT | POLLWRNORM;
        }
        ev
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.0.chan())
    }
}

/// The queue behind a descriptor (`EBADF` for any other file, as Linux).
pub fn queue_of(file: &OpenFile) -> Result<Arc<Queue>, Errno> {
    if file.is_path_only() {
        return Err(Errno::EBADF);
    }
    let inode: &dyn Any = &**file.inode().ok_or(Errno::EBADF)?;
    inode
        .downcast_ref::<Queue>()
        .and_then(|q| q.me.upgrade())
        .ok_or(Errno::EBADF)
}

/// The message queues of one IPC container: names to queues, and the count of queues
/// made here that still exist (unlinked ones held open included).
pub struct Space {
    names: Mutex<BTreeMap<String, Arc<Queue>>>,
    live: Arc<AtomicUsize>,
    /// The device number of the container's `mqueue` file system (every mount of it).
    dev: u64,
}

impl Space {
    /// What a new space allocates beyond itself: its count of live queues.
    pub fn heap_cost() -> u64 {
        crate::plimits::kmem::arc_cost::<AtomicUsize>()
    }
}

impl Default for Space {
    fn default() -> Self {
        Space {
            names: Mutex::new(BTreeMap::new()),
            live: Arc::new(AtomicUsize::new(0)),
            dev: alloc_dev(),
        }
    }
}

/// What `mq_open` asks for beyond the name.
#[derive(Clone, Copy, Debug)]
pub struct OpenRequest {
    /// `open(2)` flags: access mode, `O_CREAT`, `O_EXCL` (others are the descriptor's).
    pub oflag: u32,
    /// Permission bits of a new queue, the umask already applied.
    pub mode: u32,
    /// `(mq_maxmsg, mq_msgsize)` of a new queue; `None`: the defaults.
    pub attr: Option<(i64, i64)>,
}

impl Space {
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// Queues that exist (named or only held open).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// `mq_open`'s lookup and creation (Linux's order of checks): the name, then for an
    /// existing queue `EEXIST` with `O_CREAT|O_EXCL`, `EINVAL` for access mode 3 and
    /// `EACCES` unless the mode grants the access; for a missing one `ENOENT` without
    /// `O_CREAT`, the attributes (`EINVAL`), then the queue count (`ENOSPC`) and the
    /// caller's plimits group's `ipc.mq_limit` (`ENOSPC` too).
    pub fn open(&self, name: &str, req: OpenRequest, caller: &Caller) -> Result<Arc<Queue>, Errno> {
        check_name(name)?;
        let mut names = self.names.lock();
        if let Some(q) = names.get(name) {
            if req.oflag & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
                return Err(Errno::EEXIST);
            }
            let want = match req.oflag & O_ACCMODE {
                O_RDONLY => MAY_READ,
                O_WRONLY => MAY_WRITE,
                O_ACCMODE => return Err(Errno::EINVAL),
                _ => MAY_READ | MAY_WRITE,
            };
            if !caller.permits(&q.metadata(), want) {
                return Err(Errno::EACCES);
            }
            return Ok(q.clone());
        }
        if req.oflag & O_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
        let privileged = privileged(caller);
        let (maxmsg, msgsize) = match req.attr {
            Some((m, s)) => check_attr(m, s, privileged)?,
            None => (MSG_MAX as usize, MSGSIZE_MAX as usize),
        };
        if self.live() >= QUEUES_MAX && !privileged {
            return Err(Errno::ENOSPC);
        }
        let kmem = Charge::arc::<Queue>()?;
        let charge = crate::plimits::ipc::MqCharge::take(&crate::plimits::current_group())?;
        self.live.fetch_add(1, Ordering::Relaxed);
        let q = Queue::new(
            self,
            (charge, kmem),
            maxmsg,
            msgsize,
            req.mode,
            caller.uid,
            caller.gid,
        );
        names.insert(String::from(name), q.clone());
        Ok(q)
    }

    /// `mq_unlink`: removes the name (open descriptors keep the queue). Only the queue's
    /// owner, the directory's (root) or `CAP_FOWNER` may (the mqueue root is sticky):
    /// else `EPERM`, which musl's `mq_unlink` turns into `EACCES`.
    pub fn unlink(&self, name: &str, caller: &Caller) -> Result<(), Errno> {
        check_name(name)?;
        let mut names = self.names.lock();
        let q = names.get(name).ok_or(Errno::ENOENT)?;
        let meta = q.metadata();
        if caller.uid != meta.uid
            && caller.uid != 0
            && !caller.capable_over(crate::cred::CAP_FOWNER, &meta)
        {
            return Err(Errno::EPERM);
        }
        names.remove(name);
        Ok(())
    }

    /// Removes `name` without checks (the file system's unlink: the VFS checked).
    pub fn remove(&self, name: &str) -> Result<(), Errno> {
        self.names
            .lock()
            .remove(name)
            .map(|_| ())
            .ok_or(Errno::ENOENT)
    }

    pub fn lookup(&self, name: &str) -> Option<Arc<Queue>> {
        self.names.lock().get(name).cloned()
    }

    /// The named queues, by name.
    pub fn list(&self) -> Vec<(String, Arc<Queue>)> {
        self.names
            .lock()
            .iter()
            .map(|(n, q)| (n.clone(), q.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::file::O_RDWR;
    use alloc::vec;

    fn create(space: &Space, name: &str, attr: Option<(i64, i64)>) -> Result<Arc<Queue>, Errno> {
        let req = OpenRequest {
            oflag: O_RDWR | O_CREAT,
            mode: 0o600,
            attr,
        };
        space.open(name, req, &Caller::root())
    }

    #[test]
    fn messages_come_out_by_priority_then_in_order() {
        let mut l = MsgList::default();
        for (p, m) in [(1, "a1"), (5, "b5"), (1, "c1"), (5, "d5"), (0, "e0")] {
            l.push(p, m.as_bytes().to_vec(), Charge::none());
        }
        assert_eq!((l.len(), l.bytes()), (5, 10));
        let order: Vec<_> = core::iter::from_fn(|| l.pop())
            .map(|(m, p)| (String::from_utf8(m).expect("utf8"), p))
            .collect();
        let want = [("b5", 5), ("d5", 5), ("a1", 1), ("c1", 1), ("e0", 0)];
        assert_eq!(
            order,
            want.map(|(m, p)| (String::from(m), p)).to_vec(),
            "highest priority first, FIFO within one"
        );
        assert!(l.is_empty());
        assert_eq!(l.bytes(), 0);
    }

    #[test]
    fn names_follow_linux() {
        assert_eq!(check_name(""), Err(Errno::ENOENT));
        assert_eq!(check_name("a/b"), Err(Errno::EACCES));
        assert_eq!(check_name(".."), Err(Errno::EACCES));
        assert_eq!(check_name(&"x".repeat(255)), Ok(()));
        assert_eq!(check_name(&"x".repeat(256)), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn attributes_are_limited_by_privilege() {
        assert_eq!(check_attr(10, 8192, false), Ok((10, 8192)));
        assert_eq!(check_attr(11, 8192, false), Err(Errno::EINVAL));
        assert_eq!(check_attr(10, 8193, false), Err(Errno::EINVAL));
        assert_eq!(
            check_attr(255, 50, true),
            Ok((255, 50)),
            "It_ipc_container_001's queue"
        );
        assert_eq!(check_attr(HARD_MSGMAX + 1, 1, true), Err(Errno::EINVAL));
        assert_eq!(check_attr(1, HARD_MSGSIZEMAX + 1, true), Err(Errno::EINVAL));
        assert_eq!(check_attr(0, 1, true), Err(Errno::EINVAL));
        assert_eq!(check_attr(1, -1, true), Err(Errno::EINVAL));
    }

    #[test]
    fn open_checks_existence_exclusivity_and_permission() {
        let s = Space::default();
        let ro = OpenRequest {
            oflag: O_RDONLY,
            mode: 0,
            attr: None,
        };
        assert_eq!(s.open("q", ro, &Caller::root()).err(), Some(Errno::ENOENT));
        let q = create(&s, "q", None).expect("create");
        assert_eq!((q.maxmsg(), q.msgsize()), (10, 8192), "the defaults");
        let excl = OpenRequest {
            oflag: O_RDWR | O_CREAT | O_EXCL,
            ..ro
        };
        assert_eq!(
            s.open("q", excl, &Caller::root()).err(),
            Some(Errno::EEXIST)
        );
        let again = s.open("q", ro, &Caller::root()).expect("open again");
        assert!(Arc::ptr_eq(&q, &again));
        let other = Caller::plain(1000, 1000);
        assert_eq!(
            s.open("q", ro, &other).err(),
            Some(Errno::EACCES),
            "mode 0600"
        );
        let bad = OpenRequest {
            oflag: O_ACCMODE,
            ..ro
        };
        assert_eq!(s.open("q", bad, &Caller::root()).err(), Some(Errno::EINVAL));
        assert_eq!(s.unlink("q", &other), Err(Errno::EPERM), "sticky directory");
        assert_eq!(s.unlink("q", &Caller::root()), Ok(()));
        assert_eq!(s.unlink("q", &Caller::root()), Err(Errno::ENOENT));
        assert_eq!(s.live(), 1, "an unlinked queue lives while held");
        drop((q, again));
        assert_eq!(s.live(), 0);
    }

    #[test]
    fn unprivileged_callers_are_limited_to_queues_max() {
        let s = Space::default();
        let user = Caller::plain(1000, 1000);
        let req = OpenRequest {
            oflag: O_RDWR | O_CREAT,
            mode: 0o600,
            attr: Some((11, 16)),
        };
        assert_eq!(s.open("big", req, &user).err(), Some(Errno::EINVAL));
        let req = OpenRequest { attr: None, ..req };
        let held: Vec<_> = (0..QUEUES_MAX)
            .map(|i| {
                s.open(&format!("q{i}"), req, &user)
                    .expect("below the limit")
            })
            .collect();
        assert_eq!(s.open("one-more", req, &user).err(), Some(Errno::ENOSPC));
        assert!(create(&s, "root-may", None).is_ok(), "CAP_SYS_RESOURCE");
        assert_eq!(s.list().len(), QUEUES_MAX + 1);
        drop(held);
    }

    #[test]
    fn nonblocking_send_and_receive() {
        let s = Space::default();
        let q = create(&s, "q", Some((2, 4))).expect("create");
        assert_eq!(
            q.send(vec![0; 5], 0, true, None).err(),
            Some(Errno::EMSGSIZE)
        );
        assert_eq!(
            q.send(vec![1], MQ_PRIO_MAX, true, None).err(),
            Some(Errno::EINVAL)
        );
        assert!(q.send(b"lo".to_vec(), 1, true, None).is_ok());
        assert!(q.send(b"hi".to_vec(), 9, true, None).is_ok());
        assert_eq!(
            q.send(b"x".to_vec(), 0, true, None).err(),
            Some(Errno::EAGAIN)
        );
        assert_eq!(
            q.send(b"x".to_vec(), 0, false, None).err(),
            Some(Errno::EINTR),
            "a blocking send (interrupted at once on the host)"
        );
        assert!(
            q.info_text()
                .starts_with("QSIZE:4          NOTIFY:0     SIGNO:0     NOTIFY_PID:0")
        );
        assert_eq!(q.receive(3, true, None).err(), Some(Errno::EMSGSIZE));
        assert_eq!(q.receive(4, true, None), Ok((b"hi".to_vec(), 9)));
        assert_eq!(q.receive(4, true, None), Ok((b"lo".to_vec(), 1)));
        assert_eq!(q.receive(4, true, None).err(), Some(Errno::EAGAIN));
        assert_eq!(q.receive(4, false, None).err(), Some(Errno::EINTR));
        assert_eq!(q.state.lock().receivers, 0, "the receiver left the count");
    }

    #[test]
    fn notification_fires_once_on_empty_to_non_empty() {
        let s = Space::default();
        let q = create(&s, "q", None).expect("create");
        let me: Arc<dyn Any + Send + Sync> = Arc::new(1u8);
        let other: Arc<dyn Any + Send + Sync> = Arc::new(2u8);
        let (me_w, other_w) = (Arc::downgrade(&me), Arc::downgrade(&other));
        let alive = |w: &Weak<dyn Any + Send + Sync>| w.strong_count() > 0;
        let reg = |owner: &Weak<dyn Any + Send + Sync>, signo| Registration {
            owner: owner.clone(),
            pid: 7,
            how: Notify::Signal { signo, value: 42 },
        };
        assert_eq!(q.set_notify(Some(reg(&me_w, 10)), &me_w, alive), Ok(()));
        assert!(
            q.info_text()
                .contains("NOTIFY:0     SIGNO:10    NOTIFY_PID:7 ")
        );
        assert_eq!(
            q.set_notify(Some(reg(&other_w, 12)), &other_w, alive),
            Err(Errno::EBUSY)
        );
        assert_eq!(
            q.set_notify(Some(reg(&me_w, 12)), &me_w, alive),
            Err(Errno::EBUSY),
            "also for the owner"
        );
        assert_eq!(
            q.set_notify(None, &other_w, alive),
            Ok(()),
            "not the owner: no-op"
        );
        let fired = q.send(b"m".to_vec(), 0, true, None).expect("send");
        let fired = fired.expect("the registration fires");
        assert_eq!(
            fired.how,
            Notify::Signal {
                signo: 10,
                value: 42
            }
        );
        assert!(
            q.send(b"n".to_vec(), 0, true, None)
                .expect("send")
                .is_none()
        );
        assert!(
            q.info_text().contains("NOTIFY:0     SIGNO:0 "),
            "removed after firing"
        );
        // Not empty: a new registration does not fire on the next message.
        q.set_notify(Some(reg(&me_w, 10)), &me_w, alive)
            .expect("register");
        assert!(
            q.send(b"o".to_vec(), 0, true, None)
                .expect("send")
                .is_none()
        );
        assert_eq!(q.set_notify(None, &me_w, alive), Ok(()));
        q.set_notify(Some(reg(&me_w, 10)), &me_w, alive)
            .expect("register");
        drop(me);
        assert_eq!(
            q.set_notify(Some(reg(&other_w, 12)), &other_w, alive),
            Ok(()),
            "a gone owner's registration counts as none"
        );
    }

    #[test]
    fn descriptors_read_the_text_and_poll() {
        let s = Space::default();
        let q = create(&s, "q", Some((1, 8))).expect("create");
        let f = OpenFile::new(
            q.open(0).expect("own file").expect("opens"),
            Some(q.clone()),
            "/q".into(),
            O_RDWR,
        );
        assert!(Arc::ptr_eq(&queue_of(&f).expect("a queue fd"), &q));
        assert_eq!(f.poll(), POLLOUT | POLLWRNORM);
        q.send(b"abc".to_vec(), 0, true, None).expect("send");
        assert_eq!(f.poll(), POLLIN | POLLRDNORM);
        let mut buf = [0u8; 128];
        let n = f.read(&mut buf).expect("read");
        assert_eq!(
            core::str::from_utf8(&buf[..n]),
            Ok("QSIZE:3          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n")
        );
        assert_eq!(f.read(&mut buf), Ok(0), "then EOF");
        assert_eq!(f.write(b"x"), Err(Errno::EINVAL));
        assert_eq!(q.metadata().mode, S_IFREG | 0o600);
    }
}
