//! Per-process procfs files rendered from `ProcInfo` (pure text, host-tested):
//! `/proc/[pid]/statm`, `io` and `smaps_rollup` (the last two need ptrace read access,
//! as on Linux); and the OOM killer's `oom_score_adj`, `oom_score` and the legacy
//! `oom_adj` (`mm::oom` has the arithmetic).

use super::procfs::{MapLine, ProcInfo, Shared};
use super::vfs::*;
use crate::errno::Errno;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;

const PAGE: u64 = 4096;

fn pages(m: &MapLine) -> u64 {
    m.end.saturating_sub(m.start) / PAGE
}

/// `/proc/[pid]/statm`: `size resident shared text lib data dt`, in pages (proc(5)).
/// `size` and `resident` are VmSize and VmRSS; `text` counts the executable file-backed
/// mappings; `data` the private writable ones (Linux's "data + stack"); `lib` and `dt`
/// are 0 as on Linux since 2.6. `shared` (resident file and shmem pages) is 0: Bulkhead
/// does not count resident file-backed pages separately.
pub fn render_statm(info: &ProcInfo) -> String {
    let named = |m: &&MapLine| !m.name.is_empty() && !m.name.starts_with('[');
    let text: u64 = info
        .maps
        .iter()
        .filter(|m| m.perms[2] == b'x')
        .filter(named)
        .map(pages)
        .sum();
    let data: u64 = info
        .maps
        .iter()
        .filter(|m| m.perms[1] == b'w' && m.perms[3] == b'p')
        .map(pages)
        .sum();
    format!(
        "{} {} 0 {} 0 {} 0\n",
        info.vm_size_kb / 4,
        info.vm_rss_kb / 4,
        text,
        data
    )
}

/// The OOM files of `/proc/[pid]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OomFile {
    ScoreAdj,
    Score,
    Adj,
}

impl OomFile {
    pub const NAMES: [(&'static str, OomFile); 3] = [
        ("oom_score_adj", OomFile::ScoreAdj),
        ("oom_score", OomFile::Score),
        ("oom_adj", OomFile::Adj),
    ];

    pub fn by_name(name: &str) -> Option<OomFile> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// `oom_score` is read-only; the others are written by their owner (Linux's 0644).
    pub fn mode(self) -> u32 {
        match self {
            OomFile::Score => 0o444,
            _ => 0o644,
        }
    }

    /// The text of a read, from the process's `oom_score_adj` and `oom_score`.
    pub fn render(self, adj: i32, score: u64) -> String {
        match self {
            OomFile::ScoreAdj => format!("{adj}\n"),
            OomFile::Score => format!("{score}\n"),
            OomFile::Adj => format!("{}\n", crate::mm::oom::adj_to_legacy(adj)),
        }
    }

    /// A write: the `oom_score_adj` it asks for and whether it came through the legacy
    /// file (`EINVAL` outside the file's range or not a number).
    pub fn parse(self, text: &[u8]) -> Result<(i32, bool), crate::errno::Errno> {
        let v = crate::mm::oom::parse_adj(text)?;
        match self {
            OomFile::ScoreAdj => Ok((v, false)),
            OomFile::Adj => Ok((crate::mm::oom::legacy_to_adj(v)?, true)),
            OomFile::Score => Err(crate::errno::Errno::EACCES),
        }
    }
}

/// `/proc/[pid]/io` (proc(5)): the read/write family's bytes and calls. Bulkhead's
/// file systems live in memory, so no byte reaches a storage layer: `read_bytes`,
/// `write_bytes` and `cancelled_write_bytes` are 0, as Linux shows for tmpfs.
pub fn render_io(io: &[u64; 4]) -> String {
    let [rchar, wchar, syscr, syscw] = io;
    format!(
        "rchar: {rchar}\nwchar: {wchar}\nsyscr: {syscr}\nsyscw: {syscw}\nread_bytes: 0\n\
         write_bytes: 0\ncancelled_write_bytes: 0\n"
    )
}

/// What a resident page holds, for `smaps_rollup`'s split of `Pss`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    Anon,
    File,
    Shmem,
}

