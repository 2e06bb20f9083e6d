//! nsfs: the objects behind the magic links `/proc/[pid]/container/*` and
//! `/proc/[pid]/ns/*`. Following such a link lands on the container itself, which is its
//! own nsfs inode and open file (st_ino = the container number, one fixed st_dev; nothing
//! is allocated to open it); opening it gives a file that holds
//! the container alive (LiteOS-A and Linux free a container when the last process and
//! the last open link fd drop it), that `setns` accepts ([`container_of_file`]) and that
//! answers the ioctls of ioctl_ns(2).

use super::env;
use super::file::{FileOps, O_RDONLY, OpenFile};
use super::procfs::push_decimal;
use super::vfs::{Inode, Metadata, S_IFREG, SHORT_LINK, makedev};
use crate::container::{Container, ContainerCommon, Kind, LINK_TEXT};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;

/// The device number of every nsfs inode (Linux's nsfs is an anonymous device too;
/// `vfs::alloc_dev` hands out minors from 16 on, so this one is never reused).
pub const NSFS_DEV: u64 = makedev(0, 4);

/// `_IO(0xb7, n)`: the ioctls of ioctl_ns(2).
pub const NS_GET_USERNS: u32 = 0xb701;
pub const NS_GET_PARENT: u32 = 0xb702;
pub const NS_GET_NSTYPE: u32 = 0xb703;
pub const NS_GET_OWNER_UID: u32 = 0xb704;

/// The text of a container link: LiteOS-A's `'uts:[4026531843]'` (quoted, in
/// `/proc/[pid]/container/`) or Linux's `uts:[4026531843]` (in `/proc/[pid]/ns/`).
/// Built by hand: `readlink` of a link runs it every time, and `format!` costs several
/// times more.
pub fn link_text(kind: Kind, number: u32, quoted: bool) -> String {
    let mut s = String::with_capacity(32);
    if quoted {
        s.push('\'');
    }
    s.push_str(kind.name());
    s.push_str(":[");
    push_decimal(&mut s, number);
    s.push(']');
    if quoted {
        s.push('\'');
    }
    s
}

/// [`link_text`] of the container `c` written into `out` from the text it keeps: its
/// length. A fixed-size copy (a few word moves, no `memcpy` call): `readlink` of a link
/// runs it every time.
#[inline]
pub fn write_link_text(c: &ContainerCommon, quoted: bool, out: &mut [u8; SHORT_LINK]) -> usize {
    let (text, len) = c.link_text().buffer();
    let q = usize::from(quoted);
    out[q..q + LINK_TEXT].copy_from_slice(text);
    if quoted {
        out[0] = b'\'';
        out[len + 1] = b'\'';
    }
    len + 2 * q
}

/// Every container is its nsfs inode (a blanket implementation over [`Container`]).
impl<T: Container> Inode for T {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: NSFS_DEV,
            ino: self.common().number() as u64,
            mode: S_IFREG | 0o444,
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        }
    }

    /// An open container link is the container: it holds the container alive and
    /// answers the ioctls.
    fn open_shared(self: Arc<Self>) -> Option<Arc<dyn FileOps>> {
        Some(self)
    }

    fn outside_mounts(&self) -> bool {
        true
    }

    /// The text the container keeps for its links (`uts:[4026531843]`).
    fn object_name(&self) -> Option<String> {
        let (text, len) = self.common().link_text().buffer();
        Some(String::from_utf8_lossy(&text[..len]).into_owned())
    }

    fn as_container(self: Arc<Self>) -> Option<Arc<dyn Container>> {
        Some(self)
    }
}

/// A new fd (close-on-exec, read-only) on the nsfs inode of `ns`, as `NS_GET_USERNS`
/// and `NS_GET_PARENT` return.
fn install_ns_fd(ns: Arc<dyn Container>) -> Result<usize, Errno> {
    let file = OpenFile::new(
        ns.clone().into_file_ops(),
        Some(ns.into_inode()),
        String::new(),
        O_RDONLY,
    );
    env::install_fd(file, true).map(|fd| fd as usize)
}

/// The user container owning `ns` (`NS_GET_USERNS`): a user container's parent, or
/// the owner of another kind; `EPERM` for the root user container (Linux).
fn owner(ns: &dyn Container) -> Result<Arc<dyn Container>, Errno> {
    if ns.kind() == Kind::User {
        return ns.parent().ok_or(Errno::EPERM);
    }
    env::owning_user_container(ns).ok_or(Errno::EPERM)
}

