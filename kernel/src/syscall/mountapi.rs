//! The new mount API (Linux 5.2+, as container runtimes use it): `open_tree`,
//! `move_mount`, `fsopen`, `fsconfig`, `fsmount` and `mount_setattr`. A detached tree
//! (`open_tree(OPEN_TREE_CLONE)`, `fsmount`) lives in an `O_PATH` descriptor until
//! `move_mount` attaches it to the caller's tree, or goes with its last descriptor;
//! an `fsopen` descriptor holds an [`FsConfig`]. The trees themselves are
//! `fs/mount/detached.rs`, the configuration rules `fs/fscontext.rs`.

use super::fs::{
    AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, context, files, has_writers, move_attached, read_user_path,
    require_mount_admin, resolve_at,
};
use super::table::{fd, syscalls};
use crate::errno::{Errno, SysResult};
use crate::fs::OpenFile;
use crate::fs::file::{FileOps, O_CLOEXEC, O_PATH, O_RDWR};
use crate::fs::fscontext::{FsConfig, FsType, Phase, Value, decode_mount_attr, fsmount_flags};
use crate::fs::mount::{DetachedTree, MS_RDONLY, MountTable};
use crate::fs::vfs::{FileSystem, InodeRef, Metadata};
use crate::fs::walk::Loc;
use crate::mm::user::{copy_from_user, read_user_cstr};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

const OPEN_TREE_CLONE: u32 = 1;
const OPEN_TREE_CLOEXEC: u32 = O_CLOEXEC;
const AT_NO_AUTOMOUNT: u32 = 0x800;
const AT_RECURSIVE: u32 = 0x8000;

const MOVE_MOUNT_F_SYMLINKS: u32 = 0x1;
const MOVE_MOUNT_F_AUTOMOUNTS: u32 = 0x2;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_SYMLINKS: u32 = 0x10;
const MOVE_MOUNT_T_AUTOMOUNTS: u32 = 0x20;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

const FSOPEN_CLOEXEC: u32 = 1;
const FSMOUNT_CLOEXEC: u32 = 1;

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_SET_BINARY: u32 = 2;
const FSCONFIG_SET_PATH: u32 = 3;
const FSCONFIG_SET_PATH_EMPTY: u32 = 4;
const FSCONFIG_SET_FD: u32 = 5;
const FSCONFIG_CMD_CREATE: u32 = 6;
const FSCONFIG_CMD_RECONFIGURE: u32 = 7;
const FSCONFIG_CMD_CREATE_EXCL: u32 = 8;

/// `MOUNT_ATTR_SIZE_VER0`: the size of the first `struct mount_attr`.
const MOUNT_ATTR_SIZE_VER0: u64 = 32;
const PAGE_SIZE: u64 = 4096;

syscalls! {
    frame, a;
    428 => open_tree(fd(a[0]), a[1], a[2] as u32),
    429 => move_mount(fd(a[0]), a[1], fd(a[2]), a[3], a[4] as u32),
    430 => fsopen(a[0], a[1] as u32),
    431 => fsconfig(fd(a[0]), a[1] as u32, a[2], a[3], fd(a[4])),
    432 => fsmount(fd(a[0]), a[1] as u32, a[2] as u32),
    433 => fspick(fd(a[0]), a[1], a[2] as u32),
    442 => mount_setattr(fd(a[0]), a[1], a[2] as u32, a[3], a[4]),
}

/// Descriptors' objects by the address of their `FileOps`, to recognise one.
struct Registry<T>(Mutex<BTreeMap<usize, Weak<T>>>);

impl<T> Registry<T> {
    const fn new() -> Self {
        Registry(Mutex::new(BTreeMap::new()))
    }

    fn add(&self, obj: &Arc<T>) {
        self.0
            .lock()
            .insert(Arc::as_ptr(obj) as usize, Arc::downgrade(obj));
    }

    fn remove(&self, obj: &T) {
        self.0.lock().remove(&(obj as *const T as usize));
    }

    fn of(&self, file: &OpenFile) -> Option<Arc<T>> {
        let key = Arc::as_ptr(file.ops()) as *const () as usize;
        self.0.lock().get(&key).and_then(Weak::upgrade)
    }
}

static TREES: Registry<TreeFile> = Registry::new();
static CONFIGS: Registry<ConfigFile> = Registry::new();

