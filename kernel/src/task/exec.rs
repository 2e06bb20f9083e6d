//! `execve`: loads an ELF program (static, static-PIE, or dynamically linked with its
//! `PT_INTERP` interpreter) into a fresh address space and lays out argv, envp and the
//! auxiliary vector as Linux does.

use super::sched;
use super::signal::{SIG_DFL, SIG_IGN, SigAction};
use crate::arch::x86_64::trap::{FpuState, TrapFrame};
use crate::elf::{self, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD};
use crate::errno::Errno;
use crate::fs::vfs::InodeRef;
use crate::mm::aspace::{AddressSpace, STACK_SIZE, STACK_TOP};
use crate::mm::vma::{PROT_EXEC, PROT_READ, PROT_WRITE, Vma};
use crate::mm::{PAGE_SIZE, page_down, page_up};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use spin::Mutex;

/// Where a static-PIE program is loaded.
const PIE_BASE: u64 = 0x5555_5555_4000;
/// Where a program's interpreter (`ld.so`) is loaded: below the stack, far above
/// where `mmap` starts searching, as Linux puts it near the top of the mmap area.
const INTERP_BASE: u64 = 0x7fff_f000_0000;
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
const AT_SYSINFO_EHDR: u64 = 33;

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

/// Reads and checks the ELF and program headers of `file`.
fn read_headers(file: &InodeRef) -> Result<elf::Elf, Errno> {
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
    elf::parse_head(&head, size)
}

/// The interpreter's path named by `PT_INTERP` (without its NUL); `ENOEXEC` when it is
/// empty, too long or not NUL-terminated.
fn interp_path(file: &InodeRef, e: &elf::Elf) -> Result<alloc::string::String, Errno> {
    let ph = e
        .phdrs
        .iter()
        .find(|p| p.p_type == PT_INTERP)
        .ok_or(Errno::ENOEXEC)?;
    if ph.filesz < 2 || ph.filesz > 4096 {
        return Err(Errno::ENOEXEC);
    }
    let mut buf = vec![0u8; ph.filesz as usize];
    read_exact(file, ph.offset, &mut buf)?;
    if buf.pop() != Some(0) || buf.contains(&0) {
        return Err(Errno::ENOEXEC);
    }
    alloc::string::String::from_utf8(buf).map_err(|_| Errno::ENOEXEC)
}

/// Copies the `PT_LOAD` segments of `file` into `vm` at `bias`; returns the page-aligned
/// end of the highest one.
fn load_segments(
    vm: &mut AddressSpace,
    file: &InodeRef,
    e: &elf::Elf,
    bias: u64,
    name: &str,
) -> Result<u64, Errno> {
    let mut top = 0;
    for ph in e.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let va = ph.vaddr.checked_add(bias).ok_or(Errno::ENOEXEC)?;
        let start = page_down(va);
        let end = va
            .checked_add(ph.memsz)
            .and_then(page_up)
            .filter(|&e| e <= crate::mm::USER_END)
            .ok_or(Errno::ENOEXEC)?;
        let mut prot = prot_of(ph.flags);
        // Segments sharing a page: the page gets both protections.
        if let Some(prev) = vm.vmas.find(start) {
            prot |= prev.prot;
        }
        let meta = file.metadata();
        vm.map_area(Vma {
            file: Some((meta.dev, meta.ino)),
            ..AddressSpace::anon(start, end, prot, name)
        });
        let mut buf = vec![0u8; LOAD_CHUNK.min(ph.filesz as usize)];
        let mut done = 0;
        while done < ph.filesz {
            let n = (ph.filesz - done).min(LOAD_CHUNK as u64) as usize;
            read_exact(file, ph.offset + done, &mut buf[..n])?;
            vm.write_force(va + done, &buf[..n])?;
            done += n as u64;
        }
        top = top.max(end);
    }
    Ok(top)
}

/// Where a program's pieces landed, for its auxiliary vector.
struct Loaded {
    /// `AT_PHDR`: the main program's program headers in memory.
    phdr: u64,
    phent: u64,
    phnum: u64,
    /// `AT_BASE`: the interpreter's load bias (0 without one).
    base: u64,
    /// `AT_ENTRY`: the main program's entry point.
    entry: u64,
    /// `AT_SYSINFO_EHDR`: the vDSO's ELF header (0 when it could not be mapped).
    sysinfo: u64,
}

