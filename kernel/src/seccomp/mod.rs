//! seccomp (seccomp(2)): a thread's mode and its stack of classic-BPF filters, the
//! actions a filter returns and how stacked results combine. Pure logic, host-tested;
//! the system calls and the syscall-entry hook are in `syscall/seccomp.rs`.
#![deny(unsafe_code)]

pub mod bpf;

use crate::errno::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use spin::Mutex;

/// `AUDIT_ARCH_X86_64`: `seccomp_data.arch` of every system call here.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// `SECCOMP_MODE_*`, as `PR_GET_SECCOMP` and `/proc/[pid]/status` show them.
pub const MODE_DISABLED: u8 = 0;
pub const MODE_STRICT: u8 = 1;
pub const MODE_FILTER: u8 = 2;

/// `SECCOMP_RET_*`: the action in the high 16 bits, its data in the low 16.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ACTION_FULL: u32 = 0xffff_0000;
const RET_DATA: u32 = 0x0000_ffff;

/// Linux's `MAX_INSNS_PER_PATH`: the instructions of all filters a system call runs
/// through, each filter counting 4 more, may not exceed this (`ENOMEM`). Linux counts
/// them after converting to eBPF ([`bpf::converted_len`]), and so does this kernel.
pub const MAX_INSNS_PER_PATH: usize = 32768;
const PER_FILTER_PENALTY: usize = 4;

/// `MAX_ERRNO`: an `ERRNO` action's data is capped there.
const MAX_ERRNO: u16 = 4095;

/// What happens to one system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    KillProcess,
    KillThread,
    /// `SIGSYS`, its `si_errno` the data.
    Trap(u16),
    /// The call fails with this errno (0: returns 0) without running.
    Errno(u16),
    /// No tracer can be attached: the call fails with `ENOSYS` (Linux without a tracer).
    Trace,
    /// No listener can exist yet (`NEW_LISTENER` is refused): `ENOSYS`, as Linux without one.
    UserNotif,
    Log,
    Allow,
}

impl Action {
    /// The action of a filter's return value; an unknown one kills the process (Linux).
    pub fn of(ret: u32) -> Action {
        let data = (ret & RET_DATA) as u16;
        match ret & RET_ACTION_FULL {
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap(data),
            RET_ERRNO => Action::Errno(data.min(MAX_ERRNO)),
            RET_USER_NOTIF => Action::UserNotif,
            RET_TRACE => Action::Trace,
            RET_LOG => Action::Log,
            RET_ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }
}

/// `SECCOMP_GET_ACTION_AVAIL`: whether `action` (without data) is one this kernel knows.
pub fn action_available(action: u32) -> bool {
    matches!(
        action,
        RET_KILL_PROCESS | RET_KILL_THREAD | RET_TRAP | RET_ERRNO | RET_TRACE | RET_LOG | RET_ALLOW
    )
}

/// Linux compares actions as signed numbers of their high 16 bits: the lowest wins.
fn strictness(ret: u32) -> i32 {
    (ret & RET_ACTION_FULL) as i32
}

/// One installed filter and, through `prev`, those installed before it. Shared by every
/// thread that has it on its stack (fork, clone and TSYNC share, never copy).
pub struct Filter {
    prog: Vec<bpf::Insn>,
    /// `SECCOMP_FILTER_FLAG_LOG`: actions other than `ALLOW` are logged.
    pub log: bool,
    prev: Option<Arc<Filter>>,
    /// Instructions on the path through this filter and those below, with penalties.
    path_insns: usize,
    /// Filters on the stack, this one included (`Seccomp_filters:`).
    depth: u32,
}

impl Filter {
    /// Checks `prog` and puts it on top of `prev`: `EINVAL` for a bad program, `ENOMEM`
    /// past [`MAX_INSNS_PER_PATH`].
    pub fn new(
        prog: Vec<bpf::Insn>,
        log: bool,
        prev: Option<Arc<Filter>>,
    ) -> Result<Arc<Filter>, Errno> {
        bpf::check(&prog)?;
        let below = prev.as_ref().map_or(0, |p| p.path_insns);
        let len = bpf::converted_len(&prog);
        if len + below > MAX_INSNS_PER_PATH {
            return Err(Errno::ENOMEM);
        }
        let depth = prev.as_ref().map_or(0, |p| p.depth) + 1;
        Ok(Arc::new(Filter {
            path_insns: below + len + PER_FILTER_PENALTY,
            prog,
            log,
            prev,
            depth,
        }))
    }