/// A detached tree's descriptor.
struct TreeFile {
    tree: Arc<DetachedTree>,
    /// The id of its top mount, which it keeps once attached: the descriptor then
    /// refers to that mount.
    top_id: u32,
    /// The mount tree of the mount container it was made in: only that one may
    /// attach it.
    origin: Weak<MountTable>,
    /// The directory at its top, for `fstat`.
    root: InodeRef,
}

impl FileOps for TreeFile {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<Metadata, Errno> {
        Ok(self.root.metadata())
    }
}

impl Drop for TreeFile {
    fn drop(&mut self) {
        TREES.remove(self);
    }
}

/// A new `O_PATH` descriptor holding `tree`, whose top shows `root`.
fn install_tree(tree: Arc<DetachedTree>, root: InodeRef, cloexec: bool) -> SysResult {
    let top_id = tree.top().ok_or(Errno::EINVAL)?.id;
    let obj = Arc::new(TreeFile {
        tree,
        top_id,
        origin: Arc::downgrade(context().mounts()),
        root,
    });
    TREES.add(&obj);
    install_tree_file(obj, cloexec)
}

/// A new `O_PATH` descriptor (a new open file) of the tree object `obj`.
fn install_tree_file(obj: Arc<TreeFile>, cloexec: bool) -> SysResult {
    let file = OpenFile::new(obj, None, String::from("/"), O_PATH);
    files().install(file, cloexec).map(|fd| fd as usize)
}

/// What `(dfd, path)` names for the mount calls.
enum Target {
    /// A detached tree: its descriptor with an empty path (or a path to its top).
    Detached(Arc<TreeFile>),
    /// A place in the caller's tree; a tree's descriptor once attached names its top
    /// mount wherever that is now (`EINVAL` when it is gone).
    Attached(Loc),
}

fn target(dfd: i32, path: &str, follow: bool) -> Result<Target, Errno> {
    let tree = if dfd >= 0 && !crate::fs::path::is_absolute(path) {
        TREES.of(&*files().get(dfd)?)
    } else {
        None
    };
    let Some(t) = tree else {
        return resolve_at(dfd, path, follow).map(Target::Attached);
    };
    if t.tree.is_empty() {
        let m = context()
            .mounts()
            .list()
            .into_iter()
            .find(|m| m.id == t.top_id)
            .ok_or(Errno::EINVAL)?;
        let top = Loc {
            path: m.path.clone(),
            inode: m.root(),
        };
        if path.is_empty() {
            return Ok(Target::Attached(top));
        }
        return context()
            .resolve_at(Some(&top), path, follow)
            .map(Target::Attached);
    }
    if path.is_empty() {
        return Ok(Target::Detached(t));
    }
    // A path inside the detached tree, walked in it (its errors as they come); of the
    // places there only its top is usable, as Linux's check_mnt allows.
    let top = t.tree.table().root();
    let loc = crate::fs::walk::Walker {
        mounts: t.tree.table(),
        root: &top,
        cwd: &top,
    }
    .resolve(path, follow)?;
    if loc.path != "/" {
        return Err(Errno::EINVAL);
    }
    Ok(Target::Detached(t))
}

/// An `fsopen` descriptor.
struct ConfigFile {
    state: Mutex<ConfigState>,
}

struct ConfigState {
    config: FsConfig,
    /// The file system `FSCONFIG_CMD_CREATE` made.
    fs: Option<Arc<dyn FileSystem>>,
}

impl FileOps for ConfigFile {
    /// The last error's message, once (`ENODATA` when there is none).
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut s = self.state.lock();
        let msg = s.config.message.take().ok_or(Errno::ENODATA)?;
        if msg.len() > buf.len() {
            s.config.message = Some(msg);
            return Err(Errno::EMSGSIZE);
        }
        buf[..msg.len()].copy_from_slice(msg.as_bytes());
        Ok(msg.len())
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        CONFIGS.remove(self);
    }
}

