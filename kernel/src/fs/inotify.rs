//! inotify (inotify(7)): an instance is a file whose reads return `struct inotify_event`
//! records for the watches added to it. Watches are keyed by inode (its address, pinned
//! by the watch's reference); tmpfs/ramfs report entries created, deleted and moved in a
//! watched directory, and every file reports open, modify and close to its own watch
//! and to a watch on the directory its path names.

use super::env::{self, Wake};
use super::file::{FileOps, O_ACCMODE, O_NONBLOCK, O_RDONLY, OpenFile, POLLIN};
use super::path;
use super::vfs::{Inode, InodeRef};
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use spin::Mutex;

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
const IN_ALL_EVENTS: u32 = 0xfff;
const IN_Q_OVERFLOW: u32 = 0x4000;
const IN_IGNORED: u32 = 0x8000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
const IN_MASK_CREATE: u32 = 0x1000_0000;
const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
const IN_ONESHOT: u32 = 0x8000_0000;
pub const IN_CLOEXEC: u32 = 0o2000000;
pub const IN_NONBLOCK: u32 = O_NONBLOCK;
/// `FIONREAD`.
const FIONREAD: u32 = 0x541b;
/// `fs.inotify.max_queued_events` and `max_user_watches` (per instance here).
const MAX_QUEUED: usize = 16384;
const MAX_WATCHES: usize = 8192;
/// `sizeof(struct inotify_event)`.
const EVENT_SIZE: usize = 16;

/// One queued event, laid out by [`Event::encode`].
#[derive(Clone, PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: String,
}

impl Event {
    /// Bytes of the record: the header and the name padded with NULs to a multiple of 16.
    fn len(&self) -> usize {
        EVENT_SIZE + padded(&self.name)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let pad = padded(&self.name);
        out.extend_from_slice(&self.wd.to_ne_bytes());
        out.extend_from_slice(&self.mask.to_ne_bytes());
        out.extend_from_slice(&self.cookie.to_ne_bytes());
        out.extend_from_slice(&(pad as u32).to_ne_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.resize(out.len() + pad - self.name.len(), 0);
    }
}

fn padded(name: &str) -> usize {
    if name.is_empty() {
        0
    } else {
        (name.len() + 1).div_ceil(EVENT_SIZE) * EVENT_SIZE
    }
}

struct Watch {
    inode: InodeRef,
    mask: u32,
    /// The canonical path it was added by (children's events match it).
    path: String,
    /// The watch charged to the group of who added it: its path, its place in the
    /// instance and in the registry (`ENOMEM` over the limit).
    _kmem: Charge,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Event>,
    bytes: usize,
    watches: BTreeMap<i32, Watch>,
    next_wd: i32,
    /// The queued events (all but overflow events) charged to the group that made the
    /// instance: an event it cannot take is an overflow event, as Linux queues when it
    /// cannot allocate one.
    kmem: Charge,
}

/// What a queued event takes: its name and two places of the (doubling) queue.
fn event_cost(e: &Event) -> u64 {
    2 * size_of::<Event>() as u64 + kmem::array_cost::<u8>(e.name.capacity())
}

impl State {
    /// Queues `e`, merged with an identical last event, or an overflow event when full.
    fn push(&mut self, e: Event) {
        if self.queue.back() == Some(&e) {
            return;
        }
        let full = self.queue.len() + 1 >= MAX_QUEUED || self.kmem.grow(event_cost(&e)).is_err();
        let e = if full {
            if self.queue.back().is_some_and(|b| b.mask == IN_Q_OVERFLOW) {
                return;
            }
            Event {
                wd: -1,
                mask: IN_Q_OVERFLOW,
                cookie: 0,
                name: String::new(),
            }
        } else {
            e
        };
        if self.queue.try_reserve(1).is_err() {
            if !full {
                self.uncharge(&e);
            }
            return;
        }
        self.bytes += e.len();
        self.queue.push_back(e);
    }

