//! The machine running out of memory, in a boot of its own (a bad outcome cannot take the
//! main suite down): `user/src/bin/oomkill.rs` as init in the default 512 MiB guest. The OOM
//! killer kills each hog (and the process at `oom_score_adj` 1000 before a bigger one) with
//! `SIGKILL`, logs Linux's line for each, restarts a fork that found no frame, and init goes
//! on to `PASS` with MemFree back.

mod common;

use common::{TempDir, boot};
use std::path::Path;
use std::time::Instant;

#[test]
fn oom_killer_kills_the_hog_and_init_goes_on() {
    let dir = TempDir::new("oomkill");
    let prog = Path::new(bulkhead::USER_BIN_DIR).join("oomkill");
    std::fs::copy(&prog, dir.0.join("oomkill"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", prog.display()));
    let start = Instant::now();
    let run = boot(&dir, &[], "/oomkill", &[], 300);
    let secs = start.elapsed().as_secs();
    assert_eq!(run.status, Some(0), "oomkill passes\n{}", run.describe());
    for case in [
        "hog_is_killed_and_memory_comes_back",
        "adj_1000_goes_before_a_bigger_process",
        "hog_at_minus_1000_is_not_chosen_while_another_can_be",
        "fork_when_the_machine_is_out_kills_and_is_restarted",
        "init_survives_and_counts_are_back",
    ] {
        assert!(
            run.lines().any(|l| l == format!("PASS {case}")),
            "PASS {case}\n{}",
            run.describe()
        );
    }
    // One line per kill: the first hog, the small process at 1000, the second hog, the
    // small process beside the hog at -1000 (whose own fault then fails), the holder a
    // fork's restart needed.
    let kills: Vec<&str> = run
        .lines()
        .filter(|l| l.contains("Out of memory: Killed process "))
        .collect();
    assert_eq!(kills.len(), 5, "{kills:#?}\n{}", run.describe());
    assert!(
        kills
            .iter()
            .all(|l| l.contains(" total-vm:") && l.contains("kB, anon-rss:")),
        "{kills:#?}"
    );
    assert!(kills[1].ends_with("oom_score_adj:1000"), "{kills:#?}");
    eprintln!("oomkill: {secs} s");
}