/// The file system `config` describes, new (every type here makes a new instance).
pub(super) fn new_fs(config: &FsConfig) -> Result<Arc<dyn FileSystem>, Errno> {
    let fs: Arc<dyn FileSystem> = match config.fstype {
        FsType::Proc => {
            crate::fs::procfs::ProcFs::new(Arc::new(crate::fs::KernelState::for_caller()))
        }
        // Without `size=`, half of RAM (Linux's default); `size=0` is no limit.
        FsType::Tmpfs => {
            crate::fs::ramfs::RamFs::tmpfs(config.size, crate::mm::frame::counts().1 / 2)
        }
        FsType::Ramfs => crate::fs::ramfs::RamFs::new("ramfs"),
        // A new instance with its own numbering on every mount (Linux's newinstance).
        FsType::Devpts => crate::fs::devpts::DevPts::new()?.fs.clone(),
        FsType::Sysfs => crate::fs::sysfs::SysFs::new(),
        FsType::Cgroup2 => crate::fs::cgroupfs::CgroupFs::new(),
        FsType::Mqueue => crate::fs::mqueuefs::MqueueFs::new(
            crate::task::current_process().containers().ipc.clone(),
        ),
        FsType::Other(_) => return Err(Errno::ENODEV),
    };
    let root = fs.root();
    if let Some(mode) = config.mode {
        root.chmod(mode)?;
    }
    if config.uid.is_some() || config.gid.is_some() {
        root.chown(config.uid, config.gid)?;
    }
    Ok(fs)
}

/// `open_tree(dfd, path, flags)`: with `OPEN_TREE_CLONE` a detached copy of the mount
/// at `path` (`AT_RECURSIVE`: and of those below it); without, an `O_PATH` descriptor
/// of `path`. `EINVAL` for unknown flags or `AT_RECURSIVE` alone, `EPERM` for a clone
/// without `CAP_SYS_ADMIN` over the mount container's owner.
fn open_tree(dfd: i32, path: u64, flags: u32) -> SysResult {
    let valid = AT_EMPTY_PATH
        | AT_NO_AUTOMOUNT
        | AT_RECURSIVE
        | AT_SYMLINK_NOFOLLOW
        | OPEN_TREE_CLONE
        | OPEN_TREE_CLOEXEC;
    if flags & !valid != 0 || flags & (AT_RECURSIVE | OPEN_TREE_CLONE) == AT_RECURSIVE {
        return Err(Errno::EINVAL);
    }
    let clone = flags & OPEN_TREE_CLONE != 0;
    if clone {
        require_mount_admin()?;
    }
    let p = path_arg(path, flags & AT_EMPTY_PATH != 0)?;
    let cloexec = flags & OPEN_TREE_CLOEXEC != 0;
    let loc = match target(dfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)? {
        // A detached tree is in no mount container's tree (Linux's check_mnt)...
        Target::Detached(_) if clone => return Err(Errno::EINVAL),
        // ... but another descriptor of it is an O_PATH open of its top.
        Target::Detached(t) => return install_tree_file(t, cloexec),
        Target::Attached(loc) => loc,
    };
    if !clone {
        let file = crate::fs::open_loc(loc, O_PATH)?;
        return files().install(file, cloexec).map(|fd| fd as usize);
    }
    let tree = context().mounts().clone_detached(
        &loc.path,
        loc.inode.clone(),
        flags & AT_RECURSIVE != 0,
    )?;
    install_tree(tree, loc.inode, cloexec)
}

