//! Mounts follow the directory they are mounted on, not its path: a rename moves them
//! and an rmdir detaches them in every table, as Linux's mounts follow their mount
//! points' dentries (`d_move`, `detach_mounts`). A table names a mount point only by
//! path, so the directory under a mount is found through its parent: the mount it was
//! mounted on, the holder of its path among the mounts made before it. That finds a
//! directory a later mount hides too (fuzz seed 37: a sysfs on `/tmp/a/b`, a tmpfs
//! stacked on `/tmp/a`, `b` removed through another table; once the tmpfs went, the
//! sysfs stayed at a path that no longer resolved).

use super::{Mount, MountTable, all_tables};
use crate::fs::path;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use hashbrown::HashMap;

/// A directory of a file system: its device and its path inside the file system.
pub struct Dentry {
    dev: u64,
    in_fs: String,
}

/// The mount each mount of `mounts` was mounted on (the holder of its path among the
/// mounts before it: the deepest mount point above it, of several the last), `None`
/// for the tree's root. `None` when memory for the index is short.
fn parents(mounts: &[Arc<Mount>]) -> Option<Vec<Option<usize>>> {
    let mut last: HashMap<&str, usize> = HashMap::new();
    last.try_reserve(mounts.len()).ok()?;
    let mut out = Vec::new();
    out.try_reserve_exact(mounts.len()).ok()?;
    for (i, m) in mounts.iter().enumerate() {
        let mut p = m.path.as_str();
        let parent = loop {
            if let Some(&j) = last.get(p) {
                break Some(j);
            }
            if p == "/" {
                break None;
            }
            p = path::parent(p);
        };
        out.push(parent);
        last.insert(m.path.as_str(), i);
    }
    Some(out)
}

/// The mounts of `mounts` that change when the directory `from` moves to `to` inside
/// its file system (`to` `None`: it is removed), each with its new path (`None`: it
/// goes). Nothing is allocated for a mount that stays as it is (a tree may hold
/// `fs/mount-max` of them); `None` when memory for the index is short.
fn changes(
    mounts: &[Arc<Mount>],
    from: &Dentry,
    to: Option<&str>,
) -> Option<Vec<(usize, Option<String>)>> {
    let parents = parents(mounts)?;
    let mut out: Vec<(usize, Option<String>)> = Vec::new();
    // The directory under the mount being looked at (one buffer for all of them).
    let mut dir = String::new();
    for (i, (m, parent)) in mounts.iter().zip(parents).enumerate() {
        let Some(p) = parent else { continue };
        let parent = &mounts[p];
        let rel = path::strip_root(&m.path, &parent.path).unwrap_or("/");
        // The parent's new path when it changed (changes are in mount order).
        let moved_parent = out
            .binary_search_by_key(&p, |(j, _)| *j)
            .ok()
            .map(|k| out[k].1.as_deref());
        let moved = parent.fs.dev() == from.dev && {
            dir.clear();
            dir.push_str(&parent.root_path);
            if rel != "/" {
                if dir == "/" {
                    dir.clear();
                }
                dir.push_str(rel);
            }
            path::is_within(&dir, &from.in_fs)
        };
        let new = match (moved_parent, moved, to) {
            (Some(None), _, _) | (_, true, None) => None,
            (pp, true, Some(to)) => {
                let pp = pp.flatten().unwrap_or(&parent.path);
                let rest = path::strip_root(&dir, &from.in_fs).unwrap_or("/");
                let now = path::join_under(to, rest);
                // Out of the parent's view (a bind of another directory): no path
                // names it in this table any more.
                path::strip_root(&now, &parent.root_path).map(|r| path::join_under(pp, r))
            }
            (Some(Some(pp)), false, _) => Some(path::join_under(pp, rel)),
            (None, false, _) => continue,
        };
        out.try_reserve(1).ok()?;
        out.push((i, new));
    }
    Some(out)
}

