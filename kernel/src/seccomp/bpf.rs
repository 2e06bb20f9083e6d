//! Classic BPF as seccomp uses it: the checker (Linux's `bpf_check_classic` followed by
//! `seccomp_check_filter`) and an interpreter over `struct seccomp_data`. Pure logic,
//! unit-tested on the host.

use crate::errno::Errno;

/// One `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `BPF_MAXINSNS`.
pub const MAX_INSNS: usize = 4096;
/// `BPF_MEMWORDS`: the scratch memory.
const MEM_WORDS: u32 = 16;
/// `sizeof(struct seccomp_data)`.
pub const DATA_SIZE: u32 = 64;

// Instruction classes, sizes, modes and operations (`linux/bpf_common.h`).
pub const LD: u16 = 0x00;
pub const LDX: u16 = 0x01;
pub const ST: u16 = 0x02;
pub const STX: u16 = 0x03;
pub const ALU: u16 = 0x04;
pub const JMP: u16 = 0x05;
pub const RET: u16 = 0x06;
pub const MISC: u16 = 0x07;
pub const W: u16 = 0x00;
pub const H: u16 = 0x08;
pub const IMM: u16 = 0x00;
pub const ABS: u16 = 0x20;
pub const IND: u16 = 0x40;
pub const MEM: u16 = 0x60;
pub const LEN: u16 = 0x80;
pub const ADD: u16 = 0x00;
pub const SUB: u16 = 0x10;
pub const MUL: u16 = 0x20;
pub const DIV: u16 = 0x30;
pub const OR: u16 = 0x40;
pub const AND: u16 = 0x50;
pub const LSH: u16 = 0x60;
pub const RSH: u16 = 0x70;
pub const NEG: u16 = 0x80;
pub const MOD: u16 = 0x90;
pub const XOR: u16 = 0xa0;
pub const JA: u16 = 0x00;
pub const JEQ: u16 = 0x10;
pub const JGT: u16 = 0x20;
pub const JGE: u16 = 0x30;
pub const JSET: u16 = 0x40;
pub const K: u16 = 0x00;
pub const X: u16 = 0x08;
pub const A: u16 = 0x10;
pub const TAX: u16 = 0x00;
pub const TXA: u16 = 0x80;

/// `BPF_STMT`.
pub const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `BPF_JUMP`.
pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// `struct seccomp_data`: what a filter reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Data {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl Data {
    /// The 32-bit word at byte offset `off` (checked: below 64, a multiple of 4), in
    /// the little-endian layout of the C struct.
    fn word(&self, off: u32) -> u32 {
        let half = |v: u64| {
            if off & 4 == 0 {
                v as u32
            } else {
                (v >> 32) as u32
            }
        };
        match off {
            0 => self.nr as u32,
            4 => self.arch,
            8 | 12 => half(self.instruction_pointer),
            _ => half(self.args[((off - 16) / 8) as usize]),
        }
    }
}

/// The opcodes seccomp accepts (Linux's `seccomp_check_filter` list, which is a subset of
/// classic BPF's). Loads are only 32-bit `BPF_ABS` into `seccomp_data` or its length.
fn allowed(code: u16) -> bool {
    const ALU_OPS: [u16; 9] = [ADD, SUB, MUL, DIV, AND, OR, XOR, LSH, RSH];
    match code & 0x07 {
        LD => code == LD | W | ABS || code == LD | W | LEN || code == LD | IMM || code == LD | MEM,
        LDX => code == LDX | W | LEN || code == LDX | IMM || code == LDX | MEM,
        ST => code == ST,
        STX => code == STX,
        ALU => {
            code == ALU | NEG
                || ALU_OPS
                    .iter()
                    .any(|&op| code == ALU | op | K || code == ALU | op | X)
        }
        JMP => {
            code == JMP | JA
                || [JEQ, JGT, JGE, JSET]
                    .iter()
                    .any(|&op| code == JMP | op | K || code == JMP | op | X)
        }
        RET => code == RET | K || code == RET | A,
        _ => code == MISC | TAX || code == MISC | TXA,
    }
}

