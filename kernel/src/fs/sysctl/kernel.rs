//! Read-only values of `/proc/sys/kernel` (besides `overflowuid`/`overflowgid`, which
//! procfs keeps with the id maps): what LTP, glibc and busybox read. Linux lets root write
//! `pid_max`, `hostname` and `domainname` here; Bulkhead's are fixed or set through
//! `sethostname`/`setdomainname`, and a write gives `EACCES`.

use alloc::format;
use alloc::string::String;

/// The file names, sorted (the order `readdir` lists them in).
pub const KERNEL: [&str; 8] = [
    "cap_last_cap",
    "domainname",
    "hostname",
    "ngroups_max",
    "osrelease",
    "ostype",
    "pid_max",
    "tainted",
];

/// What the caller's UTS container holds (`hostname`, `domainname`).
pub struct UtsNames {
    pub hostname: String,
    pub domainname: String,
}

/// The text of `/proc/sys/kernel/KERNEL[index]` (one line), `None` past the table.
pub fn render(index: usize, uts: &UtsNames) -> Option<String> {
    Some(match *KERNEL.get(index)? {
        "cap_last_cap" => format!("{}\n", crate::cred::CAP_LAST_CAP),
        "domainname" => format!("{}\n", uts.domainname),
        "hostname" => format!("{}\n", uts.hostname),
        // NGROUPS_MAX: what setgroups accepts.
        "ngroups_max" => String::from("65536\n"),
        "osrelease" => format!("{}\n", crate::container::uts::RELEASE),
        "ostype" => format!("{}\n", crate::container::uts::SYSNAME),
        // Process numbers run below this, in every PID container.
        "pid_max" => format!("{}\n", crate::container::pidmap::PID_MAX),
        _ => String::from("0\n"), // tainted: never
    })
}

pub fn index_of(name: &str) -> Option<usize> {
    KERNEL.iter().position(|n| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> UtsNames {
        UtsNames {
            hostname: "box".into(),
            domainname: "(none)".into(),
        }
    }

    #[test]
    fn values_are_linux_formatted() {
        let r = |n: &str| render(index_of(n).expect("listed"), &names()).expect("a value");
        assert_eq!(r("pid_max"), "32768\n");
        assert_eq!(r("cap_last_cap"), "40\n");
        assert_eq!(r("ostype"), "Linux\n");
        assert_eq!(r("hostname"), "box\n");
        assert_eq!(r("domainname"), "(none)\n");
        assert_eq!(r("tainted"), "0\n");
        assert!(r("osrelease").starts_with("6."));
        assert_eq!(render(KERNEL.len(), &names()), None);
    }

    #[test]
    fn the_table_is_sorted() {
        assert!(KERNEL.windows(2).all(|w| w[0] < w[1]));
    }
}
