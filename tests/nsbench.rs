//! The project's benchmark `tests/c/nsbench.c` (a copy of the shared one, plus
//! `getpid_seccomp10`) builds with `musl-gcc -static` and its first cases run to completion
//! under `--icount`. The
//! container cases after them may print FAIL until the containers exist; nsbench goes on and
//! powers off at the end.

mod common;

use common::{Run, boot_musl};

/// The `name ns_per_op iterations` line of case `name` → (ns_per_op, iterations).
fn case(run: &Run, name: &str) -> Option<(u64, u64)> {
    run.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next() != Some(name) {
            return None;
        }
        let ns = words.next()?.parse().ok()?;
        let iterations = words.next()?.parse().ok()?;
        Some((ns, iterations))
    })
}

#[test]
fn nsbench_first_cases_complete() {
    let run = boot_musl(
        "nsbench",
        &["--icount", "--append", "NSBENCH_SCALE=0.01"],
        &[],
        300,
    );
    for name in [
        "getpid",
        "getpid_seccomp10",
        "clock_gettime",
        "fork_exit_wait",
    ] {
        let result = case(&run, name);
        assert!(
            result.is_some_and(|(_, iterations)| iterations > 0),
            "case {name} should print `{name} NS ITERATIONS`, got {result:?}\n{}",
            run.describe()
        );
    }
    assert!(
        run.lines().any(|l| l == "NSBENCH_DONE"),
        "nsbench should reach its end\n{}",
        run.describe()
    );
    assert_eq!(
        run.status,
        Some(0),
        "nsbench powers off with reboot(), exit status 0\n{}",
        run.describe()
    );
}
