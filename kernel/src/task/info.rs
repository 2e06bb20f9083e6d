//! What `/proc` shows of processes, in the reader's PID-container view.

use super::{sched, view_nr, visible_processes};
use crate::fs::procfs::{MapLine, ProcInfo};
use crate::fs::procpid::{PageKind, Rollup};
use crate::mm::aspace::AddressSpace;
use crate::mm::vma::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE};
use alloc::vec::Vec;

/// Numbers of the processes the caller can see (zombies included until reaped), ascending.
pub fn pids() -> Vec<u32> {
    visible_processes().into_iter().map(|(n, _)| n).collect()
}

/// Process `nr` of the caller's view.
pub fn proc_info(nr: u32) -> Option<ProcInfo> {
    let p = super::find_process(nr)?;
    let cur = sched::try_current();
    let ppid = p.ppid();
    let pi = p.inner.lock();
    let running = cur
        .as_ref()
        .is_some_and(|c| alloc::sync::Arc::ptr_eq(c.process(), &p));
    let state = if pi.zombie.is_some() {
        'Z'
    } else if running || pi.threads.iter().any(|t| t.is_runnable()) {
        'R'
    } else {
        'S'
    };
    let mut info = ProcInfo {
        pid: nr,
        ppid,
        tgid: nr,
        name: pi.name.clone(),
        state,
        threads: pi.threads.len().max(1) as u32,
        uid: 0,
        gid: 0,
        cmdline: if pi.zombie.is_some() {
            Vec::new()
        } else {
            pi.cmdline.clone()
        },
        environ: if pi.zombie.is_some() {
            Vec::new()
        } else {
            pi.environ.clone()
        },
        pgid: pi.pgrp.as_ref().map_or(0, |g| view_nr(g)),
        sid: pi.session.as_ref().map_or(0, |g| view_nr(g)),
        utime: pi.utime_ticks * 100 / crate::arch::x86_64::timer::HZ,
        stime: pi.stime_ticks * 100 / crate::arch::x86_64::timer::HZ,
        nice: pi.nice,
        seccomp: pi
            .threads
            .first()
            .map_or((0, 0), |t| (t.seccomp.mode(), t.seccomp.depth())),
        syscalls: p.syscalls.load(core::sync::atomic::Ordering::Relaxed),
        exe: pi.exe.clone(),
        limits: pi.rlimits,
        io: p.io.get(),
        ..ProcInfo::default()
    };
    let vm = pi.vm.clone();
    drop(pi);
    if let Some(vm) = vm {
        let vm = vm.lock();
        info.vm_size_kb = vm.virtual_size() / 1024;
        info.vm_rss_kb = vm.resident_pages() * 4;
        info.maps = vm
            .vmas
            .iter()
            .map(|v| {
                let flag = |bit: u32, c: u8| if v.prot & bit != 0 { c } else { b'-' };
                let (shared, offset) = match &v.backing {
                    // Linux shows its vDSO areas as private, offset 0.
                    Backing::Shared { .. } if v.name == "[vvar]" || v.name == "[vdso]" => (b'p', 0),
                    Backing::Shared { pgoff, .. } => (b's', pgoff * 4096),
                    Backing::PrivateCopy { pgoff, .. } => (b'p', pgoff * 4096),
                    Backing::Private => (b'p', 0),
                };
                MapLine {
                    start: v.start,
                    end: v.end,
                    perms: [
                        flag(PROT_READ, b'r'),
                        flag(PROT_WRITE, b'w'),
                        flag(PROT_EXEC, b'x'),
                        shared,
                    ],
                    offset,
                    dev: v.file.map_or(0, |f| f.0),
                    ino: v.file.map_or(0, |f| f.1),
                    name: v.name.clone(),
                }
            })
            .collect();
    }
    Some(info)
}

/// `/proc/[pid]/smaps_rollup` from the page tables: every present page of every area,
/// its share of `Pss` by its frame's users (copy-on-write shares after `fork`). Pages of
/// a shared mapping belong to their store and count whole. A private file mapping's page
/// is anonymous once copied (writable); anonymous pages are dirty, as on Linux.
pub fn smaps_rollup(vm: &AddressSpace) -> Rollup {
    const ADDR: u64 = 0x000f_ffff_ffff_f000;
    const WRITABLE: u64 = 1 << 1;
    const ACCESSED: u64 = 1 << 5;
    const DIRTY: u64 = 1 << 6;
    let mut r = Rollup {
        start: vm.vmas.iter().next().map_or(0, |v| v.start),
        end: vm.vmas.iter().last().map_or(0, |v| v.end),
        ..Rollup::default()
    };
    for v in vm.vmas.iter() {
        vm.for_each_resident(v.start, v.end, &mut |_, e| {
            let kind = match &v.backing {
                Backing::Private => PageKind::Anon,
                Backing::PrivateCopy { .. } if e & WRITABLE != 0 => PageKind::Anon,
                Backing::PrivateCopy { .. } => PageKind::File,
                Backing::Shared { .. } if v.file.is_some() => PageKind::File,
                Backing::Shared { .. } => PageKind::Shmem,
            };
            let dirty = kind == PageKind::Anon || e & DIRTY != 0;
            let users = crate::mm::frame::users(e & ADDR);
            r.add_page(kind, users, dirty, e & ACCESSED != 0);
        });
    }
    r
}

/// The environment strings, each NUL-terminated; empty when the memory is not there.
pub fn flatten_env(envp: &[Vec<u8>]) -> Vec<u8> {
    let len = envp.iter().map(|e| e.len() + 1).sum();
    let mut v = Vec::new();
    if v.try_reserve_exact(len).is_err() {
        return v;
    }
    for e in envp {
        v.extend_from_slice(e);
        v.push(0);
    }
    v
}
