//! `FsContext`: a process's view of the file tree (mount tree, root, working directory,
//! umask), and the path resolution entry points the system calls use.

use super::mount::MountTable;
use super::vfs::InodeRef;
use super::walk::{Loc, Parent, Walker};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

/// Root and working directory are shared, never changed in place: a path walk takes
/// them with two reference counts instead of copying their paths.
struct State {
    root: Arc<Loc>,
    cwd: Arc<Loc>,
    umask: u32,
}

pub struct FsContext {
    mounts: Arc<MountTable>,
    state: Mutex<State>,
}

impl FsContext {
    /// A context at the root of `mounts`, umask 022.
    pub fn new(mounts: Arc<MountTable>) -> Arc<FsContext> {
        let root = Arc::new(mounts.root());
        Arc::new(FsContext {
            mounts,
            state: Mutex::new(State {
                cwd: root.clone(),
                root,
                umask: 0o022,
            }),
        })
    }

    /// The context a forked child (without `CLONE_FS`) starts with.
    pub fn fork_copy(&self) -> Arc<FsContext> {
        let s = self.state.lock();
        let state = State {
            root: s.root.clone(),
            cwd: s.cwd.clone(),
            umask: s.umask,
        };
        Arc::new(FsContext {
            mounts: self.mounts.clone(),
            state: Mutex::new(state),
        })
    }

    /// The context of a process that moved into a new mount tree copied from this
    /// one's (`clone`/`unshare` with `CLONE_NEWNS`): root and working directory are
    /// the same paths looked up again in `mounts` (its root when a path is gone).
    pub fn copy_into(&self, mounts: Arc<MountTable>) -> Arc<FsContext> {
        let (old_root, old_cwd, umask) = {
            let s = self.state.lock();
            (s.root.path.clone(), s.cwd.path.clone(), s.umask)
        };
        let top = Arc::new(mounts.root());
        let find = |p: &str| {
            Walker {
                mounts: &mounts,
                root: &top,
                cwd: &top,
            }
            .resolve(p, true)
            .map(Arc::new)
            .unwrap_or_else(|_| top.clone())
        };
        let root = find(&old_root);
        let cwd = find(&old_cwd);
        Arc::new(FsContext {
            mounts,
            state: Mutex::new(State { root, cwd, umask }),
        })
    }

    /// The context after `setns` into a mount container: root and working directory
    /// at the root of `mounts`, the umask kept.
    pub fn enter(&self, mounts: Arc<MountTable>) -> Arc<FsContext> {
        let c = FsContext::new(mounts);
        c.set_umask(self.umask());
        c
    }

    /// After `pivot_root(new_root, put_old)` on this context's mount table (canonical
    /// paths from before it): a root or working directory at the old root moves to
    /// the new one (`new_top`, the table's root after the pivot), others keep their
    /// directory under its new path.
    pub fn pivot(&self, new_root: &str, put_old: &str, new_top: &Loc) {
        let mut s = self.state.lock();
        let moved = |l: &Arc<Loc>| {
            if l.path == "/" {
                Arc::new(new_top.clone())
            } else {
                Arc::new(Loc {
                    path: super::mount::pivot_path(&l.path, new_root, put_old),
                    inode: l.inode.clone(),
                })
            }
        };
        s.root = moved(&s.root);
        s.cwd = moved(&s.cwd);
    }

    /// After `MS_MOVE` of the mount at canonical `from` to `to` on this context's table:
    /// a root or working directory inside the moved tree keeps its directory under its
    /// new path.
    pub fn moved(&self, from: &str, to: &str) {
        let mut s = self.state.lock();
        let rename = |l: &Arc<Loc>| match super::path::strip_root(&l.path, from) {
            Some(rest) => Arc::new(Loc {
                path: super::path::join_under(to, rest),
                inode: l.inode.clone(),
            }),
            None => l.clone(),
        };
        s.root = rename(&s.root);
        s.cwd = rename(&s.cwd);
    }

    /// Whether the root or working directory lies at or below canonical `path`.
    pub fn uses(&self, path: &str) -> bool {
        let s = self.state.lock();
        super::path::is_within(&s.root.path, path) || super::path::is_within(&s.cwd.path, path)
    }

    pub fn mounts(&self) -> &Arc<MountTable> {
        &self.mounts
    }

    pub fn root(&self) -> Loc {
        Loc::clone(&self.state.lock().root)
    }

    pub fn cwd(&self) -> Loc {
        Loc::clone(&self.state.lock().cwd)
    }

    /// Changes the working directory (the caller checked it is a searchable directory).
    pub fn set_cwd(&self, loc: Loc) {
        self.state.lock().cwd = Arc::new(loc);
    }

