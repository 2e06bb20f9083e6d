//! GDT with kernel and user segments and the TSS; the `syscall` MSRs.

use super::cpu;
use core::arch::asm;
use core::cell::UnsafeCell;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
pub const USER_DS: u16 = 0x18 | 3;
pub const USER_CS: u16 = 0x20 | 3;
const TSS_SEL: u16 = 0x28;

#[repr(C, packed)]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

/// Per-CPU state touched by assembly; one CPU, so one instance.
#[repr(C)]
pub struct CpuLocal {
    /// Top of the running thread's kernel stack (read by the syscall entry).
    pub kernel_rsp: u64,
    /// The user `rsp` saved by the syscall entry.
    pub user_rsp_scratch: u64,
}

pub struct Racy<T>(pub UnsafeCell<T>);
// SAFETY: single CPU; these are written only with interrupts disabled.
unsafe impl<T> Sync for Racy<T> {}

#[unsafe(no_mangle)]
pub static CPU_LOCAL: Racy<CpuLocal> = Racy(UnsafeCell::new(CpuLocal {
    kernel_rsp: 0,
    user_rsp_scratch: 0,
}));

static TSS: Racy<Tss> = Racy(UnsafeCell::new(Tss {
    _reserved0: 0,
    rsp: [0; 3],
    _reserved1: 0,
    ist: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    iomap_base: 104,
}));

static GDT: Racy<[u64; 7]> = Racy(UnsafeCell::new([
    0,
    0x00af9a000000ffff, // kernel code
    0x00cf92000000ffff, // kernel data
    0x00cff2000000ffff, // user data
    0x00affa000000ffff, // user code
    0,
    0, // TSS (two slots)
]));

/// Kernel stack used for double faults (IST1), so a stack overflow still reports.
static DF_STACK: Racy<[u8; 16384]> = Racy(UnsafeCell::new([0; 16384]));

/// Kernel stack for NMIs (IST2): the watchdog's NMI may come at any instruction.
static NMI_STACK: Racy<[u8; 16384]> = Racy(UnsafeCell::new([0; 16384]));

pub fn init() {
    // SAFETY: runs once at boot, single CPU, interrupts off; the tables are static.
    unsafe {
        let tss = TSS.0.get();
        (*tss).ist[0] = DF_STACK.0.get() as u64 + 16384;
        (*tss).ist[1] = NMI_STACK.0.get() as u64 + 16384;
        let base = tss as u64;
        let limit = (core::mem::size_of::<Tss>() - 1) as u64;
        let gdt = &mut *GDT.0.get();
        gdt[5] = limit & 0xffff
            | (base & 0xff_ffff) << 16
            | 0x89 << 40
            | ((limit >> 16) & 0xf) << 48
            | ((base >> 24) & 0xff) << 56;
        gdt[6] = base >> 32;
        #[repr(C, packed)]
        struct Ptr {
            limit: u16,
            base: u64,
        }
        let ptr = Ptr {
            limit: (7 * 8 - 1) as u16,
            base: gdt.as_ptr() as u64,
        };
        asm!("lgdt [{}]", in(reg) &ptr, options(nostack));
        asm!(
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            cs = const KERNEL_CS as u64,
            ds = in(reg) KERNEL_DS as u64,
            tmp = out(reg) _,
        );
        asm!("ltr {:x}", in(reg) TSS_SEL, options(nostack));
    }
    cpu::wrmsr(cpu::MSR_STAR, (0x10u64 << 48) | ((KERNEL_CS as u64) << 32));
    cpu::wrmsr(
        cpu::MSR_LSTAR,
        super::trap::syscall_entry as *const () as u64,
    );
    // Mask IF, TF, DF, AC on entry: the kernel runs with interrupts off.
    cpu::wrmsr(cpu::MSR_FMASK, 0x4_0700);
}

/// Sets the stack the CPU switches to on an interrupt or syscall from ring 3.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU, called with interrupts off during a context switch.
    unsafe {
        (*TSS.0.get()).rsp[0] = top;
        (*CPU_LOCAL.0.get()).kernel_rsp = top;
    }
}
