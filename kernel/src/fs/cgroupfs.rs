//! The `cgroup2` file system (`mount -t cgroup2 none /sys/fs/cgroup`): the plimits
//! groups through Linux's cgroup v2 file names. The mount's root directory is a group
//! (the root group, see [`view_root`]); the root group's directory also lists the child
//! groups. One entry table serves every group directory: an entry says whether the
//! root has it and which controller it belongs to, and owns its read and write, which
//! turn the text into plimits' values (`plimits::cgroup2` has the text rules).
//! Both interfaces show and change the same groups; only the cgroup2 side has
//! `cgroup.subtree_control`, the freezer and `cgroup.kill`.

use super::file::{FileOps, O_ACCMODE, O_RDONLY, O_WRONLY};
use super::vfs::{
    self, DirEntry, FileSystem, FileType, Inode, InodeRef, Metadata, S_IFDIR, S_IFREG,
};
use crate::errno::Errno;
use crate::plimits::cgroup2::{self as cg, CPU, MEMORY, PIDS};
use crate::plimits::{self, Group, pids::PID_MAX};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

/// The group a new cgroup2 mount shows as its root: the root group of the mounter's
/// cgroup container (the plimits root outside any), so its parents are invisible.
fn view_root() -> Arc<Group> {
    crate::container::cgroup::root_group_of_current()
}

type ReadFn = fn(&Arc<Group>) -> Result<String, Errno>;
type WriteFn = fn(&Arc<Group>, &[u8]) -> Result<(), Errno>;

/// One file of a group directory.
struct Entry {
    name: &'static str,
    /// Whether the root group has it (Linux's root has no limits, freezer or kill).
    at_root: bool,
    /// The controller (`plimits::cgroup2::CPU`...) whose file it is in a child group:
    /// there only while the root enables it in `cgroup.subtree_control`; 0 for core files.
    controller: u8,
    read: Option<ReadFn>,
    write: Option<WriteFn>,
}

const fn entry(
    name: &'static str,
    at_root: bool,
    controller: u8,
    read: Option<ReadFn>,
    write: Option<WriteFn>,
) -> Entry {
    Entry {
        name,
        at_root,
        controller,
        read,
        write,
    }
}

impl Entry {
    /// 0644, 0444 or 0200 as Linux's cgroup files.
    fn mode(&self) -> u32 {
        match (self.read.is_some(), self.write.is_some()) {
            (true, true) => 0o644,
            (true, false) => 0o444,
            _ => 0o200,
        }
    }

    /// Whether group `g`'s directory has this file.
    fn shown_in(&self, g: &Group) -> bool {
        if g.is_root() {
            self.at_root
        } else {
            self.controller == 0 || cg::controllers(g) & self.controller != 0
        }
    }
}

/// The files of a group directory, in directory order.
static FILES: [Entry; 16] = [
    entry("cgroup.controllers", true, 0, Some(read_controllers), None),
    entry(
        "cgroup.subtree_control",
        true,
        0,
        Some(read_subtree),
        Some(cg::set_subtree),
    ),
    entry(
        "cgroup.procs",
        true,
        0,
        Some(read_procs),
        Some(cg::move_pid),
    ),
    entry("cgroup.type", true, 0, Some(read_type), Some(write_type)),
    entry("cgroup.events", true, 0, Some(read_events), None),
    entry(
        "cgroup.freeze",
        false,
        0,
        Some(read_freeze),
        Some(write_freeze),
    ),
    entry("cgroup.kill", false, 0, None, Some(cg::kill)),
    entry("cpu.stat", true, 0, Some(read_cpu_stat), None),
    entry(
        "cpu.max",
        false,
        CPU,
        Some(read_cpu_max),
        Some(write_cpu_max),
    ),
    entry(
        "memory.current",
        false,
        MEMORY,
        Some(read_memory_current),
        None,
    ),
    entry(
        "memory.max",
        false,
        MEMORY,
        Some(read_memory_max),
        Some(write_memory_max),
    ),
    entry("memory.peak", false, MEMORY, Some(read_memory_peak), None),
    entry(
        "memory.events",
        false,
        MEMORY,
        Some(read_memory_events),
        None,
    ),
    entry("memory.stat", true, MEMORY, Some(read_memory_stat), None),
    entry("pids.current", false, PIDS, Some(read_pids_current), None),
    entry(
        "pids.max",
        false,
        PIDS,
        Some(read_pids_max),
        Some(write_pids_max),
    ),
];

