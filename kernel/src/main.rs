//! Bulkhead kernel. On `x86_64-unknown-none` this is the kernel binary; on the host
//! only the hardware-free modules compile, for `cargo test`.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

pub mod errno;

#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
mod klog;
#[cfg(target_os = "none")]
pub mod syscall;

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::x86_64::cpu::disable_interrupts();
    klog::emergency(format_args!("KERNEL PANIC: {info}\n"));
    arch::x86_64::cpu::qemu_exit(arch::EXIT_PANIC)
}

#[cfg(target_os = "none")]
#[unsafe(no_mangle)]
extern "C" fn kernel_main(start_info: u32) -> ! {
    arch::x86_64::serial::init();
    klog::init("info");
    log::info!("Bulkhead booting, start_info at {start_info:#x}");
    arch::x86_64::cpu::qemu_exit(0)
}
