//! procfs: files generated on read from kernel state. The state comes through the
//! `KernelView` trait (the kernel's implementation is in `procfs_kernel`; tests use a
//! fake), and the text is rendered by pure functions.

use super::file::{FileOps, O_ACCMODE, O_RDONLY, O_WRONLY};
use super::nodecache::{Keyed, NodeCache};
use super::nsfs::{link_text, write_link_text};
use super::procpid::OomFile;
use super::sysctl;
use super::timens::{self, OffsetsFile};
use super::usermap::{self, UserFile, UserFileOps};
use super::vfs::*;
use crate::container::time::{Clock, TimeContainer};
use crate::container::user::UserContainer;
use crate::container::{Container, Kind, Link, limits};
use crate::errno::Errno;
use crate::plimits;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::Write;

/// What procfs shows of one process (the task code fills it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    pub tgid: u32,
    pub name: String,
    /// 'R' running, 'S' sleeping, 'Z' zombie.
    pub state: char,
    pub threads: u32,
    pub uid: u32,
    pub gid: u32,
    pub vm_size_kb: u64,
    pub vm_rss_kb: u64,
    pub cmdline: Vec<u8>,
    /// The environment exec gave it, each string NUL-terminated.
    pub environ: Vec<u8>,
    pub maps: Vec<MapLine>,
    pub pgid: u32,
    pub sid: u32,
    /// CPU time in clock ticks (USER_HZ = 100).
    pub utime: u64,
    pub stime: u64,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
    pub nice: i32,
    /// Real, effective, saved and filesystem uid and gid, and the supplementary groups,
    /// as the reader's user container sees them.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: Vec<u32>,
    /// Capability sets: inheritable, permitted, effective, bounding, ambient.
    pub caps: [u64; 5],
    pub no_new_privs: bool,
    /// seccomp mode (0, 1 strict, 2 filter) and filter count of the first live thread.
    pub seccomp: (u8, u32),
    /// System calls made so far (Bulkhead's `Syscalls:` line).
    pub syscalls: u64,
    /// The canonical path of its program (`/proc/[pid]/exe`).
    pub exe: String,
    /// Resource limits (soft, hard), RLIMIT_* order.
    pub limits: [(u64, u64); 16],
    /// rchar, wchar, syscr, syscw (`/proc/[pid]/io`).
    pub io: [u64; 4],
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapLine {
    pub start: u64,
    pub end: u64,
    /// Like `b"rw-p"`.
    pub perms: [u8; 4],
    pub offset: u64,
    /// The mapped file's device (`st_dev`) and inode number; 0 for anonymous memory.
    pub dev: u64,
    pub ino: u64,
    pub name: String,
}

/// The kernel state procfs shows.
pub trait KernelView: Send + Sync {
    /// Visible pids, ascending (zombies included until reaped).
    fn pids(&self) -> Vec<u32>;
    fn proc_info(&self, pid: u32) -> Option<ProcInfo>;
    /// The (uid, gid) of visible process `pid` (the owner of its `/proc` entries); `None`
    /// when the reader cannot see it. Path walks ask this at every step below
    /// `/proc/[pid]`, so a kernel should answer without building the whole `ProcInfo`.
    fn pid_owner(&self, pid: u32) -> Option<(u32, u32)> {
        self.proc_info(pid).map(|i| (i.uid, i.gid))
    }
    /// Whether the reader sees process `pid`: `pid_owner(pid).is_some()`, which a kernel
    /// answers without taking the process's credentials.
    fn pid_exists(&self, pid: u32) -> bool {
        self.pid_owner(pid).is_some()
    }
    /// The calling process (what `/proc/self` points to).
    fn self_pid(&self) -> u32;
    /// (free, total) 4 KiB frames.
    fn frames(&self) -> (u64, u64);
    fn uptime_ns(&self) -> u64;
    /// `/proc/mounts` of the caller's mount tree.
    fn mounts(&self) -> String;
    /// `/proc/[pid]/mounts` of process `pid`'s mount tree.
    fn pid_mounts(&self, _pid: u32) -> Option<String> {
        None
    }
    /// `/proc/[pid]/mountinfo` of process `pid` (its tree, from its root directory).
    fn mountinfo(&self, _pid: u32) -> Option<String> {
        None
    }
    /// `/proc/[pid]/cgroup`: process `pid`'s group from the reader's cgroup container
    /// (`container::cgroup::proc_text`).
    fn cgroup(&self, _pid: u32) -> Option<String> {
        None
    }
    /// The container behind link `link` of process `pid`; `None` when the process is
    /// gone, a zombie or invisible.
    fn container_member(&self, _pid: u32, _link: Link) -> Option<Arc<dyn Container>> {
        None
    }
    /// Process `pid` when the reader sees it, as an object a path walk keeps for the
    /// steps below `/proc/[pid]` ([`WalkMemo`]); by default its number.
    fn pinned(&self, pid: u32) -> Option<Arc<dyn Any + Send + Sync>> {
        self.pid_exists(pid)
            .then(|| Arc::new(pid) as Arc<dyn Any + Send + Sync>)
    }
    /// [`container_member`](Self::container_member) of a process [`pinned`](Self::pinned)
    /// returned.
    fn pinned_member(
        &self,
        process: &(dyn Any + Send + Sync),
        link: Link,
    ) -> Option<Arc<dyn Container>> {
        process
            .downcast_ref::<u32>()
            .and_then(|&pid| self.container_member(pid, link))
    }
    /// `/proc/[pid]/root` (`cwd` false) or `cwd` (true): the text the reader reads (the
    /// directory's path from the reader's root) and the directory.
    /// The directory comes with its canonical path in the reader's mount tree.
    fn fs_link(&self, _pid: u32, _cwd: bool) -> Option<(String, InodeRef, String)> {
        None
    }
    /// `/proc/stat`'s figures for the reader (its plimits group's share under a sched quota).
    fn cpu_stat(&self) -> CpuStat {
        CpuStat::default()
    }
    /// `/proc/cpuinfo`'s figures.
    fn cpu_info(&self) -> CpuInfo {
        CpuInfo::default()
    }
    /// `/proc/loadavg`'s line.
    fn loadavg(&self) -> String {
        String::from("0.00 0.00 0.00 0/0 0\n")
    }
    /// Process `pid`'s `oom_score_adj` and `oom_score`.
    fn oom(&self, _pid: u32) -> Option<(i32, u64)> {
        None
    }
    /// A write of `oom_score_adj` (`legacy`: through `oom_adj`): `EACCES` below the
    /// process's minimum without `CAP_SYS_RESOURCE`.
    fn set_oom_score_adj(&self, _pid: u32, _adj: i32, _legacy: bool) -> Result<(), Errno> {
        Err(Errno::EACCES)
    }
    /// The user container of process `pid` (behind its `uid_map`, `gid_map`, `setgroups`).
    fn user_container(&self, _pid: u32) -> Option<Arc<UserContainer>> {
        None
    }
    /// The descriptor table of process `pid` (`/proc/[pid]/fd`); `None` once it exited.
    fn fd_table(&self, _pid: u32) -> Option<Arc<super::fdtable::FdTable>> {
        None
    }
    /// Whether the reader may look at process `pid`'s descriptors and I/O (Linux's ptrace read
    /// access: the same ids or `CAP_SYS_PTRACE` over it).
    fn may_trace_read(&self, _pid: u32) -> bool {
        true
    }
    /// `/proc/[pid]/smaps_rollup`'s figures, from the page tables.
    fn smaps_rollup(&self, _pid: u32) -> Option<super::procpid::Rollup> {
        None
    }
}

/// Appends `n` in decimal (what `to_string` gives, without the formatting machinery:
/// `/proc/self` and the container links are read on every walk through them).
pub fn push_decimal(s: &mut String, n: u32) {
    s.push_str(Decimal::new(n).as_str());
}

/// `n` in decimal in a buffer on the stack: the digits two at a time, then one `&str`
/// (a `char` at a time cost a container link's `readlink` about 200 instructions).
/// "00" to "99": decimals are written two digits per division.
pub const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

pub struct Decimal {
    buf: [u8; 10],
    start: usize,
}

/// Writes `n`'s decimal digits into `out` so that they end just before `end`, last digit
/// first, two at a time; returns where they start. Byte stores, not `copy_from_slice`:
/// its checks in this build cost more than the division (a link's number has 10 digits).
/// `out[..end]` must have room for them (10 at most).
#[inline(always)]
pub fn write_digits_before(out: &mut [u8], end: usize, mut n: u32) -> usize {
    let mut i = end;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        out[i] = PAIRS[pair];
        out[i + 1] = PAIRS[pair + 1];
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        out[i] = PAIRS[pair];
        out[i + 1] = PAIRS[pair + 1];
    } else {
        i -= 1;
        out[i] = b'0' + n as u8;
    }
    i
}

impl Decimal {
    pub fn new(n: u32) -> Decimal {
        let mut buf = [b'0'; 10];
        let start = write_digits_before(&mut buf, 10, n);
        Decimal { buf, start }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits were written from `start` on.
        core::str::from_utf8(&self.buf[self.start..]).unwrap_or("")
    }
}

fn state_name(c: char) -> &'static str {
    match c {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        'Z' => "Z (zombie)",
        _ => "X (dead)",
    }
}

/// Linux truncates a process name to 15 bytes (`TASK_COMM_LEN`).
fn comm(name: &str) -> &str {
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

pub fn render_status(p: &ProcInfo) -> String {
    let mut s = String::new();
    let [u0, u1, u2, u3] = p.uids;
    let [g0, g1, g2, g3] = p.gids;
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t0022\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t{u0}\t{u1}\t{u2}\t{u3}\nGid:\t{g0}\t{g1}\t{g2}\t{g3}\nFDSize:\t64\nGroups:\t",
        comm(&p.name),
        state_name(p.state),
        p.tgid,
        p.pid,
        p.ppid,
    );
    for (i, g) in p.groups.iter().enumerate() {
        let _ = write!(s, "{}{g}", if i == 0 { "" } else { " " });
    }
    let [inh, prm, eff, bnd, amb] = p.caps;
    let _ = write!(
        s,
        "\nVmPeak:\t{:>8} kB\nVmSize:\t{:>8} kB\nVmRSS:\t{:>8} kB\nThreads:\t{}\n\
         SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
         CapInh:\t{inh:016x}\nCapPrm:\t{prm:016x}\nCapEff:\t{eff:016x}\nCapBnd:\t{bnd:016x}\n\
         CapAmb:\t{amb:016x}\nNoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\n\
         Cpus_allowed:\t1\nCpus_allowed_list:\t0\nSyscalls:\t{}\n",
        p.vm_size_kb,
        p.vm_size_kb,
        p.vm_rss_kb,
        p.threads,
        p.no_new_privs as u32,
        p.seccomp.0,
        p.seccomp.1,
        p.syscalls,
    );
    s
}

