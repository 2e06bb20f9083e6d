//! Interrupt and exception entry stubs, the `syscall` entry, the IDT, the kernel
//! context switch and FPU state save/restore. Every entry builds the same
//! [`TrapFrame`] on the kernel stack, so a frame can be copied (fork) and resumed
//! through one path (`trap_return`, `iretq`).

use super::gdt::{CPU_LOCAL, KERNEL_CS, Racy};
use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;

/// The user (or interrupted kernel) registers, as the entry stubs push them.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// The `vector` value of a frame built by the `syscall` entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

impl TrapFrame {
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// A fresh ring-3 frame starting at `rip` with stack `rsp`.
    pub fn new_user(rip: u64, rsp: u64) -> Self {
        TrapFrame {
            rip,
            rsp,
            cs: super::gdt::USER_CS as u64,
            ss: super::gdt::USER_DS as u64,
            rflags: 0x202,
            ..Default::default()
        }
    }
}

global_asm!(
    r#"
    .macro ISR_NOERR n
    isr_\n:
        push 0
        push \n
        jmp trap_common
    .endm
    .macro ISR_ERR n
    isr_\n:
        push \n
        jmp trap_common
    .endm

    .section .text
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    ISR_NOERR \n
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    ISR_ERR \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    ISR_NOERR \n
    .endr

    .section .rodata
    .balign 8
    .global isr_table
isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad isr_\n
    .endr

    .section .text
trap_common:
    cld
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    call {trap_handler}
    .global trap_return
trap_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

    .global syscall_entry
syscall_entry:
    mov [rip + {cpu} + 8], rsp
    mov rsp, [rip + {cpu}]
    push 0x1b
    push qword ptr [rip + {cpu} + 8]
    push r11
    push 0x23
    push rcx
    push 0
    push 0x100
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call {syscall_handler}
    jmp trap_return

    .global switch_context
switch_context:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    .global thread_trampoline
thread_trampoline:
    call {finish_switch}
    jmp trap_return
"#,
    trap_handler = sym super::interrupts::trap_handler,
    syscall_handler = sym crate::syscall::syscall_handler,
    cpu = sym CPU_LOCAL,
    finish_switch = sym crate::task::sched::finish_switch,
);

unsafe extern "C" {
    static isr_table: [u64; 48];
    pub fn syscall_entry();
    fn switch_context(save_rsp: *mut u64, new_rsp: u64);
    fn thread_trampoline();
}

#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct IdtEntry([u64; 2]);

static IDT: Racy<[IdtEntry; 256]> = Racy(UnsafeCell::new([IdtEntry([0, 0]); 256]));

pub fn init_idt() {
    // SAFETY: once at boot with interrupts off; the table is static.
    unsafe {
        let idt = &mut *IDT.0.get();
        for (v, &addr) in isr_table.iter().enumerate() {
            let ist: u64 = match v {
                8 => 1,
                2 => 2,
                _ => 0,
            };
            let dpl: u64 = if v == 3 { 3 } else { 0 };
            let lo = (addr & 0xffff)
                | (KERNEL_CS as u64) << 16
                | ist << 32
                | (0x8e | dpl << 5) << 40
                | ((addr >> 16) & 0xffff) << 48;
            idt[v] = IdtEntry([lo, addr >> 32]);
        }
        #[repr(C, packed)]
        struct Ptr {
            limit: u16,
            base: u64,
        }
        let ptr = Ptr {
            limit: (256 * 16 - 1) as u16,
            base: idt.as_ptr() as u64,
        };
        asm!("lidt [{}]", in(reg) &ptr, options(nostack));
    }
}

/// Saved kernel context of a thread that is not running: its kernel stack pointer.
#[derive(Default)]
pub struct KernelContext {
    pub rsp: u64,
}

/// Prepares a new thread's kernel stack so that the first switch to it resumes `frame`
/// in user mode. Returns the initial saved `rsp`.
pub fn prepare_stack(stack_top: u64, frame: &TrapFrame) -> u64 {
    let frame_addr = stack_top - core::mem::size_of::<TrapFrame>() as u64;
    // callee-saved registers (6) + return address, popped by `switch_context`
    let switch_addr = frame_addr - 7 * 8;
    // SAFETY: the caller owns the fresh stack [stack_top - size, stack_top) which is
    // large enough for a frame and the switch record; both are aligned.
    unsafe {
        (frame_addr as *mut TrapFrame).write(*frame);
        let sw = switch_addr as *mut u64;
        for i in 0..6 {
            sw.add(i).write(0);
        }
        sw.add(6).write(thread_trampoline as *const () as u64);
    }
    switch_addr
}

/// Switches kernel stacks: saves the current one in `*save`, resumes `next`.
pub fn switch(save: &mut u64, next: u64) {
    // SAFETY: `next` was produced by `prepare_stack` or a previous `switch`, and the
    // stack it points into stays alive while the thread exists (the scheduler keeps it).
    unsafe { switch_context(save as *mut u64, next) }
}

/// FPU/SSE register image (`fxsave` format).
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState(pub [u8; 512]);

impl FpuState {
    pub fn save(&mut self) {
        // SAFETY: the buffer is 512 bytes and 16-byte aligned.
        unsafe { asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) }
    }
    pub fn restore(&self) {
        // SAFETY: the buffer holds an image produced by `fxsave64` (or the initial one).
        unsafe { asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack)) }
    }
    /// The state after `fninit` with the default MXCSR, as a new program gets.
    pub fn initial() -> Self {
        let mut s = FpuState([0; 512]);
        // FCW 0x37f, MXCSR 0x1f80
        s.0[0] = 0x7f;
        s.0[1] = 0x03;
        s.0[24] = 0x80;
        s.0[25] = 0x1f;
        s
    }
}
