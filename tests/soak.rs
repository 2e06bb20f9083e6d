//! The soak program (tests/c/soak.c, built with musl-gcc) as init: three plimits groups of
//! mixed load (fork/exit, containers, pipes, tmpfs, SysV and POSIX messages, memory hogs killed
//! by their limits), then every live count back to its start.

mod common;

use common::run_musl_init;

/// Runs the soak for `seconds`; returns its report lines.
fn soak(seconds: u64) -> String {
    let run = run_musl_init("soak", &format!("SOAK_SECONDS={seconds}"), seconds);
    let report: Vec<&str> = run
        .lines()
        .filter_map(|l| l.find("soak: ").map(|i| &l[i..]))
        .collect();
    let report = report.join("\n");
    assert_eq!(
        run.status,
        Some(0),
        "soak powers off, status 0\n{}",
        run.describe()
    );
    let ops = report
        .lines()
        .find(|l| l.contains(" operations, "))
        .unwrap_or_else(|| panic!("the soak's summary line\n{}", run.describe()));
    assert!(
        ops.contains(", 0 failed,") && ops.ends_with("workers ok"),
        "every operation did what it should\n{report}"
    );
    // Every kind of operation ran, and hogs died of their group's limit.
    let kinds = report
        .lines()
        .find(|l| l.contains(" 3 groups:"))
        .unwrap_or("");
    for kind in [
        "fork",
        "container",
        "pipe",
        "tmpfs",
        "msg",
        "shm",
        "sem",
        "mqueue",
        "hog",
    ] {
        let n: u64 = kinds
            .split_whitespace()
            .find_map(|w| w.strip_prefix(kind)?.strip_prefix('='))
            .and_then(|n| n.split('(').next()?.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "{kind} operations done: {n}\n{report}");
    }
    if let Err(e) = common::live::counts_back(&run.stdout, "soak") {
        panic!("{e}\n{report}");
    }
    report
}

#[test]
fn soak_for_twenty_seconds_gives_every_count_back() {
    soak(20);
}

/// The long soak: `SOAK_SECONDS=600 cargo test --test soak -- --ignored --nocapture` (600 s
/// unless `SOAK_SECONDS` says otherwise) prints its report.
#[test]
#[ignore]
fn long_soak_from_the_environment() {
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    eprintln!("{}", soak(seconds));
}
