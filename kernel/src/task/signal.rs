//! Signals: generation (`kill`, `tgkill`, faults, timers), delivery on the way back
//! to user mode (default actions, handlers with Linux's `rt_sigframe`), `rt_sigreturn`.

use super::{Process, Thread, exit, sched};
use crate::arch::x86_64::trap::{FpuState, SYSCALL_VECTOR, TrapFrame};
use crate::errno::Errno;
use crate::impl_pod;
use crate::mm::user::{copy_from_user, copy_to_user, read_user, write_user};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGSEGV: u32 = 11;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGWINCH: u32 = 28;
pub const NSIG: u32 = 64;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
pub const SA_NOCLDWAIT: u64 = 2;
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;

/// Signals that can be neither blocked nor caught.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

pub const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// `struct sigaction` as the kernel ABI lays it out (`rt_sigaction`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}
impl_pod!(SigAction);

#[derive(PartialEq, Eq)]
enum Default_ {
    Term,
    Ignore,
    Stop,
}

fn default_action(sig: u32) -> Default_ {
    match sig {
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH => Default_::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default_::Stop,
        _ => Default_::Term,
    }
}

/// Whether `sig` would be discarded on arrival in `p` (ignored and not blocked: a
/// blocked signal stays pending, as its handler may change before it is unblocked).
fn ignored(p: &Process, sig: u32) -> bool {
    if sig == SIGKILL || sig == SIGSTOP {
        return false;
    }
    let main = p.inner.lock().threads.first().cloned();
    if main.is_some_and(|t| t.inner.lock().sigmask & bit(sig) != 0) {
        return false;
    }
    let acts = p.inner.lock().sigactions.clone();
    let a = acts.lock()[(sig - 1) as usize];
    a.handler == SIG_IGN || (a.handler == SIG_DFL && default_action(sig) == Default_::Ignore)
}

/// `si_code` values (`SI_USER` is 0).
pub const SI_USER: i32 = 0;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_MESGQ: i32 = -3;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const POLL_IN: i32 = 1;

/// What a `SA_SIGINFO` handler learns of a signal beyond its number: `si_code`, the
/// first two words of the union (`si_pid`/`si_uid`, already as the receiver names them;
/// for `SIGPOLL` the low and high halves of `si_band`; for timers `si_tid`/`si_overrun`)
/// and the next one (`si_value`, `si_status`, `si_fd`). A signal sent without details
/// reads `si_code` `SI_USER` from the receiving process itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigDetail {
    pub code: i32,
    pub pid: u32,
    pub uid: u32,
    pub value: u64,
    pub errno: i32,
}

/// `si_code` of seccomp's SIGSYS.
pub const SYS_SECCOMP: i32 = 1;

impl SigDetail {
    /// seccomp's SIGSYS: `si_call_addr` overlays `si_pid`/`si_uid` and `si_syscall`,
    /// `si_arch` overlay `si_value` in the `siginfo_t` union.
    pub fn sigsys(call_addr: u64, syscall: i32, arch: u32, errno: i32) -> SigDetail {
        SigDetail {
            code: SYS_SECCOMP,
            pid: call_addr as u32,
            uid: (call_addr >> 32) as u32,
            value: syscall as u32 as u64 | (arch as u64) << 32,
            errno,
        }
    }
}

impl SigDetail {
    /// A signal `sender` sends `target` with `code` (`SI_USER`, `SI_TKILL`, `SI_QUEUE`):
    /// the sender's number in the target's PID container (0 when it is not visible
    /// there, as from an ancestor container) and its uid as the target's user container
    /// names it.
    pub fn from_process(code: i32, sender: &Process, target: &Process, value: u64) -> SigDetail {
        SigDetail {
            code,
            pid: sender
                .pid_ref()
                .nr_in(target.pid_ref().container())
                .unwrap_or(0),
            uid: target.cred().view_uid(sender.cred().uid),
            value,
            errno: 0,
        }
    }
}

