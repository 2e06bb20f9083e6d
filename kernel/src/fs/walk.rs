//! Path resolution: walks a path through the mount tree from a root and a working
//! directory, following symlinks (at most 40, then `ELOOP`), treating `..` lexically on
//! canonical paths (so `..` at a mount root goes to the mount point's parent, and never
//! above the caller's root).

use super::mount::MountTable;
use super::path;
use super::vfs::{FileType, Follow, InodeRef, WalkMemo};
use super::walkpath::{PathSink, WalkPath};
use crate::errno::Errno;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Symlinks followed in one resolution before `ELOOP` (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// `openat2`'s `RESOLVE_*` restrictions on a walk (Linux's values).
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Stay below the starting directory (`EXDEV` on escaping); the walker's root is that
/// directory.
pub const RESOLVE_BENEATH: u64 = 0x08;
/// The starting directory is the root (`..` and absolute links stop there); the walker's
/// root is that directory.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;

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
        self.resolve_restricted(path, follow, 0)
    }

    /// [`resolve`](Self::resolve) under `RESOLVE_*` restrictions `rules`.
    pub fn resolve_restricted(&self, path: &str, follow: bool, rules: u64) -> Result<Loc, Errno> {
        let mut at = String::new();
        let inode = self.resolve_into(&mut at, path, follow, rules)?;
        Ok(Loc { path: at, inode })
    }

    /// [`resolve_restricted`](Self::resolve_restricted) for `open`: the walk builds its
    /// path on the kernel stack, and the result's `String` is made once at the end, and
    /// not at all for an inode outside every mount (an nsfs one: its open file is named
    /// by the inode, `uts:[4026531838]`, as Linux names it).
    pub fn resolve_open(&self, path: &str, follow: bool, rules: u64) -> Result<Loc, Errno> {
        let mut at = WalkPath::new();
        let inode = self.resolve_into(&mut at, path, follow, rules)?;
        let path = match inode.outside_mounts() {
            true => String::new(),
            false => {
                let text = at.as_str()?;
                let mut s = String::new();
                s.try_reserve_exact(text.len()).map_err(|_| Errno::ENOMEM)?;
                s.push_str(text);
                s
            }
        };
        Ok(Loc { path, inode })
    }

    /// [`resolve_restricted`](Self::resolve_restricted) building the path in `at`.
    #[inline(always)]
    fn resolve_into<P: PathSink>(
        &self,
        at: &mut P,
        path: &str,
        follow: bool,
        rules: u64,
    ) -> Result<InodeRef, Errno> {
        path::check(path)?;
        if rules & RESOLVE_BENEATH != 0 && path::is_absolute(path) {
            return Err(Errno::EXDEV);
        }
        let start = if path::is_absolute(path) {
            self.root
        } else {
            self.cwd
        };
        let slash = path::has_trailing_slash(path);
        PathSink::reserve(at, start.path.len() + 1 + path.len())?;
        let inode = self.walk_into(at, start, path, follow || slash, rules)?;
        if slash && inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(inode)
    }

    /// Resolves all but the last component of `path`, which must name a directory.
    pub fn resolve_parent(&self, path: &str) -> Result<Parent, Errno> {
        self.resolve_parent_restricted(path, 0)
    }

    /// [`resolve_parent`](Self::resolve_parent) under `RESOLVE_*` restrictions `rules`.
    pub fn resolve_parent_restricted(&self, path: &str, rules: u64) -> Result<Parent, Errno> {
        path::check(path)?;
        if rules & RESOLVE_BENEATH != 0 && path::is_absolute(path) {
            return Err(Errno::EXDEV);
        }
        let (dir, name) = path::split_last(path);
        let dir = match dir {
            "" => self.cwd.clone(),
            d => self.walk_with(
                if path::is_absolute(d) {
                    self.root
                } else {
                    self.cwd
                },
                d,
                true,
                rules,
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
        self.walk(&self.mounts.root(), path, false)
    }

    /// Walks `path` from `start`. Allocation-free apart from the result's path, the stack
    /// of directories and the targets of symlinks met: path walks run on every path
    /// system call.
    fn walk(&self, start: &Loc, path: &str, follow_last: bool) -> Result<Loc, Errno> {
        self.walk_with(start, path, follow_last, 0)
    }

    /// Whether canonical paths `a` and `b` lie on the same mount (`RESOLVE_NO_XDEV`).
    fn same_mount(&self, a: &str, b: &str) -> bool {
        match (self.mounts.mount_of(a), self.mounts.mount_of(b)) {
            (Some(x), Some(y)) => alloc::sync::Arc::ptr_eq(&x, &y),
            (x, y) => x.is_none() && y.is_none(),
        }
    }

    /// [`walk`](Self::walk) under `RESOLVE_*` restrictions `rules`.
    fn walk_with(
        &self,
        start: &Loc,
        path: &str,
        follow_last: bool,
        rules: u64,
    ) -> Result<Loc, Errno> {
        let mut at = String::new();
        PathSink::reserve(&mut at, start.path.len() + 1 + path.len())?;
        let inode = self.walk_into(&mut at, start, path, follow_last, rules)?;
        Ok(Loc { path: at, inode })
    }

    /// [`resolve`](Self::resolve) for a caller that wants only the inode (`readlink`):
    /// the walk's path stays on the kernel stack.
    pub fn resolve_inode(&self, path: &str, follow: bool) -> Result<InodeRef, Errno> {
        self.resolve_into(&mut WalkPath::new(), path, follow, 0)
    }

    /// Walks `path` from `start`, building the canonical path reached in `at`; returns
    /// the inode there.
    /// Inline in its two callers: through a reference, `at`'s length and pointer would
    /// live in memory rather than registers.
    #[inline(always)]
    fn walk_into<P: PathSink>(
        &self,
        at: &mut P,
        start: &Loc,
        path: &str,
        follow_last: bool,
        rules: u64,
    ) -> Result<InodeRef, Errno> {
        let scoped = rules & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
        // The canonical path of the directory (or file) reached: `cur`'s.
        at.push_str(&start.path)?;
        let mut cur = start.inode.clone();
        let mut cur_type = start.file_type();
        // The directories above `cur` walked so far (inode, type, length of `at` there);
        // `..` pops, and re-walks the parent's path when none is left. Kept only for a
        // path with a `.` in it (a `..` may come), and from a symlink whose text has one.
        let mut stack = DirStack::new(has_dot(path));
        // What is left to walk: `path` from `rest`, after the rest of the symlink targets
        // met (the innermost last), each with the offset reached in it.
        let mut rest = 0;
        let mut targets = Targets::default();
        let mut links = 0;
        let mut memo = WalkMemo::default();
        // No rule of the walk looks at magic links (see `memo.set_follow`).
        let magic_in_lookup =
            !scoped && rules & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV) == 0;
        loop {
            let (text, pos, in_path) = match targets.last_mut() {
                Some((t, p)) => (t.as_str(), p, false),
                None => (path, &mut rest, true),
            };
            // The component is added to the path as it is found (one pass over it); a
            // `.` or `..` is taken off again.
            let dir_len = at.len();
            let Some((a, b)) = at.push_next(text, *pos)? else {
                if targets.pop() {
                    continue;
                }
                break;
            };
            *pos = b;
            if cur_type != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            let name = text.get(a..b).ok_or(Errno::EINVAL)?;
            match name.as_bytes() {
                b"." => at.truncate(dir_len),
                b".." => {
                    at.truncate(dir_len);
                    if at.is(&self.root.path) {
                        if rules & RESOLVE_BENEATH != 0 {
                            return Err(Errno::EXDEV);
                        }
                    } else if rules & RESOLVE_NO_XDEV != 0
                        && self.mounts.mount_at_bytes(at.bytes()).is_some()
                    {
                        return Err(Errno::EXDEV);
                    } else if let Some((up, ty, len)) = stack.pop() {
                        (cur, cur_type) = (up, ty);
                        at.truncate(len);
                    } else {
                        let parent = self.canonical(path::parent(at.as_str()?))?;
                        cur_type = parent.file_type();
                        at.set(&parent.path)?;
                        cur = parent.inode;
                    }
                    // Linux steps onto the mounts stacked on where `..` lands; at the
                    // root they are not passed on the way down (fuzz seed 21: how a
                    // mount over `/` is reached).
                    if at.is(&self.root.path)
                        && !scoped
                        && rules & RESOLVE_NO_XDEV == 0
                        && let Some(m) = self.mounts.mount_at_bytes(at.bytes())
                    {
                        stack.clear();
                        cur = m.root();
                        cur_type = cur.file_type();
                    }
                }
                _ => {
                    // A magic link here may land on its object in the lookup: when it is
                    // followed (not last, or last and followed) and no rule looks at it.
                    memo.set_follow(magic_in_lookup && in_path && (follow_last || b < path.len()));
                    let (inode, mut ty) = cur.lookup_in(name, &mut memo)?;
                    if memo.take_followed() {
                        // It keeps the link's path, as a magic link without one does (a
                        // `..` after it climbs by the path: it has no text to climb).
                        links += 1;
                        if links > MAX_SYMLINKS {
                            return Err(Errno::ELOOP);
                        }
                        stack.descend(&mut cur, &mut cur_type, inode, ty, dir_len)?;
                        continue;
                    }
                    // Directories and (bind mounts of single files) other non-links are
                    // mount points.
                    let inode = match ty {
                        FileType::Symlink => inode,
                        _ => match self.mounts.mount_at_bytes(at.bytes()) {
                            Some(_) if rules & RESOLVE_NO_XDEV != 0 => {
                                return Err(Errno::EXDEV);
                            }
                            Some(m) => {
                                let root = m.root();
                                ty = root.file_type();
                                root
                            }
                            None => inode,
                        },
                    };
                    let is_last = || {
                        next_component(path, rest).is_none()
                            && targets.iter().all(|(t, p)| next_component(t, *p).is_none())
                    };
                    if ty == FileType::Symlink && (follow_last || !is_last()) {
                        links += 1;
                        if links > MAX_SYMLINKS || rules & RESOLVE_NO_SYMLINKS != 0 {
                            return Err(Errno::ELOOP);
                        }
                        match inode.follow(&memo) {
                            Follow::Text => {}
                            Follow::Sibling(sibling) => {
                                let (target, n) = sibling?;
                                at.truncate(dir_len);
                                at.push_slash()?;
                                at.push_decimal(n)?;
                                let (target, ty) = match self.mounts.mount_at_bytes(at.bytes()) {
                                    Some(m) => {
                                        let root = m.root();
                                        let ty = root.file_type();
                                        (root, ty)
                                    }
                                    None => {
                                        let ty = target.file_type();
                                        (target, ty)
                                    }
                                };
                                stack.descend(&mut cur, &mut cur_type, target, ty, dir_len)?;
                                continue;
                            }
                            Follow::Magic(target, magic_path) => {
                                if rules & RESOLVE_NO_MAGICLINKS != 0 {
                                    return Err(Errno::ELOOP);
                                }
                                // Linux: not safe for scoped walks; across mounts for NO_XDEV.
                                let other_mount = || -> Result<bool, Errno> {
                                    let dir = at.prefix(dir_len)?;
                                    Ok(magic_path.as_ref().is_none_or(|p| !self.same_mount(p, dir)))
                                };
                                if scoped || (rules & RESOLVE_NO_XDEV != 0 && other_mount()?) {
                                    return Err(Errno::EXDEV);
                                }
                                // A magic link lands on its object; it keeps the link's path.
                                let target = target?;
                                let ty = target.file_type();
                                match magic_path {
                                    Some(p) => {
                                        stack.clear();
                                        at.set(&p)?;
                                        (cur, cur_type) = (target, ty);
                                    }
                                    None => {
                                        stack.descend(
                                            &mut cur,
                                            &mut cur_type,
                                            target,
                                            ty,
                                            dir_len,
                                        )?;
                                    }
                                }
                                continue;
                            }
                        }
                        let target = inode.readlink()?;
                        if target.is_empty() {
                            return Err(Errno::ENOENT);
                        }
                        // A `..` in the text climbs from here: keep the steps from now on
                        // (one in the path itself kept them from the start).
                        if has_dot(&target) {
                            stack.keep_from_now();
                        }
                        if path::is_absolute(&target) {
                            if rules & RESOLVE_BENEATH != 0
                                || (rules & RESOLVE_NO_XDEV != 0
                                    && !self.same_mount(at.prefix(dir_len)?, &self.root.path))
                            {
                                return Err(Errno::EXDEV);
                            }
                            stack.clear();
                            at.set(&self.root.path)?;
                            cur = self.root.inode.clone();
                            cur_type = FileType::Directory;
                        } else {
                            at.truncate(dir_len);
                        }
                        targets.push((target, 0))?;
                        continue;
                    }
                    stack.descend(&mut cur, &mut cur_type, inode, ty, dir_len)?;
                }
            }
        }
        Ok(cur)
    }
}