    /// Gives back the charge of `e`, an event leaving the queue.
    fn uncharge(&mut self, e: &Event) {
        if e.mask != IN_Q_OVERFLOW {
            let left = self.kmem.bytes().saturating_sub(event_cost(e));
            let _ = self.kmem.resize(left);
        }
    }
}

/// An inotify instance.
pub struct Inotify {
    state: Mutex<State>,
}

/// A watch as the registry holds it.
struct WatchRef {
    group: Weak<Inotify>,
    wd: i32,
}

/// Watches by inode address; `COUNT` lets file operations skip the lock when there are none.
static REGISTRY: Mutex<BTreeMap<usize, Vec<WatchRef>>> = Mutex::new(BTreeMap::new());
static COUNT: AtomicUsize = AtomicUsize::new(0);
static COOKIE: AtomicU32 = AtomicU32::new(1);
/// Live instances by address, to find the one behind an fd.
static INSTANCES: Mutex<BTreeMap<usize, Weak<Inotify>>> = Mutex::new(BTreeMap::new());

fn key(inode: &dyn Inode) -> usize {
    inode as *const dyn Inode as *const () as usize
}

/// A new instance (`inotify_init1`; `EINVAL` for unknown flags).
pub fn new(flags: u32) -> Result<Arc<OpenFile>, Errno> {
    if flags & !(IN_CLOEXEC | IN_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let i = Arc::new(Inotify {
        state: Mutex::new(State {
            next_wd: 1,
            kmem: Charge::empty(),
            ..State::default()
        }),
    });
    INSTANCES
        .lock()
        .insert(Arc::as_ptr(&i) as usize, Arc::downgrade(&i));
    Ok(OpenFile::new(
        i,
        None,
        String::from("anon_inode:inotify"),
        O_RDONLY | (flags & IN_NONBLOCK),
    ))
}

impl Inotify {
    fn chan(&self) -> usize {
        self as *const Inotify as usize
    }

    /// Adds or updates the watch on `inode` (`inotify_add_watch`); returns its descriptor.
    pub fn add_watch(
        self: &Arc<Self>,
        inode: InodeRef,
        path: &str,
        mask: u32,
    ) -> Result<i32, Errno> {
        if mask & IN_ALL_EVENTS == 0 || (mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0) {
            return Err(Errno::EINVAL);
        }
        if mask & IN_ONLYDIR != 0 && !inode.file_type().eq(&super::vfs::FileType::Directory) {
            return Err(Errno::ENOTDIR);
        }
        let k = key(&*inode);
        let mut reg = REGISTRY.lock();
        let mut st = self.state.lock();
        if let Some((&wd, w)) = st.watches.iter_mut().find(|(_, w)| key(&*w.inode) == k) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            let keep = if mask & IN_MASK_ADD != 0 { w.mask } else { 0 };
            w.mask = keep | (mask & !IN_MASK_ADD);
            return Ok(wd);
        }
        if st.watches.len() >= MAX_WATCHES {
            return Err(Errno::ENOSPC);
        }
        // B-tree nodes about half full (three entries' room), a doubling vector (two).
        let place = 3 * size_of::<(i32, Watch)>() + 2 * size_of::<WatchRef>();
        let charge = Charge::new(kmem::array_cost::<u8>(path.len()) + place as u64)?;
        let mut p = String::new();
        p.try_reserve(path.len()).map_err(|_| Errno::ENOMEM)?;
        p.push_str(path);
        let list = reg.entry(k).or_default();
        list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        let wd = st.next_wd;
        st.next_wd = st.next_wd.checked_add(1).ok_or(Errno::ENOSPC)?;
        list.push(WatchRef {
            group: Arc::downgrade(self),
            wd,
        });
        st.watches.insert(
            wd,
            Watch {
                inode,
                mask: mask & !IN_MASK_ADD,
                path: p,
                _kmem: charge,
            },
        );
        COUNT.fetch_add(1, Ordering::Relaxed);
        Ok(wd)
    }

    /// Removes watch `wd` (`inotify_rm_watch`), queueing `IN_IGNORED`.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        let mut reg = REGISTRY.lock();
        let mut st = self.state.lock();
        let w = st.watches.remove(&wd).ok_or(Errno::EINVAL)?;
        unregister(&mut reg, key(&*w.inode), self, wd);
        st.push(ignored(wd));
        drop(st);
        drop(reg);
        env::wakeup(self.chan());
        Ok(())
    }
}