/// Sends `sig` to process `p` (any thread that does not block it takes it).
pub fn send_to_process(p: &Arc<Process>, sig: u32) {
    send_to_process_with(p, sig, None);
}

/// [`send_to_process`] with the `siginfo_t` details. A standard signal already pending
/// keeps the details it was sent with; a real-time one is queued again.
pub fn send_to_process_with(p: &Arc<Process>, sig: u32, detail: Option<SigDetail>) {
    let _ = queue_to_process(p, sig, detail);
}

/// The first real-time signal (the kernel's `SIGRTMIN`; libc reserves a few above it).
pub const SIGRTMIN: u32 = 32;
/// Pending bits of the real-time signals.
const RT_BITS: u64 = !0u64 << (SIGRTMIN - 1);

/// Records one more pending instance of `sig` in `pending`/`details`/`queue` (a
/// process's or a thread's). A standard signal pending already is merged; a real-time
/// one is queued behind, up to `limit` (`RLIMIT_SIGPENDING`) real-time instances in all.
/// Over the limit (or out of memory) Linux keeps `kill`'s signal without its details and
/// refuses the others with `EAGAIN`.
fn record(
    pending: &mut u64,
    details: &mut alloc::collections::BTreeMap<u32, SigDetail>,
    queue: &mut alloc::collections::VecDeque<(u32, Option<SigDetail>)>,
    limit: u64,
    sig: u32,
    detail: Option<SigDetail>,
) -> Result<(), Errno> {
    let rt = sig >= SIGRTMIN;
    let queued = (*pending & RT_BITS).count_ones() as u64 + queue.len() as u64;
    let room = !rt || queued < limit;
    let from_kill = detail.is_none_or(|d| d.code == SI_USER);
    if *pending & bit(sig) == 0 {
        if !room && !from_kill {
            return Err(Errno::EAGAIN);
        }
        match detail {
            Some(d) if room => details.insert(sig, d),
            _ => details.remove(&sig),
        };
        *pending |= bit(sig);
    } else if rt {
        if room && queue.try_reserve(1).is_ok() {
            queue.push_back((sig, detail));
        } else if !from_kill {
            return Err(Errno::EAGAIN);
        }
    }
    Ok(())
}

/// After taking one instance of `sig`: the next queued one (a real-time signal's)
/// becomes the pending one.
fn refill(
    pending: &mut u64,
    details: &mut alloc::collections::BTreeMap<u32, SigDetail>,
    queue: &mut alloc::collections::VecDeque<(u32, Option<SigDetail>)>,
    sig: u32,
) {
    if sig < SIGRTMIN {
        return;
    }
    if let Some(i) = queue.iter().position(|e| e.0 == sig)
        && let Some((_, d)) = queue.remove(i)
    {
        *pending |= bit(sig);
        if let Some(d) = d {
            details.insert(sig, d);
        }
    }
}

/// Drops every pending instance of `sig` of `p` and its threads (set to `SIG_IGN`).
pub fn discard(p: &Arc<Process>, sig: u32) {
    let threads = {
        let mut pi = p.inner.lock();
        pi.pending &= !bit(sig);
        pi.rt_queue.retain(|e| e.0 != sig);
        pi.threads.clone()
    };
    for t in threads {
        let mut ti = t.inner.lock();
        ti.pending &= !bit(sig);
        ti.rt_queue.retain(|e| e.0 != sig);
    }
}