/// The next non-empty component of `text` at or after byte `from`, as a byte range.
/// Two plain loops (`position` costs twice as much in this build): it runs once per
/// component and again for each symlink met.
pub(super) fn next_component(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut a = from;
    while *bytes.get(a)? == b'/' {
        a += 1;
    }
    let mut b = a + 1;
    while b < bytes.len() && bytes[b] != b'/' {
        b += 1;
    }
    Some((a, b))
}

/// One directory of a walk: the inode, its type, the length of the walk's path there.
type Step = (InodeRef, FileType, usize);

/// Steps kept on the kernel stack before [`DirStack`] spills to the heap: enough for
/// nearly every path, so a walk allocates nothing for its directories.
const INLINE_STEPS: usize = 8;

/// Whether `path` has a `.`: eight bytes at a time, the last eight overlapping the
/// words before (a walk asks once, to know whether a `..` can come).
fn has_dot(path: &str) -> bool {
    const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);
    const LOW: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let dot_in = |w: &[u8]| {
        let x = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ DOTS;
        x.wrapping_sub(LOW) & !x & HIGH != 0
    };
    let b = path.as_bytes();
    if b.len() < 8 {
        return b.contains(&b'.');
    }
    b.chunks_exact(8).any(dot_in) || dot_in(&b[b.len() - 8..])
}

