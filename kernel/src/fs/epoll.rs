//! epoll instances (epoll(7)). An instance holds its interest list: one item per
//! (fd, open file) with the events asked for and the user's data. Each item stays
//! registered on its file's wait channel (`pollwait`): a wakeup of the file marks the
//! item and wakes the instance's own channel, where `epoll_wait` sleeps and where
//! pollers of the epoll fd itself (nested epoll, poll on an epoll fd) register.
//!
//! Level-triggered items are checked on every wait; edge-triggered ones only after
//! their file woke (or after `EPOLL_CTL_ADD`/`MOD`). `EPOLLONESHOT` disables an item
//! once reported, until `EPOLL_CTL_MOD`. Items hold their file weakly: closing the last
//! descriptor of a file removes it from every interest list.

use super::env;
use super::file::*;
use super::pollwait::{self, Registration, Waiter};
use super::vfs::{FileType, Metadata};
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use spin::Mutex;

pub const EPOLL_CTL_ADD: u32 = 1;
pub const EPOLL_CTL_DEL: u32 = 2;
pub const EPOLL_CTL_MOD: u32 = 3;

pub const EPOLLIN: u32 = 0x1;
pub const EPOLLPRI: u32 = 0x2;
pub const EPOLLOUT: u32 = 0x4;
pub const EPOLLERR: u32 = 0x8;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLRDNORM: u32 = 0x40;
pub const EPOLLWRNORM: u32 = 0x100;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;
/// The flag bits (not events).
const FLAGS: u32 = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET;
/// What may come with `EPOLLEXCLUSIVE` (Linux's `EPOLLEXCLUSIVE_OK_BITS`).
const EXCLUSIVE_OK: u32 =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// Longest chain of nested instances (Linux's `EP_MAX_NESTS`).
const MAX_NESTS: usize = 4;
/// `INT_MAX / sizeof(struct epoll_event)`.
pub const EP_MAX_EVENTS: usize = i32::MAX as usize / 12;

/// `struct epoll_event` (packed on x86_64: 12 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

impl EpollEvent {
    pub fn from_bytes(b: &[u8; 12]) -> EpollEvent {
        EpollEvent {
            events: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            data: u64::from_le_bytes(b[4..12].try_into().unwrap_or_default()),
        }
    }

    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.events.to_le_bytes());
        b[4..].copy_from_slice(&self.data.to_le_bytes());
        b
    }
}

struct Item {
    file: Weak<OpenFile>,
    /// Requested events and flags; a fired one-shot item keeps only its flags.
    events: AtomicU32,
    data: AtomicU64,
    /// The file woke since the item was last checked (edge-triggered items).
    pending: AtomicBool,
    /// The instance's channel, woken with the item.
    epoll_chan: usize,
}

impl Waiter for Item {
    fn notify(&self) {
        self.pending.store(true, Ordering::Release);
        env::wakeup(self.epoll_chan);
    }
}

struct Entry {
    item: Arc<Item>,
    _reg: Option<Registration>,
    /// The item charged to the group of who added it ([`item_charge`]).
    _kmem: Charge,
}

/// An item's charge to the caller's group: its `Item`, its place in the interest list
/// (B-tree nodes of 11 entries, 1 KiB blocks, about half full after ascending inserts:
/// three entries' room) and its registration on its file's wait channel
/// ([`pollwait::registration_cost`]) (`ENOMEM` over the limit, as Linux's `epoll_ctl`
/// when it cannot allocate the item).
fn item_charge() -> Result<Charge, Errno> {
    let place = 3 * size_of::<(Key, Entry)>() as u64 + pollwait::registration_cost();
    Charge::new(kmem::arc_cost::<Item>() + place)
}

/// (fd, address of the open file): Linux keys items by both.
type Key = (i32, usize);

pub struct Epoll {
    items: Mutex<BTreeMap<Key, Entry>>,
    /// The last key reported: the next wait starts after it (fair under `maxevents`).
    cursor: Mutex<Option<Key>>,
}

