//! Rust side of the trap entry: CPU exceptions, the timer and the serial line.
//! A fault in user mode becomes a signal for the thread; a fault in kernel mode is
//! a kernel bug: print the frame and stop QEMU with a failure status.

use super::trap::TrapFrame;
use super::{cpu, serial, timer};
use crate::mm::aspace::Fault;
use crate::task::{self, signal};

const PAGE_FAULT: u64 = 14;
const NMI: u64 = 2;

pub extern "C" fn trap_handler(frame: &mut TrapFrame) {
    if frame.vector == NMI {
        // On its own stack (IST2); nothing else runs in NMI context.
        super::watchdog::nmi(frame.rip, frame.rbp, frame.from_user());
        return;
    }
    match frame.vector {
        32 => {
            super::watchdog::pet();
            timer::eoi(0);
            task::sched::tick(frame.from_user());
        }
        36 => {
            while let Some(b) = serial::try_read() {
                crate::fs::devfs::console_input(b);
            }
            timer::eoi(4);
        }
        39 | 47 => {} // spurious IRQ 7/15: no EOI
        33..=47 => timer::eoi((frame.vector - 32) as u8),
        v if v < 32 => exception(frame),
        _ => {}
    }
    if frame.from_user() {
        crate::syscall::return_to_user(frame);
    }
}

fn exception(frame: &mut TrapFrame) {
    if !frame.from_user() {
        if frame.vector == PAGE_FAULT
            && let Some(fixup) = super::usercopy::fixup_for(frame.rip)
        {
            user_access_fault(frame, fixup);
            return;
        }
        kernel_fault(frame);
    }
    let sig = match frame.vector {
        PAGE_FAULT => {
            let addr = cpu::read_cr2();
            let write = frame.error & 2 != 0;
            let exec = frame.error & 0x10 != 0;
            let vm = task::current_vm();
            let r = vm.lock().fault(addr, write, exec);
            match r {
                Fault::Handled => return,
                Fault::Violation => signal::SIGSEGV,
                Fault::Bus => signal::SIGBUS,
                Fault::OutOfMemory => {
                    // The machine is out (not the group): the OOM killer frees memory and
                    // the access runs again, or the faulter itself is killed.
                    drop(vm);
                    if task::oom::machine_is_out() && task::oom::out_of_memory() {
                        return;
                    }
                    crate::plimits::memory::note_fault_kill(&crate::plimits::current_group());
                    signal::SIGKILL
                }
            }
        }
        0 | 16 | 19 => signal::SIGFPE,
        1 | 3 => signal::SIGTRAP,
        6 => signal::SIGILL,
        17 => signal::SIGBUS,
        _ => signal::SIGSEGV,
    };
    log::debug!(
        "pid {} tid {}: exception {} at {:#x} (error {:#x}, cr2 {:#x}) -> signal {sig}",
        task::current_process().pid(),
        task::sched::current().tid(),
        frame.vector,
        frame.rip,
        frame.error,
        cpu::read_cr2()
    );
    force_signal(sig);
}

/// A synchronous fault: the signal is delivered now, even if blocked or ignored
/// (as Linux's force_sig: a blocked SIGSEGV on a fault kills the process).
fn force_signal(sig: u32) {
    let t = task::sched::current();
    let acts = t.process().inner.lock().sigactions.clone();
    let (blocked, ignored) = {
        let a = acts.lock()[(sig - 1) as usize];
        (
            t.inner.lock().sigmask & signal::bit(sig) != 0,
            a.handler == signal::SIG_IGN,
        )
    };
    if blocked || ignored || sig == signal::SIGKILL {
        task::exit::exit_group(sig as i32);
    } else {
        signal::send_to_thread(&t, sig);
    }
}

/// A page fault of a user copy (`usercopy`): resolve it as the process's own access
/// would be (the instruction then runs again), or resume at the copy's fixup (`EFAULT`).
fn user_access_fault(frame: &mut TrapFrame, fixup: u64) {
    let addr = cpu::read_cr2();
    let write = frame.error & 2 != 0;
    let vm = task::sched::current().process().vm();
    let r = match vm {
        Some(vm) if addr < crate::mm::USER_END => vm.lock().fault(addr, write, false),
        _ => Fault::Violation,
    };
    // Out of frames: the copy runs again once the OOM killer has freed some.
    let retry =
        r == Fault::OutOfMemory && task::oom::machine_is_out() && task::oom::out_of_memory();
    if r != Fault::Handled && !retry {
        frame.rip = fixup;
    }
}

fn kernel_fault(frame: &TrapFrame) -> ! {
    cpu::disable_interrupts();
    crate::klog::emergency(format_args!(
        "KERNEL FAULT: exception {} error {:#x} at rip {:#x} cr2 {:#x}\n{:#x?}\n",
        frame.vector,
        frame.error,
        frame.rip,
        cpu::read_cr2(),
        frame
    ));
    cpu::qemu_exit(crate::arch::EXIT_PANIC)
}
