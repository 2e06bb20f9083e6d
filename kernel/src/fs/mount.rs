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
use spin::{Mutex, RwLock};

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
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

/// Peer group ids are global, as Linux's.
static NEXT_GROUP: AtomicU32 = AtomicU32::new(1);

fn new_group() -> u32 {
    NEXT_GROUP.fetch_add(1, Ordering::Relaxed)
}

/// Every mount table, for propagation across containers.
static TABLES: Mutex<Vec<Weak<MountTable>>> = Mutex::new(Vec::new());

fn register(t: &Arc<MountTable>) {
    let mut tables = TABLES.lock();
    tables.retain(|w| w.strong_count() > 0);
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
        })
    }

    /// A new mount (new id) of the same directory at `path` with propagation `prop`.
    fn copy_at(&self, path: &str, prop: Prop) -> Arc<Mount> {
        Arc::new(Mount {
            id: new_id(),
            path: path.to_string(),
            fs: self.fs.clone(),
            source: self.source.clone(),
            flags: self.flags,
            root: self.root.clone(),
            root_path: self.root_path.clone(),
            prop,
        })
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

pub struct MountTable {
    /// In mount order; of several mounts at one path the last one is visible.
    mounts: RwLock<Vec<Arc<Mount>>>,
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
            mounts: RwLock::new(Vec::new()),
        });
        t.push("/", root_fs, source, 0);
        register(&t);
        t
    }

    /// A new table with the same mounts of the same file system instances (new mount
    /// ids): later mounts and unmounts in one never show in the other.
    pub fn copy(&self) -> Arc<MountTable> {
        let mounts = self
            .mounts
            .read()
            .iter()
            .map(|m| {
                Arc::new(Mount {
                    id: new_id(),
                    path: m.path.clone(),
                    fs: m.fs.clone(),
                    source: m.source.clone(),
                    flags: m.flags,
                    root: m.root.clone(),
                    root_path: m.root_path.clone(),
                    prop: m.prop,
                })
            })
            .collect();
        let t = Arc::new(MountTable {
            mounts: RwLock::new(mounts),
        });
        register(&t);
        t
    }

    fn push(&self, path: &str, fs: Arc<dyn FileSystem>, source: &str, flags: u64) {
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
        };
        self.mounts.write().push(Arc::new(m));
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
        self.push(path, fs, source, flags);
        if let Some(parent) = parent {
            self.propagate_mount(&parent, path);
        }
        Ok(())
    }

    /// The mounts that receive what happens under a mount of peer group `group`, each
    /// with its table and whether it is a slave (reached through a master link): the
    /// group's peers and, recursively, its slaves and their peers.
    fn receivers(group: u32) -> Vec<(Arc<MountTable>, Arc<Mount>, bool)> {
        let tables = all_tables();
        let mut out = Vec::new();
        let mut todo = alloc::vec![(group, false)];
        let mut seen = alloc::vec![group];
        while let Some((g, slave)) = todo.pop() {
            for t in &tables {
                for m in t.mounts.read().iter() {
                    if m.prop.shared == g {
                        out.push((t.clone(), m.clone(), slave));
                    } else if m.prop.master == g {
                        out.push((t.clone(), m.clone(), true));
                        if m.prop.shared != 0 && !seen.contains(&m.prop.shared) {
                            seen.push(m.prop.shared);
                            todo.push((m.prop.shared, true));
                        }
                    }
                }
            }
        }
        out
    }

    /// After a new mount at canonical `path` under `parent`: when `parent` is shared,
    /// the new mount joins a peer group (its own if it had none) and a copy of it is
    /// mounted at the same place under every receiver of `parent`'s group (as a peer
    /// under peers, as a slave under slaves).
    fn propagate_mount(&self, parent: &Arc<Mount>, path: &str) {
        if parent.prop.shared == 0 {
            return;
        }
        let new = {
            let mut mounts = self.mounts.write();
            let Some(last) = mounts.last_mut() else {
                return;
            };
            if last.prop.shared == 0 {
                let prop = Prop {
                    shared: new_group(),
                    ..last.prop
                };
                *last = last.with_prop(&last.path, last.flags, prop);
            }
            last.clone()
        };
        for (t, m, slave) in Self::receivers(parent.prop.shared) {
            if Arc::ptr_eq(&m, parent) {
                continue;
            }
            let Some(p) = parent.path_in(path, &m) else {
                continue;
            };
            let prop = if slave {
                Prop {
                    shared: 0,
                    master: new.prop.shared,
                    unbindable: false,
                }
            } else {
                Prop {
                    shared: new.prop.shared,
                    master: 0,
                    unbindable: false,
                }
            };
            t.mounts.write().push(new.copy_at(&p, prop));
        }
    }

    /// After the mount `gone` at canonical `path` was removed: when the mount now
    /// holding `path` (its parent) is shared, the copies of `gone` at the receivers are
    /// removed too (the top mount there of the same file system, with nothing below).
    fn propagate_umount(&self, gone: &Mount, path: &str) {
        let Some(parent) = self.mount_of(path) else {
            return;
        };
        if parent.prop.shared == 0 {
            return;
        }
        for (t, m, _) in Self::receivers(parent.prop.shared) {
            if Arc::ptr_eq(&m, &parent) {
                continue;
            }
            let Some(p) = parent.path_in(path, &m) else {
                continue;
            };
            let mut mounts = t.mounts.write();
            if let Some(idx) = mounts.iter().rposition(|x| x.path == p)
                && mounts[idx].fs.dev() == gone.fs.dev()
                && !mounts[idx + 1..]
                    .iter()
                    .any(|x| path::is_within(&x.path, &p))
            {
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
    /// there, `EBUSY` for the root or when something is mounted below it.
    pub fn umount(&self, path: &str) -> Result<Arc<Mount>, Errno> {
        let mut mounts = self.mounts.write();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        if path == "/" {
            return Err(Errno::EBUSY);
        }
        let busy = mounts[idx + 1..]
            .iter()
            .any(|m| path::is_within(&m.path, path));
        if busy {
            return Err(Errno::EBUSY);
        }
        let gone = mounts.remove(idx);
        drop(mounts);
        self.propagate_umount(&gone, path);
        Ok(gone)
    }

    /// The visible mount whose mount point is exactly `path`.
    pub fn mount_at(&self, path: &str) -> Option<Arc<Mount>> {
        self.mounts
            .read()
            .iter()
            .rev()
            .find(|m| m.path == path)
            .cloned()
    }

    /// The visible mount whose tree holds canonical `path` (the deepest mount point
    /// above it; of several at one point the last).
    pub fn mount_of(&self, path: &str) -> Option<Arc<Mount>> {
        let mounts = self.mounts.read();
        let mut best: Option<&Arc<Mount>> = None;
        for m in mounts.iter() {
            if path::is_within(path, &m.path) && best.is_none_or(|b| m.path.len() >= b.path.len()) {
                best = Some(m);
            }
        }
        best.cloned()
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
        let from = self.mount_of(src).ok_or(Errno::EINVAL)?;
        if from.prop.unbindable {
            return Err(Errno::EINVAL);
        }
        let parent = self.mount_of(path);
        let mut copies = alloc::vec![Arc::new(Mount {
            id: new_id(),
            path: path.to_string(),
            fs: from.fs.clone(),
            source: from.source.clone(),
            flags,
            root: src_dir,
            root_path: path::join_under(
                &from.root_path,
                path::strip_root(src, &from.path).unwrap_or("/")
            ),
            prop: from.bind_prop(),
        })];
        if rec {
            for m in self.mounts.read().iter() {
                if m.path == src {
                    // Mounts on `src` itself: the bind above shows the visible one.
                    continue;
                }
                if m.prop.unbindable {
                    continue;
                }
                if let Some(rest) = path::strip_root(&m.path, src) {
                    copies.push(Arc::new(Mount {
                        id: new_id(),
                        path: path::join_under(path, rest),
                        fs: m.fs.clone(),
                        source: m.source.clone(),
                        flags: m.flags,
                        root: m.root.clone(),
                        root_path: m.root_path.clone(),
                        prop: m.bind_prop(),
                    }));
                }
            }
        }
        let single = copies.len() == 1;
        self.mounts.write().extend(copies);
        if single && let Some(parent) = parent {
            self.propagate_mount(&parent, path);
        }
        Ok(())
    }

    /// `MNT_DETACH`: removes the visible mount at canonical `path` and every mount
    /// below it now; open files and directories in them keep working. `EINVAL` if
    /// nothing is mounted there, `EBUSY` for the root.
    pub fn detach(&self, path: &str) -> Result<(), Errno> {
        if path == "/" {
            return Err(Errno::EBUSY);
        }
        let mut mounts = self.mounts.write();
        let idx = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
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
    ] {
        if flags & bit != 0 {
            s.push_str(name);
        }
    }
    s.push_str(",relatime");
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
        let peer = t.copy();
        let slave = t.copy();
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
    fn a_copy_shares_file_systems_but_not_later_mounts() {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        let c = t.copy();
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