/// Whether `name` is a file of some cgroup2 directory (no group may take the name).
pub fn is_file_name(name: &str) -> bool {
    FILES.iter().any(|e| e.name == name)
}

fn read_controllers(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(cg::render_controllers(cg::controllers(g)))
}

fn read_subtree(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(cg::render_controllers(g.cg2.subtree()))
}

/// One pid a line, in the reader's PID container (live processes: not zombies).
fn read_procs(g: &Arc<Group>) -> Result<String, Errno> {
    let mut s = String::new();
    for pid in plimits::glue::live_pids(g) {
        s.push_str(&format!("{pid}\n"));
    }
    Ok(s)
}

fn read_type(_g: &Arc<Group>) -> Result<String, Errno> {
    Ok(String::from("domain\n"))
}

/// Threaded groups do not exist here: `threaded` is `EOPNOTSUPP`, anything else
/// `EINVAL` (Linux accepts only `threaded`).
fn write_type(_g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    match cg::trim(text) {
        b"threaded" => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EINVAL),
    }
}

fn read_events(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(format!(
        "populated {}\nfrozen {}\n",
        cg::populated(g) as u8,
        g.cg2.frozen() as u8
    ))
}

fn read_freeze(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(format!("{}\n", g.cg2.frozen() as u8))
}

fn write_freeze(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    cg::set_frozen(g, text)
}

/// CPU time since the group was made (the root: since boot), the live members'
/// user/system split (timer-tick samples), and plimits' quota periods.
fn read_cpu_stat(g: &Arc<Group>) -> Result<String, Errno> {
    let st = g.sched.stat();
    let (user, system) = plimits::glue::cpu_split_us(g);
    Ok(format!(
        "usage_usec {}\nuser_usec {}\nsystem_usec {}\nnr_periods {}\nnr_throttled {}\nthrottled_usec {}\n",
        st.usage_ns / 1000,
        user,
        system,
        st.periods,
        st.throttled,
        st.throttled_ns / 1000
    ))
}

fn read_cpu_max(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(cg::render_cpu_max(g.sched.quota(), g.sched.period()))
}

fn write_cpu_max(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    let (quota, period) = cg::parse_cpu_max(text, g.sched.period())?;
    g.sched.set_both(period, quota)
}

fn read_memory_current(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(format!("{}\n", g.mem.usage()))
}

/// `max` while the limit is the machine's memory (plimits' default).
fn read_memory_max(g: &Arc<Group>) -> Result<String, Errno> {
    let limit = g.mem.limit();
    Ok(cg::render_max(limit, limit >= plimits::root().mem.limit()))
}

/// plimits' rule: not 0, not below the usage (`EINVAL`); `max` is the machine's memory.
fn write_memory_max(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    let v = cg::parse_bytes(text)?.unwrap_or_else(|| plimits::root().mem.limit());
    g.mem.set_limit(v)
}

fn read_memory_peak(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(format!("{}\n", g.mem.peak()))
}

/// `max`: charges refused at the limit (plimits' `memory.failcnt`); `oom`/`oom_kill`:
/// members killed for a fault over it.
fn read_memory_events(g: &Arc<Group>) -> Result<String, Errno> {
    let kills = g.mem.oom_kills();
    Ok(format!(
        "low 0\nhigh 0\nmax {}\noom {kills}\noom_kill {kills}\noom_group_kill 0\n",
        g.mem.failcnt()
    ))
}

/// `anon`: the members' private pages and page tables; `kernel_stack`: their threads'
/// kernel stacks; `slab`: kernel objects charged to the group (all unreclaimable);
/// `kernel`: stacks and objects; `shmem`: the rest of the usage (SysV segments' pages);
/// no page cache.
fn read_memory_stat(g: &Arc<Group>) -> Result<String, Errno> {
    let (anon, stacks) = plimits::glue::memory_parts(g);
    let slab = g.mem.kernel();
    let shmem = g.mem.usage().saturating_sub(anon + stacks + slab);
    let kernel = stacks + slab;
    Ok(format!(
        "anon {anon}\nfile 0\nkernel {kernel}\nkernel_stack {stacks}\nshmem {shmem}\nslab {slab}\nslab_reclaimable 0\nslab_unreclaimable {slab}\n"
    ))
}

fn read_pids_current(g: &Arc<Group>) -> Result<String, Errno> {
    Ok(format!("{}\n", g.pids.count()))
}

fn read_pids_max(g: &Arc<Group>) -> Result<String, Errno> {
    let max = g.pids.max();
    Ok(cg::render_max(max as u64, max >= PID_MAX))
}

