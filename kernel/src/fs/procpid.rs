//! Per-process procfs files rendered from `ProcInfo` (pure text, host-tested):
//! `/proc/[pid]/statm`.

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
}
