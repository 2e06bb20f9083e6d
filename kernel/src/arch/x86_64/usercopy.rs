//! Copies between kernel and user memory straight through the running process's page
//! tables, with fault recovery as Linux's `copy_from_user`: each instruction that may
//! touch user memory has an entry in [`EXCEPTION_TABLE`]; a kernel-mode page fault at one
//! of them first tries to resolve the fault (demand paging, copy-on-write), and when that
//! fails resumes at the entry's fixup, which returns the number of bytes not copied.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text
    .global bh_copy_bytes
    // rdi = destination, rsi = source, rdx = length; returns in rax the bytes left.
    // Eight bytes at a time, then the rest (each `rep` step is one instruction to QEMU).
bh_copy_bytes:
    mov rcx, rdx
    shr rcx, 3
bh_copy_q:
    rep movsq
    mov rcx, rdx
    and rcx, 7
bh_copy_b:
    rep movsb
    xor eax, eax
    ret
bh_copy_q_fixup:
    and rdx, 7
    lea rax, [rdx + rcx * 8]
    ret
bh_copy_b_fixup:
    mov rax, rcx
    ret

    .global bh_zero_bytes
    // rdi = destination, rsi = length; returns in rax the bytes left.
bh_zero_bytes:
    mov rdx, rsi
    mov rcx, rsi
    shr rcx, 3
    xor eax, eax
bh_zero_q:
    rep stosq
    mov rcx, rdx
    and rcx, 7
bh_zero_b:
    rep stosb
    ret
bh_zero_q_fixup:
    and rdx, 7
    lea rax, [rdx + rcx * 8]
    ret
bh_zero_b_fixup:
    mov rax, rcx
    ret
"#
);

unsafe extern "C" {
    fn bh_copy_bytes(dst: *mut u8, src: *const u8, len: usize) -> usize;
    fn bh_zero_bytes(dst: *mut u8, len: usize) -> usize;
    static bh_copy_q: u8;
    static bh_copy_q_fixup: u8;
    static bh_copy_b: u8;
    static bh_copy_b_fixup: u8;
    static bh_zero_q: u8;
    static bh_zero_q_fixup: u8;
    static bh_zero_b: u8;
    static bh_zero_b_fixup: u8;
}

/// (faulting instruction, where to resume) pairs.
fn exception_table() -> [(u64, u64); 4] {
    // Only the labels' addresses are taken (`&raw const`), nothing is read.
    [
        (
            &raw const bh_copy_q as u64,
            &raw const bh_copy_q_fixup as u64,
        ),
        (
            &raw const bh_copy_b as u64,
            &raw const bh_copy_b_fixup as u64,
        ),
        (
            &raw const bh_zero_q as u64,
            &raw const bh_zero_q_fixup as u64,
        ),
        (
            &raw const bh_zero_b as u64,
            &raw const bh_zero_b_fixup as u64,
        ),
    ]
}

/// Where a kernel-mode fault at `rip` resumes, if `rip` is a user-access instruction.
pub fn fixup_for(rip: u64) -> Option<u64> {
    exception_table()
        .iter()
        .find(|(insn, _)| *insn == rip)
        .map(|(_, fixup)| *fixup)
}

/// Copies `len` bytes from `src` to `dst`, one side of which is user memory of the
/// running process (`[addr, addr+len)` checked below `USER_END` by the caller).
/// Returns the number of bytes not copied (0 on success).
///
/// # Safety
/// The kernel side must be valid for `len` bytes; the user side may be anything below
/// `USER_END`: faults there are recovered.
pub unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize) -> usize {
    // SAFETY: the caller's contract; faults on the user side resume at the fixup.
    unsafe { bh_copy_bytes(dst, src, len) }
}

/// Zero-fills `len` user bytes at `dst`; returns the number of bytes not cleared.
///
/// # Safety
/// As [`copy_bytes`]: `dst` is a user address range below `USER_END`.
pub unsafe fn zero_bytes(dst: *mut u8, len: usize) -> usize {
    // SAFETY: the caller's contract; faults resume at the fixup.
    unsafe { bh_zero_bytes(dst, len) }
}
