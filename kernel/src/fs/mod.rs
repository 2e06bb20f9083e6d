//! File systems: the VFS (inodes, mounts, path walk), open files and fd tables, and the
//! file systems themselves (ramfs/tmpfs, devtmpfs, procfs, nsfs, pipes). This file holds the
//! entry points the rest of the kernel uses: `init`, opening a path, reading a file for
//! `execve`.
#![deny(unsafe_code)]

pub mod cgroupfs;
pub mod context;
pub mod cpio;
pub mod devfs;
pub mod devpts;
pub mod env;
pub mod epoll;
pub mod eventfd;
pub mod fasync;
pub mod fdtable;
pub mod file;
pub mod fscontext;
pub mod inotify;
pub mod lock;
pub mod memfd;
pub mod mount;
pub mod mqueuefs;
pub mod nodecache;
pub mod nsfs;
pub mod pagecharge;
pub mod pagestore;
pub mod path;
pub mod pipe;
pub mod pollwait;
pub mod procfd;
pub mod procfs;
pub mod proclimits;
pub mod procpid;
pub mod pty;
pub mod ramdir;
pub mod ramfs;
pub mod statfs;
pub mod sysctl;
pub mod sysfs;
pub mod timens;
pub mod timerfd;
pub mod tty;
pub mod ttyjob;
pub mod usermap;
pub mod vfs;
pub mod walk;
pub mod walkpath;
pub mod xattr;

pub use context::FsContext;
pub use devfs::console_input;
pub use fdtable::FdTable;
pub use file::OpenFile;
pub use nsfs::container_of_file;
pub use procfs::{MapLine, ProcInfo};
pub use vfs::{Inode, InodeRef};

use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use file::{FileOps, InodeFile, O_ACCMODE, O_DIRECTORY, O_PATH, O_RDONLY, O_TRUNC};
use mount::{MS_NODEV, MS_NOEXEC, MS_NOSUID, MountTable};
use spin::Once;
use vfs::{FileSystem, FileType, MAY_EXEC, MAY_READ, MAY_WRITE};
use walk::Loc;

static KERNEL_FS: Once<Arc<FsContext>> = Once::new();

/// Builds the root file system: a ramfs filled from the initramfs (cpio newc), with
/// devtmpfs mounted on `/dev` and procfs on `/proc`. A malformed archive is logged and
/// what was unpacked before the error stays.
pub fn init(initramfs: &[u8], view: Arc<dyn procfs::KernelView>) {
    let rootfs = ramfs::RamFs::new("rootfs");
    match ramfs::unpack_cpio(&rootfs, initramfs) {
        Ok(n) => log::info!("initramfs: {n} entries, {} bytes", initramfs.len()),
        Err(e) => log::error!("initramfs: malformed archive ({e:?}); using what was unpacked"),
    }
    let mounts = MountTable::new(rootfs.clone(), "rootfs");
    let dev: Arc<dyn FileSystem> = devfs::devtmpfs();
    let proc: Arc<dyn FileSystem> = procfs::ProcFs::new(view);
    for (dir, fs, flags) in [
        ("dev", dev, MS_NOSUID),
        ("proc", proc, MS_NOSUID | MS_NODEV | MS_NOEXEC),
    ] {
        let root = rootfs.root();
        if root.lookup(dir).is_err() && root.mkdir(dir, 0o755, 0, 0).is_err() {
            log::error!("cannot create /{dir} in the root file system");
            continue;
        }
        let source = fs.name();
        let _ = mounts.mount(&path::join("/", dir), fs, source, flags);
    }
    crate::container::mnt::set_boot_table(mounts.clone());
    KERNEL_FS.call_once(|| FsContext::new(mounts));
}

/// The kernel's own context (root of the global mount tree), for code that runs before
/// any process exists. Panics before `init`.
pub fn kernel_context() -> Arc<FsContext> {
    KERNEL_FS
        .get()
        .expect("fs::init runs before any file access")
        .clone()
}

/// The context of the calling process, or the kernel's before processes exist.
pub fn current_context() -> Arc<FsContext> {
    env::current_fs().unwrap_or_else(kernel_context)
}

