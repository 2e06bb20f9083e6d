//! `execve`: loads a static ELF (non-PIE or static-PIE) into a fresh address space
//! and lays out argv, envp and the auxiliary vector as Linux does.

use super::sched;
use super::signal::{SIG_DFL, SIG_IGN, SigAction};
use crate::arch::x86_64::trap::{FpuState, TrapFrame};
use crate::elf::{self, PF_R, PF_W, PF_X, PT_LOAD};
use crate::errno::Errno;
use crate::fs::vfs::InodeRef;
use crate::mm::aspace::{AddressSpace, STACK_SIZE, STACK_TOP};
use crate::mm::vma::{PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::mm::{PAGE_SIZE, page_down, page_up};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use spin::Mutex;

/// Where a static-PIE program is loaded.
const PIE_BASE: u64 = 0x5555_5555_4000;
/// Total size of argv + envp strings and pointers (Linux: a quarter of the stack limit).
pub const ARG_MAX: usize = 2 << 20;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_EXECFN: u64 = 31;

fn prot_of(flags: u32) -> u32 {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= PROT_EXEC;
    }
    p
}

/// A loaded program, ready to run.
pub struct Image {
    pub vm: AddressSpace,
    pub entry: u64,
    pub sp: u64,
}

/// Builds the address space for `file` with the given arguments.
/// Fills `buf` from `file` at `offset`; `ENOEXEC` if the file ends first.
fn read_exact(file: &InodeRef, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(offset + done as u64, &mut buf[done..])? {
            0 => return Err(Errno::ENOEXEC),
            n => done += n,
        }
    }
    Ok(())
}

/// Bytes copied from the file per step when loading a segment.
const LOAD_CHUNK: usize = 16 * 1024;

pub fn load(
    file: &InodeRef,
    path: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, Errno> {
    let size = file.metadata().size;
    let mut head = vec![0u8; (size as usize).min(64)];
    read_exact(file, 0, &mut head)?;
    let need = elf::headers_len(&head)?;
    if need > head.len() {
        if need as u64 > size {
            return Err(Errno::ENOEXEC);
        }
        head = vec![0u8; need];
        read_exact(file, 0, &mut head)?;
    }
    let e = elf::parse_head(&head, size)?;
    if e.interp {
        // Dynamically linked programs need an interpreter this kernel does not load yet.
        return Err(Errno::ENOEXEC);
    }
    let bias = if e.pie { PIE_BASE } else { 0 };
    let mut vm = AddressSpace::new()?;
    let mut top = 0;
    for ph in e.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let start = page_down(ph.vaddr + bias);
        let end = page_up(ph.vaddr + bias + ph.memsz).ok_or(Errno::ENOEXEC)?;
        let mut prot = prot_of(ph.flags);
        // Segments sharing a page: the page gets both protections.
        if let Some(prev) = vm.vmas.find(start) {
            prot |= prev.prot;
        }
        vm.map_area(AddressSpace::anon(
            start,
            end,
            prot,
            core::str::from_utf8(path).unwrap_or(""),
        ));
        let mut buf = vec![0u8; LOAD_CHUNK.min(ph.filesz as usize)];
        let mut done = 0;
        while done < ph.filesz {
            let n = (ph.filesz - done).min(LOAD_CHUNK as u64) as usize;
            read_exact(file, ph.offset + done, &mut buf[..n])?;
            vm.write_force(ph.vaddr + bias + done, &buf[..n])?;
            done += n as u64;
        }
        top = top.max(end);
    }
    vm.brk_start = top;
    vm.brk = top;
    vm.map_area(AddressSpace::anon(
        STACK_TOP - STACK_SIZE,
        STACK_TOP,
        PROT_READ | PROT_WRITE,
        "[stack]",
    ));

    // Strings at the top of the stack, then the pointer block below them.
    let mut sp = STACK_TOP;
    let push_bytes = |vm: &mut AddressSpace, sp: &mut u64, b: &[u8]| -> Result<u64, Errno> {
        *sp -= b.len() as u64 + 1;
        vm.write_force(*sp, b)?;
        vm.write_force(*sp + b.len() as u64, &[0])?;
        Ok(*sp)
    };
    let execfn = push_bytes(&mut vm, &mut sp, path)?;
    let mut env_ptrs = Vec::with_capacity(envp.len());
    for s in envp.iter().rev() {
        env_ptrs.push(push_bytes(&mut vm, &mut sp, s)?);
    }
    env_ptrs.reverse();
    let mut arg_ptrs = Vec::with_capacity(argv.len());
    for s in argv.iter().rev() {
        arg_ptrs.push(push_bytes(&mut vm, &mut sp, s)?);
    }
    arg_ptrs.reverse();
    let platform = push_bytes(&mut vm, &mut sp, b"x86_64")?;
    sp &= !15;
    sp -= 16;
    let random = sp;
    let seed = crate::time::monotonic_ns() ^ crate::arch::x86_64::cpu::rdtsc().rotate_left(17);
    let mut rnd = [0u8; 16];
    rnd[..8].copy_from_slice(&seed.to_le_bytes());
    rnd[8..].copy_from_slice(&(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
    vm.write_force(random, &rnd)?;

    let phdr = e.phdr_vaddr().map_or(0, |v| v + bias);
    let auxv: [(u64, u64); 18] = [
        (AT_PHDR, phdr),
        (AT_PHENT, e.phentsize as u64),
        (AT_PHNUM, e.phdrs.len() as u64),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, e.entry + bias),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_HWCAP, 0x178b_fbff),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
        (AT_NULL, 0),
    ];
    let words = 1 + arg_ptrs.len() + 1 + env_ptrs.len() + 1 + auxv.len() * 2;
    sp -= words as u64 * 8;
    sp &= !15;
    let mut block: Vec<u64> = Vec::with_capacity(words);
    block.push(argv.len() as u64);
    block.extend_from_slice(&arg_ptrs);
    block.push(0);
    block.extend_from_slice(&env_ptrs);
    block.push(0);
    for (k, v) in auxv {
        block.push(k);
        block.push(v);
    }
    let bytes: Vec<u8> = block.iter().flat_map(|w| w.to_le_bytes()).collect();
    vm.write_force(sp, &bytes)?;
    Ok(Image {
        vm,
        entry: e.entry + bias,
        sp,
    })
}