/// `/proc/[pid]/stat`: the 52 fields of Linux 6.1 (unknown ones 0).
pub fn render_stat(p: &ProcInfo) -> String {
    let priority = 20 + p.nice as i64;
    let mut s = format!(
        "{} ({}) {} {} {} {} 0 -1 4194304 0 0 0 0 {} {} 0 0 {} {} {} 0 {} {} {}",
        p.pid,
        comm(&p.name),
        p.state,
        p.ppid,
        p.pgid,
        p.sid,
        p.utime,
        p.stime,
        priority,
        p.nice,
        p.threads,
        p.start_time,
        p.vm_size_kb * 1024,
        p.vm_rss_kb / 4,
    );
    // rsslim .. exit_code: 28 more fields.
    s.push_str(" 18446744073709551615");
    for _ in 0..27 {
        s.push_str(" 0");
    }
    s.push('\n');
    s
}

pub fn render_maps(maps: &[MapLine]) -> String {
    let mut s = String::new();
    for m in maps {
        let perms = core::str::from_utf8(&m.perms).unwrap_or("----");
        let start = s.len();
        let _ = write!(
            s,
            "{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {}",
            m.start,
            m.end,
            perms,
            m.offset,
            super::vfs::major(m.dev),
            super::vfs::minor(m.dev),
            m.ino
        );
        if !m.name.is_empty() {
            // Linux pads the name to column 73.
            let width = s.len() - start;
            s.push_str(&" ".repeat(73usize.saturating_sub(width).max(1)));
            s.push_str(&m.name);
        }
        s.push('\n');
    }
    s
}

/// `/proc/meminfo`; `slab`, `kernel_stack` and `page_tables` in bytes (the kernel heap in
/// use, the threads' kernel stacks, the address spaces' page-table frames).
pub fn render_meminfo(
    free_frames: u64,
    total_frames: u64,
    slab: u64,
    kernel_stack: u64,
    page_tables: u64,
) -> String {
    let kb = |frames: u64| frames * 4;
    let mut s = String::new();
    let mut line = |name: &str, v: u64| {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{name}:"), v);
    };
    line("MemTotal", kb(total_frames));
    line("MemFree", kb(free_frames));
    line("MemAvailable", kb(free_frames));
    line("Buffers", 0);
    line("Cached", 0);
    line("SwapCached", 0);
    line("Shmem", 0);
    line("SwapTotal", 0);
    line("SwapFree", 0);
    line("Slab", slab / 1024);
    line("SReclaimable", 0);
    line("SUnreclaim", slab / 1024);
    line("KernelStack", kernel_stack / 1024);
    line("PageTables", page_tables / 1024);
    s
}

/// `/proc/meminfo`'s `VmallocTotal` and `VmallocUsed` lines (bytes in, kB shown), which
/// Linux gives after `PageTables`.
pub fn render_meminfo_vmalloc(total: u64, used: u64) -> String {
    format!(
        "{:<16}{:>8} kB\n{:<16}{:>8} kB\n",
        "VmallocTotal:",
        total / 1024,
        "VmallocUsed:",
        used / 1024
    )
}

/// The figures of `/proc/stat`: CPU times in clock ticks (USER_HZ, 100 per second).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuStat {
    pub user: u64,
    pub system: u64,
    pub idle: u64,
    /// Context switches, boot time (seconds since the epoch), processes and threads
    /// created, and threads runnable now.
    pub ctxt: u64,
    pub btime: u64,
    pub processes: u64,
    pub running: u32,
}

/// `/proc/stat` as Linux writes it, for one CPU.
pub fn render_cpu_stat(c: &CpuStat) -> String {
    let times = format!("{} 0 {} {} 0 0 0 0 0 0", c.user, c.system, c.idle);
    format!(
        "cpu  {times}\ncpu0 {times}\nintr 0\nctxt {}\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        c.ctxt, c.btime, c.processes, c.running
    )
}

/// The figures of `/proc/cpuinfo` (from `cpuid`), and how many CPUs to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuInfo {
    pub cpus: u32,
    pub vendor: String,
    pub family: u32,
    pub model: u32,
    pub stepping: u32,
    pub model_name: String,
    pub khz: u64,
    pub flags: Vec<&'static str>,
    /// Physical and virtual address bits.
    pub address_bits: (u32, u32),
}

/// `/proc/cpuinfo` in Linux's layout: one block per CPU.
pub fn render_cpuinfo(c: &CpuInfo) -> String {
    let mut s = String::new();
    let mhz = format!("{}.{:03}", c.khz / 1000, c.khz % 1000);
    let bogomips = format!("{}.{:02}", c.khz * 2 / 1000, (c.khz * 2 / 10) % 100);
    for i in 0..c.cpus.max(1) {
        let _ = write!(
            s,
            "processor\t: {i}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\nstepping\t: {}\ncpu MHz\t\t: {mhz}\nphysical id\t: 0\nsiblings\t: {n}\ncore id\t\t: {i}\ncpu cores\t: {n}\nfpu\t\t: yes\nfpu_exception\t: yes\nwp\t\t: yes\nflags\t\t: {}\nbogomips\t: {bogomips}\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: {} bits physical, {} bits virtual\npower management:\n\n",
            c.vendor,
            c.family,
            c.model,
            c.model_name,
            c.stepping,
            c.flags.join(" "),
            c.address_bits.0,
            c.address_bits.1,
            n = c.cpus.max(1),
        );
    }
    s
}

pub fn render_uptime(uptime_ns: u64) -> String {
    let cs = uptime_ns / 10_000_000;
    format!(
        "{}.{:02} {}.{:02}\n",
        cs / 100,
        cs % 100,
        cs / 100,
        cs % 100
    )
}

pub const FILESYSTEMS: &str = "nodev\tsysfs\nnodev\tramfs\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\tcgroup2\nnodev\tdevpts\nnodev\tmqueue\n\tramblk\n";

/// The two directories of container links: LiteOS-A's `container/` (quoted text) and
/// Linux's `ns/` (plain text). Both show the same objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Links {
    Container,
    Ns,
}

/// Files below `/proc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Root,
    SelfLink,
    Meminfo,
    Mounts,
    Filesystems,
    Uptime,
    Sys,
    SysUser,
    SysKernel,
    SysFs,
    SysVm,
    /// `/proc/sys/{fs,kernel,vm}/<sysctl::TUNABLES[i].name>`.
    Tunable(u8),
    /// `/proc/sys/fs/file-nr` (read-only).
    FileNr,
    /// `/proc/sys/user/max_<kind>_container`.
    MaxContainer(Kind),
    OverflowUid,
    OverflowGid,
    /// `/proc/sys/kernel/<sysctl::kernel::KERNEL[i]>`.
    Sysctl(u8),
    Pid(u32),
    Status(u32),
    /// `/proc/[pid]/comm`: the name `PR_SET_NAME` and exec set.
    Comm(u32),
    Stat(u32),
    Cmdline(u32),
    Maps(u32),
    /// `/proc/[pid]/statm` (`procpid`).
    Statm(u32),
    /// `/proc/[pid]/environ` (mode 0400: its owner or root).
    Environ(u32),
    /// `/proc/[pid]/oom_score_adj`, `oom_score`, `oom_adj` (`procpid`).
    Oom(u32, OomFile),
    LinkDir(u32, Links),
    /// `/proc/[pid]/{container,ns}/<link>`.
    Link(u32, Links, Link),
    /// `/proc/[pid]/{uid_map,gid_map,setgroups}`.
    User(u32, UserFile),
    PidMounts(u32),
    /// `/proc/[pid]/cgroup`.
    Cgroup(u32),
    MountInfo(u32),
    /// `/proc/[pid]/root` (false) and `cwd` (true).
    FsLink(u32, bool),
    /// `/proc/[pid]/timens_offsets` and `time_offsets`.
    TimeOffsets(u32, OffsetsFile),
    /// `/proc/plimits`: the root group's files and the child groups.
    Plimits,
    /// `/proc/plimits/<name>`: child group number N.
    PlGroup(u32),
    /// File `plimits::FILES[i]` of group N (0: the root's, in `/proc/plimits`).
    PlFile(u32, u8),
    /// `/proc/stat` and `/proc/cpuinfo`.
    CpuStat,
    CpuInfo,
    /// `/proc/net` and `/proc/net/unix`: the reader's net container.
    Net,
    NetUnix,
    /// `/proc/net/<crate::net::inet::procnet::FILES[i]>`.
    NetInet(u8),
    Loadavg,
    /// `/proc/[pid]/exe` and `limits`.
    Exe(u32),
    Limits(u32),
}

/// The pid a `/proc` name is: decimal digits without a leading zero, at most
/// `u32::MAX` (`"0"`, `"+1"`, `"01"` and `""` name none).
fn pid_name(name: &str) -> Option<u32> {
    let b = name.as_bytes();
    if b.first().is_none_or(|&c| c == b'0') {
        return None;
    }
    // At most ten digits fit a u32; in a u64 they cannot overflow (no check per digit).
    if b.len() > 10 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    u32::try_from(n).ok()
}

const ROOT_FILES: [(&str, Node); 11] = [
    ("self", Node::SelfLink),
    ("meminfo", Node::Meminfo),
    ("stat", Node::CpuStat),
    ("cpuinfo", Node::CpuInfo),
    ("mounts", Node::Mounts),
    ("filesystems", Node::Filesystems),
    ("uptime", Node::Uptime),
    ("loadavg", Node::Loadavg),
    ("sys", Node::Sys),
    ("plimits", Node::Plimits),
    ("net", Node::Net),
];

