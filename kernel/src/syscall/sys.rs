//! System-wide calls: uname, reboot, identity (root until credentials exist),
//! resource limits, sysinfo, prctl, getrandom, futex.

use super::as_i32;
use super::table::syscalls;
use crate::errno::{Errno, SysResult};
use crate::mm::user::{copy_to_user, read_user, write_user};
use crate::task::{self, futex};
use core::sync::atomic::{AtomicU64, Ordering};

syscalls! {
    frame, a;
    169 => reboot(a[0], a[1], a[2]),
    97 => getrlimit(a[0], a[1]),
    160 => prlimit(0, a[0], a[1], 0),
    302 => prlimit(a[0], a[1], a[2], a[3]),
    99 => sysinfo(a[0]),
    318 => getrandom(a[0], a[1], a[2]),
    202 => futex_call(a),
}

fn reboot(magic1: u64, magic2: u64, cmd: u64) -> SysResult {
    const MAGIC1: u32 = 0xfee1_dead;
    const MAGIC2: [u32; 4] = [672_274_793, 85_072_278, 369_367_448, 537_993_216];
    // CAP_SYS_BOOT in the user container that owns the caller's PID container,
    // checked before the magic numbers (as Linux).
    let pidc = task::caller_pid_container();
    if let Some(owner) = crate::container::ContainerType::common(&*pidc).owner() {
        task::require_cap_in(owner, crate::cred::CAP_SYS_BOOT)?;
    }
    if magic1 as u32 != MAGIC1 || !MAGIC2.contains(&(magic2 as u32)) {
        return Err(Errno::EINVAL);
    }
    let pidc = task::caller_pid_container();
    if pidc.level() > 0 && matches!(cmd as u32, 0x4321_fedc | 0xcdef_0123 | 0x0123_4567) {
        // Inside a child PID container reboot ends that container's init (its status
        // says SIGINT for restart, SIGHUP otherwise), and the caller, not the machine.
        let sig = if cmd as u32 == 0x0123_4567 { 2 } else { 1 };
        if let Some(init) = pidc.lookup(1).and_then(|p| p.process::<task::Process>()) {
            task::exit::kill_with_status(&init, sig);
        }
        task::exit::exit_group(0);
        return Ok(0);
    }
    match cmd as u32 {
        // Power off, halt and restart all end the QEMU run (it runs with -no-reboot).
        0x4321_fedc | 0xcdef_0123 | 0x0123_4567 => {
            log::info!("reboot({:#x}): powering off", cmd as u32);
            crate::arch::x86_64::cpu::qemu_exit(0)
        }
        0x89ab_cdef | 0 => Ok(0), // Ctrl-Alt-Del on/off
        _ => Err(Errno::EINVAL),
    }
}

const RLIMIT_NOFILE: u64 = 7;

fn getrlimit(res: u64, old: u64) -> SysResult {
    prlimit(0, res, 0, old)
}

fn prlimit(pid: u64, res: u64, new: u64, old: u64) -> SysResult {
    if res >= 16 {
        return Err(Errno::EINVAL);
    }
    let p = if pid == 0 {
        task::current_process()
    } else {
        task::find_process(as_i32(pid) as u32).ok_or(Errno::ESRCH)?
    };
    let newv: Option<[u64; 2]> = if new != 0 {
        Some(read_user(new)?)
    } else {
        None
    };
    if let Some([cur, max]) = newv
        && cur > max
    {
        return Err(Errno::EINVAL);
    }
    let prev = p.inner.lock().rlimits[res as usize];
    if let Some([cur, max]) = newv {
        // setrlimit(2): raising the hard limit needs CAP_SYS_RESOURCE; RLIMIT_NOFILE
        // never goes above /proc/sys/fs/nr_open.
        if max > prev.1 {
            task::require_cap(crate::cred::CAP_SYS_RESOURCE)?;
        }
        let nr_open = crate::fs::sysctl::NR_OPEN.load(core::sync::atomic::Ordering::Relaxed);
        if res == RLIMIT_NOFILE && (cur > nr_open || max > nr_open) {
            return Err(Errno::EPERM);
        }
    }
    if old != 0 {
        write_user(old, &[prev.0, prev.1])?;
    }
    if let Some([cur, max]) = newv {
        p.inner.lock().rlimits[res as usize] = (cur, max);
    }
    Ok(0)
}

