//! The mount table: which file system instance is mounted at which canonical path.
//! One table per mount tree: the boot tree belongs to the root mount container, and
//! each new mount container gets a copy ([`MountTable::copy`]).

use super::path;
use super::vfs::{FileSystem, InodeRef};
use super::walk::Loc;
use crate::errno::Errno;
use alloc::string::{String, ToString};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};
use hashbrown::{HashMap, HashSet};
use spin::Mutex;

mod charge;
mod dentry;
mod detached;
mod list;
use crate::plimits::kmem::Charge;
pub use detached::DetachedTree;
use list::MountList;

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_NOATIME: u64 = 1 << 10;
pub const MS_NODIRATIME: u64 = 1 << 11;
pub const MS_STRICTATIME: u64 = 1 << 24;
pub const MS_UNBINDABLE: u64 = 1 << 17;
pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_SLAVE: u64 = 1 << 19;
pub const MS_SHARED: u64 = 1 << 20;

/// A mount's propagation (mount_namespaces(7)): its peer group (0: not shared), the peer
/// group it receives from (0: not a slave), and whether it is unbindable.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Prop {
    pub shared: u32,
    pub master: u32,
    pub unbindable: bool,
}

/// About the heap bytes one mount takes (the `Mount` in its `Arc`, its two paths): a
/// copy or bind the heap cannot hold gives `ENOMEM` before anything is built.
const MOUNT_BYTES: usize = 320;

