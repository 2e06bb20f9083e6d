//! Time: the clocks of clock_gettime (wall, monotonic, coarse, CPU-time and per-process CPU
//! clocks), clock_getres, clock_nanosleep (relative and absolute), times(), alarm and the
//! ITIMER_REAL interval timer, gettimeofday. Every case holds on Linux.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::sync::atomic::{AtomicUsize, Ordering};
    use ulib::rt::{set_disposition, set_handler};
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{check, check_eq, check_ok, test_main};

    const GETITIMER: usize = 36;
    const ALARM: usize = 37;
    const SETITIMER: usize = 38;
    const GETTIMEOFDAY: usize = 96;
    const TIMES: usize = 100;
    const CLOCK_NANOSLEEP: usize = 230;

    const CLOCK_PROCESS_CPUTIME_ID: usize = 2;
    const CLOCK_THREAD_CPUTIME_ID: usize = 3;
    const CLOCK_MONOTONIC_RAW: usize = 4;
    const CLOCK_REALTIME_COARSE: usize = 5;
    const CLOCK_MONOTONIC_COARSE: usize = 6;
    const TIMER_ABSTIME: usize = 1;
    const ITIMER_REAL: usize = 0;
    const EOPNOTSUPP: i32 = 95;

    const MS: u64 = 1_000_000;
    const SEC: u64 = 1_000_000_000;

    /// `struct tms`: user and system time of the process and of its waited-for children.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    struct Tms {
        utime: i64,
        stime: i64,
        cutime: i64,
        cstime: i64,
    }

    /// `struct timeval`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Timeval {
        sec: i64,
        usec: i64,
    }

    /// `struct itimerval`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Itimerval {
        interval: Timeval,
        value: Timeval,
    }

    fn tv(us: i64) -> Timeval {
        Timeval {
            sec: us / 1_000_000,
            usec: us % 1_000_000,
        }
    }

    fn tv_us(t: &Timeval) -> i64 {
        t.sec * 1_000_000 + t.usec
    }

    fn times() -> SysResult<(usize, Tms)> {
        let mut t = Tms::default();
        // SAFETY: `t` is a live struct tms.
        let r = check(unsafe { syscall1(TIMES, &mut t as *mut Tms as usize) })?;
        Ok((r, t))
    }

    fn alarm(secs: usize) -> usize {
        // SAFETY: no pointer.
        unsafe { syscall1(ALARM, secs) as usize }
    }

    fn setitimer(new: &Itimerval) -> SysResult<Itimerval> {
        let mut old = Itimerval::default();
        // SAFETY: both structs are live.
        check(unsafe {
            syscall3(
                SETITIMER,
                ITIMER_REAL,
                new as *const Itimerval as usize,
                &mut old as *mut Itimerval as usize,
            )
        })?;
        Ok(old)
    }

    fn getitimer() -> SysResult<Itimerval> {
        let mut cur = Itimerval::default();
        // SAFETY: `cur` is live.
        check(unsafe { syscall2(GETITIMER, ITIMER_REAL, &mut cur as *mut Itimerval as usize) })?;
        Ok(cur)
    }

    fn clock_nanosleep(clock: usize, flags: usize, req: &Timespec) -> SysResult {
        // SAFETY: `req` is live; no remainder pointer.
        check(unsafe {
            syscall4(
                CLOCK_NANOSLEEP,
                clock,
                flags,
                req as *const Timespec as usize,
                0,
            )
        })
    }

    fn now(clock: usize) -> u64 {
        clock_gettime(clock).map_or(0, |t| t.as_nanos())
    }

    /// Spins in user mode until this process has used `ns` of CPU time (or 10 s of wall time
    /// passed); returns the CPU time used.
    fn burn_cpu(ns: u64) -> u64 {
        let cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
        let wall0 = monotonic_ns();
        let mut x = 0u64;
        loop {
            for i in 0..200_000u64 {
                x = core::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            let used = now(CLOCK_PROCESS_CPUTIME_ID).saturating_sub(cpu0);
            if used >= ns || monotonic_ns() - wall0 > 10 * SEC {
                return used;
            }
        }
    }

    /// Every clock of clock_gettime reads a valid timespec; REALTIME is after 2020 (Linux reads
    /// the RTC at boot); the monotonic clocks never go backwards over 1000 reads each.
    fn clock_gettime_all_clocks() {
        for clock in [
            CLOCK_REALTIME,
            CLOCK_MONOTONIC,
            CLOCK_PROCESS_CPUTIME_ID,
            CLOCK_THREAD_CPUTIME_ID,
            CLOCK_MONOTONIC_RAW,
            CLOCK_REALTIME_COARSE,
            CLOCK_MONOTONIC_COARSE,
            CLOCK_BOOTTIME,
        ] {
            let ts = check_ok!(clock_gettime(clock));
            check!(
                ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec),
                "clock {}: {:?}",
                clock,
                ts
            );
        }
        let real = check_ok!(clock_gettime(CLOCK_REALTIME));
        check!(
            real.tv_sec > 1_577_836_800,
            "REALTIME {:?} is before 2020",
            real
        );
        let coarse = check_ok!(clock_gettime(CLOCK_REALTIME_COARSE));
        check!(
            coarse.tv_sec.abs_diff(real.tv_sec) <= 1,
            "REALTIME_COARSE {:?} vs REALTIME {:?}",
            coarse,
            real
        );
        for clock in [
            CLOCK_MONOTONIC,
            CLOCK_MONOTONIC_RAW,
            CLOCK_BOOTTIME,
            CLOCK_MONOTONIC_COARSE,
        ] {
            let mut last = check_ok!(clock_gettime(clock));
            for i in 0..1000 {
                let t = check_ok!(clock_gettime(clock));
                if t < last {
                    check!(
                        false,
                        "clock {} went back at read {}: {:?} < {:?}",
                        clock,
                        i,
                        t,
                        last
                    );
                    break;
                }
                last = t;
            }
        }
        // BOOTTIME = MONOTONIC + time suspended, so never behind it.
        let mono = now(CLOCK_MONOTONIC);
        let boot = now(CLOCK_BOOTTIME);
        check!(boot >= mono, "BOOTTIME {} < MONOTONIC {}", boot, mono);
        // Unknown clock ids are EINVAL.
        check_eq!(clock_gettime(8 + 100), Err(EINVAL));
        check_eq!(clock_gettime(usize::MAX >> 1), Err(EINVAL));
    }

    /// CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID advance by (about) the CPU time
    /// spent in a busy loop, and sleeping does not count as CPU time.
    fn cpu_time_clocks_advance_with_work() {
        let p0 = now(CLOCK_PROCESS_CPUTIME_ID);
        let t0 = now(CLOCK_THREAD_CPUTIME_ID);
        let used = burn_cpu(50 * MS);
        check!(used >= 50 * MS, "only {} ns of CPU time in 10 s", used);
        let p1 = now(CLOCK_PROCESS_CPUTIME_ID);
        let t1 = now(CLOCK_THREAD_CPUTIME_ID);
        check!(p1 - p0 >= 50 * MS, "process CPU {} -> {}", p0, p1);
        check!(t1 - t0 >= 40 * MS, "thread CPU {} -> {}", t0, t1);
        check!(
            t1 <= p1 + 5 * MS,
            "one thread: thread {} > process {}",
            t1,
            p1
        );
        check_ok!(sleep_ms(100));
        let p2 = now(CLOCK_PROCESS_CPUTIME_ID);
        check!(
            p2 - p1 < 50 * MS,
            "sleeping 100 ms cost {} ns of CPU",
            p2 - p1
        );
    }

    /// A process's CPU clock id (`(~pid << 3) | 2`, CPUCLOCK_SCHED, as glibc's
    /// clock_getcpuclockid makes it) is readable by another process while the process lives and
    /// EINVAL once it is gone; our own pid's clock id matches CLOCK_PROCESS_CPUTIME_ID.
    fn per_process_cpu_clock_of_child() {
        let clock_of = |pid: i32| ((!(pid as i64) << 3) | 2) as usize;
        let [r, w] = check_ok!(pipe());
        let pid = fork_run(|| {
            let _ = close(w);
            burn_cpu(30 * MS);
            let mut b = [0u8; 1];
            let _ = read(r, &mut b); // until the parent closes its end
        });
        check_ok!(close(r));
        // Wait until the child has used its 30 ms (at most ~10 s).
        let mut child_cpu = 0;
        for _ in 0..1000 {
            child_cpu = match clock_gettime(clock_of(pid)) {
                Ok(t) => t.as_nanos(),
                Err(e) => {
                    check!(false, "clock_gettime(child {} cpu clock): errno {}", pid, e);
                    break;
                }
            };
            if child_cpu >= 30 * MS {
                break;
            }
            let _ = sleep_ms(10);
        }
        check!(child_cpu >= 30 * MS, "child CPU clock {} ns", child_cpu);
        check!(child_cpu < 60 * SEC, "child CPU clock {} ns", child_cpu);
        check_ok!(close(w));
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(clock_gettime(clock_of(pid)), Err(EINVAL), "reaped child");
        let mine = check_ok!(clock_gettime(clock_of(getpid()))).as_nanos();
        let process = now(CLOCK_PROCESS_CPUTIME_ID);
        check!(
            mine <= process && process - mine < 100 * MS,
            "own pid clock {} vs PROCESS_CPUTIME {}",
            mine,
            process
        );
        let res = check_ok!(clock_getres(clock_of(getpid())).map(|t| t.as_nanos()));
        check!(res > 0 && res <= SEC / 100, "res {}", res);
    }

    /// clock_getres: the high-resolution clocks report at most 1 ms (Linux: 1 ns with hrtimers),
    /// the coarse clocks a positive tick-sized resolution; an unknown clock is EINVAL.
    fn clock_getres_values() {
        for clock in [
            CLOCK_REALTIME,
            CLOCK_MONOTONIC,
            CLOCK_MONOTONIC_RAW,
            CLOCK_BOOTTIME,
            CLOCK_PROCESS_CPUTIME_ID,
            CLOCK_THREAD_CPUTIME_ID,
        ] {
            let res = check_ok!(clock_getres(clock));
            check!(
                res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1_000_000,
                "clock {}: {:?}",
                clock,
                res
            );
        }
        for clock in [CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE] {
            let res = check_ok!(clock_getres(clock));
            check!(
                res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 100_000_000,
                "clock {}: {:?}",
                clock,
                res
            );
        }
        check_eq!(clock_getres(100), Err(EINVAL));
        // A NULL result pointer is allowed (Linux just validates the clock).
        // SAFETY: NULL is never written.
        check_eq!(
            check(unsafe { syscall2(nr::CLOCK_GETRES, CLOCK_MONOTONIC, 0) }),
            Ok(0)
        );
    }

    /// clock_nanosleep on CLOCK_MONOTONIC: a relative sleep lasts at least the request; with
    /// TIMER_ABSTIME it wakes at or after the absolute target, and returns at once for a target
    /// in the past. Bad tv_nsec is EINVAL (also for nanosleep), an unknown clock EINVAL, and the
    /// thread CPU clock, which has no nsleep in Linux's posix-timers, EOPNOTSUPP.
    fn clock_nanosleep_relative_and_absolute() {
        let start = monotonic_ns();
        check_eq!(
            clock_nanosleep(CLOCK_MONOTONIC, 0, &Timespec::from_nanos(20 * MS)),
            Ok(0)
        );
        let slept = monotonic_ns() - start;
        check!(slept >= 20 * MS, "relative: slept {} ns", slept);
        check!(slept < 2 * SEC, "relative: slept {} ns", slept);

        let target = monotonic_ns() + 30 * MS;
        check_eq!(
            clock_nanosleep(
                CLOCK_MONOTONIC,
                TIMER_ABSTIME,
                &Timespec::from_nanos(target)
            ),
            Ok(0)
        );
        let woke = monotonic_ns();
        check!(
            woke >= target,
            "absolute: woke at {} before {}",
            woke,
            target
        );
        check!(
            woke - target < 2 * SEC,
            "absolute: woke {} ns late",
            woke - target
        );

        let start = monotonic_ns();
        check_eq!(
            clock_nanosleep(
                CLOCK_MONOTONIC,
                TIMER_ABSTIME,
                &Timespec::from_nanos(start / 2)
            ),
            Ok(0)
        );
        check!(
            monotonic_ns() - start < 500 * MS,
            "a past target should not sleep"
        );

        // Absolute on CLOCK_REALTIME too.
        let target = now(CLOCK_REALTIME) + 20 * MS;
        check_eq!(
            clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &Timespec::from_nanos(target)),
            Ok(0)
        );
        check!(now(CLOCK_REALTIME) >= target);

        let bad = Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        };
        check_eq!(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad), Err(EINVAL));
        check_eq!(nanosleep(&bad), Err(EINVAL));
        let neg = Timespec {
            tv_sec: 0,
            tv_nsec: -1,
        };
        check_eq!(nanosleep(&neg), Err(EINVAL));
        check_eq!(
            clock_nanosleep(100, 0, &Timespec::from_nanos(MS)),
            Err(EINVAL)
        );
        check_eq!(
            clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &Timespec::from_nanos(MS)),
            Err(EOPNOTSUPP)
        );
    }

    /// Spins in user mode until this process's `tms_utime + tms_stime` grew by `n` ticks
    /// (or 20 s of wall time passed); returns the growth. Counted in the kernel's own
    /// ticks, so time the host takes QEMU's CPU away (no tick arrives) does not count.
    fn burn_ticks(n: i64) -> i64 {
        let cpu = || times().map_or(0, |(_, t)| t.utime + t.stime);
        let (c0, wall0) = (cpu(), monotonic_ns());
        let mut x = 0u64;
        loop {
            for i in 0..20_000u64 {
                x = core::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            let grown = cpu() - c0;
            if grown >= n || monotonic_ns() - wall0 > 20 * SEC {
                return grown;
            }
        }
    }

    /// times() returns clock ticks (USER_HZ 100) that increase with wall time, and tms_utime
    /// grows after busy work in user mode; a waited-for child's CPU time lands in tms_cutime +
    /// tms_cstime. The work is measured in the guest's ticks, not against wall time: on a
    /// loaded host QEMU's CPU is taken away while the guest's clock runs on.
    fn times_ticks_and_utime() {
        let (t0, s0) = check_ok!(times());
        check_ok!(sleep_ms(50));
        let (t1, s1) = check_ok!(times());
        check!(t1 > t0, "times() {} then {} across 50 ms", t0, t1);
        check!(t1 - t0 < 300, "50 ms took {} ticks", t1 - t0);
        let c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        let grown = burn_ticks(15);
        let (t2, s2) = check_ok!(times());
        let c2 = now(CLOCK_PROCESS_CPUTIME_ID);
        let used = (s2.utime + s2.stime) - (s1.utime + s1.stime);
        check!(
            grown >= 15 && used >= 15,
            "15 ticks of work: {:?} -> {:?}",
            s1,
            s2
        );
        // Most of it in user mode (ticks that land in times() itself count as system time).
        check!(s2.utime - s1.utime >= 10, "tms_utime: {:?} -> {:?}", s1, s2);
        // One CPU: no more CPU ticks than ticks went by (each side rounded down to USER_HZ).
        check!(
            (t2 - t1) as i64 + 2 >= used,
            "{} ticks of CPU in {} -> {} ticks",
            used,
            t1,
            t2
        );
        // The CPU-time clock (TSC) saw at least that much, less the ticks' sampling.
        check!(
            c2 - c1 >= (used.max(3) as u64 - 3) * 10 * MS,
            "{} ticks of CPU but CLOCK_PROCESS_CPUTIME_ID {} -> {} ns",
            used,
            c1,
            c2
        );
        check_eq!((s2.cutime, s2.cstime), (s0.cutime, s0.cstime));
        let pid = fork_run(|| {
            burn_ticks(15);
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        let (_, s3) = check_ok!(times());
        check!(
            (s3.cutime + s3.cstime) - (s2.cutime + s2.cstime) >= 15,
            "child's 15 ticks: {:?} -> {:?}",
            s2,
            s3
        );
        // A NULL buffer is allowed: only the tick count.
        // SAFETY: NULL is never written.
        check!(check(unsafe { syscall1(TIMES, 0) }).is_ok_and(|t| t >= t2));
    }

    static ALRM: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_alrm(_: i32) {
        ALRM.fetch_add(1, Ordering::SeqCst);
    }

    /// Sleeps until `ALRM` reaches `count` or `limit_ns` passed; returns the elapsed ns.
    fn wait_alarms(count: usize, limit_ns: u64) -> u64 {
        let start = monotonic_ns();
        while ALRM.load(Ordering::SeqCst) < count && monotonic_ns() - start < limit_ns {
            let _ = sleep_ms(5); // EINTR when the signal comes
        }
        monotonic_ns() - start
    }

    /// alarm(1) delivers SIGALRM after about a second; alarm returns the seconds left of the
    /// previous alarm (0 when none; rounded, never 0 while one is pending); alarm(0) cancels.
    fn alarm_delivers_sigalrm() {
        ALRM.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGALRM, on_alrm, 0, 0));
        check_eq!(alarm(0), 0, "no alarm was pending");
        check_eq!(alarm(5), 0);
        check_eq!(alarm(1), 5, "the 5 s alarm had ~5 s left");
        let start = monotonic_ns();
        let waited = wait_alarms(1, 3 * SEC);
        check_eq!(ALRM.load(Ordering::SeqCst), 1);
        check!(
            waited >= 900 * MS,
            "SIGALRM after {} ns",
            monotonic_ns() - start
        );
        check!(waited <= 1500 * MS, "SIGALRM after {} ns", waited);
        check_eq!(alarm(0), 0, "the alarm fired: nothing left");
        // alarm(0) cancels a pending alarm (and reports it).
        check_eq!(alarm(1), 0);
        check_eq!(alarm(0), 1);
        check_ok!(sleep_ms(1200));
        check_eq!(ALRM.load(Ordering::SeqCst), 1, "a cancelled alarm fired");
        check_ok!(set_disposition(SIGALRM, SIG_DFL));
    }

    /// setitimer(ITIMER_REAL) with a 20 ms interval fires repeatedly (at least 3 times in
    /// ~100 ms+); getitimer reads back a remaining value no larger than what was set; setting a
    /// zero value disarms it and returns the old setting; bad usec is EINVAL.
    fn itimer_real_fires_repeatedly() {
        ALRM.store(0, Ordering::SeqCst);
        check_ok!(set_handler(SIGALRM, on_alrm, 0, 0));
        let it = Itimerval {
            interval: tv(20_000),
            value: tv(20_000),
        };
        check_eq!(
            setitimer(&it),
            Ok(Itimerval::default()),
            "no timer was armed"
        );
        let waited = wait_alarms(3, 2 * SEC);
        check!(
            ALRM.load(Ordering::SeqCst) >= 3,
            "{} SIGALRMs in {} ns",
            ALRM.load(Ordering::SeqCst),
            waited
        );
        check!(waited >= 55 * MS, "3 expiries of 20 ms in {} ns", waited);
        let cur = check_ok!(getitimer());
        check_eq!(cur.interval, tv(20_000));
        check!(
            tv_us(&cur.value) > 0 && tv_us(&cur.value) <= 20_000,
            "{:?}",
            cur
        );
        let old = check_ok!(setitimer(&Itimerval::default()));
        check_eq!(old.interval, tv(20_000));
        check_eq!(check_ok!(getitimer()), Itimerval::default());
        let n = ALRM.load(Ordering::SeqCst);
        check_ok!(sleep_ms(60));
        check_eq!(ALRM.load(Ordering::SeqCst), n, "the disarmed timer fired");

        // A one-shot 10 s timer: getitimer shows a value in (9 s, 10 s] and no interval.
        let one = Itimerval {
            interval: Timeval::default(),
            value: tv(10_000_000),
        };
        check_eq!(setitimer(&one), Ok(Itimerval::default()));
        let cur = check_ok!(getitimer());
        check_eq!(cur.interval, Timeval::default());
        check!(
            tv_us(&cur.value) > 9_000_000 && tv_us(&cur.value) <= 10_000_000,
            "{:?}",
            cur
        );
        // alarm shares ITIMER_REAL: it reports the 10 s and replaces it.
        check_eq!(alarm(0), 10);
        check_eq!(check_ok!(getitimer()), Itimerval::default());
        let bad = Itimerval {
            interval: Timeval::default(),
            value: Timeval {
                sec: 0,
                usec: 1_000_000,
            },
        };
        check_eq!(setitimer(&bad), Err(EINVAL));
        check_ok!(set_disposition(SIGALRM, SIG_DFL));
    }

    /// gettimeofday agrees with CLOCK_REALTIME within a second, and tv_usec < 1e6.
    fn gettimeofday_agrees_with_realtime() {
        let mut t = Timeval::default();
        // SAFETY: `t` is a live timeval; no timezone.
        check_ok!(check(unsafe {
            syscall2(GETTIMEOFDAY, &mut t as *mut Timeval as usize, 0)
        }));
        let real = check_ok!(clock_gettime(CLOCK_REALTIME));
        check!((0..1_000_000).contains(&t.usec), "{:?}", t);
        let diff = (real.tv_sec * 1_000_000 + real.tv_nsec / 1000) - tv_us(&t);
        check!(
            (0..1_000_000).contains(&diff),
            "gettimeofday {:?} vs REALTIME {:?}",
            t,
            real
        );
    }

    test_main!(
        clock_gettime_all_clocks,
        cpu_time_clocks_advance_with_work,
        per_process_cpu_clock_of_child,
        clock_getres_values,
        clock_nanosleep_relative_and_absolute,
        times_ticks_and_utime,
        alarm_delivers_sigalrm,
        itimer_real_fires_repeatedly,
        gettimeofday_agrees_with_realtime,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
