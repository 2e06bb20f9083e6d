//! Per-thread CPU state that is not on the kernel stack: the saved kernel stack
//! pointer, the FPU/SSE image and the FS base (TLS). Only the scheduler touches it,
//! on the single CPU with interrupts off.

use super::cpu;
use super::trap::{FpuState, TrapFrame, prepare_stack, switch};
use crate::mm::kstack::KernelStack;
use alloc::boxed::Box;
use core::cell::UnsafeCell;

/// Linux's size on x86_64; each stack has an unmapped guard page below it (`mm/kstack.rs`).
pub const KERNEL_STACK_SIZE: usize = 16 * 1024;

struct State {
    rsp: u64,
    fpu: FpuState,
    fs_base: u64,
    gs_base: u64,
}

pub struct CpuContext {
    state: UnsafeCell<State>,
    /// The kernel stack (`mm::kstack`: frames behind a guard page); none for the boot
    /// context, which runs on the boot stack.
    stack: Option<KernelStack>,
}

// SAFETY: a context is only read or written by the scheduler and by its own thread
// while running, on one CPU with interrupts disabled, so accesses never overlap.
unsafe impl Sync for CpuContext {}
// SAFETY: as above; the contents are plain data.
unsafe impl Send for CpuContext {}

impl CpuContext {
    /// A context that resumes `frame` in user mode on its first switch; `None` when no
    /// memory is left for its kernel stack (the caller's fork fails with `ENOMEM`).
    pub fn new_user(frame: &TrapFrame, fpu: FpuState, fs_base: u64) -> Option<Box<CpuContext>> {
        let stack = KernelStack::new()?;
        let rsp = prepare_stack(stack.top() & !0xf, frame);
        Some(Box::new(CpuContext {
            state: UnsafeCell::new(State {
                rsp,
                fpu,
                fs_base,
                gs_base: 0,
            }),
            stack: Some(stack),
        }))
    }

    /// The context of code already running on a stack it owns (the boot path).
    pub fn bootstrap() -> Box<CpuContext> {
        Box::new(CpuContext {
            state: UnsafeCell::new(State {
                rsp: 0,
                fpu: FpuState::initial(),
                fs_base: 0,
                gs_base: 0,
            }),
            stack: None,
        })
    }

    /// The top of the thread's kernel stack (0 for the boot context, which never enters
    /// from user mode).
    pub fn stack_top(&self) -> u64 {
        self.stack.as_ref().map_or(0, |s| s.top() & !0xf)
    }

    #[allow(clippy::mut_from_ref)] // UnsafeCell: exclusive by the scheduler's discipline
    fn state(&self) -> &mut State {
        // SAFETY: see the `Sync` impl: exclusive by construction of the scheduler.
        unsafe { &mut *self.state.get() }
    }

    /// The live FPU state of the running thread (for `fork` and signal frames).
    pub fn capture_fpu(&self) -> FpuState {
        let mut f = FpuState([0; 512]);
        f.save();
        f
    }

    pub fn set_fs_base(&self, v: u64) {
        self.state().fs_base = v;
        cpu::wrmsr(cpu::MSR_FS_BASE, v);
    }

    pub fn fs_base(&self) -> u64 {
        self.state().fs_base
    }

    pub fn set_gs_base(&self, v: u64) {
        self.state().gs_base = v;
        cpu::wrmsr(cpu::MSR_GS_BASE, v);
    }

    pub fn gs_base(&self) -> u64 {
        self.state().gs_base
    }

    /// Replaces the FPU state of the running thread (execve, sigreturn).
    pub fn load_fpu(&self, f: &FpuState) {
        self.state().fpu = f.clone();
        f.restore();
    }

    /// A pointer to the trap frame at the top of this thread's kernel stack: the user
    /// registers of the current system call or interrupt.
    pub fn user_frame_addr(&self) -> u64 {
        self.stack_top() - core::mem::size_of::<TrapFrame>() as u64
    }
}

/// Switches from `prev` (the running thread) to `next`.
pub fn switch_to(prev: &CpuContext, next: &CpuContext) {
    let p = prev.state();
    p.fpu.save();
    let n = next.state();
    n.fpu.restore();
    cpu::wrmsr(cpu::MSR_FS_BASE, n.fs_base);
    cpu::wrmsr(cpu::MSR_GS_BASE, n.gs_base);
    super::gdt::set_kernel_stack(next.stack_top());
    switch(&mut p.rsp, n.rsp);
}

/// Switches from `prev` to `next`, giving up the caller's references first, so that
/// a thread that never resumes (it exited) leaks nothing on its stack. The scheduler
/// must hold other references to both (its current slot, run queue, sleepers or dead
/// slot): checked, since the contexts must outlive the switch.
pub fn switch_consuming<T>(
    prev: alloc::sync::Arc<T>,
    next: alloc::sync::Arc<T>,
    ctx: fn(&T) -> &CpuContext,
) {
    assert!(
        alloc::sync::Arc::strong_count(&prev) >= 2 && alloc::sync::Arc::strong_count(&next) >= 2,
        "the scheduler keeps both threads alive across a switch"
    );
    let p: *const CpuContext = ctx(&prev);
    let n: *const CpuContext = ctx(&next);
    drop(prev);
    drop(next);
    // SAFETY: the scheduler holds other references (asserted above), so both contexts
    // stay alive until the switch completes; the next thread frees a dead one only
    // after it runs (`finish_switch`).
    unsafe { switch_to(&*p, &*n) }
}