/// A path argument that may be empty when `empty_ok`.
fn path_arg(addr: u64, empty_ok: bool) -> Result<String, Errno> {
    let p = read_user_path(addr)?;
    if p.is_empty() && !empty_ok {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// `move_mount(from_dfd, from_path, to_dfd, to_path, flags)`: attaches a detached tree
/// (`from_dfd` with an empty path and `MOVE_MOUNT_F_EMPTY_PATH`) at `to`, or moves the
/// attached mount whose root is `from` there as `mount(MS_MOVE)` does. Symlinks in
/// last position are followed only with `MOVE_MOUNT_F_SYMLINKS`/`T_SYMLINKS`.
/// A tree's descriptor once attached moves its mount. `EINVAL` for unknown flags
/// (`MOVE_MOUNT_SET_GROUP` and `MOVE_MOUNT_BENEATH` included: not supported), a tree
/// made in another mount container, `EPERM` without `CAP_SYS_ADMIN` over the mount
/// container's owner.
fn move_mount(from_dfd: i32, from: u64, to_dfd: i32, to: u64, flags: u32) -> SysResult {
    require_mount_admin()?;
    let valid = MOVE_MOUNT_F_SYMLINKS
        | MOVE_MOUNT_F_AUTOMOUNTS
        | MOVE_MOUNT_F_EMPTY_PATH
        | MOVE_MOUNT_T_SYMLINKS
        | MOVE_MOUNT_T_AUTOMOUNTS
        | MOVE_MOUNT_T_EMPTY_PATH;
    if flags & !valid != 0 {
        return Err(Errno::EINVAL);
    }
    let fp = path_arg(from, flags & MOVE_MOUNT_F_EMPTY_PATH != 0)?;
    let tp = path_arg(to, flags & MOVE_MOUNT_T_EMPTY_PATH != 0)?;
    let source = target(from_dfd, &fp, flags & MOVE_MOUNT_F_SYMLINKS != 0)?;
    // Mounting into a detached tree: Linux's check_mnt refuses it too.
    let Target::Attached(dest) = target(to_dfd, &tp, flags & MOVE_MOUNT_T_SYMLINKS != 0)? else {
        return Err(Errno::EINVAL);
    };
    let ctx = context();
    let t = match source {
        Target::Attached(src) => return move_attached(&ctx, &src, &dest),
        Target::Detached(t) => t,
    };
    let same_container = t
        .origin
        .upgrade()
        .is_some_and(|m| Arc::ptr_eq(&m, ctx.mounts()));
    if !same_container {
        return Err(Errno::EINVAL);
    }
    if t.root.metadata().is_dir() != dest.inode.metadata().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    ctx.mounts().attach(&t.tree, &dest.path).map(|_| 0)
}

/// `fsopen(fsname, flags)`: a descriptor configuring a new file system of type
/// `fsname`. `EPERM` without `CAP_SYS_ADMIN` over the mount container's owner,
/// `EINVAL` for flags other than `FSOPEN_CLOEXEC`, `ENODEV` for an unknown type.
fn fsopen(name: u64, flags: u32) -> SysResult {
    require_mount_admin()?;
    if flags & !FSOPEN_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let name = user_string(name, PAGE_SIZE as usize - 1)?;
    let ty = FsType::from_name(&name).ok_or(Errno::ENODEV)?;
    install_config(FsConfig::new(ty), None, flags & FSOPEN_CLOEXEC != 0)
}

/// A new configuration descriptor holding `config` (and `fs`, the file system it
/// created or picked).
fn install_config(config: FsConfig, fs: Option<Arc<dyn FileSystem>>, cloexec: bool) -> SysResult {
    let obj = Arc::new(ConfigFile {
        state: Mutex::new(ConfigState { config, fs }),
    });
    CONFIGS.add(&obj);
    let file = OpenFile::new(obj, None, String::from("anon_inode:[fscontext]"), O_RDWR);
    files().install(file, cloexec).map(|fd| fd as usize)
}

/// The `fsopen` configuration behind descriptor `fd`: `EBADF`, or `EINVAL` for another
/// kind of file.
fn config_of(fd: i32) -> Result<Arc<ConfigFile>, Errno> {
    CONFIGS.of(&*files().get(fd)?).ok_or(Errno::EINVAL)
}

/// A string argument of at most `max` bytes (Linux's `strndup_user(.., max + 1)`:
/// `EINVAL` past that, `EFAULT`).
fn user_string(addr: u64, max: usize) -> Result<String, Errno> {
    read_user_cstr(addr, max).map_err(|e| match e {
        Errno::ENAMETOOLONG => Errno::EINVAL,
        e => e,
    })
}

/// A key or string value of `fsconfig` (at most 255 bytes).
fn config_string(addr: u64) -> Result<String, Errno> {
    user_string(addr, 255)
}

/// `fsconfig(fd, cmd, key, value, aux)`: sets a parameter or creates the file
/// system. Argument shapes as Linux checks them (`EINVAL`), unknown commands
/// `EOPNOTSUPP`, `EBUSY` in the wrong phase (`FSCONFIG_CMD_RECONFIGURE` but for an `fspick`
/// descriptor), a failed create leaves the descriptor failed.
fn fsconfig(fd: i32, cmd: u32, key: u64, value: u64, aux: i32) -> SysResult {
    if fd < 0 {
        return Err(Errno::EINVAL);
    }
    let shape_ok = match cmd {
        FSCONFIG_SET_FLAG => key != 0 && value == 0 && aux == 0,
        FSCONFIG_SET_STRING => key != 0 && value != 0 && aux == 0,
        FSCONFIG_SET_BINARY => key != 0 && value != 0 && aux > 0 && aux <= 1024 * 1024,
        FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY => {
            key != 0 && value != 0 && (aux == super::fs::AT_FDCWD || aux >= 0)
        }
        FSCONFIG_SET_FD => key != 0 && value == 0 && aux >= 0,
        FSCONFIG_CMD_CREATE | FSCONFIG_CMD_RECONFIGURE | FSCONFIG_CMD_CREATE_EXCL => {
            key == 0 && value == 0 && aux == 0
        }
        _ => return Err(Errno::EOPNOTSUPP),
    };
    if !shape_ok {
        return Err(Errno::EINVAL);
    }
    let obj = config_of(fd)?;
    match cmd {
        FSCONFIG_CMD_CREATE | FSCONFIG_CMD_CREATE_EXCL => {
            obj.state.lock().config.begin_create()?;
            require_mount_admin()?;
            let mut s = obj.state.lock();
            s.config.begin_create()?;
            match new_fs(&s.config) {
                Ok(fs) => {
                    s.fs = Some(fs);
                    s.config.phase = Phase::Created;
                    Ok(0)
                }
                Err(e) => {
                    s.config.phase = Phase::Failed;
                    Err(e)
                }
            }
        }
        FSCONFIG_CMD_RECONFIGURE => {
            if obj.state.lock().config.phase != Phase::Reconfig {
                return Err(Errno::EBUSY);
            }
            require_mount_admin()?;
            let mut s = obj.state.lock();
            let size = s.config.take_reconfigure()?;
            match (size, &s.fs) {
                (Some(pages), Some(fs)) => fs.resize(pages).map(|_| 0),
                _ => Ok(0),
            }
        }
        _ => {
            let key = config_string(key)?;
            let text;
            let v = match cmd {
                FSCONFIG_SET_FLAG => Value::Flag,
                FSCONFIG_SET_STRING => {
                    text = config_string(value)?;
                    Value::Str(&text)
                }
                FSCONFIG_SET_BINARY => {
                    // Read (EFAULT) but no parameter here takes a blob.
                    let mut b = [0u8; 1];
                    copy_from_user(value, &mut b)?;
                    Value::Other
                }
                FSCONFIG_SET_FD => {
                    files().get(aux)?;
                    Value::Other
                }
                _ => {
                    read_user_path(value)?;
                    Value::Other
                }
            };
            let total = crate::mm::frame::counts().1 * PAGE_SIZE;
            obj.state.lock().config.set(&key, v, total).map(|_| 0)
        }
    }
}

const FSPICK_CLOEXEC: u32 = 1;
const FSPICK_SYMLINK_NOFOLLOW: u32 = 2;
const FSPICK_NO_AUTOMOUNT: u32 = 4;
const FSPICK_EMPTY_PATH: u32 = 8;

/// `fspick(dfd, path, flags)`: a configuration descriptor for reconfiguring the file
/// system mounted at `path` (a mount's root; a detached tree's top for its descriptor
/// with `FSPICK_EMPTY_PATH`). `EPERM` without `CAP_SYS_ADMIN` over the mount
/// container's owner, `EINVAL` for unknown flags or a path that is no mount's root.
fn fspick(dfd: i32, path: u64, flags: u32) -> SysResult {
    require_mount_admin()?;
    let valid = FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT | FSPICK_EMPTY_PATH;
    if flags & !valid != 0 {
        return Err(Errno::EINVAL);
    }
    let p = path_arg(path, flags & FSPICK_EMPTY_PATH != 0)?;
    let fs = match target(dfd, &p, flags & FSPICK_SYMLINK_NOFOLLOW == 0)? {
        Target::Detached(t) => t.tree.top().ok_or(Errno::EINVAL)?.fs.clone(),
        Target::Attached(loc) => {
            let m = context()
                .mounts()
                .mount_at(&loc.path)
                .ok_or(Errno::EINVAL)?;
            let (root, here) = (m.root().metadata(), loc.inode.metadata());
            if (root.dev, root.ino) != (here.dev, here.ino) {
                return Err(Errno::EINVAL);
            }
            m.fs.clone()
        }
    };
    let ty = FsType::from_name(fs.name()).unwrap_or(FsType::Other(fs.name()));
    install_config(
        FsConfig::for_reconfigure(ty),
        Some(fs),
        flags & FSPICK_CLOEXEC != 0,
    )
}

/// `fsmount(fs_fd, flags, attr_flags)`: a detached tree holding a mount of the file
/// system `fs_fd` created, with `MOUNT_ATTR_*` per-mount flags (and read-only for
/// the `ro` parameter). `EINVAL` for flags other than `FSMOUNT_CLOEXEC`, bad
/// `attr_flags` or a descriptor that is no `fsopen` one, `EBUSY` before a create.
fn fsmount(fs_fd: i32, flags: u32, attr_flags: u32) -> SysResult {
    require_mount_admin()?;
    if flags & !FSMOUNT_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let mut mnt_flags = fsmount_flags(attr_flags as u64)?;
    let obj = config_of(fs_fd)?;
    let (fs, source) = {
        let s = obj.state.lock();
        let fs = match (&s.fs, s.config.phase) {
            (Some(fs), Phase::Created) => fs.clone(),
            _ => return Err(Errno::EBUSY),
        };
        if s.config.read_only {
            mnt_flags |= MS_RDONLY;
        }
        let source = s
            .config
            .source
            .clone()
            .unwrap_or_else(|| String::from("none"));
        (fs, source)
    };
    let root = fs.root();
    let tree = MountTable::detached_fs(fs, &source, mnt_flags)?;
    install_tree(tree, root, flags & FSMOUNT_CLOEXEC != 0)
}

/// `mount_setattr(dfd, path, flags, attr, size)`: per-mount flags and propagation of
/// the mount whose root is `path` (a detached tree's top for its descriptor with an
/// empty path), with `AT_RECURSIVE` of its whole subtree. `E2BIG` for a size past a
/// page or non-zero bytes past the known structure, `EINVAL` for a smaller size,
/// unknown flags or bits (`MOUNT_ATTR_IDMAP`: no idmapped mounts), `EPERM` without
/// `CAP_SYS_ADMIN` over the mount container's owner, `EBUSY` making a mount with a
/// file open for writing read-only.
fn mount_setattr(dfd: i32, path: u64, flags: u32, uattr: u64, size: u64) -> SysResult {
    let valid = AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT;
    if flags & !valid != 0 {
        return Err(Errno::EINVAL);
    }
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < MOUNT_ATTR_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; MOUNT_ATTR_SIZE_VER0 as usize];
    copy_from_user(uattr, &mut raw)?;
    // Bytes of a newer structure past the known ones must be zero (copy_struct_from_user).
    let mut at = MOUNT_ATTR_SIZE_VER0;
    while at < size {
        let mut chunk = [0u8; 64];
        let n = (size - at).min(64) as usize;
        copy_from_user(uattr.wrapping_add(at), &mut chunk[..n])?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
        at += n as u64;
    }
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    let (set, clear, propagation) = (word(0), word(1), word(2));
    if set == 0 && clear == 0 && propagation == 0 {
        return Ok(0);
    }
    let attr = decode_mount_attr(set, clear, propagation)?;
    require_mount_admin()?;
    let rec = flags & AT_RECURSIVE != 0;
    let p = path_arg(path, flags & AT_EMPTY_PATH != 0)?;
    let loc = match target(dfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)? {
        Target::Detached(t) => {
            let table = t.tree.table();
            table.change_flags("/", attr.set, attr.clear, rec)?;
            if attr.propagation != 0 {
                table.set_propagation("/", attr.propagation, rec)?;
            }
            return Ok(0);
        }
        Target::Attached(loc) => loc,
    };
    let ctx = context();
    let mounts = ctx.mounts();
    let m = mounts.mount_at(&loc.path).ok_or(Errno::EINVAL)?;
    let (root, here) = (m.root().metadata(), loc.inode.metadata());
    if (root.dev, root.ino) != (here.dev, here.ino) {
        return Err(Errno::EINVAL);
    }
    if attr.set & MS_RDONLY != 0 {
        let busy = mounts
            .list()
            .iter()
            .filter(|x| x.id == m.id || (rec && crate::fs::path::is_within(&x.path, &loc.path)))
            .any(|x| x.flags & MS_RDONLY == 0 && has_writers(mounts, x));
        if busy {
            return Err(Errno::EBUSY);
        }
    }
    mounts.change_flags(&loc.path, attr.set, attr.clear, rec)?;
    if attr.propagation != 0 {
        mounts.set_propagation(&loc.path, attr.propagation, rec)?;
    }
    Ok(0)
}
