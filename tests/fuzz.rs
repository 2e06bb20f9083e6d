//! Random system calls (tests/c/fuzz.c, built with musl-gcc) from throwaway children with a
//! fixed seed: the kernel must not panic or hang, whatever the arguments; after the run and
//! its clean-up every live count the fuzzer reads (processes, containers of each type,
//! plimits groups, cgroup directories, mounts, free memory, kernel heap) is back to its value
//! at the start, and every system call the kernel implements succeeded at least once.

mod common;

use common::{boot_musl, run_musl_init};
use std::collections::{BTreeMap, BTreeSet};

/// Numbers of the system calls the kernel implements: the entries of every family's
/// `syscalls!` table in kernel/src/syscall/*.rs (at the indentation of its first entry).
fn implemented() -> BTreeSet<u32> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/kernel/src/syscall");
    let mut nums = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("kernel/src/syscall") {
        let src = std::fs::read_to_string(entry.expect("a directory entry").path())
            .expect("a source file");
        nums.extend(table_entries(&src));
    }
    nums
}

/// The numbers of the entries of the `syscalls!` table in `src`.
fn table_entries(src: &str) -> BTreeSet<u32> {
    let mut nums = BTreeSet::new();
    let Some(start) = src.find("\nsyscalls! {") else {
        return nums;
    };
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
    let mut indent = None;
    for line in body.lines() {
        let trimmed = line.trim_start();
        let Some((pattern, _)) = trimmed.split_once("=>") else {
            continue;
        };
        let pattern = pattern.split(" if ").next().unwrap_or("").trim();
        let numbers: Option<Vec<u32>> = pattern.split('|').map(|p| p.trim().parse().ok()).collect();
        let Some(numbers) = numbers else { continue };
        let here = line.len() - trimmed.len();
        if *indent.get_or_insert(here) == here {
            nums.extend(numbers);
        }
    }
    nums
}

/// What one seed showed.
struct Outcome {
    /// Implemented calls without a single success.
    never_succeeded: Vec<u32>,
    summary: String,
}

/// Runs the fuzzer with `seed` for `seconds`: its summary line, status 0 and every live count
/// back to its start, or what went wrong.
fn fuzz(seed: u64, seconds: u64) -> Result<Outcome, String> {
    let append = format!("FUZZ_SECONDS={seconds} FUZZ_SEED={seed}");
    let run = run_musl_init("fuzz", &append, seconds);
    // Children write junk to the console too, the fuzzer's own binary with its format
    // strings among it (seed 10): a line of the fuzzer's is the last with `what`, from the
    // last "fuzz: " in it.
    let last = |what: &str| -> String {
        run.lines()
            .filter(|l| l.contains(what))
            .last()
            .and_then(|l| l.rfind("fuzz: ").map(|i| l[i..].to_string()))
            .unwrap_or_default()
    };
    let summary = last(" rounds, about ");
    if !summary.contains("kernel alive") || run.status != Some(0) {
        return Err(format!(
            "seed {seed}: no summary line or status not 0\n{}",
            run.describe()
        ));
    }
    let (before, after) = common::live::counts_back(&run.stdout, "fuzz").map_err(|e| {
        let tail: Vec<&str> = run.lines().filter(|l| l.contains("fuzz: ")).collect();
        format!("seed {seed}: {e}\n{}", tail.join("\n"))
    })?;
    let calls = last("fuzz: calls (nr:ok/failed)");
    let succeeded: BTreeSet<u32> = calls
        .split_whitespace()
        .filter_map(|c| {
            let (nr, rest) = c.split_once(':')?;
            let (ok, _) = rest.split_once('/')?;
            (ok.parse::<u64>().ok()? > 0).then_some(nr.parse().ok()?)
        })
        .collect();
    let never_succeeded = implemented().difference(&succeeded).copied().collect();
    let counts = |m: &BTreeMap<String, i64>| format!("{m:?}");
    Ok(Outcome {
        never_succeeded,
        summary: format!(
            "{summary}\n  live before {}\n  live after  {}",
            counts(&before),
            counts(&after)
        ),
    })
}

