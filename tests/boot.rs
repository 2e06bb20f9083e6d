//! The in-QEMU suite: plain `bulkhead` boots, init runs every `/tests/t_*` program, and the
//! run passes with no memory left behind.

mod common;

use common::bulkhead;
use std::time::Duration;

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
    let run = bulkhead(&["--timeout", "600"], Duration::from_secs(660));
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
}
