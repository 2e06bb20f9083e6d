//! PVH entry: QEMU's `-kernel` loads the ELF, finds the Xen PVH note and jumps to
//! `pvh_start32` in 32-bit protected mode with paging off and `ebx` pointing at
//! `hvm_start_info`. This code zeroes the BSS, builds boot page tables (identity
//! 0–4 GiB, the direct map at `PHYS_OFFSET`, the kernel image at `KERNEL_BASE`),
//! enters long mode and calls `kernel_main` in the higher half.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 4, 18
    .asciz "Xen"
    .balign 4
    .long pvh_start32

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi

    /* zero the boot page tables and the kernel's .bss (physical addresses) */
    mov $__boot_bss_start, %edi
    mov $__boot_bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
    mov $(__bss_start - 0xFFFFFFFF80000000), %edi
    mov $(__bss_end - 0xFFFFFFFF80000000), %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    /* PML4[0] = PML4[256] = low PDPT (4 GiB), PML4[511] = high PDPT */
    mov $boot_pdpt_low, %eax
    or $3, %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256*8
    mov $boot_pdpt_high, %eax
    or $3, %eax
    mov %eax, boot_pml4 + 511*8
    /* low PDPT[0..4] -> the four page directories */
    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt_low
    add $4096, %eax
    mov %eax, boot_pdpt_low + 8
    add $4096, %eax
    mov %eax, boot_pdpt_low + 16
    add $4096, %eax
    mov %eax, boot_pdpt_low + 24
    /* high PDPT[510], [511] -> first two GiB */
    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt_high + 510*8
    add $4096, %eax
    mov %eax, boot_pdpt_high + 511*8
    /* 2048 PD entries of 2 MiB pages */
    mov $boot_pd, %edi
    mov $0x83, %eax
    xor %edx, %edx
    mov $2048, %ecx
1:
    mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 1b

    /* CR4: PAE | OSFXSR | OSXMMEXCPT | PGE */
    mov %cr4, %eax
    or $0x6a0, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* EFER: LME | NXE | SCE */
    mov $0xC0000080, %ecx
    rdmsr
    or $0x901, %eax
    wrmsr
    /* CR0: PG | WP | NE | MP | PE, EM clear */
    mov %cr0, %eax
    and $~0x4, %eax
    or $0x80010023, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_long_low

    .code64
boot_long_low:
    movabs $boot_long_high, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096 * 4

    .section .text
    .code64
boot_long_high:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %esi, %edi
    call kernel_main
2:
    hlt
    jmp 2b

    .section .bss
    .balign 16
boot_stack:
    .skip 65536
boot_stack_top:
"#,
    options(att_syntax)
);

/// Physical address of the boot PML4 (identity-mapped low memory).
pub fn boot_pml4_phys() -> u64 {
    unsafe extern "C" {
        static boot_pml4: u8;
    }
    (&raw const boot_pml4) as u64
}

/// What the PVH loader tells us: RAM ranges, the initramfs and the command line.
pub struct BootInfo {
    /// Usable RAM ranges `(start, end)` (physical).
    pub ram: [(u64, u64); 16],
    pub ram_count: usize,
    /// The initramfs module `(physical address, size)`, if any.
    pub initrd: Option<(u64, u64)>,
    pub cmdline: &'static str,
}

/// Reads `hvm_start_info` (physical address `start_info`, reachable through the direct map).
pub fn parse_start_info(start_info: u32) -> BootInfo {
    use crate::mm::phys_to_virt;
    let rd64 = |pa: u64| -> u64 {
        // SAFETY: the PVH loader guarantees these structures in low RAM, direct-mapped.
        unsafe { (phys_to_virt(pa) as *const u64).read_unaligned() }
    };
    let rd32 = |pa: u64| -> u32 {
        // SAFETY: as above.
        unsafe { (phys_to_virt(pa) as *const u32).read_unaligned() }
    };
    let si = start_info as u64;
    assert_eq!(
        rd32(si),
        0x336e_c578,
        "PVH start_info magic (booted by a PVH loader)"
    );
    let mut info = BootInfo {
        ram: [(0, 0); 16],
        ram_count: 0,
        initrd: None,
        cmdline: "",
    };
    let nr_modules = rd32(si + 12);
    if nr_modules > 0 {
        let m = rd64(si + 16);
        info.initrd = Some((rd64(m), rd64(m + 8)));
    }
    let cmd = rd64(si + 24);
    if cmd != 0 {
        let p = phys_to_virt(cmd) as *const u8;
        let mut n = 0;
        // SAFETY: a NUL-terminated string placed by the loader; bounded at 4 KiB.
        unsafe {
            while n < 4096 && *p.add(n) != 0 {
                n += 1;
            }
            info.cmdline = core::str::from_utf8(core::slice::from_raw_parts(p, n)).unwrap_or("");
        }
    }
    let map = rd64(si + 40);
    let entries = rd32(si + 48) as u64;
    for i in 0..entries {
        let e = map + i * 24;
        let (addr, size, ty) = (rd64(e), rd64(e + 8), rd32(e + 16));
        if ty == 1 && info.ram_count < info.ram.len() {
            info.ram[info.ram_count] = (addr, addr + size);
            info.ram_count += 1;
        }
    }
    info
}