/// `smaps_rollup`'s sums, in bytes, over the areas `start..end`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rollup {
    pub start: u64,
    pub end: u64,
    pub rss: u64,
    pub pss: u64,
    pub pss_anon: u64,
    pub pss_file: u64,
    pub pss_shmem: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub referenced: u64,
    pub anonymous: u64,
}

impl Rollup {
    /// One resident 4 KiB page mapped `users` times (its share of `Pss` is 1/users),
    /// dirty and referenced as its page-table entry says.
    pub fn add_page(&mut self, kind: PageKind, users: u16, dirty: bool, referenced: bool) {
        const PAGE: u64 = 4096;
        let share = PAGE / u64::from(users.max(1));
        self.rss += PAGE;
        self.pss += share;
        match kind {
            PageKind::Anon => {
                self.pss_anon += share;
                self.anonymous += PAGE;
            }
            PageKind::File => self.pss_file += share,
            PageKind::Shmem => self.pss_shmem += share,
        }
        match (users > 1, dirty) {
            (true, false) => self.shared_clean += PAGE,
            (true, true) => self.shared_dirty += PAGE,
            (false, false) => self.private_clean += PAGE,
            (false, true) => self.private_dirty += PAGE,
        }
        if referenced {
            self.referenced += PAGE;
        }
    }
}

/// `/proc/[pid]/smaps_rollup` in Linux 6.1's layout: the `[rollup]` header line over
/// every area, then the sums in kB (huge pages, swap and locks: Bulkhead has none).
pub fn render_smaps_rollup(r: &Rollup) -> String {
    let mut s = String::new();
    let _ = write!(s, "{:08x}-{:08x} ---p 00000000 00:00 0", r.start, r.end);
    s.push_str(&" ".repeat(73usize.saturating_sub(s.len()).max(1)));
    s.push_str("[rollup]\n");
    let kb = |b: u64| b / 1024;
    for (name, v) in [
        ("Rss", r.rss),
        ("Pss", r.pss),
        ("Pss_Anon", r.pss_anon),
        ("Pss_File", r.pss_file),
        ("Pss_Shmem", r.pss_shmem),
        ("Shared_Clean", r.shared_clean),
        ("Shared_Dirty", r.shared_dirty),
        ("Private_Clean", r.private_clean),
        ("Private_Dirty", r.private_dirty),
        ("Referenced", r.referenced),
        ("Anonymous", r.anonymous),
        ("LazyFree", 0),
        ("AnonHugePages", 0),
        ("ShmemPmdMapped", 0),
        ("FilePmdMapped", 0),
        ("Shared_Hugetlb", 0),
        ("Private_Hugetlb", 0),
        ("Swap", 0),
        ("SwapPss", 0),
        ("Locked", 0),
    ] {
        let _ = writeln!(s, "{:<16}{:>8} kB", format!("{name}:"), kb(v));
    }
    s
}

/// `/proc/[pid]/io` (`io` true) or `smaps_rollup`.
struct PidFile {
    fs: Arc<Shared>,
    pid: u32,
    io: bool,
}

pub(super) fn file(fs: Arc<Shared>, pid: u32, io: bool) -> InodeRef {
    Arc::new(PidFile { fs, pid, io })
}

impl PidFile {
    fn content(&self) -> Result<String, Errno> {
        let v = &self.fs.view;
        if !v.pid_exists(self.pid) {
            return Err(Errno::ESRCH);
        }
        if !v.may_trace_read(self.pid) {
            return Err(Errno::EACCES);
        }
        Ok(match self.io {
            true => render_io(&v.proc_info(self.pid).ok_or(Errno::ESRCH)?.io),
            // A kernel thread or a zombie has no memory: an empty file, as Linux.
            false => v
                .smaps_rollup(self.pid)
                .map(|r| render_smaps_rollup(&r))
                .unwrap_or_default(),
        })
    }
}

