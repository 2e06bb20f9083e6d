//! `--bench`: builds the project's benchmark `tests/c/nsbench.c` with `musl-gcc -static -O2`,
//! boots it as init under `--icount` (`NSBENCH_SCALE=0.2` unless `--append` sets it) and
//! prints each case's icount-ns per operation beside Linux 6.1's in the same QEMU
//! (`../shared/bench/linux-anchor.md`, the musl build).

use crate::{Error, Options, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Linux 6.1 under the same QEMU 7.2 TCG, 512 MiB, musl nsbench, `-icount shift=0`
/// (linux-anchor.md, the 2026-12-04 re-run): guest instructions per operation.
pub const LINUX: &[(&str, u64)] = &[
    ("getpid", 352),
    // README's benchmark notes: run-linux.sh on this nsbench.c (not in the anchor).
    ("getpid_seccomp10", 498),
    ("clock_gettime", 88),
    ("readlink_proc_ns_pid", 6871),
    ("fork_exit_wait", 126508),
    ("clone_newuts", 128374),
    ("clone_newipc", 251042),
    ("clone_newns", 144786),
    ("clone_newpid", 130168),
    ("clone_newnet", 1346518),
    ("clone_newuser", 150834),
    ("clone_uts_ipc_ns_pid_net", 1520563),
    ("unshare_newtime_child", 129667),
    ("unshare_newuts_child", 128566),
    ("tcp_lo_pingpong_64", 48123),
    ("tcp_lo_stream_64k", 94964),
    ("setns_uts", 15929),
    ("sethostname_uname", 1847),
];

/// The table for nsbench's output `text`: one row per `name ns_per_op iterations` line
/// (or `name FAIL reason`), with Linux's figure and Bulkhead's as a share of it.
pub fn table(text: &str) -> String {
    let mut out = String::from(
        "| case (icount-ns per op) | Linux 6.1 | Bulkhead | Bulkhead / Linux |\n|---|---:|---:|---:|\n",
    );
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(&(_, linux)) = LINUX.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let cell = match value.parse::<u64>() {
            Ok(v) => format!("{} | {:.0} %", group(v), v as f64 * 100.0 / linux as f64),
            Err(_) => {
                let rest: Vec<&str> = words.collect();
                format!("{value} {} | –", rest.join(" "))
            }
        };
        out.push_str(&format!("| {name} | {} | {cell} |\n", group(linux)));
    }
    out
}

/// `126508` → `126,508`.
fn group(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs the benchmark and prints the table; the exit status is nsbench's.
pub fn bench(opts: &Options) -> Result<u8, Error> {
    let dir = std::env::temp_dir().join(format!("bulkhead-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
    let result = build_and_run(opts, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn build_and_run(opts: &Options, dir: &Path) -> Result<u8, Error> {
    let src: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/nsbench.c");
    let out = Command::new("musl-gcc")
        .args(["-static", "-O2", "-o"])
        .arg(dir.join("nsbench"))
        .arg(&src)
        .output()
        .map_err(|e| Error(format!("musl-gcc: {e} (install musl-tools)")))?;
    if !out.status.success() {
        return Err(Error(format!(
            "musl-gcc failed on {}: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let mut o = opts.clone();
    o.add.push(dir.to_path_buf());
    o.init = Some("/nsbench".into());
    o.icount = true;
    if !o.append.iter().any(|a| a.contains("NSBENCH_SCALE=")) {
        o.append.push("NSBENCH_SCALE=0.2".into());
    }
    o.timeout_secs.get_or_insert(900);
    let outcome = run(&o, true)?;
    let text = String::from_utf8_lossy(&outcome.output);
    print!("{}", table(&text));
    if let Some(message) = outcome.verdict.message() {
        eprintln!("bulkhead: {message}");
    }
    Ok(outcome.verdict.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_a_row_per_known_case() {
        let t = table(
            "# name ns_per_op iterations\ngetpid 176 400000\nclone_newnet FAIL Invalid argument\n\
             noise line\nNSBENCH_DONE\n",
        );
        let rows: Vec<&str> = t.lines().collect();
        assert_eq!(rows.len(), 4, "{t}");
        assert_eq!(rows[2], "| getpid | 352 | 176 | 50 % |");
        assert_eq!(
            rows[3],
            "| clone_newnet | 1,346,518 | FAIL Invalid argument | – |"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1520563), "1,520,563");
    }
}