/// plimits' rule: at most the kernel's 32768 (`EINVAL`), above the count (`EPERM`).
fn write_pids_max(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    let v = cg::parse_pids(text)?.unwrap_or(PID_MAX as u64);
    g.pids.set_max(v)
}

/// One device number for every cgroup2 mount: they show one hierarchy (Linux's one
/// superblock).
fn dev() -> u64 {
    static DEV: spin::Once<u64> = spin::Once::new();
    *DEV.call_once(vfs::alloc_dev)
}

/// Inode numbers: a group's directory `(id + 1) << 8`, its files that plus the entry's
/// index + 1.
fn ino(group: u32, entry: Option<usize>) -> u64 {
    ((group as u64 + 1) << 8) | entry.map_or(0, |i| i as u64 + 1)
}

pub struct CgroupFs {
    root: u32,
}

impl CgroupFs {
    pub fn new() -> Arc<CgroupFs> {
        Arc::new(CgroupFs {
            root: view_root().id(),
        })
    }
}

impl FileSystem for CgroupFs {
    fn name(&self) -> &'static str {
        "cgroup2"
    }

    fn root(&self) -> InodeRef {
        Arc::new(GroupDir { group: self.root })
    }

    fn dev(&self) -> u64 {
        dev()
    }
}

/// The group with number `id`: `ENOENT` once it is removed.
fn group(id: u32) -> Result<Arc<Group>, Errno> {
    plimits::find(id).ok_or(Errno::ENOENT)
}

/// The directory of a group.
struct GroupDir {
    group: u32,
}

/// The plimits group of a cgroup2 directory opened as `file` (`clone3`'s
/// `CLONE_INTO_CGROUP`): `EBADF` for anything else or a removed group.
pub fn group_of_file(file: &super::file::OpenFile) -> Result<Arc<Group>, Errno> {
    let inode: &dyn Any = &**file.inode().ok_or(Errno::EBADF)?;
    let dir = inode.downcast_ref::<GroupDir>().ok_or(Errno::EBADF)?;
    plimits::find(dir.group).ok_or(Errno::EBADF)
}

/// Whether the caller may start a process in `g` with `CLONE_INTO_CGROUP`: write
/// access to its `cgroup.procs` (`EACCES`), and `g` a leaf (`EBUSY`, as a
/// `cgroup.procs` write).
pub fn may_clone_into(g: &Group) -> Result<(), Errno> {
    let meta = Metadata {
        mode: S_IFREG | 0o644,
        ..Default::default()
    };
    if !vfs::permits(&meta, &super::env::caller(), vfs::MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    if !g.is_root() && g.cg2.subtree() != 0 {
        return Err(Errno::EBUSY);
    }
    Ok(())
}

impl GroupDir {
    /// The entries shown in `g`'s directory, with their index in [`FILES`].
    fn entries(g: &Group) -> impl Iterator<Item = (usize, &'static Entry)> {
        FILES.iter().enumerate().filter(|(_, e)| e.shown_in(g))
    }
}

impl Inode for GroupDir {
    fn metadata(&self) -> Metadata {
        let subdirs = match plimits::find(self.group) {
            Some(g) if g.is_root() => plimits::children().len() as u32,
            _ => 0,
        };
        Metadata {
            dev: dev(),
            ino: ino(self.group, None),
            mode: S_IFDIR | 0o755,
            nlink: 2 + subdirs,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        let g = group(self.group)?;
        if let Some((i, _)) = Self::entries(&g).find(|(_, e)| e.name == name) {
            return Ok(Arc::new(GroupFile {
                group: self.group,
                index: i,
            }));
        }
        if g.is_root()
            && let Some(c) = plimits::children().into_iter().find(|c| c.name() == name)
        {
            return Ok(Arc::new(GroupDir { group: c.id() }));
        }
        Err(Errno::ENOENT)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let g = group(self.group)?;
        let mut v: Vec<DirEntry> = Self::entries(&g)
            .map(|(i, e)| DirEntry {
                name: String::from(e.name),
                ino: ino(self.group, Some(i)),
                ftype: FileType::Regular,
            })
            .collect();
        if g.is_root() {
            v.extend(plimits::children().into_iter().map(|c| DirEntry {
                name: String::from(c.name()),
                ino: ino(c.id(), None),
                ftype: FileType::Directory,
            }));
        }
        Ok(v)
    }

    /// A new group below the root group, nobody moved into it. Below a child group
    /// `EPERM`: plimits has one level.
    fn mkdir(&self, name: &str, _mode: u32, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        if self.lookup(name).is_ok() {
            return Err(Errno::EEXIST);
        }
        if !group(self.group)?.is_root() {
            return Err(Errno::EPERM);
        }
        let g = cg::create(name)?;
        Ok(Arc::new(GroupDir { group: g.id() }))
    }

    /// `EBUSY` while the group has members; a file `ENOTDIR`.
    fn rmdir(&self, name: &str) -> Result<(), Errno> {
        let found = self.lookup(name)?;
        if found.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        cg::remove(name)
    }

    // No files are made or removed: Linux's errno for directories without those
    // operations (`open(O_CREAT)` EACCES, the others EPERM).
    fn create(
        &self,
        name: &str,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> Result<InodeRef, Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EACCES))
    }

    fn symlink(&self, name: &str, _target: &str, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EPERM))
    }

    fn link(&self, name: &str, _target: &InodeRef) -> Result<(), Errno> {
        Err(vfs::no_new_entry(self, name, Errno::EPERM))
    }

    fn unlink(&self, name: &str) -> Result<(), Errno> {
        self.lookup(name)?;
        Err(Errno::EPERM)
    }

    fn rename(&self, old: &str, _new_dir: &InodeRef, _new: &str) -> Result<(), Errno> {
        self.lookup(old)?;
        Err(Errno::EPERM)
    }
}

