//! An outside program: a static C program built with `musl-gcc -static` runs unchanged as init
//! (`--add DIR --init /hello ARGS`), with its argv intact, the environment from the kernel
//! command line, malloc, fork/wait, pthreads, /proc/self/status and its exit status.

mod common;

use common::{TempDir, bulkhead, musl_build};
use std::time::Duration;

#[test]
fn musl_static_program_runs_as_init() {
    let dir = TempDir::new("musl-hello");
    musl_build("hello.c", &dir.0, "hello");

    let args = [
        "--timeout",
        "300",
        "--add",
        dir.path(),
        "--init",
        "/hello",
        "a b",
        "c",
        "--append",
        "GREETING=hi",
    ];
    let run = bulkhead(&args, Duration::from_secs(360));
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