/// A read of a procfs file's whole text at `offset`: the bytes that fit in `buf`.
pub(super) fn read_text_at(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let n = buf.len().min(data.len() - start);
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

const PID_FILES: [(&str, FileType); 28] = [
    ("status", FileType::Regular),
    ("comm", FileType::Regular),
    ("stat", FileType::Regular),
    ("cmdline", FileType::Regular),
    ("exe", FileType::Symlink),
    ("limits", FileType::Regular),
    ("maps", FileType::Regular),
    ("statm", FileType::Regular),
    ("io", FileType::Regular),
    ("smaps_rollup", FileType::Regular),
    ("environ", FileType::Regular),
    ("oom_score_adj", FileType::Regular),
    ("oom_score", FileType::Regular),
    ("oom_adj", FileType::Regular),
    ("fd", FileType::Directory),
    ("fdinfo", FileType::Directory),
    ("container", FileType::Directory),
    ("ns", FileType::Directory),
    ("uid_map", FileType::Regular),
    ("gid_map", FileType::Regular),
    ("setgroups", FileType::Regular),
    ("mounts", FileType::Regular),
    ("mountinfo", FileType::Regular),
    ("cgroup", FileType::Regular),
    ("root", FileType::Symlink),
    ("cwd", FileType::Symlink),
    ("timens_offsets", FileType::Regular),
    ("time_offsets", FileType::Regular),
];

/// The value of `/proc/sys/kernel/overflow{uid,gid}` (what unmapped ids read as).
pub const OVERFLOW_ID: u32 = 65534;

/// The entries of `/proc/sys/fs` or the tunables of `/proc/sys/kernel`.
fn tunables(dir: sysctl::Dir) -> Vec<DirEntry> {
    sysctl::TUNABLES
        .iter()
        .enumerate()
        .filter(|(_, t)| t.dir == dir)
        .map(|(i, t)| DirEntry {
            name: t.name.to_string(),
            ino: Node::Tunable(i as u8).ino(),
            ftype: FileType::Regular,
        })
        .collect()
}

/// The `max_<kind>_container` file name.
fn max_file_name(kind: Kind) -> String {
    format!("max_{}_container", kind.name())
}

/// The links shown (their kind's feature is on).
fn shown_links() -> impl Iterator<Item = Link> {
    Link::ALL.into_iter().filter(|l| l.kind().enabled())
}

impl Node {
    /// A number for each node, different for different nodes (unlike `ino`, which two
    /// nodes may share): the node cache's key, one integer compare on a walk's every step.
    #[inline]
    fn key(self) -> u64 {
        let k = |tag: u64, a: u32, b: u64| (tag << 56) | (b << 32) | u64::from(a);
        match self {
            Node::Root => k(0, 0, 0),
            Node::SelfLink => k(1, 0, 0),
            Node::Meminfo => k(2, 0, 0),
            Node::Mounts => k(3, 0, 0),
            Node::Filesystems => k(4, 0, 0),
            Node::Uptime => k(5, 0, 0),
            Node::Sys => k(6, 0, 0),
            Node::SysUser => k(7, 0, 0),
            Node::SysKernel => k(8, 0, 0),
            Node::SysFs => k(9, 0, 0),
            Node::SysVm => k(10, 0, 0),
            Node::Tunable(i) => k(11, i.into(), 0),
            Node::FileNr => k(12, 0, 0),
            Node::MaxContainer(kind) => k(13, kind.index() as u32, 0),
            Node::OverflowUid => k(14, 0, 0),
            Node::OverflowGid => k(15, 0, 0),
            Node::Sysctl(i) => k(16, i.into(), 0),
            Node::Pid(p) => k(17, p, 0),
            Node::Status(p) => k(18, p, 0),
            Node::Comm(p) => k(19, p, 0),
            Node::Stat(p) => k(20, p, 0),
            Node::Cmdline(p) => k(21, p, 0),
            Node::Maps(p) => k(22, p, 0),
            Node::Statm(p) => k(23, p, 0),
            Node::Environ(p) => k(24, p, 0),
            Node::Oom(p, f) => k(25, p, f as u64),
            Node::LinkDir(p, l) => k(26, p, l as u64),
            Node::Link(p, l, link) => {
                let (own, kind) = match link {
                    Link::Own(kind) => (0, kind),
                    Link::ForChildren(kind) => (1, kind),
                };
                k(27, p, ((l as u64) << 16) | (own << 8) | kind.index() as u64)
            }
            Node::User(p, f) => k(28, p, f as u64),
            Node::PidMounts(p) => k(29, p, 0),
            Node::Cgroup(p) => k(30, p, 0),
            Node::MountInfo(p) => k(31, p, 0),
            Node::FsLink(p, cwd) => k(32, p, cwd.into()),
            Node::TimeOffsets(p, f) => k(33, p, f as u64),
            Node::Plimits => k(34, 0, 0),
            Node::PlGroup(g) => k(35, g, 0),
            Node::PlFile(g, i) => k(36, g, i.into()),
            Node::CpuStat => k(37, 0, 0),
            Node::CpuInfo => k(38, 0, 0),
            Node::Net => k(39, 0, 0),
            Node::NetUnix => k(40, 0, 0),
            Node::NetInet(i) => k(41, i.into(), 0),
            Node::Loadavg => k(42, 0, 0),
            Node::Exe(p) => k(43, p, 0),
            Node::Limits(p) => k(44, p, 0),
        }
    }

    fn ino(self) -> u64 {
        let pid_ino = |pid: u32, k: u64| (((pid as u64 + 1) << 4) | k) << 8;
        match self {
            Node::Root => 1,
            Node::SelfLink => 2,
            Node::Meminfo => 3,
            Node::Mounts => 4,
            Node::Filesystems => 5,
            Node::Uptime => 6,
            Node::CpuStat => 13,
            Node::CpuInfo => 14,
            Node::Net => 40,
            Node::NetUnix => 41,
            Node::NetInet(i) => 42 + i as u64,
            // 16.. are MaxContainer's (one per kind).
            Node::Loadavg => 30,
            Node::Sys => 7,
            Node::SysUser => 8,
            Node::SysKernel => 9,
            Node::SysFs => 15,
            Node::SysVm => 31,
            Node::Tunable(i) => 32 + i as u64,
            Node::FileNr => 39,
            Node::OverflowUid => 10,
            Node::OverflowGid => 11,
            Node::Sysctl(i) => 48 + i as u64,
            Node::MaxContainer(k) => 16 + k.index() as u64,
            Node::Pid(p) => pid_ino(p, 0),
            Node::Status(p) => pid_ino(p, 1),
            Node::Stat(p) => pid_ino(p, 2),
            Node::Comm(p) => pid_ino(p, 2) | 1,
            Node::Cmdline(p) => pid_ino(p, 3),
            // The low byte is free in every slot but the links'.
            Node::Exe(p) => pid_ino(p, 3) | 1,
            Node::Limits(p) => pid_ino(p, 3) | 2,
            Node::Maps(p) => pid_ino(p, 4),
            Node::Statm(p) => pid_ino(p, 4) | 1,
            Node::Environ(p) => pid_ino(p, 4) | 2,
            Node::Oom(p, f) => pid_ino(p, 13) | (1 + f as u64),
            Node::LinkDir(p, Links::Container) => pid_ino(p, 5),
            Node::LinkDir(p, Links::Ns) => pid_ino(p, 6),
            Node::Link(p, Links::Container, l) => pid_ino(p, 7) | l.index() as u64,
            Node::Link(p, Links::Ns, l) => pid_ino(p, 8) | l.index() as u64,
            Node::User(p, UserFile::UidMap) => pid_ino(p, 9),
            Node::User(p, UserFile::GidMap) => pid_ino(p, 10),
            Node::User(p, UserFile::Setgroups) => pid_ino(p, 11),
            Node::PidMounts(p) => pid_ino(p, 12),
            Node::Cgroup(p) => pid_ino(p, 1) | 1,
            Node::MountInfo(p) => pid_ino(p, 13),
            Node::FsLink(p, cwd) => pid_ino(p, 14 + cwd as u64),
            // The low byte is free in every slot but the links'.
            Node::TimeOffsets(p, f) => pid_ino(p, 12) | (1 + f as u64),
            Node::Plimits => 12,
            Node::PlGroup(g) => (1 << 52) | ((g as u64) << 8),
            Node::PlFile(g, i) => (1 << 52) | ((g as u64) << 8) | (i as u64 + 1),
        }
    }

    fn pid(self) -> Option<u32> {
        match self {
            Node::Pid(p)
            | Node::Status(p)
            | Node::Comm(p)
            | Node::Stat(p)
            | Node::Cmdline(p)
            | Node::Exe(p)
            | Node::Limits(p)
            | Node::Maps(p)
            | Node::Statm(p)
            | Node::Environ(p)
            | Node::Oom(p, _)
            | Node::LinkDir(p, _)
            | Node::Link(p, _, _)
            | Node::User(p, _)
            | Node::PidMounts(p)
            | Node::Cgroup(p)
            | Node::MountInfo(p)
            | Node::FsLink(p, _)
            | Node::TimeOffsets(p, _) => Some(p),
            _ => None,
        }
    }

    fn file_type(self) -> FileType {
        match self {
            Node::Root
            | Node::Sys
            | Node::SysUser
            | Node::SysKernel
            | Node::SysFs
            | Node::SysVm
            | Node::Pid(_)
            | Node::LinkDir(..)
            | Node::Plimits
            | Node::Net
            | Node::PlGroup(_) => FileType::Directory,
            Node::SelfLink | Node::Link(..) | Node::FsLink(..) | Node::Exe(_) => FileType::Symlink,
            _ => FileType::Regular,
        }
    }

    fn mode(self) -> u32 {
        self.file_type().mode_bits()
            | match self {
                // Linux's modes (LiteOS-A makes /proc/sys and /proc/sys/user 0755).
                Node::LinkDir(_, Links::Ns) => 0o511,
                Node::SelfLink | Node::Link(..) | Node::FsLink(..) | Node::Exe(_) => 0o777,
                Node::MaxContainer(_) => 0o664,
                Node::Tunable(_) => 0o644,
                Node::User(..) => 0o644,
                Node::Environ(_) => 0o400,
                Node::Oom(_, f) => f.mode(),
                Node::TimeOffsets(_, f) => f.mode(),
                // Group directories: mkdir and rmdir happen here (CAP_SYS_ADMIN checked).
                Node::Plimits | Node::PlGroup(_) => 0o755,
                Node::PlFile(g, i) => {
                    plimits::File::from_index(i as usize).map_or(0o444, |f| f.mode(g == 0))
                }
                n if n.file_type() == FileType::Directory => 0o555,
                _ => 0o444,
            }
    }
}

pub(super) struct Shared {
    pub(super) dev: u64,
    pub(super) view: Arc<dyn KernelView>,
    /// The nodes walks stepped through lately (`/proc/self`, `/proc/[pid]/ns/*`, ...):
    /// a walk takes them from here instead of allocating one per step. Emptied when the
    /// `ProcFs` goes (the nodes point back at this).
    nodes: NodeCache<ProcInode>,
}

pub struct ProcFs {
    shared: Arc<Shared>,
    /// Made once: every walk through `/proc` starts here.
    root: InodeRef,
}

impl ProcFs {
    pub fn new(view: Arc<dyn KernelView>) -> Arc<ProcFs> {
        let shared = Arc::new(Shared {
            dev: alloc_dev(),
            view,
            nodes: NodeCache::default(),
        });
        let root = Arc::new(ProcInode {
            fs: shared.clone(),
            node: Node::Root,
            key: Node::Root.key(),
            ty: FileType::Directory,
        });
        Arc::new(ProcFs { shared, root })
    }
}

impl Drop for ProcFs {
    fn drop(&mut self) {
        self.shared.nodes.clear();
    }
}

impl FileSystem for ProcFs {
    fn name(&self) -> &'static str {
        "proc"
    }
    fn root(&self) -> InodeRef {
        self.root.clone()
    }
    fn dev(&self) -> u64 {
        self.shared.dev
    }
}

