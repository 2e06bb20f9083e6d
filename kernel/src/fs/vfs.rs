//! The VFS object model: `Inode` (one file, directory, link or device node of some file
//! system), `FileSystem` (one instance, mounted somewhere) and the metadata they report.

use super::file::FileOps;
use crate::container::user::UserContainer;
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
/// Permission bits plus set-id and sticky bits: what `chmod` may change.
pub const MODE_PERM: u32 = 0o7777;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl FileType {
    pub fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & S_IFMT {
            S_IFREG => FileType::Regular,
            S_IFDIR => FileType::Directory,
            S_IFLNK => FileType::Symlink,
            S_IFCHR => FileType::CharDevice,
            S_IFBLK => FileType::BlockDevice,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// The `d_type` of a `linux_dirent64`.
    pub fn dirent_type(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub fn from_ns(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        }
    }
}

/// What `stat` reports about an inode (file type bits included in `mode`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub rdev: u64,
    pub blksize: u32,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Metadata {
    /// Every inode has a valid type; an unknown one reads as a regular file.
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode).unwrap_or(FileType::Regular)
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Directory
    }
}

/// Linux's device number encoding (`makedev`).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xfffff000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffffff00) << 12) | (mi & 0xff)
}

pub fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xfffff000) | ((dev >> 8) & 0xfff)) as u32
}

pub fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffffff00) | (dev & 0xff)) as u32
}

/// A fresh anonymous device number (major 0) for a new file system instance.
pub fn alloc_dev() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(16);
    makedev(0, NEXT.fetch_add(1, Ordering::Relaxed) as u32)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub ino: u64,
    pub ftype: FileType,
}

pub type InodeRef = Arc<dyn Inode>;

/// What following a symlink means ([`Inode::follow`]).
pub enum Follow {
    /// Read its text ([`Inode::readlink`]) and walk that.
    Text,
    /// Its text is the decimal number of a sibling in its own directory (procfs's
    /// `self`): that sibling and its number, so a walk steps into it without reading and
    /// parsing the text.
    Sibling(Result<(InodeRef, u32), Errno>),
    /// A "magic" link (Linux's `/proc/[pid]/ns/*`, `root`, `cwd`, `fd/N`): the object
    /// following it lands on, instead of resolving its text (an error, the process is
    /// gone..., fails the walk); and for a directory of the mount tree, its canonical
    /// path, where the walk continues (so `..` from it is its real parent), else `None`:
    /// the walk keeps the link's own path.
    Magic(Result<InodeRef, Errno>, Option<String>),
}

/// What one path walk learned at a step that its later steps reuse, as Linux's
/// `nameidata` carries state along a walk: procfs's `/proc/[pid]` step keeps the process
/// it found, so the steps below it (`ns`, the link) neither look it up nor check it
/// again. It lives for one walk and holds its object until the walk ends.
#[derive(Default)]
pub struct WalkMemo {
    pid: u32,
    object: Option<Arc<dyn Any + Send + Sync>>,
    /// A magic link the next lookup finds is followed, and the walk's rules let it land
    /// on its object at once (Linux's `LOOKUP_FOLLOW`): the lookup may give the object
    /// instead of the link ([`WalkMemo::followed`]).
    follow: bool,
    followed: bool,
}

impl WalkMemo {
    /// Says whether a magic link the next lookup finds may be followed by the lookup.
    #[inline]
    pub fn set_follow(&mut self, follow: bool) {
        self.follow = follow;
    }

    /// Whether a lookup may follow the magic link it finds.
    #[inline]
    pub fn follows(&self) -> bool {
        self.follow
    }

    /// A lookup gave a magic link's object instead of the link.
    #[inline]
    pub fn followed(&mut self) {
        self.followed = true;
    }

    /// Whether the last lookup gave a magic link's object (then forgotten).
    #[inline]
    pub fn take_followed(&mut self) -> bool {
        core::mem::take(&mut self.followed)
    }

    /// Keeps `object` as what number `pid` named in this walk.
    pub fn keep(&mut self, pid: u32, object: Arc<dyn Any + Send + Sync>) {
        self.pid = pid;
        self.object = Some(object);
    }

