//! `/proc/[pid]/uid_map`, `gid_map` and `setgroups`: the files of a process's user
//! container, with the rules of user_namespaces(7) and Linux's `proc_id_map_write`.
//!
//! The file keeps the opener's credentials (Linux's `file->f_cred`): an id map opened
//! before `unshare` and written after it is judged by the opener's rights. Unlike Linux,
//! which also binds the target user container at open, the target is the process's user
//! container at the time of each read or write: that is what the LiteOS-A port of
//! user_003 needs ("open `uid_map`/`gid_map` before `unshare`", containers.md). The checks
//! themselves are the pure function [`check_map_write`] over the writer's, opener's and
//! target's facts.

use super::file::{FileOps, OpenFile, SEEK_CUR, SEEK_SET};
use super::procfs::KernelView;
use crate::container::user::UserContainer;
use crate::cred::idmap::IdMap;
use crate::cred::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, Credentials};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;

/// Which of the three files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserFile {
    UidMap,
    GidMap,
    Setgroups,
}

impl UserFile {
    fn is_gid(self) -> bool {
        self == UserFile::GidMap
    }
}

/// Linux's limit on one map write (`count >= PAGE_SIZE` → `EINVAL`).
pub const MAP_WRITE_MAX: usize = 4096;

/// What decides whether a map write is allowed (kernel ids throughout).
#[derive(Clone, Copy, Debug, Default)]
pub struct MapWriteFacts {
    /// The target is the root user container (its map is fixed).
    pub target_is_root: bool,
    /// The map was written already.
    pub written: bool,
    /// `/proc/[pid]/setgroups` of the target reads "deny".
    pub setgroups_denied: bool,
    /// The opener's user container is the target or the target's parent.
    pub opener_in_target_or_parent: bool,
    /// The opener has `CAP_SYS_ADMIN` in the target (Linux's `file_ns_capable`).
    pub opener_admin_in_target: bool,
    /// The writer has `CAP_SETUID` (`CAP_SETGID` for gid_map) in the target
    /// (user_namespaces(7), rule 1).
    pub writer_setid_in_target: bool,
    /// The writer and the opener have that capability in the target's parent: any map.
    pub writer_setid_in_parent: bool,
    pub opener_setid_in_parent: bool,
    /// The opener's effective uid is the target's owner.
    pub opener_is_owner: bool,
    /// The opener's effective uid (egid for gid_map).
    pub opener_id: u32,
}

/// The checks of a write of `text` at `offset` to a uid_map (`gid` false) or gid_map, in
/// Linux's order: `EPERM` for the root container or an opener outside the target and its
/// parent; `EINVAL` unless one write of less than 4096 bytes at offset 0; `EPERM` when
/// written already or without the capabilities over the target; `EINVAL` for bad text;
/// `EPERM` unless privileged over the parent or mapping just the opener's own id (with
/// setgroups denied for gid_map); `EPERM` when the parent does not map a range.
/// `lower_to_kernel` translates a range of parent ids to kernel ids.
pub fn check_map_write(
    gid: bool,
    f: &MapWriteFacts,
    offset: u64,
    text: &[u8],
    lower_to_kernel: impl Fn(u32, u32) -> Result<u32, Errno>,
) -> Result<IdMap, Errno> {
    if f.target_is_root || !f.opener_in_target_or_parent {
        return Err(Errno::EPERM);
    }
    if offset != 0 || text.len() >= MAP_WRITE_MAX {
        return Err(Errno::EINVAL);
    }
    if f.written || !f.opener_admin_in_target || !f.writer_setid_in_target {
        return Err(Errno::EPERM);
    }
    let text = core::str::from_utf8(text).map_err(|_| Errno::EINVAL)?;
    // Syntax first (EINVAL), then the rights (EPERM), then the translation (EPERM).
    let raw = IdMap::parse(text, |lower, _| Ok(lower))?;
    // Linux's `map_write`: neither start may be 4294967295 and `start + count` may not
    // wrap (so the last id of a map is at most 4294967294).
    let wraps = |start: u32, count: u32| start == u32::MAX || start.checked_add(count).is_none();
    if raw
        .extents()
        .iter()
        .any(|e| wraps(e.first, e.count) || wraps(e.lower, e.count))
    {
        return Err(Errno::EINVAL);
    }
    let privileged = f.writer_setid_in_parent && f.opener_setid_in_parent;
    let own_id_only = match raw.extents() {
        [e] => {
            e.count == 1
                && f.opener_is_owner
                && lower_to_kernel(e.lower, 1) == Ok(f.opener_id)
                && (!gid || f.setgroups_denied)
        }
        _ => false,
    };
    if !privileged && !own_id_only {
        return Err(Errno::EPERM);
    }
    IdMap::parse(text, lower_to_kernel)
}

