//! The vDSO's ELF image (vdso(7)): a position-independent shared object, built at boot
//! around the machine code of `arch::x86_64::vdso`, that musl's and glibc's static lookup
//! accept: one `PT_LOAD` and a `PT_DYNAMIC` with `DT_HASH`, `DT_SYMTAB`, `DT_STRTAB`,
//! `DT_VERSYM` and `DT_VERDEF` (every symbol at version `LINUX_2.6`); no section headers.
//! Pure logic, unit-tested on the host; `mm::vdso` maps it.
//!
//! A process sees, from `base` (= `AT_SYSINFO_EHDR` − 2 pages): `[vvar]`, two read-only
//! data pages (the kernel-wide clock page, then its TIME container's offsets page), and
//! `[vdso]`, this image. The code reads the data pages at fixed negative offsets.

use alloc::vec::Vec;

/// Where the code starts in the image (the headers and tables fit below it).
pub const CODE_OFFSET: usize = 0x800;
/// The data pages in front of the image.
pub const DATA_PAGES: usize = 2;

/// Fields of the clock page (all `u64`/`i64`): the TSC at boot, nanoseconds per TSC tick
/// as a 32.32 fixed-point number, and `CLOCK_REALTIME` − `CLOCK_MONOTONIC`.
pub const CLOCK_TSC_START: usize = 0;
pub const CLOCK_MULT: usize = 8;
pub const CLOCK_REALTIME_OFFSET: usize = 16;
/// Fields of the TIME container page: the monotonic and boottime offsets (ns).
pub const TIME_MONOTONIC: usize = 0;
pub const TIME_BOOTTIME: usize = 8;

pub const VERSION: &str = "LINUX_2.6";
const SONAME: &str = "linux-vdso.so.1";

const DT_NULL: u64 = 0;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_SONAME: u64 = 14;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;

/// The SysV ELF hash (`DT_HASH`, `vd_hash`).
pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(c as u32);
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn align(v: &mut Vec<u8>, a: usize) {
    while !v.len().is_multiple_of(a) {
        v.push(0);
    }
}

