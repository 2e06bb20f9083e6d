//! Detached mount trees, the new mount API's objects: a copy of part of a tree made by
//! `open_tree(OPEN_TREE_CLONE)` or a new file system's mount made by `fsmount`, held
//! by a file descriptor until `move_mount` attaches it or the last descriptor closes
//! (then its mounts are gone). A detached tree is a `MountTable` of its own with its
//! top at `/`; it is not registered for propagation while detached (Linux's anonymous
//! mount namespaces).
//!
//! Also `mount_setattr`'s per-mount flag change over one mount or a whole subtree.

use super::{Mount, MountTable, Prop, charge, new_id, room};
use crate::errno::Errno;
use crate::fs::path;
use crate::fs::vfs::{FileSystem, InodeRef};
use crate::plimits::kmem::Charge;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A tree that is not (or no longer) part of any mount container's table.
pub struct DetachedTree {
    table: MountTable,
}

impl DetachedTree {
    /// The tree object is charged to the caller's group (its mounts hold their own).
    fn new(mounts: Vec<Arc<Mount>>) -> Result<Arc<DetachedTree>, Errno> {
        Ok(Arc::new(DetachedTree {
            table: MountTable {
                mounts: super::MountList::new(mounts),
                _charge: Charge::arc::<DetachedTree>()?,
            },
        }))
    }

    /// The tree as a table (its top at `/`), for reading and `mount_setattr`.
    pub fn table(&self) -> &MountTable {
        &self.table
    }

    /// The top mount (`None` once attached).
    pub fn top(&self) -> Option<Arc<Mount>> {
        self.table.mounts.read().first().cloned()
    }

    /// How many mounts it holds.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl MountTable {
    /// `open_tree(OPEN_TREE_CLONE)`: a detached copy (new mount ids) of the mount at
    /// canonical `src` whose root is the directory `src_dir` there and, with `rec`
    /// (`AT_RECURSIVE`), of the mounts below it (unbindable ones left out). `EINVAL`
    /// when that mount is unbindable.
    pub fn clone_detached(
        &self,
        src: &str,
        src_dir: InodeRef,
        rec: bool,
    ) -> Result<Arc<DetachedTree>, Errno> {
        let from = self.mount_of(src).ok_or(Errno::EINVAL)?;
        let copies = self.bind_copies(src, src_dir, "/", from.flags, rec)?;
        DetachedTree::new(copies)
    }

    /// `fsmount`: a detached tree holding one new mount of `fs` (its root) with
    /// per-mount flags `flags`.
    pub fn detached_fs(
        fs: Arc<dyn FileSystem>,
        source: &str,
        flags: u64,
    ) -> Result<Arc<DetachedTree>, Errno> {
        room(0, 1)?;
        let charge = charge::charge_mount("/", source, "/")?;
        let m = Arc::new(Mount {
            id: new_id(),
            path: "/".to_string(),
            root: fs.root(),
            root_path: "/".to_string(),
            fs,
            source: source.to_string(),
            flags,
            prop: Prop::default(),
            charge,
        });
        let mut mounts = Vec::new();
        mounts.try_reserve_exact(1).map_err(|_| Errno::ENOMEM)?;
        mounts.push(m);
        DetachedTree::new(mounts)
    }

    /// `move_mount` of a detached tree: every mount of `tree` (same ids and
    /// propagation) moves into this table with its top at canonical `path`, and
    /// propagates as a mount there would. `EINVAL` when `tree` was attached already,
    /// or its top is unbindable and `path`'s mount shared; `ENOSPC`/`ENOMEM` when this
    /// tree (or a receiving one) cannot take them. On error nothing moves.
    pub fn attach(&self, tree: &DetachedTree, path: &str) -> Result<(), Errno> {
        let mut from = tree.table.mounts.write();
        let top = from.first().ok_or(Errno::EINVAL)?;
        let parent = self.mount_of(path);
        if top.prop.unbindable && parent.as_ref().is_some_and(|p| p.prop.shared != 0) {
            return Err(Errno::EINVAL);
        }
        let count = from.len();
        self.room_with_propagation(parent.as_ref(), count, count)?;
        let mut placed = Vec::new();
        placed.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        placed.extend(
            from.iter()
                .map(|m| m.with(&path::join_under(path, &m.path), m.flags)),
        );
        let made = charge::charges_of(&placed)?;
        {
            let mut mounts = self.mounts.write();
            mounts.try_reserve(count).map_err(|_| Errno::ENOMEM)?;
            mounts.extend(placed);
        }
        // The tree keeps its mounts until the propagation is charged (it is in no
        // registered table, so holding its lock meanwhile blocks no receiver).
        if let Some(parent) = parent
            && let Err(e) = self.propagate_mount(&parent, path, count)
        {
            self.undo(&made, Vec::new());
            return Err(e);
        }
        from.clear();
        Ok(())
    }