/// A write to `setgroups`: `"allow"` or `"deny"` with optional trailing blanks, at offset
/// 0 and shorter than 8 bytes (`EINVAL` otherwise). Returns whether it denies.
pub fn parse_setgroups(offset: u64, text: &[u8]) -> Result<bool, Errno> {
    if offset != 0 || text.len() >= 8 {
        return Err(Errno::EINVAL);
    }
    let (deny, rest) = if let Some(r) = text.strip_prefix(b"allow") {
        (false, r)
    } else if let Some(r) = text.strip_prefix(b"deny") {
        (true, r)
    } else {
        return Err(Errno::EINVAL);
    };
    if !rest.iter().all(|c| c.is_ascii_whitespace()) {
        return Err(Errno::EINVAL);
    }
    Ok(deny)
}

/// The facts of a map write to `target` by `writer` through a file `opener` opened.
pub fn facts(
    gid: bool,
    target: &Arc<UserContainer>,
    opener: &Credentials,
    writer: &Credentials,
) -> MapWriteFacts {
    let cap = if gid { CAP_SETGID } else { CAP_SETUID };
    let parent = target.parent_user();
    MapWriteFacts {
        target_is_root: parent.is_none(),
        written: target.map_written(gid),
        setgroups_denied: target.setgroups_denied(),
        opener_in_target_or_parent: Arc::ptr_eq(&opener.user, target)
            || parent.is_some_and(|p| Arc::ptr_eq(&opener.user, p)),
        opener_admin_in_target: opener.capable_in(target, CAP_SYS_ADMIN),
        writer_setid_in_target: writer.capable_in(target, cap),
        writer_setid_in_parent: parent.is_some_and(|p| writer.capable_in(p, cap)),
        opener_setid_in_parent: parent.is_some_and(|p| opener.capable_in(p, cap)),
        opener_is_owner: opener.euid == target.owner(),
        opener_id: if gid { opener.egid } else { opener.euid },
    }
}

/// Writes a uid_map or gid_map of `target` (see [`check_map_write`]).
pub fn write_map(
    gid: bool,
    target: &Arc<UserContainer>,
    opener: &Credentials,
    writer: &Credentials,
    offset: u64,
    text: &[u8],
) -> Result<usize, Errno> {
    let f = facts(gid, target, opener, writer);
    let parent = target.parent_user().ok_or(Errno::EPERM)?;
    let through_parent = |lower: u32, count: u32| {
        let to = |id| {
            if gid {
                parent.gid_to_kernel(id)
            } else {
                parent.uid_to_kernel(id)
            }
        };
        let first = to(lower).ok_or(Errno::EPERM)?;
        // A range maps only if it stays in one extent of the parent.
        let last = to(lower + (count - 1)).ok_or(Errno::EPERM)?;
        if last.wrapping_sub(first) != count - 1 {
            return Err(Errno::EPERM);
        }
        Ok(first)
    };
    let map = check_map_write(gid, &f, offset, text, through_parent)?;
    target.set_map(gid, map)?;
    Ok(text.len())
}