/// File `FILES[index]` of a group.
struct GroupFile {
    group: u32,
    index: usize,
}

impl GroupFile {
    fn entry(&self) -> &'static Entry {
        &FILES[self.index]
    }

    /// The group, `ENODEV` once it is removed (Linux's errno for a removed cgroup's
    /// open files).
    fn group(&self) -> Result<Arc<Group>, Errno> {
        plimits::find(self.group).ok_or(Errno::ENODEV)
    }
}

impl Inode for GroupFile {
    fn metadata(&self) -> Metadata {
        Metadata {
            dev: dev(),
            ino: ino(self.group, Some(self.index)),
            mode: S_IFREG | self.entry().mode(),
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let read = self.entry().read.ok_or(Errno::EINVAL)?;
        let text = read(&self.group()?)?;
        let bytes = text.as_bytes();
        let start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }

    /// One whole write is one command (its offset does not matter).
    fn write_at(&self, _offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let write = self.entry().write.ok_or(Errno::EINVAL)?;
        write(&self.group()?, buf)?;
        Ok(buf.len())
    }

    /// `O_TRUNC` means nothing here.
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Ok(())
    }

    /// Opening for an access the file has no operation for: `EACCES` (Linux's kernfs),
    /// even with CAP_DAC_OVERRIDE.
    fn open(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        let e = self.entry();
        let acc = flags & O_ACCMODE;
        let reads = acc != O_WRONLY;
        let writes = acc != O_RDONLY;
        if (reads && e.read.is_none()) || (writes && e.write.is_none()) {
            return Some(Err(Errno::EACCES));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_unique_names_and_linux_modes() {
        for (i, e) in FILES.iter().enumerate() {
            assert!(FILES[..i].iter().all(|o| o.name != e.name), "{}", e.name);
        }
        let mode = |n: &str| FILES.iter().find(|e| e.name == n).map(Entry::mode);
        assert_eq!(mode("cgroup.kill"), Some(0o200));
        assert_eq!(mode("memory.max"), Some(0o644));
        assert_eq!(mode("pids.current"), Some(0o444));
        assert!(is_file_name("cgroup.procs") && !is_file_name("web"));
    }

    #[test]
    fn the_root_directory_shows_its_files() {
        let d = GroupDir {
            group: plimits::root().id(),
        };
        let names: Vec<String> = d
            .readdir()
            .expect("root")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.iter().any(|n| n == "cgroup.subtree_control"));
        assert!(
            !names.iter().any(|n| n == "memory.max"),
            "no limits at the root"
        );
        let f = d.lookup("cgroup.controllers").expect("a file");
        let mut buf = [0u8; 64];
        let n = f.read_at(0, &mut buf).expect("read");
        assert_eq!(&buf[..n], b"cpu memory pids\n");
        assert_eq!(d.lookup("cgroup.kill").err(), Some(Errno::ENOENT));
        assert_eq!(d.rmdir("cgroup.procs"), Err(Errno::ENOTDIR));
        assert_eq!(
            d.mkdir("cgroup.procs", 0o755, 0, 0).err(),
            Some(Errno::EEXIST)
        );
    }
}
