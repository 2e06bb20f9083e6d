//! The suite's init takes back what a program leaves: `user/src/bin/leftovers.rs` under three
//! names in `/tests` (a program that hangs with processes, containers and a plimits group,
//! one that exits 0 leaving them, then one that checks nothing of theirs is left), booted with
//! `test_timeout=5`: the first two are `FAILED` with what they left, the third passes.

mod common;

use common::{TempDir, boot};
use std::path::Path;

#[test]
fn init_kills_and_removes_what_a_program_left_before_the_next() {
    let dir = TempDir::new("leftovers");
    std::fs::create_dir(dir.0.join("tests")).expect("create tests/ in the temp dir");
    let bin = Path::new(bulkhead::USER_BIN_DIR).join("leftovers");
    for name in ["a_hang", "b_leave", "c_check"] {
        std::fs::copy(&bin, dir.0.join("tests").join(name))
            .unwrap_or_else(|e| panic!("copying {}: {e}", bin.display()));
    }
    let run = boot(
        &dir,
        &["--append", "test_timeout=5"],
        "/init",
        &["a_hang", "b_leave", "c_check"],
        300,
    );
    let text = run.describe();
    let line = |prefix: &str| {
        run.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?}\n{text}"))
            .to_string()
    };
    let hang = line("FAILED a_hang (");
    for part in [
        "timed out after 5 s; left ",
        " processes (killed)",
        "1 plimits group (removed)",
    ] {
        assert!(
            hang.contains(part),
            "{hang:?} should contain {part:?}\n{text}"
        );
    }
    let leave = line("FAILED b_leave (");
    for part in [
        "): exit status 0; left ",
        " processes (killed)",
        "1 plimits group (removed)",
    ] {
        assert!(
            leave.contains(part),
            "{leave:?} should contain {part:?}\n{text}"
        );
    }
    for l in [&hang, &leave] {
        assert!(
            !l.contains("alive after SIGKILL") && !l.contains("not freed"),
            "everything was taken back: {l:?}\n{text}"
        );
    }
    line("ok c_check (");
    for case in [
        "no_process_is_left_but_init_and_me",
        "every_container_type_is_back_to_its_root",
        "no_plimits_group_is_left",
    ] {
        assert!(
            run.lines().any(|l| l == format!("PASS {case}")),
            "PASS {case}\n{text}"
        );
    }
    assert!(
        run.lines().any(|l| l == "1 passed, 2 failed"),
        "the summary\n{text}"
    );
    assert_eq!(run.status, Some(1), "init's failure status\n{text}");
}
