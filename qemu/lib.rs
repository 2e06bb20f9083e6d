//! Bulkhead's host runner: parses the command line, packs the initramfs (cpio newc) and boots the
//! kernel in QEMU, turning QEMU's exit status into init's verdict.
//!
//! `main.rs` is a thin wrapper around this library; the integration tests under `tests/` drive the
//! real binary and use [`USER_BIN_DIR`] to find the user programs.

mod bench;
mod initramfs;
mod options;
mod run;
mod symbolize;

pub use bench::bench;
pub use initramfs::{Initramfs, Node, build_initramfs};
pub use options::{Command, Options, USAGE, parse_args};
pub use run::{Outcome, Verdict, qemu_command, run};
pub use symbolize::{backtrace_addresses, symbolize};

/// The kernel ELF built by `qemu/build.rs`.
pub const KERNEL_ELF: &str = env!("KERNEL_ELF");

/// The directory holding the user binaries (`init`, `t_*`, `fail_demo`, ...) built by `qemu/build.rs`.
pub const USER_BIN_DIR: &str = env!("USER_BIN_DIR");

/// A runner error: printed as one line `bulkhead: MESSAGE`, exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Exit status of the runner for its own errors (bad option, QEMU missing, ...).
pub const EXIT_RUNNER_ERROR: u8 = 2;
