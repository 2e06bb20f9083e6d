//! Symbolizes the backtrace a kernel panic (or the watchdog) leaves on QEMU's debug console
//! (`bt 0x<addr>` lines, port 0xe9) with the kernel ELF the run booted: function names,
//! files and lines from binutils' `addr2line` (the DWARF in the ELF), so a report from a
//! user says where. Without `addr2line` the addresses are shown as they are.

use std::path::Path;
use std::process::Command;

/// The addresses of the `bt 0x...` lines in `log`, in order.
pub fn backtrace_addresses(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|l| l.trim().strip_prefix("bt 0x"))
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect()
}

/// One line per address: `#N 0xADDR function at file:line` (inlined frames follow as
/// `(inlined by) ...` lines, as `addr2line -i` prints them).
pub fn symbolize(elf: &Path, addrs: &[u64]) -> Vec<String> {
    let mut out = Vec::new();
    for (n, a) in addrs.iter().enumerate() {
        let hex = format!("{a:#x}");
        let text = Command::new("addr2line")
            .args(["-f", "-C", "-i", "-p", "-e"])
            .arg(elf)
            .arg(&hex)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string());
        match text {
            Some(t) if !t.is_empty() => {
                for (i, line) in t.lines().enumerate() {
                    if i == 0 {
                        out.push(format!("#{n} {hex} {line}"));
                    } else {
                        out.push(format!("   {line}"));
                    }
                }
            }
            _ => out.push(format!("#{n} {hex} (addr2line not available)")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bt_lines_are_parsed_and_junk_skipped() {
        let log = "bt 0xffffffff80101234\nnoise\nbt 0xzz\n bt 0x10\n";
        assert_eq!(backtrace_addresses(log), [0xffff_ffff_8010_1234, 0x10]);
    }
}
