//! `t_kmemns`'s routes for the network and cgroup containers (issue 16): a child in
//! a fresh plimits group with a 32 MiB `memory.limit` makes containers until a call gives
//! `ENOMEM`, with the usage at the limit, the machine's `MemFree` down by at most 34 MiB
//! and the root still forking, all back after the child (`ulib::kmem::fill_to_limit`).
//! Network and cgroup containers come from `unshare`, each held by an fd on
//! `/proc/self/ns/<type>` (a network container with its stack, `lo` and its veth pair,
//! whose root end `veth<N>` must be gone afterwards). User containers are `t_kmemns3`'s.
//! `RLIMIT_NOFILE` and `max_<type>_container` are raised for each route and put back.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::container::{CLONE_NEWCGROUP, CLONE_NEWNET, read_text};
    use ulib::kmem::{Route, fill_containers, hold_containers};
    use ulib::{check, check_eq, test_main};

    fn fill_net() -> (i32, usize) {
        hold_containers(CLONE_NEWNET, c"/proc/self/ns/net")
    }

    fn fill_cgroup() -> (i32, usize) {
        hold_containers(CLONE_NEWCGROUP, c"/proc/self/ns/cgroup")
    }

    /// The root container's veth links (`/proc/net/dev`'s `vethN:` lines).
    fn root_veths() -> usize {
        read_text("/proc/net/dev")
            .map(|t| {
                t.lines()
                    .filter(|l| l.trim_start().starts_with("veth"))
                    .count()
            })
            .unwrap_or(usize::MAX)
    }

    fn fill(route: &Route, max: &str) {
        let veths = root_veths();
        fill_containers(route, max);
        check_eq!(root_veths(), veths, "{}: the root's veth ends", route.name);
    }

    fn network_containers_stop_at_the_group_limit_with_enomem() {
        let route = Route {
            name: "net_containers",
            fill: fill_net,
        };
        let before = root_veths();
        check!(before != usize::MAX, "/proc/net/dev readable");
        fill(&route, "/proc/sys/user/max_net_container");
    }

    fn cgroup_containers_stop_at_the_group_limit_with_enomem() {
        let route = Route {
            name: "cgroup_containers",
            fill: fill_cgroup,
        };
        fill(&route, "/proc/sys/user/max_cgroup_container");
    }

    test_main!(
        network_containers_stop_at_the_group_limit_with_enomem,
        cgroup_containers_stop_at_the_group_limit_with_enomem
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
