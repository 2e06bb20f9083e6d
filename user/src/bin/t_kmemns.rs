//! Containers of every type are charged to the plimits group that made them (issue 16):
//! for UTS, IPC, PID and TIME containers, a child in a fresh group with a 32 MiB
//! `memory.limit` makes containers with `unshare` and holds each by an fd on
//! `/proc/self/ns/<type>` (PID and TIME: `<type>_for_children`, with `setns` back to the
//! first after each) until a call gives `ENOMEM`: the usage at the limit, the
//! machine's `MemFree` down by at most 34 MiB, the root still forking; all back after the
//! child (`ulib::kmem::fill_to_limit`). Mount containers are `t_kmem2`'s, network and
//! user containers `t_kmemns2`'s. `RLIMIT_NOFILE` and `max_<type>_container` are raised
//! for each route and put back.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::container::{CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUTS};
    use ulib::kmem::{Route, fill_with_raised, hold_containers};
    use ulib::test_main;

    fn fill_uts() -> (i32, usize) {
        hold_containers(CLONE_NEWUTS, c"/proc/self/ns/uts")
    }

    fn fill_pid() -> (i32, usize) {
        hold_containers(CLONE_NEWPID, c"/proc/self/ns/pid_for_children")
    }

    fn fill_time() -> (i32, usize) {
        hold_containers(CLONE_NEWTIME, c"/proc/self/ns/time_for_children")
    }

    fn fill_ipc() -> (i32, usize) {
        hold_containers(CLONE_NEWIPC, c"/proc/self/ns/ipc")
    }

    const ROUTES: &[(Route, &str)] = &[
        (
            Route {
                name: "uts_containers",
                fill: fill_uts,
            },
            "/proc/sys/user/max_uts_container",
        ),
        (
            Route {
                name: "ipc_containers",
                fill: fill_ipc,
            },
            "/proc/sys/user/max_ipc_container",
        ),
        (
            Route {
                name: "pid_containers",
                fill: fill_pid,
            },
            "/proc/sys/user/max_pid_container",
        ),
        (
            Route {
                name: "time_containers",
                fill: fill_time,
            },
            "/proc/sys/user/max_time_container",
        ),
    ];

    fn each_type_stops_at_the_group_limit_with_enomem() {
        for (route, max) in ROUTES {
            fill_with_raised(route, &[(max, "1000000")]);
        }
    }

    test_main!(each_type_stops_at_the_group_limit_with_enomem);
}

#[cfg(not(target_os = "none"))]
fn main() {}
