//! cgroup containers (`CLONE_NEWCGROUP`, cgroup_namespaces(7)) over the plimits groups: the
//! links and their number, clone/unshare/setns (link fd and pidfd), `/proc/[pid]/cgroup`
//! (cgroup v2 `0::/<path>`) inside and outside a container rooted at a plimits group, the
//! nsfs ioctls, teardown (an open link fd keeps a container), the limit, and setns errors.
//! Ends by checking that no container leaked.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/cgroup`,
//! `max_cgroup_container`, the root number, the `/proc/plimits` groups.
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

    /// The root cgroup container's number: the eighth root (after net).
    const ROOT_NUMBER: u64 = 4026531841 + 7;
    const GROUP_A: &str = "/proc/plimits/cgns_a";
    const GROUP_B: &str = "/proc/plimits/cgns_b";

    fn cpath(p: &str) -> alloc::ffi::CString {
        alloc::ffi::CString::new(p).unwrap_or_default()
    }

    fn cgroup_of(pid: &str) -> SysResult<String> {
        read_text(&format!("/proc/{}/cgroup", pid))
    }

    fn own_number() -> SysResult<u64> {
        ns_number("self", "cgroup")
    }

    fn s(pid: i32) -> String {
        format!("{}", pid)
    }

    /// `/proc/self/ns/cgroup` reads `cgroup:[N]` and `container/cgroup` `'cgroup:[N]'` with the
    /// root's number; stat gives st_ino N; `max_cgroup_container` counts the root;
    /// `/proc/self/cgroup` of a process in the root group reads `0::/`.
    fn links_and_root_number() {
        check_eq!(
            readlink_text(&ns_path("self", "cgroup")),
            Ok(format!("cgroup:[{}]", ROOT_NUMBER))
        );
        check_eq!(
            readlink_text(&container_path("self", "cgroup")),
            Ok(format!("'cgroup:[{}]'", ROOT_NUMBER))
        );
        check_eq!(
            stat_path(&ns_path("self", "cgroup")).map(|st| st.st_ino),
            Ok(ROOT_NUMBER)
        );
        check_eq!(read_limit("cgroup"), Ok((10, 1)));
        check_eq!(cgroup_of("self"), Ok(String::from("0::/\n")));
        check_eq!(cgroup_of("1"), Ok(String::from("0::/\n")), "init");
    }

    /// `clone(CLONE_NEWCGROUP)`: the child has a new number, counted while it lives; a plain
    /// child of it shares it; the count is back after the child is reaped.
    fn clone_makes_a_new_container() {
        let start = check_ok!(read_limit("cgroup")).1;
        let parent_n = check_ok!(own_number());
        let c = check_ok!(clone_run(CLONE_NEWCGROUP | SIGCHLD_EXIT, || {
            let n = own_number();
            check!(n.is_ok_and(|n| n > parent_n), "new number {:?}", n);
            check_eq!(read_limit("cgroup").map(|(_, c)| c), Ok(start + 1));
            check_eq!(cgroup_of("self"), Ok(String::from("0::/\n")));
            let g = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(own_number(), n, "a plain child shares it");
            }));
            check_eq!(wait_exit(g), Exit::Code(0));
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(own_number(), Ok(parent_n));
        check_eq!(wait_count("cgroup", start), start);
    }

    /// `unshare(CLONE_NEWCGROUP)` moves the caller at once (no for_children link) and may be
    /// repeated.
    fn unshare_moves_the_caller() {
        let start = check_ok!(read_limit("cgroup")).1;
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let before = check_ok!(own_number());
            check_eq!(unshare(CLONE_NEWCGROUP), Ok(0));
            let after = check_ok!(own_number());
            check_ne!(after, before);
            check_eq!(container_number("self", "cgroup"), Ok(after));
            check_eq!(read_limit("cgroup").map(|(_, c)| c), Ok(start + 1));
            check_eq!(unshare(CLONE_NEWCGROUP), Ok(0), "again");
            check_ne!(own_number(), Ok(after));
            check_eq!(
                readlink_text(&ns_path("self", "cgroup_for_children")),
                Err(ENOENT)
            );
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(wait_count("cgroup", start), start);
    }

    /// setns through a link fd (nstype 0 or CLONE_NEWCGROUP) and through a pidfd joins the
    /// target's container; the nsfs ioctls answer for it (type 0x02000000, no parent, the root
    /// user container as owner).
    fn setns_by_link_and_pidfd() {
        let [r, w] = pipe_pair();
        let a = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let _ = close(w);
            check_eq!(unshare(CLONE_NEWCGROUP), Ok(0));
            wait_go(r);
        }));
        let _ = close(r);
        // Wait until A has unshared: its number differs from ours.
        let mine = check_ok!(own_number());
        let mut theirs = mine;
        for _ in 0..300 {
            theirs = ns_number(&s(a), "cgroup").unwrap_or(mine);
            if theirs != mine {
                break;
            }
            let _ = sleep_ms(10);
        }
        check_ne!(theirs, mine);
        let fd = check_ok!(open_path(&ns_path(&s(a), "cgroup"), O_RDONLY));
        check_eq!(ioctl(fd, NS_GET_NSTYPE, 0), Ok(CLONE_NEWCGROUP));
        check_eq!(ioctl(fd, NS_GET_PARENT, 0), Err(EINVAL), "not hierarchical");
        let u = ioctl(fd, NS_GET_USERNS, 0);
        check!(u.is_ok(), "NS_GET_USERNS: {:?}", u);
        if let Ok(u) = u {
            check_eq!(
                fstat(u as i32).map(|st| st.st_ino),
                ns_number("self", "user")
            );
            let _ = close(u as i32);
        }
        for nstype in [0, CLONE_NEWCGROUP] {
            let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(setns(fd, nstype), Ok(0));
                check_eq!(own_number(), Ok(theirs));
            }));
            check_eq!(wait_exit(j), Exit::Code(0));
        }
        let pidfd = check_ok!(pidfd_open(a, 0));
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(pidfd, CLONE_NEWCGROUP), Ok(0));
            check_eq!(own_number(), Ok(theirs));
            check_eq!(ns_number("self", "uts"), ns_number(&s(a), "uts"));
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        check_eq!(own_number(), Ok(mine), "the parent did not move");
        close_all(&[fd, pidfd]);
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// A cgroup link with another type's flag, another type's link with CLONE_NEWCGROUP, and
    /// a pidfd with an unknown bit give EINVAL; nothing moves.
    fn setns_wrong_type_einval() {
        let cg = check_ok!(open_path(&ns_path("self", "cgroup"), O_RDONLY));
        let uts = check_ok!(open_path(&ns_path("self", "uts"), O_RDONLY));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let before = own_number();
            check_eq!(setns(cg, CLONE_NEWUTS), Err(EINVAL));
            check_eq!(setns(cg, CLONE_NEWCGROUP | CLONE_NEWUTS), Err(EINVAL));
            check_eq!(setns(uts, CLONE_NEWCGROUP), Err(EINVAL));
            let pidfd = check_ok!(pidfd_open(getppid(), 0));
            check_eq!(setns(pidfd, CLONE_NEWCGROUP | 0x1), Err(EINVAL));
            check_eq!(own_number(), before);
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        close_all(&[cg, uts]);
    }

    /// `/proc/[pid]/cgroup` from inside and outside: D makes group b, C makes group a (both
    /// moved by the plimits mkdir) and unshares a cgroup container rooted at a. C sees itself
    /// at `/`, the root group (init, the test) at `/..` and D at `/../cgns_b`; the test sees C
    /// at `/cgns_a` and D at `/cgns_b`; E (root group) joining C's container sees itself at
    /// `/..` and C at `/`. A container cloned by C is rooted at a too.
    fn proc_cgroup_inside_and_outside() {
        let _ = rmdir(&cpath(GROUP_A));
        let _ = rmdir(&cpath(GROUP_B));
        let me = s(getpid());
        let [dr, dw] = pipe_pair();
        let [dgo_r, dgo_w] = pipe_pair();
        let d = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(mkdir(&cpath(GROUP_B), 0o700), Ok(0));
            check_eq!(cgroup_of("self"), Ok(String::from("0::/cgns_b\n")));
            send(dw, 1);
            wait_go(dgo_r);
        }));
        check_eq!(recv(dr), Some(1));
        let [cr, cw] = pipe_pair();
        let [cgo_r, cgo_w] = pipe_pair();
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(mkdir(&cpath(GROUP_A), 0o700), Ok(0));
            check_eq!(cgroup_of("self"), Ok(String::from("0::/cgns_a\n")));
            check_eq!(unshare(CLONE_NEWCGROUP), Ok(0));
            check_eq!(cgroup_of("self"), Ok(String::from("0::/\n")));
            check_eq!(cgroup_of(&me), Ok(String::from("0::/..\n")));
            check_eq!(cgroup_of("1"), Ok(String::from("0::/..\n")));
            check_eq!(cgroup_of(&s(d)), Ok(String::from("0::/../cgns_b\n")));
            let g = check_ok!(clone_run(CLONE_NEWCGROUP | SIGCHLD_EXIT, || {
                check_eq!(cgroup_of("self"), Ok(String::from("0::/\n")));
                check_eq!(cgroup_of("1"), Ok(String::from("0::/..\n")));
            }));
            check_eq!(wait_exit(g), Exit::Code(0));
            send(cw, 1);
            wait_go(cgo_r);
        }));
        check_eq!(recv(cr), Some(1));
        check_eq!(cgroup_of(&s(c)), Ok(String::from("0::/cgns_a\n")));
        check_eq!(cgroup_of(&s(d)), Ok(String::from("0::/cgns_b\n")));
        check_eq!(cgroup_of("self"), Ok(String::from("0::/\n")));
        let fd = check_ok!(open_path(&ns_path(&s(c), "cgroup"), O_RDONLY));
        let e = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(fd, CLONE_NEWCGROUP), Ok(0));
            check_eq!(cgroup_of("self"), Ok(String::from("0::/..\n")));
            check_eq!(cgroup_of(&s(c)), Ok(String::from("0::/\n")));
            check_eq!(cgroup_of(&s(d)), Ok(String::from("0::/../cgns_b\n")));
        }));
        check_eq!(wait_exit(e), Exit::Code(0));
        let _ = close(fd);
        go(cgo_w);
        go(dgo_w);
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(wait_exit(d), Exit::Code(0));
        close_all(&[dr, dw, dgo_r, dgo_w, cr, cw, cgo_r, cgo_w]);
        check_eq!(rmdir(&cpath(GROUP_A)), Ok(0));
        check_eq!(rmdir(&cpath(GROUP_B)), Ok(0));
    }

    /// Teardown: a container lives while a process or an open link fd holds it, and its slot
    /// comes back with the last one.
    fn teardown_with_last_process_and_fd() {
        let start = check_ok!(read_limit("cgroup")).1;
        let [r, w] = pipe_pair();
        let [gr, gw] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWCGROUP | SIGCHLD_EXIT, || {
            send(w, 1);
            wait_go(gr);
        }));
        check_eq!(recv(r), Some(1));
        let fd = check_ok!(open_path(&ns_path(&s(c), "cgroup"), O_RDONLY));
        let n = fstat(fd).map(|st| st.st_ino);
        go(gw);
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(
            read_limit("cgroup").map(|(_, c)| c),
            Ok(start + 1),
            "the fd holds it"
        );
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(fd, 0), Ok(0));
            check_eq!(own_number(), n);
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        check_eq!(close(fd), Ok(0));
        check_eq!(wait_count("cgroup", start), start);
        close_all(&[r, w, gr, gw]);
    }

    /// LiteOS-A's limit procedure for the new type: at the limit, clone and unshare with
    /// CLONE_NEWCGROUP give ENOSPC and build nothing.
    fn limit_clone() {
        limit_test_clone("cgroup", CLONE_NEWCGROUP, SIGCHLD_EXIT);
    }

    fn limit_unshare() {
        limit_test_unshare("cgroup", CLONE_NEWCGROUP);
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            links_and_root_number,
            clone_makes_a_new_container,
            unshare_moves_the_caller,
            setns_by_link_and_pidfd,
            setns_wrong_type_einval,
            proc_cgroup_inside_and_outside,
            teardown_with_last_process_and_fd,
            limit_clone,
            limit_unshare,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
