//! The in-guest test framework.
//!
//! A test program is a list of named cases (plain `fn()`), run in order in one process by
//! [`run`]. `check!`/`check_eq!`/`check_ne!` report `file:line` and the values compared, record
//! the failure and go on; `check_ok!` also returns from the case when a call fails. After each
//! case one line `PASS name` or `FAIL name` is printed; [`finish`] exits 0 if every case passed,
//! else 1. Work done in a forked child ([`fork_run`]) reports through the child's exit status.

use crate::{println, sys};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One named test case.
pub struct Case {
    pub name: &'static str,
    pub run: fn(),
}

static CASE_FAILURES: AtomicUsize = AtomicUsize::new(0);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);
static CURRENT_PTR: AtomicUsize = AtomicUsize::new(0);
static CURRENT_LEN: AtomicUsize = AtomicUsize::new(0);
/// Set in children made by [`fork_run`]: they report through their exit status, not lines.
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// The list of cases for [`run`]: `cases![fork_returns_child_pid, wait4_reports_exit_code]`.
#[macro_export]
macro_rules! cases {
    ($($case:path),* $(,)?) => {
        &[$($crate::test::Case { name: stringify!($case), run: $case }),*]
    };
}

/// Defines `_start` and a `main` that runs the given cases and exits with the verdict.
#[macro_export]
macro_rules! test_main {
    ($($case:path),* $(,)?) => {
        fn __ulib_test_main(_args: $crate::Args) -> i32 {
            $crate::test::run($crate::cases![$($case),*])
        }
        $crate::entry!(__ulib_test_main);
    };
}

/// Checks a condition; on failure reports it and goes on.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::test::fail(file!(), line!(), format_args!("check failed: {}", stringify!($cond)));
        }
    };
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::test::fail(
                file!(),
                line!(),
                format_args!("check failed: {}: {}", stringify!($cond), format_args!($($msg)+)),
            );
        }
    };
}

/// Checks `a == b`; on failure reports both values (Debug) and goes on.
#[macro_export]
macro_rules! check_eq {
    ($a:expr, $b:expr $(,)?) => {
        match (&$a, &$b) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::test::fail(
                        file!(),
                        line!(),
                        format_args!(
                            "check_eq failed: {} == {}\n    left: {:?}\n   right: {:?}",
                            stringify!($a),
                            stringify!($b),
                            left,
                            right
                        ),
                    );
                }
            }
        }
    };
    ($a:expr, $b:expr, $($msg:tt)+) => {
        match (&$a, &$b) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::test::fail(
                        file!(),
                        line!(),
                        format_args!(
                            "check_eq failed: {} == {}: {}\n    left: {:?}\n   right: {:?}",
                            stringify!($a),
                            stringify!($b),
                            format_args!($($msg)+),
                            left,
                            right
                        ),
                    );
                }
            }
        }
    };
}

/// Checks `a != b`; on failure reports the value and goes on.
#[macro_export]
macro_rules! check_ne {
    ($a:expr, $b:expr $(,)?) => {
        match (&$a, &$b) {
            (left, right) => {
                if *left == *right {
                    $crate::test::fail(
                        file!(),
                        line!(),
                        format_args!(
                            "check_ne failed: {} != {}\n    both: {:?}",
                            stringify!($a),
                            stringify!($b),
                            left
                        ),
                    );
                }
            }
        }
    };
}

/// Unwraps a `Result`; on `Err` reports it and returns from the enclosing function (the case).
#[macro_export]
macro_rules! check_ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => {
                $crate::test::fail(
                    file!(),
                    line!(),
                    format_args!("check_ok failed: {}\n    error: {:?}", stringify!($e), err),
                );
                return;
            }
        }
    };
}

/// Records a failed check in the current case and prints where and why.
pub fn fail(file: &str, line: u32, what: core::fmt::Arguments) {
    CASE_FAILURES.fetch_add(1, Ordering::Relaxed);
    let pid = sys::getpid();
    if IN_CHILD.load(Ordering::Relaxed) {
        println!("  {}:{}: (child {}) {}", file, line, pid, what);
    } else {
        println!("  {}:{}: {}", file, line, what);
    }
}