const AT_HWCAP2: u64 = 26;
const AT_MINSIGSTKSZ: u64 = 51;

/// The auxiliary vector (Linux's `create_elf_tables`), ending with `AT_NULL`. `random`,
/// `execfn` and `platform` are the user addresses of the 16 random bytes, the file name
/// and "x86_64".
fn auxv(l: &Loaded, random: u64, execfn: u64, platform: u64) -> Vec<(u64, u64)> {
    // The caller's ids as its user container sees them; init's (root's) at boot.
    let ids = sched::try_current().map_or([0; 4], |t| {
        let c = t.process().cred();
        [
            c.view_uid(c.uid),
            c.view_uid(c.euid),
            c.view_gid(c.gid),
            c.view_gid(c.egid),
        ]
    });
    vec![
        (AT_PHDR, l.phdr),
        (AT_PHENT, l.phent),
        (AT_PHNUM, l.phnum),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, l.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, l.entry),
        (AT_UID, ids[0] as u64),
        (AT_EUID, ids[1] as u64),
        (AT_GID, ids[2] as u64),
        (AT_EGID, ids[3] as u64),
        (AT_HWCAP, 0x178b_fbff),
        (AT_HWCAP2, 0),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_EXECFN, execfn),
        (AT_PLATFORM, platform),
        // The kernel's signal frame (a 64-byte frame plus the 512-byte FXSAVE area).
        (AT_MINSIGSTKSZ, 2048),
        (AT_SYSINFO_EHDR, l.sysinfo),
        (AT_NULL, 0),
    ]
}

/// Builds the address space for `file` with the given arguments. A program with
/// `PT_INTERP` gets its interpreter loaded at [`INTERP_BASE`] and started instead.
pub fn load(
    file: &InodeRef,
    path: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, Errno> {
    let e = read_headers(file)?;
    let interp = if e.interp {
        let ipath = interp_path(file, &e)?;
        let (ifile, icanon) = crate::fs::open_exec(&ipath)?;
        // The interpreter's own PT_INTERP, if any, is ignored, as Linux does.
        let ie = read_headers(&ifile)?;
        Some((ifile, icanon, ie))
    } else {
        None
    };
    let bias = if e.pie { PIE_BASE } else { 0 };
    let mut vm = AddressSpace::new()?;
    let top = load_segments(
        &mut vm,
        file,
        &e,
        bias,
        core::str::from_utf8(path).unwrap_or(""),
    )?;
    vm.brk_start = top;
    vm.brk = top;
    let (entry, base) = match &interp {
        Some((ifile, icanon, ie)) => {
            let lowest = ie
                .phdrs
                .iter()
                .filter(|p| p.p_type == PT_LOAD)
                .map(|p| page_down(p.vaddr))
                .min()
                .unwrap_or(0);
            let ibias = if ie.pie {
                INTERP_BASE.checked_sub(lowest).ok_or(Errno::ENOEXEC)?
            } else {
                0
            };
            load_segments(&mut vm, ifile, ie, ibias, icanon)?;
            (ie.entry.wrapping_add(ibias), ibias)
        }
        None => (e.entry.wrapping_add(bias), 0),
    };
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

    // The TIME container the program will run in: execve enters time_for_children.
    let time = match sched::try_current() {
        Some(t) => t.process().containers().time.for_children().clone(),
        None => crate::container::root().time.own().clone(),
    };
    let sysinfo = if crate::mm::vdso::map(&mut vm, &time) {
        crate::mm::vdso::ehdr()
    } else {
        0
    };
    let loaded = Loaded {
        phdr: e.phdr_vaddr().map_or(0, |v| v.wrapping_add(bias)),
        phent: e.phentsize as u64,
        phnum: e.phdrs.len() as u64,
        base,
        entry: e.entry.wrapping_add(bias),
        sysinfo,
    };
    let auxv = auxv(&loaded, random, execfn, platform);
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
    Ok(Image { vm, entry, sp })
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

    // `/proc/[pid]/environ`; left empty if memory runs out (exec is past failing).
    let environ = super::info::flatten_env(&envp);
    let new_vm = Arc::new(Mutex::new(image.vm));
    new_vm.lock().activate();
    let (old_vm, files) = {
        let mut pi = p.inner.lock();
        let old = pi.vm.replace(new_vm);
        set_program(&mut pi, &canonical, &argv);
        pi.environ = environ;
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