/// Opens a resolved location with `open(2)` flags (`O_CREAT`/`O_EXCL` are the caller's
/// business): type and access checks, devices through their driver, `O_TRUNC`.
pub fn open_loc(loc: Loc, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    sysctl::check_file_max(file::open_files())?;
    let meta = loc.inode.metadata();
    let ftype = meta.file_type();
    if flags & O_PATH != 0 {
        let ops: Arc<dyn FileOps> = InodeFile::new(loc.inode.clone());
        return Ok(OpenFile::new(
            ops,
            Some(loc.inode),
            loc.path,
            flags & (O_PATH | O_DIRECTORY),
        ));
    }
    if flags & O_DIRECTORY != 0 && ftype != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let acc = flags & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let want = match acc {
        O_RDONLY => MAY_READ,
        file::O_WRONLY => MAY_WRITE,
        _ => MAY_READ | MAY_WRITE,
    };
    if ftype == FileType::Directory && want & MAY_WRITE != 0 {
        return Err(Errno::EISDIR);
    }
    let on_disk = matches!(ftype, FileType::Regular | FileType::Directory);
    if want & MAY_WRITE != 0 && on_disk && current_context().mounts().read_only(&loc.path) {
        return Err(Errno::EROFS);
    }
    if !vfs::anyone_may(&meta, want) && !vfs::permits(&meta, &env::caller(), want) {
        return Err(Errno::EACCES);
    }
    let device = matches!(ftype, FileType::CharDevice | FileType::BlockDevice);
    if device && current_context().mounts().has_flag(&loc.path, MS_NODEV) {
        return Err(Errno::EACCES);
    }
    if device {
        // The caller's plimits group's devices rules (LiteOS-A: EPERM).
        use crate::plimits::devices::{DevType, open_access};
        let kind = if ftype == FileType::CharDevice {
            DevType::Char
        } else {
            DevType::Block
        };
        let group = crate::plimits::current_group();
        if !group
            .dev
            .lock()
            .permits(kind, &loc.path, open_access(flags))
        {
            return Err(Errno::EPERM);
        }
    }
    let ops: Arc<dyn FileOps> = match ftype {
        FileType::CharDevice if vfs::major(meta.rdev) == devpts::PTS_MAJOR => {
            pty::open_slave(vfs::minor(meta.rdev))?
        }
        FileType::CharDevice if meta.rdev == vfs::makedev(5, 2) => {
            pty::open_ptmx(devpts::instance_for(&loc, meta.dev))?
        }
        // /dev/tty: the caller's controlling terminal (a pty slave, else the console).
        FileType::CharDevice if meta.rdev == vfs::makedev(5, 0) => match pty::open_ctty() {
            Some(ops) => ops,
            None => devfs::open_device(meta.rdev)?,
        },
        FileType::CharDevice => devfs::open_device(meta.rdev)?,
        // A pipe reached through /proc/[pid]/fd opens again (`procfd`); fifos and
        // sockets of a file system do not.
        FileType::Fifo | FileType::Socket => match loc.inode.open(flags) {
            Some(ops) => ops?,
            None => return Err(Errno::ENXIO),
        },
        FileType::BlockDevice => return Err(Errno::ENXIO),
        FileType::Symlink => return Err(Errno::ELOOP),
        FileType::Regular | FileType::Directory => match loc.inode.open(flags) {
            Some(ops) => ops?,
            None => match loc.inode.clone().open_shared() {
                Some(ops) => ops,
                None => InodeFile::new(loc.inode.clone()),
            },
        },
    };
    if flags & O_TRUNC != 0 && ftype == FileType::Regular && want & MAY_WRITE != 0 {
        loc.inode.truncate(0)?;
    }
    let file = OpenFile::new(ops, Some(loc.inode), loc.path, flags);
    inotify::file_event(&file, inotify::IN_OPEN);
    Ok(file)
}

/// Opens an existing file by path (relative to the caller's cwd), following symlinks.
pub fn open_path(path: &str, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    let loc = current_context().resolve(path, flags & file::O_NOFOLLOW == 0)?;
    open_loc(loc, flags)
}