/// Live instances by address, to recognise an epoll fd.
static EPOLLS: Mutex<BTreeMap<usize, Weak<Epoll>>> = Mutex::new(BTreeMap::new());

/// A new epoll instance as an open file (`anon_inode:[eventpoll]`).
pub fn new_epoll() -> Arc<OpenFile> {
    let ep = Arc::new(Epoll {
        items: Mutex::new(BTreeMap::new()),
        cursor: Mutex::new(None),
    });
    EPOLLS
        .lock()
        .insert(Arc::as_ptr(&ep) as usize, Arc::downgrade(&ep));
    OpenFile::new(ep, None, "anon_inode:[eventpoll]".into(), O_RDWR)
}

/// The instance behind `file`, if it is an epoll fd.
pub fn epoll_of(file: &OpenFile) -> Option<Arc<Epoll>> {
    let addr = Arc::as_ptr(file.ops()) as *const () as usize;
    EPOLLS.lock().get(&addr)?.upgrade()
}

fn key(fd: i32, file: &Arc<OpenFile>) -> Key {
    (fd, Arc::as_ptr(file) as usize)
}

/// A file's readiness as epoll events.
fn file_events(file: &OpenFile) -> u32 {
    let ev = file.poll() as u32;
    let mut out = ev;
    if ev & EPOLLIN != 0 {
        out |= EPOLLRDNORM;
    }
    if ev & EPOLLOUT != 0 {
        out |= EPOLLWRNORM;
    }
    out
}

impl Epoll {
    /// The channel `epoll_wait` sleeps on.
    pub fn chan(&self) -> usize {
        self as *const Epoll as usize
    }

    /// Whether this instance watches `target`, directly or through nested instances
    /// (`depth` levels at most; deeper counts as a loop).
    fn reaches(&self, target: &Epoll, depth: usize) -> bool {
        if core::ptr::eq(self, target) || depth > MAX_NESTS {
            return true;
        }
        let inner: Vec<Arc<Epoll>> = self
            .items
            .lock()
            .values()
            .filter_map(|e| e.item.file.upgrade())
            .filter_map(|f| epoll_of(&f))
            .collect();
        inner.iter().any(|e| e.reaches(target, depth + 1))
    }

