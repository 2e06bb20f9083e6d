//! seccomp(2) for the test programs and `bkrun`: the constants, classic-BPF instruction
//! builders (`BPF_STMT`/`BPF_JUMP`) and installing a filter.

use crate::sys::{self, SysResult};

pub const SYS_SECCOMP: usize = 317;

pub const SET_MODE_STRICT: usize = 0;
pub const SET_MODE_FILTER: usize = 1;
pub const GET_ACTION_AVAIL: usize = 2;
pub const GET_NOTIF_SIZES: usize = 3;

pub const FLAG_TSYNC: usize = 1;
pub const FLAG_LOG: usize = 2;
pub const FLAG_SPEC_ALLOW: usize = 4;
pub const FLAG_NEW_LISTENER: usize = 8;
pub const FLAG_TSYNC_ESRCH: usize = 16;

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

pub const PR_GET_SECCOMP: usize = 21;
pub const PR_SET_SECCOMP: usize = 22;
pub const MODE_STRICT: usize = 1;
pub const MODE_FILTER: usize = 2;

/// `si_code` of seccomp's SIGSYS.
pub const SYS_SECCOMP_CODE: i32 = 1;

/// Byte offsets in `struct seccomp_data`.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub const OFF_IP: u32 = 8;
pub const fn off_arg(i: u32) -> u32 {
    16 + 8 * i
}

// Opcodes (`linux/filter.h` combinations).
pub const LD_W_ABS: u16 = 0x20;
pub const LD_W_LEN: u16 = 0x80;
pub const LD_IMM: u16 = 0x00;
pub const LD_MEM: u16 = 0x60;
pub const LDX_IMM: u16 = 0x01;
pub const ST: u16 = 0x02;
pub const ALU_AND_K: u16 = 0x54;
pub const ALU_MOD_K: u16 = 0x94;
pub const ALU_DIV_K: u16 = 0x34;
pub const JMP_JA: u16 = 0x05;
pub const JEQ_K: u16 = 0x15;
pub const JGE_K: u16 = 0x35;
pub const JSET_K: u16 = 0x45;
pub const RET_K: u16 = 0x06;
pub const RET_A: u16 = 0x16;
pub const LD_H_ABS: u16 = 0x28;

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
pub struct Fprog {
    pub len: u16,
    pub filter: *const Insn,
}

pub const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// `seccomp(op, flags, args)`.
pub fn seccomp(op: usize, flags: usize, args: usize) -> SysResult {
    // SAFETY: the kernel checks `args`.
    sys::check(unsafe { sys::syscall3(SYS_SECCOMP, op, flags, args) })
}

/// Installs `prog` with `SECCOMP_SET_MODE_FILTER` and `flags`.
pub fn install(prog: &[Insn], flags: usize) -> SysResult {
    let f = Fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    seccomp(SET_MODE_FILTER, flags, &f as *const Fprog as usize)
}

/// A filter that returns `hit` for system call `nr` on x86_64 and allows the rest
/// (another architecture is killed): 7 instructions.
pub fn on_nr(nr: usize, hit: u32) -> [Insn; 7] {
    [
        stmt(LD_W_ABS, OFF_ARCH),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(RET_K, RET_KILL_PROCESS),
        stmt(LD_W_ABS, OFF_NR),
        jump(JEQ_K, nr as u32, 0, 1),
        stmt(RET_K, hit),
        stmt(RET_K, RET_ALLOW),
    ]
}