/// Writes `setgroups` of `target`. Linux checks `CAP_SYS_ADMIN` in the target when the
/// file is opened for writing ([`may_open`]).
pub fn write_setgroups(target: &UserContainer, offset: u64, text: &[u8]) -> Result<usize, Errno> {
    if parse_setgroups(offset, text)? {
        target.set_setgroups(true)?;
    } else if target.setgroups_denied() {
        // "allow" after "deny" (here or in an ancestor, whose flag was inherited).
        return Err(Errno::EPERM);
    }
    Ok(text.len())
}

/// The text of a file as `reader` sees it. A map's middle column is in the reader's user
/// container, or in the target's parent when the reader is in the target (Linux's
/// `uid_m_show`): what was written, for the usual readers.
pub fn render(
    which: UserFile,
    target: &Arc<UserContainer>,
    reader: Option<&Credentials>,
) -> String {
    if which == UserFile::Setgroups {
        return String::from(if target.setgroups_denied() {
            "deny\n"
        } else {
            "allow\n"
        });
    }
    let gid = which.is_gid();
    let text = target.render_map(gid);
    let Some(reader) = reader else {
        return text;
    };
    let parent = target.parent_user();
    let lower_ns = match parent {
        Some(p) if Arc::ptr_eq(&reader.user, target) => p,
        _ => &reader.user,
    };
    let as_written = match parent {
        Some(p) => Arc::ptr_eq(lower_ns, p),
        None => lower_ns.parent_user().is_none(),
    };
    if as_written {
        return text;
    }
    let Ok(map) = IdMap::parse(&text, |lower, _| Ok(lower)) else {
        return text;
    };
    let mut out = String::new();
    for e in map.extents() {
        let kernel = match parent {
            Some(p) if gid => p.gid_to_kernel(e.lower),
            Some(p) => p.uid_to_kernel(e.lower),
            None => Some(e.lower),
        };
        let lower = kernel.map_or(u32::MAX, |k| {
            if gid {
                lower_ns.gid_from_kernel(k)
            } else {
                lower_ns.uid_from_kernel(k)
            }
        });
        let _ = writeln!(out, "{:>10} {:>10} {:>10}", e.first, lower, e.count);
    }
    out
}

/// `EPERM` when a `setgroups` file is opened for writing without `CAP_SYS_ADMIN` in the
/// target (Linux's `proc_setgroups_open`).
pub fn may_open(
    which: UserFile,
    target: &Arc<UserContainer>,
    opener: Option<&Credentials>,
    write: bool,
) -> Result<(), Errno> {
    match opener {
        Some(c)
            if which == UserFile::Setgroups && write && !c.capable_in(target, CAP_SYS_ADMIN) =>
        {
            Err(Errno::EPERM)
        }
        _ => Ok(()),
    }
}

/// One open uid_map, gid_map or setgroups of process `pid` (a number in the view of
/// `view`'s reader), with the opener's credentials, fixed at open.
pub struct UserFileOps {
    pub which: UserFile,
    pub view: Arc<dyn KernelView>,
    pub pid: u32,
    /// `None` only before processes exist (the kernel; host tests).
    pub opener: Option<Arc<Credentials>>,
}

impl UserFileOps {
    /// The process's user container now (`ESRCH` once it is gone).
    fn target(&self) -> Result<Arc<UserContainer>, Errno> {
        self.view.user_container(self.pid).ok_or(Errno::ESRCH)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let text = render(self.which, &self.target()?, self.opener.as_deref());
        let data = text.as_bytes();
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= data.len() {
            return Ok(0);
        }
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    /// A write at `offset` (the file position).
    pub fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let target = self.target()?;
        if self.which == UserFile::Setgroups {
            return write_setgroups(&target, offset, buf);
        }
        match (&self.opener, super::env::current_cred()) {
            (Some(o), Some(w)) => write_map(self.which.is_gid(), &target, o, &w, offset, buf),
            // No process: nobody to judge (the kernel itself).
            _ => Err(Errno::EPERM),
        }
    }
}