    /// `epoll_ctl(op, fd, event)` with `file` the open file of `fd`.
    pub fn ctl(&self, op: u32, fd: i32, file: &Arc<OpenFile>, ev: EpollEvent) -> Result<(), Errno> {
        // Regular files and directories cannot be polled (Linux: EPERM); a message
        // queue's file is one that can.
        if let Some(inode) = file.inode() {
            let t = inode.metadata().file_type();
            if (t == FileType::Regular || t == FileType::Directory) && file.wait_chan().is_none() {
                return Err(Errno::EPERM);
            }
        }
        let inner = epoll_of(file);
        if let Some(e) = &inner
            && core::ptr::eq(&**e, self)
        {
            return Err(Errno::EINVAL);
        }
        let k = key(fd, file);
        let events = ev.events | EPOLLERR | EPOLLHUP;
        if ev.events & EPOLLEXCLUSIVE != 0
            && (op == EPOLL_CTL_MOD
                || ev.events & !EXCLUSIVE_OK != 0
                || (op == EPOLL_CTL_ADD && inner.is_some()))
        {
            return Err(Errno::EINVAL);
        }
        match op {
            EPOLL_CTL_ADD => {
                if self.items.lock().contains_key(&k) {
                    return Err(Errno::EEXIST);
                }
                if let Some(e) = &inner
                    && e.reaches(self, 1)
                {
                    return Err(Errno::ELOOP);
                }
                let charge = item_charge()?;
                let item = Arc::new(Item {
                    file: Arc::downgrade(file),
                    events: AtomicU32::new(events),
                    data: AtomicU64::new(ev.data),
                    pending: AtomicBool::new(true),
                    epoll_chan: self.chan(),
                });
                let reg = file
                    .wait_chan()
                    .map(|c| Registration::new(c, item.clone() as Arc<dyn Waiter>))
                    .transpose()?;
                self.items.lock().insert(
                    k,
                    Entry {
                        item,
                        _reg: reg,
                        _kmem: charge,
                    },
                );
            }
            EPOLL_CTL_MOD => {
                let items = self.items.lock();
                let e = items.get(&k).ok_or(Errno::ENOENT)?;
                if e.item.events.load(Ordering::Relaxed) & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                e.item.events.store(events, Ordering::Relaxed);
                e.item.data.store(ev.data, Ordering::Relaxed);
                e.item.pending.store(true, Ordering::Release);
            }
            EPOLL_CTL_DEL => {
                self.items.lock().remove(&k).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        // A waiter re-checks: the new item may be ready now.
        env::wakeup(self.chan());
        Ok(())
    }

    /// Removes the items whose file is closed; returns the live ones, starting after
    /// the cursor.
    fn live_items(&self) -> Vec<(Key, Arc<Item>, Arc<OpenFile>)> {
        let mut items = self.items.lock();
        items.retain(|_, e| e.item.file.strong_count() > 0);
        let cursor = *self.cursor.lock();
        let mut v: Vec<_> = items
            .iter()
            .filter_map(|(k, e)| Some((*k, e.item.clone(), e.item.file.upgrade()?)))
            .collect();
        if let Some(c) = cursor {
            let split = v.iter().position(|(k, _, _)| *k > c).unwrap_or(v.len());
            v.rotate_left(split);
        }
        v
    }

    /// Up to `max` ready events, consuming edges and firing one-shot items.
    pub fn collect(&self, max: usize) -> Vec<EpollEvent> {
        let mut out = Vec::new();
        let mut last = None;
        for (k, item, file) in self.live_items() {
            if out.len() >= max {
                break;
            }
            let want = item.events.load(Ordering::Relaxed);
            if want & !FLAGS == 0 {
                continue;
            }
            if want & EPOLLET != 0 && !item.pending.swap(false, Ordering::AcqRel) {
                continue;
            }
            let ready = file_events(&file) & want & !FLAGS;
            if ready == 0 {
                continue;
            }
            out.push(EpollEvent {
                events: ready,
                data: item.data.load(Ordering::Relaxed),
            });
            if want & EPOLLONESHOT != 0 {
                item.events.store(want & FLAGS, Ordering::Relaxed);
            }
            last = Some(k);
        }
        if last.is_some() {
            *self.cursor.lock() = last;
        }
        out
    }

    /// Whether a wait would report something now (without consuming it).
    fn any_ready(&self) -> bool {
        self.live_items().iter().any(|(_, item, file)| {
            let want = item.events.load(Ordering::Relaxed);
            (want & EPOLLET == 0 || item.pending.load(Ordering::Acquire))
                && file_events(file) & want & !FLAGS != 0
        })
    }

    /// When a waiter must look again without a wakeup: the earliest timer among the
    /// items, or soon when an item's file has no wait channel.
    pub fn next_recheck(&self) -> Option<u64> {
        let now = env::monotonic_ns();
        self.live_items()
            .iter()
            .filter_map(|(_, _, f)| match f.wait_chan() {
                None => Some(now + pollwait::RECHECK_NS),
                Some(_) => f.ready_at(),
            })
            .min()
    }

    /// Number of watched files (tests).
    pub fn len(&self) -> usize {
        self.live_items().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        EPOLLS.lock().remove(&(self as *const Epoll as usize));
    }
}

impl FileOps for Epoll {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Metadata, Errno> {
        Ok(Metadata {
            mode: 0o600,
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        })
    }

    fn poll(&self) -> u16 {
        if self.any_ready() { POLLIN } else { 0 }
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.chan())
    }

    fn ready_at(&self) -> Option<u64> {
        self.next_recheck()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::pipe::new_pipe;

    fn ev(events: u32, data: u64) -> EpollEvent {
        EpollEvent { events, data }
    }

    #[test]
    fn level_triggered_reports_while_ready_edge_triggered_once_per_wakeup() {
        let epf = new_epoll();
        let ep = epoll_of(&epf).expect("an epoll file");
        let (r, w) = new_pipe(0).expect("pipe");
        let (r2, w2) = new_pipe(0).expect("pipe");
        ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 7))
            .expect("add lt");
        ep.ctl(EPOLL_CTL_ADD, 5, &r2, ev(EPOLLIN | EPOLLET, 9))
            .expect("add et");
        assert!(ep.collect(8).is_empty(), "nothing readable");
        w.write(b"x").expect("write");
        w2.write(b"y").expect("write");
        let got = ep.collect(8);
        assert_eq!(got.len(), 2);
        assert!(got.contains(&ev(EPOLLIN, 7)));
        assert!(got.contains(&ev(EPOLLIN, 9)));
        assert_eq!(ep.collect(8), [ev(EPOLLIN, 7)], "edge consumed");
        w2.write(b"z").expect("write");
        assert_eq!(ep.collect(8).len(), 2, "a new edge");
        assert_eq!(
            ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)),
            Err(Errno::EEXIST)
        );
        drop((w2, r2));
    }

    #[test]
    fn oneshot_fires_once_until_modified_and_closing_removes_the_item() {
        let epf = new_epoll();
        let ep = epoll_of(&epf).expect("an epoll file");
        let (r, w) = new_pipe(0).expect("pipe");
        w.write(b"x").expect("write");
        ep.ctl(EPOLL_CTL_ADD, 4, &r, ev(EPOLLIN | EPOLLONESHOT, 1))
            .expect("add");
        assert_eq!(ep.collect(8).len(), 1);
        assert!(ep.collect(8).is_empty(), "disabled after firing");
        ep.ctl(EPOLL_CTL_MOD, 4, &r, ev(EPOLLIN | EPOLLONESHOT, 2))
            .expect("mod");
        assert_eq!(ep.collect(8), [ev(EPOLLIN, 2)]);
        let chan = r.wait_chan().expect("pipes have a channel");
        drop(r);
        assert!(ep.is_empty(), "the closed file left the interest list");
        assert!(!pollwait::is_registered(chan), "and its registration");
        assert_eq!(
            ep.ctl(EPOLL_CTL_DEL, 4, &w, ev(0, 0)),
            Err(Errno::ENOENT),
            "never added under this file"
        );
    }

    #[test]
    fn nesting_an_instance_in_itself_is_refused() {
        let af = new_epoll();
        let bf = new_epoll();
        let a = epoll_of(&af).expect("a");
        let b = epoll_of(&bf).expect("b");
        assert_eq!(
            a.ctl(EPOLL_CTL_ADD, 3, &af, ev(EPOLLIN, 0)),
            Err(Errno::EINVAL)
        );
        a.ctl(EPOLL_CTL_ADD, 4, &bf, ev(EPOLLIN, 0))
            .expect("a watches b");
        assert_eq!(
            b.ctl(EPOLL_CTL_ADD, 3, &af, ev(EPOLLIN, 0)),
            Err(Errno::ELOOP)
        );
        let (r, w) = new_pipe(0).expect("pipe");
        b.ctl(EPOLL_CTL_ADD, 5, &r, ev(EPOLLIN, 0))
            .expect("b watches a pipe");
        assert_eq!(af.poll(), 0);
        w.write(b"x").expect("write");
        assert_eq!(af.poll() & POLLIN, POLLIN, "readiness passes through b");
        assert_eq!(a.collect(4), [ev(EPOLLIN, 0)]);
    }
}
