//! UTS containers: LiteOS-A's It_uts_container_001–008 (ported as containers.md says: children
//! cloned without SIGCHLD are reaped with `__WALL`, the over-limit errno is ENOSPC) and the
//! Linux-side cases of issue 4: a new container starts as a copy of its parent's utsname,
//! `sethostname`/`setdomainname` lengths and EFAULT, the root utsname, link numbers, and
//! teardown when the last process and the last link fd are gone. Every program ends by checking
//! that the count of every `max_*_container` is back to its start.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`,
//! `/proc/sys/user/max_*_container`, the root utsname's values.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use ulib::container::*;
    use ulib::sys::{errno::*, *};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ne, check_ok};

    fn self_uts_number() -> u64 {
        ns_number("self", "uts").unwrap_or(0)
    }

    // LiteOS-A: It_uts_container_001
    /// `clone(CLONE_NEWUTS)` (no SIGCHLD) child returns 2; the parent reaps exit code 2.
    fn uts_001_clone_newuts_exit_code() {
        let pid = check_ok!(clone_code(CLONE_NEWUTS, || 2));
        check!(pid > 0);
        let (got, status) = check_ok!(wait_all(pid));
        check_eq!(got, pid);
        check_eq!(Exit::from_status(status), Exit::Code(2));
    }

    // LiteOS-A: It_uts_container_002
    /// A NEWUTS child's sethostname("TestHostName") changes its nodename, not the parent's.
    fn uts_002_sethostname_in_child_only() {
        let before = hostname();
        let pid = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            check_eq!(hostname(), before);
            check_eq!(sethostname(b"TestHostName"), Ok(0));
            check_eq!(hostname(), "TestHostName");
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(hostname(), before);
    }

    // LiteOS-A: It_uts_container_003 (full)
    /// A NEWUTS process makes and reaps 100 NEWUTS children (each exits 5): containers are freed
    /// (with limit 10, a leak would make a later clone fail).
    fn uts_003_hundred_clones_in_a_container() {
        let start = read_limit("uts").map(|(_, c)| c);
        let pid = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            for i in 0..100 {
                let c = clone_code(CLONE_NEWUTS, || 5);
                check!(c.is_ok(), "clone {}: {:?}", i, c);
                let Ok(c) = c else { return };
                check_eq!(wait_exit(c), Exit::Code(5), "child {}", i);
            }
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
        if let Ok(start) = start {
            check_eq!(wait_count("uts", start), start);
        }
    }

    // LiteOS-A: It_uts_container_004
    /// A plain child's unshare(CLONE_NEWUTS) gives it its own hostname; the parent's stays.
    fn uts_004_unshare_then_sethostname() {
        let before = hostname();
        let parent_link = own_container("uts");
        let pid = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(own_container("uts"), parent_link);
            check_eq!(unshare(CLONE_NEWUTS), Ok(0));
            check_ne!(own_container("uts"), parent_link);
            check_eq!(hostname(), before, "a new UTS container starts as a copy");
            check_eq!(sethostname(b"TestHostName"), Ok(0));
            check_eq!(hostname(), "TestHostName");
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(hostname(), before);
        check_eq!(own_container("uts"), parent_link);
    }

    // LiteOS-A: It_uts_container_005
    /// NEWUTS T clones C (NEWUTS|SIGCHLD, exits 3). T's setns to /proc/C/container/uts changes
    /// T's link (to C's); waitpid(C) gives 3; setns on the closed fd gives EBADF.
    fn uts_005_setns_then_closed_fd() {
        let t = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let [rr, wr] = pipe_pair();
            let c = clone_code(CLONE_NEWUTS | SIGCHLD_EXIT, || {
                let _ = close(w);
                let _ = sethostname(b"uts005-child");
                go(wr);
                wait_go(r);
                3
            });
            let c = check_ok!(c);
            close_all(&[r, wr]);
            wait_go(rr);
            let _ = close(rr);
            let old = own_container("uts");
            let fd = open_path(&container_path(&format!("{}", c), "uts"), O_RDONLY);
            let fd = check_ok!(fd);
            check_eq!(setns(fd, CLONE_NEWUTS), Ok(0));
            let now = own_container("uts");
            check_ne!(now, old);
            check_eq!(now, readlink_container(c, "uts"));
            check_eq!(hostname(), "uts005-child");
            check_eq!(close(fd), Ok(0));
            go(w);
            let _ = close(w);
            check_eq!(wait_exit(c), Exit::Code(3));
            check_eq!(setns(fd, CLONE_NEWUTS), Err(EBADF));
        }));
        check_eq!(wait_exit(t), Exit::Code(0));
    }

    // LiteOS-A: It_uts_container_006
    /// NEWUTS T clones NEWUTS C; after T's setns to C's uts link T's link equals C's.
    fn uts_006_setns_link_equals_target() {
        let t = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let c = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
                let _ = close(w);
                wait_go(r);
            }));
            let _ = close(r);
            let target = readlink_container(c, "uts");
            check_ne!(own_container("uts"), target);
            let fd = check_ok!(open_path(
                &container_path(&format!("{}", c), "uts"),
                O_RDONLY
            ));
            check_eq!(setns(fd, CLONE_NEWUTS), Ok(0));
            check_eq!(own_container("uts"), target);
            let _ = close(fd);
            go(w);
            let _ = close(w);
            check_eq!(wait_exit(c), Exit::Code(0));
        }));
        check_eq!(wait_exit(t), Exit::Code(0));
    }

    // LiteOS-A: It_uts_container_007
    /// Limit test (clone) on max_uts_container; `clone(CLONE_NEWUTS)` without SIGCHLD.
    fn uts_007_limit_clone() {
        limit_test_clone("uts", CLONE_NEWUTS, 0);
    }

    // LiteOS-A: It_uts_container_008
    /// Limit test (unshare) on max_uts_container.
    fn uts_008_limit_unshare() {
        limit_test_unshare("uts", CLONE_NEWUTS);
    }

    /// A new UTS container starts as a copy of its parent's (hostname and domainname), then
    /// each changes alone.
    fn new_uts_copies_parent() {
        let pid = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            check_eq!(sethostname(b"copy-parent"), Ok(0));
            check_eq!(setdomainname(b"dom.parent"), Ok(0));
            let c = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
                check_eq!(hostname(), "copy-parent");
                check_eq!(domainname(), "dom.parent");
                check_eq!(sethostname(b"copy-child"), Ok(0));
                check_eq!(setdomainname(b"dom.child"), Ok(0));
                check_eq!(hostname(), "copy-child");
                check_eq!(domainname(), "dom.child");
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
            check_eq!(hostname(), "copy-parent");
            check_eq!(domainname(), "dom.parent");
            // A plain child shares the container: its change is the parent's.
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(sethostname(b"shared"), Ok(0));
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
            check_eq!(hostname(), "shared");
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// Length and pointer checks of `sethostname` (170) and `setdomainname` (171): len 65 →
    /// EINVAL, len 64 and 0 work, a bad pointer → EFAULT; a failed call changes nothing.
    fn set_names_length_and_fault() {
        let pid = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            for (nr, name) in [
                (cnr::SETHOSTNAME, "sethostname"),
                (cnr::SETDOMAINNAME, "setdomainname"),
            ] {
                let read = || {
                    if nr == cnr::SETHOSTNAME {
                        hostname()
                    } else {
                        domainname()
                    }
                };
                let long = [b'h'; 65];
                check_eq!(
                    set_uts_raw(nr, long.as_ptr() as usize, 5),
                    Ok(0),
                    "{}",
                    name
                );
                check_eq!(read(), "hhhhh");
                check_eq!(
                    set_uts_raw(nr, long.as_ptr() as usize, 65),
                    Err(EINVAL),
                    "{} len 65",
                    name
                );
                check_eq!(
                    set_uts_raw(nr, long.as_ptr() as usize, usize::MAX),
                    Err(EINVAL),
                    "{} len -1",
                    name
                );
                check_eq!(read(), "hhhhh", "{}: a failed call changed the name", name);
                check_eq!(
                    set_uts_raw(nr, long.as_ptr() as usize, 64),
                    Ok(0),
                    "{} 64",
                    name
                );
                check_eq!(read(), String::from_utf8_lossy(&long[..64]));
                check_eq!(set_uts_raw(nr, 0, 5), Err(EFAULT), "{} NULL", name);
                check_eq!(set_uts_raw(nr, 8, 5), Err(EFAULT), "{} bad pointer", name);
                check_eq!(read().len(), 64);
                check_eq!(
                    set_uts_raw(nr, long.as_ptr() as usize, 0),
                    Ok(0),
                    "{} len 0",
                    name
                );
                check_eq!(read(), "");
            }
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// The root utsname (containers.md): sysname Linux, a Linux-style release ending in
    /// `-bulkhead`, version `#1 Bulkhead <version>`, nodename `bulkhead`. Bulkhead only.
    fn root_utsname_values() {
        let u = check_ok!(uname());
        check_eq!(field(&u.sysname), "Linux");
        let release = field(&u.release);
        check!(release.ends_with("-bulkhead"), "release {:?}", release);
        check!(
            release
                .as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_digit()),
            "release {:?}",
            release
        );
        let version = field(&u.version);
        check!(version.starts_with("#1 Bulkhead "), "version {:?}", version);
        check_eq!(field(&u.nodename), "bulkhead");
        check_eq!(field(&u.machine), "x86_64");
    }

    /// A new UTS container gets a new number (above the root's), the same in its
    /// `/proc/[pid]/ns/uts` (`uts:[N]`) and `/proc/[pid]/container/uts` (`'uts:[N]'`) links,
    /// and `stat` of the link gives N as st_ino; the count rises by one while it lives.
    fn new_uts_number_and_count() {
        let root = self_uts_number();
        check!(root != 0);
        let count = read_limit("uts").map(|(_, c)| c);
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            let _ = close(w);
            let _ = close(r2);
            send(w2, self_uts_number() as i64);
            wait_go(r);
        }));
        close_all(&[r, w2]);
        let theirs = recv(r2).unwrap_or(0) as u64;
        let _ = close(r2);
        let cs = format!("{}", c);
        check_ne!(theirs, root);
        check!(theirs > root, "new {} root {}", theirs, root);
        check_eq!(ns_number(&cs, "uts"), Ok(theirs));
        check_eq!(container_number(&cs, "uts"), Ok(theirs));
        check_eq!(
            stat_path(&ns_path(&cs, "uts")).map(|s| s.st_ino),
            Ok(theirs)
        );
        check_eq!(
            stat_path(&container_path(&cs, "uts")).map(|s| s.st_ino),
            Ok(theirs)
        );
        if let Ok(count) = count {
            check_eq!(read_limit("uts").map(|(_, c)| c), Ok(count + 1));
        }
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
        if let Ok(count) = count {
            check_eq!(wait_count("uts", count), count);
        }
    }

    /// An open link fd keeps a UTS container alive after its last process is reaped: another
    /// process can still setns into it (and sees its hostname); closing the fd frees it.
    fn open_link_fd_keeps_container() {
        let count = read_limit("uts").map(|(_, c)| c);
        let [r, w] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            let _ = close(r);
            let _ = sethostname(b"kept-by-fd");
            go(w);
            sleep_forever()
        }));
        let _ = close(w);
        wait_go(r);
        let _ = close(r);
        let fd = check_ok!(open_path(&ns_path(&format!("{}", c), "uts"), O_RDONLY));
        let n = fstat(fd).map(|s| s.st_ino);
        check_ok!(kill(c, SIGKILL));
        check_eq!(wait_exit(c), Exit::Signal(SIGKILL));
        if let Ok(count) = count {
            check_eq!(read_limit("uts").map(|(_, c)| c), Ok(count + 1));
        }
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(fd, 0), Ok(0));
            check_eq!(hostname(), "kept-by-fd");
            check_eq!(stat_path(&ns_path("self", "uts")).map(|s| s.st_ino), n);
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        check_eq!(close(fd), Ok(0));
        if let Ok(count) = count {
            check_eq!(wait_count("uts", count), count);
        }
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            uts_001_clone_newuts_exit_code,
            uts_002_sethostname_in_child_only,
            uts_003_hundred_clones_in_a_container,
            uts_004_unshare_then_sethostname,
            uts_005_setns_then_closed_fd,
            uts_006_setns_link_equals_target,
            uts_007_limit_clone,
            uts_008_limit_unshare,
            new_uts_copies_parent,
            set_names_length_and_fault,
            root_utsname_values,
            new_uts_number_and_count,
            open_link_fd_keeps_container,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