struct ProcInode {
    fs: Arc<Shared>,
    node: Node,
    /// `node.key()`, what the node cache compares.
    key: u64,
    /// `node.file_type()`, asked at every step of a walk.
    ty: FileType,
}

impl Keyed for ProcInode {
    type Key = u64;
    #[inline]
    fn key(&self) -> u64 {
        self.key
    }
}

impl ProcInode {
    fn info(&self) -> Result<ProcInfo, Errno> {
        let pid = self.node.pid().ok_or(Errno::EINVAL)?;
        self.fs.view.proc_info(pid).ok_or(Errno::ESRCH)
    }

    fn content(&self) -> Result<Vec<u8>, Errno> {
        let v = &self.fs.view;
        Ok(match self.node {
            Node::Meminfo => {
                // A reader in a plimits group with a memory limit sees the limit as the
                // machine (what LXCFS does for containers).
                let (free, total) = match plimits::meminfo_limit() {
                    Some((limit, usage)) => ((limit.saturating_sub(usage)) / 4096, limit / 4096),
                    None => v.frames(),
                };
                let (slab, stacks) = crate::mm::kernel_memory();
                let tables = crate::mm::page_table_bytes();
                let mut text = render_meminfo(free, total, slab, stacks, tables);
                let (vm_used, vm_total) = crate::mm::vmalloc_bytes();
                text.push_str(&render_meminfo_vmalloc(vm_total, vm_used));
                text.into_bytes()
            }
            Node::PlFile(..) => {
                let (g, f) = self.plimits_file()?;
                plimits::read(&g, f)?.into_bytes()
            }
            Node::Mounts => v.mounts().into_bytes(),
            Node::Filesystems => FILESYSTEMS.as_bytes().to_vec(),
            Node::Uptime => render_uptime(v.uptime_ns()).into_bytes(),
            Node::CpuStat => render_cpu_stat(&v.cpu_stat()).into_bytes(),
            Node::CpuInfo => render_cpuinfo(&v.cpu_info()).into_bytes(),
            Node::NetUnix => {
                let net = crate::net::env::current_net();
                crate::net::unix::proc_net_unix(net.common().number()).into_bytes()
            }
            Node::NetInet(i) => {
                let net = crate::net::env::current_net();
                crate::net::inet::procnet::render(i, net.stack()).into_bytes()
            }
            Node::MaxContainer(k) => limits::render(k).into_bytes(),
            Node::Tunable(i) => sysctl::TUNABLES[i as usize].render().into_bytes(),
            Node::FileNr => sysctl::render_file_nr(super::file::open_files()).into_bytes(),
            Node::OverflowUid | Node::OverflowGid => format!("{OVERFLOW_ID}\n").into_bytes(),
            Node::Sysctl(i) => super::sysctl::kernel::render(i as usize, &self.uts_names())
                .ok_or(Errno::ENOENT)?
                .into_bytes(),
            Node::Status(_) => render_status(&self.info()?).into_bytes(),
            Node::Stat(_) => render_stat(&self.info()?).into_bytes(),
            Node::Comm(_) => format!("{}\n", comm(&self.info()?.name)).into_bytes(),
            Node::Cmdline(_) => self.info()?.cmdline,
            Node::Limits(_) => super::proclimits::render(&self.info()?.limits).into_bytes(),
            Node::Loadavg => v.loadavg().into_bytes(),
            Node::Maps(_) => render_maps(&self.info()?.maps).into_bytes(),
            Node::Statm(_) => super::procpid::render_statm(&self.info()?).into_bytes(),
            Node::Environ(_) => self.info()?.environ,
            Node::Oom(p, f) => {
                let (adj, score) = v.oom(p).ok_or(Errno::ESRCH)?;
                f.render(adj, score).into_bytes()
            }
            Node::PidMounts(pid) => v.pid_mounts(pid).ok_or(Errno::ESRCH)?.into_bytes(),
            Node::Cgroup(pid) => v.cgroup(pid).ok_or(Errno::ESRCH)?.into_bytes(),
            Node::MountInfo(pid) => v.mountinfo(pid).ok_or(Errno::ESRCH)?.into_bytes(),
            Node::User(pid, which) => {
                let target = v.user_container(pid).ok_or(Errno::ESRCH)?;
                let reader = super::env::current_cred();
                usermap::render(which, &target, reader.as_deref()).into_bytes()
            }
            Node::TimeOffsets(_, f) => {
                let t = self.time_for_children()?;
                let (m, b) = (t.offset(Clock::Monotonic), t.offset(Clock::Boottime));
                timens::render(f, m, b).into_bytes()
            }
            Node::Root
            | Node::Sys
            | Node::SysUser
            | Node::SysKernel
            | Node::SysFs
            | Node::SysVm
            | Node::Pid(_)
            | Node::LinkDir(..)
            | Node::Plimits
            | Node::Net
            | Node::PlGroup(_) => return Err(Errno::EISDIR),
            Node::SelfLink | Node::Link(..) | Node::FsLink(..) | Node::Exe(_) => {
                return Err(Errno::EINVAL);
            }
        })
    }

    /// [`child`](Self::child) and its type, inline where the node's kind is known (its
    /// cache key then folds to a few instructions).
    #[inline(always)]
    fn child_here(&self, node: Node) -> (InodeRef, FileType) {
        let child = self.child(node);
        let ty = child.ty;
        (child, ty)
    }

    /// The object of `node`: a cached one (a node is all a `ProcInode` holds), else a
    /// new one.
    #[inline]
    fn child(&self, node: Node) -> Arc<ProcInode> {
        let key = node.key();
        self.fs.nodes.get_or(key, key, || {
            Arc::new(ProcInode {
                fs: self.fs.clone(),
                node,
                key,
                ty: node.file_type(),
            })
        })
    }

    /// `ENOENT` unless process `pid` is visible to the reader.
    fn check_pid(&self, pid: u32) -> Result<(), Errno> {
        match self.fs.view.pid_exists(pid) {
            true => Ok(()),
            false => Err(Errno::ENOENT),
        }
    }

    /// The container behind link `link` of process `pid` as an inode, from the process
    /// a walk's `/proc/[pid]` step kept when there is one (`ENOENT`: gone or not shown).
    #[inline]
    fn link_object(&self, pid: u32, link: Link, memo: &WalkMemo) -> Result<InodeRef, Errno> {
        match memo.get(pid) {
            Some(p) => self.fs.view.pinned_member(p, link),
            None => self.fs.view.container_member(pid, link),
        }
        .map(|c| c.into_inode())
        .ok_or(Errno::ENOENT)
    }

    /// [`check_pid`](Self::check_pid) in a walk: answered by what an earlier step kept.
    #[inline]
    fn check_pid_in(&self, pid: u32, memo: &WalkMemo) -> Result<(), Errno> {
        match memo.get(pid) {
            Some(_) => Ok(()),
            None => self.check_pid(pid),
        }
    }

    fn open_user_file(&self, flags: u32) -> Result<Arc<UserFileOps>, Errno> {
        let Node::User(pid, which) = self.node else {
            return Err(Errno::EINVAL);
        };
        let target = self.fs.view.user_container(pid).ok_or(Errno::ESRCH)?;
        let opener = super::env::current_cred();
        let write = flags & O_ACCMODE != O_RDONLY;
        usermap::may_open(which, &target, opener.as_deref(), write)?;
        Ok(Arc::new(UserFileOps {
            which,
            view: self.fs.view.clone(),
            pid,
            opener,
        }))
    }

    /// The time_for_children container of the process of a `TimeOffsets` node.
    fn time_for_children(&self) -> Result<Arc<TimeContainer>, Errno> {
        let pid = self.node.pid().ok_or(Errno::EINVAL)?;
        self.fs
            .view
            .container_member(pid, Link::ForChildren(Kind::Time))
            .and_then(|c| c.downcast::<TimeContainer>())
            .ok_or(Errno::ESRCH)
    }

    /// The reader's host and domain names.
    fn uts_names(&self) -> super::sysctl::kernel::UtsNames {
        let uts = self
            .fs
            .view
            .container_member(super::env::current_pid(), Link::Own(Kind::Uts))
            .and_then(|c| c.downcast::<crate::container::uts::UtsContainer>());
        let text =
            |b: Option<Vec<u8>>| String::from_utf8_lossy(&b.unwrap_or_default()).into_owned();
        super::sysctl::kernel::UtsNames {
            hostname: text(uts.as_ref().map(|u| u.hostname())),
            domainname: text(uts.as_ref().map(|u| u.domainname())),
        }
    }

    /// The container behind a link node.
    fn link_target(&self) -> Result<Arc<dyn Container>, Errno> {
        let Node::Link(pid, _, link) = self.node else {
            return Err(Errno::EINVAL);
        };
        self.fs
            .view
            .container_member(pid, link)
            .ok_or(Errno::ENOENT)
    }

    fn is_dir(&self) -> bool {
        self.node.file_type() == FileType::Directory
    }

    /// The group and file of a plimits file node (`ENOENT` once the group is gone).
    fn plimits_file(&self) -> Result<(Arc<plimits::Group>, plimits::File), Errno> {
        let Node::PlFile(g, i) = self.node else {
            return Err(Errno::EINVAL);
        };
        let f = plimits::File::from_index(i as usize).ok_or(Errno::ENOENT)?;
        Ok((plimits::find(g).ok_or(Errno::ENOENT)?, f))
    }

    /// The entries of a plimits group directory: its files, and for the root the groups.
    fn plimits_entries(&self, group: u32) -> Vec<DirEntry> {
        let mut v: Vec<DirEntry> = plimits::FILES
            .iter()
            .enumerate()
            .map(|(i, (name, _))| DirEntry {
                name: name.to_string(),
                ino: Node::PlFile(group, i as u8).ino(),
                ftype: FileType::Regular,
            })
            .collect();
        if group == 0 {
            v.extend(plimits::children().into_iter().map(|g| DirEntry {
                name: g.name().to_string(),
                ino: Node::PlGroup(g.id()).ino(),
                ftype: FileType::Directory,
            }));
        }
        v
    }

