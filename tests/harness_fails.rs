//! The harness can fail: with a deliberately failing program added under `/tests`, init
//! reports it and the runner exits non-zero.

mod common;

use common::{TempDir, boot};
use std::path::Path;

#[test]
fn failing_program_makes_runner_exit_nonzero() {
    let dir = TempDir::new("fail-demo");
    std::fs::create_dir(dir.0.join("tests")).expect("create tests/ in the temp dir");
    let demo = Path::new(bulkhead::USER_BIN_DIR).join("fail_demo");
    std::fs::copy(&demo, dir.0.join("tests/fail_demo"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", demo.display()));

    let run = boot(&dir, &[], "/init", &["fail_demo"], 600);
    let status = run.status.unwrap_or(-1);
    assert!(
        (1..=125).contains(&status),
        "exit status {status} should be init's failure status (1..=125), not 0, a panic or a timeout\n{}",
        run.describe()
    );
    assert!(
        run.lines().any(|l| l.starts_with("FAILED fail_demo")),
        "no `FAILED fail_demo` line\n{}",
        run.describe()
    );
    let failed = run.lines().find_map(|l| {
        l.strip_suffix(" failed")?
            .split_once(" passed, ")?
            .1
            .parse::<u64>()
            .ok()
    });
    assert!(
        failed.is_some_and(|n| n >= 1),
        "summary should count at least one failure\n{}",
        run.describe()
    );
}
