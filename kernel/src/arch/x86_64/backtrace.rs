//! A frame-pointer walk of the kernel stack (the kernel is built with
//! `-C force-frame-pointers=yes`, see `qemu/build.rs`): each frame's saved `rbp` at
//! `[rbp]` and return address at `[rbp + 8]`. Used by the panic handler and the watchdog;
//! the runner symbolizes the addresses with the kernel ELF it booted.

use crate::mm::{KERNEL_BASE, PAGE_SIZE, paging};

/// Frames walked at most.
const MAX_FRAMES: usize = 32;
/// Kernel stacks live from here (`mm::kstack`).
const KSTACK_BASE: u64 = 0xFFFF_E000_0000_0000;

/// Whether the 16 bytes at `rbp` can be read without a fault: 8-byte aligned, in a mapped
/// page of a kernel stack or inside the kernel image (the boot stack).
fn readable(rbp: u64) -> bool {
    unsafe extern "C" {
        static __kernel_end: u8;
    }
    if !rbp.is_multiple_of(8) || rbp.checked_add(16).is_none() {
        return false;
    }
    let end = (&raw const __kernel_end) as u64;
    if rbp >= KERNEL_BASE {
        return rbp + 16 <= end;
    }
    if rbp < KSTACK_BASE {
        return false;
    }
    let pml4 = super::boot::boot_pml4_phys();
    let page = rbp & !(PAGE_SIZE - 1);
    // Both words are in one page (8-aligned, 16 bytes may cross: check the next too).
    paging::lookup(pml4, page).is_some()
        && ((rbp + 15) & !(PAGE_SIZE - 1) == page
            || paging::lookup(pml4, page + PAGE_SIZE).is_some())
}

/// Calls `f` with each return address from frame pointer `rbp` up, innermost first.
pub fn walk_from(mut rbp: u64, f: &mut dyn FnMut(u64)) {
    for _ in 0..MAX_FRAMES {
        if !readable(rbp) {
            return;
        }
        // SAFETY: `readable` checked the two words are mapped kernel memory.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret < KERNEL_BASE {
            return;
        }
        f(ret);
        // Frames go up the stack: a pointer going down (or standing still) ends the walk.
        if next <= rbp {
            return;
        }
        rbp = next;
    }
}

/// The walk from the caller's own frame.
#[inline(never)]
pub fn walk_here(f: &mut dyn FnMut(u64)) {
    let rbp: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    walk_from(rbp, f);
}

/// Writes `bytes` to QEMU's debug console (port 0xe9), which the runner reads back after
/// the run to symbolize a backtrace.
pub fn debugcon(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: port 0xe9 is QEMU's debugcon; writing a byte has no other effect.
        unsafe {
            core::arch::asm!("out dx, al", in("dx") 0xe9u16, in("al") b, options(nomem, nostack))
        };
    }
}

/// Prints a backtrace from here: `  #N 0xADDR` lines on the console and `bt 0xADDR`
/// lines on the debug console for the runner.
pub fn print(emit: &mut dyn FnMut(core::fmt::Arguments)) {
    emit(format_args!("backtrace:\n"));
    let mut n = 0;
    walk_here(&mut |ret| {
        // A return address points after the call: the call is the byte before.
        emit_one(ret - 1, &mut n, emit);
    });
}

/// Prints the backtrace of an interrupted context: `rip` first, then its frames.
pub fn print_from(rip: u64, rbp: u64, emit: &mut dyn FnMut(core::fmt::Arguments)) {
    emit(format_args!("backtrace:\n"));
    let mut n = 0;
    emit_one(rip, &mut n, emit);
    walk_from(rbp, &mut |ret| emit_one(ret - 1, &mut n, emit));
}

fn emit_one(at: u64, n: &mut usize, emit: &mut dyn FnMut(core::fmt::Arguments)) {
    emit(format_args!("  #{n} {at:#x}\n"));
    let mut line = [0u8; 24];
    debugcon(hex_line(at, &mut line));
    *n += 1;
}

/// `bt 0x<16 hex digits>\n` in `buf`.
fn hex_line(v: u64, buf: &mut [u8; 24]) -> &[u8] {
    buf[..5].copy_from_slice(b"bt 0x");
    for i in 0..16 {
        let d = ((v >> ((15 - i) * 4)) & 0xf) as u8;
        buf[5 + i] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
    }
    buf[21] = b'\n';
    &buf[..22]
}
