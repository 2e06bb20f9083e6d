//! Kernel time: a monotonic clock from the TSC (calibrated against the PIT at boot),
//! the real-time clock from the CMOS RTC plus `clock_settime` adjustments.

use crate::arch::x86_64::{cpu, timer};
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static TSC_START: AtomicU64 = AtomicU64::new(0);
static TSC_PER_MS: AtomicU64 = AtomicU64::new(1_000_000);
static MAX_SEEN: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick, 32.32 fixed point.
static NS_MULT: AtomicU64 = AtomicU64::new(1 << 32);
/// Nanoseconds since the epoch at boot, adjusted by `clock_settime(CLOCK_REALTIME)`.
static REALTIME_OFFSET: AtomicI64 = AtomicI64::new(0);

pub fn init() {
    let tsc_per_ms = calibrate_tsc();
    TSC_PER_MS.store(tsc_per_ms.max(1), Ordering::Relaxed);
    let mult = ((1_000_000u128 << 32) / tsc_per_ms.max(1) as u128) as u64;
    NS_MULT.store(mult, Ordering::Relaxed);
    let start = cpu::rdtsc();
    TSC_START.store(start, Ordering::Relaxed);
    let rt = (timer::rtc_epoch_seconds() * 1_000_000_000) as i64;
    REALTIME_OFFSET.store(rt, Ordering::Relaxed);
    crate::mm::vdso::init(start, mult, rt);
    log::info!("time: TSC {} kHz", tsc_per_ms);
}

/// TSC ticks in 10 ms of PIT channel 2 (one-shot, polled).
fn calibrate_tsc() -> u64 {
    use cpu::{inb, outb};
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0xB0);
    let count: u16 = 11932;
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let g = inb(0x61);
    outb(0x61, g & !1);
    outb(0x61, g | 1);
    let t0 = cpu::rdtsc();
    while inb(0x61) & 0x20 == 0 {}
    let t1 = cpu::rdtsc();
    (t1 - t0) / 10
}

/// The TSC's frequency in kHz (measured at boot).
pub fn tsc_khz() -> u64 {
    TSC_PER_MS.load(Ordering::Relaxed)
}

/// Nanoseconds since boot; never goes backwards. TSC ticks times [`NS_MULT`] (32.32 fixed
/// point): the vDSO computes exactly the same.
pub fn monotonic_ns() -> u64 {
    let dt = cpu::rdtsc().wrapping_sub(TSC_START.load(Ordering::Relaxed));
    let ns = ((dt as u128 * NS_MULT.load(Ordering::Relaxed) as u128) >> 32) as u64;
    MAX_SEEN.fetch_max(ns, Ordering::Relaxed).max(ns)
}

pub fn realtime_ns() -> u64 {
    (monotonic_ns() as i64)
        .saturating_add(REALTIME_OFFSET.load(Ordering::Relaxed))
        .max(0) as u64
}

pub fn set_realtime_ns(ns: u64) {
    let off = ns as i64 - monotonic_ns() as i64;
    REALTIME_OFFSET.store(off, Ordering::Relaxed);
    crate::mm::vdso::set_realtime_offset(off);
}

/// Nanoseconds since boot measured in raw TSC (CPU-time accounting).
pub fn tsc_to_ns(tsc: u64) -> u64 {
    (tsc as u128 * 1_000_000 / TSC_PER_MS.load(Ordering::Relaxed) as u128) as u64
}
