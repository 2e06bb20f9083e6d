//! What the file system needs from the rest of the kernel (clock, sleeping, the serial
//! console, signals, the caller's identity), in one place. On the host (unit tests)
//! these are stand-ins: the clock is 0, a sleep is interrupted at once, output is kept.

use super::vfs::{Caller, Timespec};
use super::{FdTable, OpenFile};
use crate::container::Container;
use crate::errno::Errno;
use alloc::sync::Arc;

/// Outcome of a sleep (mirrors `crate::task::Wake`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    Woken,
    TimedOut,
    Interrupted,
}

#[cfg(target_os = "none")]
mod imp {
    use super::*;

    pub fn now() -> Timespec {
        Timespec::from_ns(crate::time::realtime_ns())
    }

    pub fn monotonic_ns() -> u64 {
        crate::time::monotonic_ns()
    }

    pub fn sleep(chan: usize, deadline_ns: Option<u64>) -> Wake {
        match crate::task::sleep(chan, deadline_ns) {
            crate::task::Wake::Woken => Wake::Woken,
            crate::task::Wake::TimedOut => Wake::TimedOut,
            crate::task::Wake::Interrupted => Wake::Interrupted,
        }
    }

    pub fn wakeup(chan: usize) {
        crate::task::wakeup(chan);
        super::super::pollwait::notify(chan);
    }

    pub fn console_write(bytes: &[u8]) {
        crate::klog::console_write(bytes);
    }

    /// SIGPIPE to the calling thread (a write to a pipe without readers).
    pub fn sigpipe_current() {
        crate::task::signal::send_to_thread(&crate::task::current(), 13);
    }

    /// Whether some process is (or, a zombie, was until its reaping) in IPC container
    /// `ipc`.
    pub fn ipc_in_use(ipc: &Arc<crate::container::ipc::IpcContainer>) -> bool {
        let all: alloc::vec::Vec<_> = crate::task::TABLES.lock().procs.values().cloned().collect();
        all.iter()
            .any(|p| Arc::ptr_eq(p.containers().ipc.own(), ipc))
    }

    /// The I/O signal of an `O_ASYNC` file to its owner (a process or every process of a
    /// group): `F_SETSIG`'s signal with `si_code`, `si_band` and `si_fd`, else `SIGIO`.
    pub fn send_io_signal(fown: &crate::fs::fasync::Fown, code: i32, band: u64) {
        use crate::task::signal::{self, SigDetail};
        let Some((pid, group)) = &fown.owner else {
            return;
        };
        const SIGIO: u32 = 29;
        const SI_KERNEL: i32 = 0x80;
        let (sig, detail) = if fown.sig == 0 {
            (
                SIGIO,
                SigDetail {
                    code: SI_KERNEL,
                    ..Default::default()
                },
            )
        } else {
            let d = SigDetail {
                code,
                pid: band as u32,
                uid: (band >> 32) as u32,
                value: fown.fd as u32 as u64,
                errno: 0,
            };
            (fown.sig, d)
        };
        let targets: alloc::vec::Vec<Arc<crate::task::Process>> = if *group {
            let g = pid.global();
            let all: alloc::vec::Vec<_> =
                crate::task::TABLES.lock().procs.values().cloned().collect();
            all.into_iter().filter(|p| p.pgid() == g).collect()
        } else {
            pid.process::<crate::task::Process>().into_iter().collect()
        };
        for p in targets {
            signal::send_to_process_with(&p, sig, Some(detail));
        }
    }

    /// The caller's number in its own PID container (what `/proc/self` shows).
    pub fn current_pid() -> u32 {
        crate::task::sched::try_current().map_or(0, |_| crate::task::current_vpid())
    }

    /// The caller's `RLIMIT_NOFILE` soft limit (never above `fs/nr_open`).
    pub fn nofile_limit() -> usize {
        // Through the borrowed running thread (every open asks).
        let cur = crate::task::sched::try_with_current(|t| t.process().inner.lock().rlimits[7].0)
            .unwrap_or(super::super::fdtable::FD_LIMIT as u64);
        let nr_open = super::super::sysctl::NR_OPEN.load(core::sync::atomic::Ordering::Relaxed);
        cur.min(nr_open) as usize
    }

    /// The calling process's descriptor table (none before the first process).
    pub fn current_files() -> Option<Arc<FdTable>> {
        crate::task::sched::try_with_current(|t| t.process().files())
    }

    /// The user container owning a container (`NS_GET_USERNS`); for a user container,
    /// its parent.
    pub fn owning_user_container(ns: &dyn Container) -> Option<Arc<dyn Container>> {
        ns.common().owner().map(|u| u.clone() as Arc<dyn Container>)
    }

    /// Whether `NS_GET_PARENT` may hand out `parent`: a PID container must be the
    /// caller's own or one of its descendants (Linux's `pidns_get_parent`).
    pub fn may_see_parent(parent: &Arc<dyn Container>) -> bool {
        let Some(p) = parent
            .clone()
            .downcast::<crate::container::pid::PidContainer>()
        else {
            return true;
        };
        let Some(mine) = crate::task::containers_of(crate::task::current_vpid()) else {
            return false;
        };
        mine.pid.is_ancestor_of(&p)
    }

    /// The caller's filesystem (uid, gid) as kernel ids: the owner of the files it
    /// creates.
    pub fn current_ids() -> (u32, u32) {
        crate::task::sched::try_with_current(|t| {
            let c = t.process().cred();
            (c.fsuid, c.fsgid)
        })
        .unwrap_or((0, 0))
    }

