//! procfs: files generated on read from kernel state. The state comes through the
//! `KernelView` trait (the kernel's implementation is in `procfs_kernel`; tests use a
//! fake), and the text is rendered by pure functions.

use super::vfs::*;
use crate::errno::Errno;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
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
    pub maps: Vec<MapLine>,
    pub pgid: u32,
    pub sid: u32,
    /// CPU time in clock ticks (USER_HZ = 100).
    pub utime: u64,
    pub stime: u64,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
    pub nice: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapLine {
    pub start: u64,
    pub end: u64,
    /// Like `b"rw-p"`.
    pub perms: [u8; 4],
    pub offset: u64,
    pub name: String,
}

/// The kernel state procfs shows.
pub trait KernelView: Send + Sync {
    /// Visible pids, ascending (zombies included until reaped).
    fn pids(&self) -> Vec<u32>;
    fn proc_info(&self, pid: u32) -> Option<ProcInfo>;
    /// The calling process (what `/proc/self` points to).
    fn self_pid(&self) -> u32;
    /// (free, total) 4 KiB frames.
    fn frames(&self) -> (u64, u64);
    fn uptime_ns(&self) -> u64;
    /// `/proc/mounts` of the caller's mount tree.
    fn mounts(&self) -> String;
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
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t0022\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t{u}\t{u}\t{u}\t{u}\nGid:\t{g}\t{g}\t{g}\t{g}\nFDSize:\t64\nGroups:\t\n\
         VmPeak:\t{:>8} kB\nVmSize:\t{:>8} kB\nVmRSS:\t{:>8} kB\nThreads:\t{}\n\
         SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
         Cpus_allowed:\t1\nCpus_allowed_list:\t0\n",
        comm(&p.name),
        state_name(p.state),
        p.tgid,
        p.pid,
        p.ppid,
        p.vm_size_kb,
        p.vm_size_kb,
        p.vm_rss_kb,
        p.threads,
        u = p.uid,
        g = p.gid,
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
            "{:08x}-{:08x} {} {:08x} 00:00 0",
            m.start, m.end, perms, m.offset
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

pub fn render_meminfo(free_frames: u64, total_frames: u64) -> String {
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

pub const FILESYSTEMS: &str = "nodev\tramfs\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\n";

/// Files below `/proc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Root,
    SelfLink,
    Meminfo,
    Mounts,
    Filesystems,
    Uptime,
    Pid(u32),
    Status(u32),
    Stat(u32),
    Cmdline(u32),
    Maps(u32),
}

const ROOT_FILES: [(&str, Node); 5] = [
    ("self", Node::SelfLink),
    ("meminfo", Node::Meminfo),
    ("mounts", Node::Mounts),
    ("filesystems", Node::Filesystems),
    ("uptime", Node::Uptime),
];

const PID_FILES: [&str; 4] = ["status", "stat", "cmdline", "maps"];

impl Node {
    fn ino(self) -> u64 {
        let pid_ino = |pid: u32, k: u64| ((pid as u64 + 1) << 4) | k;
        match self {
            Node::Root => 1,
            Node::SelfLink => 2,
            Node::Meminfo => 3,
            Node::Mounts => 4,
            Node::Filesystems => 5,
            Node::Uptime => 6,
            Node::Pid(p) => pid_ino(p, 0) << 8,
            Node::Status(p) => pid_ino(p, 1) << 8,
            Node::Stat(p) => pid_ino(p, 2) << 8,
            Node::Cmdline(p) => pid_ino(p, 3) << 8,
            Node::Maps(p) => pid_ino(p, 4) << 8,
        }
    }

    fn pid(self) -> Option<u32> {
        match self {
            Node::Pid(p) | Node::Status(p) | Node::Stat(p) | Node::Cmdline(p) | Node::Maps(p) => {
                Some(p)
            }
            _ => None,
        }
    }
}

struct Shared {
    dev: u64,
    view: Arc<dyn KernelView>,
}

pub struct ProcFs {
    shared: Arc<Shared>,
}

impl ProcFs {
    pub fn new(view: Arc<dyn KernelView>) -> Arc<ProcFs> {
        Arc::new(ProcFs {
            shared: Arc::new(Shared {
                dev: alloc_dev(),
                view,
            }),
        })
    }
}

impl FileSystem for ProcFs {
    fn name(&self) -> &'static str {
        "proc"
    }
    fn root(&self) -> InodeRef {
        Arc::new(ProcInode {
            fs: self.shared.clone(),
            node: Node::Root,
        })
    }
    fn dev(&self) -> u64 {
        self.shared.dev
    }
}

