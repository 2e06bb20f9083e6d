//! The dispatch table: one slot per Linux x86_64 system-call number, reached with one
//! bounds check and one indirect call; an empty slot is `ENOSYS`. Each family file
//! declares its calls with [`syscalls!`] (its `ENTRIES`), and [`REGISTERED`] lists the
//! families, one line each: adding a call touches only its family's file.

use super::Ret;
use super::{
    container, cred, fs, fsext, fsinfo, inotify, mm, mountapi, mqueue, net, openat2, poll, process,
    procext, ptimer, seccomp, sigext, signal, sys, sysv, time, xattr,
};
use crate::arch::x86_64::trap::TrapFrame;
use crate::errno::SysResult;

/// A handler. It reads its arguments from the frame and returns the value for `rax` in
/// one register (a `SysResult` is 16 bytes and would come back through memory).
pub type Handler = fn(&mut TrapFrame) -> u64;

/// A table entry: a Linux number and its handler.
pub type Entry = (usize, Handler);

/// Declares a family's table entries as `pub(super) const ENTRIES`, in the shape of a
/// `match` on the number:
///
/// ```ignore
/// syscalls! {
///     frame, a;
///     0 => read(fd(a[0]), a[1], a[2]),
///     74 | 75 => files().get(fd(a[0])).map(|_| 0),
/// }
/// ```
///
/// `a` names the six arguments (`rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`, Linux's order) and
/// `frame` the trap frame. A call gives a `SysResult`, or a [`Ret`] when it may rewrite
/// the whole frame (execve, rt_sigreturn). Every entry counts the read and write family
/// in `/proc/[pid]/io` (see [`finish`]).
macro_rules! syscalls {
    ($frame:ident, $a:ident; $( $($nr:literal)|+ => $body:expr ),+ $(,)?) => {
        /// This family's system calls by Linux number, for the dispatch table.
        pub(super) const ENTRIES: &[$crate::syscall::table::Entry] = &[
            $($(
                ($nr, |#[allow(unused_variables)] $frame: &mut $crate::arch::x86_64::trap::TrapFrame| -> u64 {
                    #[allow(unused_variables)]
                    let $a = $crate::syscall::table::args($frame);
                    let r = $body;
                    $crate::syscall::table::finish::<$nr>(r, $frame)
                }),
            )+)+
        ];
    };
}
pub(super) use syscalls;

/// The six arguments in Linux's order.
#[inline(always)]
pub fn args(f: &TrapFrame) -> [u64; 6] {
    [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9]
}

/// A file-descriptor argument: the low 32 bits, signed.
#[inline(always)]
pub fn fd(v: u64) -> i32 {
    v as u32 as i32
}

/// What a call gives back, as the value for `rax`.
pub trait Outcome {
    fn rax(self, frame: &TrapFrame) -> u64;
}

impl Outcome for SysResult {
    #[inline(always)]
    fn rax(self, _: &TrapFrame) -> u64 {
        ret(self)
    }
}

impl Outcome for Ret {
    #[inline(always)]
    fn rax(self, frame: &TrapFrame) -> u64 {
        match self {
            Ret::Value(r) => ret(r),
            // The handler rewrote the frame: `rax` is already the one to return.
            Ret::Frame => frame.rax,
        }
    }
}

/// The `rax` value of call `NR`'s result; a call of the read or write family is
/// counted in the caller's `/proc/[pid]/io` (the test folds away for every other call).
#[inline(always)]
pub fn finish<const NR: u64>(r: impl Outcome, frame: &TrapFrame) -> u64 {
    let rax = r.rax(frame);
    if crate::task::io::kind(NR).is_some() {
        crate::task::sched::with_current(|t| t.process().io.account(NR, rax));
    }
    rax
}

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

/// Every family's entries.
const REGISTERED: &[&[Entry]] = &[
    container::ENTRIES,
    cred::ENTRIES,
    fs::ENTRIES,
    fsext::ENTRIES,
    fsinfo::ENTRIES,
    inotify::ENTRIES,
    mm::ENTRIES,
    mountapi::ENTRIES,
    mqueue::ENTRIES,
    net::ENTRIES,
    openat2::ENTRIES,
    poll::ENTRIES,
    process::ENTRIES,
    procext::ENTRIES,
    ptimer::ENTRIES,
    seccomp::ENTRIES,
    sigext::ENTRIES,
    signal::ENTRIES,
    sys::ENTRIES,
    sysv::ENTRIES,
    time::ENTRIES,
    xattr::ENTRIES,
];

/// The table, built at compile time from [`REGISTERED`].
static TABLE: [Option<Handler>; SLOTS] = build(REGISTERED);

const fn build(families: &[&[Entry]]) -> [Option<Handler>; SLOTS] {
    let mut t: [Option<Handler>; SLOTS] = [None; SLOTS];
    let mut f = 0;
    while f < families.len() {
        let mut i = 0;
        while i < families[f].len() {
            let (n, h) = families[f][i];
            assert!(n < SLOTS && t[n].is_none(), "a number registered twice");
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