    /// Changes the root directory (`chroot`; the caller checked it is a searchable
    /// directory). The working directory stays.
    pub fn set_root(&self, loc: Loc) {
        self.state.lock().root = Arc::new(loc);
    }

    /// A canonical path as the caller names it: relative to its root directory, or
    /// `(unreachable)` before it when outside (Linux's `getcwd` after `chroot`).
    pub fn path_from_root(&self, path: &str) -> String {
        let root = self.root().path;
        if root == "/" {
            return String::from(path);
        }
        match path.strip_prefix(root.as_str()) {
            Some("") => String::from("/"),
            Some(rest) if rest.starts_with('/') => String::from(rest),
            _ => alloc::format!("(unreachable){path}"),
        }
    }

    pub fn umask(&self) -> u32 {
        self.state.lock().umask
    }

    /// Sets the umask; returns the old one.
    pub fn set_umask(&self, mask: u32) -> u32 {
        core::mem::replace(&mut self.state.lock().umask, mask & 0o777)
    }

    /// Resolves `path` relative to `base` (the working directory when `None`).
    pub fn resolve_at(&self, base: Option<&Loc>, path: &str, follow: bool) -> Result<Loc, Errno> {
        let (root, cwd) = self.root_and_cwd();
        Walker {
            mounts: &self.mounts,
            root: &root,
            cwd: base.unwrap_or(&cwd),
        }
        .resolve(path, follow)
    }

    /// [`resolve_at`](Self::resolve_at) for a caller that wants only the inode.
    pub fn resolve_inode_at(
        &self,
        base: Option<&Loc>,
        path: &str,
        follow: bool,
    ) -> Result<InodeRef, Errno> {
        // An absolute path or one from `base` needs no reference to the working directory.
        if base.is_some() || super::path::is_absolute(path) {
            let root = self.state.lock().root.clone();
            return Walker {
                mounts: &self.mounts,
                root: &root,
                cwd: base.unwrap_or(&root),
            }
            .resolve_inode(path, follow);
        }
        let (root, cwd) = self.root_and_cwd();
        Walker {
            mounts: &self.mounts,
            root: &root,
            cwd: &cwd,
        }
        .resolve_inode(path, follow)
    }

    pub fn resolve(&self, path: &str, follow: bool) -> Result<Loc, Errno> {
        self.resolve_at(None, path, follow)
    }

    /// [`resolve_at`](Self::resolve_at) under `openat2`'s `RESOLVE_*` restrictions; a
    /// scoped walk (`RESOLVE_BENEATH`, `RESOLVE_IN_ROOT`) has its start as its root.
    pub fn resolve_restricted(
        &self,
        base: Option<&Loc>,
        path: &str,
        follow: bool,
        rules: u64,
    ) -> Result<Loc, Errno> {
        self.scoped(base, rules, |w| w.resolve_restricted(path, follow, rules))
    }

    /// [`resolve_restricted`](Self::resolve_restricted) for `open`
    /// ([`Walker::resolve_open`]).
    pub fn resolve_open(
        &self,
        base: Option<&Loc>,
        path: &str,
        follow: bool,
        rules: u64,
    ) -> Result<Loc, Errno> {
        self.scoped(base, rules, |w| w.resolve_open(path, follow, rules))
    }