#[test]
fn random_system_calls_never_stop_the_kernel() {
    let out = fuzz(9, 10).unwrap_or_else(|e| panic!("{e}"));
    // The coverage pass (tests/c/fuzz_cover.h) makes one valid call of each: a number added
    // to a family's `syscalls!` table wants a line there.
    assert_eq!(
        out.never_succeeded,
        Vec::<u32>::new(),
        "implemented system calls that never succeeded\n{}",
        out.summary
    );
}

/// Seeds 5, 7 and 8 never finished: a child set CLOCK_REALTIME back, so a `time(0)`
/// deadline never came (fuzz.c now times itself on CLOCK_MONOTONIC), and seed 7 meanwhile
/// doubled a mount tree with recursive binds until the kernel heap ran out ("memory
/// allocation of 144 bytes failed"; now `ENOSPC` at /proc/sys/fs/mount-max, see t_reliab).
#[test]
fn seed_7_clock_reset_and_mount_flood_finish() {
    fuzz(7, 10).unwrap_or_else(|e| panic!("{e}"));
}

/// Seed 14 hung in its clean-up: init's `kill(-1, SIGKILL)` skipped every PID container's
/// init, so one stayed alive with its zombies (tests/c/killall.c: from a container's init,
/// both the child and the nested container's init die of it).
#[test]
fn seed_14_kill_minus_one_reaches_container_inits() {
    let run = boot_musl("killall", &[], &[], 120);
    assert!(
        run.lines()
            .any(|l| l.ends_with("killall: kill(-1) 0, 2 of 2 killed"))
            && run.lines().any(|l| l.ends_with("killall: ok")),
        "both die of SIGKILL\n{}",
        run.describe()
    );
}

/// Seeds 21 and 37 each left a mount the clean-up could not take off (tests/c/mountseeds.c):
/// a mount over `/` (now reached through `/..`, as on Linux) and a mount on a directory
/// removed through another mount container while a later mount hid it (now detached with
/// it in every table).
#[test]
fn seed_21_and_37_mounts_over_the_root_and_on_removed_directories_come_off() {
    let run = boot_musl("mountseeds", &["--no-net"], &[], 120);
    for case in [
        "seed_21_a_mount_over_the_root_comes_off",
        "seed_37_a_hidden_directory_removed_elsewhere_takes_its_mount",
    ] {
        assert!(
            run.lines().any(|l| l == format!("PASS {case}")),
            "{case}\n{}",
            run.describe()
        );
    }
}

#[test]
fn table_entries_are_read_at_the_first_entry_indentation() {
    let src = "use x;\nsyscalls! {\n    frame, a;\n    0 => a(),\n    \
               5 | 6 => match x {\n        1 => b(),\n    },\n    7 => c(),\n}\n";
    assert_eq!(table_entries(src), [0, 5, 6, 7].into());
    assert!(implemented().is_superset(&[0, 39, 57, 435].into()));
}

/// The long mode: `BULKHEAD_FUZZ_SEEDS=1-50 BULKHEAD_FUZZ_SECONDS=30 cargo test --test fuzz
/// -- --ignored --nocapture` runs every seed of the range in turn, prints one line per seed
/// and fails at the end with the seeds that failed.
#[test]
#[ignore]
fn long_fuzz_seeds_from_the_environment() {
    let range = std::env::var("BULKHEAD_FUZZ_SEEDS").unwrap_or_else(|_| "1-50".into());
    let seconds = std::env::var("BULKHEAD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let (a, b) = range.split_once('-').unwrap_or((&range, &range));
    let (a, b): (u64, u64) = (
        a.parse().expect("first seed"),
        b.parse().expect("last seed"),
    );
    let mut failed = Vec::new();
    for seed in a..=b {
        match fuzz(seed, seconds) {
            Ok(out) => eprintln!(
                "seed {seed}: ok, never succeeded {:?}\n  {}",
                out.never_succeeded, out.summary
            ),
            Err(e) => {
                eprintln!("seed {seed}: FAILED\n{e}");
                failed.push(seed);
            }
        }
    }
    assert!(failed.is_empty(), "seeds that failed: {failed:?}");
}
