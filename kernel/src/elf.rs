//! ELF64 executable parsing for `execve`: header and program-header validation with
//! bounds checks. Pure logic, unit-tested on the host.

use crate::errno::Errno;
use alloc::vec::Vec;

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

#[derive(Debug)]
pub struct Elf {
    /// `ET_DYN`: position independent, loaded at a base the kernel picks.
    pub pie: bool,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    pub phdrs: Vec<ProgramHeader>,
    pub interp: bool,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

/// Parses an x86_64 executable held whole in `b`; `ENOEXEC` for anything else or
/// anything malformed.
pub fn parse(b: &[u8]) -> Result<Elf, Errno> {
    parse_head(b, b.len() as u64)
}

/// How many bytes from the start of the file hold the ELF and program headers (to read
/// before [`parse_head`]), from its first 64 bytes; `ENOEXEC` when malformed or when the
/// headers end past 64 KiB.
pub fn headers_len(b: &[u8]) -> Result<usize, Errno> {
    if b.len() < 64 || &b[0..4] != b"\x7fELF" {
        return Err(Errno::ENOEXEC);
    }
    let phoff = u64_at(b, 32);
    let phnum = u16_at(b, 56) as u64;
    let phentsize = u16_at(b, 54) as u64;
    let end = phoff
        .checked_add(phnum * phentsize)
        .filter(|&e| e <= 64 * 1024)
        .ok_or(Errno::ENOEXEC)?;
    Ok((end as usize).max(64))
}

/// Parses the headers of an executable of `file_size` bytes whose first bytes are `b`
/// (at least [`headers_len`] of them).
pub fn parse_head(b: &[u8], file_size: u64) -> Result<Elf, Errno> {
    if b.len() < 64 || &b[0..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    let ty = u16_at(b, 16);
    if (ty != ET_EXEC && ty != ET_DYN) || u16_at(b, 18) != 0x3e {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(b, 24);
    let phoff = u64_at(b, 32);
    let phentsize = u16_at(b, 54);
    let phnum = u16_at(b, 56) as u64;
    if phentsize < 56 || phnum == 0 || phnum > 256 {
        return Err(Errno::ENOEXEC);
    }
    let end = phoff
        .checked_add(phnum * phentsize as u64)
        .ok_or(Errno::ENOEXEC)?;
    if end > b.len() as u64 {
        return Err(Errno::ENOEXEC);
    }
    let mut phdrs = Vec::new();
    let mut interp = false;
    for i in 0..phnum {
        let o = (phoff + i * phentsize as u64) as usize;
        let ph = ProgramHeader {
            p_type: u32_at(b, o),
            flags: u32_at(b, o + 4),
            offset: u64_at(b, o + 8),
            vaddr: u64_at(b, o + 16),
            filesz: u64_at(b, o + 32),
            memsz: u64_at(b, o + 40),
        };
        if ph.p_type == PT_LOAD {
            let file_end = ph.offset.checked_add(ph.filesz).ok_or(Errno::ENOEXEC)?;
            let mem_end = ph.vaddr.checked_add(ph.memsz).ok_or(Errno::ENOEXEC)?;
            if file_end > file_size || ph.filesz > ph.memsz || mem_end > crate::mm::USER_END {
                return Err(Errno::ENOEXEC);
            }
        }
        interp |= ph.p_type == PT_INTERP;
        phdrs.push(ph);
    }
    if !phdrs.iter().any(|p| p.p_type == PT_LOAD) {
        return Err(Errno::ENOEXEC);
    }
    Ok(Elf {
        pie: ty == ET_DYN,
        entry,
        phoff,
        phentsize,
        phdrs,
        interp,
    })
}

impl Elf {
    /// Virtual address (before the load bias) of the program headers, if they are loaded.
    pub fn phdr_vaddr(&self) -> Option<u64> {
        if let Some(p) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return Some(p.vaddr);
        }
        self.phdrs
            .iter()
            .find(|p| {
                p.p_type == PT_LOAD && p.offset <= self.phoff && self.phoff < p.offset + p.filesz
            })
            .map(|p| p.vaddr + (self.phoff - p.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(ty: u16) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56 + 16];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[16..18].copy_from_slice(&ty.to_le_bytes());
        b[18..20].copy_from_slice(&0x3eu16.to_le_bytes());
        b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let o = 64;
        b[o..o + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        b[o + 4..o + 8].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        b[o + 16..o + 24].copy_from_slice(&0x400000u64.to_le_bytes());
        b[o + 32..o + 40].copy_from_slice(&(136u64).to_le_bytes());
        b[o + 40..o + 48].copy_from_slice(&(0x2000u64).to_le_bytes());
        b
    }

    #[test]
    fn parses_a_static_executable() {
        let e = parse(&minimal(2)).expect("valid ELF");
        assert_eq!(e.entry, 0x401000);
        assert!(!e.pie);
        assert_eq!(e.phdrs.len(), 1);
        assert_eq!(e.phdr_vaddr(), Some(0x400040));
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        assert_eq!(parse(b"#!/bin/sh\n").unwrap_err(), Errno::ENOEXEC);
        let b = minimal(2);
        assert_eq!(parse(&b[..100]).unwrap_err(), Errno::ENOEXEC);
        let mut b = minimal(2);
        b[18] = 0x28; // ARM
        assert_eq!(parse(&b).unwrap_err(), Errno::ENOEXEC);
        let mut b = minimal(2);
        b[64 + 32..64 + 40].copy_from_slice(&(1u64 << 40).to_le_bytes()); // filesz past the end
        assert_eq!(parse(&b).unwrap_err(), Errno::ENOEXEC);
    }

    #[test]
    fn pt_interp_marks_a_dynamically_linked_program() {
        let mut b = minimal(3);
        assert!(!parse(&b).expect("valid ELF").interp);
        // A second program header: PT_INTERP.
        b.resize(64 + 2 * 56, 0);
        b[56..58].copy_from_slice(&2u16.to_le_bytes());
        b[120..124].copy_from_slice(&PT_INTERP.to_le_bytes());
        let e = parse(&b).expect("valid ELF");
        assert!(e.interp && e.pie);
        assert_eq!(e.phdrs.len(), 2);
    }

    #[test]
    fn static_pie_is_recognised() {
        assert!(parse(&minimal(3)).expect("valid ELF").pie);
    }
}