    /// The object kept for number `pid` in this walk.
    #[inline]
    pub fn get(&self, pid: u32) -> Option<&(dyn Any + Send + Sync)> {
        match &self.object {
            Some(o) if self.pid == pid => Some(&**o),
            _ => None,
        }
    }
}

/// One object of a file system. Operations that do not apply to the object's type
/// return the errno Linux gives (`ENOTDIR` for directory operations on a non-directory,
/// `EINVAL` for `readlink` on a non-link, ...).
/// The buffer of [`Inode::readlink_short`].
pub const SHORT_LINK: usize = 48;

pub trait Inode: Send + Sync + Any {
    fn metadata(&self) -> Metadata;

    /// The type alone: what a path walk asks at every step. File systems whose
    /// `metadata` is costly (procfs) answer it without building the whole `Metadata`.
    fn file_type(&self) -> FileType {
        self.metadata().file_type()
    }

    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }

    /// Whether this inode lies outside every mount (an nsfs one): an open file of it
    /// keeps no path and is named by [`object_name`](Self::object_name).
    fn outside_mounts(&self) -> bool {
        false
    }

    /// The name of an inode outside every mount, as `/proc/[pid]/fd` shows its open
    /// files (`uts:[4026531838]`).
    fn object_name(&self) -> Option<String> {
        None
    }

    /// The container this inode is (an nsfs one: `setns` takes an fd on it).
    fn as_container(self: Arc<Self>) -> Option<Arc<dyn crate::container::Container>> {
        None
    }

    /// Looks up one name (never `.` or `..`: the path walk handles those).
    fn lookup(&self, _name: &str) -> Result<InodeRef, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// [`lookup`](Self::lookup) as a step of a path walk, with the type of what it found;
    /// it may keep in `memo` what the walk's later steps reuse (procfs).
    fn lookup_in(&self, name: &str, _memo: &mut WalkMemo) -> Result<(InodeRef, FileType), Errno> {
        let inode = self.lookup(name)?;
        let ty = inode.file_type();
        Ok((inode, ty))
    }
    /// Creates a non-directory, non-symlink node (regular file, device, fifo).
    fn create(
        &self,
        _name: &str,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> Result<InodeRef, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn mkdir(&self, _name: &str, _mode: u32, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn symlink(&self, _name: &str, _target: &str, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Adds a hard link `name` to `target` (which must be on the same file system).
    fn link(&self, _name: &str, _target: &InodeRef) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Removes a non-directory entry.
    fn unlink(&self, _name: &str) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Removes an empty directory entry.
    fn rmdir(&self, _name: &str) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Moves entry `old` of this directory to `new` in `new_dir` (same file system),
    /// replacing a compatible existing entry as `rename(2)` does.
    fn rename(&self, _old: &str, _new_dir: &InodeRef, _new: &str) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    fn readlink(&self) -> Result<String, Errno> {
        Err(Errno::EINVAL)
    }
    /// The link's text written into `out` when it is short (procfs's `self` and container
    /// links): its length, with no heap string made. `None`: ask [`readlink`](Self::readlink).
    fn readlink_short(&self, _out: &mut [u8; SHORT_LINK]) -> Option<Result<usize, Errno>> {
        None
    }
    /// What following this symlink means to a path walk (with what the walk's earlier
    /// steps kept): read and walk its text, for every ordinary link.
    fn follow(&self, _memo: &WalkMemo) -> Follow {
        Follow::Text
    }
    /// The entries of a directory, without `.` and `..`.
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }

    fn chmod(&self, _mode: u32) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    fn chown(&self, _uid: Option<u32>, _gid: Option<u32>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    /// Sets the access and modification times given (`utimensat`); the change time
    /// becomes now.
    fn set_times(&self, _atime: Option<Timespec>, _mtime: Option<Timespec>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// A file object of the inode's own (procfs, special files); `None` means the
    /// generic one that reads and writes through `read_at`/`write_at`.
    fn open(&self, _flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        None
    }

    /// The inode itself as the file object, for an inode that is its own (nsfs): an
    /// open then makes only the `OpenFile`. `None`: see [`open`](Self::open).
    fn open_shared(self: Arc<Self>) -> Option<Arc<dyn FileOps>> {
        None
    }

    /// The pages of a tmpfs regular file, for `mmap`.
    fn map_pages(&self) -> Option<Arc<dyn crate::mm::vma::PageSource>> {
        None
    }

    /// The inode's extended attributes; `None` on a file system without them
    /// (`EOPNOTSUPP`).
    fn xattrs(&self) -> Option<&spin::Mutex<super::xattr::Xattrs>> {
        None
    }
}

/// The errno of making entry `name` in directory `dir`, which has no such operation:
/// `EEXIST` for a taken name, else `err` (Linux: `EACCES` for `open(O_CREAT)`, `EPERM`
/// for `mkdir`, `mknod`, `symlink`, `link`).
pub fn no_new_entry(dir: &dyn Inode, name: &str, err: Errno) -> Errno {
    if dir.lookup(name).is_ok() {
        Errno::EEXIST
    } else {
        err
    }
}

/// One file system instance.
pub trait FileSystem: Send + Sync {
    /// The type name as in `/proc/filesystems` and `/proc/mounts` (`tmpfs`, `proc`).
    fn name(&self) -> &'static str;
    fn root(&self) -> InodeRef;
    fn dev(&self) -> u64;
    /// Options of the instance for `/proc/mounts` after the per-mount ones (`,size=64k`).
    fn options(&self) -> String {
        String::new()
    }
    /// A remount's new size limit in pages (tmpfs `size=`); `EINVAL` where there is none.
    fn resize(&self, _pages: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// What `statfs(2)` reports before the mount flags: by default the type's magic and
    /// no blocks.
    fn statfs(&self) -> super::statfs::StatFs {
        super::statfs::StatFs::of_type(self.name(), self.dev())
    }
}

/// Access bits for `permits`.
pub const MAY_READ: u32 = 4;
pub const MAY_WRITE: u32 = 2;
pub const MAY_EXEC: u32 = 1;

/// Who asks, for permission checks: Linux's fsuid/fsgid and supplementary groups (kernel
/// ids), and the capabilities that override file permissions. A capability counts over an
/// inode only when the caller's user container maps the inode's owner and group
/// (Linux's `capable_wrt_inode_uidgid`): root of a child user container is not root over
/// the files of the ids it does not map.
#[derive(Clone, Default)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    /// Effective capability bits (`crate::cred::cap_bit`).
    pub caps: u64,
    /// The caller's user container; `None` for the root one (every id is mapped).
    pub user: Option<Arc<UserContainer>>,
}

impl Caller {
    /// Root of the root user container with every capability (the kernel itself, host tests).
    pub fn root() -> Caller {
        Caller {
            caps: crate::cred::CAP_FULL,
            ..Default::default()
        }
    }

    /// A caller of the root user container without capabilities.
    pub fn plain(uid: u32, gid: u32) -> Caller {
        Caller {
            uid,
            gid,
            ..Default::default()
        }
    }

    fn maps_uid(&self, kuid: u32) -> bool {
        self.user.as_ref().is_none_or(|u| {
            u.uid_from_kernel(kuid) != crate::cred::idmap::OVERFLOW_ID
                || u.uid_to_kernel(crate::cred::idmap::OVERFLOW_ID) == Some(kuid)
        })
    }

    fn maps_gid(&self, kgid: u32) -> bool {
        self.user.as_ref().is_none_or(|u| {
            u.gid_from_kernel(kgid) != crate::cred::idmap::OVERFLOW_ID
                || u.gid_to_kernel(crate::cred::idmap::OVERFLOW_ID) == Some(kgid)
        })
    }

    /// `cap` in the caller's own user container.
    pub fn capable(&self, cap: u32) -> bool {
        self.caps & crate::cred::cap_bit(cap) != 0
    }

    /// `cap` over the inode with metadata `meta`.
    pub fn capable_over(&self, cap: u32, meta: &Metadata) -> bool {
        self.capable(cap) && self.maps_uid(meta.uid) && self.maps_gid(meta.gid)
    }

    /// Kernel uid of `uid` as the caller names it (`None` when its container does not map it).
    pub fn kernel_uid(&self, uid: u32) -> Option<u32> {
        match &self.user {
            None => Some(uid),
            Some(u) => u.uid_to_kernel(uid),
        }
    }

    pub fn kernel_gid(&self, gid: u32) -> Option<u32> {
        match &self.user {
            None => Some(gid),
            Some(u) => u.gid_to_kernel(gid),
        }
    }

    /// Whether the caller is in group `gid` (fsgid or a supplementary group).
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// The owner of the inode, or `CAP_FOWNER` over it (chmod, utimes, sticky directories).
    pub fn owns(&self, meta: &Metadata) -> bool {
        self.uid == meta.uid || self.capable_over(crate::cred::CAP_FOWNER, meta)
    }

    /// Linux's `generic_permission`: the owner, group or other bits, else
    /// `CAP_DAC_OVERRIDE` (execute of a non-directory still needs an execute bit) or
    /// `CAP_DAC_READ_SEARCH` (reading files, reading and searching directories).
    pub fn permits(&self, meta: &Metadata, mask: u32) -> bool {
        let bits = if meta.uid == self.uid {
            (meta.mode >> 6) & 7
        } else if self.in_group(meta.gid) {
            (meta.mode >> 3) & 7
        } else {
            meta.mode & 7
        };
        if bits & mask == mask {
            return true;
        }
        use crate::cred::{CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
        if meta.is_dir() {
            if mask & MAY_WRITE == 0 && self.capable_over(CAP_DAC_READ_SEARCH, meta) {
                return true;
            }
            return self.capable_over(CAP_DAC_OVERRIDE, meta);
        }
        if (mask & MAY_EXEC == 0 || meta.mode & 0o111 != 0)
            && self.capable_over(CAP_DAC_OVERRIDE, meta)
        {
            return true;
        }
        mask == MAY_READ && self.capable_over(CAP_DAC_READ_SEARCH, meta)
    }
}

/// The permission check of `caller` (see [`Caller::permits`]).
pub fn permits(meta: &Metadata, caller: &Caller, mask: u32) -> bool {
    caller.permits(meta, mask)
}

/// Whether the owner, group and other bits all grant `mask`: then [`permits`] holds
/// for every caller, who need not be looked up (an open of a world-readable file).
pub fn anyone_may(meta: &Metadata, mask: u32) -> bool {
    let every = (meta.mode >> 6) & (meta.mode >> 3) & meta.mode & 7;
    every & mask == mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makedev_round_trips_like_linux() {
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(5, 1), 0x501);
        let d = makedev(300, 70000);
        assert_eq!((major(d), minor(d)), (300, 70000));
    }

    #[test]
    fn anyone_may_only_when_every_class_grants_and_then_every_caller_may() {
        let meta = |mode| Metadata {
            mode: S_IFREG | mode,
            uid: 1000,
            gid: 100,
            ..Default::default()
        };
        let callers = [
            Caller::root(),
            Caller::plain(1000, 1),
            Caller::plain(2000, 100),
            Caller::plain(2000, 1),
        ];
        for mode in [0o444, 0o644, 0o640, 0o755, 0o111, 0o000, 0o666, 0o464] {
            for mask in [MAY_READ, MAY_WRITE, MAY_EXEC, MAY_READ | MAY_WRITE] {
                let m = meta(mode);
                let all = callers.iter().all(|c| permits(&m, c, mask));
                if anyone_may(&m, mask) {
                    assert!(
                        all,
                        "mode {mode:o} mask {mask}: anyone_may but a caller may not"
                    );
                }
            }
        }
        assert!(anyone_may(&meta(0o444), MAY_READ));
        assert!(!anyone_may(&meta(0o440), MAY_READ), "others may not read");
        assert!(
            !anyone_may(&meta(0o404), MAY_READ),
            "the group may not read"
        );
        assert!(!anyone_may(&meta(0o444), MAY_WRITE));
    }

    #[test]
    fn root_needs_an_execute_bit_to_execute() {
        let root = Caller::root();
        let mut m = Metadata {
            mode: S_IFREG | 0o644,
            uid: 1000,
            ..Default::default()
        };
        assert!(permits(&m, &root, MAY_READ | MAY_WRITE));
        assert!(!permits(&m, &root, MAY_EXEC));
        m.mode = S_IFREG | 0o100;
        assert!(permits(&m, &root, MAY_EXEC));
        m.mode = S_IFDIR;
        assert!(permits(&m, &root, MAY_EXEC | MAY_WRITE));
    }

    #[test]
    fn owner_group_and_other_bits_apply_in_order() {
        let m = Metadata {
            mode: S_IFREG | 0o640,
            uid: 1000,
            gid: 100,
            ..Default::default()
        };
        assert!(permits(&m, &Caller::plain(1000, 5), MAY_READ | MAY_WRITE));
        assert!(permits(&m, &Caller::plain(7, 100), MAY_READ));
        assert!(!permits(&m, &Caller::plain(7, 100), MAY_WRITE));
        assert!(!permits(&m, &Caller::plain(7, 7), MAY_READ));
        let mut member = Caller::plain(7, 7);
        member.groups = alloc::vec![3, 100];
        assert!(permits(&m, &member, MAY_READ), "a supplementary group");
    }

    #[test]
    fn uid_0_without_capabilities_is_an_ordinary_user() {
        let m = Metadata {
            mode: S_IFREG | 0o600,
            uid: 1000,
            ..Default::default()
        };
        assert!(!permits(&m, &Caller::plain(0, 0), MAY_READ));
        let mut c = Caller::plain(0, 0);
        c.caps = crate::cred::cap_bit(crate::cred::CAP_DAC_READ_SEARCH);
        assert!(permits(&m, &c, MAY_READ), "CAP_DAC_READ_SEARCH reads");
        assert!(!permits(&m, &c, MAY_WRITE), "but does not write");
        let d = Metadata {
            mode: S_IFDIR | 0o700,
            uid: 1000,
            ..Default::default()
        };
        assert!(
            permits(&d, &c, MAY_READ | MAY_EXEC),
            "and searches directories"
        );
        assert!(!permits(&d, &c, MAY_WRITE | MAY_EXEC));
        c.caps = crate::cred::cap_bit(crate::cred::CAP_DAC_OVERRIDE);
        assert!(permits(&d, &c, MAY_WRITE | MAY_EXEC));
        assert!(permits(&m, &c, MAY_READ | MAY_WRITE));
        assert!(!c.owns(&m), "chmod needs the owner or CAP_FOWNER");
        c.caps = crate::cred::cap_bit(crate::cred::CAP_FOWNER);
        assert!(c.owns(&m));
    }

    #[test]
    fn root_of_a_child_user_container_is_root_only_over_ids_it_maps() {
        use crate::container::user::{UserContainer, root_user};
        crate::container::init("");
        let child =
            Arc::new(UserContainer::create(&root_user(), 1000, 1000).expect("below the limit"));
        let c = Caller {
            uid: 1000,
            gid: 1000,
            caps: crate::cred::CAP_FULL,
            user: Some(child.clone()),
            ..Default::default()
        };
        let root_file = Metadata {
            mode: S_IFREG | 0o600,
            ..Default::default()
        };
        assert!(
            !permits(&root_file, &c, MAY_READ),
            "no map yet: nothing is mapped"
        );
        child
            .set_map(
                false,
                crate::cred::idmap::IdMap::parse("0 1000 1", |l, _| Ok(l)).expect("map"),
            )
            .expect("uid map");
        child
            .set_map(
                true,
                crate::cred::idmap::IdMap::parse("0 1000 1", |l, _| Ok(l)).expect("map"),
            )
            .expect("gid map");
        assert!(
            !permits(&root_file, &c, MAY_READ),
            "kernel uid 0 is not mapped"
        );
        assert!(!c.owns(&root_file));
        let other = Metadata {
            uid: 1000,
            gid: 1000,
            mode: S_IFREG, // mode 000
            ..Default::default()
        };
        assert!(
            permits(&other, &c, MAY_READ | MAY_WRITE),
            "its own files: CAP_DAC_OVERRIDE counts"
        );
        assert_eq!(c.kernel_uid(0), Some(1000));
        assert_eq!(c.kernel_uid(1), None, "chown to an unmapped id is EINVAL");
    }
}
