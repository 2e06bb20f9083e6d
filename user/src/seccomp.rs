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

/// Every `CLONE_NEW*` flag (NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
pub const CLONE_NEW_ANY: u32 = 0x7e02_0080;

/// System calls `bkrun`'s default profile fails with `EPERM` (as Docker's does): mount,
/// umount2, pivot_root, chroot, reboot, kexec_load, init_module, finit_module,
/// delete_module, ptrace, setns, unshare, swapon, swapoff, acct, settimeofday,
/// clock_settime.
pub const DEFAULT_DENIED: [u32; 17] = [
    165, 166, 155, 161, 169, 246, 175, 313, 176, 101, 308, 272, 167, 168, 163, 164, 227,
];

/// `bkrun`'s default profile: another architecture is killed; the [`DEFAULT_DENIED`]
/// calls and `clone` with any `CLONE_NEW*` flag fail with `EPERM`; `clone3` fails with
/// `ENOSYS` (a filter cannot read its flags, so programs fall back to `clone`); the rest
/// is allowed.
pub fn default_profile() -> alloc::vec::Vec<Insn> {
    const EPERM: u32 = 1;
    const ENOSYS: u32 = 38;
    const CLONE: u32 = 56;
    const CLONE3: u32 = 435;
    let n = DEFAULT_DENIED.len();
    let mut p = alloc::vec::Vec::with_capacity(n + 12);
    p.push(stmt(LD_W_ABS, OFF_ARCH));
    p.push(jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0));
    p.push(stmt(RET_K, RET_KILL_PROCESS));
    p.push(stmt(LD_W_ABS, OFF_NR));
    // The comparisons (n + 2), then: allow, the clone check (load, test, allow), EPERM,
    // ENOSYS. Jumps only go forward.
    let first_cmp = p.len();
    let allow = first_cmp + n + 2;
    let clone_check = allow + 1;
    let eperm = allow + 4;
    let enosys = allow + 5;
    let to = |from: usize, target: usize| (target - from - 1) as u8;
    p.push(jump(JEQ_K, CLONE, to(first_cmp, clone_check), 0));
    p.push(jump(JEQ_K, CLONE3, to(first_cmp + 1, enosys), 0));
    for (i, &nr) in DEFAULT_DENIED.iter().enumerate() {
        let at = first_cmp + 2 + i;
        p.push(jump(JEQ_K, nr, to(at, eperm), 0));
    }
    p.push(stmt(RET_K, RET_ALLOW));
    // clone(flags, ...): the flags are arg 0's low word.
    p.push(stmt(LD_W_ABS, off_arg(0)));
    p.push(jump(JSET_K, CLONE_NEW_ANY, to(clone_check + 1, eperm), 0));
    p.push(stmt(RET_K, RET_ALLOW));
    p.push(stmt(RET_K, RET_ERRNO | EPERM));
    p.push(stmt(RET_K, RET_ERRNO | ENOSYS));
    p
}
