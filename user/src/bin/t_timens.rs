//! TIME containers: LiteOS-A's It_time_container_001–010 (ported as containers.md says:
//! children cloned without SIGCHLD are reaped with `__WALL`, the over-limit errno is ENOSPC)
//! and the Linux side of time_namespaces(7): offsets seen by children and not by the
//! unsharer, freezing on entry, the `timens_offsets` and `time_offsets` formats and errnos,
//! `CLOCK_BOOTTIME`/`/proc/uptime`/`sysinfo` with a boottime offset, negative offsets,
//! `clock_nanosleep(TIMER_ABSTIME)` and timerfds under an offset, `clone3(CLONE_NEWTIME)`,
//! `setns`, and `execve` entering time_for_children. Every program ends by checking that the
//! count of every `max_*_container` is back to its start.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`, `time_offsets`,
//! `/proc/sys/user/max_*_container`, and the EINVAL of a second `unshare(CLONE_NEWTIME)`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use ulib::container::*;
    use ulib::cred::{CAP_SYS_TIME, drop_cap};
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run};
    use ulib::timens::*;
    use ulib::{Args, check, check_eq, check_ne, check_ok};

    const EXEC_PROBE: &str = "--exec-probe";

    fn me() -> String {
        format!("{}", getpid())
    }

    /// Parses timens_offsets' `"%-10s %10lld %9ld\n"` lines into (monotonic, boottime)
    /// nanoseconds.
    fn parse_timens(text: &str) -> Option<(i64, i64)> {
        let mut v = [None, None];
        for line in text.lines() {
            let mut w = line.split_ascii_whitespace();
            let i = match w.next()? {
                "monotonic" => 0,
                "boottime" => 1,
                _ => return None,
            };
            let sec: i64 = w.next()?.parse().ok()?;
            let nsec: i64 = w.next()?.parse().ok()?;
            v[i] = Some(sec * NSEC + nsec);
        }
        Some((v[0]?, v[1]?))
    }

    /// Runs `f` in a forked child right after the child's `unshare(CLONE_NEWTIME)` (checked;
    /// the child's time_for_children is then a new container, its time stays), and checks that
    /// the child passed.
    fn in_unshared_time(f: impl FnOnce()) {
        let pid = fork_run(|| {
            check_eq!(unshare(CLONE_NEWTIME), Ok(0));
            f();
        });
        check_eq!(ulib::test::wait_exit(pid), Exit::Code(0));
    }

    /// Waits until the host clock is past `secs` seconds (so a negative offset of that size
    /// is in range).
    fn uptime_at_least(secs: i64) {
        while clock_ns(CLOCK_MONOTONIC) < secs * NSEC {
            let _ = sleep_ms(50);
        }
    }

    // LiteOS-A: It_time_container_001
    /// time == time_for_children; a `clone(CLONE_NEWTIME|SIGCHLD)` child (legacy clone ignores
    /// the flag, which lies in the exit-signal byte) has the parent's time link and is reaped
    /// by a plain `waitpid` (its exit signal is SIGCHLD).
    fn time_001_legacy_clone_ignores_newtime() {
        let mine = own_container("time");
        check_eq!(mine, own_container("time_for_children"));
        check!(parse_container_text(&mine, "time").is_some(), "{:?}", mine);
        let [r, w] = pipe_pair();
        let pid = check_ok!(clone_code(CLONE_NEWTIME | SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
            0
        }));
        let _ = close(r);
        check_eq!(readlink_container(pid, "time"), mine);
        check_eq!(readlink_container(pid, "time_for_children"), mine);
        go(w);
        let _ = close(w);
        check_eq!(
            ulib::test::wait_exit(pid),
            Exit::Code(0),
            "waitpid without __WALL"
        );
    }

    // LiteOS-A: It_time_container_002
    /// F: unshare works, a second gives EINVAL (LiteOS-A's rule; Linux would allow it);
    /// writing "monotonic 600 800000000" to /proc/F/time_offsets returns its length; F's
    /// time != time_for_children; a `clone(CLONE_NEWTIME|SIGCHLD)` child lives in F's
    /// time_for_children and reads "monotonic 600 800000000" from its own time_offsets;
    /// F's unshare still gives EINVAL.
    fn time_002_unshare_write_child_reads() {
        in_unshared_time(|| {
            check_eq!(unshare(CLONE_NEWTIME), Err(EINVAL));
            let text = "monotonic 600 800000000";
            check_eq!(write_offsets(&me(), "time_offsets", text), Ok(text.len()));
            let tfc = own_container("time_for_children");
            check_ne!(own_container("time"), tfc);
            let [r, w] = pipe_pair();
            let child = check_ok!(clone_code(CLONE_NEWTIME | SIGCHLD_EXIT, || {
                let _ = close(w);
                wait_go(r);
                match read_offsets("self", "time_offsets") {
                    Ok(t) if t.starts_with(text) => 0,
                    Ok(_) => 3,
                    Err(_) => 2,
                }
            }));
            let _ = close(r);
            check_eq!(readlink_container(child, "time"), tfc);
            check_eq!(unshare(CLONE_NEWTIME), Err(EINVAL));
            go(w);
            let _ = close(w);
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    // LiteOS-A: It_time_container_003
    /// F unshares; its child (in F's new container) setns to /proc/<ppid>/container/time:
    /// then the child's time == time_for_children (both F's time).
    fn time_003_setns_to_parent_time() {
        in_unshared_time(|| {
            let f_time = own_container("time");
            let child = check_ok!(clone_run(CLONE_NEWTIME | SIGCHLD_EXIT, || {
                let path = container_path(&format!("{}", getppid()), "time");
                let fd = check_ok!(open_path(&path, O_RDONLY));
                check_eq!(setns(fd, CLONE_NEWTIME), Ok(0));
                let _ = close(fd);
                check_eq!(own_container("time"), own_container("time_for_children"));
                check_eq!(own_container("time"), f_time);
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    /// LiteOS-A's time_004/005: F unshares and writes "monotonic 172800 800000000"; the
    /// child's `clock` is at least F's (read before the clone) + 172800 s.
    fn offset_seen_by_child(clock: usize) {
        in_unshared_time(|| {
            let text = "monotonic 172800 800000000";
            check_eq!(write_offsets(&me(), "time_offsets", text), Ok(text.len()));
            let before = clock_ns(clock);
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let now = clock_ns(clock);
                check!(
                    now / NSEC >= before / NSEC + 172800,
                    "clock {}: child {} parent {}",
                    clock,
                    now,
                    before
                );
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
            check!(
                clock_ns(clock) < before + 100 * NSEC,
                "the unsharer's clock moved"
            );
        });
    }

    // LiteOS-A: It_time_container_004
    fn time_004_child_monotonic_raw_offset() {
        offset_seen_by_child(CLOCK_MONOTONIC_RAW);
    }

    // LiteOS-A: It_time_container_005
    fn time_005_child_monotonic_offset() {
        offset_seen_by_child(CLOCK_MONOTONIC);
    }

    // LiteOS-A: It_time_container_006
    /// max_time_container is 10; with the limit at count+1, a `clone(CLONE_NEWTIME)` child (no
    /// exit signal: reaped with __WALL) unshares once and the second unshare fails: exit 2.
    /// The limit reads 10 again after it is written back.
    fn time_006_limit_unshare_twice() {
        let (limit, count) = check_ok!(read_limit("time"));
        check_eq!(limit, 10);
        check_ok!(write_limit("time", count + 1));
        let pid = check_ok!(clone_code(CLONE_NEWTIME, || {
            if unshare(CLONE_NEWTIME).is_err() {
                return 1;
            }
            if unshare(CLONE_NEWTIME).is_err() {
                return 2;
            }
            0
        }));
        check_eq!(wait_exit(pid), Exit::Code(2));
        check_eq!(wait_count("time", count), count);
        check_ok!(write_limit("time", 10));
        check_eq!(read_limit("time"), Ok((10, count)));
    }

    // LiteOS-A: It_time_container_007
    /// In the root container (frozen from boot) a write to one's own time_offsets fails
    /// (EACCES).
    fn time_007_root_offsets_frozen() {
        check_eq!(
            write_offsets("self", "time_offsets", "monotonic 172800 80000000"),
            Err(EACCES)
        );
    }

    // LiteOS-A: It_time_container_008
    /// After unshare, nsec 800000000000 (>= 1e9) fails with EACCES (LiteOS-A's errno).
    fn time_008_nsec_too_large() {
        in_unshared_time(|| {
            check_eq!(
                write_offsets(&me(), "time_offsets", "monotonic 172800 800000000000"),
                Err(EACCES)
            );
        });
    }

    // LiteOS-A: It_time_container_009
    /// lstat of the time link works and its text is 'time:[N]'.
    fn time_009_link_text() {
        let st = check_ok!(lstat_path(&container_path("self", "time")));
        check_eq!(st.st_mode & S_IFMT, S_IFLNK);
        let text = own_container("time");
        check!(parse_container_text(&text, "time").is_some(), "{:?}", text);
    }

    // LiteOS-A: It_time_container_010
    /// A `clone(CLONE_NEWTIME|SIGCHLD)` child exits 0; the parent's time link is unchanged.
    fn time_010_parent_link_unchanged() {
        let before = own_container("time");
        let pid = check_ok!(clone_code(CLONE_NEWTIME | SIGCHLD_EXIT, || 0));
        check_eq!(ulib::test::wait_exit(pid), Exit::Code(0));
        check_eq!(own_container("time"), before);
    }

    /// An unsharer's own clocks keep their value; a child sees both offsets (monotonic on
    /// MONOTONIC/RAW/COARSE, boottime on BOOTTIME) written through timens_offsets.
    fn offsets_seen_by_child_not_unsharer() {
        let f = fork_run(|| {
            let t0 = clock_ns(CLOCK_MONOTONIC);
            check_eq!(unshare(CLONE_NEWTIME), Ok(0));
            let text = "monotonic 1000 0\nboottime 2000 0\n";
            check_eq!(write_offsets(&me(), "timens_offsets", text), Ok(text.len()));
            let t1 = clock_ns(CLOCK_MONOTONIC);
            check!(t1 - t0 < 100 * NSEC, "unsharer moved: {} -> {}", t0, t1);
            check!(clock_ns(CLOCK_BOOTTIME) < t1 + 100 * NSEC);
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                for c in [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE] {
                    let v = clock_ns(c);
                    check!(
                        (t1 + 999 * NSEC..t1 + 1100 * NSEC).contains(&v),
                        "clock {}: {} vs {}",
                        c,
                        v,
                        t1
                    );
                }
                let b = clock_ns(CLOCK_BOOTTIME);
                check!(
                    (t1 + 2000 * NSEC..t1 + 2100 * NSEC).contains(&b),
                    "{} {}",
                    b,
                    t1
                );
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
        check_eq!(ulib::test::wait_exit(f), Exit::Code(0));
    }

    /// Offsets are absolute (a second write replaces the first) until a process enters: a
    /// forked child freezes them, then writes to either file give EACCES and the values
    /// stay.
    fn frozen_after_child_entered() {
        in_unshared_time(|| {
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 5 0"));
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 7 0"));
            check_eq!(
                read_offsets(&me(), "time_offsets").as_deref(),
                Ok("monotonic 7 0\n")
            );
            let child = check_ok!(clone_code(SIGCHLD_EXIT, || 0));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
            check_eq!(
                write_offsets(&me(), "timens_offsets", "monotonic 9 0"),
                Err(EACCES)
            );
            check_eq!(
                write_offsets(&me(), "time_offsets", "monotonic 9 0"),
                Err(EACCES)
            );
            check_eq!(
                read_offsets(&me(), "time_offsets").as_deref(),
                Ok("monotonic 7 0\n")
            );
        });
    }

    /// Formats: timens_offsets `"%-10s %10lld %9ld\n"` for monotonic then boottime,
    /// time_offsets `"monotonic %lld %ld\n"`, one state behind both; modes 0644 and 0664;
    /// a write to one file shows in the other; another process reads F's files.
    fn offsets_file_formats() {
        check_eq!(
            read_offsets("self", "timens_offsets").as_deref(),
            Ok("monotonic           0         0\nboottime            0         0\n")
        );
        check_eq!(
            read_offsets("self", "time_offsets").as_deref(),
            Ok("monotonic 0 0\n")
        );
        let mode = |f: &str| stat_path(&offsets_path("self", f)).map(|s| s.st_mode & 0o7777);
        check_eq!(mode("timens_offsets"), Ok(0o644));
        check_eq!(mode("time_offsets"), Ok(0o664));
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let f = fork_run(|| {
            let _ = close(w);
            let _ = close(r2);
            check_eq!(unshare(CLONE_NEWTIME), Ok(0));
            check_ok!(write_offsets(
                &me(),
                "time_offsets",
                "monotonic 600 800000000"
            ));
            check_eq!(
                read_offsets(&me(), "timens_offsets").as_deref(),
                Ok("monotonic         600 800000000\nboottime            0         0\n")
            );
            check_ok!(write_offsets(
                &me(),
                "timens_offsets",
                "boottime 12 5\n1 3 999999999"
            ));
            check_eq!(
                read_offsets(&me(), "time_offsets").as_deref(),
                Ok("monotonic 3 999999999\n")
            );
            // LiteOS-A takes a negative nsec: 3 s - 5 ns.
            check_ok!(write_offsets(&me(), "time_offsets", "monotonic 3 -5\n"));
            check_eq!(
                read_offsets(&me(), "timens_offsets").as_deref(),
                Ok("monotonic           2 999999995\nboottime           12         5\n")
            );
            go(w2);
            wait_go(r);
        });
        let _ = close(r);
        let _ = close(w2);
        wait_go(r2);
        check_eq!(
            read_offsets(&format!("{}", f), "timens_offsets")
                .ok()
                .and_then(|t| parse_timens(&t)),
            Some((3 * NSEC - 5, 12 * NSEC + 5)),
            "F's file read by its parent"
        );
        // The parent's own (root) offsets are untouched.
        check_eq!(
            read_offsets("self", "time_offsets").as_deref(),
            Ok("monotonic 0 0\n")
        );
        go(w);
        close_all(&[w, r2]);
        check_eq!(ulib::test::wait_exit(f), Exit::Code(0));
    }

    /// timens_offsets write errors in Linux's order: EINVAL for text, clock and nsec; EPERM
    /// without CAP_SYS_TIME; ERANGE out of range (checked before frozen); EACCES frozen.
    /// Three lines count only up to the end of the second.
    fn timens_offsets_errors() {
        in_unshared_time(|| {
            let p = me();
            // An empty write never reaches the file (the VFS returns 0, as for every file).
            for f in ["timens_offsets", "time_offsets"] {
                let r = write_offsets(&p, f, "");
                check!(r == Ok(0) || r == Err(EINVAL), "{}: {:?}", f, r);
            }
            for bad in [
                "\n",
                "monotonic",
                "monotonic 1",
                "monotonic x 1",
                "monotonic 1 -1",
                "monotonic 1 1000000000",
                "realtime 1 0",
                "4 1 0",
                "monotonic 1 0\n\n",
            ] {
                check_eq!(
                    write_offsets(&p, "timens_offsets", bad),
                    Err(EINVAL),
                    "{:?}",
                    bad
                );
            }
            check_eq!(
                write_offsets(&p, "timens_offsets", "monotonic 9223372037 0"),
                Err(ERANGE)
            );
            check_eq!(
                write_offsets(&p, "timens_offsets", "boottime 4611686019 0"),
                Err(ERANGE)
            );
            let past = clock_ns(CLOCK_MONOTONIC) / NSEC + 10;
            check_eq!(
                write_offsets(&p, "timens_offsets", &format!("monotonic -{} 0", past)),
                Err(ERANGE),
                "a clock before boot"
            );
            check_eq!(
                write_offsets(&p, "time_offsets", &format!("monotonic -{} 0", past)),
                Err(ERANGE)
            );
            for bad in ["boottime 1 2", "monotonic", "monotonic 1", "1 2 3"] {
                check_eq!(
                    write_offsets(&p, "time_offsets", bad),
                    Err(EINVAL),
                    "{:?}",
                    bad
                );
            }
            check_eq!(
                write_offsets(&p, "timens_offsets", "1 1 0\n7 2 0\nbogus\n"),
                Ok(12)
            );
            check_eq!(
                read_offsets(&p, "timens_offsets")
                    .ok()
                    .and_then(|t| parse_timens(&t)),
                Some((NSEC, 2 * NSEC))
            );
            // A write not at offset 0: EINVAL.
            let fd = check_ok!(open_path(&offsets_path(&p, "timens_offsets"), O_RDWR));
            check_eq!(write(fd, b"monotonic 1 0"), Ok(13));
            check_eq!(write(fd, b"monotonic 1 0"), Err(EINVAL));
            let _ = close(fd);
            // Without CAP_SYS_TIME: EPERM (before the range check).
            check_ok!(drop_cap(CAP_SYS_TIME));
            check_eq!(
                write_offsets(&p, "timens_offsets", "monotonic 1 0"),
                Err(EPERM)
            );
            check_eq!(
                write_offsets(&p, "time_offsets", "monotonic 1 0"),
                Err(EPERM)
            );
            check_eq!(
                write_offsets(&p, "timens_offsets", "monotonic 9223372037 0"),
                Err(EPERM)
            );
            check_eq!(
                write_offsets(&p, "timens_offsets", "monotonic x 0"),
                Err(EINVAL)
            );
        });
        // The root container: ERANGE comes before EACCES.
        check_eq!(
            write_offsets("self", "timens_offsets", "monotonic 9223372037 0"),
            Err(ERANGE)
        );
        check_eq!(
            write_offsets("self", "timens_offsets", "monotonic 1 0"),
            Err(EACCES)
        );
    }

    /// A boottime offset shows in a child's CLOCK_BOOTTIME, /proc/uptime and sysinfo's uptime,
    /// not in its CLOCK_MONOTONIC nor in the unsharer's uptime.
    fn boottime_offset_in_uptime_and_sysinfo() {
        in_unshared_time(|| {
            check_ok!(write_offsets(&me(), "timens_offsets", "boottime 100000 0"));
            let host = clock_ns(CLOCK_BOOTTIME);
            check!(host < 50000 * NSEC, "unsharer's boottime {}", host);
            let host_up = check_ok!(proc_uptime_secs());
            check!(host_up < 50000);
            check!(check_ok!(sysinfo_uptime()) < 50000);
            // The suite may have run for minutes on a busy host: the offset on top of that.
            let shifted = 100000 + host_up..100000 + host_up + 60;
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let b = clock_ns(CLOCK_BOOTTIME);
                check!(b >= host + 100000 * NSEC, "boottime {} host {}", b, host);
                let up = check_ok!(proc_uptime_secs());
                check!(
                    shifted.contains(&up),
                    "/proc/uptime {} in {:?}",
                    up,
                    shifted
                );
                let si = check_ok!(sysinfo_uptime());
                check!(
                    shifted.contains(&si),
                    "sysinfo uptime {} in {:?}",
                    si,
                    shifted
                );
                check!(clock_ns(CLOCK_MONOTONIC) < 50000 * NSEC);
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    /// A negative monotonic offset (-1 s) makes a child's monotonic clocks 1 s behind the
    /// host's (and read back as "-1 0").
    fn negative_monotonic_offset() {
        uptime_at_least(2);
        in_unshared_time(|| {
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic -1 0"));
            check_eq!(
                read_offsets(&me(), "time_offsets").as_deref(),
                Ok("monotonic -1 0\n")
            );
            let [r, w] = pipe_pair();
            let [r2, w2] = pipe_pair();
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let _ = close(w);
                let _ = close(r2);
                wait_go(r);
                send(w2, clock_ns(CLOCK_MONOTONIC));
                send(w2, clock_ns(CLOCK_MONOTONIC_RAW));
            }));
            close_all(&[r, w2]);
            let before = clock_ns(CLOCK_MONOTONIC);
            go(w);
            let mono = recv(r2).unwrap_or(-1);
            let raw = recv(r2).unwrap_or(-1);
            let after = clock_ns(CLOCK_MONOTONIC);
            for v in [mono, raw] {
                check!(
                    (before - NSEC..=after - NSEC).contains(&v),
                    "child {} host {}..{}",
                    v,
                    before,
                    after
                );
            }
            close_all(&[w, r2]);
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    /// In a container with a one-day monotonic (and boottime) offset, `clock_nanosleep(
    /// TIMER_ABSTIME)` until now + 200 ms sleeps about 200 ms; an absolute time before the
    /// offset has passed already.
    fn nanosleep_abstime_with_offset() {
        in_unshared_time(|| {
            check_ok!(write_offsets(
                &me(),
                "timens_offsets",
                "monotonic 86400 0\nboottime 172800 0"
            ));
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                for clock in [CLOCK_MONOTONIC, CLOCK_BOOTTIME] {
                    let start = clock_ns(clock);
                    check!(start > 86400 * NSEC, "clock {} {}", clock, start);
                    let target = start + 200_000_000;
                    check_eq!(clock_nanosleep(clock, TIMER_ABSTIME, target), Ok(0));
                    let end = clock_ns(clock);
                    check!(
                        end >= target,
                        "clock {}: woke at {} < {}",
                        clock,
                        end,
                        target
                    );
                    check!(
                        end - start < 2 * NSEC,
                        "clock {}: slept {} ns",
                        clock,
                        end - start
                    );
                    let t = clock_ns(CLOCK_MONOTONIC);
                    check_eq!(clock_nanosleep(clock, TIMER_ABSTIME, NSEC), Ok(0));
                    check!(clock_ns(CLOCK_MONOTONIC) - t < NSEC, "a past time slept");
                }
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    /// `clone3(CLONE_NEWTIME)` puts the child in a new container (time and time_for_children,
    /// a new number, counted), frozen at once, with the offsets of the caller's
    /// time_for_children.
    fn clone3_newtime_child() {
        let parent = own_container("time");
        let (_, count) = check_ok!(read_limit("time"));
        let child = check_ok!(clone3_run(CLONE_NEWTIME, SIGCHLD as usize, || {
            let t = own_container("time");
            check_ne!(t, parent);
            check_eq!(own_container("time_for_children"), t);
            check_eq!(read_limit("time").map(|(_, c)| c), Ok(count + 1));
            check_eq!(
                read_offsets("self", "time_offsets").as_deref(),
                Ok("monotonic 0 0\n")
            );
            check_eq!(
                write_offsets("self", "timens_offsets", "monotonic 1 0"),
                Err(EACCES),
                "frozen at creation"
            );
        }));
        check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        check_eq!(wait_count("time", count), count);
        // From an unsharer: the new container copies its time_for_children's offsets.
        in_unshared_time(|| {
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 3000 0"));
            let tfc = own_container("time_for_children");
            let host = clock_ns(CLOCK_MONOTONIC);
            let c = check_ok!(clone3_run(CLONE_NEWTIME, SIGCHLD as usize, || {
                check_ne!(own_container("time"), tfc);
                check!(clock_ns(CLOCK_MONOTONIC) >= host + 3000 * NSEC);
                check_eq!(
                    read_offsets("self", "time_offsets").as_deref(),
                    Ok("monotonic 3000 0\n")
                );
            }));
            check_eq!(ulib::test::wait_exit(c), Exit::Code(0));
            // Nobody entered F's time_for_children: still writable.
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 4000 0"));
        });
    }

    /// setns into a TIME container: the caller's clocks show its offsets; time and
    /// time_for_children both become it; setns into an unfrozen one freezes it; a caller
    /// with a second thread gets EUSERS.
    fn setns_into_time_container() {
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let f = fork_run(|| {
            let _ = close(w);
            let _ = close(r2);
            check_eq!(unshare(CLONE_NEWTIME), Ok(0));
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 5000 0"));
            go(w2);
            wait_go(r);
            // The joiner froze our time_for_children.
            check_eq!(
                write_offsets(&me(), "timens_offsets", "monotonic 6000 0"),
                Err(EACCES)
            );
        });
        let _ = close(w2);
        let _ = close(r);
        wait_go(r2);
        let fp = format!("{}", f);
        let g = fork_run(|| {
            let fd = check_ok!(open_path(&ns_path(&fp, "time_for_children"), O_RDONLY));
            let host = clock_ns(CLOCK_MONOTONIC);
            // A second thread: EUSERS, nothing changes.
            let [tr, tw] = pipe_pair();
            let t = check_ok!(ulib::thread::spawn(move || wait_go(tr)));
            check_eq!(setns(fd, CLONE_NEWTIME), Err(EUSERS));
            check!(clock_ns(CLOCK_MONOTONIC) < host + 1000 * NSEC);
            go(tw);
            t.join();
            close_all(&[tr, tw]);
            // The thread is gone once /proc says so (join returns as it ends).
            for _ in 0..100 {
                if status_field("self", "Threads").as_deref() == Some("1") {
                    break;
                }
                let _ = sleep_ms(10);
            }
            check_eq!(setns(fd, CLONE_NEWTIME), Ok(0));
            let _ = close(fd);
            let now = clock_ns(CLOCK_MONOTONIC);
            check!(
                now >= host + 5000 * NSEC,
                "after setns {} host {}",
                now,
                host
            );
            check_eq!(own_container("time"), own_container("time_for_children"));
            check_eq!(
                own_container("time"),
                readlink_container(f, "time_for_children")
            );
        });
        check_eq!(ulib::test::wait_exit(g), Exit::Code(0));
        go(w);
        close_all(&[w, r2]);
        check_eq!(ulib::test::wait_exit(f), Exit::Code(0));
    }

    /// timerfd: a relative one-shot and a periodic timer count expirations (read blocks until
    /// one, then resets; poll says POLLIN), gettime reports the time left and the interval,
    /// 0 disarms; the errors: clock, flags, non-timerfd fd (EINVAL), closed fd (EBADF), short
    /// read (EINVAL), write (EINVAL), non-blocking read with nothing (EAGAIN); TFD_CLOEXEC.
    fn timerfd_counts_expirations() {
        const MS: i64 = 1_000_000;
        let fd = check_ok!(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
        check_eq!(fcntl(fd, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(timerfd_gettime(fd), Ok((0, 0)));
        let start = clock_ns(CLOCK_MONOTONIC);
        check_eq!(timerfd_settime(fd, 0, 50 * MS, 0), Ok((0, 0)));
        let (left, iv) = check_ok!(timerfd_gettime(fd));
        check!(left > 0 && left <= 50 * MS && iv == 0, "{} {}", left, iv);
        check_eq!(poll_one(fd, POLLIN, 0), Ok(0));
        check_eq!(timerfd_read(fd), Ok(1));
        let el = clock_ns(CLOCK_MONOTONIC) - start;
        check!(
            (50 * MS..2 * NSEC).contains(&el),
            "one-shot after {} ns",
            el
        );
        check_eq!(
            timerfd_gettime(fd),
            Ok((0, 0)),
            "a fired one-shot is disarmed"
        );
        // Periodic: 20 ms, first after 20 ms.
        check_ok!(timerfd_settime(fd, 0, 20 * MS, 20 * MS));
        check_ok!(sleep_ms(75));
        check_eq!(poll_one(fd, POLLIN, 0), Ok(POLLIN));
        let n = check_ok!(timerfd_read(fd));
        check!((3..=10).contains(&n), "{} expirations in 75 ms", n);
        check_eq!(check_ok!(timerfd_gettime(fd)).1, 20 * MS);
        let (old, oiv) = check_ok!(timerfd_settime(fd, 0, 0, 0));
        check!(old > 0 && oiv == 20 * MS, "old {} {}", old, oiv);
        check_eq!(timerfd_gettime(fd), Ok((0, 0)));
        let mut b4 = [0u8; 4];
        check_eq!(read(fd, &mut b4), Err(EINVAL));
        check_eq!(write(fd, &1u64.to_ne_bytes()), Err(EINVAL));
        let _ = close(fd);
        let nb = check_ok!(timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK));
        check_eq!(timerfd_read(nb), Err(EAGAIN));
        let _ = close(nb);
        check_eq!(timerfd_create(CLOCK_MONOTONIC_RAW, 0), Err(EINVAL));
        check_eq!(timerfd_create(CLOCK_MONOTONIC, 1), Err(EINVAL));
        let [r, w] = pipe_pair();
        check_eq!(timerfd_settime(r, 0, MS, 0), Err(EINVAL));
        close_all(&[r, w]);
        check_eq!(timerfd_settime(r, 0, MS, 0), Err(EBADF));
        check_eq!(timerfd_gettime(r), Err(EBADF));
        let fd = check_ok!(timerfd_create(CLOCK_REALTIME, 0));
        check_eq!(timerfd_settime(fd, 4, MS, 0), Err(EINVAL), "unknown flag");
        check_eq!(timerfd_settime(fd, 0, -1, 0), Err(EINVAL), "negative value");
        // An absolute realtime 100 ms ahead.
        let target = clock_ns(CLOCK_REALTIME) + 100 * MS;
        check_ok!(timerfd_settime(fd, TFD_TIMER_ABSTIME, target, 0));
        check_eq!(timerfd_read(fd), Ok(1));
        check!(clock_ns(CLOCK_REALTIME) >= target - MS);
        let _ = close(fd);
    }

    /// In a container with day-sized offsets, an absolute timerfd on CLOCK_MONOTONIC or
    /// CLOCK_BOOTTIME 200 ms ahead of the container's clock fires after about 200 ms; one
    /// before the offset fires at once.
    fn timerfd_abstime_with_offset() {
        in_unshared_time(|| {
            check_ok!(write_offsets(
                &me(),
                "timens_offsets",
                "monotonic 86400 0\nboottime 172800 0"
            ));
            let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
                for clock in [CLOCK_MONOTONIC, CLOCK_BOOTTIME] {
                    let fd = check_ok!(timerfd_create(clock, 0));
                    let start = clock_ns(clock);
                    let target = start + 200_000_000;
                    check_ok!(timerfd_settime(fd, TFD_TIMER_ABSTIME, target, 0));
                    let (left, _) = check_ok!(timerfd_gettime(fd));
                    check!(
                        left <= 200_000_000 && left > 0,
                        "clock {} left {}",
                        clock,
                        left
                    );
                    check_eq!(timerfd_read(fd), Ok(1));
                    let end = clock_ns(clock);
                    check!(
                        end >= target,
                        "clock {}: fired at {} < {}",
                        clock,
                        end,
                        target
                    );
                    check!(
                        end - start < 2 * NSEC,
                        "clock {}: {} ns",
                        clock,
                        end - start
                    );
                    check_ok!(timerfd_settime(fd, TFD_TIMER_ABSTIME, NSEC, 0));
                    check_eq!(poll_one(fd, POLLIN, 1000), Ok(POLLIN), "a past time");
                    let _ = close(fd);
                }
            }));
            check_eq!(ulib::test::wait_exit(child), Exit::Code(0));
        });
    }

    /// After unshare, execve enters time_for_children (Linux 5.18's exec_task_namespaces):
    /// the new program's clock shows the offset and its two links are equal.
    fn execve_enters_time_for_children() {
        let Some(prog) = Args::get().arg(0).and_then(|a| CString::new(a).ok()) else {
            check!(false, "no argv[0]");
            return;
        };
        in_unshared_time(|| {
            check_ok!(write_offsets(&me(), "timens_offsets", "monotonic 7000 0"));
            let host = CString::new(format!("{}", clock_ns(CLOCK_MONOTONIC))).unwrap();
            let argv = [
                prog.as_ptr().cast(),
                c"--exec-probe".as_ptr().cast(),
                host.as_ptr().cast(),
                core::ptr::null(),
            ];
            let e = execve(&prog, &argv, &[core::ptr::null()]);
            check!(false, "execve: {:?}", e);
        });
    }

    /// The exec'd side of [`execve_enters_time_for_children`]: exit 0 when the clock is at
    /// least the host value passed + 7000 s and time == time_for_children.
    fn exec_probe(args: &Args) -> i32 {
        let host: i64 = args
            .arg_str(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(i64::MAX);
        let now = clock_ns(CLOCK_MONOTONIC);
        if now < host.saturating_add(7000 * NSEC) {
            ulib::println!("exec probe: clock {} host {}", now, host);
            return 1;
        }
        if own_container("time") != own_container("time_for_children") {
            ulib::println!("exec probe: time != time_for_children");
            return 2;
        }
        0
    }

    fn main(args: Args) -> i32 {
        if args.arg_str(1) == Some(EXEC_PROBE) {
            return exec_probe(&args);
        }
        record_start_counts();
        ulib::test::run(ulib::cases![
            time_001_legacy_clone_ignores_newtime,
            time_002_unshare_write_child_reads,
            time_003_setns_to_parent_time,
            time_004_child_monotonic_raw_offset,
            time_005_child_monotonic_offset,
            time_006_limit_unshare_twice,
            time_007_root_offsets_frozen,
            time_008_nsec_too_large,
            time_009_link_text,
            time_010_parent_link_unchanged,
            offsets_seen_by_child_not_unsharer,
            frozen_after_child_entered,
            offsets_file_formats,
            timens_offsets_errors,
            boottime_offset_in_uptime_and_sysinfo,
            negative_monotonic_offset,
            nanosleep_abstime_with_offset,
            clone3_newtime_child,
            setns_into_time_container,
            timerfd_counts_expirations,
            timerfd_abstime_with_offset,
            execve_enters_time_for_children,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