/// [`send_to_process_with`] that reports `EAGAIN` for a real-time signal over
/// `RLIMIT_SIGPENDING` (`rt_sigqueueinfo`, `pidfd_send_signal`).
pub fn queue_to_process(
    p: &Arc<Process>,
    sig: u32,
    detail: Option<SigDetail>,
) -> Result<(), Errno> {
    if sig == 0 || sig > NSIG {
        return Ok(());
    }
    super::jobctl::on_generate(p, sig);
    if ignored(p, sig) {
        return Ok(());
    }
    let threads = {
        let mut pi = p.inner.lock();
        let limit = pi.rlimits[11].0;
        let pi = &mut *pi;
        record(
            &mut pi.pending,
            &mut pi.sig_details,
            &mut pi.rt_queue,
            limit,
            sig,
            detail,
        )?;
        pi.threads.clone()
    };
    // A signalfd becomes readable: its pollers look again.
    crate::fs::env::wakeup(super::signalfd::chan());
    for t in threads {
        let blocked = {
            let ti = t.inner.lock();
            ti.sigmask & !UNBLOCKABLE & !ti.sigwait & bit(sig) != 0
        };
        if !blocked {
            sched::interrupt(&t);
            if sig != SIGKILL {
                break;
            }
        }
    }
    Ok(())
}

/// Sends `sig` to one thread (synchronous faults).
pub fn send_to_thread(t: &Arc<Thread>, sig: u32) {
    send_to_thread_with(t, sig, None);
}

/// [`send_to_thread`] with the `siginfo_t` details (`tgkill`, `rt_tgsigqueueinfo`).
pub fn send_to_thread_with(t: &Arc<Thread>, sig: u32, detail: Option<SigDetail>) {
    let _ = queue_to_thread(t, sig, detail);
}

/// [`send_to_thread_with`] that reports `EAGAIN` for a real-time signal over
/// `RLIMIT_SIGPENDING` (`rt_tgsigqueueinfo`).
pub fn queue_to_thread(t: &Arc<Thread>, sig: u32, detail: Option<SigDetail>) -> Result<(), Errno> {
    if sig == 0 || sig > NSIG {
        return Ok(());
    }
    super::jobctl::on_generate(t.process(), sig);
    if ignored(t.process(), sig) {
        return Ok(());
    }
    let limit = t.process().inner.lock().rlimits[11].0;
    let blocked = {
        let mut ti = t.inner.lock();
        let ti = &mut *ti;
        record(
            &mut ti.pending,
            &mut ti.sig_details,
            &mut ti.rt_queue,
            limit,
            sig,
            detail,
        )?;
        ti.sigmask & !UNBLOCKABLE & !ti.sigwait & bit(sig) != 0
    };
    crate::fs::env::wakeup(super::signalfd::chan());
    if !blocked {
        sched::interrupt(t);
    }
    Ok(())
}

/// Linux's `force_sig_info` for a synchronous signal of the current thread `t`: if the
/// thread blocks it or ignores it, the handler goes back to the default and the signal
/// is unblocked, so it is delivered (or kills) on the way back to user mode.
pub fn force_on_thread(t: &Arc<Thread>, sig: u32, detail: SigDetail) {
    let blocked = t.inner.lock().sigmask & bit(sig) != 0;
    let acts = t.process().inner.lock().sigactions.clone();
    {
        let mut acts = acts.lock();
        let a = &mut acts[(sig - 1) as usize];
        if blocked || a.handler == SIG_IGN {
            a.handler = SIG_DFL;
        }
    }
    {
        let mut ti = t.inner.lock();
        ti.sigmask &= !bit(sig);
        ti.pending |= bit(sig);
        ti.forced = Some((sig, detail));
    }
    // As for any signal sent: the way back to user mode must look.
    sched::interrupt(t);
}

/// Whether `t` has a deliverable signal (or its process is exiting).
pub fn has_pending(t: &Arc<Thread>) -> bool {
    let p = t.process();
    if p.is_exiting() {
        return true;
    }
    if t.inner.lock().exit_now {
        return true;
    }
    let (pending, mask) = {
        let ti = t.inner.lock();
        (ti.pending, ti.sigmask & !ti.sigwait)
    };
    let (ppending, stopped) = {
        let pi = p.inner.lock();
        (pi.pending, pi.job.stopped)
    };
    stopped || (pending | ppending) & !(mask & !UNBLOCKABLE) != 0
}

