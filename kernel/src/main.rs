//! Bulkhead kernel. On `x86_64-unknown-none` this is the kernel binary; on the host
//! only the hardware-free modules compile, for `cargo test`.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

pub mod container;
pub mod cred;
pub mod elf;
pub mod errno;
pub mod fs;
pub mod ipc;
pub mod mm;
pub mod net;
pub mod plimits;
pub mod seccomp;
pub mod vdso;

#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
mod boot;
#[cfg(target_os = "none")]
mod klog;
#[cfg(target_os = "none")]
pub mod syscall;
#[cfg(target_os = "none")]
pub mod task;
#[cfg(target_os = "none")]
pub mod time;

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::x86_64::cpu::disable_interrupts();
    klog::emergency(format_args!("KERNEL PANIC: {info}\n"));
    mm::heap::report_exhaustion(&info.message(), &mut |a| klog::emergency(a));
    arch::x86_64::backtrace::print(&mut |a| klog::emergency(a));
    arch::x86_64::cpu::qemu_exit(arch::EXIT_PANIC)
}
