//! The network: `tests/c/inet.c` (AF_INET/AF_INET6 sockets, LiteOS-A's socket cases of
//! the net container, veth pairs) runs as init and every case passes.

mod common;

use common::{TempDir, bulkhead, musl_build};
use std::time::Duration;

/// The cases inet.c runs, in order.
const INET_CASES: [&str; 15] = [
    "loopback_tcp",
    "loopback_udp",
    "loopback_ipv6",
    "nonblocking_connect",
    "bind_rules",
    "low_ports_need_a_capability",
    "net_001_newnet_child_has_no_eth0",
    "net_002_unshare_then_veth0",
    "net_005_udp_over_veth",
    "net_006_tcp_loopback_in_a_container",
    "net_007_udp_to_itself_in_a_container",
    "net_008_same_port_in_two_containers",
    "net_009_tcp_over_veth",
    "socket_keeps_its_container_after_setns",
    "veth_pair_appears_in_root_and_goes",
];

#[test]
fn inet_sockets_and_net_containers_pass_in_the_guest() {
    let dir = TempDir::new("net-inet");
    musl_build("inet.c", &dir.0, "inet");
    let args = ["--timeout", "300", "--add", dir.path(), "--init", "/inet"];
    let run = bulkhead(&args, Duration::from_secs(360));
    let passed: Vec<&str> = run
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .collect();
    assert_eq!(
        passed,
        INET_CASES,
        "inet's passing cases\n{}",
        run.describe()
    );
    assert_eq!(run.status, Some(0), "inet exits 0\n{}", run.describe());
}