/// Whether a check failed in the current case (in this process).
pub fn case_failed() -> bool {
    CASE_FAILURES.load(Ordering::Relaxed) != 0
}

fn set_current(name: &'static str) {
    CURRENT_PTR.store(name.as_ptr() as usize, Ordering::Relaxed);
    CURRENT_LEN.store(name.len(), Ordering::Relaxed);
}

fn current() -> Option<&'static str> {
    let ptr = CURRENT_PTR.load(Ordering::Relaxed);
    if ptr == 0 {
        return None;
    }
    // SAFETY: set only by `set_current` from a `&'static str`.
    let bytes = unsafe {
        core::slice::from_raw_parts(ptr as *const u8, CURRENT_LEN.load(Ordering::Relaxed))
    };
    core::str::from_utf8(bytes).ok()
}

/// Called by the panic handler: the case that panicked failed (the program then exits 101).
pub fn report_panic() {
    if IN_CHILD.load(Ordering::Relaxed) {
        return;
    }
    if let Some(name) = current() {
        println!("FAIL {} (panicked)", name);
    }
}

/// Runs the cases named on the command line (all when none is named), printing `PASS`/`FAIL`
/// per case, then [`finish`]es.
pub fn run(cases: &[Case]) -> ! {
    let args = crate::Args::get();
    let chosen = |name: &str| {
        args.argc() <= 1 || (1..args.argc()).any(|i| args.arg(i) == Some(name.as_bytes()))
    };
    for case in cases.iter().filter(|c| chosen(c.name)) {
        set_current(case.name);
        CASE_FAILURES.store(0, Ordering::Relaxed);
        (case.run)();
        if case_failed() {
            FAILED.fetch_add(1, Ordering::Relaxed);
            println!("FAIL {}", case.name);
        } else {
            PASSED.fetch_add(1, Ordering::Relaxed);
            println!("PASS {}", case.name);
        }
    }
    finish()
}

/// Exits 0 if every case passed, else 1.
pub fn finish() -> ! {
    let failed = FAILED.load(Ordering::Relaxed);
    sys::exit(if failed == 0 { 0 } else { 1 })
}

/// Forks a child that runs `f` and exits 0 if none of its checks failed, else 1. Returns the
/// child's pid (the parent should check the status with [`wait_exit`]).
pub fn fork_run(f: impl FnOnce()) -> i32 {
    match sys::fork() {
        Ok(0) => {
            IN_CHILD.store(true, Ordering::Relaxed);
            CASE_FAILURES.store(0, Ordering::Relaxed);
            f();
            sys::exit(if case_failed() { 1 } else { 0 })
        }
        Ok(pid) => pid,
        Err(e) => panic!("fork failed: errno {}", e),
    }
}

/// What happened to a waited-for child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// `wait4` failed (errno) or the status was neither.
    Other(i32),
}

impl Exit {
    pub fn from_status(status: i32) -> Exit {
        if sys::wifexited(status) {
            Exit::Code(sys::wexitstatus(status))
        } else if sys::wifsignaled(status) {
            Exit::Signal(sys::wtermsig(status))
        } else {
            Exit::Other(status)
        }
    }
}

/// Waits for `pid` and says how it ended.
pub fn wait_exit(pid: i32) -> Exit {
    match sys::waitpid(pid) {
        Ok(status) => Exit::from_status(status),
        Err(e) => Exit::Other(-e),
    }
}

/// Whether Bulkhead's init runs the program as PID 1 (it sets `BULKHEAD_INIT=1`): orphans then go
/// to PID 1, which a Linux host (subreapers) does not guarantee.
pub fn under_pid1_init() -> bool {
    crate::Args::get().getenv("BULKHEAD_INIT") == Some("1")
}

/// Whether the kernel is Bulkhead (its `uname` release ends in `-bulkhead`): for the few
/// checks where Bulkhead promises more than Linux in general (e.g. exactly one CPU).
pub fn on_bulkhead() -> bool {
    sys::uname().is_ok_and(|u| u.release.windows(8).any(|w| w == b"bulkhead"))
}