fn ignored(wd: i32) -> Event {
    Event {
        wd,
        mask: IN_IGNORED,
        cookie: 0,
        name: String::new(),
    }
}

fn unregister(reg: &mut BTreeMap<usize, Vec<WatchRef>>, k: usize, group: *const Inotify, wd: i32) {
    if let Some(list) = reg.get_mut(&k) {
        let before = list.len();
        list.retain(|r| !(r.wd == wd && core::ptr::eq(r.group.as_ptr(), group)));
        COUNT.fetch_sub(before - list.len(), Ordering::Relaxed);
        if list.is_empty() {
            reg.remove(&k);
        }
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        INSTANCES.lock().remove(&(self as *const Inotify as usize));
        let me = self as *const Inotify;
        let watches = core::mem::take(&mut self.state.get_mut().watches);
        let mut reg = REGISTRY.lock();
        for (wd, w) in watches.iter() {
            unregister(&mut reg, key(&*w.inode), me, *wd);
        }
    }
}

/// Delivers `mask` (with `name` and `cookie`) to every watch on the inode at `k` that
/// asks for it; `IN_ONESHOT` watches and, with `gone`, every watch end with `IN_IGNORED`.
fn deliver(k: usize, mask: u32, cookie: u32, name: &str, gone: bool) {
    let targets: Vec<(Arc<Inotify>, i32)> = {
        let reg = REGISTRY.lock();
        let Some(list) = reg.get(&k) else { return };
        list.iter()
            .filter_map(|r| Some((r.group.upgrade()?, r.wd)))
            .collect()
    };
    for (g, wd) in targets {
        let mut reg = REGISTRY.lock();
        let mut st = g.state.lock();
        let Some(w) = st.watches.get(&wd) else {
            continue;
        };
        let wanted = w.mask & mask & IN_ALL_EVENTS != 0;
        let oneshot = w.mask & IN_ONESHOT != 0;
        if wanted {
            let mut n = String::new();
            if n.try_reserve(name.len()).is_ok() {
                n.push_str(name);
                st.push(Event {
                    wd,
                    mask,
                    cookie,
                    name: n,
                });
            }
        }
        if gone || (wanted && oneshot) {
            if let Some(w) = st.watches.remove(&wd) {
                unregister(&mut reg, key(&*w.inode), Arc::as_ptr(&g), wd);
            }
            st.push(ignored(wd));
        }
        drop(st);
        drop(reg);
        env::wakeup(g.chan());
    }
}

/// Watches on directories added by path `dir` (for events on their entries).
fn dir_watch_keys(dir: &str) -> Vec<usize> {
    let reg = REGISTRY.lock();
    let mut keys = Vec::new();
    for (&k, list) in reg.iter() {
        let by_path = list.iter().any(|r| {
            r.group.upgrade().is_some_and(|g| {
                g.state
                    .lock()
                    .watches
                    .get(&r.wd)
                    .is_some_and(|w| w.path == dir)
            })
        });
        if by_path && keys.try_reserve(1).is_ok() {
            keys.push(k);
        }
    }
    keys
}

/// An event on an open file (`IN_OPEN`, `IN_MODIFY`, `IN_CLOSE_*`): to the file's own
/// watches, and with its name to watches on the directory its path names.
///
/// Inline: with no watch anywhere (the common case) it is one load, not a call.
#[inline]
pub fn file_event(file: &OpenFile, mask: u32) {
    if COUNT.load(Ordering::Relaxed) != 0 {
        watched_file_event(file, mask);
    }
}

#[inline(never)]
fn watched_file_event(file: &OpenFile, mask: u32) {
    let Some(inode) = file.inode() else { return };
    let dir = inode.file_type() == super::vfs::FileType::Directory;
    let mask = if dir { mask | IN_ISDIR } else { mask };
    deliver(key(&**inode), mask, 0, "", false);
    let (parent, name) = path::split_last(file.path());
    if name.is_empty() {
        return;
    }
    let parent = if parent.is_empty() { "/" } else { parent };
    for k in dir_watch_keys(parent) {
        if k != key(&**inode) {
            deliver(k, mask, 0, name, false);
        }
    }
}

