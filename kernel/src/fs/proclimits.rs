//! `/proc/[pid]/limits`: the resource limits as Linux's `proc_pid_limits` prints them.

use alloc::format;
use alloc::string::String;

/// RLIMIT_* in order: name and unit.
const NAMES: [(&str, &str); 16] = [
    ("Max cpu time", "seconds"),
    ("Max file size", "bytes"),
    ("Max data size", "bytes"),
    ("Max stack size", "bytes"),
    ("Max core file size", "bytes"),
    ("Max resident set", "bytes"),
    ("Max processes", "processes"),
    ("Max open files", "files"),
    ("Max locked memory", "bytes"),
    ("Max address space", "bytes"),
    ("Max file locks", "locks"),
    ("Max pending signals", "signals"),
    ("Max msgqueue size", "bytes"),
    ("Max nice priority", ""),
    ("Max realtime priority", ""),
    ("Max realtime timeout", "us"),
];

pub fn render(limits: &[(u64, u64); 16]) -> String {
    let mut s = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    let value = |v: u64| {
        if v == u64::MAX {
            String::from("unlimited")
        } else {
            format!("{v}")
        }
    };
    for ((name, unit), (soft, hard)) in NAMES.iter().zip(limits) {
        s.push_str(&format!(
            "{:<25} {:<20} {:<20} ",
            name,
            value(*soft),
            value(*hard)
        ));
        if !unit.is_empty() {
            s.push_str(&format!("{unit:<10}"));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_linuxs() {
        let mut l = [(u64::MAX, u64::MAX); 16];
        l[7] = (1024, 4096);
        let text = render(&l);
        let lines: alloc::vec::Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 17);
        assert_eq!(
            lines[0],
            "Limit                     Soft Limit           Hard Limit           Units     "
        );
        assert_eq!(
            lines[8],
            "Max open files            1024                 4096                 files     "
        );
        assert_eq!(
            lines[14],
            "Max nice priority         unlimited            unlimited            "
        );
    }
}