/// The directories above the one a walk has reached, the innermost last (`..` pops).
/// A walk whose path cannot climb keeps none: [`push`](Self::push) drops the step.
struct DirStack {
    /// `None` while the walk keeps no steps (made when it starts to: a walk that keeps
    /// none neither fills nor drops the slots).
    inline: Option<[Option<Step>; INLINE_STEPS]>,
    /// Steps past the inline ones (`None` until a walk goes that deep: an empty `Vec`'s
    /// drop is still a call).
    spill: Option<Vec<Step>>,
    len: usize,
}

impl DirStack {
    #[inline]
    fn new(keep: bool) -> DirStack {
        let mut s = DirStack {
            inline: None,
            spill: None,
            len: 0,
        };
        if keep {
            s.keep_from_now();
        }
        s
    }

    /// Steps from directory `cur` (its path `dir_len` long) into `to`, of type `ty`:
    /// `cur` goes on the stack.
    #[inline(always)]
    fn descend(
        &mut self,
        cur: &mut InodeRef,
        cur_type: &mut FileType,
        to: InodeRef,
        ty: FileType,
        dir_len: usize,
    ) -> Result<(), Errno> {
        self.push((core::mem::replace(cur, to), *cur_type, dir_len))?;
        *cur_type = ty;
        Ok(())
    }