struct ProcInode {
    fs: Arc<Shared>,
    node: Node,
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
                let (free, total) = v.frames();
                render_meminfo(free, total).into_bytes()
            }
            Node::Mounts => v.mounts().into_bytes(),
            Node::Filesystems => FILESYSTEMS.as_bytes().to_vec(),
            Node::Uptime => render_uptime(v.uptime_ns()).into_bytes(),
            Node::Status(_) => render_status(&self.info()?).into_bytes(),
            Node::Stat(_) => render_stat(&self.info()?).into_bytes(),
            Node::Cmdline(_) => self.info()?.cmdline,
            Node::Maps(_) => render_maps(&self.info()?.maps).into_bytes(),
            Node::Root | Node::Pid(_) => return Err(Errno::EISDIR),
            Node::SelfLink => return Err(Errno::EINVAL),
        })
    }

    fn child(&self, node: Node) -> InodeRef {
        Arc::new(ProcInode {
            fs: self.fs.clone(),
            node,
        })
    }
}

impl Inode for ProcInode {
    fn metadata(&self) -> Metadata {
        let (mode, nlink) = match self.node {
            Node::Root => (S_IFDIR | 0o555, 2),
            Node::Pid(_) => (S_IFDIR | 0o555, 2),
            Node::SelfLink => (S_IFLNK | 0o777, 1),
            _ => (S_IFREG | 0o444, 1),
        };
        let (uid, gid) = match self.node.pid().and_then(|p| self.fs.view.proc_info(p)) {
            Some(i) => (i.uid, i.gid),
            None => (0, 0),
        };
        Metadata {
            dev: self.fs.dev,
            ino: self.node.ino(),
            mode,
            nlink,
            uid,
            gid,
            blksize: 1024,
            ..Default::default()
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let data = self.content()?;
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

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }

    fn lookup(&self, name: &str) -> Result<InodeRef, Errno> {
        match self.node {
            Node::Root => {
                if let Some((_, n)) = ROOT_FILES.iter().find(|(f, _)| *f == name) {
                    return Ok(self.child(*n));
                }
                let pid: u32 = name.parse().map_err(|_| Errno::ENOENT)?;
                if name.starts_with('0') || self.fs.view.proc_info(pid).is_none() {
                    return Err(Errno::ENOENT);
                }
                Ok(self.child(Node::Pid(pid)))
            }
            Node::Pid(pid) => {
                if self.fs.view.proc_info(pid).is_none() {
                    return Err(Errno::ENOENT);
                }
                let node = match name {
                    "status" => Node::Status(pid),
                    "stat" => Node::Stat(pid),
                    "cmdline" => Node::Cmdline(pid),
                    "maps" => Node::Maps(pid),
                    _ => return Err(Errno::ENOENT),
                };
                Ok(self.child(node))
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn readlink(&self) -> Result<String, Errno> {
        match self.node {
            Node::SelfLink => Ok(self.fs.view.self_pid().to_string()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        match self.node {
            Node::Root => {
                let mut v: Vec<DirEntry> = ROOT_FILES
                    .iter()
                    .map(|(name, n)| DirEntry {
                        name: name.to_string(),
                        ino: n.ino(),
                        ftype: if *n == Node::SelfLink {
                            FileType::Symlink
                        } else {
                            FileType::Regular
                        },
                    })
                    .collect();
                v.extend(self.fs.view.pids().into_iter().map(|p| DirEntry {
                    name: p.to_string(),
                    ino: Node::Pid(p).ino(),
                    ftype: FileType::Directory,
                }));
                Ok(v)
            }
            Node::Pid(pid) => {
                if self.fs.view.proc_info(pid).is_none() {
                    return Err(Errno::ENOENT);
                }
                Ok(PID_FILES
                    .iter()
                    .map(|name| {
                        let ino = self.lookup(name).map(|i| i.metadata().ino).unwrap_or(0);
                        DirEntry {
                            name: name.to_string(),
                            ino,
                            ftype: FileType::Regular,
                        }
                    })
                    .collect())
            }
            _ => Err(Errno::ENOTDIR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

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
                    name: "/init".into(),
                },
                MapLine {
                    start: 0x7ff000,
                    end: 0x800000,
                    perms: *b"rw-p",
                    offset: 0,
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
    fn meminfo_uses_the_linux_layout() {
        let s = render_meminfo(100, 1000);
        assert!(s.starts_with("MemTotal:           4000 kB\nMemFree:             400 kB\nMemAvailable:        400 kB\n"), "{s}");
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
            ["self", "meminfo", "mounts", "filesystems", "uptime", "1"]
        );
        let p = root.lookup("1").expect("/proc/1");
        assert!(p.metadata().is_dir());
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
}