/// Takes the lowest deliverable signal of `t`, with its details if it had any.
fn dequeue(t: &Arc<Thread>) -> Option<(u32, Option<SigDetail>)> {
    let mut ti = t.inner.lock();
    let mask = ti.sigmask & !UNBLOCKABLE;
    let own = ti.pending & !mask;
    if own != 0 {
        let sig = own.trailing_zeros() + 1;
        ti.pending &= !bit(sig);
        let detail = match ti.forced {
            Some((s, d)) if s == sig => {
                ti.forced = None;
                Some(d)
            }
            _ => ti.sig_details.remove(&sig),
        };
        let ti = &mut *ti;
        refill(&mut ti.pending, &mut ti.sig_details, &mut ti.rt_queue, sig);
        return Some((sig, detail));
    }
    take_shared(t, !mask)
}

/// Takes the lowest process-wide signal in `set`, with its details.
fn take_shared(t: &Arc<Thread>, set: u64) -> Option<(u32, Option<SigDetail>)> {
    let mut pi = t.process().inner.lock();
    let shared = pi.pending & set;
    if shared == 0 {
        return None;
    }
    let sig = shared.trailing_zeros() + 1;
    pi.pending &= !bit(sig);
    let detail = pi.sig_details.remove(&sig);
    let pi = &mut *pi;
    refill(&mut pi.pending, &mut pi.sig_details, &mut pi.rt_queue, sig);
    Some((sig, detail))
}

/// Takes the lowest pending signal of `t` in `set` (its own first, then its process's),
/// blocked or not: `rt_sigtimedwait` and `signalfd`.
pub fn take_from_set(t: &Arc<Thread>, set: u64) -> Option<(u32, Option<SigDetail>)> {
    let mut ti = t.inner.lock();
    let own = ti.pending & set;
    if own != 0 {
        let sig = own.trailing_zeros() + 1;
        ti.pending &= !bit(sig);
        let detail = ti.sig_details.remove(&sig);
        let ti = &mut *ti;
        refill(&mut ti.pending, &mut ti.sig_details, &mut ti.rt_queue, sig);
        return Some((sig, detail));
    }
    drop(ti);
    take_shared(t, set)
}

/// The signals pending for `t` (its own and its process's).
pub fn pending_of(t: &Arc<Thread>) -> u64 {
    let own = t.inner.lock().pending;
    own | t.process().inner.lock().pending
}

/// The 128-byte `siginfo_t` of `sig` with `detail`, as `t` receives it.
pub fn siginfo_bytes(t: &Arc<Thread>, sig: u32, detail: Option<SigDetail>) -> [u8; 128] {
    let info = siginfo(t, sig, detail);
    let mut b = [0u8; 128];
    b[0..4].copy_from_slice(&info.signo.to_le_bytes());
    b[4..8].copy_from_slice(&info.errno.to_le_bytes());
    b[8..12].copy_from_slice(&info.code.to_le_bytes());
    for (i, w) in info.fields.iter().enumerate() {
        b[16 + i * 8..24 + i * 8].copy_from_slice(&w.to_le_bytes());
    }
    b
}

