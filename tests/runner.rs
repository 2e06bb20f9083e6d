//! The runner's own behaviour, without booting: `--help`, and the one-line errors (exit
//! status 2) for bad options, a missing `--add` directory, an `--init` program that is not in
//! the initramfs and a missing QEMU.

mod common;

use common::{Run, bulkhead, bulkhead_with};
use std::process::Command;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(60);

/// Checks exit status 2 and exactly one stderr line `bulkhead: ...` containing `expected`.
fn assert_runner_error(run: &Run, expected: &str) {
    assert_eq!(
        run.status,
        Some(2),
        "exit status should be 2\n{}",
        run.describe()
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stderr should be one line\n{}",
        run.describe()
    );
    assert!(
        lines[0].starts_with("bulkhead: ") && lines[0].contains(expected),
        "stderr line {:?} should start with `bulkhead: ` and contain {expected:?}",
        lines[0]
    );
}

#[test]
fn help_exits_zero_and_lists_every_option() {
    let run = bulkhead(&["--help"], BOUND);
    assert_eq!(run.status, Some(0), "{}", run.describe());
    for option in [
        "--add DIR",
        "--init PATH [ARGS...]",
        "--append ARGS",
        "--timeout SECS",
        "--icount",
        "--memory MiB",
        "--kvm",
        "--gdb",
        "--no-net",
        "--help",
    ] {
        assert!(
            run.stdout.contains(option),
            "--help should list {option:?}\n{}",
            run.describe()
        );
    }
}

#[test]
fn unknown_option_is_one_line_and_exit_2() {
    assert_runner_error(
        &bulkhead(&["--frobnicate"], BOUND),
        "unknown option --frobnicate",
    );
}

#[test]
fn option_without_value_is_one_line_and_exit_2() {
    assert_runner_error(&bulkhead(&["--timeout"], BOUND), "--timeout needs a value");
}

#[test]
fn missing_add_dir_is_one_line_and_exit_2() {
    assert_runner_error(
        &bulkhead(&["--add", "/nonexistent/bulkhead-dir"], BOUND),
        "/nonexistent/bulkhead-dir",
    );
}

#[test]
fn init_not_in_initramfs_is_one_line_and_exit_2() {
    assert_runner_error(
        &bulkhead(&["--init", "/no-such-program"], BOUND),
        "--init /no-such-program",
    );
}

#[test]
fn missing_qemu_is_one_line_and_exit_2() {
    let run = bulkhead_with(
        Command::new(env!("CARGO_BIN_EXE_bulkhead")).env("PATH", "/nonexistent"),
        BOUND,
    );
    assert_runner_error(&run, "qemu-system-x86_64 not found");
}

/// `test_panic=1` panics on purpose: the runner prints the backtrace symbolized with the
/// kernel ELF, naming the function that panicked.
#[test]
fn a_panic_backtrace_is_symbolized() {
    let run = bulkhead(
        &["--timeout", "60", "--append", "test_panic=1"],
        Duration::from_secs(120),
    );
    assert_eq!(run.status, Some(127), "a kernel panic\n{}", run.describe());
    let text = run.describe();
    assert!(
        text.contains("bulkhead: backtrace (symbolized with"),
        "the runner symbolized a backtrace\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("kernel::boot::deliberate_panic at ") && l.contains("boot.rs:")),
        "the backtrace names the function and its line\n{text}"
    );
}

/// `test_hang=1` keeps the CPU in the kernel with interrupts off for 13 s: the watchdog's
/// NMI reports it with a backtrace the runner symbolizes, and the boot goes on.
#[test]
fn a_kernel_loop_is_reported_by_the_watchdog() {
    let run = bulkhead(
        &[
            "--timeout",
            "120",
            "--append",
            "test_hang=1",
            "--init",
            "/init",
            "t_reliab",
        ],
        Duration::from_secs(180),
    );
    let text = run.describe();
    assert!(
        text.contains("WATCHDOG: CPU 0 stuck in the kernel for 10 s"),
        "the watchdog's report\n{text}"
    );
    assert!(
        text.contains("kernel::boot::deliberate_hang at "),
        "the symbolized backtrace names the looping function\n{text}"
    );
    assert_eq!(run.status, Some(0), "the boot went on\n{}", text);
}

/// QEMU refusing to start (here `-m 64`: the initramfs does not fit below the memory's end)
/// exits 1 like an init that exited 0; the runner reports QEMU's own line and exits 2.
#[test]
fn qemu_refusing_to_start_is_a_runner_error() {
    let run = bulkhead(&["--memory", "64", "--timeout", "60"], BOUND);
    assert_eq!(
        run.status,
        Some(2),
        "QEMU's failure is the runner's error, not init's success\n{}",
        run.describe()
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("bulkhead: QEMU failed: qemu") && last.contains("initrd is too large"),
        "the last stderr line {last:?} should carry QEMU's message\n{}",
        run.describe()
    );
}
