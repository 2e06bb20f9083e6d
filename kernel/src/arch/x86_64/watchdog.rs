//! A lockup watchdog that works with interrupts off: the HPET sends an NMI (an MSI with
//! delivery mode NMI, QEMU's `hpet.msi=on`) every second; the NMI handler checks that the
//! timer interrupt, which only runs when the CPU is in user mode or idle (the kernel runs
//! with interrupts off), has ticked. When it has not for `STALL_NS`, the CPU is stuck in
//! the kernel: one report with the interrupted `rip` and a backtrace (symbolized by the
//! runner), and the kernel carries on (Linux's soft-lockup report, without the panic).

use super::backtrace;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How long the kernel may keep the CPU without a timer tick before a report.
const STALL_NS: u64 = 10_000_000_000;
/// The HPET's registers (QEMU's fixed address, as in its ACPI table).
const HPET_PA: u64 = 0xFED0_0000;
const GCAP_ID: u64 = 0x000;
const GEN_CONF: u64 = 0x010;
const MAIN_COUNTER: u64 = 0x0F0;
const fn timer_conf(n: u64) -> u64 {
    0x100 + 0x20 * n
}
const fn timer_comparator(n: u64) -> u64 {
    0x108 + 0x20 * n
}
const fn timer_fsb(n: u64) -> u64 {
    0x110 + 0x20 * n
}
const TN_INT_ENB: u64 = 1 << 2;
const TN_FSB_EN: u64 = 1 << 14;
const TN_FSB_CAP: u64 = 1 << 15;

static TICKS: AtomicU64 = AtomicU64::new(0);
static SEEN_TICKS: AtomicU64 = AtomicU64::new(0);
static LAST_CHANGE_NS: AtomicU64 = AtomicU64::new(0);
static REPORTED: AtomicBool = AtomicBool::new(false);
/// The HPET timer used and its ticks per second (0: no watchdog).
static TIMER: AtomicU64 = AtomicU64::new(0);
static TICKS_PER_S: AtomicU64 = AtomicU64::new(0);

fn reg(off: u64) -> *mut u64 {
    crate::mm::phys_to_virt(HPET_PA + off) as *mut u64
}

fn read(off: u64) -> u64 {
    // SAFETY: an HPET register, in the direct map of the first 4 GiB.
    unsafe { reg(off).read_volatile() }
}

fn write(off: u64, v: u64) {
    // SAFETY: as in `read`.
    unsafe { reg(off).write_volatile(v) }
}

/// Called on every timer interrupt: the CPU left the kernel (or idles).
pub fn pet() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Starts the NMI every second, if the HPET can send one (a timer with FSB delivery).
pub fn init() {
    let cap = read(GCAP_ID);
    let period_fs = cap >> 32;
    if cap == u64::MAX || period_fs == 0 || period_fs > 100_000_000 {
        log::warn!("watchdog: no HPET, no lockup detection");
        return;
    }
    let timers = ((cap >> 8) & 0x1f) + 1;
    let Some(n) = (0..timers).find(|&n| read(timer_conf(n)) & TN_FSB_CAP != 0) else {
        log::warn!("watchdog: no HPET timer can send an MSI (QEMU: -global hpet.msi=on)");
        return;
    };
    let per_s = 1_000_000_000_000_000 / period_fs;
    TICKS_PER_S.store(per_s, Ordering::Relaxed);
    TIMER.store(n, Ordering::Relaxed);
    LAST_CHANGE_NS.store(crate::time::monotonic_ns(), Ordering::Relaxed);
    // MSI to the boot CPU's local APIC (id 0), delivery mode NMI (100b).
    write(timer_fsb(n), (0xFEE0_0000u64 << 32) | (4 << 8) | 2);
    write(timer_conf(n), TN_INT_ENB | TN_FSB_EN);
    write(GEN_CONF, read(GEN_CONF) | 1);
    arm(n);
    log::info!("watchdog: HPET timer {n} sends an NMI every second");
}

fn arm(n: u64) {
    let per_s = TICKS_PER_S.load(Ordering::Relaxed);
    write(timer_comparator(n), read(MAIN_COUNTER).wrapping_add(per_s));
}

/// The NMI: re-arms the timer and reports a CPU that has been in the kernel too long.
pub fn nmi(rip: u64, rbp: u64, from_user: bool) {
    if TICKS_PER_S.load(Ordering::Relaxed) == 0 {
        return;
    }
    arm(TIMER.load(Ordering::Relaxed));
    let now = crate::time::monotonic_ns();
    let ticks = TICKS.load(Ordering::Relaxed);
    if from_user || ticks != SEEN_TICKS.swap(ticks, Ordering::Relaxed) {
        LAST_CHANGE_NS.store(now, Ordering::Relaxed);
        REPORTED.store(false, Ordering::Relaxed);
        return;
    }
    let stuck = now.saturating_sub(LAST_CHANGE_NS.load(Ordering::Relaxed));
    if stuck < STALL_NS || REPORTED.swap(true, Ordering::Relaxed) {
        return;
    }
    crate::klog::emergency(format_args!(
        "WATCHDOG: CPU 0 stuck in the kernel for {} s, at {rip:#x}\n",
        stuck / 1_000_000_000
    ));
    backtrace::print_from(rip, rbp, &mut |a| crate::klog::emergency(a));
}