/// Whether a tree of `len` mounts may take `add` more: `ENOSPC` past
/// `/proc/sys/fs/mount-max`
/// (Linux's `count_mounts`), `ENOMEM` when the heap has no room for them.
fn room(len: usize, add: usize) -> Result<(), Errno> {
    if len.saturating_add(add) as u64 > super::sysctl::MOUNT_MAX.load(Ordering::Relaxed) {
        return Err(Errno::ENOSPC);
    }
    if !crate::mm::heap::room_for_user_objects(add.saturating_mul(MOUNT_BYTES)) {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Peer group ids are global, as Linux's.
static NEXT_GROUP: AtomicU32 = AtomicU32::new(1);

fn new_group() -> u32 {
    NEXT_GROUP.fetch_add(1, Ordering::Relaxed)
}

/// Every mount table, for propagation across containers.
static TABLES: Mutex<Vec<Weak<MountTable>>> = Mutex::new(Vec::new());

/// Dead entries are pruned only when the list is full, leaving it at most half full: a
/// creation costs the same with 10,000 mount containers alive as with one.
fn register(t: &Arc<MountTable>) {
    let mut tables = TABLES.lock();
    if tables.len() == tables.capacity() {
        tables.retain(|w| w.strong_count() > 0);
        let live = tables.len();
        // On failure the push below grows the list as before.
        let _ = tables.try_reserve(live.max(4));
    }
    tables.push(Arc::downgrade(t));
}

fn all_tables() -> Vec<Arc<MountTable>> {
    TABLES.lock().iter().filter_map(Weak::upgrade).collect()
}

pub struct Mount {
    pub id: u32,
    /// Canonical path of the mount point.
    pub path: String,
    pub fs: Arc<dyn FileSystem>,
    /// The `source` argument of `mount(2)` (`proc`, `tmpfs`, `none`).
    pub source: String,
    pub flags: u64,
    /// The directory of `fs` shown at the mount point (its root, or a directory inside
    /// it for a bind mount) and that directory's path inside `fs`.
    pub root: InodeRef,
    pub root_path: String,
    pub prop: Prop,
    /// What it costs its maker's group; shared by its re-pathed and re-flagged forms.
    charge: Arc<Charge>,
}

impl Mount {
    pub fn root(&self) -> InodeRef {
        self.root.clone()
    }

    /// The same mount (same id, file system, root) at another mount point or with
    /// other flags.
    fn with(&self, path: &str, flags: u64) -> Arc<Mount> {
        self.with_prop(path, flags, self.prop)
    }

    fn with_prop(&self, path: &str, flags: u64, prop: Prop) -> Arc<Mount> {
        Arc::new(Mount {
            id: self.id,
            path: path.to_string(),
            fs: self.fs.clone(),
            source: self.source.clone(),
            flags,
            root: self.root.clone(),
            root_path: self.root_path.clone(),
            prop,
            charge: self.charge.clone(),
        })
    }

    /// A new mount (new id) of the same directory at `path` with propagation `prop`,
    /// charged to the caller's group (`ENOMEM` over its limit).
    fn copy_at(&self, path: &str, prop: Prop) -> Result<Arc<Mount>, Errno> {
        Ok(Arc::new(Mount {
            id: new_id(),
            path: path.to_string(),
            fs: self.fs.clone(),
            source: self.source.clone(),
            flags: self.flags,
            root: self.root.clone(),
            root_path: self.root_path.clone(),
            prop,
            charge: charge::charge_mount(path, &self.source, &self.root_path)?,
        }))
    }

    /// Where canonical `p` (inside this mount's tree) shows in `other`, a mount of the
    /// same file system (`None` when `other` does not show that directory).
    fn path_in(&self, p: &str, other: &Mount) -> Option<String> {
        let rel = path::strip_root(p, &self.path)?;
        let in_fs = path::join_under(&self.root_path, rel);
        let r2 = path::strip_root(&in_fs, &other.root_path)?;
        Some(path::join_under(&other.path, r2))
    }

    /// The propagation a bind of this mount gets: a peer of a shared one, a slave of a
    /// slave's master.
    fn bind_prop(&self) -> Prop {
        Prop {
            shared: self.prop.shared,
            master: self.prop.master,
            unbindable: false,
        }
    }
}

/// Of `mounts` (in mount order), the one whose tree holds canonical `path`: the deepest
/// mount point above it, of several at one point the last.
fn holder<'a>(mounts: impl Iterator<Item = &'a Arc<Mount>>, path: &str) -> Option<Arc<Mount>> {
    let mut best: Option<&Arc<Mount>> = None;
    for m in mounts {
        if path::is_within(path, &m.path) && best.is_none_or(|b| m.path.len() >= b.path.len()) {
            best = Some(m);
        }
    }
    best.cloned()
}

/// Whether `mounts[idx]` is the tree's own root: the first mount at `/`, which no umount
/// removes (a mount stacked on it later can go: fuzz seed 21).
fn is_tree_root(mounts: &[Arc<Mount>], idx: usize) -> bool {
    mounts[idx].path == "/" && !mounts[..idx].iter().any(|m| m.path == "/")
}

/// A mount that receives propagation, in its table.
struct Receiver {
    table: Arc<MountTable>,
    mount: Arc<Mount>,
    /// Reached through a master link: receives without sending back.
    slave: bool,
}

pub struct MountTable {
    /// In mount order; of several mounts at one path the last one is visible.
    mounts: MountList,
    /// The table object, charged to the group that made it (its mounts hold their own).
    _charge: Charge,
}

/// Mount ids are global, as Linux's (a copied tree gets new ones).
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

fn new_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl MountTable {
    /// A table with `root_fs` mounted at `/`.
    pub fn new(root_fs: Arc<dyn FileSystem>, source: &str) -> Arc<MountTable> {
        let t = Arc::new(MountTable {
            mounts: MountList::new(Vec::new()),
            _charge: Charge::none(),
        });
        t.push("/", root_fs, source, 0)
            .expect("the boot tables charge the root group, below its limit");
        register(&t);
        t
    }

    /// A new table with the same mounts of the same file system instances (new mount
    /// ids): later mounts and unmounts in one never show in the other.
    /// The table and its mounts are charged to the caller's group: `ENOMEM` over its
    /// limit, with nothing made.
    pub fn copy(&self) -> Result<Arc<MountTable>, Errno> {
        let table_charge = charge::charge_table()?;
        let src = self.mounts.read();
        room(0, src.len())?;
        let mut mounts = Vec::new();
        mounts
            .try_reserve_exact(src.len())
            .map_err(|_| Errno::ENOMEM)?;
        for m in src.iter() {
            mounts.push(Arc::new(Mount {
                id: new_id(),
                path: m.path.clone(),
                fs: m.fs.clone(),
                source: m.source.clone(),
                flags: m.flags,
                root: m.root.clone(),
                root_path: m.root_path.clone(),
                prop: m.prop,
                charge: charge::charge_mount(&m.path, &m.source, &m.root_path)?,
            }));
        }
        drop(src);
        let t = Arc::new(MountTable {
            mounts: MountList::new(mounts),
            _charge: table_charge,
        });
        register(&t);
        Ok(t)
    }

    /// How many mounts the tree holds.
    fn len(&self) -> usize {
        self.mounts.read().len()
    }

    /// Whether this tree can take `own` new mounts and, when `parent` (where a tree of
    /// `count` mounts arrives) is shared, every receiving tree its `count` copies
    /// (Linux's `count_mounts` on each namespace).
    fn room_with_propagation(
        &self,
        parent: Option<&Arc<Mount>>,
        own: usize,
        count: usize,
    ) -> Result<(), Errno> {
        room(self.len(), own)?;
        let Some(parent) = parent.filter(|p| p.prop.shared != 0) else {
            return Ok(());
        };
        let mut per_table: Vec<(Arc<MountTable>, usize)> = Vec::new();
        for r in Self::receivers(parent.prop.shared) {
            if Arc::ptr_eq(&r.mount, parent) {
                continue;
            }
            match per_table.iter_mut().find(|(t, _)| Arc::ptr_eq(t, &r.table)) {
                Some((_, n)) => *n = n.saturating_add(count),
                None => per_table.push((r.table.clone(), count)),
            }
        }
        for (t, n) in &per_table {
            let own = if core::ptr::eq(Arc::as_ptr(t), self) {
                own
            } else {
                0
            };
            room(t.len().saturating_add(own), *n)?;
        }
        Ok(())
    }

    /// Mounts `fs` at `path`, charged to the caller's group: its charge, or `ENOMEM`.
    fn push(
        &self,
        path: &str,
        fs: Arc<dyn FileSystem>,
        source: &str,
        flags: u64,
    ) -> Result<Arc<Charge>, Errno> {
        let charge = charge::charge_mount(path, source, "/")?;
        self.mounts
            .write()
            .try_reserve(1)
            .map_err(|_| Errno::ENOMEM)?;
        let id = new_id();
        let m = Mount {
            id,
            path: path.to_string(),
            root: fs.root(),
            root_path: "/".to_string(),
            fs,
            source: source.to_string(),
            flags,
            prop: Prop::default(),
            charge: charge.clone(),
        };
        self.mounts.write().push(Arc::new(m));
        Ok(charge)
    }

    /// The root of the tree.
    pub fn root(&self) -> Loc {
        let inode = self
            .mount_at("/")
            .map(|m| m.root())
            .expect("a mount table always has a root mount");
        Loc {
            path: "/".to_string(),
            inode,
        }
    }

    /// Mounts `fs` at canonical `path` (the caller has checked it is a directory).
    pub fn mount(
        &self,
        path: &str,
        fs: Arc<dyn FileSystem>,
        source: &str,
        flags: u64,
    ) -> Result<(), Errno> {
        if !path.starts_with('/') {
            return Err(Errno::EINVAL);
        }
        let parent = self.mount_of(path);
        self.room_with_propagation(parent.as_ref(), 1, 1)?;
        let made = self.push(path, fs, source, flags)?;
        if let Some(parent) = parent
            && let Err(e) = self.propagate_mount(&parent, path, 1)
        {
            self.undo(&[made], Vec::new());
            return Err(e);
        }
        Ok(())
    }

    /// The mounts that receive what happens under a mount of peer group `group`, each
    /// with its table and how it receives: the group's peers as peers, then (recursively)
    /// its slaves and their peers as slaves. Each mount appears once.
    fn receivers(group: u32) -> Vec<Receiver> {
        let tables = all_tables();
        let mut out: Vec<Receiver> = Vec::new();
        // Mount ids already in `out` and groups already queued: sets, as a tree copied
        // by recursive binds can have tens of thousands of receivers.
        let mut taken: HashSet<u32> = HashSet::new();
        let mut todo = alloc::vec![(group, false)];
        let mut seen: HashSet<u32> = HashSet::new();
        seen.insert(group);
        while let Some((g, slave)) = todo.pop() {
            for t in &tables {
                for m in t.mounts.read().iter() {
                    let hit = m.prop.shared == g || m.prop.master == g;
                    if !hit || !taken.insert(m.id) {
                        continue;
                    }
                    let slave = slave || m.prop.shared != g;
                    out.push(Receiver {
                        table: t.clone(),
                        mount: m.clone(),
                        slave,
                    });
                    if m.prop.shared != 0 && seen.insert(m.prop.shared) {
                        todo.push((m.prop.shared, slave));
                    }
                }
            }
        }
        out
    }

    /// After the last `count` mounts were attached (a tree whose top is at canonical
    /// `path`, under `parent`): when `parent` is shared, every mount of the tree joins a
    /// peer group (its own if it had none) and a copy of the tree is attached at the
    /// same place under every receiver of `parent`'s group: peers under peers; under a
    /// slave, slaves of the new groups, which are also peers of one another when the
    /// slave is itself shared (mount_namespaces(7)). The copies are charged to the
    /// caller's group; when one cannot be (`ENOMEM`), no copy is attached anywhere and
    /// the caller takes its own new mounts back out ([`MountTable::undo`]).
    fn propagate_mount(&self, parent: &Arc<Mount>, path: &str, count: usize) -> Result<(), Errno> {
        if parent.prop.shared == 0 || count == 0 {
            return Ok(());
        }
        let tree: Vec<Arc<Mount>> = {
            let mut mounts = self.mounts.write();
            let start = mounts.len().saturating_sub(count);
            for m in mounts[start..].iter_mut() {
                if m.prop.shared == 0 {
                    let prop = Prop {
                        shared: new_group(),
                        ..m.prop
                    };
                    *m = m.with_prop(&m.path, m.flags, prop);
                }
            }
            mounts[start..].to_vec()
        };
        // For shared slaves: the groups their copies form, one per (receiving group, mount).
        let mut slave_groups: HashMap<(u32, u32), u32> = HashMap::new();
        let mut planned: Vec<(Arc<MountTable>, Vec<Arc<Mount>>)> = Vec::new();
        for r in Self::receivers(parent.prop.shared) {
            if Arc::ptr_eq(&r.mount, parent) {
                continue;
            }
            let Some(top) = parent.path_in(path, &r.mount) else {
                continue;
            };
            let mut copies = Vec::new();
            for n in &tree {
                let Some(rest) = path::strip_root(&n.path, path) else {
                    continue;
                };
                let prop = if !r.slave {
                    Prop {
                        shared: n.prop.shared,
                        master: 0,
                        unbindable: false,
                    }
                } else if r.mount.prop.shared != 0 {
                    let key = (r.mount.prop.shared, n.prop.shared);
                    let g = *slave_groups.entry(key).or_insert_with(new_group);
                    Prop {
                        shared: g,
                        master: n.prop.shared,
                        unbindable: false,
                    }
                } else {
                    Prop {
                        shared: 0,
                        master: n.prop.shared,
                        unbindable: false,
                    }
                };
                copies.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                copies.push(n.copy_at(&path::join_under(&top, rest), prop)?);
            }
            planned.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            planned.push((r.table, copies));
        }
        for (t, copies) in &planned {
            t.mounts
                .write()
                .try_reserve(copies.len())
                .map_err(|_| Errno::ENOMEM)?;
        }
        for (t, copies) in planned {
            t.mounts.write().extend(copies);
        }
        Ok(())
    }

    /// The copies at the receivers of what a umount of `gone` at canonical `path` would
    /// remove: each table with the index there (the top mount at the translated path, of
    /// the same file system), and whether something is mounted below that copy.
    pub fn propagated_copies(
        &self,
        gone: &Mount,
        path: &str,
    ) -> Vec<(Arc<MountTable>, String, bool)> {
        // The mount holding `path` once `gone` is off it.
        let parent = holder(self.mounts.read().iter().filter(|m| m.id != gone.id), path);
        let Some(parent) = parent else {
            return Vec::new();
        };
        if parent.prop.shared == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for r in Self::receivers(parent.prop.shared) {
            if Arc::ptr_eq(&r.mount, &parent) {
                continue;
            }
            let Some(p) = parent.path_in(path, &r.mount) else {
                continue;
            };
            let mounts = r.table.mounts.read();
            if let Some(idx) = mounts.iter().rposition(|x| x.path == p)
                && mounts[idx].fs.dev() == gone.fs.dev()
                && !is_tree_root(&mounts, idx)
            {
                let below = mounts[idx + 1..]
                    .iter()
                    .any(|x| path::is_within(&x.path, &p));
                drop(mounts);
                out.push((r.table.clone(), p, below));
            }
        }
        out
    }

    /// After the mount `gone` at canonical `path` was removed (by umount or detach): when
    /// the mount now holding `path` (its parent) is shared, the copies of `gone` at the
    /// receivers go too, except a copy with mounts below it, which stays (Linux's
    /// `__propagate_umount`).
    fn propagate_umount(&self, gone: &Mount, path: &str) {
        for (t, p, below) in self.propagated_copies(gone, path) {
            if below {
                continue;
            }
            let mut mounts = t.mounts.write();
            if let Some(idx) = mounts.iter().rposition(|x| x.path == p) {
                mounts.remove(idx);
            }
        }
    }

    /// `MS_SHARED`, `MS_PRIVATE`, `MS_SLAVE` or `MS_UNBINDABLE` (`kind`) for the mount
    /// at canonical `path` and, with `rec`, every mount below it.
    pub fn set_propagation(&self, path: &str, kind: u64, rec: bool) -> Result<(), Errno> {
        let mut mounts = self.mounts.write();
        let top = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        for i in 0..mounts.len() {
            let m = &mounts[i];
            let hit = i == top
                || (rec && i > 0 && path::is_within(&m.path, path) && m.path != path)
                || (rec && path == "/");
            if !hit {
                continue;
            }
            let p = m.prop;
            let prop = match kind {
                MS_SHARED => Prop {
                    shared: if p.shared != 0 { p.shared } else { new_group() },
                    master: p.master,
                    unbindable: false,
                },
                MS_SLAVE => Prop {
                    shared: 0,
                    master: if p.shared != 0 { p.shared } else { p.master },
                    unbindable: false,
                },
                MS_UNBINDABLE => Prop {
                    shared: 0,
                    master: 0,
                    unbindable: true,
                },
                _ => Prop::default(),
            };
            mounts[i] = m.with_prop(&m.path, m.flags, prop);
        }
        Ok(())
    }

    /// Removes the visible mount at canonical `path`: `EINVAL` if nothing is mounted
    /// there, `EBUSY` for the tree's root (a mount stacked on it can go) or when
    /// something is mounted below it.
    pub fn umount(&self, path: &str) -> Result<Arc<Mount>, Errno> {
        let mounts = self.mounts.read();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        if is_tree_root(&mounts, idx) {
            return Err(Errno::EBUSY);
        }
        let busy = mounts[idx + 1..]
            .iter()
            .any(|m| path::is_within(&m.path, path));
        if busy {
            return Err(Errno::EBUSY);
        }
        drop(mounts);
        let mut mounts = self.mounts.write();
        let gone = mounts.remove(idx);
        drop(mounts);
        self.propagate_umount(&gone, path);
        Ok(gone)
    }

    /// The visible mount whose mount point is exactly `path`. Inline: a walk asks at
    /// every step, and nearly always the lengths of the mount points answer no.
    #[inline]
    pub fn mount_at(&self, path: &str) -> Option<Arc<Mount>> {
        self.mount_at_bytes(path.as_bytes())
    }

    /// [`mount_at`](Self::mount_at) for a path held as bytes (the walk's).
    #[inline]
    pub fn mount_at_bytes(&self, path: &[u8]) -> Option<Arc<Mount>> {
        if !self.mounts.may_hold(path.len()) {
            return None;
        }
        self.search_mount_at(path)
    }

    #[inline(never)]
    fn search_mount_at(&self, path: &[u8]) -> Option<Arc<Mount>> {
        self.mounts
            .read()
            .iter()
            .rev()
            .find(|m| path::same(m.path.as_bytes(), path))
            .cloned()
    }

    /// The visible mount whose tree holds canonical `path` (the deepest mount point
    /// above it; of several at one point the last).
    pub fn mount_of(&self, path: &str) -> Option<Arc<Mount>> {
        holder(self.mounts.read().iter(), path)
    }

    /// Whether `path` lies on a read-only mount.
    pub fn read_only(&self, path: &str) -> bool {
        self.has_flag(path, MS_RDONLY)
    }

    /// Whether the mount holding `path` has per-mount flag `flag` (`MS_NOEXEC`, ...).
    pub fn has_flag(&self, path: &str, flag: u64) -> bool {
        self.mount_of(path).is_some_and(|m| m.flags & flag != 0)
    }

    /// `MS_REMOUNT`: new per-mount flags for the visible mount at `path` (`EINVAL` if
    /// nothing is mounted there).
    pub fn remount(&self, path: &str, flags: u64) -> Result<(), Errno> {
        let mut mounts = self.mounts.write();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        mounts[idx] = mounts[idx].with(&mounts[idx].path, flags);
        Ok(())
    }

    /// `MS_BIND`: shows the directory at canonical `src` (location `src_dir`) also at
    /// canonical `path`, as a new mount of the same file system whose root is that
    /// directory. With `rec` (`MS_REC`) the mounts below `src` are bound below `path`
    /// too. `EINVAL` when `src` is in no mount.
    pub fn bind(
        &self,
        src: &str,
        src_dir: InodeRef,
        path: &str,
        flags: u64,
        rec: bool,
    ) -> Result<(), Errno> {
        let parent = self.mount_of(path);
        let copies = self.bind_copies(src, src_dir, path, flags, rec)?;
        let count = copies.len();
        self.room_with_propagation(parent.as_ref(), count, count)?;
        let made = charge::charges_of(&copies)?;
        {
            let mut mounts = self.mounts.write();
            mounts.try_reserve(count).map_err(|_| Errno::ENOMEM)?;
            mounts.extend(copies);
        }
        if let Some(parent) = parent
            && let Err(e) = self.propagate_mount(&parent, path, count)
        {
            self.undo(&made, Vec::new());
            return Err(e);
        }
        Ok(())
    }

    /// The new mounts (new ids) a bind of canonical `src` (directory `src_dir`) at
    /// canonical `path` makes, the top first, with `rec` those below too (unbindable
    /// ones left out). `EINVAL` when `src` is in no mount or its mount is unbindable;
    /// `ENOSPC`/`ENOMEM` when `path`'s tree could not take them on its own.
    fn bind_copies(
        &self,
        src: &str,
        src_dir: InodeRef,
        path: &str,
        flags: u64,
        rec: bool,
    ) -> Result<Vec<Arc<Mount>>, Errno> {
        let from = self.mount_of(src).ok_or(Errno::EINVAL)?;
        if from.prop.unbindable {
            return Err(Errno::EINVAL);
        }
        let mounts = self.mounts.read();
        // Mounts on `src` itself are not copied: the top one shows the visible mount.
        let below = |m: &&Arc<Mount>| {
            rec && m.path != src && !m.prop.unbindable && path::strip_root(&m.path, src).is_some()
        };
        let count = 1 + mounts.iter().filter(below).count();
        room(0, count)?;
        let mut copies = Vec::new();
        copies.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        let root_path = path::join_under(
            &from.root_path,
            path::strip_root(src, &from.path).unwrap_or("/"),
        );
        copies.push(Arc::new(Mount {
            id: new_id(),
            path: path.to_string(),
            fs: from.fs.clone(),
            source: from.source.clone(),
            flags,
            root: src_dir,
            charge: charge::charge_mount(path, &from.source, &root_path)?,
            root_path,
            prop: from.bind_prop(),
        }));
        for m in mounts.iter().filter(below) {
            let rest = path::strip_root(&m.path, src).unwrap_or("/");
            let at = path::join_under(path, rest);
            copies.push(Arc::new(Mount {
                id: new_id(),
                fs: m.fs.clone(),
                source: m.source.clone(),
                flags: m.flags,
                root: m.root.clone(),
                root_path: m.root_path.clone(),
                prop: m.bind_prop(),
                charge: charge::charge_mount(&at, &m.source, &m.root_path)?,
                path: at,
            }));
        }
        Ok(copies)
    }

    /// `MS_MOVE`: moves the visible mount at canonical `from` and every mount below it
    /// to canonical `to` (where it stacks on what is there). `EINVAL` when nothing is
    /// mounted at `from`, for the root, when `from`'s parent mount is shared, or for an
    /// unbindable mount going under a shared one; `ELOOP` when `to` is inside `from`.
    pub fn move_mount(&self, from: &str, to: &str) -> Result<(), Errno> {
        if from == "/" {
            return Err(Errno::EINVAL);
        }
        let moving = {
            let mounts = self.mounts.read();
            let idx = mounts
                .iter()
                .rposition(|m| m.path == from)
                .ok_or(Errno::EINVAL)?;
            1 + mounts[idx + 1..]
                .iter()
                .filter(|m| path::is_within(&m.path, from))
                .count()
        };
        // The moved mounts leave this tree as they arrive: only their copies are new.
        let new_parent = self.mount_of(to);
        self.room_with_propagation(new_parent.as_ref(), 0, moving)?;
        let mut mounts = self.mounts.write();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == from)
            .ok_or(Errno::EINVAL)?;
        if path::is_within(to, from) {
            return Err(Errno::ELOOP);
        }
        let old_parent = holder(mounts[..idx].iter(), from);
        if old_parent.is_some_and(|p| p.prop.shared != 0) {
            return Err(Errno::EINVAL);
        }
        let new_parent = holder(mounts.iter(), to);
        if mounts[idx].prop.unbindable && new_parent.as_ref().is_some_and(|p| p.prop.shared != 0) {
            return Err(Errno::EINVAL);
        }
        let count = 1 + mounts[idx + 1..]
            .iter()
            .filter(|m| path::is_within(&m.path, from))
            .count();
        // The moved mounts keep their charges; `taken` (each original at its index) puts
        // them back if the propagation cannot be charged.
        let (mut moved, mut taken, mut made) = (Vec::new(), Vec::new(), Vec::new());
        moved.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        taken.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        made.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        let mut i = 0;
        mounts.retain(|m| {
            let take = i == idx || (i > idx && path::is_within(&m.path, from));
            if take {
                let rest = path::strip_root(&m.path, from).unwrap_or("/");
                moved.push(m.with(&path::join_under(to, rest), m.flags));
                taken.push((i, m.clone()));
                made.push(m.charge.clone());
            }
            i += 1;
            !take
        });
        mounts.extend(moved);
        drop(mounts);
        if let Some(parent) = new_parent
            && let Err(e) = self.propagate_mount(&parent, to, count)
        {
            self.undo(&made, taken);
            return Err(e);
        }
        Ok(())
    }

    /// The directory at canonical `from` was renamed to `to`: the mounts on it and below
    /// it follow it in every table, hidden ones too (see `dentry.rs`; fuzz seed 37).
    pub fn follow_rename(&self, from: &str, to: &str) {
        if let (Some(f), Some(t)) = (self.dentry(from), self.dentry(to)) {
            Self::follow_rename_of(&f, &t);
        }
    }

    /// The directory at canonical `path` was removed (allowed where it is not a mount
    /// point of the remover's table): the mounts on it in every table are detached, as
    /// Linux's `detach_mounts` (fuzz seed 37).
    pub fn detach_removed(&self, path: &str) {
        if let Some(d) = self.dentry(path) {
            Self::detach_removed_dentry(&d);
        }
    }

    /// `MNT_DETACH`: removes the visible mount at canonical `path` and every mount
    /// below it now; open files and directories in them keep working. `EINVAL` if
    /// nothing is mounted there, `EBUSY` for the tree's root (a mount stacked on it can
    /// go, with every mount made after it).
    pub fn detach(&self, path: &str) -> Result<(), Errno> {
        let mut mounts = self.mounts.write();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        if is_tree_root(&mounts, idx) {
            return Err(Errno::EBUSY);
        }
        let gone = mounts[idx].clone();
        let mut i = 0;
        mounts.retain(|m| {
            let keep = i < idx || (i > idx && !path::is_within(&m.path, path));
            i += 1;
            keep
        });
        drop(mounts);
        self.propagate_umount(&gone, path);
        Ok(())
    }

    /// `pivot_root`: the mount at canonical `new_root` becomes `/` and the old tree
    /// moves to canonical `put_old` (which is under `new_root`): every mount point is
    /// renamed by [`MountTable::pivot_path`]. The new root's mounts come first, so the
    /// old root stacks on anything mounted at `put_old`.
    pub fn pivot(&self, new_root: &str, put_old: &str) {
        let mut mounts = self.mounts.write();
        let (mut inside, outside): (Vec<_>, Vec<_>) = mounts
            .iter()
            .map(|m| {
                let p = pivot_path(&m.path, new_root, put_old);
                (path::is_within(&m.path, new_root), m.with(&p, m.flags))
            })
            .partition(|(inner, _)| *inner);
        inside.extend(outside);
        *mounts = inside.into_iter().map(|(_, m)| m).collect();
    }

    pub fn list(&self) -> Vec<Arc<Mount>> {
        self.mounts.read().clone()
    }

    /// `/proc/mounts` text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for m in self.mounts.read().iter() {
            let _ = writeln!(
                s,
                "{} {} {} {}{} 0 0",
                escape(&m.source),
                escape(&m.path),
                m.fs.name(),
                options(m.flags),
                m.fs.options()
            );
        }
        s
    }
}