    /// A name in plimits group directory `group`.
    fn plimits_lookup(&self, group: u32, name: &str) -> Result<Node, Errno> {
        plimits::find(group).ok_or(Errno::ENOENT)?;
        if let Some(f) = plimits::File::by_name(name) {
            return Ok(Node::PlFile(group, f.index() as u8));
        }
        if group == 0
            && let Some(g) = plimits::children().into_iter().find(|g| g.name() == name)
        {
            return Ok(Node::PlGroup(g.id()));
        }
        Err(Errno::ENOENT)
    }

    /// What Linux gives for making an entry in a procfs directory: `EEXIST` if `name`
    /// exists, else `err` (procfs directories have no such operation).
    fn no_new_entry(&self, name: &str, err: Errno) -> Errno {
        match self.lookup(name) {
            _ if !self.is_dir() => Errno::ENOTDIR,
            Ok(_) => Errno::EEXIST,
            Err(_) => err,
        }
    }

    /// Removing or renaming `name`: `ENOENT` if it does not exist, else `EPERM`.
    fn no_removal(&self, name: &str) -> Errno {
        match self.lookup(name) {
            Ok(_) => Errno::EPERM,
            Err(e) => e,
        }
    }
}

impl Inode for ProcInode {
    fn file_type(&self) -> FileType {
        self.ty
    }

    fn metadata(&self) -> Metadata {
        let (uid, gid) = self
            .node
            .pid()
            .and_then(|p| self.fs.view.pid_owner(p))
            .unwrap_or((0, 0));
        Metadata {
            dev: self.fs.dev,
            ino: self.node.ino(),
            mode: self.node.mode(),
            nlink: if self.is_dir() { 2 } else { 1 },
            uid,
            gid,
            blksize: 1024,
            ..Default::default()
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(read_text_at(&self.content()?, offset, buf))
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        match self.node {
            // One whole write at offset 0: LiteOS-A's digits-only rule (limits::write).
            Node::MaxContainer(k) => {
                // Machine-wide limits: CAP_SYS_ADMIN in the root user container.
                super::env::require_cap(crate::cred::CAP_SYS_ADMIN)?;
                if offset != 0 {
                    return Err(Errno::EINVAL);
                }
                limits::write(k, buf)?;
                Ok(buf.len())
            }
            Node::Tunable(i) => {
                if offset != 0 {
                    return Err(Errno::EINVAL);
                }
                sysctl::TUNABLES[i as usize].write(buf)?;
                Ok(buf.len())
            }
            Node::User(..) => self.open_user_file(O_WRONLY)?.write_at(offset, buf),
            Node::Oom(p, f) => {
                let (adj, legacy) = f.parse(buf)?;
                self.fs.view.set_oom_score_adj(p, adj, legacy)?;
                Ok(buf.len())
            }
            Node::TimeOffsets(_, f) => {
                let t = self.time_for_children()?;
                // CAP_SYS_TIME over the container's owner (Linux checks the opener's).
                let may = match (super::env::current_cred(), t.common().owner()) {
                    (Some(c), Some(owner)) => c.capable_in(owner, crate::cred::CAP_SYS_TIME),
                    _ => true,
                };
                timens::write(f, &t, offset, buf, may, super::env::monotonic_ns())
            }
            // One whole write: LiteOS-A's rules (plimits::write).
            Node::PlFile(..) => {
                let (g, f) = self.plimits_file()?;
                plimits::write(&g, f, buf)?;
                Ok(buf.len())
            }
            _ => Err(Errno::EACCES),
        }
    }

    /// The file object of uid_map, gid_map and setgroups: it keeps the opener's
    /// credentials and the target's user container (see `usermap`).
    fn open(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        match self.node {
            Node::User(..) => Some(self.open_user_file(flags).map(|f| f as Arc<dyn FileOps>)),
            _ => None,
        }
    }

    /// `O_TRUNC` on a writable file is ignored, as Linux's procfs does.
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        match self.node {
            Node::MaxContainer(_)
            | Node::Tunable(_)
            | Node::User(..)
            | Node::TimeOffsets(..)
            | Node::Oom(..)
            | Node::PlFile(..) => Ok(()),
            _ => Err(Errno::EACCES),
        }
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        self.lookup_in(name, &mut WalkMemo::default())
            .map(|(i, _)| i)
    }

    /// A `/proc/[pid]` step keeps the process for the steps below it. The steps of a
    /// walk to a container link (the number, `ns`, the link) are inline; every other
    /// name is looked up out of line.
    fn lookup_in(&self, name: &str, memo: &mut WalkMemo) -> Result<(InodeRef, FileType), Errno> {
        let node = match self.node {
            // No fixed name starts with a digit: a number goes straight to the pids.
            Node::Root if name.as_bytes().first().is_some_and(u8::is_ascii_digit) => {
                let pid = pid_name(name).ok_or(Errno::ENOENT)?;
                memo.keep(pid, self.fs.view.pinned(pid).ok_or(Errno::ENOENT)?);
                return Ok(self.child_here(Node::Pid(pid)));
            }
            Node::Pid(pid) if name == "ns" => {
                self.check_pid_in(pid, memo)?;
                return Ok(self.child_here(Node::LinkDir(pid, Links::Ns)));
            }
            Node::LinkDir(pid, links) => {
                self.check_pid_in(pid, memo)?;
                let link = Link::by_name(name)
                    .filter(|l| l.kind().enabled())
                    .ok_or(Errno::ENOENT)?;
                // A walk that follows the link lands on the container at once: no link
                // object is looked up and followed.
                if memo.follows() && memo.get(pid).is_some() {
                    let target = self.link_object(pid, link, memo)?;
                    let ty = target.file_type();
                    memo.followed();
                    return Ok((target, ty));
                }
                Node::Link(pid, links, link)
            }
            _ => return self.lookup_other(name, memo),
        };
        Ok(self.child_here(node))
    }

    fn readlink(&self) -> Result<String, Errno> {
        match self.node {
            Node::SelfLink => {
                let mut s = String::with_capacity(10);
                push_decimal(&mut s, self.fs.view.self_pid());
                Ok(s)
            }
            Node::Link(_, links, _) => {
                let c = self.link_target()?;
                Ok(link_text(c.kind(), c.number(), links == Links::Container))
            }
            Node::FsLink(pid, cwd) => self
                .fs
                .view
                .fs_link(pid, cwd)
                .map(|(text, _, _)| text)
                .ok_or(Errno::ENOENT),
            // A kernel thread or a zombie has no program: ENOENT, as Linux.
            Node::Exe(_) => Some(self.info()?.exe)
                .filter(|e| !e.is_empty())
                .ok_or(Errno::ENOENT),
            _ => Err(Errno::EINVAL),
        }
    }

    fn readlink_short(&self, out: &mut [u8; SHORT_LINK]) -> Option<Result<usize, Errno>> {
        match self.node {
            Node::SelfLink => {
                let d = Decimal::new(self.fs.view.self_pid());
                let d = d.as_bytes();
                out[..d.len()].copy_from_slice(d);
                Some(Ok(d.len()))
            }
            Node::Link(_, links, _) => Some(
                self.link_target()
                    .map(|c| write_link_text(c.common(), links == Links::Container, out)),
            ),
            _ => None,
        }
    }