    /// Keeps the steps from now on (a symlink's text may climb).
    fn keep_from_now(&mut self) {
        self.inline.get_or_insert_with(Default::default);
    }

    /// Inline (a walk pushes at every step); the spill out of line.
    #[inline]
    fn push(&mut self, step: Step) -> Result<(), Errno> {
        let Some(inline) = &mut self.inline else {
            return Ok(());
        };
        match inline.get_mut(self.len) {
            Some(slot) => *slot = Some(step),
            None => self.spill(step)?,
        }
        self.len += 1;
        Ok(())
    }

    #[inline(never)]
    fn spill(&mut self, step: Step) -> Result<(), Errno> {
        let spill = self.spill.get_or_insert_default();
        spill.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        spill.push(step);
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> Option<Step> {
        let step = match self.len {
            0 => return None,
            n if n <= INLINE_STEPS => self.inline.as_mut()?[n - 1].take(),
            _ => self.spill.as_mut().and_then(Vec::pop),
        };
        self.len -= 1;
        step
    }

    fn clear(&mut self) {
        while self.pop().is_some() {}
    }
}

/// The symlink targets a walk is inside, the innermost last, each with the offset
/// reached in it (`None` until the walk meets a link: an empty `Vec`'s drop is a call).
#[derive(Default)]
struct Targets(Option<Vec<(String, usize)>>);

impl Targets {
    #[inline]
    fn last_mut(&mut self) -> Option<&mut (String, usize)> {
        self.0.as_mut().and_then(|v| v.last_mut())
    }

