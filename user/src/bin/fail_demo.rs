//! A program that fails on purpose: the host test puts it in /tests to show that a failing
//! program makes init (and so the runner) report failure.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use ulib::{check_eq, test_main};

    /// Passes everywhere: the framework still prints PASS for good cases.
    fn arithmetic_still_works() {
        check_eq!(1 + 1, 2);
    }

    /// Fails on purpose.
    fn deliberately_fails() {
        check_eq!(1 + 1, 3, "this program is meant to fail");
    }

    test_main!(arithmetic_still_works, deliberately_fails);
}

#[cfg(not(target_os = "none"))]
fn main() {}
