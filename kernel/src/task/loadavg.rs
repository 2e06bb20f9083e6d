//! The load average (`/proc/loadavg`): every 5 seconds the number of runnable threads is
//! folded into three exponentially decaying averages over 1, 5 and 15 minutes, in
//! Linux's 11-bit fixed point (`kernel/sched/loadavg.c`).

use spin::Mutex;

const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
/// exp(-5 s / 1 min), exp(-5 s / 5 min), exp(-5 s / 15 min) in fixed point.
const EXP: [u64; 3] = [1884, 2014, 2037];
/// Sampling period.
pub const PERIOD_NS: u64 = 5_000_000_000;

/// One decay step of `load` towards `active` threads (Linux's `calc_load`).
pub fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let a = active * FIXED_1;
    let mut new = load * exp + a * (FIXED_1 - exp);
    if a >= load {
        new += FIXED_1 - 1;
    }
    new / FIXED_1
}

/// The three averages after one sample of `active` runnable threads.
pub fn fold(avg: [u64; 3], active: u64) -> [u64; 3] {
    core::array::from_fn(|i| calc_load(avg[i], EXP[i], active))
}

/// `/proc/loadavg`: three averages with two decimals, runnable/total threads, and the
/// last process number given out.
pub fn render(avg: [u64; 3], running: u32, total: u32, last_pid: u32) -> alloc::string::String {
    let part = |x: u64| {
        let x = x + FIXED_1 / 200; // rounds to the nearest hundredth, as Linux
        (x >> FSHIFT, ((x & (FIXED_1 - 1)) * 100) >> FSHIFT)
    };
    let [(a, b), (c, d), (e, f)] = avg.map(part);
    alloc::format!("{a}.{b:02} {c}.{d:02} {e}.{f:02} {running}/{total} {last_pid}\n")
}

/// (next sample time, averages).
static STATE: Mutex<(u64, [u64; 3])> = Mutex::new((PERIOD_NS, [0; 3]));

/// Called on every timer tick: takes a sample when a period has passed.
pub fn tick(now: u64, runnable: impl FnOnce() -> u32) {
    let Some(mut s) = STATE.try_lock() else {
        return;
    };
    if now < s.0 {
        return;
    }
    s.0 = now + PERIOD_NS;
    s.1 = fold(s.1, runnable() as u64);
}

pub fn averages() -> [u64; 3] {
    STATE.lock().1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_busy_thread_approaches_one() {
        let mut avg = [0; 3];
        for _ in 0..12 {
            avg = fold(avg, 1);
        }
        // After a minute of one runnable thread: 1 - 1/e of it over 1 minute.
        let r = render(avg, 1, 5, 42);
        assert!(r.starts_with("0.6"), "{r}");
        assert!(r.ends_with(" 1/5 42\n"), "{r}");
        for _ in 0..2000 {
            avg = fold(avg, 1);
        }
        assert!(render(avg, 1, 1, 1).starts_with("1.00 1.00 1.00"));
        for _ in 0..2000 {
            avg = fold(avg, 0);
        }
        assert!(render(avg, 0, 1, 1).starts_with("0.00 0.00 0.00"));
    }

    #[test]
    fn calc_load_matches_linux_fixed_point() {
        // Linux: calc_load(0, EXP_1, 1 * FIXED_1) = (2048 * 164 + 2047) / 2048 = 164.
        assert_eq!(calc_load(0, 1884, 1), 164);
        assert_eq!(render([2048, 1024, 0], 0, 0, 0), "1.00 0.50 0.00 0/0 0\n");
    }
}
