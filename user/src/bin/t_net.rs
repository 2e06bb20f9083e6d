//! Network containers, the container side: LiteOS-A's It_net_container_003, 004, 010,
//! 011 and 012, and 100 back-to-back net containers freed at the default limit. The
//! socket cases (001, 002, 005-009, loopback, veth, ports per container) are in the C
//! program `tests/c/inet.c`, run by `tests/net.rs`.
//!
//! Bulkhead-only parts (fail on a Linux host): `/proc/[pid]/container/*`,
//! `/proc/sys/user/max_*_container`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use ulib::container::*;
    use ulib::sys::*;
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ne, check_ok};

    // LiteOS-A: It_net_container_003
    /// A NEWNET child's `/proc/<pid>/container/net` reads `'net:[N]'` with N a container
    /// number, and differs from the parent's.
    fn net_003_link_format() {
        let [r, w] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWNET | SIGCHLD_EXIT, || {
            let _ = close(w);
            wait_go(r);
        }));
        let _ = close(r);
        let link = readlink_container(c, "net");
        check!(
            link.starts_with("'net:[") && link.ends_with("]'"),
            "link text {}",
            link
        );
        let num = &link[6..link.len() - 2];
        check!(
            !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) && num != "0",
            "number {}",
            num
        );
        check_ne!(link, own_container("net"));
        go(w);
        let _ = close(w);
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    // LiteOS-A: It_net_container_004
    /// NEWNET A clones NEWNET B; A's setns to B's net link changes A's link to B's; B exits 0.
    fn net_004_setns_into_a_child() {
        let a = check_ok!(clone_run(CLONE_NEWNET | SIGCHLD_EXIT, || {
            let [r, w] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWNET | SIGCHLD_EXIT, || {
                let _ = close(w);
                wait_go(r);
            }));
            let _ = close(r);
            let target = readlink_container(b, "net");
            check_ne!(own_container("net"), target);
            let fd = check_ok!(open_path(
                &container_path(&format!("{}", b), "net"),
                O_RDONLY
            ));
            check_eq!(setns(fd, CLONE_NEWNET), Ok(0));
            check_eq!(own_container("net"), target);
            let _ = close(fd);
            go(w);
            let _ = close(w);
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    // LiteOS-A: It_net_container_010 (full)
    /// A NEWNET process makes and reaps 100 NEWNET children (each exits 5): each container
    /// (stack, veth pair) is freed at once, or the limit of 10 would stop the loop.
    fn net_010_hundred_clones_in_a_container() {
        let start = read_limit("net").map(|(_, c)| c);
        let pid = check_ok!(clone_run(CLONE_NEWNET | SIGCHLD_EXIT, || {
            for i in 0..100 {
                let c = clone_code(CLONE_NEWNET | SIGCHLD_EXIT, || 5);
                check!(c.is_ok(), "clone {}: {:?}", i, c);
                let Ok(c) = c else { return };
                check_eq!(wait_exit(c), Exit::Code(5), "child {}", i);
            }
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
        if let Ok(start) = start {
            check_eq!(wait_count("net", start), start);
        }
    }

    // LiteOS-A: It_net_container_011
    fn net_011_limit_clone() {
        limit_test_clone("net", CLONE_NEWNET, 0);
    }

    // LiteOS-A: It_net_container_012
    fn net_012_limit_unshare() {
        limit_test_unshare("net", CLONE_NEWNET);
    }

    /// 100 back-to-back `unshare(CLONE_NEWNET)` children from the root at the default limit:
    /// the live count is back to 1 after each.
    fn hundred_back_to_back_net_containers_from_root() {
        for i in 0..100 {
            let c = clone_run(SIGCHLD_EXIT, || {
                check_eq!(unshare(CLONE_NEWNET), Ok(0));
            });
            check!(c.is_ok(), "clone {}: {:?}", i, c);
            let Ok(c) = c else { return };
            check_eq!(wait_exit(c), Exit::Code(0), "child {}", i);
        }
        check_eq!(wait_count("net", 1), 1);
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            net_003_link_format,
            net_004_setns_into_a_child,
            net_010_hundred_clones_in_a_container,
            net_011_limit_clone,
            net_012_limit_unshare,
            hundred_back_to_back_net_containers_from_root,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