/// Builds the image: `code` placed at [`CODE_OFFSET`], exporting `symbols` (name, offset
/// in `code`) as functions. `None` when the tables do not fit below the code.
pub fn build(code: &[u8], symbols: &[(&str, usize)]) -> Option<Vec<u8>> {
    let nsyms = symbols.len() + 1;
    // String table: "", the names, the version, the soname, then section names.
    let mut strtab = alloc::vec![0u8];
    let mut name_off = Vec::new();
    for (name, _) in symbols {
        name_off.push(strtab.len() as u32);
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
    }
    let version_off = strtab.len() as u32;
    strtab.extend_from_slice(VERSION.as_bytes());
    strtab.push(0);
    let soname_off = strtab.len() as u32;
    strtab.extend_from_slice(SONAME.as_bytes());
    strtab.push(0);

    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let phnum = 2usize;
    let mut img = alloc::vec![0u8; EHDR + phnum * PHDR];

    // .dynsym
    align(&mut img, 8);
    let dynsym_off = img.len();
    img.extend_from_slice(&[0u8; 24]);
    for (i, (_, off)) in symbols.iter().enumerate() {
        put32(&mut img, name_off[i]);
        img.push(0x12); // STB_GLOBAL, STT_FUNC
        img.push(0); // STV_DEFAULT
        put16(&mut img, 1); // the .text section
        put64(&mut img, (CODE_OFFSET + off) as u64);
        put64(&mut img, 0);
    }
    // .dynstr
    let dynstr_off = img.len();
    img.extend_from_slice(&strtab);
    // .hash: one bucket chaining every symbol.
    align(&mut img, 4);
    let hash_off = img.len();
    put32(&mut img, 1);
    put32(&mut img, nsyms as u32);
    put32(&mut img, if nsyms > 1 { 1 } else { 0 });
    for i in 0..nsyms {
        let next = if i == 0 || i + 1 == nsyms { 0 } else { i + 1 };
        put32(&mut img, next as u32);
    }
    // .gnu.version: local for the null symbol, index 2 (LINUX_2.6) for the rest.
    align(&mut img, 2);
    let versym_off = img.len();
    put16(&mut img, 0);
    for _ in symbols {
        put16(&mut img, 2);
    }
    // .gnu.version_d: the base version (the soname), then LINUX_2.6.
    align(&mut img, 4);
    let verdef_off = img.len();
    for (flags, ndx, name, last) in [(1u16, 1u16, soname_off, false), (0, 2, version_off, true)] {
        let s = &strtab[name as usize..];
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        put16(&mut img, 1); // vd_version
        put16(&mut img, flags);
        put16(&mut img, ndx);
        put16(&mut img, 1); // vd_cnt
        put32(&mut img, elf_hash(&s[..end]));
        put32(&mut img, 20); // vd_aux: the Verdaux right after
        put32(&mut img, if last { 0 } else { 28 }); // vd_next
        put32(&mut img, name); // vda_name
        put32(&mut img, 0); // vda_next
    }
    // .dynamic
    align(&mut img, 8);
    let dynamic_off = img.len();
    for (tag, val) in [
        (DT_HASH, hash_off as u64),
        (DT_STRTAB, dynstr_off as u64),
        (DT_SYMTAB, dynsym_off as u64),
        (DT_STRSZ, strtab.len() as u64),
        (DT_SYMENT, 24),
        (DT_SONAME, soname_off as u64),
        (DT_VERSYM, versym_off as u64),
        (DT_VERDEF, verdef_off as u64),
        (DT_VERDEFNUM, 2),
        (DT_NULL, 0),
    ] {
        put64(&mut img, tag);
        put64(&mut img, val);
    }
    let dynamic_len = img.len() - dynamic_off;
    if img.len() > CODE_OFFSET {
        return None;
    }
    img.resize(CODE_OFFSET, 0);
    img.extend_from_slice(code);
    let total = img.len();

    // ELF header.
    let h = &mut img[..EHDR];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // little endian
    h[6] = 1; // EV_CURRENT
    let mut eh = Vec::new();
    put16(&mut eh, 3); // ET_DYN
    put16(&mut eh, 62); // EM_X86_64
    put32(&mut eh, 1);
    put64(&mut eh, 0); // e_entry
    put64(&mut eh, EHDR as u64); // e_phoff
    put64(&mut eh, 0); // e_shoff
    put32(&mut eh, 0); // e_flags
    put16(&mut eh, EHDR as u16);
    put16(&mut eh, PHDR as u16);
    put16(&mut eh, phnum as u16);
    put16(&mut eh, 64); // e_shentsize
    put16(&mut eh, 0); // e_shnum
    put16(&mut eh, 0); // e_shstrndx
    h[16..].copy_from_slice(&eh);

    // Program headers: the whole image loaded at 0 (readable, executable), its dynamic section.
    let mut ph = Vec::new();
    for (p_type, flags, off, len, align_) in [
        (1u32, 5u32, 0usize, total, 0x1000u64),
        (2, 4, dynamic_off, dynamic_len, 8),
    ] {
        put32(&mut ph, p_type);
        put32(&mut ph, flags);
        put64(&mut ph, off as u64);
        put64(&mut ph, off as u64);
        put64(&mut ph, off as u64);
        put64(&mut ph, len as u64);
        put64(&mut ph, len as u64);
        put64(&mut ph, align_);
    }
    img[EHDR..EHDR + ph.len()].copy_from_slice(&ph);
    Some(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes(b[o..o + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }
    fn cstr(b: &[u8], o: usize) -> &[u8] {
        let s = &b[o..];
        &s[..s.iter().position(|&c| c == 0).unwrap()]
    }

    /// musl's `__vdsosym` (src/internal/vdso.c), step by step, on the image.
    fn musl_lookup(img: &[u8], name: &str, vername: &str) -> Option<u64> {
        let phoff = u64_at(img, 32) as usize;
        let phnum = u16_at(img, 56) as usize;
        let phentsize = u16_at(img, 54) as usize;
        let (mut base, mut dynv) = (None, None);
        for i in 0..phnum {
            let p = phoff + i * phentsize;
            match u32_at(img, p) {
                1 => base = Some(u64_at(img, p + 8) - u64_at(img, p + 16)),
                2 => dynv = Some(u64_at(img, p + 8) as usize),
                _ => {}
            }
        }
        let (base, mut d) = (base? as usize, dynv?);
        let (mut strings, mut syms, mut hash, mut versym, mut verdef) = (0, 0, 0, 0, 0);
        loop {
            let (tag, val) = (u64_at(img, d), u64_at(img, d + 8) as usize + base);
            match tag {
                0 => break,
                5 => strings = val,
                6 => syms = val,
                4 => hash = val,
                0x6fff_fff0 => versym = val,
                0x6fff_fffc => verdef = val,
                _ => {}
            }
            d += 16;
        }
        assert!(strings != 0 && syms != 0 && hash != 0 && versym != 0 && verdef != 0);
        for i in 0..u32_at(img, hash + 4) as usize {
            let s = syms + i * 24;
            let info = img[s + 4];
            if info & 0xf != 2 || info >> 4 != 1 || u16_at(img, s + 6) == 0 {
                continue;
            }
            if cstr(img, strings + u32_at(img, s) as usize) != name.as_bytes() {
                continue;
            }
            // checkver
            let vsym = u16_at(img, versym + 2 * i) & 0x7fff;
            let mut def = verdef;
            loop {
                if u16_at(img, def + 2) & 1 == 0 && u16_at(img, def + 4) & 0x7fff == vsym {
                    break;
                }
                let next = u32_at(img, def + 16) as usize;
                if next == 0 {
                    return None;
                }
                def += next;
            }
            let aux = def + u32_at(img, def + 12) as usize;
            if cstr(img, strings + u32_at(img, aux) as usize) != vername.as_bytes() {
                continue;
            }
            return Some(base as u64 + u64_at(img, s + 8));
        }
        None
    }

    #[test]
    fn musl_finds_every_symbol_at_its_code_offset() {
        let code = [0xc3u8; 64];
        let syms = [
            ("__vdso_clock_gettime", 0),
            ("__vdso_time", 16),
            ("__vdso_getcpu", 32),
        ];
        let img = build(&code, &syms).unwrap();
        assert_eq!(&img[..4], b"\x7fELF");
        assert_eq!(img.len(), CODE_OFFSET + code.len());
        for (name, off) in syms {
            assert_eq!(
                musl_lookup(&img, name, VERSION),
                Some((CODE_OFFSET + off) as u64),
                "{name}"
            );
        }
        assert_eq!(musl_lookup(&img, "__vdso_clock_gettime", "LINUX_2.5"), None);
        assert_eq!(musl_lookup(&img, "__vdso_nothing", VERSION), None);
    }

    #[test]
    fn elf_hash_matches_the_abi_examples() {
        assert_eq!(elf_hash(b""), 0);
        assert_eq!(elf_hash(b"LINUX_2.6"), 0x3ae75f6);
        assert_eq!(elf_hash(b"printf"), 0x077905a6);
    }
}