    /// Drops the innermost target: false when there was none.
    #[inline]
    fn pop(&mut self) -> bool {
        self.0.as_mut().and_then(Vec::pop).is_some()
    }

    fn push(&mut self, target: (String, usize)) -> Result<(), Errno> {
        let v = self.0.get_or_insert_default();
        v.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        v.push(target);
        Ok(())
    }

    fn iter(&self) -> impl Iterator<Item = &(String, usize)> {
        self.0.iter().flatten()
    }
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
    fn deep_paths_past_the_inline_stack_walk_and_climb_back() {
        let t = tree();
        let mut d = t.root().inode;
        let mut deep = String::new();
        for i in 0..20 {
            let name = format!("d{i}");
            d = d.mkdir(&name, 0o755, 0, 0).expect("mkdir");
            deep.push('/');
            deep.push_str(&name);
        }
        assert_eq!(resolve(&t, "/", &deep, true), Ok(deep.clone()));
        let up = format!("{deep}{}", "/..".repeat(17));
        assert_eq!(resolve(&t, "/", &up, true), Ok("/d0/d1/d2".to_string()));
        let down_up_down = format!("{deep}/../../d18/d19/../../../a");
        assert_eq!(
            resolve(&t, "/", &down_up_down, true),
            Err(Errno::ENOENT),
            "/d0/.../d17/a does not exist"
        );
        let rel = format!("{}a/b/f", "../".repeat(25));
        assert_eq!(resolve(&t, &deep, &rel, true), Ok("/a/b/f".to_string()));
    }

    #[test]
    fn has_dot_finds_a_dot_anywhere() {
        assert!(!has_dot("/proc/1234/ns/uts"));
        assert!(!has_dot(""));
        for i in 0..20 {
            let mut p = "x".repeat(20);
            p.replace_range(i..i + 1, ".");
            assert!(has_dot(&p), "a dot at {i}");
        }
        assert!(has_dot("a/.."));
        assert!(!has_dot(&"/".repeat(33)));
    }

