//! Random system calls (tests/c/fuzz.c, built with musl-gcc) from throwaway children for ten
//! seconds with a fixed seed: the kernel must not panic or hang, whatever the arguments.

mod common;

use common::{TempDir, bulkhead, musl_build};
use std::time::Duration;

#[test]
fn random_system_calls_never_stop_the_kernel() {
    let dir = TempDir::new("fuzz");
    musl_build("fuzz.c", &dir.0, "fuzz");
    let args = [
        "--timeout",
        "120",
        "--add",
        dir.path(),
        "--init",
        "/fuzz",
        "--append",
        "FUZZ_SECONDS=10 FUZZ_SEED=9",
    ];
    let run = bulkhead(&args, Duration::from_secs(180));
    // Children write junk to the console too: the summary may follow it on its line.
    let line = run.lines().find(|l| l.contains("fuzz: "));
    assert!(
        line.is_some_and(|l| l.contains("kernel alive")),
        "the fuzzer's summary line\n{}",
        run.describe()
    );
    assert_eq!(
        run.status,
        Some(0),
        "the fuzzer powers off, status 0\n{}",
        run.describe()
    );
}