/// Every container is its open nsfs file.
impl<T: Container> FileOps for T {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn pread(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn pwrite(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        let ns: &dyn Container = self;
        let kind = ns.kind();
        match cmd {
            NS_GET_USERNS => install_ns_fd(owner(ns)?),
            NS_GET_PARENT => {
                if !kind.hierarchical() {
                    return Err(Errno::EINVAL);
                }
                let parent = ns.parent().ok_or(Errno::EPERM)?;
                // Linux: a parent outside the caller's own (PID) container is hidden.
                if !env::may_see_parent(&parent) {
                    return Err(Errno::EPERM);
                }
                install_ns_fd(parent)
            }
            NS_GET_NSTYPE => Ok(kind.clone_flag() as usize),
            NS_GET_OWNER_UID => {
                if kind != Kind::User {
                    return Err(Errno::EINVAL);
                }
                // The creator's euid; every user container is root's until credentials land.
                env::copy_to_user(arg, &0u32.to_le_bytes())?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn poll(&self) -> u16 {
        0
    }
}

/// The container an fd opened on a container link refers to (for `setns`); `None` for
/// any other file, and for `O_PATH` fds (Linux's `setns` refuses those too).
#[cfg_attr(target_os = "none", allow(dead_code))] // until setns (syscall/process.rs) calls it
pub fn container_of_file(file: &OpenFile) -> Option<Arc<dyn Container>> {
    if file.is_path_only() {
        return None;
    }
    file.inode()?.clone().as_container()
}

/// A stand-in container of any kind, with an optional parent, owned by the root user
/// container (set up here: a test run alone has nothing else to run `container::init`).
/// It takes a counted slot of its kind.
#[cfg(test)]
pub(crate) fn fake_container(kind: Kind, parent: Option<Arc<dyn Container>>) -> Arc<dyn Container> {
    use super::vfs::InodeRef;
    use crate::container::ContainerCommon;
    use core::any::Any;
    crate::container::init("");

    struct Fake {
        common: ContainerCommon,
        parent: Option<Arc<dyn Container>>,
    }

    impl Container for Fake {
        fn common(&self) -> &ContainerCommon {
            &self.common
        }
        fn into_inode(self: Arc<Self>) -> InodeRef {
            self
        }
        fn into_file_ops(self: Arc<Self>) -> Arc<dyn FileOps> {
            self
        }
        fn parent(&self) -> Option<Arc<dyn Container>> {
            self.parent.clone()
        }
        fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
            self
        }
    }

    Arc::new(Fake {
        common: ContainerCommon::new(kind, &crate::container::user::root_user())
            .expect("below the limit"),
        parent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::limits;

    fn fake(kind: Kind, parent: Option<Arc<dyn Container>>) -> Arc<dyn Container> {
        fake_container(kind, parent)
    }

    fn open(ns: &Arc<dyn Container>) -> Arc<OpenFile> {
        let inode = ns.clone().into_inode();
        let ops = inode
            .clone()
            .open_shared()
            .expect("an nsfs inode is its open file");
        OpenFile::new(ops, Some(inode), "/proc/1/ns/x".into(), O_RDONLY)
    }

    #[test]
    fn link_text_with_and_without_quotes() {
        assert_eq!(link_text(Kind::Uts, 4026531843, true), "'uts:[4026531843]'");
        assert_eq!(link_text(Kind::Uts, 4026531843, false), "uts:[4026531843]");
        assert_eq!(link_text(Kind::Pid, 4026531842, false), "pid:[4026531842]");
        assert_eq!(link_text(Kind::Mnt, 7, true), "'mnt:[7]'");
        for kind in Kind::ALL {
            for n in [
                0,
                7,
                9,
                10,
                99,
                100,
                12345,
                999_999_999,
                1_000_000_000,
                4026531843,
                u32::MAX,
            ] {
                let kept = crate::container::LinkText::of(kind, n);
                let (text, len) = kept.buffer();
                assert_eq!(&text[..len], link_text(kind, n, false).as_bytes());
            }
            let c = fake(kind, None);
            for quoted in [false, true] {
                let mut buf = [0xffu8; SHORT_LINK];
                let len = write_link_text(c.common(), quoted, &mut buf);
                assert_eq!(&buf[..len], link_text(kind, c.number(), quoted).as_bytes());
            }
        }
    }

    #[test]
    fn metadata_is_a_read_only_file_numbered_by_the_container() {
        let c = fake(Kind::Uts, None);
        let (a, b) = (c.clone().into_inode(), c.clone().into_inode());
        let m = a.metadata();
        assert_eq!(m.mode, 0o100444);
        assert_eq!(m.ino, c.number() as u64);
        assert_eq!(m.dev, NSFS_DEV);
        assert_eq!(b.metadata(), m, "two links to one container are one object");
        let other = fake(Kind::Uts, None);
        assert_ne!(other.into_inode().metadata().ino, m.ino);
    }

    #[test]
    fn reads_and_writes_give_einval_and_unknown_ioctls_enotty() {
        let c = fake(Kind::Uts, None);
        let f = open(&c);
        assert_eq!(f.read(&mut [0u8; 8]), Err(Errno::EINVAL));
        assert_eq!(f.ioctl(0x5401, 0), Err(Errno::ENOTTY), "TCGETS");
        assert_eq!(f.ioctl(0xb705, 0), Err(Errno::ENOTTY));
        assert_eq!(f.ioctl(NS_GET_NSTYPE, 0), Ok(0x0400_0000));
        assert_eq!(
            f.ioctl(NS_GET_PARENT, 0),
            Err(Errno::EINVAL),
            "uts has no parents"
        );
        assert_eq!(
            f.ioctl(NS_GET_OWNER_UID, 0),
            Err(Errno::EINVAL),
            "not a user container"
        );
    }

    #[test]
    fn setns_finds_the_container_of_an_open_link_and_of_nothing_else() {
        let c = fake(Kind::Uts, None);
        let f = open(&c);
        let got = container_of_file(&f).expect("a container link");
        assert!(Arc::ptr_eq(&got, &c));
        let path_only = OpenFile::new(
            f.ops().clone(),
            f.inode().cloned(),
            "/x".into(),
            super::super::file::O_PATH,
        );
        assert!(
            container_of_file(&path_only).is_none(),
            "O_PATH fds are refused"
        );
        let fs = crate::fs::ramfs::RamFs::new("tmpfs");
        use crate::fs::vfs::FileSystem;
        let dir = OpenFile::new(
            super::super::file::InodeFile::new(fs.root()),
            Some(fs.root()),
            "/".into(),
            O_RDONLY,
        );
        assert!(container_of_file(&dir).is_none());
    }

    #[test]
    fn ns_get_parent_installs_a_cloexec_fd_on_the_parent_or_eperm_at_the_top() {
        // User containers are hierarchical; no other test creates them.
        let top = fake(Kind::User, None);
        let child = fake(Kind::User, Some(top.clone()));
        let f = open(&child);
        let fd = f.ioctl(NS_GET_PARENT, 0).expect("a parent") as i32;
        let table = env::current_files().expect("the host has a table per thread");
        assert_eq!(table.cloexec(fd), Ok(true));
        let pf = table.get(fd).expect("the new fd");
        let parent = container_of_file(&pf).expect("a container link");
        assert!(Arc::ptr_eq(&parent, &top));
        assert_eq!(pf.stat().map(|m| m.ino), Ok(top.number() as u64));
        assert_eq!(
            pf.ioctl(NS_GET_PARENT, 0),
            Err(Errno::EPERM),
            "the top has none"
        );
        assert_eq!(pf.ioctl(NS_GET_NSTYPE, 0), Ok(0x1000_0000));
        table.close(fd).expect("close");
    }

    #[test]
    fn an_open_link_keeps_its_container_alive() {
        // Kind::Mnt: no other host test creates or counts mount containers (the roots,
        // the root mount container among them, are made before counting).
        crate::container::init("");
        let before = limits::get(Kind::Mnt).1;
        let c = fake(Kind::Mnt, None);
        let f = open(&c);
        drop(c);
        assert_eq!(limits::get(Kind::Mnt).1, before + 1, "the fd holds it");
        drop(f);
        assert_eq!(limits::get(Kind::Mnt).1, before, "freed with the last fd");
    }
}
