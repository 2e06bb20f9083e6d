//! Path resolution: walks a path through the mount tree from a root and a working
//! directory, following symlinks (at most 40, then `ELOOP`), treating `..` lexically on
//! canonical paths (so `..` at a mount root goes to the mount point's parent, and never
//! above the caller's root).

use super::mount::MountTable;
use super::path;
use super::vfs::{FileType, InodeRef};
use crate::errno::Errno;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Symlinks followed in one resolution before `ELOOP` (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// A resolved location: the inode and its canonical absolute path in the mount tree.
#[derive(Clone)]
pub struct Loc {
    pub path: String,
    pub inode: InodeRef,
}

impl core::fmt::Debug for Loc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Loc({})", self.path)
    }
}

impl Loc {
    pub fn file_type(&self) -> FileType {
        self.inode.file_type()
    }
}

/// The parent directory of a path and its last component (which may be `""` for `/`,
/// or `.`/`..`: callers give the errno their system call wants for those).
pub struct Parent {
    pub dir: Loc,
    pub name: String,
    pub trailing_slash: bool,
}

/// A path resolution context.
pub struct Walker<'a> {
    pub mounts: &'a MountTable,
    pub root: &'a Loc,
    pub cwd: &'a Loc,
}

impl Walker<'_> {
    /// Resolves `path` (relative ones from `cwd`). `follow` says whether a symlink in last
    /// position is followed; a trailing slash always follows and requires a directory.
    pub fn resolve(&self, path: &str, follow: bool) -> Result<Loc, Errno> {
        path::check(path)?;
        let start = if path::is_absolute(path) {
            self.root
        } else {
            self.cwd
        };
        let slash = path::has_trailing_slash(path);
        let loc = self.walk(start.clone(), path, follow || slash)?;
        if slash && loc.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(loc)
    }

    /// Resolves all but the last component of `path`, which must name a directory.
    pub fn resolve_parent(&self, path: &str) -> Result<Parent, Errno> {
        path::check(path)?;
        let (dir, name) = path::split_last(path);
        let dir = match dir {
            "" => self.cwd.clone(),
            d => self.walk(
                if path::is_absolute(d) {
                    self.root.clone()
                } else {
                    self.cwd.clone()
                },
                d,
                true,
            )?,
        };
        if dir.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(Parent {
            dir,
            name: name.to_string(),
            trailing_slash: path::has_trailing_slash(path),
        })
    }

    /// The location of an existing canonical path (no symlinks in it).
    fn canonical(&self, path: &str) -> Result<Loc, Errno> {
        self.walk(self.mounts.root(), path, false)
    }

    /// The child `name` of directory `dir`, or the root of what is mounted on it.
    fn step(&self, dir: &Loc, name: &str) -> Result<Loc, Errno> {
        let inode = dir.inode.lookup(name)?;
        let path = path::join(&dir.path, name);
        let inode = match self.mounts.mount_at(&path) {
            Some(m) => m.root(),
            None => inode,
        };
        Ok(Loc { path, inode })
    }

    fn walk(&self, start: Loc, path: &str, follow_last: bool) -> Result<Loc, Errno> {
        // Directories walked so far (with their type); `..` pops.
        let start_type = start.file_type();
        let mut stack = vec![(start, start_type)];
        // The texts being walked: the path, then the targets of the symlinks met. A
        // component is a (text, start, end) triple, so none is copied.
        let mut texts: Vec<String> = vec![String::from(path)];
        // Components still to walk, the next one last.
        let mut todo: Vec<(usize, usize, usize)> = Vec::new();
        push_components(&mut todo, 0, path);
        let mut links = 0;
        while let Some((t, a, b)) = todo.pop() {
            let (cur, cur_type) = stack.last().expect("the walk stack is never empty");
            if *cur_type != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            let name = &texts[t][a..b];
            match name {
                "." => {}
                ".." => {
                    if cur.path == self.root.path {
                        continue;
                    }
                    if stack.len() > 1 {
                        stack.pop();
                    } else {
                        let parent = self.canonical(path::parent(&cur.path))?;
                        let ty = parent.file_type();
                        stack[0] = (parent, ty);
                    }
                }
                _ => {
                    let child = self.step(cur, name)?;
                    let ty = child.file_type();
                    let is_last = todo.is_empty();
                    if ty == FileType::Symlink && (!is_last || follow_last) {
                        links += 1;
                        if links > MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        if let Some(target) = child.inode.magic_target() {
                            // A magic link lands on its object; it keeps the link's path.
                            let inode = target?;
                            let ty = inode.file_type();
                            stack.push((
                                Loc {
                                    path: child.path,
                                    inode,
                                },
                                ty,
                            ));
                            continue;
                        }
                        let target = child.inode.readlink()?;
                        if target.is_empty() {
                            return Err(Errno::ENOENT);
                        }
                        if path::is_absolute(&target) {
                            stack = vec![(self.root.clone(), FileType::Directory)];
                        }
                        push_components(&mut todo, texts.len(), &target);
                        texts.push(target);
                        continue;
                    }
                    stack.push((child, ty));
                }
            }
        }
        Ok(stack.pop().expect("the walk stack is never empty").0)
    }
}