impl FileOps for UserFileOps {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = file.pos().lock();
        let n = self.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut pos = file.pos().lock();
        let n = self.write_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }

    fn pread(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.read_at(offset, buf)
    }

    /// Linux's seq files take `pread` but not `pwrite` (`seq_open` clears `FMODE_PWRITE`).
    fn pwrite(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ESPIPE)
    }

    fn seek(&self, file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = file.pos().lock();
        let new = match whence {
            SEEK_SET => offset,
            SEEK_CUR => (*pos as i64).checked_add(offset).ok_or(Errno::EINVAL)?,
            _ => return Err(Errno::EINVAL),
        };
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(new as u64)
    }

    /// Writes are allowed only at offset 0: `O_TRUNC` has nothing to do.
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unprivileged process that just made a user container owned by uid 1000 and
    /// opened its own map: it has every capability in it and none in the parent.
    fn unprivileged() -> MapWriteFacts {
        MapWriteFacts {
            opener_in_target_or_parent: true,
            opener_admin_in_target: true,
            writer_setid_in_target: true,
            opener_is_owner: true,
            opener_id: 1000,
            ..Default::default()
        }
    }

    fn privileged() -> MapWriteFacts {
        MapWriteFacts {
            writer_setid_in_parent: true,
            opener_setid_in_parent: true,
            ..unprivileged()
        }
    }

    /// The parent maps 0..65536 onto kernel 100000.. (a typical rootless setup).
    fn parent(lower: u32, count: u32) -> Result<u32, Errno> {
        if lower.checked_add(count).is_some_and(|end| end <= 65536) {
            Ok(100_000 + lower)
        } else {
            Err(Errno::EPERM)
        }
    }

    fn ident(lower: u32, _count: u32) -> Result<u32, Errno> {
        Ok(lower)
    }

    #[test]
    fn a_privileged_writer_may_map_any_valid_ranges() {
        let m =
            check_map_write(false, &privileged(), 0, b"0 0 10\n10 500 5\n", ident).expect("valid");
        assert_eq!(m.to_kernel(12), Some(502));
        let m =
            check_map_write(false, &privileged(), 0, b"0 5 2", parent).expect("through the parent");
        assert_eq!(m.to_kernel(1), Some(100_006));
        assert_eq!(
            check_map_write(false, &privileged(), 0, b"0 65535 2", parent).err(),
            Some(Errno::EPERM),
            "the parent does not map all of the range"
        );
    }

    #[test]
    fn an_unprivileged_writer_may_map_only_its_own_id_once() {
        let f = unprivileged();
        let m = check_map_write(false, &f, 0, b"0 1000 1\n", ident).expect("own uid");
        assert_eq!(m.to_kernel(0), Some(1000));
        for bad in [&b"0 1001 1"[..], b"0 1000 2", b"0 1000 1\n1 2000 1"] {
            assert_eq!(
                check_map_write(false, &f, 0, bad, ident).err(),
                Some(Errno::EPERM),
                "{bad:?}"
            );
        }
        let not_owner = MapWriteFacts {
            opener_is_owner: false,
            ..f
        };
        assert_eq!(
            check_map_write(false, &not_owner, 0, b"0 1000 1", ident).err(),
            Some(Errno::EPERM)
        );
        let written = MapWriteFacts { written: true, ..f };
        assert_eq!(
            check_map_write(false, &written, 0, b"0 1000 1", ident).err(),
            Some(Errno::EPERM)
        );
    }

    #[test]
    fn an_unprivileged_gid_map_needs_setgroups_denied() {
        let f = unprivileged();
        assert_eq!(
            check_map_write(true, &f, 0, b"0 1000 1", ident).err(),
            Some(Errno::EPERM)
        );
        let denied = MapWriteFacts {
            setgroups_denied: true,
            ..f
        };
        assert!(check_map_write(true, &denied, 0, b"0 1000 1", ident).is_ok());
        assert!(
            check_map_write(true, &privileged(), 0, b"0 1000 1", ident).is_ok(),
            "a privileged writer needs no deny"
        );
    }

    #[test]
    fn rights_over_the_target_come_first() {
        let root = MapWriteFacts {
            target_is_root: true,
            ..privileged()
        };
        assert_eq!(
            check_map_write(false, &root, 0, b"0 0 1", ident).err(),
            Some(Errno::EPERM)
        );
        let outside = MapWriteFacts {
            opener_in_target_or_parent: false,
            ..privileged()
        };
        assert_eq!(
            check_map_write(false, &outside, 0, b"bad", ident).err(),
            Some(Errno::EPERM)
        );
        let no_admin = MapWriteFacts {
            opener_admin_in_target: false,
            ..privileged()
        };
        assert_eq!(
            check_map_write(false, &no_admin, 0, b"0 0 1", ident).err(),
            Some(Errno::EPERM)
        );
        let no_setid = MapWriteFacts {
            writer_setid_in_target: false,
            ..privileged()
        };
        assert_eq!(
            check_map_write(false, &no_setid, 0, b"0 0 1", ident).err(),
            Some(Errno::EPERM)
        );
        let half = MapWriteFacts {
            opener_setid_in_parent: false,
            ..privileged()
        };
        assert_eq!(
            check_map_write(false, &half, 0, b"0 0 2", ident).err(),
            Some(Errno::EPERM),
            "the opener must be privileged over the parent too"
        );
    }

    #[test]
    fn bad_writes_give_einval() {
        let f = privileged();
        assert_eq!(
            check_map_write(false, &f, 1, b"0 0 1", ident).err(),
            Some(Errno::EINVAL),
            "offset"
        );
        let big = alloc::vec![b' '; MAP_WRITE_MAX];
        assert_eq!(
            check_map_write(false, &f, 0, &big, ident).err(),
            Some(Errno::EINVAL),
            "4096 bytes"
        );
        for bad in [
            &b""[..],
            b"0 0",
            b"x 0 1",
            b"0 0 0",
            b"0 0 1 1",
            b"0 0 5\n3 10 1",
            b"\xff",
            b"4294967295 0 1",
            b"0 4294967295 1",
            b"4294967290 0 6",
            b"0 -1 1",
        ] {
            assert_eq!(
                check_map_write(false, &f, 0, bad, ident).err(),
                Some(Errno::EINVAL),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_map_write(false, &unprivileged(), 0, b"0 1000", ident).err(),
            Some(Errno::EINVAL),
            "bad text is EINVAL even for an unprivileged writer"
        );
    }

    #[test]
    fn setgroups_takes_allow_or_deny() {
        assert_eq!(parse_setgroups(0, b"deny"), Ok(true));
        assert_eq!(parse_setgroups(0, b"deny\n"), Ok(true));
        assert_eq!(parse_setgroups(0, b"allow\n"), Ok(false));
        assert_eq!(parse_setgroups(0, b"allow  "), Ok(false));
        for bad in [&b""[..], b"denyx", b"Deny", b" deny", b"allow\n\n\n"] {
            assert_eq!(parse_setgroups(0, bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(parse_setgroups(1, b"deny"), Err(Errno::EINVAL));
    }

    fn root_user() -> Arc<UserContainer> {
        crate::container::init("");
        crate::container::user::root_user()
    }

    #[test]
    fn writes_through_real_containers_translate_via_the_parent() {
        let root = root_user();
        let admin = Credentials::root(root.clone());
        let child = Arc::new(UserContainer::create(&root, 1000, 1000).expect("below the limit"));
        assert_eq!(render(UserFile::UidMap, &child, Some(&admin)), "");
        assert_eq!(render(UserFile::Setgroups, &child, Some(&admin)), "allow\n");
        assert_eq!(
            write_map(false, &root, &admin, &admin, 0, b"0 0 1"),
            Err(Errno::EPERM),
            "root's map is fixed"
        );
        assert_eq!(
            write_map(false, &child, &admin, &admin, 0, b"0 100000 1000\n"),
            Ok(14)
        );
        assert_eq!(
            write_map(false, &child, &admin, &admin, 0, b"0 0 1"),
            Err(Errno::EPERM),
            "written once"
        );
        assert_eq!(child.uid_to_kernel(5), Some(100_005));
        assert_eq!(
            render(UserFile::UidMap, &child, Some(&admin)),
            "         0     100000       1000\n"
        );
        // Inside the child, as its owner after unshare: root there, nothing outside.
        let mut inside = Credentials::root(child.clone());
        (inside.uid, inside.euid, inside.suid, inside.fsuid) = (1000, 1000, 1000, 1000);
        (inside.gid, inside.egid, inside.sgid, inside.fsgid) = (1000, 1000, 1000, 1000);
        assert_eq!(
            render(UserFile::UidMap, &child, Some(&inside)),
            "         0     100000       1000\n",
            "a reader inside sees the parent's ids"
        );
        assert_eq!(write_setgroups(&child, 0, b"allow"), Ok(5));
        assert_eq!(
            may_open(UserFile::Setgroups, &child, Some(&inside), true),
            Ok(())
        );
        assert_eq!(
            write_map(true, &child, &inside, &inside, 0, b"0 1000 1"),
            Err(Errno::EPERM),
            "setgroups still allowed"
        );
        assert_eq!(write_setgroups(&child, 0, b"deny\n"), Ok(5));
        assert_eq!(render(UserFile::Setgroups, &child, Some(&inside)), "deny\n");
        assert_eq!(
            write_setgroups(&child, 0, b"allow"),
            Err(Errno::EPERM),
            "no way back"
        );
        assert_eq!(
            write_map(true, &child, &inside, &inside, 0, b"0 1001 1"),
            Err(Errno::EPERM),
            "not its gid"
        );
        assert_eq!(
            write_map(true, &child, &inside, &inside, 0, b"0 1000 1"),
            Ok(8)
        );
        assert_eq!(child.gid_to_kernel(0), Some(1000));
        assert_eq!(
            write_setgroups(&child, 0, b"deny"),
            Err(Errno::EPERM),
            "after the gid map"
        );

        // A grandchild owned by kernel uid 100000 (uid 0 of the child): its map names
        // the child's ids and lands on kernel ids; the root reader sees kernel ids.
        let grand =
            Arc::new(UserContainer::create(&child, 100_000, 1000).expect("below the limit"));
        let mut g_owner = Credentials::root(child.clone());
        (g_owner.uid, g_owner.euid, g_owner.suid, g_owner.fsuid) =
            (100_000, 100_000, 100_000, 100_000);
        assert_eq!(
            write_map(false, &grand, &g_owner, &g_owner, 0, b"0 10 5"),
            Ok(6)
        );
        assert_eq!(grand.uid_to_kernel(2), Some(100_012));
        assert_eq!(
            render(UserFile::UidMap, &grand, Some(&g_owner)),
            "         0         10          5\n"
        );
        assert_eq!(
            render(UserFile::UidMap, &grand, Some(&admin)),
            "         0     100010          5\n"
        );
        let other =
            Arc::new(UserContainer::create(&child, 100_000, 1000).expect("below the limit"));
        assert_eq!(
            write_map(false, &other, &g_owner, &g_owner, 0, b"0 999 2"),
            Err(Errno::EPERM),
            "999..1000 leaves the child's map"
        );
        assert_eq!(
            may_open(UserFile::Setgroups, &root, Some(&inside), true),
            Err(Errno::EPERM),
            "CAP_SYS_ADMIN over the target to write setgroups"
        );
    }
}
