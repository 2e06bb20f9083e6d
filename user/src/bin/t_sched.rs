//! Scheduling: preemption of processes that never enter the kernel, fairness between two
//! spinning processes, scheduling policies and parameters, the priority ranges, the RR interval,
//! nice values (get/setpriority) and CPU affinity. Every case holds on Linux (run as root: the
//! real-time policies need CAP_SYS_NICE).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::sync::atomic::{AtomicU64, Ordering};
    use ulib::sched::*;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, wait_exit};
    use ulib::{check, check_eq, check_ok, test_main};

    const SCHED_RR_GET_INTERVAL: usize = 148;
    const GETPRIORITY: usize = 140;
    const SETPRIORITY: usize = 141;

    const PRIO_PROCESS: usize = 0;

    fn getaffinity(pid: i32, len: usize) -> SysResult<(usize, u64)> {
        let mut mask = [0u64; 16];
        // SAFETY: `mask` holds 128 bytes; `len` is at most that.
        let n = check(unsafe {
            syscall3(
                nr::SCHED_GETAFFINITY,
                pid as usize,
                len.min(128),
                mask.as_mut_ptr() as usize,
            )
        })?;
        Ok((n, mask[0]))
    }

    /// A pid that is certainly not in use: a child that has been reaped.
    fn dead_pid() -> i32 {
        let pid = fork().unwrap_or(-1);
        if pid == 0 {
            exit(0);
        }
        let _ = waitpid(pid);
        pid
    }

    /// Forks a child that spins in user mode forever without a single system call (after the
    /// fork returns), incrementing `counter` if it is given.
    fn spinner(counter: Option<&'static AtomicU64>) -> i32 {
        match fork() {
            Ok(0) => loop {
                if let Some(c) = counter {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                core::hint::spin_loop();
            },
            Ok(pid) => pid,
            Err(e) => panic!("fork failed: errno {}", e),
        }
    }

    /// A MAP_SHARED anonymous page, shared with children forked later.
    fn shared_counters() -> Option<&'static [AtomicU64; 2]> {
        // SAFETY: no MAP_FIXED: fresh memory; never unmapped, so 'static is sound.
        let a = unsafe {
            mmap(
                0,
                4096,
                PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS,
                -1,
                0,
            )
        }
        .ok()?;
        // SAFETY: zeroed, page aligned, lives for the rest of the program.
        Some(unsafe { &*(a as *const [AtomicU64; 2]) })
    }

    /// Linux preempts a process that never enters the kernel (timer interrupt): the parent
    /// still wakes up from its sleep, and SIGKILL ends the spinner ("killed by signal 9").
    fn spinning_child_does_not_stop_parent() {
        let pid = spinner(None);
        let start = monotonic_ns();
        check_ok!(sleep_ms(50));
        let slept = monotonic_ns() - start;
        check!(slept >= 50_000_000, "slept {} ns", slept);
        check!(
            slept < 2_000_000_000,
            "a 50 ms sleep took {} ns with a spinner",
            slept
        );
        check_ok!(kill(pid, SIGKILL));
        check_eq!(wait_exit(pid), Exit::Signal(SIGKILL));
    }

    /// Two CPU-bound processes both get CPU time (CFS gives every runnable task a share): after
    /// ~200 ms each one's counter in a shared page has moved.
    fn two_spinners_both_make_progress() {
        let Some(c) = shared_counters() else {
            check!(false, "mmap MAP_SHARED failed");
            return;
        };
        let a = spinner(Some(&c[0]));
        let b = spinner(Some(&c[1]));
        check_ok!(sleep_ms(200));
        let (ca, cb) = (c[0].load(Ordering::Relaxed), c[1].load(Ordering::Relaxed));
        check_ok!(kill(a, SIGKILL));
        check_ok!(kill(b, SIGKILL));
        check_eq!(wait_exit(a), Exit::Signal(SIGKILL));
        check_eq!(wait_exit(b), Exit::Signal(SIGKILL));
        check!(ca > 0, "first spinner never ran (counter {})", ca);
        check!(cb > 0, "second spinner never ran (counter {})", cb);
        // Both are dead: the counters stay put.
        let (ca, cb) = (c[0].load(Ordering::Relaxed), c[1].load(Ordering::Relaxed));
        check_ok!(sleep_ms(20));
        check_eq!(c[0].load(Ordering::Relaxed), ca);
        check_eq!(c[1].load(Ordering::Relaxed), cb);
    }

    /// sched_setscheduler/sched_getscheduler/sched_getparam round-trip (Linux: a process starts
    /// SCHED_OTHER with priority 0; FIFO 10 reads back as policy 1, priority 10), and the
    /// argument errors: unknown policy, a priority outside the policy's range and a negative pid
    /// are EINVAL, a pid with no process is ESRCH.
    fn sched_policy_and_param_round_trip() {
        check_eq!(getscheduler(0), Ok(SCHED_OTHER));
        check_eq!(getparam(0), Ok(0));
        // Done in a child, so the rest of the program keeps SCHED_OTHER whatever happens.
        let pid = ulib::test::fork_run(|| {
            check_eq!(setscheduler(0, SCHED_FIFO, 10), Ok(0));
            check_eq!(getscheduler(0), Ok(SCHED_FIFO));
            check_eq!(getscheduler(getpid()), Ok(SCHED_FIFO));
            check_eq!(getparam(0), Ok(10));
            // sched_setparam changes only the priority.
            check_eq!(setparam(0, 20), Ok(0));
            check_eq!(getparam(0), Ok(20));
            check_eq!(getscheduler(0), Ok(SCHED_FIFO));
            check_eq!(setscheduler(0, SCHED_RR, 5), Ok(0));
            check_eq!(getscheduler(0), Ok(SCHED_RR));
            check_eq!(getparam(0), Ok(5));
            check_eq!(setscheduler(0, SCHED_OTHER, 0), Ok(0));
            check_eq!(getscheduler(0), Ok(SCHED_OTHER));
            check_eq!(getparam(0), Ok(0));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(setscheduler(0, 99, 0), Err(EINVAL), "unknown policy 99");
        check_eq!(setscheduler(0, SCHED_FIFO, 0), Err(EINVAL), "FIFO prio 0");
        check_eq!(
            setscheduler(0, SCHED_FIFO, 100),
            Err(EINVAL),
            "FIFO prio 100"
        );
        check_eq!(setscheduler(0, SCHED_OTHER, 1), Err(EINVAL), "OTHER prio 1");
        check_eq!(setscheduler(-1, SCHED_OTHER, 0), Err(EINVAL), "pid -1");
        check_eq!(getscheduler(-1), Err(EINVAL));
        check_eq!(getparam(-1), Err(EINVAL));
        let dead = dead_pid();
        check_eq!(getscheduler(dead), Err(ESRCH));
        check_eq!(getparam(dead), Err(ESRCH));
        check_eq!(setscheduler(dead, SCHED_OTHER, 0), Err(ESRCH));
        // Nothing above changed the caller.
        check_eq!(getscheduler(0), Ok(SCHED_OTHER));
        check_eq!(getparam(0), Ok(0));
    }

    /// sched_get_priority_min/max: SCHED_OTHER 0..0, SCHED_FIFO and SCHED_RR 1..99, an unknown
    /// policy EINVAL.
    fn sched_priority_ranges() {
        check_eq!(
            (prio_min(SCHED_OTHER), prio_max(SCHED_OTHER)),
            (Ok(0), Ok(0))
        );
        check_eq!(
            (prio_min(SCHED_FIFO), prio_max(SCHED_FIFO)),
            (Ok(1), Ok(99))
        );
        check_eq!((prio_min(SCHED_RR), prio_max(SCHED_RR)), (Ok(1), Ok(99)));
        check_eq!(prio_min(99), Err(EINVAL));
        check_eq!(prio_max(99), Err(EINVAL));
        check_eq!(prio_max(usize::MAX), Err(EINVAL));
    }

    /// sched_rr_get_interval of a SCHED_RR process is its positive time slice (Linux: 100 ms by
    /// default); a negative pid is EINVAL, a dead one ESRCH.
    fn sched_rr_get_interval_positive_for_rr() {
        let rr_interval = |pid: i32| -> SysResult<Timespec> {
            let mut ts = Timespec {
                tv_sec: -1,
                tv_nsec: -1,
            };
            // SAFETY: `ts` is a live timespec.
            check(unsafe {
                syscall2(
                    SCHED_RR_GET_INTERVAL,
                    pid as isize as usize,
                    &mut ts as *mut Timespec as usize,
                )
            })?;
            Ok(ts)
        };
        let pid = ulib::test::fork_run(move || {
            check_eq!(setscheduler(0, SCHED_RR, 1), Ok(0));
            let ts = check_ok!(rr_interval(0));
            check!(
                ts.tv_sec >= 0 && (0..1_000_000_000).contains(&ts.tv_nsec),
                "{:?}",
                ts
            );
            check!(ts.as_nanos() > 0, "RR interval {:?}", ts);
            check!(ts.tv_sec < 10, "RR interval {:?}", ts);
            let _ = setscheduler(0, SCHED_OTHER, 0);
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(rr_interval(-1).map(|_| ()), Err(EINVAL));
        check_eq!(rr_interval(dead_pid()).map(|_| ()), Err(ESRCH));
    }

    /// setpriority(PRIO_PROCESS) sets the nice value; the raw getpriority system call returns
    /// 20 - nice (so 15 for nice 5; glibc's wrapper undoes this). Nice is inherited by fork and
    /// readable by another process; a bad `which` is EINVAL, a dead pid ESRCH.
    fn getpriority_setpriority_nice() {
        let getprio = |which: usize, who: i32| -> SysResult {
            // SAFETY: no pointer.
            check(unsafe { syscall2(GETPRIORITY, which, who as usize) })
        };
        let setprio = |which: usize, who: i32, nice: i32| -> SysResult {
            // SAFETY: no pointer.
            check(unsafe { syscall3(SETPRIORITY, which, who as usize, nice as isize as usize) })
        };
        check_eq!(getprio(PRIO_PROCESS, 0), Ok(20));
        let [r, w] = check_ok!(pipe());
        let pid = ulib::test::fork_run(move || {
            let _ = close(r);
            check_eq!(setprio(PRIO_PROCESS, 0, 5), Ok(0));
            check_eq!(getprio(PRIO_PROCESS, 0), Ok(15));
            check_eq!(getprio(PRIO_PROCESS, getpid()), Ok(15));
            // A grandchild inherits nice 5.
            let inner = ulib::test::fork_run(|| {
                check_eq!(getprio(PRIO_PROCESS, 0), Ok(15));
            });
            check_eq!(wait_exit(inner), Exit::Code(0));
            // Tell the parent, then wait for it to look at us (it closes the pipe).
            let _ = write(w, b"x");
            let _ = close(w);
            let _ = sleep_ms(100);
        });
        check_ok!(close(w));
        let mut b = [0u8; 1];
        check_eq!(read(r, &mut b), Ok(1));
        check_eq!(
            getprio(PRIO_PROCESS, pid),
            Ok(15),
            "the child's nice seen by its parent"
        );
        check_ok!(close(r));
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(
            getprio(PRIO_PROCESS, 0),
            Ok(20),
            "the parent's nice is unchanged"
        );
        check_eq!(getprio(99, 0), Err(EINVAL));
        check_eq!(setprio(99, 0, 0), Err(EINVAL));
        let dead = dead_pid();
        check_eq!(getprio(PRIO_PROCESS, dead), Err(ESRCH));
        check_eq!(setprio(PRIO_PROCESS, dead, 0), Err(ESRCH));
    }

    /// sched_getaffinity with an 8-byte mask returns 8 (the bytes it wrote) and CPU 0 is in the
    /// mask; sched_setaffinity to {CPU 0} succeeds and reads back; an empty mask is EINVAL; a
    /// mask smaller than the kernel's cpumask is EINVAL for getaffinity.
    fn sched_affinity() {
        let (n, orig) = check_ok!(getaffinity(0, 8));
        check_eq!(n, 8);
        check_eq!(orig & 1, 1, "CPU 0 in the mask {:#x}", orig);
        check_eq!(getaffinity(getpid(), 8).map(|(_, m)| m), Ok(orig));
        if ulib::test::on_bulkhead() {
            check_eq!(orig, 1, "Bulkhead has exactly one CPU");
        }
        check_eq!(setaffinity(0, 1), Ok(0));
        check_eq!(getaffinity(0, 8).map(|(_, m)| m), Ok(1));
        check_eq!(setaffinity(0, 0), Err(EINVAL), "empty mask");
        check_eq!(getaffinity(0, 8).map(|(_, m)| m), Ok(1));
        check_eq!(setaffinity(0, orig), Ok(0));
        check_eq!(getaffinity(0, 8).map(|(_, m)| m), Ok(orig));
        check_eq!(getaffinity(0, 4).map(|_| ()), Err(EINVAL), "4-byte mask");
        check_eq!(getaffinity(0, 7).map(|_| ()), Err(EINVAL), "7-byte mask");
        check_eq!(getaffinity(dead_pid(), 8).map(|_| ()), Err(ESRCH));
    }

    test_main!(
        spinning_child_does_not_stop_parent,
        two_spinners_both_make_progress,
        sched_policy_and_param_round_trip,
        sched_priority_ranges,
        sched_rr_get_interval_positive_for_rr,
        getpriority_setpriority_nice,
        sched_affinity,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