/// Pushes the non-empty components of `text` (text number `t`) onto `todo`, last first.
fn push_components(todo: &mut Vec<(usize, usize, usize)>, t: usize, text: &str) {
    let mark = todo.len();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'/' {
            i += 1;
        }
        todo.push((t, start, i));
    }
    todo[mark..].reverse();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ramfs::RamFs;
    use crate::fs::vfs::{FileSystem, S_IFREG};
    use alloc::sync::Arc;

    fn tree() -> Arc<MountTable> {
        let t = MountTable::new(RamFs::new("rootfs"), "rootfs");
        let r = t.root().inode;
        let a = r.mkdir("a", 0o755, 0, 0).expect("mkdir a");
        let b = a.mkdir("b", 0o755, 0, 0).expect("mkdir b");
        b.create("f", S_IFREG | 0o644, 0, 0, 0).expect("create f");
        r.symlink("abs", "/a/b", 0, 0).expect("symlink abs");
        a.symlink("rel", "b/f", 0, 0).expect("symlink rel");
        r.symlink("loop", "loop", 0, 0).expect("symlink loop");
        r.mkdir("mnt", 0o755, 0, 0).expect("mkdir mnt");
        t
    }

    fn resolve(t: &MountTable, cwd: &str, p: &str, follow: bool) -> Result<String, Errno> {
        let root = t.root();
        let w0 = Walker {
            mounts: t,
            root: &root,
            cwd: &root,
        };
        let cwd = w0.resolve(cwd, true).expect("cwd exists");
        let w = Walker {
            mounts: t,
            root: &root,
            cwd: &cwd,
        };
        w.resolve(p, follow).map(|l| l.path)
    }

    #[test]
    fn dots_and_absolute_and_relative_paths_resolve_to_canonical_paths() {
        let t = tree();
        assert_eq!(
            resolve(&t, "/", "/a/./b/../b/f", true),
            Ok("/a/b/f".to_string())
        );
        assert_eq!(resolve(&t, "/a/b", "../../a", true), Ok("/a".to_string()));
        assert_eq!(resolve(&t, "/a/b", "f", true), Ok("/a/b/f".to_string()));
        assert_eq!(
            resolve(&t, "/", "/../../a", true),
            Ok("/a".to_string()),
            ".. stops at the root"
        );
        assert_eq!(resolve(&t, "/", "/nope", true), Err(Errno::ENOENT));
        assert_eq!(resolve(&t, "/", "/a/b/f/x", true), Err(Errno::ENOTDIR));
        assert_eq!(resolve(&t, "/", "", true), Err(Errno::ENOENT));
    }

    #[test]
    fn symlinks_are_followed_except_in_last_position_without_follow() {
        let t = tree();
        assert_eq!(resolve(&t, "/", "/abs/f", false), Ok("/a/b/f".to_string()));
        assert_eq!(resolve(&t, "/", "/a/rel", true), Ok("/a/b/f".to_string()));
        assert_eq!(resolve(&t, "/", "/a/rel", false), Ok("/a/rel".to_string()));
        assert_eq!(
            resolve(&t, "/", "/abs/", false),
            Ok("/a/b".to_string()),
            "a trailing slash follows"
        );
        assert_eq!(
            resolve(&t, "/", "/abs/..", true),
            Ok("/a".to_string()),
            ".. after a symlink is the target's parent"
        );
    }

    #[test]
    fn symlink_loops_give_eloop() {
        let t = tree();
        assert_eq!(resolve(&t, "/", "/loop", true), Err(Errno::ELOOP));
        assert_eq!(resolve(&t, "/", "/loop", false), Ok("/loop".to_string()));
        assert_eq!(resolve(&t, "/", "/loop/x", false), Err(Errno::ELOOP));
    }

    #[test]
    fn trailing_slash_on_a_file_gives_enotdir() {
        let t = tree();
        assert_eq!(resolve(&t, "/", "/a/b/f/", true), Err(Errno::ENOTDIR));
    }

    #[test]
    fn walks_cross_into_mounts_and_dotdot_leaves_them() {
        let t = tree();
        let fs = RamFs::new("tmpfs");
        fs.root().mkdir("inner", 0o755, 0, 0).expect("mkdir inner");
        t.mount("/mnt", fs, "none", 0).expect("mount");
        assert_eq!(
            resolve(&t, "/", "/mnt/inner", true),
            Ok("/mnt/inner".to_string())
        );
        assert_eq!(
            resolve(&t, "/mnt", "inner/../../a", true),
            Ok("/a".to_string())
        );
        assert_eq!(
            resolve(&t, "/mnt/inner", "../..", true),
            Ok("/".to_string()),
            "cwd's ancestors come from its path"
        );
        let root = t.root();
        let w = Walker {
            mounts: &t,
            root: &root,
            cwd: &root,
        };
        let m = w.resolve("/mnt", true).expect("mount root");
        assert_eq!(
            m.inode.metadata().ino,
            1,
            "the mount root hides the directory below"
        );
    }

    #[test]
    fn resolve_parent_returns_the_directory_and_last_name() {
        let t = tree();
        let root = t.root();
        let w = Walker {
            mounts: &t,
            root: &root,
            cwd: &root,
        };
        let p = w.resolve_parent("/abs/new/").expect("parent");
        assert_eq!(
            (p.dir.path.as_str(), p.name.as_str(), p.trailing_slash),
            ("/a/b", "new", true)
        );
        let p = w.resolve_parent("x").expect("relative parent");
        assert_eq!((p.dir.path.as_str(), p.name.as_str()), ("/", "x"));
        assert_eq!(w.resolve_parent("/a/b/f/x").err(), Some(Errno::ENOTDIR));
        assert_eq!(w.resolve_parent("/nope/x").err(), Some(Errno::ENOENT));
    }
}