/// Where canonical `p` is after `pivot_root(new_root, put_old)` (both canonical, before
/// the pivot): paths under `new_root` lose that prefix, all others go under `put_old`.
pub fn pivot_path(p: &str, new_root: &str, put_old: &str) -> String {
    match path::strip_root(p, new_root) {
        Some(rest) => rest.to_string(),
        None => {
            let old = path::strip_root(put_old, new_root).unwrap_or("/");
            path::join_under(old, p)
        }
    }
}

impl MountTable {
    /// `/proc/[pid]/mountinfo` text for a process whose root directory is canonical
    /// `root`: mounts outside it are left out, mount points are shown from it.
    /// Fields: id, parent id, major:minor, root in the file system, mount point,
    /// mount options, (no optional fields), `-`, type, source, super options.
    pub fn render_info(&self, root: &str) -> String {
        let mounts = self.mounts.read();
        let mut s = String::new();
        for (i, m) in mounts.iter().enumerate() {
            let Some(point) = path::strip_root(&m.path, root) else {
                continue;
            };
            // The parent: the latest earlier mount whose tree holds the mount point.
            let parent = mounts[..i]
                .iter()
                .rev()
                .find(|p| p.path != m.path && path::is_within(&m.path, &p.path))
                .map_or(m.id, |p| p.id);
            let dev = m.fs.dev();
            let _ = writeln!(
                s,
                "{} {} {}:{} {} {} {}{} - {} {} {}{}",
                m.id,
                parent,
                super::vfs::major(dev),
                super::vfs::minor(dev),
                escape(&m.root_path),
                escape(point),
                options(m.flags),
                optional_fields(&m.prop),
                m.fs.name(),
                escape(&m.source),
                if m.flags & MS_RDONLY != 0 { "ro" } else { "rw" },
                m.fs.options(),
            );
        }
        s
    }
}

