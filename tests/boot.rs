//! The in-QEMU suite: plain `bulkhead` boots, init runs every `/tests/t_*` program, and the
//! run passes with no memory left behind.
//!
//! The guard against a slow or hanging program is init's per-program timeout
//! (`test_timeout`, [`PROGRAM_TIMEOUT_S`]): such a program fails alone and the rest still run.
//! The whole run's budget, [`SUITE_TIMEOUT_S`], only stops a hung kernel: the suite takes
//! about 3 minutes on an idle 2-core machine and can take four times that when the host is
//! loaded (QEMU's CPU is taken away), well inside it and inside CI's 90 minutes.

mod common;

use common::bulkhead;
use std::time::Duration;

/// Seconds init gives each program (`test_timeout`).
const PROGRAM_TIMEOUT_S: u64 = 300;
/// Seconds the whole run may take.
const SUITE_TIMEOUT_S: u64 = 1800;

/// `ok NAME (12.3 s)` or `FAILED NAME (12.3 s): ...` → (NAME, seconds).
fn program_time(line: &str) -> Option<(&str, f64)> {
    let rest = line
        .strip_prefix("ok ")
        .or_else(|| line.strip_prefix("FAILED "))?;
    let (name, rest) = rest.split_once(" (")?;
    let (secs, _) = rest.split_once(" s)")?;
    Some((name, secs.parse().ok()?))
}

/// `N passed, M failed` → (N, M).
fn summary(line: &str) -> Option<(u64, u64)> {
    let (passed, failed) = line.strip_suffix(" failed")?.split_once(" passed, ")?;
    let digits = |s: &str| {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    Some((digits(passed)?, digits(failed)?))
}

/// `init: free memory before=X kB after=Y kB` → (X, Y).
fn free_memory(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("init: free memory before=")?;
    let (before, rest) = rest.split_once(" kB after=")?;
    let after = rest.strip_suffix(" kB")?;
    Some((before.parse().ok()?, after.parse().ok()?))
}

#[test]
fn suite_passes() {
    let timeout = SUITE_TIMEOUT_S.to_string();
    let per_program = format!("test_timeout={PROGRAM_TIMEOUT_S}");
    let run = bulkhead(
        &["--timeout", &timeout, "--append", &per_program],
        Duration::from_secs(SUITE_TIMEOUT_S + 60),
    );
    // The slowest programs, shown with `cargo test --test boot -- --nocapture`.
    let mut times: Vec<(&str, f64)> = run.lines().filter_map(program_time).collect();
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = times.iter().map(|t| t.1).sum();
    eprintln!("suite: {} programs, {total:.1} s; slowest:", times.len());
    for (name, secs) in times.iter().take(8) {
        eprintln!("  {name} {secs:.1} s");
    }
    assert_eq!(
        run.status,
        Some(0),
        "the suite should pass\n{}",
        run.describe()
    );
    let (passed, failed) = run
        .lines()
        .find_map(summary)
        .unwrap_or_else(|| panic!("no `N passed, 0 failed` line\n{}", run.describe()));
    assert_eq!(failed, 0, "failed count\n{}", run.describe());
    assert!(
        passed >= 1,
        "passed count {passed} should be at least 1\n{}",
        run.describe()
    );
    let (before, after) = run.lines().find_map(free_memory).unwrap_or_else(|| {
        panic!(
            "no `init: free memory before=X kB after=Y kB` line\n{}",
            run.describe()
        )
    });
    // The heap grows from frames, so MemFree also sees its tables that keep their peak
    // capacity (free lists, maps): a few pages, where a leak in a program's loop is more.
    assert!(
        after + 256 >= before,
        "free memory before the suite {before} kB vs after it {after} kB\n{}",
        run.describe()
    );
    let live = run
        .lines()
        .find(|l| l.starts_with("init: live containers"))
        .unwrap_or_else(|| panic!("no `init: live containers` line\n{}", run.describe()))
        .to_string();
    for t in ["user", "pid", "uts", "mnt", "ipc", "time", "net"] {
        assert!(
            live.split_whitespace().any(|w| w == format!("{t}=1")),
            "after the suite only the root {t} container is left: {live}\n{}",
            run.describe()
        );
    }
    assert!(
        run.lines()
            .any(|l| l == "init: plimits groups besides the root: 0"),
        "after the suite only the root plimits group is left\n{}",
        run.describe()
    );
}

#[test]
fn summary_and_free_memory_lines_parse() {
    assert_eq!(summary("12 passed, 0 failed"), Some((12, 0)));
    assert_eq!(summary("x 12 passed, 0 failed"), None);
    assert_eq!(summary("12 passed, 0 failed!"), None);
    assert_eq!(
        free_memory("init: free memory before=1024 kB after=1020 kB"),
        Some((1024, 1020))
    );
    assert_eq!(free_memory("init: free memory before=1024 kB"), None);
    assert_eq!(program_time("ok t_mm (3.2 s)"), Some(("t_mm", 3.2)));
    assert_eq!(
        program_time("FAILED t_x (300.1 s): timed out after 300 s; left 2 processes (killed)"),
        Some(("t_x", 300.1))
    );
    assert_eq!(program_time("ok t_mm"), None);
    assert_eq!(program_time("PASS case (1 s)"), None);
}
