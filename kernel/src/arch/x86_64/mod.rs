//! x86_64: PVH boot, GDT/TSS/IDT, trap and syscall entry, context switch, port I/O,
//! serial console, PIC and PIT.
pub mod backtrace;
pub mod boot;
pub mod context;
pub mod cpu;
pub mod current;
pub mod gdt;
pub mod interrupts;
pub mod pci;
pub mod serial;
pub mod timer;
pub mod trap;
pub mod usercopy;
pub mod vdso;
pub mod watchdog;