/// The whole content of a regular file.
pub fn read_whole_file(path: &str) -> Result<Vec<u8>, Errno> {
    let loc = current_context().resolve(path, true)?;
    read_loc(&loc)
}

fn read_loc(loc: &Loc) -> Result<Vec<u8>, Errno> {
    let meta = loc.inode.metadata();
    match meta.file_type() {
        FileType::Regular => {}
        FileType::Directory => return Err(Errno::EISDIR),
        _ => return Err(Errno::EACCES),
    }
    // Read to EOF rather than to `size`: generated files (procfs) report size 0.
    let mut data = vec![0u8; (meta.size as usize).max(4096)];
    let mut done = 0;
    loop {
        if done == data.len() {
            data.resize(done * 2, 0);
        }
        let n = loc.inode.read_at(done as u64, &mut data[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    data.truncate(done);
    Ok(data)
}

/// For `execve`: the file and its canonical path. `EACCES` for anything but a regular
/// file with execute permission on a mount without `MS_NOEXEC`. The loader reads what it
/// needs from the file (a whole-file copy would need one contiguous heap block as large
/// as the program).
pub fn open_exec(path: &str) -> Result<(InodeRef, String), Errno> {
    let ctx = current_context();
    let loc = ctx.resolve(path, true)?;
    let meta = loc.inode.metadata();
    if meta.file_type() != FileType::Regular || !vfs::permits(&meta, &env::caller(), MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    if ctx.mounts().has_flag(&loc.path, MS_NOEXEC) {
        return Err(Errno::EACCES);
    }
    Ok((loc.inode, loc.path))
}

/// What procfs shows, from the task and memory code. One per `proc` mount: it belongs to
/// the PID container of the process that mounted it and shows only that container's
/// processes and its descendants' (named by their numbers in the reader's view).
#[cfg(target_os = "none")]
pub struct KernelState {
    owner: Arc<crate::container::pid::PidContainer>,
    /// The owner is the root PID container: every process the reader sees is shown.
    all: bool,
}

#[cfg(target_os = "none")]
impl KernelState {
    /// The view of a `proc` mounted by the caller (its active PID container).
    pub fn for_caller() -> KernelState {
        let owner = crate::task::caller_pid_container();
        KernelState {
            all: owner.parent_container().is_none(),
            owner,
        }
    }

    /// Whether this proc instance shows `p` (a process of its PID container or below).
    fn shows(&self, p: &crate::task::Process) -> bool {
        self.all || p.pid_ref().nr_in(&self.owner).is_some()
    }

    /// Process `pid` of the reader's view, if this proc instance shows it.
    fn process(&self, pid: u32) -> Option<Arc<crate::task::Process>> {
        crate::task::find_process(pid).filter(|p| self.shows(p))
    }

    /// The file-system context of visible process `pid` (`None` when gone or a zombie).
    fn process_fs(&self, pid: u32) -> Option<Arc<FsContext>> {
        let p = self.process(pid)?;
        let pi = p.inner.lock();
        if pi.zombie.is_some() {
            return None;
        }
        Some(pi.fs.clone())
    }
}

#[cfg(target_os = "none")]
impl procfs::KernelView for KernelState {
    fn pids(&self) -> Vec<u32> {
        crate::task::visible_processes()
            .into_iter()
            .filter(|(_, p)| self.shows(p))
            .map(|(n, _)| n)
            .collect()
    }
    /// The task's facts, with the credentials as the reader's user container sees them.
    fn proc_info(&self, pid: u32) -> Option<ProcInfo> {
        let c = self.process(pid)?.cred();
        let mut info = crate::task::proc_info(pid)?;
        let reader = env::current_cred();
        let vu = |k: u32| reader.as_ref().map_or(k, |r| r.view_uid(k));
        let vg = |k: u32| reader.as_ref().map_or(k, |r| r.view_gid(k));
        info.uids = [c.uid, c.euid, c.suid, c.fsuid].map(vu);
        info.gids = [c.gid, c.egid, c.sgid, c.fsgid].map(vg);
        info.groups = c.groups.iter().map(|&k| vg(k)).collect();
        info.caps = [
            c.cap_inheritable,
            c.cap_permitted,
            c.cap_effective,
            c.cap_bounding,
            c.cap_ambient,
        ];
        info.no_new_privs = c.no_new_privs;
        (info.uid, info.gid) = (c.euid, c.egid);
        Some(info)
    }
    /// The owner of `/proc/[pid]` and its files: the process's effective uid and gid
    /// (kernel ids; `stat` translates them).
    fn pid_owner(&self, pid: u32) -> Option<(u32, u32)> {
        self.process(pid).map(|p| {
            let c = p.cred();
            (c.euid, c.egid)
        })
    }
    fn pid_exists(&self, pid: u32) -> bool {
        match self.all {
            // The caller itself exists (and is its own number in its container): the
            // first test `process_exists` makes.
            true => crate::task::process_exists(pid),
            false => self.process(pid).is_some(),
        }
    }
    fn user_container(&self, pid: u32) -> Option<Arc<crate::container::user::UserContainer>> {
        self.process(pid).map(|p| p.cred().user.clone())
    }
    fn oom(&self, pid: u32) -> Option<(i32, u64)> {
        let p = self.process(pid)?;
        let adj = p.inner.lock().prctl.oom.adj as i32;
        Some((adj, crate::task::oom::oom_score(&p)))
    }
    /// Linux's `__set_oom_adj`: `CAP_SYS_RESOURCE` (in the root user container, as
    /// Linux's `capable`) to go below the process's minimum.
    fn set_oom_score_adj(&self, pid: u32, adj: i32, legacy: bool) -> Result<(), Errno> {
        let p = self.process(pid).ok_or(Errno::ESRCH)?;
        let privileged = env::require_cap(crate::cred::CAP_SYS_RESOURCE).is_ok();
        p.inner.lock().prctl.oom.set(adj, privileged, legacy)
    }
    fn self_pid(&self) -> u32 {
        env::current_pid()
    }
    /// Load averages, runnable and all threads, and the last number given out in the
    /// reader's PID container.
    fn loadavg(&self) -> String {
        let threads: u32 = crate::task::visible_processes()
            .iter()
            .map(|(_, p)| p.inner.lock().threads.len() as u32)
            .sum();
        let last = crate::task::caller_pid_container()
            .members()
            .into_iter()
            .map(|(n, _)| n)
            .max()
            .unwrap_or(0);
        crate::task::loadavg::render(
            crate::task::loadavg::averages(),
            crate::task::sched::runnable_threads(),
            threads,
            last,
        )
    }
    /// The machine's CPU times; in a plimits group with a sched quota, the group's: its
    /// members' CPU time, and as idle the rest of the share its quota gives it since boot
    /// (what LXCFS shows a container).
    fn cpu_stat(&self) -> procfs::CpuStat {
        use crate::arch::x86_64::timer::HZ;
        use crate::task::sched;
        let to_user_hz = |ticks: u64| ticks * 100 / HZ;
        let [user, system] = sched::cpu_ticks().map(to_user_hz);
        let uptime = crate::time::monotonic_ns();
        // Idle is the rest of the time since boot: timer ticks go missing under emulation
        // (and before the timer starts), the clock does not.
        let mut stat = procfs::CpuStat {
            user,
            system,
            idle: (uptime / 10_000_000).saturating_sub(user + system),
            ctxt: sched::switches(),
            btime: (crate::time::realtime_ns().saturating_sub(uptime)) / 1_000_000_000,
            processes: crate::task::clone::forks(),
            running: sched::runnable_threads(),
        };
        let g = crate::plimits::current_group();
        let (period, quota) = (g.sched.period(), g.sched.quota());
        if period != 0 && quota != 0 && quota < period {
            let used_us: u64 = crate::plimits::glue::members(&g)
                .iter()
                .map(|m| m.runtime_us)
                .sum();
            let share_us = (uptime / 1000) as u128 * quota as u128 / period as u128;
            stat.user = used_us / 10_000;
            stat.system = 0;
            stat.idle = (share_us as u64).saturating_sub(used_us) / 10_000;
        }
        stat
    }
    /// One CPU as `cpuid` describes it (a sched quota below one CPU still shows one).
    fn cpu_info(&self) -> procfs::CpuInfo {
        use crate::arch::x86_64::cpu::cpuid;
        let word = |r: u32| r.to_le_bytes();
        let (max, b, c, d) = cpuid(0, 0);
        let mut vendor = alloc::vec::Vec::new();
        for r in [b, d, c] {
            vendor.extend_from_slice(&word(r));
        }
        let (sig, _, ecx, edx) = if max >= 1 { cpuid(1, 0) } else { (0, 0, 0, 0) };
        let base_family = (sig >> 8) & 0xf;
        let family = base_family
            + if base_family == 0xf {
                (sig >> 20) & 0xff
            } else {
                0
            };
        let model = ((sig >> 4) & 0xf)
            | if base_family >= 6 {
                ((sig >> 16) & 0xf) << 4
            } else {
                0
            };
        let mut name = alloc::vec::Vec::new();
        if cpuid(0x8000_0000, 0).0 >= 0x8000_0004 {
            for leaf in 0x8000_0002..=0x8000_0004 {
                let (a, b, c, d) = cpuid(leaf, 0);
                for r in [a, b, c, d] {
                    name.extend_from_slice(&word(r));
                }
            }
        }
        let bits = if cpuid(0x8000_0000, 0).0 >= 0x8000_0008 {
            let a = cpuid(0x8000_0008, 0).0;
            (a & 0xff, (a >> 8) & 0xff)
        } else {
            (36, 48)
        };
        const EDX: [(u32, &str); 12] = [
            (0, "fpu"),
            (4, "tsc"),
            (5, "msr"),
            (6, "pae"),
            (8, "cx8"),
            (9, "apic"),
            (13, "pge"),
            (15, "cmov"),
            (19, "clflush"),
            (23, "mmx"),
            (24, "fxsr"),
            (25, "sse"),
        ];
        const ECX: [(u32, &str); 6] = [
            (0, "pni"),
            (9, "ssse3"),
            (19, "sse4_1"),
            (20, "sse4_2"),
            (23, "popcnt"),
            (31, "hypervisor"),
        ];
        let mut flags: alloc::vec::Vec<&'static str> = EDX
            .iter()
            .filter(|(bit, _)| edx & (1 << bit) != 0)
            .map(|(_, n)| *n)
            .collect();
        if edx & (1 << 26) != 0 {
            flags.push("sse2");
        }
        flags.extend(
            ECX.iter()
                .filter(|(bit, _)| ecx & (1 << bit) != 0)
                .map(|(_, n)| *n),
        );
        let text = |v: alloc::vec::Vec<u8>| {
            String::from_utf8_lossy(&v)
                .trim_matches(|c: char| c == '\0' || c == ' ')
                .into()
        };
        procfs::CpuInfo {
            cpus: 1,
            vendor: text(vendor),
            family,
            model,
            stepping: sig & 0xf,
            model_name: text(name),
            khz: crate::time::tsc_khz(),
            flags,
            address_bits: bits,
        }
    }
    fn frames(&self) -> (u64, u64) {
        crate::mm::memory_pages()
    }
    /// `CLOCK_BOOTTIME` of the reader (its TIME container's offset applies).
    fn uptime_ns(&self) -> u64 {
        match crate::task::sched::try_current() {
            Some(_) => crate::syscall::time::boottime_ns(),
            None => env::monotonic_ns(),
        }
    }
    fn mounts(&self) -> String {
        current_context().mounts().render()
    }
    fn pid_mounts(&self, pid: u32) -> Option<String> {
        Some(self.process_fs(pid)?.mounts().render())
    }
    fn mountinfo(&self, pid: u32) -> Option<String> {
        let fs = self.process_fs(pid)?;
        Some(fs.mounts().render_info(&fs.root().path))
    }
    fn cgroup(&self, pid: u32) -> Option<String> {
        let group = self.process(pid)?.plimits();
        let reader = crate::task::current_process().containers();
        Some(crate::container::cgroup::proc_text(&reader.cgroup, &group))
    }
    fn fs_link(&self, pid: u32, cwd: bool) -> Option<(String, InodeRef, String)> {
        let fs = self.process_fs(pid)?;
        let reader = current_context();
        // A directory of another mount tree has no path in the reader's.
        if !Arc::ptr_eq(fs.mounts(), reader.mounts()) {
            return None;
        }
        let loc = if cwd { fs.cwd() } else { fs.root() };
        Some((reader.path_from_root(&loc.path), loc.inode, loc.path))
    }
    fn fd_table(&self, pid: u32) -> Option<Arc<fdtable::FdTable>> {
        let p = self.process(pid)?;
        let pi = p.inner.lock();
        pi.zombie.is_none().then(|| pi.files.clone())
    }
    fn smaps_rollup(&self, pid: u32) -> Option<procpid::Rollup> {
        let p = self.process(pid)?;
        let vm = p.inner.lock().vm.clone()?;
        Some(crate::task::info::smaps_rollup(&vm.lock()))
    }
    fn may_trace_read(&self, pid: u32) -> bool {
        self.process(pid).is_some_and(|p| {
            Arc::ptr_eq(&p, &crate::task::current_process())
                || crate::task::current_cred().may_ptrace(&p.cred(), true)
        })
    }
    fn container_member(
        &self,
        pid: u32,
        link: crate::container::Link,
    ) -> Option<Arc<dyn crate::container::Container>> {
        if !self.all {
            self.process(pid)?;
        }
        crate::task::container_member(pid, link)
    }
    fn pinned(&self, pid: u32) -> Option<Arc<dyn core::any::Any + Send + Sync>> {
        match self.all {
            // Every process is shown: no need to know it is one.
            true => crate::task::find_process_any(pid),
            false => self
                .process(pid)
                .map(|p| p as Arc<dyn core::any::Any + Send + Sync>),
        }
    }
    fn pinned_member(
        &self,
        process: &(dyn core::any::Any + Send + Sync),
        link: crate::container::Link,
    ) -> Option<Arc<dyn crate::container::Container>> {
        crate::task::member_of(process.downcast_ref::<crate::task::Process>()?, link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoProcesses;

    impl procfs::KernelView for NoProcesses {
        fn pids(&self) -> Vec<u32> {
            Vec::new()
        }
        fn proc_info(&self, _pid: u32) -> Option<ProcInfo> {
            None
        }
        fn self_pid(&self) -> u32 {
            0
        }
        fn frames(&self) -> (u64, u64) {
            (1, 2)
        }
        fn uptime_ns(&self) -> u64 {
            0
        }
        fn mounts(&self) -> String {
            kernel_context().mounts().render()
        }
    }

    /// The only test that calls `init` (it sets a global once).
    #[test]
    fn init_builds_root_dev_and_proc_and_exec_reads_files() {
        let mut a = Vec::new();
        cpio::build::push(&mut a, "init", 0o100755, b"\x7fELF-init");
        cpio::build::push(&mut a, "etc/motd", 0o100644, b"hello");
        cpio::build::finish(&mut a);
        init(&a, Arc::new(NoProcesses));
        let (init_file, init_path) = open_exec("/init").expect("/init");
        let mut head = [0u8; 16];
        assert_eq!(init_file.read_at(0, &mut head), Ok(9));
        assert_eq!(
            (&head[..9], init_path.as_str()),
            (&b"\x7fELF-init"[..], "/init")
        );
        assert_eq!(
            open_exec("/etc/motd").err(),
            Some(Errno::EACCES),
            "no execute bit"
        );
        assert_eq!(open_exec("/etc").err(), Some(Errno::EACCES), "a directory");
        assert_eq!(read_whole_file("etc/motd"), Ok(b"hello".to_vec()));
        let con = open_path("/dev/console", file::O_RDWR).expect("/dev/console");
        assert_eq!(con.path(), "/dev/console");
        assert_eq!(open_path("/dev", file::O_WRONLY).err(), Some(Errno::EISDIR));
        let mounts = read_whole_file("/proc/mounts").expect("/proc/mounts");
        assert_eq!(
            String::from_utf8(mounts).expect("utf8"),
            "rootfs / rootfs rw,relatime 0 0\ndevtmpfs /dev devtmpfs rw,nosuid,relatime 0 0\n\
             proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
        );
    }
}
