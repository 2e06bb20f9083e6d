//! Outside programs: a static C program built with `musl-gcc -static` runs unchanged as init
//! (`--add DIR --init /hello ARGS`), with its argv intact, the environment from the kernel
//! command line, malloc, fork/wait, pthreads, /proc/self/status and its exit status; and one
//! that fills memory through a tmpfs gets `ENOSPC` from a kernel that goes on.

mod common;

use common::boot_musl;

#[test]
fn musl_static_program_runs_as_init() {
    let run = boot_musl("hello", &["--append", "GREETING=hi"], &["a b", "c"], 300);
    let lines: Vec<&str> = run.lines().filter(|l| l.starts_with("hello: ")).collect();
    let expected = [
        "hello: argc=3",
        "hello: argv[0]=/hello",
        "hello: argv[1]=a b",
        "hello: argv[2]=c",
        "hello: GREETING=hi",
        "hello: malloc ok",
        "hello: child ppid=1",
        "hello: child exited 7",
        "hello: counter=2000",
        "hello: Pid:\t1",
        "hello: done",
    ];
    assert_eq!(lines, expected, "hello's output lines\n{}", run.describe());
    assert_eq!(
        run.status,
        Some(42),
        "hello exits 42, which the runner passes on\n{}",
        run.describe()
    );
}

/// Filling memory through a tmpfs without a size limit: `ENOSPC`, not a kernel panic, and
/// the machine works again once the file is gone (tmpfs pages are frames of their own).
#[test]
fn filling_memory_through_tmpfs_gives_enospc() {
    let run = boot_musl("fill", &[], &[], 300);
    let lines: Vec<&str> = run.lines().filter(|l| l.starts_with("fill: ")).collect();
    assert_eq!(lines.len(), 3, "fill's output lines\n{}", run.describe());
    assert!(
        lines[0].starts_with("fill: No space left on device after "),
        "{}\n{}",
        lines[0],
        run.describe()
    );
    assert_eq!(
        &lines[1..],
        ["fill: write after unlink 1", "fill: child exited 3"],
        "{}",
        run.describe()
    );
    assert_eq!(run.status, Some(0), "fill exits 0\n{}", run.describe());
}