    /// Runs every filter of the stack, newest first; the strictest result wins, the
    /// newest among equals (Linux's `seccomp_run_filters`). Returns the result and
    /// whether the filter that gave it asked for logging.
    pub fn run(&self, d: &bpf::Data) -> (u32, bool) {
        let mut best = (RET_ALLOW, false);
        let mut f = Some(self);
        while let Some(cur) = f {
            let r = bpf::run(&cur.prog, d);
            if strictness(r) < strictness(best.0) {
                best = (r, cur.log);
            }
            f = cur.prev.as_deref();
        }
        best
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Whether `older` is this stack or one of its earlier states (TSYNC's rule: a
    /// thread may be synchronised only if its filters are an ancestor of the caller's).
    pub fn descends_from(self: &Arc<Self>, older: Option<&Arc<Filter>>) -> bool {
        let Some(older) = older else {
            return true;
        };
        let mut f = Some(self);
        while let Some(cur) = f {
            if Arc::ptr_eq(cur, older) {
                return true;
            }
            f = cur.prev.as_ref();
        }
        false
    }
}

impl Drop for Filter {
    /// Frees a long stack iteratively: thousands of nested drops would overflow the
    /// kernel stack.
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(f) = next {
            next = match Arc::try_unwrap(f) {
                Ok(mut inner) => inner.prev.take(),
                Err(_) => None,
            };
        }
    }
}

/// Threads that have a mode (any, on any CPU): while there are none, the syscall entry
/// pays this one load and nothing else.
static THREADS_WITH_MODE: AtomicUsize = AtomicUsize::new(0);

/// Whether any thread has a seccomp mode.
#[inline]
pub fn any_active() -> bool {
    THREADS_WITH_MODE.load(Ordering::Acquire) != 0
}

/// A thread's seccomp state. The mode is an atomic read without a lock at every system
/// call; the filter stack has its own lock (TSYNC writes other threads' stacks).
pub struct ThreadSeccomp {
    mode: AtomicU8,
    filter: Mutex<Option<Arc<Filter>>>,
}

impl Default for ThreadSeccomp {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadSeccomp {
    pub const fn new() -> Self {
        ThreadSeccomp {
            mode: AtomicU8::new(MODE_DISABLED),
            filter: Mutex::new(None),
        }
    }

    #[inline]
    pub fn mode(&self) -> u8 {
        self.mode.load(Ordering::Acquire)
    }

    pub fn filter(&self) -> Option<Arc<Filter>> {
        self.filter.lock().clone()
    }

    /// Filters on the stack.
    pub fn depth(&self) -> u32 {
        self.filter.lock().as_ref().map_or(0, |f| f.depth())
    }

    /// A new thread or process starts with its creator's mode and (shared) filters.
    pub fn inherit(&self, from: &ThreadSeccomp) {
        let f = from.filter();
        let mode = from.mode();
        *self.filter.lock() = f;
        self.set_mode(mode);
    }

    /// Modes only go up from disabled (never back): counts the thread on its first.
    fn set_mode(&self, mode: u8) {
        if mode != MODE_DISABLED && self.mode.swap(mode, Ordering::AcqRel) == MODE_DISABLED {
            THREADS_WITH_MODE.fetch_add(1, Ordering::Release);
        }
    }