/// Checks a program as Linux does before accepting it: `EINVAL` for an empty or too
/// long program, an opcode seccomp does not allow, a load outside `seccomp_data` or not
/// 4-aligned, scratch memory out of range or read before it is written on some path,
/// a division by constant zero, a shift of 32 or more, a jump past the end, or a last
/// instruction that is not a return.
pub fn check(prog: &[Insn]) -> Result<(), Errno> {
    let len = prog.len();
    if len == 0 || len > MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    for (pc, i) in prog.iter().enumerate() {
        if !allowed(i.code) {
            return Err(Errno::EINVAL);
        }
        let left = (len - pc - 1) as u64;
        let class = i.code & 0x07;
        let bad = match class {
            LD | LDX if i.code & 0xe0 == MEM => i.k >= MEM_WORDS,
            LD if i.code & 0xe0 == ABS => i.k >= DATA_SIZE || i.k & 3 != 0,
            ST | STX => i.k >= MEM_WORDS,
            ALU if i.code & 0x08 == K => match i.code & 0xf0 {
                DIV => i.k == 0,
                LSH | RSH => i.k >= 32,
                _ => false,
            },
            JMP if i.code & 0xf0 == JA => i.k as u64 >= left,
            JMP => i.jt as u64 >= left || i.jf as u64 >= left,
            _ => false,
        };
        if bad {
            return Err(Errno::EINVAL);
        }
    }
    if prog[len - 1].code & 0x07 != RET {
        return Err(Errno::EINVAL);
    }
    check_memory(prog)
}