fn sysinfo(buf: u64) -> SysResult {
    let (free, total) = crate::mm::memory_pages();
    let mut b = [0u8; 112];
    // Whole seconds rounded up, as Linux's do_sysinfo (a part second counts).
    let uptime = super::time::boottime_ns().div_ceil(1_000_000_000);
    b[0..8].copy_from_slice(&uptime.to_le_bytes());
    b[32..40].copy_from_slice(&(total * 4096).to_le_bytes());
    b[40..48].copy_from_slice(&(free * 4096).to_le_bytes());
    let procs = task::TABLES.lock().procs.len() as u16;
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    copy_to_user(buf, &b)?;
    Ok(0)
}

/// PR_SET_NAME / PR_GET_NAME.
pub fn prctl_name(set: bool, arg2: u64) -> SysResult {
    let option = if set { 15 } else { 16 };
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    let p = task::current_process();
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            // Up to 16 bytes, NUL-terminated or not.
            for (i, b) in name.iter_mut().enumerate().take(15) {
                let c: u8 = read_user(arg2 + i as u64)?;
                if c == 0 {
                    break;
                }
                *b = c;
            }
            let len = name.iter().position(|&c| c == 0).unwrap_or(15);
            p.inner.lock().name = alloc::string::String::from_utf8_lossy(&name[..len]).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let n = p.inner.lock().name.clone();
            let len = n.len().min(15);
            name[..len].copy_from_slice(&n.as_bytes()[..len]);
            copy_to_user(arg2, &name)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

static RNG: AtomicU64 = AtomicU64::new(0x853c_49e6_748f_ea9b);

fn getrandom(buf: u64, len: u64, flags: u64) -> SysResult {
    if flags & !7 != 0 || flags & 5 == 5 {
        return Err(Errno::EINVAL);
    }
    let len = len.min(33_554_431) as usize;
    // Generated and copied out a chunk at a time: the length is the caller's.
    let mut chunk = [0u8; 256];
    let mut x = RNG.load(Ordering::Relaxed) ^ crate::arch::x86_64::cpu::rdtsc();
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        for word in chunk[..n.next_multiple_of(8)].chunks_mut(8) {
            // xorshift64*: not cryptographic; seeded from the TSC.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            word.copy_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        copy_to_user(buf + done as u64, &chunk[..n])?;
        done += n;
    }
    RNG.store(x, Ordering::Relaxed);
    Ok(len)
}

fn futex_call(a: [u64; 6]) -> SysResult {
    let op = a[1] as u32;
    let cmd = op & !(futex::FUTEX_PRIVATE_FLAG | futex::FUTEX_CLOCK_REALTIME);
    let timeout = |abs: bool| -> Result<Option<u64>, Errno> {
        if a[3] == 0 {
            return Ok(None);
        }
        let [s, ns]: [i64; 2] = read_user(a[3])?;
        if s < 0 || !(0..1_000_000_000).contains(&ns) {
            return Err(Errno::EINVAL);
        }
        let v = (s as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ns as u64);
        let now = crate::time::monotonic_ns();
        Ok(Some(if !abs {
            now.saturating_add(v)
        } else if op & futex::FUTEX_CLOCK_REALTIME != 0 {
            now.saturating_add(v.saturating_sub(crate::time::realtime_ns()))
        } else {
            v
        }))
    };
    match cmd {
        futex::FUTEX_WAIT => futex::wait(a[0], a[2] as u32, timeout(false)?),
        futex::FUTEX_WAIT_BITSET => {
            if a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            futex::wait(a[0], a[2] as u32, timeout(true)?)
        }
        futex::FUTEX_WAKE => futex::wake(a[0], a[2] as u32),
        futex::FUTEX_WAKE_BITSET => {
            if a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            futex::wake(a[0], a[2] as u32)
        }
        futex::FUTEX_REQUEUE => futex::requeue(a[0], a[2] as u32, a[3] as u32, a[4], None),
        futex::FUTEX_CMP_REQUEUE => {
            futex::requeue(a[0], a[2] as u32, a[3] as u32, a[4], Some(a[5] as u32))
        }
        _ => Err(Errno::ENOSYS),
    }
}