impl MountTable {
    /// The directory at canonical `path` of this table, named inside its file system
    /// (for a path that is no mount point of this table).
    pub fn dentry(&self, path: &str) -> Option<Dentry> {
        let m = self.mount_of(path)?;
        let rel = path::strip_root(path, &m.path)?;
        Some(Dentry {
            dev: m.fs.dev(),
            in_fs: path::join_under(&m.root_path, rel),
        })
    }

    /// Applies [`changes`] to this table.
    fn follow_dentry(&self, from: &Dentry, to: Option<&str>) {
        // Only a mount of that file system can have a mount on the directory.
        if !self.mounts.read().iter().any(|m| m.fs.dev() == from.dev) {
            return;
        }
        let mut mounts = self.mounts.write();
        let Some(changes) = changes(&mounts, from, to) else {
            log::warn!("mount: no memory to move the mounts on a renamed directory");
            return;
        };
        for (i, new) in &changes {
            if let Some(p) = new {
                mounts[*i] = mounts[*i].with(p, mounts[*i].flags);
            }
        }
        if changes.iter().any(|(_, new)| new.is_none()) {
            let mut i = 0;
            let mut k = 0;
            mounts.retain(|_| {
                let gone = changes
                    .get(k)
                    .is_some_and(|(j, new)| *j == i && new.is_none());
                if changes.get(k).is_some_and(|(j, _)| *j == i) {
                    k += 1;
                }
                i += 1;
                !gone
            });
        }
    }

    /// The directory `from` was renamed to `to` (a path in the same file system): the
    /// mounts on it and below it follow it in every table (fuzz seed 37).
    pub fn follow_rename_of(from: &Dentry, to: &Dentry) {
        for t in all_tables() {
            t.follow_dentry(from, Some(&to.in_fs));
        }
    }

    /// The directory `gone` was removed: the mounts on it, and the mounts on those, are
    /// detached in every table (Linux's `detach_mounts`; fuzz seed 37).
    pub fn detach_removed_dentry(gone: &Dentry) {
        for t in all_tables() {
            t.follow_dentry(gone, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MountTable;
    use crate::fs::ramfs::RamFs;
    use alloc::sync::Arc;

    /// Seed 37's tables: a sysfs on `/tmp/a/b` with a tmpfs on it, hidden by a tmpfs
    /// stacked on `/tmp/a`; and a copy, as `unshare(CLONE_NEWNS)` makes before them.
    fn hidden_sysfs() -> (Arc<MountTable>, Arc<MountTable>) {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let copy = t.copy().expect("a copy, as unshare(CLONE_NEWNS) makes");
        t.mount("/tmp/a/b", RamFs::new("sysfs"), "none", 0)
            .expect("mount /tmp/a/b");
        t.mount("/tmp/a/b/c", RamFs::new("tmpfs"), "none", 0)
            .expect("mount on it");
        t.mount("/tmp/a", RamFs::new("tmpfs"), "none", 0)
            .expect("mount over /tmp/a");
        (t, copy)
    }

    /// Seed 37: a sysfs on `/tmp/a/b`, then a tmpfs stacked on `/tmp/a` hides `b`; the
    /// directory removed through another table takes the sysfs with it, hidden or not
    /// (before, it stayed on a path that no longer resolved once the tmpfs went).
    #[test]
    fn seed_37_a_hidden_directory_removed_elsewhere_takes_its_mount() {
        let (t, copy) = hidden_sysfs();
        copy.detach_removed("/tmp/a/b");
        let paths: alloc::vec::Vec<_> = t.list().iter().map(|m| m.path.clone()).collect();
        assert_eq!(
            paths,
            ["/", "/tmp/a"],
            "the hidden sysfs went, and its mount"
        );
    }

    /// A rename moves a hidden mount too, and what is mounted on it.
    #[test]
    fn seed_37_a_hidden_directory_renamed_elsewhere_takes_its_mount() {
        let (t, copy) = hidden_sysfs();
        copy.follow_rename("/tmp/a/b", "/tmp/d");
        let paths: alloc::vec::Vec<_> = t.list().iter().map(|m| m.path.clone()).collect();
        assert_eq!(paths, ["/", "/tmp/d", "/tmp/d/c", "/tmp/a"]);
    }
}