fn siginfo(t: &Arc<Thread>, sig: u32, detail: Option<SigDetail>) -> SigInfo {
    let mut info = SigInfo {
        signo: sig as i32,
        errno: 0,
        code: 0,
        _pad: 0,
        fields: [0; 14],
    };
    match detail {
        // si_pid, si_uid, then si_value.
        Some(d) => {
            info.code = d.code;
            info.errno = d.errno;
            info.fields[0] = d.pid as u64 | (d.uid as u64) << 32;
            info.fields[1] = d.value;
        }
        // Linux's `SEND_SIG_NOINFO` (SIGPIPE, ...): sent by the receiving process itself.
        None => info.fields[0] = t.process().pid_ref().vnr() as u64,
    }
    info
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SigInfo {
    signo: i32,
    errno: i32,
    code: i32,
    _pad: i32,
    fields: [u64; 14],
}
impl_pod!(SigInfo);

#[repr(C)]
#[derive(Clone, Copy)]
struct UContext {
    flags: u64,
    link: u64,
    ss_sp: u64,
    ss_flags: i32,
    _pad: i32,
    ss_size: u64,
    /// `struct sigcontext`: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
    /// eflags, cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate, reserved[8].
    mcontext: [u64; 32],
    sigmask: u64,
}
impl_pod!(UContext);

/// System calls that are never restarted after a handler ran (Linux: `-EINTR` always;
/// signal(7) lists the SysV ones: semop 65, msgsnd 69, msgrcv 70, semtimedop 220).
fn restartable(nr: u64) -> bool {
    !matches!(
        nr,
        7 | 23 | 34 | 35 | 65 | 69 | 70 | 130 | 220 | 230 | 232 | 270 | 271 | 281 | 441
    )
}

fn is_init(p: &Process) -> bool {
    p.pid() == 1 || p.pid_ref().is_container_init()
}

fn kills_init(sig: u32) -> bool {
    matches!(sig, SIGKILL | SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP)
}

/// Called on every return to user mode: acts on pending signals and group exit.
pub fn deliver(frame: &mut TrapFrame) {
    let t = sched::current();
    let mut handled = false;
    loop {
        if t.process().is_exiting() || t.inner.lock().exit_now {
            exit::exit_thread(0);
            return;
        }
        if super::jobctl::is_stopped(t.process()) {
            super::jobctl::wait_while_stopped(&t);
            if super::jobctl::is_stopped(t.process())
                && !t.process().is_exiting()
                && !t.inner.lock().exit_now
            {
                // Woken stopped by SIGKILL: it ends the process now.
                exit::exit_group(SIGKILL as i32);
                return;
            }
            continue;
        }
        let Some((sig, detail)) = dequeue(&t) else {
            break;
        };
        let acts = t.process().inner.lock().sigactions.clone();
        let act = acts.lock()[(sig - 1) as usize];
        match act.handler {
            SIG_IGN => continue,
            // An init (the global one or a container's) never dies of a signal it has no
            // handler for, but SIGKILL (which only an ancestor container can send it) and
            // its own faults (Linux's force_sig_info drops the protection for those).
            SIG_DFL if !kills_init(sig) && is_init(t.process()) => continue,
            SIG_DFL => match default_action(sig) {
                Default_::Ignore => continue,
                Default_::Stop => {
                    super::jobctl::stop(&t, sig);
                    continue;
                }
                Default_::Term => {
                    exit::exit_group(sig as i32 & 0x7f);
                    return;
                }
            },
            _ => {
                if act.flags & SA_RESETHAND != 0 {
                    acts.lock()[(sig - 1) as usize] = SigAction::default();
                }
                let restart = act.flags & SA_RESTART != 0;
                fixup_interrupted_syscall(frame, restart);
                handled = true;
                if setup_frame(&t, frame, sig, detail, &act).is_err() {
                    // The stack is unusable: as Linux, the process dies with SIGSEGV.
                    exit::exit_group(SIGSEGV as i32);
                    return;
                }
                break;
            }
        }
    }
    if !handled {
        fixup_interrupted_syscall(frame, true);
    }
    let mut ti = t.inner.lock();
    if let Some(m) = ti.saved_mask.take() {
        ti.sigmask = m;
        // The old mask may unblock a pending signal: the next return delivers it.
        t.note_work();
    }
}

/// A system call interrupted by a signal returns `EINTR`; restart it instead when no
/// handler runs or the handler asked for `SA_RESTART`.
fn fixup_interrupted_syscall(frame: &mut TrapFrame, restart: bool) {
    if frame.vector == SYSCALL_VECTOR
        && frame.rax as i64 == -(Errno::EINTR as i64)
        && restart
        && restartable(frame.error)
    {
        frame.rax = frame.error;
        frame.rip -= 2;
        frame.vector = 0;
    }
}

fn setup_frame(
    t: &Arc<Thread>,
    frame: &mut TrapFrame,
    sig: u32,
    detail: Option<SigDetail>,
    act: &SigAction,
) -> Result<(), Errno> {
    let (mask, altstack, saved_mask) = {
        let mut ti = t.inner.lock();
        (ti.sigmask, ti.altstack, ti.saved_mask.take())
    };
    let old_mask = saved_mask.unwrap_or(mask);
    let mut sp = frame.rsp;
    let on_alt = altstack.2 & SS_DISABLE == 0 && sp.wrapping_sub(altstack.0) < altstack.1;
    if act.flags & SA_ONSTACK != 0 && altstack.2 & SS_DISABLE == 0 && !on_alt {
        sp = altstack.0 + altstack.1;
    }
    sp = sp.wrapping_sub(128);
    let fp_addr = (sp - 512) & !63;
    let info_addr = fp_addr - core::mem::size_of::<SigInfo>() as u64;
    let uc_addr = (info_addr - core::mem::size_of::<UContext>() as u64) & !15;
    let ret_addr = uc_addr - 8;

    let fpu = t.ctx.capture_fpu();
    copy_to_user(fp_addr, &fpu.0)?;
    write_user(info_addr, &siginfo(t, sig, detail))?;
    let f = frame;
    let mc = [
        f.r8,
        f.r9,
        f.r10,
        f.r11,
        f.r12,
        f.r13,
        f.r14,
        f.r15,
        f.rdi,
        f.rsi,
        f.rbp,
        f.rbx,
        f.rdx,
        f.rax,
        f.rcx,
        f.rsp,
        f.rip,
        f.rflags,
        f.cs | (f.ss << 48),
        f.error,
        f.vector,
        old_mask,
        0,
        fp_addr,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    let uc = UContext {
        flags: 0,
        link: 0,
        ss_sp: altstack.0,
        ss_flags: if on_alt { SS_ONSTACK } else { altstack.2 },
        _pad: 0,
        ss_size: altstack.1,
        mcontext: mc,
        sigmask: old_mask,
    };
    write_user(uc_addr, &uc)?;
    write_user(ret_addr, &act.restorer)?;

    let mut new_mask = mask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        new_mask |= bit(sig);
    }
    t.inner.lock().sigmask = new_mask & !UNBLOCKABLE;
    *f = TrapFrame::new_user(act.handler, ret_addr);
    f.rdi = sig as u64;
    f.rsi = info_addr;
    f.rdx = uc_addr;
    Ok(())
}

/// `rt_sigreturn`: restores the registers, mask and FPU state saved by `setup_frame`.
pub fn sigreturn(frame: &mut TrapFrame) -> Result<(), Errno> {
    let t = sched::current();
    let uc: UContext = read_user(frame.rsp)?;
    let m = &uc.mcontext;
    let mut fpu = FpuState([0; 512]);
    if m[23] != 0 {
        copy_from_user(m[23], &mut fpu.0)?;
        // Reserved MXCSR bits would fault in fxrstor: keep only what this CPU supports.
        let live = t.ctx.capture_fpu();
        let mut mask = u32::from_le_bytes([live.0[28], live.0[29], live.0[30], live.0[31]]);
        if mask == 0 {
            mask = 0xffbf;
        }
        let mxcsr = u32::from_le_bytes([fpu.0[24], fpu.0[25], fpu.0[26], fpu.0[27]]) & mask;
        fpu.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        t.ctx.load_fpu(&fpu);
    }
    let mut f = TrapFrame::new_user(m[16], m[15]);
    f.r8 = m[0];
    f.r9 = m[1];
    f.r10 = m[2];
    f.r11 = m[3];
    f.r12 = m[4];
    f.r13 = m[5];
    f.r14 = m[6];
    f.r15 = m[7];
    f.rdi = m[8];
    f.rsi = m[9];
    f.rbp = m[10];
    f.rbx = m[11];
    f.rdx = m[12];
    f.rax = m[13];
    f.rcx = m[14];
    // Only the arithmetic and direction flags are the program's to restore.
    f.rflags = (m[17] & 0x0DD5) | 0x202;
    if f.rip >= crate::mm::USER_END {
        return Err(Errno::EFAULT);
    }
    *frame = f;
    t.inner.lock().sigmask = uc.sigmask & !UNBLOCKABLE;
    t.note_work();
    Ok(())
}

/// `sigaltstack`.
/// `sigaltstack`; `user_sp` is the caller's stack pointer (on the alternate stack, the
/// old value reports `SS_ONSTACK` and changing it gives `EPERM`).
pub fn set_altstack(new: Option<(u64, u64, i32)>, user_sp: u64) -> Result<(u64, u64, i32), Errno> {
    let t = sched::current();
    let mut ti = t.inner.lock();
    let mut old = ti.altstack;
    let on_alt = old.2 & SS_DISABLE == 0 && user_sp.wrapping_sub(old.0) < old.1;
    if on_alt {
        old.2 = SS_ONSTACK;
    }
    if let Some((sp, size, flags)) = new {
        if on_alt {
            return Err(Errno::EPERM);
        }
        if flags & !(SS_DISABLE | (1 << 31)) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & SS_DISABLE != 0 {
            ti.altstack = (0, 0, SS_DISABLE);
        } else {
            if size < 2048 {
                return Err(Errno::ENOMEM);
            }
            ti.altstack = (sp, size, 0);
        }
    }
    Ok(old)
}

/// Processes with an armed `ITIMER_REAL` (`alarm`, `setitimer`).
static ARMED: Mutex<BTreeMap<u32, Weak<Process>>> = Mutex::new(BTreeMap::new());

/// Arms or disarms `p`'s real-time timer; returns the previous (remaining, interval).
pub fn set_itimer_real(p: &Arc<Process>, value_ns: u64, interval_ns: u64) -> (u64, u64) {
    let now = crate::time::monotonic_ns();
    let mut pi = p.inner.lock();
    let (deadline, interval) = pi.itimer_real;
    let remaining = if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(now).max(1)
    };
    pi.itimer_real = if value_ns == 0 {
        (0, 0)
    } else {
        (now + value_ns, interval_ns)
    };
    drop(pi);
    let mut armed = ARMED.lock();
    if value_ns == 0 {
        armed.remove(&p.pid());
    } else {
        armed.insert(p.pid(), Arc::downgrade(p));
    }
    (remaining, interval)
}

pub fn get_itimer_real(p: &Arc<Process>) -> (u64, u64) {
    let now = crate::time::monotonic_ns();
    let (deadline, interval) = p.inner.lock().itimer_real;
    (
        if deadline == 0 {
            0
        } else {
            deadline.saturating_sub(now).max(1)
        },
        interval,
    )
}

/// Timer tick: fires expired real-time timers.
pub fn check_timers(now: u64) {
    let mut fire = alloc::vec::Vec::new();
    {
        let mut armed = ARMED.lock();
        armed.retain(|_, w| {
            let Some(p) = w.upgrade() else { return false };
            let mut pi = p.inner.lock();
            let (deadline, interval) = pi.itimer_real;
            if deadline == 0 || pi.zombie.is_some() {
                return false;
            }
            if deadline <= now {
                fire.push(p.clone());
                if interval == 0 {
                    pi.itimer_real = (0, 0);
                    return false;
                }
                pi.itimer_real.0 = now + interval;
            }
            true
        });
    }
    for p in fire {
        send_to_process(&p, SIGALRM);
    }
    super::ptimer::check(now);
    super::cputimer::tick();
    super::loadavg::tick(now, sched::runnable_threads);
}
