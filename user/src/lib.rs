//! `ulib`: the ring-3 runtime for Bulkhead's user programs.
//!
//! The programs are static, non-PIE Linux x86_64 executables: they speak only the Linux system
//! call ABI, so the same binary runs under Bulkhead and directly on a Linux host (the host is the
//! oracle for the tests). Everything here is `no_std` and only exists for the
//! `x86_64-unknown-none` target; on the host the crate is empty so `cargo build --workspace` works.
//!
//! - [`entry!`] defines `_start` and calls `fn main(Args) -> i32` (argc/argv/envp from the stack).
//! - [`sys`]: raw `syscall0..6`, Linux numbers, errno values and typed wrappers (`Result<usize, i32>`).
//! - [`print!`]/[`println!`]/[`eprintln!`] on fds 1 and 2, without allocating.
//! - A small mmap-backed global allocator, so programs may use `Vec`, `String`, `format!`.
//! - [`test`]: `check!`, `check_eq!`, named cases, `PASS`/`FAIL` lines and the exit status.
//! - [`thread`]: threads made with `clone` and joined through the `CLONE_CHILD_CLEARTID` futex.
#![cfg_attr(target_os = "none", no_std)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
pub mod container;
#[cfg(target_os = "none")]
pub mod cred;
#[cfg(target_os = "none")]
mod heap;
#[cfg(target_os = "none")]
pub mod io;
#[cfg(target_os = "none")]
pub mod kmem;
#[cfg(target_os = "none")]
pub mod mnt;
#[cfg(target_os = "none")]
pub mod mountapi;
#[cfg(target_os = "none")]
pub mod mq;
#[cfg(target_os = "none")]
pub mod net;
#[cfg(target_os = "none")]
pub mod rt;
#[cfg(target_os = "none")]
pub mod sched;
#[cfg(target_os = "none")]
pub mod seccomp;
#[cfg(target_os = "none")]
pub mod signal;
#[cfg(target_os = "none")]
pub mod sys;
#[cfg(target_os = "none")]
pub mod sysv;
#[cfg(target_os = "none")]
pub mod test;
#[cfg(target_os = "none")]
pub mod thread;
#[cfg(target_os = "none")]
pub mod timens;

#[cfg(target_os = "none")]
pub use rt::Args;