    /// The caller for permission checks (the kernel itself before processes exist).
    pub fn caller() -> Caller {
        let Some(t) = crate::task::sched::try_current() else {
            return Caller::root();
        };
        let c = t.process().cred();
        let root = crate::container::user::root_user();
        Caller {
            uid: c.fsuid,
            gid: c.fsgid,
            groups: c.groups.clone(),
            caps: c.cap_effective,
            user: (!Arc::ptr_eq(&c.user, &root)).then(|| c.user.clone()),
        }
    }

    /// `EPERM` unless the caller has `cap` in the root user container (machine-wide
    /// rights: mounts until mount containers have owners, `/proc/sys`).
    pub fn require_cap(cap: u32) -> Result<(), Errno> {
        match crate::task::sched::try_current() {
            Some(_) => crate::task::require_cap(cap),
            None => Ok(()),
        }
    }

    /// The calling process's credentials (none before the first process).
    pub fn current_cred() -> Option<Arc<crate::cred::Credentials>> {
        crate::task::sched::try_with_current(|t| t.process().cred())
    }

    /// Kernel owner ids as the caller's user container sees them (65534 if unmapped).
    pub fn view_ids(uid: u32, gid: u32) -> (u32, u32) {
        match crate::task::sched::try_current() {
            Some(t) => {
                let c = t.process().cred();
                (c.view_uid(uid), c.view_gid(gid))
            }
            None => (uid, gid),
        }
    }

    pub fn current_pgid() -> u32 {
        crate::task::current_pgid()
    }

    /// The calling process's file context (none before the first process).
    pub fn current_fs() -> Option<alloc::sync::Arc<crate::fs::FsContext>> {
        crate::task::sched::try_with_current(|t| t.process().fs())
    }

    pub fn copy_to_user(addr: u64, bytes: &[u8]) -> Result<(), crate::errno::Errno> {
        crate::mm::user::copy_to_user(addr, bytes)
    }

    pub fn copy_from_user(addr: u64, buf: &mut [u8]) -> Result<(), crate::errno::Errno> {
        crate::mm::user::copy_from_user(addr, buf)
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    use super::*;
    use alloc::vec::Vec;

    pub fn now() -> Timespec {
        Timespec::default()
    }

    pub fn monotonic_ns() -> u64 {
        0
    }

    pub fn sleep(_chan: usize, _deadline_ns: Option<u64>) -> Wake {
        Wake::Interrupted
    }

    pub fn wakeup(chan: usize) {
        super::super::pollwait::notify(chan);
    }

    std::thread_local! {
        pub static CONSOLE_OUT: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
    }

    pub fn console_write(bytes: &[u8]) {
        CONSOLE_OUT.with(|o| o.borrow_mut().extend_from_slice(bytes));
    }

    /// Takes what tests wrote to the console so far.
    pub fn take_console_output() -> Vec<u8> {
        CONSOLE_OUT.with(|o| core::mem::take(&mut *o.borrow_mut()))
    }

    pub fn sigpipe_current() {}

    pub fn send_io_signal(_fown: &crate::fs::fasync::Fown, _code: i32, _band: u64) {}

    pub fn ipc_in_use(_ipc: &Arc<crate::container::ipc::IpcContainer>) -> bool {
        true
    }

    pub fn current_pid() -> u32 {
        1
    }

    std::thread_local! {
        static FILES: Arc<FdTable> = FdTable::new();
    }

    /// One descriptor table per test thread.
    pub fn current_files() -> Option<Arc<FdTable>> {
        Some(FILES.with(|f| f.clone()))
    }

    /// No root containers exist in host tests (`container::init` is not run).
    pub fn owning_user_container(_ns: &dyn Container) -> Option<Arc<dyn Container>> {
        None
    }

    pub fn may_see_parent(_parent: &Arc<dyn Container>) -> bool {
        true
    }

    pub fn view_ids(uid: u32, gid: u32) -> (u32, u32) {
        (uid, gid)
    }

    pub fn current_ids() -> (u32, u32) {
        (0, 0)
    }

    std::thread_local! {
        static CALLER: core::cell::RefCell<Option<Caller>> = const { core::cell::RefCell::new(None) };
    }

    /// Root with every capability, unless a test set another caller.
    pub fn caller() -> Caller {
        CALLER
            .with(|c| c.borrow().clone())
            .unwrap_or_else(Caller::root)
    }

    /// Makes `c` the caller of this test thread (`None`: root again).
    pub fn set_caller(c: Option<Caller>) {
        CALLER.with(|x| *x.borrow_mut() = c);
    }

    pub fn require_cap(cap: u32) -> Result<(), Errno> {
        if caller().capable(cap) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    pub fn current_cred() -> Option<Arc<crate::cred::Credentials>> {
        None
    }

    pub fn nofile_limit() -> usize {
        super::super::fdtable::FD_LIMIT
    }

    pub fn current_pgid() -> u32 {
        1
    }

    pub fn current_fs() -> Option<alloc::sync::Arc<crate::fs::FsContext>> {
        None
    }

    /// There is no user memory on the host.
    pub fn copy_to_user(_addr: u64, _bytes: &[u8]) -> Result<(), crate::errno::Errno> {
        Err(crate::errno::Errno::EFAULT)
    }

    pub fn copy_from_user(_addr: u64, _buf: &mut [u8]) -> Result<(), crate::errno::Errno> {
        Err(crate::errno::Errno::EFAULT)
    }
}

pub use imp::*;

/// Installs `file` at the caller's lowest free descriptor (`ioctl`s that return an fd).
pub fn install_fd(file: Arc<OpenFile>, cloexec: bool) -> Result<i32, Errno> {
    current_files().ok_or(Errno::EBADF)?.install(file, cloexec)
}