    /// `mount_setattr`: per-mount flags `set` added and `clear` taken away on the
    /// visible mount at canonical `path` and, with `rec`, on every mount in its
    /// subtree. `EINVAL` when nothing is mounted at `path`.
    pub fn change_flags(&self, path: &str, set: u64, clear: u64, rec: bool) -> Result<(), Errno> {
        let mut mounts = self.mounts.write();
        let top = mounts
            .iter()
            .rposition(|m| m.path == path)
            .ok_or(Errno::EINVAL)?;
        for i in top..mounts.len() {
            let m = &mounts[i];
            // Mounts in its subtree come after it (earlier ones there are hidden by it).
            let hit = i == top || (rec && path::is_within(&m.path, path));
            if hit {
                let flags = (m.flags & !clear) | set;
                mounts[i] = m.with(&m.path, flags);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::mount::{MS_NOSUID, MS_RDONLY, MS_SHARED};
    use crate::fs::ramfs::RamFs;

    fn table() -> Arc<MountTable> {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let r = t.root().inode;
        for d in ["a", "b", "c"] {
            r.mkdir(d, 0o755, 0, 0).expect("mkdir");
        }
        t
    }

    #[test]
    fn a_recursive_clone_is_detached_until_attached_and_keeps_its_ids() {
        let t = table();
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        t.mount("/a/in", RamFs::new("tmpfs"), "in", MS_NOSUID)
            .expect("mount /a/in");
        let dir = t.mount_at("/a").expect("/a").root();
        let tree = t.clone_detached("/a", dir.clone(), true).expect("clone");
        assert_eq!(tree.len(), 2);
        let top = tree.top().expect("top");
        assert_ne!(top.id, t.mount_at("/a").expect("/a").id, "new ids");
        assert_eq!(t.list().len(), 3, "the original tree is unchanged");
        assert!(t.mount_at("/b").is_none());
        t.attach(&tree, "/b").expect("attach");
        assert!(tree.is_empty());
        assert_eq!(t.mount_at("/b").expect("/b").id, top.id, "same mount id");
        let inner = t.mount_at("/b/in").expect("the mount below came too");
        assert_eq!(inner.flags, MS_NOSUID);
        assert_eq!(t.attach(&tree, "/c"), Err(Errno::EINVAL), "attached once");
        let one = t.clone_detached("/a", dir, false).expect("clone");
        assert_eq!(one.len(), 1, "without AT_RECURSIVE: one mount");
        let fs = Arc::downgrade(&one.top().expect("top").fs);
        drop((one, top, inner));
        t.umount("/b/in").expect("umount");
        t.umount("/b").expect("umount");
        t.umount("/a/in").expect("umount");
        t.umount("/a").expect("umount");
        assert!(
            fs.upgrade().is_none(),
            "the last tree holding a file system frees it"
        );
    }

    #[test]
    fn an_attached_tree_propagates_and_an_unbindable_one_is_refused_under_shared() {
        let t = table();
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        t.set_propagation("/a", MS_SHARED, false).expect("shared");
        let peer = t.copy().expect("copy");
        let tree = MountTable::detached_fs(RamFs::new("tmpfs"), "new", MS_RDONLY).expect("fs");
        t.attach(&tree, "/a/x").expect("attach");
        let m = peer.mount_at("/a/x").expect("propagated to the peer");
        assert_eq!((m.source.as_str(), m.flags), ("new", MS_RDONLY));
        let dir = t.mount_at("/a").expect("/a").root();
        t.set_propagation("/a", crate::fs::mount::MS_UNBINDABLE, false)
            .expect("unbindable");
        assert_eq!(
            t.clone_detached("/a", dir, false).err(),
            Some(Errno::EINVAL),
            "an unbindable mount is not cloned"
        );
    }

    #[test]
    fn change_flags_covers_one_mount_or_its_subtree() {
        let t = table();
        t.mount("/a", RamFs::new("tmpfs"), "a", 0)
            .expect("mount /a");
        t.mount("/a/x", RamFs::new("tmpfs"), "x", 0)
            .expect("mount /a/x");
        t.mount("/b", RamFs::new("tmpfs"), "b", 0)
            .expect("mount /b");
        t.change_flags("/a", MS_RDONLY, 0, false).expect("one");
        assert!(t.read_only("/a/f") && !t.read_only("/a/x/f"));
        t.change_flags("/a", MS_RDONLY | MS_NOSUID, 0, true)
            .expect("recursive");
        assert!(t.read_only("/a/x/f") && t.has_flag("/a/x", MS_NOSUID));
        assert!(
            !t.read_only("/b/f") && !t.read_only("/f"),
            "others unchanged"
        );
        t.change_flags("/a", 0, MS_RDONLY, true).expect("clear");
        assert!(!t.read_only("/a/x/f") && t.has_flag("/a", MS_NOSUID));
        assert_eq!(
            t.change_flags("/nothing", MS_RDONLY, 0, true),
            Err(Errno::EINVAL)
        );
    }
}