    /// Linux's `seccomp_may_assign_mode`: a mode, once set, never changes.
    pub fn may_enter(&self, mode: u8) -> Result<(), Errno> {
        let cur = self.mode();
        if cur != MODE_DISABLED && cur != mode {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    pub fn set_strict(&self) -> Result<(), Errno> {
        self.may_enter(MODE_STRICT)?;
        self.set_mode(MODE_STRICT);
        Ok(())
    }

    /// Replaces the stack by `f` (which has the old stack below it) in filter mode.
    pub fn install(&self, f: Arc<Filter>) {
        *self.filter.lock() = Some(f);
        self.set_mode(MODE_FILTER);
    }
}

impl Drop for ThreadSeccomp {
    fn drop(&mut self) {
        if self.mode() != MODE_DISABLED {
            THREADS_WITH_MODE.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Strict mode's system calls: `read`, `write`, `exit`, `rt_sigreturn`.
pub fn strict_allows(nr: u64) -> bool {
    matches!(nr, 0 | 1 | 60 | 15)
}

#[cfg(test)]
mod tests {
    use super::bpf::*;
    use super::*;

    fn ret(v: u32) -> Vec<Insn> {
        alloc::vec![stmt(RET | K, v)]
    }

    /// Returns `hit` for system call `nr`, `ALLOW` for the rest.
    fn on_nr(nr: u32, hit: u32) -> Vec<Insn> {
        alloc::vec![
            stmt(LD | W | ABS, 0),
            jump(JMP | JEQ | K, nr, 0, 1),
            stmt(RET | K, hit),
            stmt(RET | K, RET_ALLOW),
        ]
    }

    fn data(nr: i32) -> Data {
        Data {
            nr,
            arch: AUDIT_ARCH_X86_64,
            ..Data::default()
        }
    }

    #[test]
    fn actions_decode_with_their_data() {
        assert_eq!(Action::of(RET_ERRNO | 13), Action::Errno(13));
        assert_eq!(Action::of(RET_ERRNO | 0xffff), Action::Errno(4095));
        assert_eq!(Action::of(RET_TRAP | 7), Action::Trap(7));
        assert_eq!(Action::of(RET_KILL_THREAD | 5), Action::KillThread);
        assert_eq!(Action::of(RET_KILL_PROCESS), Action::KillProcess);
        assert_eq!(Action::of(RET_ALLOW | 1), Action::Allow);
        assert_eq!(Action::of(RET_LOG), Action::Log);
        assert_eq!(Action::of(RET_TRACE | 3), Action::Trace);
        assert_eq!(Action::of(RET_USER_NOTIF), Action::UserNotif);
        // Unknown actions kill the process.
        assert_eq!(Action::of(0x0001_0000), Action::KillProcess);
        assert_eq!(Action::of(0x7fff_fff0 & 0x1234_0000), Action::KillProcess);
    }

    #[test]
    fn actions_available() {
        for a in [
            RET_KILL_PROCESS,
            RET_KILL_THREAD,
            RET_TRAP,
            RET_ERRNO,
            RET_TRACE,
            RET_LOG,
            RET_ALLOW,
        ] {
            assert!(action_available(a), "{a:#x}");
        }
        assert!(!action_available(RET_USER_NOTIF));
        assert!(!action_available(RET_ERRNO | 1));
        assert!(!action_available(0x0001_0000));
    }

    #[test]
    fn stacked_filters_all_run_and_the_strictest_wins() {
        let a = Filter::new(on_nr(39, RET_ERRNO | 1), false, None).unwrap();
        let b = Filter::new(on_nr(39, RET_TRAP | 2), true, Some(a.clone())).unwrap();
        let c = Filter::new(on_nr(39, RET_LOG), false, Some(b.clone())).unwrap();
        assert_eq!(c.run(&data(39)), (RET_TRAP | 2, true));
        assert_eq!(c.run(&data(1)), (RET_ALLOW, false));
        let d = Filter::new(on_nr(39, RET_KILL_PROCESS), false, Some(c.clone())).unwrap();
        assert_eq!(d.run(&data(39)).0, RET_KILL_PROCESS);
        assert_eq!(d.depth(), 4);
        // Equal actions: the newest filter's data.
        let e = Filter::new(on_nr(1, RET_ERRNO | 5), false, None).unwrap();
        let f = Filter::new(on_nr(1, RET_ERRNO | 6), false, Some(e)).unwrap();
        assert_eq!(f.run(&data(1)).0, RET_ERRNO | 6);
        // KILL_THREAD (0) is stricter than TRAP, looser than KILL_PROCESS.
        let g = Filter::new(on_nr(1, RET_KILL_THREAD), false, Some(f)).unwrap();
        assert_eq!(g.run(&data(1)).0, RET_KILL_THREAD);
    }

    #[test]
    fn the_path_length_is_bounded() {
        // As measured on Linux 6.1: a 4096-instruction RET K program converts to 8195
        // instructions, + 4: three fit (24,597 of 32,768), a fourth does not.
        let big = || alloc::vec![stmt(RET | K, RET_ALLOW); 4096];
        let mut top: Option<Arc<Filter>> = None;
        for _ in 0..3 {
            top = Some(Filter::new(big(), false, top).unwrap());
        }
        assert!(matches!(
            Filter::new(big(), false, top.clone()),
            Err(Errno::ENOMEM)
        ));
        // 4069 instructions (8141 converted) fit, and then a one-instruction filter.
        let top = Filter::new(alloc::vec![stmt(RET | K, 0); 4069], false, top).unwrap();
        assert!(
            Filter::new(
                alloc::vec![stmt(RET | K, 0); 4068],
                false,
                Some(top.clone())
            )
            .is_err()
        );
        assert!(Filter::new(ret(RET_ALLOW), false, Some(top)).is_ok());
    }

    #[test]
    fn thousands_of_one_instruction_filters_free_without_recursion() {
        let mut top: Option<Arc<Filter>> = None;
        let mut n = 0;
        while let Ok(f) = Filter::new(ret(RET_ALLOW), false, top.clone()) {
            top = Some(f);
            n += 1;
        }
        // 5 converted instructions + 4 each below the new one's 5.
        assert_eq!(n, (MAX_INSNS_PER_PATH - 5) / 9 + 1);
        assert_eq!(top.as_ref().unwrap().depth(), n as u32);
        drop(top);
    }

    #[test]
    fn bad_programs_are_refused() {
        assert!(matches!(
            Filter::new(Vec::new(), false, None),
            Err(Errno::EINVAL)
        ));
        assert!(matches!(
            Filter::new(
                alloc::vec![stmt(LD | W | ABS, 64), stmt(RET | A, 0)],
                false,
                None
            ),
            Err(Errno::EINVAL)
        ));
    }

    #[test]
    fn descent_for_tsync() {
        let a = Filter::new(ret(RET_ALLOW), false, None).unwrap();
        let b = Filter::new(ret(RET_ALLOW), false, Some(a.clone())).unwrap();
        let other = Filter::new(ret(RET_ALLOW), false, None).unwrap();
        assert!(b.descends_from(None));
        assert!(b.descends_from(Some(&a)));
        assert!(b.descends_from(Some(&b)));
        assert!(!b.descends_from(Some(&other)));
        assert!(!a.descends_from(Some(&b)));
    }

    #[test]
    fn modes_never_change_once_set() {
        let s = ThreadSeccomp::new();
        assert_eq!(s.mode(), MODE_DISABLED);
        s.set_strict().unwrap();
        s.set_strict().unwrap();
        assert_eq!(s.may_enter(MODE_FILTER), Err(Errno::EINVAL));
        let t = ThreadSeccomp::new();
        t.install(Filter::new(ret(RET_ALLOW), false, None).unwrap());
        assert_eq!(t.set_strict(), Err(Errno::EINVAL));
        let u = ThreadSeccomp::new();
        u.inherit(&t);
        assert_eq!((u.mode(), u.depth()), (MODE_FILTER, 1));
        assert!(Arc::ptr_eq(&u.filter().unwrap(), &t.filter().unwrap()));
    }
}