    /// `self` is the caller's directory: the walk steps into it without formatting and
    /// parsing the number (the link's text still comes from `readlink`). A container
    /// link below a `/proc/[pid]` step takes the process that step kept.
    fn follow(&self, memo: &WalkMemo) -> Follow {
        match self.node {
            Node::Link(pid, _, link) => Follow::Magic(self.link_object(pid, link, memo), None),
            // The caller's own number names a live process (the caller): no lookup.
            Node::SelfLink => Follow::Sibling(match self.fs.view.self_pid() {
                0 => Err(Errno::ENOENT),
                pid => Ok((self.child(Node::Pid(pid)), pid)),
            }),
            Node::FsLink(pid, cwd) => match self.fs.view.fs_link(pid, cwd) {
                Some((_, dir, path)) => Follow::Magic(Ok(dir), Some(path)),
                None => Follow::Magic(Err(Errno::ENOENT), None),
            },
            _ => Follow::Text,
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let entry = |name: String, n: Node| DirEntry {
            name,
            ino: n.ino(),
            ftype: n.file_type(),
        };
        Ok(match self.node {
            Node::Root => {
                let mut v: Vec<DirEntry> = ROOT_FILES
                    .iter()
                    .map(|(name, n)| entry(name.to_string(), *n))
                    .collect();
                v.extend(
                    self.fs
                        .view
                        .pids()
                        .into_iter()
                        .map(|p| entry(p.to_string(), Node::Pid(p))),
                );
                v
            }
            Node::Net => {
                let mut v = alloc::vec![entry("unix".into(), Node::NetUnix)];
                for (i, f) in crate::net::inet::procnet::FILES.iter().enumerate() {
                    v.push(entry((*f).into(), Node::NetInet(i as u8)));
                }
                v
            }
            Node::Sys => alloc::vec![
                entry("fs".into(), Node::SysFs),
                entry("kernel".into(), Node::SysKernel),
                entry("user".into(), Node::SysUser),
                entry("vm".into(), Node::SysVm),
            ],
            Node::SysVm => tunables(sysctl::Dir::Vm),
            Node::SysFs => {
                let mut v = tunables(sysctl::Dir::Fs);
                v.push(entry("file-nr".into(), Node::FileNr));
                v.sort_by(|a, b| a.name.cmp(&b.name));
                v
            }
            Node::SysUser => Kind::ALL
                .into_iter()
                .filter(|k| k.enabled())
                .map(|k| entry(max_file_name(k), Node::MaxContainer(k)))
                .collect(),
            Node::SysKernel => {
                let mut v = alloc::vec![
                    entry("overflowgid".into(), Node::OverflowGid),
                    entry("overflowuid".into(), Node::OverflowUid),
                ];
                v.extend(
                    super::sysctl::kernel::KERNEL
                        .iter()
                        .enumerate()
                        .map(|(i, n)| entry(n.to_string(), Node::Sysctl(i as u8))),
                );
                v.extend(tunables(sysctl::Dir::Kernel));
                v.sort_by(|a, b| a.name.cmp(&b.name));
                v
            }
            Node::Pid(pid) => {
                self.check_pid(pid)?;
                // Files of a type built out (`time`) are absent.
                PID_FILES
                    .iter()
                    .filter_map(|(name, ftype)| {
                        let ino = match self.lookup(name) {
                            Ok(i) => i.metadata().ino,
                            Err(Errno::ENOENT) => return None,
                            Err(_) => 0,
                        };
                        Some(DirEntry {
                            name: name.to_string(),
                            ino,
                            ftype: *ftype,
                        })
                    })
                    .collect()
            }
            Node::LinkDir(pid, links) => {
                self.check_pid(pid)?;
                shown_links()
                    .map(|l| entry(l.name().to_string(), Node::Link(pid, links, l)))
                    .collect()
            }
            Node::Plimits => self.plimits_entries(0),
            Node::PlGroup(g) => {
                plimits::find(g).ok_or(Errno::ENOENT)?;
                self.plimits_entries(g)
            }
            _ => return Err(Errno::ENOTDIR),
        })
    }

    // Nothing is created or removed in procfs: Linux's errno for directories without
    // those operations (`open(O_CREAT)` gives EACCES, the others EPERM).
    fn create(
        &self,
        name: &str,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> Result<InodeRef, Errno> {
        Err(self.no_new_entry(name, Errno::EACCES))
    }
    /// Only `/proc/plimits` makes directories: a new group, joined by the caller. A
    /// group directory refuses (one level only, `EPERM`).
    fn mkdir(&self, name: &str, _mode: u32, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        if self.node == Node::Plimits {
            let g = plimits::create(name)?;
            return Ok(self.child(Node::PlGroup(g.id())));
        }
        Err(self.no_new_entry(name, Errno::EPERM))
    }
    fn symlink(&self, name: &str, _target: &str, _uid: u32, _gid: u32) -> Result<InodeRef, Errno> {
        Err(self.no_new_entry(name, Errno::EPERM))
    }
    fn link(&self, name: &str, _target: &InodeRef) -> Result<(), Errno> {
        Err(self.no_new_entry(name, Errno::EPERM))
    }
    fn unlink(&self, name: &str) -> Result<(), Errno> {
        Err(self.no_removal(name))
    }
    fn rmdir(&self, name: &str) -> Result<(), Errno> {
        if self.node == Node::Plimits {
            return plimits::remove(name);
        }
        Err(self.no_removal(name))
    }
    fn rename(&self, old: &str, _new_dir: &InodeRef, _new: &str) -> Result<(), Errno> {
        Err(self.no_removal(old))
    }
}

impl ProcInode {
    /// [`lookup_in`](Inode::lookup_in) of every name but a walk's way to a container link.
    #[inline(never)]
    fn lookup_other(&self, name: &str, memo: &mut WalkMemo) -> Result<(InodeRef, FileType), Errno> {
        let node = match self.node {
            Node::Root => match ROOT_FILES.iter().find(|(f, _)| *f == name) {
                Some((_, n)) => return Ok((self.child(*n), n.file_type())),
                None => return Err(Errno::ENOENT),
            },
            Node::Net => match name {
                "unix" => Node::NetUnix,
                _ => match crate::net::inet::procnet::FILES
                    .iter()
                    .position(|f| *f == name)
                {
                    Some(i) => Node::NetInet(i as u8),
                    None => return Err(Errno::ENOENT),
                },
            },
            Node::Sys => match name {
                "user" => Node::SysUser,
                "kernel" => Node::SysKernel,
                "fs" => Node::SysFs,
                "vm" => Node::SysVm,
                _ => return Err(Errno::ENOENT),
            },
            Node::SysUser => Kind::ALL
                .into_iter()
                .filter(|k| k.enabled())
                .find(|k| max_file_name(*k) == name)
                .map(Node::MaxContainer)
                .ok_or(Errno::ENOENT)?,
            Node::SysKernel => match name {
                "overflowuid" => Node::OverflowUid,
                "overflowgid" => Node::OverflowGid,
                _ => match super::sysctl::kernel::index_of(name) {
                    Some(i) => Node::Sysctl(i as u8),
                    None => sysctl::find(sysctl::Dir::Kernel, name)
                        .map(|i| Node::Tunable(i as u8))
                        .ok_or(Errno::ENOENT)?,
                },
            },
            Node::SysFs if name == "file-nr" => Node::FileNr,
            Node::SysFs => sysctl::find(sysctl::Dir::Fs, name)
                .map(|i| Node::Tunable(i as u8))
                .ok_or(Errno::ENOENT)?,
            Node::SysVm => sysctl::find(sysctl::Dir::Vm, name)
                .map(|i| Node::Tunable(i as u8))
                .ok_or(Errno::ENOENT)?,
            Node::Pid(pid) => {
                self.check_pid_in(pid, memo)?;
                match name {
                    "fd" | "fdinfo" => {
                        let dir = super::procfd::dir(self.fs.clone(), pid, name == "fdinfo");
                        return Ok((dir, FileType::Directory));
                    }
                    "io" | "smaps_rollup" => {
                        let file = super::procpid::file(self.fs.clone(), pid, name == "io");
                        return Ok((file, FileType::Regular));
                    }
                    "container" => Node::LinkDir(pid, Links::Container),
                    "status" => Node::Status(pid),
                    "stat" => Node::Stat(pid),
                    "comm" => Node::Comm(pid),
                    "cmdline" => Node::Cmdline(pid),
                    "exe" => Node::Exe(pid),
                    "limits" => Node::Limits(pid),
                    "maps" => Node::Maps(pid),
                    "statm" => Node::Statm(pid),
                    "environ" => Node::Environ(pid),
                    n if OomFile::by_name(n).is_some() => {
                        Node::Oom(pid, OomFile::by_name(n).ok_or(Errno::ENOENT)?)
                    }
                    "uid_map" => Node::User(pid, UserFile::UidMap),
                    "gid_map" => Node::User(pid, UserFile::GidMap),
                    "setgroups" => Node::User(pid, UserFile::Setgroups),
                    "mounts" => Node::PidMounts(pid),
                    "cgroup" => Node::Cgroup(pid),
                    "mountinfo" => Node::MountInfo(pid),
                    "root" => Node::FsLink(pid, false),
                    "cwd" => Node::FsLink(pid, true),
                    "timens_offsets" if Kind::Time.enabled() => {
                        Node::TimeOffsets(pid, OffsetsFile::Linux)
                    }
                    "time_offsets" if Kind::Time.enabled() => {
                        Node::TimeOffsets(pid, OffsetsFile::LiteOs)
                    }
                    _ => return Err(Errno::ENOENT),
                }
            }
            Node::Plimits => self.plimits_lookup(0, name)?,
            Node::PlGroup(g) => self.plimits_lookup(g, name)?,
            _ => return Err(Errno::ENOTDIR),
        };
        Ok((self.child(node), node.file_type()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Nodes of every variant: the fixed ones, the numbered ones (tunables, sysctls, net
    /// files, plimits files) for each of `indexes`, and the per-process ones (and
    /// plimits groups) for each of `pids`.
    fn sample_nodes(pids: &[u32], indexes: [core::ops::Range<u8>; 4]) -> Vec<Node> {
        use crate::fs::procpid::OomFile;
        use crate::fs::timens::OffsetsFile;
        use crate::fs::usermap::UserFile;
        let [tunables, sysctls, net, plfiles] = indexes;
        let mut nodes = vec![
            Node::Root,
            Node::SelfLink,
            Node::Meminfo,
            Node::Mounts,
            Node::Filesystems,
            Node::Uptime,
            Node::Sys,
            Node::SysUser,
            Node::SysKernel,
            Node::SysFs,
            Node::SysVm,
            Node::FileNr,
            Node::OverflowUid,
            Node::OverflowGid,
            Node::Plimits,
            Node::CpuStat,
            Node::CpuInfo,
            Node::Net,
            Node::NetUnix,
            Node::Loadavg,
        ];
        nodes.extend(tunables.map(Node::Tunable));
        nodes.extend(sysctls.map(Node::Sysctl));
        nodes.extend(net.map(Node::NetInet));
        nodes.extend(Kind::ALL.map(Node::MaxContainer));
        for &p in pids {
            nodes.extend([
                Node::Pid(p),
                Node::Status(p),
                Node::Comm(p),
                Node::Stat(p),
                Node::Cmdline(p),
                Node::Maps(p),
                Node::Statm(p),
                Node::Environ(p),
                Node::PidMounts(p),
                Node::Cgroup(p),
                Node::MountInfo(p),
                Node::Exe(p),
                Node::Limits(p),
                Node::FsLink(p, false),
                Node::FsLink(p, true),
                Node::PlGroup(p),
            ]);
            for f in [OomFile::ScoreAdj, OomFile::Score, OomFile::Adj] {
                nodes.push(Node::Oom(p, f));
            }
            for f in [UserFile::UidMap, UserFile::GidMap, UserFile::Setgroups] {
                nodes.push(Node::User(p, f));
            }
            for f in [OffsetsFile::Linux, OffsetsFile::LiteOs] {
                nodes.push(Node::TimeOffsets(p, f));
            }
            for l in [Links::Container, Links::Ns] {
                nodes.push(Node::LinkDir(p, l));
                nodes.extend(Link::ALL.map(|link| Node::Link(p, l, link)));
            }
            nodes.extend(plfiles.clone().map(|i| Node::PlFile(p, i)));
        }
        nodes
    }

    /// Linux tools take (st_dev, st_ino) for a file's identity (`find`, `du`, `tar`):
    /// no two files of /proc share a number.
    #[test]
    fn inode_numbers_differ_for_different_files() {
        let count = |n: usize| 0..n as u8;
        let nodes = sample_nodes(
            &[0, 1, 4096],
            [
                count(sysctl::TUNABLES.len()),
                count(super::sysctl::kernel::KERNEL.len()),
                count(crate::net::inet::procnet::FILES.len()),
                count(plimits::FILES.len()),
            ],
        );
        for (i, a) in nodes.iter().enumerate() {
            for b in &nodes[i + 1..] {
                assert!(
                    a.ino() != b.ino(),
                    "{a:?} and {b:?} share inode {}",
                    a.ino()
                );
            }
        }
    }

    #[test]
    fn node_keys_differ_for_different_nodes() {
        let nodes = sample_nodes(&[0, 1, 2, 4096, u32::MAX], [0..255, 0..255, 0..255, 0..255]);
        for (i, a) in nodes.iter().enumerate() {
            for b in &nodes[i + 1..] {
                assert!(a == b || a.key() != b.key(), "{a:?} and {b:?} share a key");
            }
        }
        for link in Link::ALL {
            assert_eq!(Link::by_name(link.name()), Some(link));
        }
        assert_eq!(Link::by_name("user_for_children"), None);
        assert_eq!(Link::by_name("nope"), None);
    }

    #[test]
    fn pid_names_are_plain_decimals_without_a_leading_zero() {
        assert_eq!(pid_name("1"), Some(1));
        assert_eq!(pid_name("4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "0",
            "01",
            "+1",
            "-1",
            "4294967296",
            "99999999999",
            "1a",
            "self",
        ] {
            assert_eq!(pid_name(bad), None, "{bad:?}");
        }
    }

    struct Fake;

    fn init_info() -> ProcInfo {
        ProcInfo {
            pid: 1,
            ppid: 0,
            tgid: 1,
            name: "init-with-a-long-name".into(),
            state: 'S',
            threads: 1,
            vm_size_kb: 1024,
            vm_rss_kb: 64,
            cmdline: b"/init\0-v\0".to_vec(),
            maps: vec![
                MapLine {
                    start: 0x400000,
                    end: 0x401000,
                    perms: *b"r-xp",
                    offset: 0,
                    dev: 0,
                    ino: 0,
                    name: "/init".into(),
                },
                MapLine {
                    start: 0x7ff000,
                    end: 0x800000,
                    perms: *b"rw-p",
                    offset: 0,
                    dev: 0,
                    ino: 0,
                    name: String::new(),
                },
            ],
            ..Default::default()
        }
    }

    impl KernelView for Fake {
        fn pids(&self) -> Vec<u32> {
            vec![1]
        }
        fn proc_info(&self, pid: u32) -> Option<ProcInfo> {
            (pid == 1).then(init_info)
        }
        fn self_pid(&self) -> u32 {
            1
        }
        fn frames(&self) -> (u64, u64) {
            (100, 1000)
        }
        fn uptime_ns(&self) -> u64 {
            12_345_000_000
        }
        fn mounts(&self) -> String {
            "proc /proc proc rw,relatime 0 0\n".into()
        }
    }

    fn read(i: &InodeRef) -> String {
        let mut buf = vec![0u8; 8192];
        let n = i.read_at(0, &mut buf).expect("read");
        String::from_utf8(buf[..n].to_vec()).expect("utf8")
    }

    #[test]
    fn push_decimal_writes_what_to_string_writes() {
        for n in [
            0,
            7,
            9,
            10,
            42,
            99,
            100,
            101,
            999,
            1000,
            12345,
            4026531841,
            u32::MAX,
        ] {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"), "{n}");
        }
    }

    #[test]
    fn stat_and_cpuinfo_use_linux_layouts() {
        let s = render_cpu_stat(&CpuStat {
            user: 5,
            system: 2,
            idle: 93,
            ctxt: 40,
            btime: 1_700_000_000,
            processes: 7,
            running: 1,
        });
        let mut lines = s.lines();
        assert_eq!(lines.next(), Some("cpu  5 0 2 93 0 0 0 0 0 0"));
        assert_eq!(lines.next(), Some("cpu0 5 0 2 93 0 0 0 0 0 0"));
        assert!(s.contains("\nctxt 40\nbtime 1700000000\nprocesses 7\nprocs_running 1\n"));
        let c = render_cpuinfo(&CpuInfo {
            cpus: 1,
            vendor: "AuthenticAMD".into(),
            family: 25,
            model: 1,
            stepping: 1,
            model_name: "QEMU Virtual CPU".into(),
            khz: 2_602_012,
            flags: alloc::vec!["fpu", "tsc"],
            address_bits: (40, 48),
        });
        assert!(c.starts_with("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"));
        assert!(c.contains("cpu MHz\t\t: 2602.012\n") && c.contains("flags\t\t: fpu tsc\n"));
        assert!(c.contains("address sizes\t: 40 bits physical, 48 bits virtual\n"));
        assert!(c.ends_with("power management:\n\n"));
    }

    #[test]
    fn meminfo_uses_the_linux_layout() {
        let s = render_meminfo(100, 1000, 8192, 65536, 12288);
        assert!(s.starts_with("MemTotal:           4000 kB\nMemFree:             400 kB\nMemAvailable:        400 kB\n"), "{s}");
        assert!(s.contains("\nSlab:                  8 kB\n"), "{s}");
        assert!(s.contains("\nSUnreclaim:            8 kB\n"), "{s}");
        assert!(s.contains("\nKernelStack:          64 kB\n"), "{s}");
        assert!(s.ends_with("\nPageTables:           12 kB\n"), "{s}");
    }

    #[test]
    fn meminfo_vmalloc_lines_use_the_linux_layout() {
        assert_eq!(
            render_meminfo_vmalloc(1 << 30, 8192),
            "VmallocTotal:    1048576 kB\nVmallocUsed:           8 kB\n"
        );
    }

    #[test]
    fn status_and_stat_show_the_process() {
        let st = render_status(&init_info());
        assert!(
            st.starts_with("Name:\tinit-with-a-lon\nUmask:\t0022\nState:\tS (sleeping)\n"),
            "{st}"
        );
        assert!(st.contains("\nPid:\t1\nPPid:\t0\n"), "{st}");
        assert!(st.contains("\nVmRSS:\t      64 kB\n"), "{st}");
        let p = ProcInfo {
            uids: [1, 2, 3, 4],
            gids: [5, 6, 7, 8],
            groups: vec![10, 65534],
            caps: [0, 0x1ff_ffff_ffff, 0x20, 0x1ff_ffff_ffff, 0],
            no_new_privs: true,
            seccomp: (2, 3),
            ..init_info()
        };
        let st = render_status(&p);
        assert!(
            st.contains("\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n"),
            "{st}"
        );
        assert!(
            st.contains("\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nFDSize:\t64\nGroups:\t10 65534\n"),
            "{st}"
        );
        assert!(
            st.contains(
                "\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000000020\n\
                 CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
            ),
            "{st}"
        );
        assert!(render_status(&init_info()).contains("\nGroups:\t\nVmPeak:"));
        let stat = render_stat(&init_info());
        assert!(stat.starts_with("1 (init-with-a-lon) S 0 "), "{stat}");
        assert_eq!(stat.split(' ').count(), 52, "{stat}");
    }

    #[test]
    fn maps_lines_pad_the_name_to_column_73() {
        let s = render_maps(&init_info().maps);
        let first = s.lines().next().expect("a line");
        assert_eq!(first.find("/init"), Some(73), "{first}");
        assert!(
            first.starts_with("00400000-00401000 r-xp 00000000 00:00 0 "),
            "{first}"
        );
        assert_eq!(
            s.lines().nth(1),
            Some("007ff000-00800000 rw-p 00000000 00:00 0")
        );
    }

    #[test]
    fn the_tree_has_self_pid_dirs_and_global_files() {
        let fs = ProcFs::new(Arc::new(Fake));
        let root = fs.root();
        assert_eq!(
            root.lookup("self").and_then(|l| l.readlink()),
            Ok("1".into())
        );
        let names: Vec<String> = root
            .readdir()
            .expect("readdir")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                "self",
                "meminfo",
                "stat",
                "cpuinfo",
                "mounts",
                "filesystems",
                "uptime",
                "loadavg",
                "sys",
                "plimits",
                "net",
                "1"
            ]
        );
        let p = root.lookup("1").expect("/proc/1");
        assert!(p.metadata().is_dir());
        let (dir, n) = root
            .lookup("self")
            .ok()
            .and_then(|l| match l.follow(&WalkMemo::default()) {
                Follow::Sibling(s) => s.ok(),
                _ => None,
            })
            .expect("self names a visible sibling");
        assert_eq!((n, dir.metadata().ino), (1, p.metadata().ino));
        assert_eq!(
            root.lookup("2").err(),
            Some(Errno::ENOENT),
            "no such process"
        );
        assert_eq!(root.lookup("01").err(), Some(Errno::ENOENT));
        let cmd = p.lookup("cmdline").expect("cmdline");
        assert_eq!(read(&cmd), "/init\0-v\0");
        assert_eq!(
            read(&root.lookup("uptime").expect("uptime")),
            "12.34 12.34\n"
        );
        assert_eq!(
            read(&root.lookup("mounts").expect("mounts")),
            "proc /proc proc rw,relatime 0 0\n"
        );
        let status = p.lookup("status").expect("status");
        let mut buf = [0u8; 4];
        assert_eq!(status.read_at(4, &mut buf), Ok(4), "reads at an offset");
        assert_eq!(&buf, b":\tin");
        assert_eq!(status.write_at(0, b"x"), Err(Errno::EACCES));
    }

    /// Process 1 with a UTS container and a PID container (its pid_for_children).
    struct WithContainers {
        uts: Arc<dyn Container>,
        pid: Arc<dyn Container>,
    }

    impl WithContainers {
        /// One set for every test (each container takes a counted slot).
        fn new() -> Arc<WithContainers> {
            static ONE: spin::Once<Arc<WithContainers>> = spin::Once::new();
            ONE.call_once(|| {
                Arc::new(WithContainers {
                    uts: crate::fs::nsfs::fake_container(Kind::Uts, None),
                    pid: crate::fs::nsfs::fake_container(Kind::Pid, None),
                })
            })
            .clone()
        }
    }

    impl KernelView for WithContainers {
        fn pids(&self) -> Vec<u32> {
            Fake.pids()
        }
        fn proc_info(&self, pid: u32) -> Option<ProcInfo> {
            Fake.proc_info(pid)
        }
        fn self_pid(&self) -> u32 {
            1
        }
        fn frames(&self) -> (u64, u64) {
            (0, 0)
        }
        fn uptime_ns(&self) -> u64 {
            0
        }
        fn mounts(&self) -> String {
            String::new()
        }
        fn container_member(&self, pid: u32, link: Link) -> Option<Arc<dyn Container>> {
            match (pid, link) {
                (1, Link::Own(Kind::Uts)) => Some(self.uts.clone()),
                (1, Link::Own(Kind::Pid) | Link::ForChildren(Kind::Pid)) => Some(self.pid.clone()),
                _ => None,
            }
        }
    }

    fn names(dir: &InodeRef) -> Vec<String> {
        dir.readdir()
            .expect("readdir")
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn container_and_ns_dirs_list_the_enabled_links() {
        let v = WithContainers::new();
        let p = ProcFs::new(v.clone()).root().lookup("1").expect("/proc/1");
        assert!(names(&p).contains(&"container".to_string()));
        assert!(names(&p).contains(&"ns".to_string()));
        let c = p.lookup("container").expect("container/");
        let ns = p.lookup("ns").expect("ns/");
        assert_eq!(c.metadata().mode, S_IFDIR | 0o555);
        assert_eq!(ns.metadata().mode, S_IFDIR | 0o511);
        let want: Vec<String> = Link::ALL
            .iter()
            .filter(|l| l.kind().enabled())
            .map(|l| l.name().to_string())
            .collect();
        assert_eq!(names(&c), want);
        assert_eq!(names(&ns), want);
        for e in c.readdir().expect("readdir") {
            assert_eq!(e.ftype, FileType::Symlink);
            assert_eq!(
                Some(e.ino),
                c.lookup(&e.name).ok().map(|l| l.metadata().ino)
            );
        }
        assert_eq!(c.lookup("nope").err(), Some(Errno::ENOENT));
        for link in Link::ALL {
            let name = link.name();
            if !link.kind().enabled() {
                assert_eq!(
                    c.lookup(name).err(),
                    Some(Errno::ENOENT),
                    "{name} is built out"
                );
            }
        }
    }

    #[test]
    fn links_read_liteos_text_in_container_and_linux_text_in_ns() {
        let v = WithContainers::new();
        let p = ProcFs::new(v.clone()).root().lookup("1").expect("/proc/1");
        let (c, ns) = (p.lookup("container").unwrap(), p.lookup("ns").unwrap());
        let (u, pn) = (v.uts.number(), v.pid.number());
        if Kind::Uts.enabled() {
            let l = c.lookup("uts").expect("container/uts");
            assert_eq!(l.metadata().mode, S_IFLNK | 0o777, "lstat: a symlink");
            assert_eq!(l.readlink(), Ok(format!("'uts:[{u}]'")));
            assert_eq!(
                ns.lookup("uts").unwrap().readlink(),
                Ok(format!("uts:[{u}]"))
            );
        }
        if Kind::Pid.enabled() {
            let l = ns.lookup("pid_for_children").expect("ns/pid_for_children");
            assert_eq!(l.readlink(), Ok(format!("pid:[{pn}]")), "the base name");
            let l = c
                .lookup("pid_for_children")
                .expect("container/pid_for_children");
            assert_eq!(l.readlink(), Ok(format!("'pid:[{pn}]'")));
        }
        if Kind::Mnt.enabled() {
            let l = ns.lookup("mnt").expect("ns/mnt");
            assert_eq!(
                l.readlink(),
                Err(Errno::ENOENT),
                "no member: the process is gone"
            );
            assert!(matches!(
                l.follow(&WalkMemo::default()),
                Follow::Magic(Err(Errno::ENOENT), None)
            ));
        }
        assert_eq!(p.lookup("nope").err(), Some(Errno::ENOENT));
    }

    #[test]
    fn following_a_link_lands_on_the_nsfs_inode_of_its_container() {
        use crate::fs::mount::MountTable;
        use crate::fs::nsfs::NSFS_DEV;
        use crate::fs::walk::Walker;
        if !Kind::Uts.enabled() {
            return;
        }
        let v = WithContainers::new();
        let t = MountTable::new(crate::fs::ramfs::RamFs::new("rootfs"), "rootfs");
        t.root()
            .inode
            .mkdir("proc", 0o555, 0, 0)
            .expect("mkdir /proc");
        t.mount("/proc", ProcFs::new(v.clone()), "proc", 0)
            .expect("mount /proc");
        let root = t.root();
        let w = Walker {
            mounts: &t,
            root: &root,
            cwd: &root,
        };
        let a = w.resolve("/proc/1/ns/uts", true).expect("stat ns/uts");
        let b = w
            .resolve("/proc/self/container/uts", true)
            .expect("stat container/uts");
        let (ma, mb) = (a.inode.metadata(), b.inode.metadata());
        assert_eq!(
            (ma.ino, ma.dev, ma.mode),
            (v.uts.number() as u64, NSFS_DEV, S_IFREG | 0o444)
        );
        assert_eq!(mb, ma, "two links to one container: one inode number");
        let l = w.resolve("/proc/1/ns/uts", false).expect("lstat");
        assert_eq!(l.file_type(), FileType::Symlink);
        assert_eq!(
            w.resolve("/proc/1/ns/uts/x", true).err(),
            Some(Errno::ENOTDIR)
        );
        assert_eq!(w.resolve("/proc/2/ns/uts", true).err(), Some(Errno::ENOENT));
        let f = crate::fs::open_loc(a, crate::fs::file::O_RDONLY).expect("open ns/uts");
        let got = crate::fs::container_of_file(&f).expect("setns finds the container");
        assert!(Arc::ptr_eq(&got, &v.uts));
        assert_eq!(f.read(&mut [0u8; 4]), Err(Errno::EINVAL));
        assert_eq!(
            crate::fs::open_loc(l, crate::fs::file::O_RDONLY).err(),
            Some(Errno::ELOOP),
            "O_NOFOLLOW on the link itself"
        );
    }

    #[test]
    fn sys_user_has_one_limit_file_per_enabled_kind() {
        let root = ProcFs::new(Arc::new(Fake)).root();
        let sys = root.lookup("sys").expect("/proc/sys");
        assert_eq!(sys.metadata().mode, S_IFDIR | 0o555);
        assert_eq!(names(&sys), ["fs", "kernel", "user", "vm"]);
        let user = sys.lookup("user").expect("/proc/sys/user");
        let want: Vec<String> = Kind::ALL
            .into_iter()
            .filter(|k| k.enabled())
            .map(max_file_name)
            .collect();
        assert_eq!(names(&user), want);
        for k in Kind::ALL.into_iter().filter(|k| k.enabled()) {
            let f = user.lookup(&max_file_name(k)).expect("max file");
            assert_eq!(f.metadata().mode, S_IFREG | 0o664);
            let text = read(&f);
            assert!(
                text.starts_with("\nlimit: ") && text.contains("\ncount: "),
                "{text}"
            );
        }
        assert_eq!(user.lookup("max_nope_container").err(), Some(Errno::ENOENT));
        if Kind::Uts.enabled() {
            let f = user.lookup("max_uts_container").unwrap();
            // The default value back: other tests create UTS containers meanwhile.
            assert_eq!(f.write_at(0, b"10"), Ok(2));
            assert_eq!(f.write_at(0, b"10\n"), Err(Errno::EINVAL), "digits only");
            assert_eq!(f.write_at(1, b"0"), Err(Errno::EINVAL), "one write at 0");
            assert_eq!(f.truncate(0), Ok(()), "O_TRUNC is ignored");
            assert!(read(&f).starts_with("\nlimit: 10\ncount: "));
        }
    }

    #[test]
    fn plimits_groups_are_made_and_removed_in_proc() {
        let root = ProcFs::new(Arc::new(Fake)).root();
        let pl = root.lookup("plimits").expect("/proc/plimits");
        assert_eq!(pl.metadata().mode, S_IFDIR | 0o755);
        let files: Vec<String> = plimits::FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(names(&pl), files);
        let max = pl.lookup("pids.max").expect("root pids.max");
        assert_eq!(max.metadata().mode, S_IFREG | 0o444);
        assert_eq!(read(&max), "32768\n");
        assert_eq!(
            max.write_at(0, b"5"),
            Err(Errno::EPERM),
            "the root's limits"
        );
        assert_eq!(
            pl.lookup("devices.deny").map(|f| f.metadata().mode),
            Ok(S_IFREG)
        );
        let g = pl.mkdir("procfs-test", 0o700, 0, 0).expect("mkdir");
        assert_eq!(
            pl.mkdir("procfs-test", 0o700, 0, 0).err(),
            Some(Errno::EEXIST)
        );
        assert!(names(&pl).contains(&"procfs-test".to_string()));
        assert_eq!(
            g.mkdir("sub", 0o700, 0, 0).err(),
            Some(Errno::EPERM),
            "one level"
        );
        let max = g.lookup("pids.max").expect("child pids.max");
        assert_eq!(max.metadata().mode, S_IFREG | 0o644);
        assert_eq!(max.write_at(0, b"0123"), Ok(4));
        assert_eq!(read(&max), "123\n");
        assert_eq!(max.write_at(0, b"12a"), Err(Errno::EINVAL));
        assert_eq!(
            g.lookup("devices.allow").map(|f| f.metadata().mode),
            Ok(S_IFREG | 0o200)
        );
        assert_eq!(g.unlink("pids.max"), Err(Errno::EPERM));
        assert_eq!(
            g.create("x", S_IFREG | 0o644, 0, 0, 0).err(),
            Some(Errno::EACCES)
        );
        assert_eq!(pl.rmdir("procfs-test"), Ok(()));
        assert_eq!(pl.rmdir("procfs-test"), Err(Errno::ENOENT));
        assert_eq!(read_err(&max), Errno::ENOENT, "the group is gone");
        assert_eq!(root.rmdir("plimits"), Err(Errno::EPERM));
    }

    fn read_err(i: &InodeRef) -> Errno {
        i.read_at(0, &mut [0u8; 64]).err().unwrap_or(Errno::EINVAL)
    }

    #[test]
    fn overflow_ids_read_65534() {
        let root = ProcFs::new(Arc::new(Fake)).root();
        let k = root
            .lookup("sys")
            .and_then(|s| s.lookup("kernel"))
            .expect("sys/kernel");
        assert_eq!(
            names(&k),
            [
                "cap_last_cap",
                "domainname",
                "hostname",
                "ngroups_max",
                "osrelease",
                "ostype",
                "overflowgid",
                "overflowuid",
                "pid_max",
                "tainted",
                "threads-max"
            ]
        );
        assert_eq!(read(&k.lookup("pid_max").unwrap()), "32768\n");
        assert_eq!(read(&k.lookup("overflowuid").unwrap()), "65534\n");
        assert_eq!(read(&k.lookup("overflowgid").unwrap()), "65534\n");
        let fs = root
            .lookup("sys")
            .and_then(|s| s.lookup("fs"))
            .expect("sys/fs");
        assert_eq!(names(&fs), ["file-max", "file-nr", "mount-max", "nr_open"]);
        let file_nr = fs.lookup("file-nr").expect("file-nr");
        assert_eq!(file_nr.metadata().mode, S_IFREG | 0o444);
        assert_eq!(read(&file_nr).split('\t').nth(1), Some("0"));
        let nr_open = fs.lookup("nr_open").expect("nr_open");
        assert_eq!(read(&nr_open), "1048576\n");
        assert_eq!(nr_open.metadata().mode, S_IFREG | 0o644);
        assert_eq!(
            k.lookup("overflowuid").unwrap().write_at(0, b"1"),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn nothing_is_created_or_removed() {
        let root = ProcFs::new(Arc::new(Fake)).root();
        let user = root.lookup("sys").and_then(|s| s.lookup("user")).unwrap();
        assert_eq!(
            user.create("max_foo_container", S_IFREG | 0o644, 0, 0, 0)
                .err(),
            Some(Errno::EACCES),
            "open(O_CREAT)"
        );
        assert_eq!(
            root.create("x", S_IFREG | 0o644, 0, 0, 0).err(),
            Some(Errno::EACCES)
        );
        assert_eq!(root.mkdir("sys", 0o755, 0, 0).err(), Some(Errno::EEXIST));
        assert_eq!(root.mkdir("new", 0o755, 0, 0).err(), Some(Errno::EPERM));
        assert_eq!(root.unlink("meminfo"), Err(Errno::EPERM));
        assert_eq!(root.unlink("nope"), Err(Errno::ENOENT));
        let f = root.lookup("meminfo").unwrap();
        assert_eq!(f.create("x", S_IFREG, 0, 0, 0).err(), Some(Errno::ENOTDIR));
    }
}