/// The close of an open file description.
#[inline]
pub fn file_closed(file: &OpenFile) {
    if COUNT.load(Ordering::Relaxed) == 0 || file.is_path_only() {
        return;
    }
    let write = file.flags() & O_ACCMODE != O_RDONLY;
    file_event(
        file,
        if write {
            IN_CLOSE_WRITE
        } else {
            IN_CLOSE_NOWRITE
        },
    );
}

/// Directory `dir` gained entry `name` (`is_dir`: a directory).
pub fn created(dir: &dyn Inode, name: &str, is_dir: bool) {
    if COUNT.load(Ordering::Relaxed) != 0 {
        deliver(key(dir), IN_CREATE | isdir(is_dir), 0, name, false);
    }
}

/// Directory `dir` lost entry `name`, which was `child`; `last`: its last link went.
pub fn deleted(dir: &dyn Inode, name: &str, child: &dyn Inode, is_dir: bool, last: bool) {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    if last {
        deliver(key(child), IN_DELETE_SELF, 0, "", true);
    } else {
        deliver(key(child), IN_ATTRIB, 0, "", false);
    }
    deliver(key(dir), IN_DELETE | isdir(is_dir), 0, name, false);
}

/// `child` moved from `from/old` to `to/new`: one cookie pairs the two events.
pub fn moved(
    from: &dyn Inode,
    old: &str,
    to: &dyn Inode,
    new: &str,
    child: &dyn Inode,
    is_dir: bool,
) {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return;
    }
    let cookie = COOKIE.fetch_add(1, Ordering::Relaxed);
    deliver(key(from), IN_MOVED_FROM | isdir(is_dir), cookie, old, false);
    deliver(key(to), IN_MOVED_TO | isdir(is_dir), cookie, new, false);
    deliver(key(child), IN_MOVE_SELF, 0, "", false);
}

fn isdir(d: bool) -> u32 {
    if d { IN_ISDIR } else { 0 }
}

impl FileOps for Inotify {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            {
                let mut st = self.state.lock();
                if let Some(first) = st.queue.front() {
                    if first.len() > buf.len() {
                        return Err(Errno::EINVAL);
                    }
                    let mut out = Vec::new();
                    out.try_reserve(buf.len().min(st.bytes))
                        .map_err(|_| Errno::ENOMEM)?;
                    while let Some(e) = st.queue.front() {
                        if out.len() + e.len() > buf.len() {
                            break;
                        }
                        e.encode(&mut out);
                        let n = e.len();
                        st.bytes -= n;
                        if let Some(e) = st.queue.pop_front() {
                            st.uncharge(&e);
                        }
                    }
                    buf[..out.len()].copy_from_slice(&out);
                    return Ok(out.len());
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            if env::sleep(self.chan(), None) == Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        match cmd {
            FIONREAD => {
                let n = self.state.lock().bytes as i32;
                env::copy_to_user(arg, &n.to_ne_bytes())?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.chan())
    }

    fn poll(&self) -> u16 {
        if self.state.lock().queue.is_empty() {
            0
        } else {
            POLLIN
        }
    }
}

/// The instance behind `file`, if it is one (`EINVAL` otherwise, as Linux).
pub fn instance(file: &OpenFile) -> Result<Arc<Inotify>, Errno> {
    let k = Arc::as_ptr(file.ops()) as *const () as usize;
    INSTANCES
        .lock()
        .get(&k)
        .and_then(Weak::upgrade)
        .ok_or(Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_padded_to_16_bytes_and_merged_when_repeated() {
        let e = Event {
            wd: 3,
            mask: IN_CREATE,
            cookie: 0,
            name: String::from("abc"),
        };
        assert_eq!(e.len(), 32);
        let mut out = Vec::new();
        e.encode(&mut out);
        assert_eq!(out.len(), 32);
        assert_eq!(&out[12..16], &16u32.to_ne_bytes());
        assert_eq!(&out[16..20], b"abc\0");
        let mut st = State::default();
        st.push(e.clone());
        st.push(e.clone());
        assert_eq!((st.queue.len(), st.bytes), (1, 32));
        let bare = Event {
            name: String::new(),
            ..e
        };
        assert_eq!(bare.len(), 16);
    }
}
