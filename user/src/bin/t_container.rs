//! The container framework: LiteOS-A's generic It_container_001, the
//! `/proc/sys/user/max_*_container` files (format, write rules, per-type files), the
//! `/proc/[pid]/ns/*` and `/proc/[pid]/container/*` links (text, numbers, st_ino, the root
//! numbers in LiteOS-A's boot order), `setns`/`unshare` argument errors, the nsfs ioctls
//! (ioctl_ns(2)) and `pidfd_open` + `setns(pidfd, flags)`. Ends by checking that no container
//! leaked.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`, the
//! `max_*_container` files and the root numbers (Linux numbers its roots differently).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::sys::{errno::*, *};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ne, check_ok};

    /// Every link of `/proc/[pid]/container` and `/proc/[pid]/ns` this issue provides.
    const LINKS: [&str; 10] = [
        "pid",
        "pid_for_children",
        "uts",
        "mnt",
        "ipc",
        "time",
        "time_for_children",
        "user",
        "net",
        "cgroup",
    ];
    /// The first container number (0xF0000001) and the root order: user, pid, uts, mnt, ipc,
    /// time, net, cgroup.
    const FIRST_NUMBER: u64 = 4026531841;

    fn s(pid: i32) -> String {
        format!("{}", pid)
    }

    const STACK_SIZE: usize = 1 << 20;
    const CHILD_FUNC_ARG: i32 = 0x2088;

    extern "C" fn container_001_child(arg: usize) -> ! {
        // SAFETY: `arg` points at the parent's `i32`, copied into this child's address space.
        let v = unsafe { *(arg as *const i32) };
        if v != CHILD_FUNC_ARG {
            exit(1);
        }
        let _ = sleep_ms(3000);
        exit(0)
    }

    // LiteOS-A: It_container_001
    /// `clone(fn, stack, SIGCHLD, &arg)` with a 1 MiB stack of its own: the child sees
    /// arg == 0x2088 and sleeps 3 s; waitpid returns its pid with exit code 0.
    fn container_001_clone_fn_stack_arg() {
        let arg = CHILD_FUNC_ARG;
        let stack = check_ok!(mmap_anon(STACK_SIZE));
        let top = stack + STACK_SIZE - 16;
        // SAFETY: `top` is inside the fresh mapping.
        unsafe { *(top as *mut usize) = &arg as *const i32 as usize };
        // SAFETY: the stack is set up as clone_on_stack wants; the child never returns.
        let r = unsafe { clone_on_stack(SIGCHLD_EXIT, top, container_001_child) };
        let pid = check_ok!(check(r)) as i32;
        check!(pid > 0);
        let (got, status) = check_ok!(wait4(pid, 0));
        check_eq!(got, pid);
        check_eq!(Exit::from_status(status), Exit::Code(0));
        // SAFETY: only the (exited) child ran on this stack.
        let _ = unsafe { munmap(stack, STACK_SIZE) };
    }

    /// Every `max_<type>_container` reads `"\nlimit: 10\ncount: 1\n"` when only the root
    /// containers exist (as when a program starts under init).
    fn limit_files_format() {
        for t in LIMIT_TYPES {
            let text = read_text(&limit_path(t));
            check!(text.is_ok(), "max_{}_container: {:?}", t, text);
            let Ok(text) = text else { continue };
            check_eq!(
                parse_limit_text(&text),
                Some((10, 1)),
                "{} text {:?}",
                t,
                text
            );
            check_eq!(text, "\nlimit: 10\ncount: 1\n");
            let st = stat_path(&limit_path(t));
            check_eq!(st.map(|s| s.st_mode & S_IFMT), Ok(S_IFREG));
        }
        check_eq!(
            read_text("/proc/sys/user/max_nope_container").map(|_| ()),
            Err(ENOENT)
        );
    }

    /// Writes: digits only without newline, up to 1,000,000; anything else EINVAL and the
    /// limit unchanged. Each type has its own file (LiteOS-A's max_time aliasing UTS is not
    /// copied). A limit at the count makes creation fail with ENOSPC.
    fn limit_files_write_rules() {
        let t = "uts";
        for bad in [
            &b"10\n"[..],
            b"abc",
            b"-1",
            b"1 ",
            b" 1",
            b"1000001",
            b"4294967296",
            b"0x10",
        ] {
            check_eq!(
                write_text(&limit_path(t), bad),
                Err(EINVAL),
                "write {:?}",
                core::str::from_utf8(bad)
            );
            check_eq!(read_limit(t), Ok((10, 1)));
        }
        // An empty write is no value: it sets nothing (0 bytes written, or EINVAL).
        let empty = write_text(&limit_path(t), b"");
        check!(
            empty == Ok(0) || empty == Err(EINVAL),
            "empty write: {:?}",
            empty
        );
        check_eq!(read_limit(t), Ok((10, 1)));
        check_eq!(write_limit(t, 1_000_000), Ok(7));
        check_eq!(read_limit(t), Ok((1_000_000, 1)));
        check_eq!(read_limit("time"), Ok((10, 1)), "max_time follows max_uts");
        check_eq!(write_limit(t, 7), Ok(1));
        check_eq!(read_limit(t), Ok((7, 1)));
        for other in LIMIT_TYPES {
            if other != t {
                check_eq!(read_limit(other).map(|(l, _)| l), Ok(10), "{}", other);
            }
        }
        // At the count: creation fails with ENOSPC, the caller unchanged.
        check_eq!(write_limit(t, 1), Ok(1));
        let before = ns_number("self", "uts");
        let c = clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {});
        check_eq!(c, Err(ENOSPC));
        if let Ok(c) = c {
            let _ = wait_exit(c);
        }
        let u = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(unshare(CLONE_NEWUTS), Err(ENOSPC));
            check_eq!(ns_number("self", "uts"), before);
        }));
        check_eq!(wait_exit(u), Exit::Code(0));
        check_eq!(read_limit(t), Ok((1, 1)));
        // Zero is accepted too (LiteOS-A allows any value from 0).
        check_eq!(write_limit(t, 0), Ok(1));
        check_eq!(read_limit(t), Ok((0, 1)));
        check_eq!(write_limit(t, 10), Ok(2));
        check_eq!(read_limit(t), Ok((10, 1)));
    }

    /// The root containers' numbers: 4026531841 (user) .. 4026531848 (cgroup) in the boot
    /// order; the for-children links of the root equal the base ones.
    fn root_container_numbers() {
        for (i, t) in LIMIT_TYPES.iter().enumerate() {
            check_eq!(ns_number("self", t), Ok(FIRST_NUMBER + i as u64), "{}", t);
            check_eq!(
                container_number("self", t),
                Ok(FIRST_NUMBER + i as u64),
                "{}",
                t
            );
        }
        check_eq!(
            ns_number("self", "pid_for_children"),
            ns_number("self", "pid")
        );
        check_eq!(
            ns_number("self", "time_for_children"),
            ns_number("self", "time")
        );
    }

    /// For every link: `/proc/self/ns/<t>` reads `t:[N]` (no quotes, for_children print the base
    /// name), `/proc/self/container/<t>` reads `'t:[N]'` with the same N; readlink returns the
    /// text length; lstat says S_IFLNK; stat and fstat of an opened link give st_ino N; the
    /// links of /proc/<pid> of a plain child (sharing our containers) give the same N.
    fn link_text_and_inode_numbers() {
        let [r, w] = pipe_pair();
        let child = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        for t in LINKS {
            let base = base_name(t);
            let ns_text = readlink_text(&ns_path("self", t));
            let ns_n = ns_text.as_ref().ok().and_then(|x| parse_ns_text(x, base));
            check!(ns_n.is_some(), "ns/{}: {:?}", t, ns_text);
            let c_text = readlink_text(&container_path("self", t));
            let c_n = c_text
                .as_ref()
                .ok()
                .and_then(|x| parse_container_text(x, base));
            check!(c_n.is_some(), "container/{}: {:?}", t, c_text);
            check_eq!(c_n, ns_n, "{}", t);
            let Some(n) = ns_n else { continue };
            if let Ok(text) = &c_text {
                check_eq!(*text, format!("'{}:[{}]'", base, n));
            }
            for path in [ns_path("self", t), container_path("self", t)] {
                let mut buf = [0u8; 64];
                let len = readlink(&alloc::ffi::CString::new(path.clone()).unwrap(), &mut buf);
                let want = if path.contains("/ns/") {
                    format!("{}:[{}]", base, n)
                } else {
                    format!("'{}:[{}]'", base, n)
                };
                check_eq!(len, Ok(want.len()), "{}", path);
                check_eq!(
                    lstat_path(&path).map(|s| s.st_mode & S_IFMT),
                    Ok(S_IFLNK),
                    "{}",
                    path
                );
                check_eq!(stat_path(&path).map(|s| s.st_ino), Ok(n), "{}", path);
                let fd = open_path(&path, O_RDONLY);
                check!(fd.is_ok(), "open {}: {:?}", path, fd);
                if let Ok(fd) = fd {
                    check_eq!(fstat(fd).map(|s| s.st_ino), Ok(n), "fstat {}", path);
                    let _ = close(fd);
                }
            }
            check_eq!(ns_number(&s(child), t), Ok(n), "child's {}", t);
            check_eq!(container_number(&s(child), t), Ok(n), "child's {}", t);
            check_eq!(stat_path(&ns_path(&s(child), t)).map(|s| s.st_ino), Ok(n));
        }
        let names = list_dir("/proc/self/container");
        let mut want: Vec<String> = LINKS.iter().map(|t| String::from(*t)).collect();
        want.sort();
        check_eq!(names, Ok(want.clone()));
        let ns = list_dir("/proc/self/ns").unwrap_or_default();
        for t in &want {
            check!(ns.contains(t), "/proc/self/ns lacks {}: {:?}", t, ns);
        }
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(child), Exit::Code(0));
    }

    /// New containers get new numbers, larger than every root's, distinct per type, and the
    /// links of the new process show them.
    fn new_containers_get_new_numbers() {
        let old_uts = check_ok!(ns_number("self", "uts"));
        let old_pid = check_ok!(ns_number("self", "pid"));
        let c = check_ok!(clone_run(
            CLONE_NEWUTS | CLONE_NEWPID | SIGCHLD_EXIT,
            || {
                let uts = ns_number("self", "uts");
                let pid = ns_number("self", "pid");
                check!(uts.is_ok_and(|n| n > FIRST_NUMBER + 6 && n != old_uts));
                check!(pid.is_ok_and(|n| n > FIRST_NUMBER + 6 && n != old_pid));
                check_ne!(uts, pid);
                check_eq!(container_number("self", "uts"), uts);
                check_eq!(container_number("self", "pid"), pid);
                check_eq!(ns_number("self", "pid_for_children"), pid);
                // The untouched types are shared with the parent.
                check_eq!(ns_number("self", "user"), Ok(FIRST_NUMBER));
                check_eq!(ns_number("self", "mnt"), Ok(FIRST_NUMBER + 3));
            }
        ));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// setns argument errors: nstype of another type or several bits → EINVAL; a closed fd or
    /// -1 → EBADF; an fd that is not a container link (a procfs file, a directory, a pipe) →
    /// EINVAL; nstype 0 and the matching flag work on one's own container.
    fn setns_argument_errors() {
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let uts = check_ok!(open_path(&ns_path("self", "uts"), O_RDONLY));
            let before = ns_number("self", "uts");
            check_eq!(setns(uts, CLONE_NEWPID), Err(EINVAL));
            check_eq!(setns(uts, CLONE_NEWUTS | CLONE_NEWPID), Err(EINVAL));
            check_eq!(setns(uts, CLONE_NEWIPC), Err(EINVAL));
            check_eq!(setns(uts, 0x1), Err(EINVAL));
            check_eq!(setns(uts, CLONE_NEWUTS), Ok(0));
            check_eq!(setns(uts, 0), Ok(0));
            check_eq!(ns_number("self", "uts"), before);
            let pid = check_ok!(open_path(&container_path("self", "pid"), O_RDONLY));
            check_eq!(setns(pid, CLONE_NEWUTS), Err(EINVAL));
            let _ = close(pid);
            check_eq!(close(uts), Ok(0));
            check_eq!(setns(uts, CLONE_NEWUTS), Err(EBADF));
            check_eq!(setns(-1, CLONE_NEWUTS), Err(EBADF));
            let file = check_ok!(open_path("/proc/self/status", O_RDONLY));
            check_eq!(setns(file, 0), Err(EINVAL));
            check_eq!(setns(file, CLONE_NEWUTS), Err(EINVAL));
            let _ = close(file);
            let dir = check_ok!(open_path("/", O_RDONLY | O_DIRECTORY));
            check_eq!(setns(dir, CLONE_NEWUTS), Err(EINVAL));
            let _ = close(dir);
            let [r, w] = pipe_pair();
            check_eq!(setns(r, 0), Err(EINVAL));
            close_all(&[r, w]);
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// unshare(0) succeeds and changes nothing; an unknown bit gives EINVAL;
    /// unshare(NEWUTS|NEWPID) makes both (pid only for children) and counts each.
    fn unshare_flags() {
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let uts = ns_number("self", "uts");
            let pid = ns_number("self", "pid");
            check_eq!(unshare(0), Ok(0));
            check_eq!(ns_number("self", "uts"), uts);
            check_eq!(unshare(0x1), Err(EINVAL));
            let counts = (read_limit("uts"), read_limit("pid"));
            check_eq!(unshare(CLONE_NEWUTS | CLONE_NEWPID), Ok(0));
            check_ne!(ns_number("self", "uts"), uts);
            check_eq!(ns_number("self", "pid"), pid);
            check_ne!(ns_number("self", "pid_for_children"), pid);
            if let (Ok((_, u)), Ok((_, p))) = counts {
                check_eq!(read_limit("uts").map(|(_, c)| c), Ok(u + 1));
                check_eq!(read_limit("pid").map(|(_, c)| c), Ok(p + 1));
            }
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// NS_GET_NSTYPE (`_IO(0xb7, 3)`) returns each link's CLONE_NEW* flag.
    fn nsfs_get_nstype() {
        for t in LINKS {
            let fd = open_path(&ns_path("self", t), O_RDONLY);
            check!(fd.is_ok(), "{}: {:?}", t, fd);
            let Ok(fd) = fd else { continue };
            check_eq!(ioctl(fd, NS_GET_NSTYPE, 0), Ok(flag_of(t)), "{}", t);
            let _ = close(fd);
        }
        let file = check_ok!(open_path("/proc/self/status", O_RDONLY));
        check!(ioctl(file, NS_GET_NSTYPE, 0).is_err());
        let _ = close(file);
    }

    /// NS_GET_PARENT (`_IO(0xb7, 2)`): on a child PID container's fd it returns a new
    /// (close-on-exec) fd whose st_ino is the parent container's number; on the root PID
    /// container EPERM; on a non-hierarchical (UTS) link EINVAL.
    fn nsfs_get_parent() {
        let root_pid = check_ok!(ns_number("self", "pid"));
        let [r, w] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        let fd = check_ok!(open_path(&ns_path(&s(c), "pid"), O_RDONLY));
        check_ne!(fstat(fd).map(|s| s.st_ino), Ok(root_pid));
        let parent = ioctl(fd, NS_GET_PARENT, 0);
        check!(parent.is_ok(), "{:?}", parent);
        if let Ok(p) = parent {
            let p = p as i32;
            check_eq!(fstat(p).map(|s| s.st_ino), Ok(root_pid));
            check_eq!(fcntl(p, F_GETFD, 0), Ok(FD_CLOEXEC));
            check_eq!(ioctl(p, NS_GET_NSTYPE, 0), Ok(CLONE_NEWPID));
            check_eq!(ioctl(p, NS_GET_PARENT, 0), Err(EPERM));
            let _ = close(p);
        }
        let _ = close(fd);
        let root = check_ok!(open_path(&ns_path("self", "pid"), O_RDONLY));
        check_eq!(ioctl(root, NS_GET_PARENT, 0), Err(EPERM));
        let _ = close(root);
        let uts = check_ok!(open_path(&ns_path("self", "uts"), O_RDONLY));
        check_eq!(ioctl(uts, NS_GET_PARENT, 0), Err(EINVAL));
        let _ = close(uts);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// NS_GET_USERNS (`_IO(0xb7, 1)`) on a UTS (and PID) link returns an fd of the owning user
    /// container (st_ino = /proc/self/ns/user's number, type CLONE_NEWUSER); on the root user
    /// container EPERM. NS_GET_OWNER_UID (`_IO(0xb7, 4)`) on the user link writes uid 0; on a
    /// UTS link EINVAL.
    fn nsfs_get_userns_and_owner() {
        let user_n = check_ok!(ns_number("self", "user"));
        for t in ["uts", "pid", "ipc"] {
            let fd = check_ok!(open_path(&ns_path("self", t), O_RDONLY));
            let u = ioctl(fd, NS_GET_USERNS, 0);
            check!(u.is_ok(), "{}: {:?}", t, u);
            if let Ok(u) = u {
                let u = u as i32;
                check_eq!(fstat(u).map(|s| s.st_ino), Ok(user_n), "{}", t);
                check_eq!(ioctl(u, NS_GET_NSTYPE, 0), Ok(CLONE_NEWUSER));
                check_eq!(fcntl(u, F_GETFD, 0), Ok(FD_CLOEXEC));
                let _ = close(u);
            }
            let _ = close(fd);
        }
        let user = check_ok!(open_path(&ns_path("self", "user"), O_RDONLY));
        check_eq!(ioctl(user, NS_GET_USERNS, 0), Err(EPERM));
        let mut uid: u32 = 0xdead_beef;
        check_eq!(
            ioctl(user, NS_GET_OWNER_UID, &mut uid as *mut u32 as usize),
            Ok(0)
        );
        check_eq!(uid, 0);
        let _ = close(user);
        let uts = check_ok!(open_path(&ns_path("self", "uts"), O_RDONLY));
        let mut uid2: u32 = 7;
        check_eq!(
            ioctl(uts, NS_GET_OWNER_UID, &mut uid2 as *mut u32 as usize),
            Err(EINVAL)
        );
        check_eq!(uid2, 7);
        let _ = close(uts);
    }

    /// pidfd_open (434) of a NEWUTS|NEWPID child, then setns(pidfd, CLONE_NEWUTS) from another
    /// process joins its UTS container (hostname and number read back equal the child's);
    /// setns(pidfd, NEWUTS|NEWPID) joins both at once (the next child is pid 2 in the child's
    /// container). pidfd errors: flags → EINVAL, no such pid → ESRCH, nstype 0 → EINVAL.
    fn pidfd_setns() {
        let [r, w] = pipe_pair();
        let [rr, wr] = pipe_pair();
        let c = check_ok!(clone_run(
            CLONE_NEWUTS | CLONE_NEWPID | SIGCHLD_EXIT,
            || {
                let _ = close(w);
                let _ = close(rr);
                check_eq!(sethostname(b"pidfd-child"), Ok(0));
                go(wr);
                let _ = close(wr);
                wait_go(r);
            }
        ));
        close_all(&[r, wr]);
        wait_go(rr);
        let _ = close(rr);
        let pidfd = check_ok!(pidfd_open(c, 0));
        check_eq!(fcntl(pidfd, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(pidfd_open(c, 1), Err(EINVAL));
        check_eq!(pidfd_open(0x3fff_0000, 0), Err(ESRCH));
        let their_uts = ns_number(&s(c), "uts");
        let their_pid = ns_number(&s(c), "pid");
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_ne!(hostname(), "pidfd-child");
            check_eq!(setns(pidfd, 0), Err(EINVAL));
            check_eq!(setns(pidfd, CLONE_NEWUTS | 0x1), Err(EINVAL));
            check_eq!(setns(pidfd, CLONE_NEWUTS), Ok(0));
            check_eq!(hostname(), "pidfd-child");
            check_eq!(ns_number("self", "uts"), their_uts);
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(pidfd, CLONE_NEWUTS | CLONE_NEWPID), Ok(0));
            check_eq!(hostname(), "pidfd-child");
            check_eq!(ns_number("self", "pid_for_children"), their_pid);
            let g = check_ok!(clone_code(SIGCHLD_EXIT, getpid));
            check_eq!(wait_exit(g), Exit::Code(2));
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        let _ = close(pidfd);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
        check!(hostname() != "pidfd-child");
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            container_001_clone_fn_stack_arg,
            limit_files_format,
            limit_files_write_rules,
            root_container_numbers,
            link_text_and_inode_numbers,
            new_containers_get_new_numbers,
            setns_argument_errors,
            unshare_flags,
            nsfs_get_nstype,
            nsfs_get_parent,
            nsfs_get_userns_and_owner,
            pidfd_setns,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