    /// Runs `f` with a walker from `base` (the working directory when `None`) whose root
    /// is the caller's, or `base` for a scoped walk under `rules`.
    fn scoped<R>(&self, base: Option<&Loc>, rules: u64, f: impl FnOnce(&Walker<'_>) -> R) -> R {
        let (root, cwd) = self.root_and_cwd();
        let start = base.unwrap_or(&cwd);
        f(&Walker {
            mounts: &self.mounts,
            root: scoped_root(start, &root, rules),
            cwd: start,
        })
    }

    /// [`resolve_parent_at`](Self::resolve_parent_at) under `RESOLVE_*` restrictions.
    pub fn resolve_parent_restricted(
        &self,
        base: Option<&Loc>,
        path: &str,
        rules: u64,
    ) -> Result<Parent, Errno> {
        self.scoped(base, rules, |w| w.resolve_parent_restricted(path, rules))
    }

    /// Resolves the parent directory of `path` relative to `base`.
    pub fn resolve_parent_at(&self, base: Option<&Loc>, path: &str) -> Result<Parent, Errno> {
        let (root, cwd) = self.root_and_cwd();
        Walker {
            mounts: &self.mounts,
            root: &root,
            cwd: base.unwrap_or(&cwd),
        }
        .resolve_parent(path)
    }

    fn root_and_cwd(&self) -> (Arc<Loc>, Arc<Loc>) {
        let s = self.state.lock();
        (s.root.clone(), s.cwd.clone())
    }
}

/// The root of a walk under `rules`: its start for a scoped one.
fn scoped_root<'a>(start: &'a Loc, root: &'a Loc, rules: u64) -> &'a Loc {
    use super::walk::{RESOLVE_BENEATH, RESOLVE_IN_ROOT};
    if rules & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0 {
        start
    } else {
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ramfs::RamFs;

    #[test]
    fn fork_copy_has_its_own_cwd_and_umask() {
        let mounts = MountTable::new(RamFs::new("rootfs"), "rootfs");
        mounts.root().inode.mkdir("d", 0o755, 0, 0).expect("mkdir");
        let a = FsContext::new(mounts);
        let b = a.fork_copy();
        b.set_cwd(b.resolve("/d", true).expect("/d"));
        assert_eq!(b.set_umask(0o7777), 0o022);
        assert_eq!(b.umask(), 0o777, "umask keeps permission bits only");
        assert_eq!(a.cwd().path, "/");
        assert_eq!(b.cwd().path, "/d");
        assert_eq!(b.resolve("..", true).map(|l| l.path), Ok("/".into()));
    }

    #[test]
    fn copy_into_finds_root_and_cwd_again_in_the_new_table() {
        let mounts = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let r = mounts.root().inode;
        r.mkdir("jail", 0o755, 0, 0)
            .expect("mkdir")
            .mkdir("w", 0o755, 0, 0)
            .expect("mkdir");
        r.mkdir("m", 0o755, 0, 0).expect("mkdir");
        mounts
            .mount("/m", RamFs::new("tmpfs"), "tmpfs", 0)
            .expect("mount");
        let a = FsContext::new(mounts.clone());
        a.set_root(a.resolve("/jail", true).expect("/jail"));
        a.set_cwd(a.resolve("/w", true).expect("/w"));
        a.set_umask(0o077);
        let copy = mounts.copy().expect("copy");
        let b = a.copy_into(copy.clone());
        assert!(Arc::ptr_eq(b.mounts(), &copy));
        assert_eq!(b.root().path, "/jail");
        assert_eq!(b.cwd().path, "/jail/w");
        assert_eq!(b.umask(), 0o077);
        let c = a.enter(copy);
        assert_eq!((c.root().path, c.cwd().path), ("/".into(), "/".into()));
        assert_eq!(c.umask(), 0o077);
        assert!(
            Arc::ptr_eq(a.fork_copy().mounts(), a.mounts()),
            "fork keeps the table"
        );
    }

    #[test]
    fn pivot_moves_contexts_at_the_old_root_and_renames_the_others() {
        let mounts = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let r = mounts.root().inode;
        r.mkdir("n", 0o755, 0, 0).expect("mkdir n");
        r.mkdir("w", 0o755, 0, 0).expect("mkdir w");
        mounts
            .mount("/n", RamFs::new("tmpfs"), "new", 0)
            .expect("mount /n");
        let at_root = FsContext::new(mounts.clone());
        let elsewhere = FsContext::new(mounts.clone());
        elsewhere.set_cwd(elsewhere.resolve("/w", true).expect("/w"));
        elsewhere
            .resolve("/n", true)
            .expect("/n")
            .inode
            .mkdir("old", 0o755, 0, 0)
            .expect("mkdir old");
        mounts.pivot("/n", "/n/old");
        let top = mounts.root();
        at_root.pivot("/n", "/n/old", &top);
        elsewhere.pivot("/n", "/n/old", &top);
        assert_eq!(
            (at_root.root().path, at_root.cwd().path),
            ("/".into(), "/".into())
        );
        assert!(Arc::ptr_eq(&at_root.root().inode, &top.inode));
        assert_eq!(elsewhere.cwd().path, "/old/w");
        assert_eq!(at_root.resolve("/..", true).map(|l| l.path), Ok("/".into()));
        assert_eq!(
            at_root.resolve("/old/w", true).map(|l| l.path),
            Ok("/old/w".into())
        );
    }

    #[test]
    fn after_chroot_paths_start_at_the_new_root_and_dotdot_stops_there() {
        let mounts = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let d = mounts
            .root()
            .inode
            .mkdir("jail", 0o755, 0, 0)
            .expect("mkdir");
        d.mkdir("a", 0o755, 0, 0).expect("mkdir");
        let c = FsContext::new(mounts);
        c.set_root(c.resolve("/jail", true).expect("/jail"));
        assert_eq!(c.resolve("/a", true).map(|l| l.path), Ok("/jail/a".into()));
        assert_eq!(
            c.resolve("/../../a", true).map(|l| l.path),
            Ok("/jail/a".into())
        );
        assert_eq!(c.path_from_root("/jail/a"), "/a");
        assert_eq!(c.path_from_root("/jail"), "/");
        assert_eq!(c.path_from_root("/jailx"), "(unreachable)/jailx");
        assert_eq!(c.path_from_root("/"), "(unreachable)/");
    }
}