    #[test]
    fn next_component_skips_slashes() {
        assert_eq!(next_component("//ab//c/", 0), Some((2, 4)));
        assert_eq!(next_component("//ab//c/", 4), Some((6, 7)));
        assert_eq!(next_component("//ab//c/", 7), None);
        assert_eq!(next_component("x", 0), Some((0, 1)));
        assert_eq!(next_component("x", 1), None);
        assert_eq!(next_component("", 0), None);
        assert_eq!(next_component("ab", 5), None);
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
    fn symlinks_in_symlink_targets_continue_with_the_rest_of_each_text() {
        let t = tree();
        t.root()
            .inode
            .lookup("a")
            .and_then(|a| a.symlink("up", "../abs", 0, 0))
            .expect("symlink up");
        assert_eq!(resolve(&t, "/", "/a/up/f", false), Ok("/a/b/f".to_string()));
        assert_eq!(resolve(&t, "/a", "up//./f", true), Ok("/a/b/f".to_string()));
        assert_eq!(resolve(&t, "/", "/a/up", false), Ok("/a/up".to_string()));
        assert_eq!(resolve(&t, "/", "/a/up/", false), Ok("/a/b".to_string()));
        assert_eq!(resolve(&t, "/", "/a/up/..", true), Ok("/a".to_string()));
    }

    /// A `..` in a link's target climbs from where the link was met.
    #[test]
    fn dotdot_in_link_targets_climbs_from_where_the_link_was_met() {
        let t = tree();
        let c = t
            .root()
            .inode
            .lookup("a")
            .and_then(|a| a.lookup("b"))
            .and_then(|b| b.mkdir("c", 0o755, 0, 0))
            .expect("mkdir c");
        c.symlink("l", "../../b/./f", 0, 0).expect("symlink l");
        c.symlink("m", "../../../a/b/c/..", 0, 0)
            .expect("symlink m");
        assert_eq!(resolve(&t, "/", "/a/b/c/l", true), Ok("/a/b/f".to_string()));
        assert_eq!(resolve(&t, "/a", "b/c/m", true), Ok("/a/b".to_string()));
        assert_eq!(
            resolve(&t, "/", "/a/b/c/m/c/l", true),
            Ok("/a/b/f".to_string())
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
    fn restricted_walks_refuse_symlinks_escapes_and_mount_crossings() {
        let t = tree();
        t.mount("/mnt", RamFs::new("tmpfs"), "none", 0)
            .expect("mount");
        let root = t.root();
        let w = Walker {
            mounts: &t,
            root: &root,
            cwd: &root,
        };
        let a = w.resolve("/a", true).expect("/a");
        let scoped = Walker {
            mounts: &t,
            root: &a,
            cwd: &a,
        };
        let path = |r: Result<Loc, Errno>| r.map(|l| l.path);
        assert_eq!(
            path(w.resolve_restricted("/a/rel", true, RESOLVE_NO_SYMLINKS)),
            Err(Errno::ELOOP)
        );
        assert_eq!(
            path(w.resolve_restricted("/a/rel", false, RESOLVE_NO_SYMLINKS)),
            Ok("/a/rel".to_string()),
            "a last link not followed is fine"
        );
        assert_eq!(
            path(scoped.resolve_restricted("..", true, RESOLVE_BENEATH)),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            path(scoped.resolve_restricted("b/../rel", true, RESOLVE_BENEATH)),
            Ok("/a/b/f".to_string())
        );
        assert_eq!(
            path(scoped.resolve_restricted("../../b/f", true, RESOLVE_IN_ROOT)),
            Ok("/a/b/f".to_string()),
            "IN_ROOT: .. stays at the start"
        );
        assert_eq!(
            path(w.resolve_restricted("/mnt", true, RESOLVE_NO_XDEV)),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            path(w.resolve_restricted("/abs/f", true, RESOLVE_NO_XDEV)),
            Ok("/a/b/f".to_string())
        );
    }

    #[test]
    fn trailing_slash_on_a_file_gives_enotdir() {
        let t = tree();
        assert_eq!(resolve(&t, "/", "/a/b/f/", true), Err(Errno::ENOTDIR));
    }

    /// Seed 21: `/` stays the caller's root when a mount stacks on it, as on Linux;
    /// `/..` steps onto the top of the stack.
    #[test]
    fn seed_21_dotdot_at_the_root_reaches_a_mount_stacked_on_it() {
        let t = tree();
        let root = t.root();
        let over = RamFs::new("tmpfs");
        let dev = over.root().metadata().dev;
        t.mount("/", over, "none", 0).expect("mount over /");
        let w = Walker {
            mounts: &t,
            root: &root,
            cwd: &root,
        };
        let dev_of = |p: &str| w.resolve(p, true).map(|l| (l.path, l.inode.metadata().dev));
        let root_dev = root.inode.metadata().dev;
        assert_eq!(dev_of("/"), Ok(("/".to_string(), root_dev)));
        assert_eq!(dev_of("/.."), Ok(("/".to_string(), dev)));
        assert_eq!(dev_of("/a/../.."), Ok(("/".to_string(), dev)));
        assert_eq!(dev_of("/a/.."), Ok(("/".to_string(), dev)));
        assert_eq!(dev_of("/."), Ok(("/".to_string(), root_dev)));
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