impl Inode for PidFile {
    fn metadata(&self) -> Metadata {
        let (uid, gid) = self.fs.view.pid_owner(self.pid).unwrap_or((0, 0));
        // The numbers of procfs's `maps` slot whose low byte is free.
        let ino = ((((self.pid as u64 + 1) << 4) | 4) << 8) | if self.io { 3 } else { 4 };
        Metadata {
            dev: self.fs.dev,
            ino,
            mode: S_IFREG | if self.io { 0o400 } else { 0o444 },
            nlink: 1,
            uid,
            gid,
            blksize: 1024,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(super::procfs::read_text_at(
            self.content()?.as_bytes(),
            offset,
            buf,
        ))
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn line(start: u64, end: u64, perms: &[u8; 4], name: &str) -> MapLine {
        MapLine {
            start,
            end,
            perms: *perms,
            offset: 0,
            dev: 0,
            ino: 0,
            name: name.to_string(),
        }
    }

    #[test]
    fn io_uses_the_linux_layout() {
        assert_eq!(
            render_io(&[10, 20, 3, 4]),
            "rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 4\nread_bytes: 0\nwrite_bytes: 0\n\
             cancelled_write_bytes: 0\n"
        );
    }

    #[test]
    fn smaps_rollup_sums_pages_and_shares_pss() {
        let mut r = Rollup {
            start: 0x400000,
            end: 0x7fff_f000,
            ..Default::default()
        };
        r.add_page(PageKind::Anon, 1, true, true);
        r.add_page(PageKind::Anon, 1, true, false);
        r.add_page(PageKind::File, 2, false, true);
        r.add_page(PageKind::Shmem, 4, true, true);
        let s = render_smaps_rollup(&r);
        let mut lines = s.lines();
        let head = lines.next().unwrap_or("");
        assert!(
            head.starts_with("00400000-7ffff000 ---p 00000000 00:00 0 "),
            "{head}"
        );
        assert!(
            head.ends_with(" [rollup]") && head.len() == 73 + 8,
            "{head:?}"
        );
        for want in [
            "Rss:                  16 kB",
            "Pss:                  11 kB",
            "Pss_Anon:              8 kB",
            "Pss_File:              2 kB",
            "Pss_Shmem:             1 kB",
            "Shared_Clean:          4 kB",
            "Shared_Dirty:          4 kB",
            "Private_Clean:         0 kB",
            "Private_Dirty:         8 kB",
            "Referenced:           12 kB",
            "Anonymous:             8 kB",
            "Locked:                0 kB",
        ] {
            assert!(s.lines().any(|l| l == want), "{want:?} in\n{s}");
        }
        assert_eq!(s.lines().count(), 21);
    }

    #[test]
    fn statm_counts_pages() {
        let info = ProcInfo {
            vm_size_kb: 1024,
            vm_rss_kb: 64,
            maps: vec![
                line(0x400000, 0x402000, b"r-xp", "/init"),
                line(0x402000, 0x403000, b"rw-p", "/init"),
                line(0x500000, 0x504000, b"rw-p", "[heap]"),
                line(0x7ff000, 0x800000, b"rw-p", "[stack]"),
                line(0x900000, 0x901000, b"r-xp", "[vdso]"),
            ],
            ..Default::default()
        };
        assert_eq!(render_statm(&info), "256 16 0 2 0 6 0\n");
    }

    #[test]
    fn oom_files_render_and_parse() {
        use crate::errno::Errno;
        assert_eq!(OomFile::ScoreAdj.render(-1000, 0), "-1000\n");
        assert_eq!(OomFile::Adj.render(1000, 0), "15\n");
        assert_eq!(OomFile::Score.render(0, 667), "667\n");
        assert_eq!(OomFile::ScoreAdj.parse(b"1001"), Ok((1001, false)));
        assert_eq!(OomFile::Adj.parse(b"-17\n"), Ok((-1000, true)));
        assert_eq!(OomFile::Adj.parse(b"16"), Err(Errno::EINVAL));
        assert_eq!(OomFile::by_name("oom_score"), Some(OomFile::Score));
        assert_eq!(OomFile::Score.mode(), 0o444);
    }
}