/// mountinfo's optional fields, each after a space: `shared:N`, `master:N`, `unbindable`.
fn optional_fields(p: &Prop) -> String {
    let mut s = String::new();
    if p.shared != 0 {
        let _ = write!(s, " shared:{}", p.shared);
    }
    if p.master != 0 {
        let _ = write!(s, " master:{}", p.master);
    }
    if p.unbindable {
        s.push_str(" unbindable");
    }
    s
}

fn options(flags: u64) -> String {
    let mut s = String::from(if flags & MS_RDONLY != 0 { "ro" } else { "rw" });
    for (bit, name) in [
        (MS_NOSUID, ",nosuid"),
        (MS_NODEV, ",nodev"),
        (MS_NOEXEC, ",noexec"),
        (MS_NOATIME, ",noatime"),
        (MS_NODIRATIME, ",nodiratime"),
    ] {
        if flags & bit != 0 {
            s.push_str(name);
        }
    }
    if flags & (MS_NOATIME | MS_STRICTATIME) == 0 {
        s.push_str(",relatime");
    }
    s
}

/// Escapes as the kernel does in `/proc/mounts` (space, tab, newline, backslash in octal).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ramfs::RamFs;

    #[test]
    fn later_mounts_hide_earlier_ones_and_umount_uncovers_them() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let a = RamFs::new("tmpfs");
        let b = RamFs::new("tmpfs");
        t.mount("/mnt", a.clone(), "a", 0).expect("mount a");
        t.mount("/mnt", b.clone(), "b", 0).expect("mount b");
        assert_eq!(
            t.mount_at("/mnt").map(|m| m.source.clone()).as_deref(),
            Some("b")
        );
        t.umount("/mnt").expect("umount b");
        assert_eq!(
            t.mount_at("/mnt").map(|m| m.source.clone()).as_deref(),
            Some("a")
        );
        t.umount("/mnt").expect("umount a");
        assert!(t.mount_at("/mnt").is_none());
        assert_eq!(
            t.umount("/mnt").err(),
            Some(Errno::EINVAL),
            "nothing mounted"
        );
    }

    #[test]
    fn seed_37_mounts_below_a_renamed_directory_follow_it() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/tmp/a/b", RamFs::new("sysfs"), "none", 0)
            .expect("mount /tmp/a/b");
        t.mount("/tmp/ab", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /tmp/ab");
        let copy = t.copy().expect("a copy, as unshare(CLONE_NEWNS) makes");
        copy.follow_rename("/tmp/a", "/tmp/x");
        assert!(t.mount_at("/tmp/a/b").is_none());
        assert!(
            copy.mount_at("/tmp/x/b").is_some(),
            "and in the renaming table"
        );
        assert_eq!(
            t.mount_at("/tmp/x/b").map(|m| m.source.clone()).as_deref(),
            Some("none")
        );
        assert!(
            t.mount_at("/tmp/ab").is_some(),
            "a sibling with the same prefix stays"
        );
        t.umount("/tmp/x/b").expect("unmounted at its new path");
    }

    #[test]
    fn seed_37_a_directory_removed_in_another_table_takes_its_mounts() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let copy = t.copy().expect("a copy, as unshare(CLONE_NEWNS) makes");
        t.mount("/tmp/a/b", RamFs::new("sysfs"), "none", 0)
            .expect("mount /tmp/a/b");
        t.mount("/tmp/a/b/c", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /tmp/a/b/c");
        // Not a mount point in the copy, so rename and rmdir there succeed: the mounts
        // here move with the directory, then go with it.
        copy.follow_rename("/tmp/a/b", "/tmp/a/d");
        assert!(t.mount_at("/tmp/a/d/c").is_some());
        copy.follow_rename("/tmp/a/d", "/tmp/a/b");
        copy.detach_removed("/tmp/a/b");
        assert!(t.mount_at("/tmp/a/b").is_none());
        assert!(t.mount_at("/tmp/a/b/c").is_none());
        assert_eq!(t.list().len(), 1);
    }

    /// Seed 21: a child mounted cgroup2 over `/` of the fuzzer's tree; the clean-up could
    /// not take it off (only the tree's own root stays).
    #[test]
    fn seed_21_a_mount_stacked_on_the_root_comes_off() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let root_dev = t.mount_at("/").expect("root").fs.dev();
        t.mount("/", RamFs::new("tmpfs"), "none", 0)
            .expect("mount over /");
        t.mount("/", RamFs::new("tmpfs"), "none", 0)
            .expect("and again");
        t.mount("/p", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /p on the top");
        assert_eq!(t.umount("/").err(), Some(Errno::EBUSY), "/p is on it");
        t.detach("/").expect("the top and /p go");
        assert_eq!(t.list().len(), 2);
        t.umount("/").expect("the next one, with nothing on it");
        assert_eq!(t.list().len(), 1);
        assert_eq!(t.mount_at("/").expect("root").fs.dev(), root_dev);
        assert_eq!(t.umount("/").err(), Some(Errno::EBUSY));
        assert_eq!(t.detach("/"), Err(Errno::EBUSY));
    }

    #[test]
    fn umount_is_busy_for_root_and_for_mounts_with_mounts_below() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /a");
        t.mount("/a/b", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /a/b");
        assert_eq!(t.umount("/").err(), Some(Errno::EBUSY));
        assert_eq!(t.umount("/a").err(), Some(Errno::EBUSY));
        t.umount("/a/b").expect("leaf first");
        t.umount("/a").expect("then its parent");
    }

    #[test]
    fn shared_copies_are_peers_and_slaves_receive_without_sending() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        assert_eq!(t.mount_at("/a").map(|m| m.prop), Some(Prop::default()));
        t.set_propagation("/a", MS_SHARED, false).expect("shared");
        let g = t.mount_at("/a").expect("/a").prop.shared;
        assert_ne!(g, 0);
        let peer = t.copy().expect("copy");
        let slave = t.copy().expect("copy");
        slave.set_propagation("/a", MS_SLAVE, false).expect("slave");
        assert_eq!(slave.mount_at("/a").expect("/a").prop.master, g);
        peer.mount("/a/x", RamFs::new("tmpfs"), "x", 0)
            .expect("mount in the peer");
        let x = t.mount_at("/a/x").expect("propagated to the original");
        assert_ne!(x.prop.shared, 0);
        assert_eq!(
            slave
                .mount_at("/a/x")
                .expect("and to the slave")
                .prop
                .master,
            x.prop.shared
        );
        slave
            .mount("/a/y", RamFs::new("tmpfs"), "y", 0)
            .expect("mount in the slave");
        assert!(t.mount_at("/a/y").is_none(), "a slave sends nothing");
        t.umount("/a/x").expect("umount");
        assert!(peer.mount_at("/a/x").is_none() && slave.mount_at("/a/x").is_none());
        t.set_propagation("/a", MS_UNBINDABLE, false)
            .expect("unbindable");
        let dir = t.mount_at("/a").expect("/a").root();
        assert_eq!(t.bind("/a", dir, "/b", 0, false), Err(Errno::EINVAL));
        let info = t.render_info("/");
        assert!(info.contains(" unbindable - tmpfs"), "{info}");
    }

    #[test]
    fn recursive_binds_and_moves_propagate_whole_trees() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        for p in ["/src", "/src/in", "/sh", "/m"] {
            t.mount(p, RamFs::new("tmpfs"), "x", 0).expect(p);
        }
        t.set_propagation("/sh", MS_SHARED, false).expect("shared");
        let peer = t.copy().expect("copy");
        let dir = t.mount_at("/src").expect("/src").root();
        t.bind("/src", dir, "/sh/b", 0, true).expect("rbind");
        let (b, b_in) = (
            peer.mount_at("/sh/b").expect("top propagated"),
            peer.mount_at("/sh/b/in").expect("and the mount below it"),
        );
        assert_eq!(
            b_in.prop.shared,
            t.mount_at("/sh/b/in").expect("in").prop.shared
        );
        assert_ne!(b.prop.shared, b_in.prop.shared, "each mount its own group");
        t.move_mount("/m", "/sh/m").expect("move");
        assert!(t.mount_at("/m").is_none() && t.mount_at("/sh/m").is_some());
        assert!(
            peer.mount_at("/sh/m").is_some(),
            "a move under a shared mount propagates"
        );
        assert_eq!(
            t.move_mount("/sh/b", "/x"),
            Err(Errno::EINVAL),
            "parent shared"
        );
        assert_eq!(t.move_mount("/src", "/src/in/x"), Err(Errno::ELOOP));
        assert_eq!(t.move_mount("/nothing", "/x"), Err(Errno::EINVAL));
        // A copy with a mount below it makes the umount busy; detach takes it all.
        peer.set_propagation("/sh/m", MS_PRIVATE, false)
            .expect("private");
        peer.mount("/sh/m/x", RamFs::new("tmpfs"), "x", 0)
            .expect("mount below the copy");
        assert!(t.mount_at("/sh/m/x").is_none(), "private: not sent back");
        let m = t.mount_at("/sh/m").expect("/sh/m");
        let copies = t.propagated_copies(&m, "/sh/m");
        assert_eq!(copies.len(), 1);
        assert!(Arc::ptr_eq(&copies[0].0, &peer) && copies[0].1 == "/sh/m" && copies[0].2);
        t.umount("/sh/m").expect("umount");
        assert!(
            peer.mount_at("/sh/m/x").is_some(),
            "a copy with a mount below stays"
        );
    }

    #[test]
    fn a_shared_slave_gets_copies_that_are_slaves_and_peers() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        t.set_propagation("/a", MS_SHARED, false).expect("shared");
        let s1 = t.copy().expect("copy");
        s1.set_propagation("/a", MS_SLAVE, false).expect("slave");
        s1.set_propagation("/a", MS_SHARED, false)
            .expect("and shared");
        let a1 = s1.mount_at("/a").expect("/a").prop;
        assert!(a1.shared != 0 && a1.master == t.mount_at("/a").expect("/a").prop.shared);
        let s2 = s1.copy().expect("copy");
        t.mount("/a/x", RamFs::new("tmpfs"), "x", 0)
            .expect("mount /a/x");
        let x = t.mount_at("/a/x").expect("/a/x").prop.shared;
        let (x1, x2) = (
            s1.mount_at("/a/x").expect("to the slave").prop,
            s2.mount_at("/a/x").expect("to its peer").prop,
        );
        assert_eq!((x1.master, x2.master), (x, x));
        assert!(x1.shared != 0 && x1.shared == x2.shared && x1.shared != x);
        assert_eq!(
            t.list().iter().filter(|m| m.path == "/a/x").count(),
            1,
            "one copy each"
        );
        assert_eq!(s1.list().iter().filter(|m| m.path == "/a/x").count(), 1);
        s1.mount("/a/y", RamFs::new("tmpfs"), "y", 0)
            .expect("mount /a/y");
        assert!(s2.mount_at("/a/y").is_some(), "peers share");
        assert!(t.mount_at("/a/y").is_none(), "the master gets nothing back");
    }

    #[test]
    fn a_copy_shares_file_systems_but_not_later_mounts() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        let c = t.copy().expect("copy");
        assert!(Arc::ptr_eq(
            &t.mount_at("/a").expect("/a").fs,
            &c.mount_at("/a").expect("/a in the copy").fs
        ));
        assert_ne!(
            t.mount_at("/a").map(|m| m.id),
            c.mount_at("/a").map(|m| m.id)
        );
        c.mount("/b", RamFs::new("tmpfs"), "b", 0)
            .expect("mount /b");
        assert!(t.mount_at("/b").is_none(), "not in the original");
        t.umount("/a").expect("umount /a in the original");
        assert!(c.mount_at("/a").is_some(), "still in the copy");
    }

    #[test]
    fn mountinfo_has_ids_parents_and_paths_from_the_root() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "none", MS_NOSUID)
            .expect("mount /a");
        t.mount("/a/b", RamFs::new("tmpfs"), "x y", 0)
            .expect("mount /a/b");
        let l = t.list();
        let dev = |i: usize| {
            let d = l[i].fs.dev();
            format!("{}:{}", crate::fs::vfs::major(d), crate::fs::vfs::minor(d))
        };
        let (r, a, b) = (l[0].id, l[1].id, l[2].id);
        assert_eq!(
            t.render_info("/"),
            format!(
                "{r} {r} {} / / rw,relatime - rootfs rootfs rw\n\
                 {a} {r} {} / /a rw,nosuid,relatime - tmpfs none rw\n\
                 {b} {a} {} / /a/b rw,relatime - tmpfs x\\040y rw\n",
                dev(0),
                dev(1),
                dev(2)
            )
        );
        let inside = t.render_info("/a");
        assert!(
            inside.starts_with(&format!("{a} {r} {} / / rw", dev(1))),
            "{inside}"
        );
        assert!(inside.contains(" / /b rw,relatime"), "{inside}");
        assert_eq!(inside.lines().count(), 2, "the root mount is outside");
    }

    #[test]
    fn remount_read_only_covers_the_tree_below_but_not_other_mounts() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /a");
        t.mount("/a/b", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /a/b");
        assert!(!t.read_only("/a/x"));
        assert_eq!(t.remount("/nothing", MS_RDONLY), Err(Errno::EINVAL));
        t.remount("/a", MS_RDONLY).expect("remount");
        assert!(t.read_only("/a") && t.read_only("/a/x/y"));
        assert!(!t.read_only("/a/b/c"), "its own mount");
        assert!(!t.read_only("/ab"));
        assert!(t.render().contains("none /a tmpfs ro,relatime"));
    }

    #[test]
    fn bind_shows_a_directory_elsewhere_and_rec_takes_the_mounts_below() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let r = t.root().inode;
        let d = r.mkdir("d", 0o755, 0, 0).expect("mkdir d");
        d.mkdir("sub", 0o755, 0, 0).expect("mkdir sub");
        r.mkdir("b", 0o755, 0, 0).expect("mkdir b");
        r.mkdir("c", 0o755, 0, 0).expect("mkdir c");
        t.mount("/d/sub", RamFs::new("tmpfs"), "none", 0)
            .expect("mount /d/sub");
        t.bind("/d", d.clone(), "/b", 0, false).expect("bind");
        t.bind("/d", d.clone(), "/c", 0, true).expect("rbind");
        let b = t.mount_at("/b").expect("/b");
        assert_eq!(b.root_path, "/d");
        assert!(Arc::ptr_eq(&b.fs, &t.mount_at("/").expect("/").fs));
        assert!(t.mount_at("/b/sub").is_none(), "not recursive");
        assert!(t.mount_at("/c/sub").is_some(), "recursive");
        assert!(t.render_info("/").contains(" /d /c rw"));
        t.detach("/c").expect("detach");
        assert!(t.mount_at("/c").is_none() && t.mount_at("/c/sub").is_none());
        assert!(t.mount_at("/d/sub").is_some() && t.mount_at("/b").is_some());
        assert_eq!(t.detach("/"), Err(Errno::EBUSY));
        assert_eq!(t.detach("/c"), Err(Errno::EINVAL));
    }

    #[test]
    fn pivot_makes_new_root_the_top_and_moves_the_old_tree_under_put_old() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/proc", RamFs::new("proc"), "proc", 0)
            .expect("mount /proc");
        t.mount("/n", RamFs::new("tmpfs"), "new", 0)
            .expect("mount /n");
        t.mount("/n/m", RamFs::new("tmpfs"), "m", 0)
            .expect("mount /n/m");
        t.pivot("/n", "/n/old");
        let paths: Vec<String> = t.list().iter().map(|m| m.path.clone()).collect();
        assert_eq!(paths, ["/", "/m", "/old", "/old/proc"]);
        assert_eq!(
            t.mount_at("/").map(|m| m.source.clone()).as_deref(),
            Some("new")
        );
        assert_eq!(pivot_path("/x", "/n", "/n/old"), "/old/x");
        assert_eq!(pivot_path("/n/y", "/n", "/n/old"), "/y");
        t.detach("/old").expect("detach the old root");
        let paths: Vec<String> = t.list().iter().map(|m| m.path.clone()).collect();
        assert_eq!(paths, ["/", "/m"]);
    }

    #[test]
    fn render_uses_the_proc_mounts_format() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount(
            "/my dir",
            RamFs::new("tmpfs"),
            "tmpfs",
            MS_NOSUID | MS_NODEV,
        )
        .expect("mount");
        assert_eq!(
            t.render(),
            "rootfs / rootfs rw,relatime 0 0\ntmpfs /my\\040dir tmpfs rw,nosuid,nodev,relatime 0 0\n"
        );
    }
}
