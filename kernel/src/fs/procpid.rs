//! Per-process procfs files rendered from `ProcInfo` (pure text, host-tested):
//! `/proc/[pid]/statm`; and the OOM killer's `oom_score_adj`, `oom_score` and the legacy
//! `oom_adj` (`mm::oom` has the arithmetic).

use super::procfs::{MapLine, ProcInfo};
use alloc::format;
use alloc::string::String;

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
            name: name.to_string(),
        }
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