/// Linux's `check_load_and_stores`: every scratch word read must have been written on
/// every path reaching the read.
fn check_memory(prog: &[Insn]) -> Result<(), Errno> {
    let mut masks = alloc::vec::Vec::new();
    masks
        .try_reserve_exact(prog.len())
        .map_err(|_| Errno::ENOMEM)?;
    masks.resize(prog.len(), u16::MAX);
    // Nothing is written at the start; after a jump, what reaches the next instruction
    // is only what the jumps to it recorded in its mask.
    let mut valid = 0u16;
    for (pc, i) in prog.iter().enumerate() {
        valid &= masks[pc];
        let class = i.code & 0x07;
        match class {
            ST | STX => valid |= 1 << i.k,
            LD | LDX if i.code & 0xe0 == MEM && valid & (1 << i.k) == 0 => {
                return Err(Errno::EINVAL);
            }
            JMP if i.code & 0xf0 == JA => {
                masks[pc + 1 + i.k as usize] &= valid;
                valid = u16::MAX;
            }
            JMP => {
                masks[pc + 1 + i.jt as usize] &= valid;
                masks[pc + 1 + i.jf as usize] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The length Linux gives a checked program once converted to eBPF (`bpf_convert_filter`),
/// which is what its path-length bound counts: a 3-instruction prologue, then one
/// instruction for each but: `RET K` 2; a conditional jump 2 when neither branch falls
/// through (or a `JSET` whose true branch does), one more when its constant is negative as
/// an `i32`; a division by X 4 (the zero check).
pub fn converted_len(prog: &[Insn]) -> usize {
    3 + prog
        .iter()
        .map(|i| match i.code & 0x07 {
            RET if i.code & 0x18 == K => 2,
            ALU if i.code & 0xf0 == DIV && i.code & 0x08 == X => 4,
            JMP if i.code & 0xf0 != JA => {
                let tmp = (i.code & 0x08 == K && (i.k as i32) < 0) as usize;
                let two = i.jf != 0 && (i.jt != 0 || i.code & 0xf0 == JSET);
                1 + tmp + two as usize
            }
            _ => 1,
        })
        .sum::<usize>()
}

/// Runs a checked program over `d` and returns its result. Jumps only go forward, so
/// this takes at most `prog.len()` steps.
pub fn run(prog: &[Insn], d: &Data) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEM_WORDS as usize];
    let mut pc = 0usize;
    while let Some(i) = prog.get(pc) {
        pc += 1;
        let src = if i.code & 0x08 == X { x } else { i.k };
        match i.code & 0x07 {
            LD => {
                a = match i.code & 0xe0 {
                    ABS => d.word(i.k),
                    LEN => DATA_SIZE,
                    MEM => mem[(i.k % MEM_WORDS) as usize],
                    _ => i.k,
                }
            }
            LDX => {
                x = match i.code & 0xe0 {
                    LEN => DATA_SIZE,
                    MEM => mem[(i.k % MEM_WORDS) as usize],
                    _ => i.k,
                }
            }
            ST => mem[(i.k % MEM_WORDS) as usize] = a,
            STX => mem[(i.k % MEM_WORDS) as usize] = x,
            ALU => {
                a = match i.code & 0xf0 {
                    ADD => a.wrapping_add(src),
                    SUB => a.wrapping_sub(src),
                    MUL => a.wrapping_mul(src),
                    // Classic BPF: dividing by a zero X ends the program with 0.
                    DIV => match a.checked_div(src) {
                        Some(q) => q,
                        None => return 0,
                    },
                    AND => a & src,
                    OR => a | src,
                    XOR => a ^ src,
                    LSH => a.wrapping_shl(src),
                    RSH => a.wrapping_shr(src),
                    _ => a.wrapping_neg(),
                }
            }
            JMP => {
                let off = match i.code & 0xf0 {
                    JA => i.k as usize,
                    op => {
                        let taken = match op {
                            JEQ => a == src,
                            JGT => a > src,
                            JGE => a >= src,
                            _ => a & src != 0,
                        };
                        if taken { i.jt } else { i.jf }.into()
                    }
                };
                pc = pc.saturating_add(off);
            }
            RET => return if i.code & 0x18 == A { a } else { i.k },
            _ => {
                if i.code & 0xf8 == TXA {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
    // Unreachable for a checked program (it ends with a return).
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW: u32 = 0x7fff_0000;

    fn data(nr: i32, args: [u64; 6]) -> Data {
        Data {
            nr,
            arch: 0xc000_003e,
            instruction_pointer: 0x1234_5678_9abc_def0,
            args,
        }
    }

    #[test]
    fn empty_and_too_long_programs_are_refused() {
        assert_eq!(check(&[]), Err(Errno::EINVAL));
        let long = alloc::vec![stmt(RET | K, ALLOW); MAX_INSNS + 1];
        assert_eq!(check(&long), Err(Errno::EINVAL));
        assert_eq!(check(&long[..MAX_INSNS]), Ok(()));
    }

    #[test]
    fn program_must_end_with_return() {
        assert_eq!(check(&[stmt(LD | W | ABS, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(RET | A, 0)]), Ok(()));
    }

    #[test]
    fn jumps_past_the_end_are_refused() {
        let p = [jump(JMP | JEQ | K, 1, 1, 0), stmt(RET | K, 0)];
        assert_eq!(check(&p), Err(Errno::EINVAL));
        let p = [jump(JMP | JEQ | K, 1, 0, 1), stmt(RET | K, 0)];
        assert_eq!(check(&p), Err(Errno::EINVAL));
        let p = [stmt(JMP | JA, 1), stmt(RET | K, 0)];
        assert_eq!(check(&p), Err(Errno::EINVAL));
        let p = [stmt(JMP | JA, u32::MAX), stmt(RET | K, 0)];
        assert_eq!(check(&p), Err(Errno::EINVAL));
        let p = [stmt(JMP | JA, 0), stmt(RET | K, 0)];
        assert_eq!(check(&p), Ok(()));
    }

    #[test]
    fn loads_outside_seccomp_data_or_unaligned_are_refused() {
        let ret = stmt(RET | K, ALLOW);
        assert_eq!(check(&[stmt(LD | W | ABS, 64), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(LD | W | ABS, 2), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(LD | W | ABS, 60), ret]), Ok(()));
        // Half-word, byte and indirect loads are not seccomp's.
        assert_eq!(check(&[stmt(LD | H | ABS, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(LD | 0x10 | ABS, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(LD | W | IND, 0), ret]), Err(Errno::EINVAL));
    }

    #[test]
    fn opcodes_outside_seccomps_list_are_refused() {
        let ret = stmt(RET | K, ALLOW);
        assert_eq!(check(&[stmt(ALU | MOD | K, 3), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(RET | X, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(0xffff, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(
            check(&[stmt(LDX | 0xa0 | 0x10, 0), ret]),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn constant_division_by_zero_and_wide_shifts_are_refused() {
        let ret = stmt(RET | A, 0);
        assert_eq!(check(&[stmt(ALU | DIV | K, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(ALU | LSH | K, 32), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(ALU | RSH | K, 31), ret]), Ok(()));
    }

    #[test]
    fn scratch_memory_must_be_written_before_read_on_every_path() {
        let ret = stmt(RET | A, 0);
        assert_eq!(check(&[stmt(LD | MEM, 3), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(ST, 16), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[stmt(ST, 3), stmt(LD | MEM, 3), ret]), Ok(()));
        // Written only on the taken branch.
        let p = [
            jump(JMP | JEQ | K, 0, 0, 1),
            stmt(ST, 2),
            stmt(LDX | MEM, 2),
            ret,
        ];
        assert_eq!(check(&p), Err(Errno::EINVAL));
        // Written before the branch.
        let p = [
            stmt(ST, 2),
            jump(JMP | JEQ | K, 0, 0, 1),
            stmt(ST, 5),
            stmt(LDX | MEM, 2),
            ret,
        ];
        assert_eq!(check(&p), Ok(()));
    }

    #[test]
    fn converted_length_follows_linux() {
        assert_eq!(converted_len(&[stmt(RET | K, ALLOW)]), 5);
        assert_eq!(converted_len(&[stmt(RET | A, 0)]), 4);
        let p = [
            stmt(LD | W | ABS, 0),              // 1
            jump(JMP | JEQ | K, 1, 0, 1),       // 1: falls through on true
            jump(JMP | JEQ | K, 1, 1, 0),       // 1: falls through on false
            jump(JMP | JEQ | K, 1, 1, 1),       // 2
            jump(JMP | JSET | K, 1, 0, 1),      // 2: JSET has no inverse
            jump(JMP | JEQ | K, 1 << 31, 1, 0), // 2: negative constant
            stmt(JMP | JA, 0),                  // 1
            stmt(ALU | DIV | X, 0),             // 4
            stmt(ALU | DIV | K, 2),             // 1
            stmt(ST, 0),                        // 1
            stmt(RET | K, 0),                   // 2
        ];
        assert_eq!(
            converted_len(&p),
            3 + 1 + 1 + 1 + 2 + 2 + 2 + 1 + 4 + 1 + 1 + 2
        );
    }

    #[test]
    fn loads_read_the_fields_of_seccomp_data() {
        let d = data(39, [1, 2, 3, 4, 0xaaaa_bbbb_cccc_dddd, 6]);
        let load = |off| run(&[stmt(LD | W | ABS, off), stmt(RET | A, 0)], &d);
        assert_eq!(load(0), 39);
        assert_eq!(load(4), 0xc000_003e);
        assert_eq!(load(8), 0x9abc_def0);
        assert_eq!(load(12), 0x1234_5678);
        assert_eq!(load(16), 1);
        assert_eq!(load(16 + 4 * 8), 0xcccc_dddd);
        assert_eq!(load(16 + 4 * 8 + 4), 0xaaaa_bbbb);
        assert_eq!(load(60), 0);
        assert_eq!(run(&[stmt(LD | W | LEN, 0), stmt(RET | A, 0)], &d), 64);
    }

    #[test]
    fn filter_on_number_and_argument() {
        // Allow getpid (39); for write (1) fail EBADF when fd (arg0) is 7; kill the rest.
        let p = [
            stmt(LD | W | ABS, 0),
            jump(JMP | JEQ | K, 39, 5, 0),
            jump(JMP | JEQ | K, 1, 0, 2),
            stmt(LD | W | ABS, 16),
            jump(JMP | JEQ | K, 7, 1, 2),
            stmt(RET | K, 0),
            stmt(RET | K, 0x0005_0009),
            stmt(RET | K, ALLOW),
        ];
        assert_eq!(check(&p), Ok(()));
        assert_eq!(run(&p, &data(39, [0; 6])), ALLOW);
        assert_eq!(run(&p, &data(1, [7, 0, 0, 0, 0, 0])), 0x0005_0009);
        assert_eq!(run(&p, &data(1, [2, 0, 0, 0, 0, 0])), ALLOW);
        assert_eq!(run(&p, &data(60, [0; 6])), 0);
    }

    #[test]
    fn alu_scratch_and_x_register() {
        let d = data(10, [0; 6]);
        let p = [
            stmt(LD | W | ABS, 0),     // A = 10
            stmt(ALU | MUL | K, 3),    // 30
            stmt(ST, 0),               // mem[0] = 30
            stmt(LDX | IMM, 7),        // X = 7
            stmt(ALU | SUB | X, 0),    // 23
            stmt(ALU | LSH | K, 4),    // 368
            stmt(ALU | OR | K, 1),     // 369
            stmt(ALU | XOR | K, 3),    // 370
            stmt(ALU | AND | K, 0xff), // 114
            stmt(MISC | TAX, 0),       // X = 114
            stmt(LD | MEM, 0),         // A = 30
            stmt(ALU | ADD | X, 0),    // 144
            stmt(ALU | DIV | K, 12),   // 12
            stmt(ALU | NEG, 0),        // -12
            stmt(RET | A, 0),
        ];
        assert_eq!(check(&p), Ok(()));
        assert_eq!(run(&p, &d), 12u32.wrapping_neg());
    }

    #[test]
    fn division_by_zero_x_returns_zero() {
        let p = [
            stmt(LD | IMM, 5),
            stmt(LDX | IMM, 0),
            stmt(ALU | DIV | X, 0),
            stmt(RET | K, ALLOW),
        ];
        assert_eq!(check(&p), Ok(()));
        assert_eq!(run(&p, &data(0, [0; 6])), 0);
    }

    #[test]
    fn conditional_jumps() {
        let d = data(0, [0; 6]);
        let cmp = |op: u16, a: u32, k: u32| {
            let p = [
                stmt(LD | IMM, a),
                jump(JMP | op | K, k, 0, 1),
                stmt(RET | K, 1),
                stmt(RET | K, 2),
            ];
            check(&p).unwrap();
            run(&p, &d) == 1
        };
        assert!(cmp(JEQ, 5, 5) && !cmp(JEQ, 5, 6));
        assert!(cmp(JGT, 6, 5) && !cmp(JGT, 5, 5));
        assert!(cmp(JGE, 5, 5) && !cmp(JGE, 4, 5));
        assert!(cmp(JSET, 6, 2) && !cmp(JSET, 6, 1));
    }
}
