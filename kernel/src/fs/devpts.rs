//! `devpts`: the file system of pseudo-terminal slaves. Every mount is a new instance
//! with its own numbering (Linux's `newinstance`, the default since 4.7), holding
//! `ptmx` and one node `N` per open master. `/dev/ptmx` outside a devpts mount uses the
//! instance mounted at `pts` next to it, else the kernel's initial instance.

use super::pty::Pty;
use super::ramfs::RamFs;
use super::vfs::{FileSystem, S_IFCHR, makedev};
use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::{Mutex, Once};

/// Most pseudo-terminals per instance (Linux's default `max` is 4096 overall).
pub const MAX_PTYS: u32 = 1024;
/// Major number of the slaves (Linux: 136..143).
pub const PTS_MAJOR: u32 = 136;

pub struct DevPts {
    pub fs: Arc<RamFs>,
    /// Index in the instance -> the pair.
    pub(crate) ptys: Mutex<BTreeMap<u32, Weak<Pty>>>,
}

/// Every instance by its device number. An instance whose file system nobody else
/// holds any more (unmounted) is dropped at the next mount.
static INSTANCES: Mutex<BTreeMap<u64, Arc<DevPts>>> = Mutex::new(BTreeMap::new());
/// Every open pair by its global slave minor (the node's `rdev`).
static SLAVES: Mutex<BTreeMap<u32, Weak<Pty>>> = Mutex::new(BTreeMap::new());
static NEXT_MINOR: Mutex<u32> = Mutex::new(0);

impl DevPts {
    /// A new instance (one per `mount -t devpts`).
    pub fn new() -> Result<Arc<DevPts>, Errno> {
        let fs = RamFs::new("devpts");
        fs.root()
            .create("ptmx", S_IFCHR | 0o666, 0, 0, makedev(5, 2))?;
        let d = Arc::new(DevPts {
            fs,
            ptys: Mutex::new(BTreeMap::new()),
        });
        let mut all = INSTANCES.lock();
        all.retain(|_, i| Arc::strong_count(&i.fs) > 1);
        all.insert(d.fs.dev(), d.clone());
        Ok(d)
    }

    /// The instance whose file system has device number `dev`.
    pub fn by_dev(dev: u64) -> Option<Arc<DevPts>> {
        INSTANCES.lock().get(&dev).cloned()
    }

    /// The kernel's initial instance (for `/dev/ptmx` without a devpts at `/dev/pts`).
    pub fn initial() -> Arc<DevPts> {
        static INIT: Once<Arc<DevPts>> = Once::new();
        INIT.call_once(|| DevPts::new().expect("a fresh devpts has room for ptmx"))
            .clone()
    }

    /// A new pair: the lowest free index, a locked slave node `N` (mode 0620, the
    /// caller's uid and gid).
    pub fn allocate(self: &Arc<Self>) -> Result<Arc<Pty>, Errno> {
        let mut ptys = self.ptys.lock();
        ptys.retain(|_, w| w.strong_count() > 0);
        let index = (0..MAX_PTYS)
            .find(|i| !ptys.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let minor = {
            let mut n = NEXT_MINOR.lock();
            let mut all = SLAVES.lock();
            all.retain(|_, w| w.strong_count() > 0);
            let mut m = *n;
            while all.contains_key(&m) {
                m = (m + 1) % (1 << 20);
            }
            *n = (m + 1) % (1 << 20);
            m
        };
        let pty = Pty::new(index, minor, Arc::downgrade(self))?;
        let c = super::env::caller();
        let name = alloc::format!("{index}");
        self.fs.root().create(
            &name,
            S_IFCHR | 0o620,
            c.uid,
            c.gid,
            makedev(PTS_MAJOR, minor),
        )?;
        ptys.insert(index, Arc::downgrade(&pty));
        SLAVES.lock().insert(minor, Arc::downgrade(&pty));
        Ok(pty)
    }

    /// The master of `index` closed: its node goes away.
    pub fn release(&self, index: u32, minor: u32) {
        let _ = self.fs.root().unlink(&alloc::format!("{index}"));
        self.ptys.lock().remove(&index);
        SLAVES.lock().remove(&minor);
    }
}

/// The pair a slave node's minor names (`None` once its master closed).
pub fn slave(minor: u32) -> Option<Arc<Pty>> {
    SLAVES.lock().get(&minor).and_then(|w| w.upgrade())
}

/// Every open pair.
pub fn all_open() -> Vec<Arc<Pty>> {
    SLAVES.lock().values().filter_map(|w| w.upgrade()).collect()
}

/// Open pairs in all instances (for tests and `/proc`).
pub fn open_count() -> usize {
    let all: Vec<_> = SLAVES.lock().values().cloned().collect();
    all.iter().filter(|w| w.strong_count() > 0).count()
}

/// The instance a `ptmx` node at `loc` (on a file system with device `dev`) opens:
/// its own devpts, else the devpts mounted at `pts` in its directory, else the
/// initial instance.
pub fn instance_for(loc: &super::walk::Loc, dev: u64) -> Arc<DevPts> {
    if let Some(d) = DevPts::by_dev(dev) {
        return d;
    }
    let dir = loc.path.rsplit_once('/').map_or("", |(d, _)| d);
    let pts = alloc::format!("{dir}/pts");
    super::current_context()
        .resolve(&pts, true)
        .ok()
        .and_then(|l| DevPts::by_dev(l.inode.metadata().dev))
        .unwrap_or_else(DevPts::initial)
}
