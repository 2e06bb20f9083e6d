//! The direct dispatch table: one slot per Linux x86_64 system-call number. A number
//! whose handler is registered here is reached with one bounds check and one indirect
//! call; every other number still goes to its family's `dispatch` (see `mod.rs`).
//! Families register by listing `(number, handler)` pairs in [`REGISTERED`].

use super::{container, fs, process};
use crate::arch::x86_64::trap::TrapFrame;
use crate::errno::SysResult;

/// A registered handler. It reads its arguments from the frame (`rdi`, `rsi`, `rdx`,
/// `r10`, `r8`, `r9`, in Linux's order) and returns the value for `rax` in one register
/// (a `SysResult` is 16 bytes and would come back through memory: [`ret`] converts).
/// A handler that rewrites the whole frame (as execve does) returns `frame.rax`.
pub type Handler = fn(&mut TrapFrame) -> u64;

/// The `rax` value of a result: the number, or the negated errno.
#[inline(always)]
pub fn ret(r: SysResult) -> u64 {
    match r {
        Ok(v) => v as u64,
        Err(e) => e.as_ret() as u64,
    }
}

/// Slots in the table (Linux numbers are below this).
pub const SLOTS: usize = 512;

/// Linux x86_64 numbers of the calls registered so far.
pub mod nr {
    pub const OPEN: usize = 2;
    pub const CLOSE: usize = 3;
    pub const GETPID: usize = 39;
    pub const READLINK: usize = 89;
    pub const GETPPID: usize = 110;
    pub const GETTID: usize = 186;
    pub const OPENAT: usize = 257;
    pub const READLINKAT: usize = 267;
    pub const SETNS: usize = 308;
}

/// Every registered `(number, handler)` pair, family by family.
const REGISTERED: &[&[(usize, Handler)]] = &[process::HANDLERS, fs::HANDLERS, container::HANDLERS];

/// The table, built at compile time from [`REGISTERED`].
static TABLE: [Option<Handler>; SLOTS] = build(REGISTERED);

const fn build(families: &[&[(usize, Handler)]]) -> [Option<Handler>; SLOTS] {
    let mut t: [Option<Handler>; SLOTS] = [None; SLOTS];
    let mut f = 0;
    while f < families.len() {
        let mut i = 0;
        while i < families[f].len() {
            let (n, h) = families[f][i];
            assert!(n < SLOTS && t[n].is_none(), "a number registered twice");
            // `/proc/[pid]/io` counts the read and write family on the family path only
            // (`syscall_handler`), keeping the table's calls free of it.
            assert!(
                crate::task::io::kind(n as u64).is_none(),
                "a read or write call registered: count it in /proc/[pid]/io"
            );
            t[n] = Some(h);
            i += 1;
        }
        f += 1;
    }
    t
}

/// The handler registered for `nr`, if any.
#[inline(always)]
pub fn lookup(nr: usize) -> Option<Handler> {
    TABLE.get(nr).copied().flatten()
}
