//! The vDSO's machine code (`crate::vdso` wraps it in an ELF image, `mm::vdso` maps it).
//! Position independent: it reads the data pages in front of the image through
//! `rip`-relative addresses (`VV_CLOCK`, `VV_TIME`), calls nothing outside itself, and falls
//! back to the system call for any clock it does not compute. The arithmetic is the
//! kernel's (`time::monotonic_ns`, `container::time::to_container`), so a value read here
//! and one from the system call agree.

use crate::vdso::{
    CLOCK_MULT, CLOCK_REALTIME_OFFSET, CLOCK_TSC_START, CODE_OFFSET, DATA_PAGES, TIME_BOOTTIME,
    TIME_MONOTONIC,
};
use core::arch::global_asm;

const COARSE_NS: u64 = 1_000_000_000 / super::timer::HZ;

global_asm!(
    r#"
    .section .rodata.bh_vdso, "a"
    .balign 16
    .global bh_vdso_start
bh_vdso_start:
    .set VV_CLOCK, bh_vdso_start - {code_off} - {data_pages} * 4096
    .set VV_TIME, VV_CLOCK + 4096

    // rax = host CLOCK_MONOTONIC in ns; clobbers rcx, rdx.
.Lbh_vdso_mono:
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, [rip + VV_CLOCK + {tsc_start}]
    mul qword ptr [rip + VV_CLOCK + {mult}]
    shrd rax, rdx, 32
    ret

    // rax += rcx (signed), 0 if that goes below 0; clobbers nothing else.
.Lbh_vdso_shift:
    add rax, rcx
    jc 1f
    test rcx, rcx
    jns 1f
    xor eax, eax
1:  ret

    // rax = CLOCK_REALTIME in ns; clobbers rcx, rdx.
.Lbh_vdso_real:
    call .Lbh_vdso_mono
    mov rcx, [rip + VV_CLOCK + {rt_off}]
    jmp .Lbh_vdso_shift

    // rax = rax rounded down to a timer tick; clobbers rcx, rdx.
.Lbh_vdso_coarse:
    mov rcx, {coarse}
    xor edx, edx
    div rcx
    imul rax, rcx
    ret

    // rax = ns -> struct timespec at [rsi]; returns 0.
.Lbh_vdso_ts:
    mov rcx, 1000000000
    xor edx, edx
    div rcx
    mov [rsi], rax
    mov [rsi + 8], rdx
    xor eax, eax
    ret

    .global bh_vdso_clock_gettime
bh_vdso_clock_gettime:
    cmp edi, 1
    je 1f
    test edi, edi
    je 2f
    cmp edi, 4
    je 1f
    cmp edi, 7
    je 3f
    cmp edi, 6
    je 4f
    cmp edi, 5
    je 5f
    mov eax, 228
    syscall
    ret
1:  call .Lbh_vdso_mono
    mov rcx, [rip + VV_TIME + {t_mono}]
    call .Lbh_vdso_shift
    jmp .Lbh_vdso_ts
2:  call .Lbh_vdso_real
    jmp .Lbh_vdso_ts
3:  call .Lbh_vdso_mono
    mov rcx, [rip + VV_TIME + {t_boot}]
    call .Lbh_vdso_shift
    jmp .Lbh_vdso_ts
4:  call .Lbh_vdso_mono
    call .Lbh_vdso_coarse
    mov rcx, [rip + VV_TIME + {t_mono}]
    call .Lbh_vdso_shift
    jmp .Lbh_vdso_ts
5:  call .Lbh_vdso_real
    call .Lbh_vdso_coarse
    jmp .Lbh_vdso_ts

    .global bh_vdso_gettimeofday
bh_vdso_gettimeofday:
    test rsi, rsi
    jnz 2f
    test rdi, rdi
    jz 1f
    call .Lbh_vdso_real
    mov rcx, 1000000000
    xor edx, edx
    div rcx
    mov [rdi], rax
    mov rax, rdx
    mov ecx, 1000
    xor edx, edx
    div rcx
    mov [rdi + 8], rax
1:  xor eax, eax
    ret
2:  mov eax, 96
    syscall
    ret

    .global bh_vdso_time
bh_vdso_time:
    call .Lbh_vdso_real
    mov rcx, 1000000000
    xor edx, edx
    div rcx
    test rdi, rdi
    jz 1f
    mov [rdi], rax
1:  ret

    .global bh_vdso_getcpu
bh_vdso_getcpu:
    test rdi, rdi
    jz 1f
    mov dword ptr [rdi], 0
1:  test rsi, rsi
    jz 2f
    mov dword ptr [rsi], 0
2:  xor eax, eax
    ret

    .global bh_vdso_clock_getres
bh_vdso_clock_getres:
    mov eax, 1
    test edi, edi
    je 1f
    cmp edi, 1
    je 1f
    cmp edi, 4
    je 1f
    cmp edi, 7
    je 1f
    mov eax, {coarse}
    cmp edi, 5
    je 1f
    cmp edi, 6
    je 1f
    mov eax, 229
    syscall
    ret
1:  test rsi, rsi
    jz 2f
    mov qword ptr [rsi], 0
    mov [rsi + 8], rax
2:  xor eax, eax
    ret

    .global bh_vdso_end
bh_vdso_end:
    .text
"#,
    code_off = const CODE_OFFSET,
    data_pages = const DATA_PAGES,
    tsc_start = const CLOCK_TSC_START,
    mult = const CLOCK_MULT,
    rt_off = const CLOCK_REALTIME_OFFSET,
    t_mono = const TIME_MONOTONIC,
    t_boot = const TIME_BOOTTIME,
    coarse = const COARSE_NS,
);

unsafe extern "C" {
    static bh_vdso_start: u8;
    static bh_vdso_end: u8;
    static bh_vdso_clock_gettime: u8;
    static bh_vdso_gettimeofday: u8;
    static bh_vdso_time: u8;
    static bh_vdso_getcpu: u8;
    static bh_vdso_clock_getres: u8;
}

/// The code bytes.
pub fn code() -> &'static [u8] {
    let start = &raw const bh_vdso_start;
    let len = &raw const bh_vdso_end as usize - start as usize;
    // SAFETY: `[bh_vdso_start, bh_vdso_end)` is the assembled code above, in the kernel's
    // read-only data, never written.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// The exported functions and their offsets in [`code`].
pub fn symbols() -> [(&'static str, usize); 5] {
    let start = &raw const bh_vdso_start as usize;
    [
        (
            "__vdso_clock_gettime",
            &raw const bh_vdso_clock_gettime as usize - start,
        ),
        (
            "__vdso_gettimeofday",
            &raw const bh_vdso_gettimeofday as usize - start,
        ),
        ("__vdso_time", &raw const bh_vdso_time as usize - start),
        ("__vdso_getcpu", &raw const bh_vdso_getcpu as usize - start),
        (
            "__vdso_clock_getres",
            &raw const bh_vdso_clock_getres as usize - start,
        ),
    ]
}