/// Replaces the calling process's program. On success the caller's `frame` now
/// starts the new program; on failure nothing has changed.
pub fn execve(
    frame: &mut TrapFrame,
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<(), Errno> {
    let path_str = core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
    let (file, canonical) = crate::fs::open_exec(path_str)?;
    let image = load(&file, path, &argv, &envp)?;
    let cur = sched::current();
    let p = cur.process().clone();

    // Other threads of the process end (Linux's de_thread).
    let others: Vec<_> = p
        .inner
        .lock()
        .threads
        .iter()
        .filter(|t| !Arc::ptr_eq(t, &cur))
        .cloned()
        .collect();
    for t in &others {
        t.inner.lock().exit_now = true;
        sched::interrupt(t);
    }

    let new_vm = Arc::new(Mutex::new(image.vm));
    new_vm.lock().activate();
    let (old_vm, files) = {
        let mut pi = p.inner.lock();
        let old = pi.vm.replace(new_vm);
        set_program(&mut pi, &canonical, &argv);
        if let Some(c) = pi.containers.after_exec() {
            pi.containers = Arc::new(c);
        }
        pi.vfork_done = true;
        (old, pi.files.clone())
    };
    drop(old_vm);
    files.close_on_exec();
    // POSIX timers do not survive exec (Linux's exit_itimers).
    super::ptimer::delete_all(&p);
    {
        // Handlers point into the old program: reset them; ignored signals stay ignored.
        // The table is no longer shared with anyone (CLONE_SIGHAND ends at exec).
        let mut pi = p.inner.lock();
        let mut a = *pi.sigactions.lock();
        for act in a.iter_mut() {
            if act.handler != SIG_IGN {
                *act = SigAction {
                    handler: SIG_DFL,
                    ..SigAction::default()
                };
            } else {
                act.flags = 0;
                act.mask = 0;
            }
        }
        pi.sigactions = Arc::new(Mutex::new(a));
    }
    {
        // Capabilities after exec (capabilities(7), no file capabilities).
        let mut c = (*p.cred()).clone();
        c.exec_transform();
        p.inner.lock().cred = Arc::new(c);
    }
    {
        let mut ti = cur.inner.lock();
        ti.clear_child_tid = 0;
        ti.altstack = (0, 0, 2);
    }
    sched::wakeup(super::exit::vfork_chan(&p));
    cur.ctx.set_fs_base(0);
    cur.ctx.load_fpu(&FpuState::initial());
    *frame = TrapFrame::new_user(image.entry, image.sp);
    Ok(())
}

/// Records the program a process runs: its name (the file name, at most 15 bytes like
/// Linux's `comm`) and its command line (each argument NUL-terminated).
pub fn set_program(pi: &mut super::ProcInner, canonical: &str, argv: &[Vec<u8>]) {
    let name = canonical.rsplit('/').next().unwrap_or("");
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    pi.name = alloc::string::String::from(&name[..end]);
    pi.exe = alloc::string::String::from(canonical);
    pi.cmdline = argv
        .iter()
        .flat_map(|a| a.iter().copied().chain(core::iter::once(0)))
        .collect();
}
