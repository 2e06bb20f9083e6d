//! The network: `tests/c/inet.c` (AF_INET/AF_INET6 sockets, LiteOS-A's socket cases of
//! the net container, veth pairs) runs as init and every case passes.

mod common;

use common::{boot, boot_musl, busybox_dir};

/// The cases inet.c runs, in order.
const INET_CASES: [&str; 20] = [
    "loopback_tcp",
    "loopback_udp",
    "loopback_ipv6",
    "seed_9_udp_send_across_ip_versions",
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
    "proc_net_files_show_the_container",
    "ping_sockets",
    "socket_buffers_stop_at_a_budget",
    "netlink_interface_lists",
];

/// Builds `tests/c/<name>.c`, boots it as init and checks that it passes exactly `cases`,
/// in order (its `PASS name` lines, `tests/c/cases.h`), and exits 0.
fn c_cases_pass(name: &str, cases: &[&str], seconds: u64) {
    let run = boot_musl(name, &[], &[], seconds);
    let passed: Vec<&str> = run
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .collect();
    assert_eq!(passed, cases, "{name}'s passing cases\n{}", run.describe());
    assert_eq!(run.status, Some(0), "{name} exits 0\n{}", run.describe());
}

#[test]
fn inet_sockets_and_net_containers_pass_in_the_guest() {
    c_cases_pass("inet", &INET_CASES, 300);
}

/// Traffic to the outside: a TCP echo server on the host's loopback (only), reached by a
/// guest program at 10.0.2.2 through QEMU's user network and the virtio-net `eth0`.
#[test]
fn guest_reaches_a_host_echo_server_through_eth0() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("host loopback listener");
    let port = listener.local_addr().expect("its address").port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("the guest connects");
        let mut buf = [0u8; 256];
        let n = c.read(&mut buf).expect("the guest's line");
        c.write_all(&buf[..n]).expect("echo");
        n
    });
    let run = boot_musl("echo_client", &[], &[&port.to_string()], 300);
    assert!(
        run.lines()
            .any(|l| l == "echo_client: ok hello from bulkhead"),
        "the guest's line came back\n{}",
        run.describe()
    );
    assert_eq!(
        run.status,
        Some(0),
        "echo_client exits 0\n{}",
        run.describe()
    );
    assert_eq!(
        server.join().expect("server thread"),
        20,
        "the host got the line"
    );
}

/// Debian's busybox-static in a net container: `ifconfig` sets and shows `veth0` (and no
/// `eth0`), `route -n` reads the container's routes, `ip link` and `ip addr` (rtnetlink
/// dumps) show the container's links and addresses, `ping 127.0.0.1` (a raw ICMP socket)
/// and `nc` work; rtnetlink changes: `ip addr add`, `ip link set up`/`mtu`, `ip route add`
/// (shown by `ip route` and `ip route get`, `EEXIST` the second time), `ip link add v1
/// type veth` and
/// `ip link delete`; the root keeps `eth0`. The script is `tests/busybox_net.sh`.
#[test]
fn busybox_network_tools_in_a_container() {
    let dir = busybox_dir("net-busybox", "bin/busybox");
    let bin = dir.0.join("bin");
    for applet in [
        "sh", "mount", "mkdir", "unshare", "ifconfig", "grep", "ping", "nc", "sleep", "echo",
        "cat", "route", "ip",
    ] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).expect("applet link");
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/busybox_net.sh");
    std::fs::copy(script, dir.0.join("bbnet.sh")).expect("copy the script");
    let run = boot(&dir, &[], "/bin/sh", &["/bbnet.sh"], 300);
    let lines: Vec<&str> = run.lines().filter(|l| l.starts_with("bb: ")).collect();
    let expected = [
        "bb: ifconfig set",
        "bb: ifconfig shows veth0",
        "bb: no eth0",
        "bb: route",
        "bb: ip link",
        "bb: ip link has no eth0",
        "bb: ip addr",
        "bb: ping",
        "bb: nc",
        "bb: ip addr add",
        "bb: ip link set up",
        "bb: ip route add",
        "bb: ip route shows the default",
        "bb: ip route shows the subnet",
        "bb: ip addr shows 10.1.0.1",
        "bb: ip route get",
        "bb: ip route add twice",
        "bb: ip link set mtu",
        "bb: ip link add veth",
        "bb: ip link delete",
        "bb: root eth0",
        "bb: done",
    ];
    assert_eq!(lines, expected, "busybox's lines\n{}", run.describe());
}

/// The cases rtnl.c runs, in order.
const RTNL_CASES: [&str; 5] = [
    "addr_route_link_in_a_container",
    "errnos_and_cap_net_admin",
    "veth_by_pid_tcp_then_delete",
    "veth_moved_by_fd_udp",
    "thousand_net_containers_with_tcp",
];

/// rtnetlink's write side (`tests/c/rtnl.c`): raw RTM_NEWADDR/DELADDR, RTM_NEWROUTE/
/// DELROUTE, RTM_GETROUTE, RTM_SETLINK with their acknowledgements and errnos,
/// CAP_NET_ADMIN, veth pairs made by RTM_NEWLINK into a child's container by pid or
/// moved there by an nsfs fd, TCP and UDP over them, RTM_DELLINK, counts back; and
/// 1,000 net containers each holding a TCP connection (50 alive at once: a listener keeps
/// a listening socket of 128 KiB ready after its accept), the count and MemFree back to
/// their start.
#[test]
fn rtnetlink_changes_pass_in_the_guest() {
    c_cases_pass("rtnl", &RTNL_CASES, 300);
}

/// A listen backlog fills without the listener making a call (`tests/c/backlog.c`): 100
/// clients connect before the first `accept`, then all are accepted in order.
#[test]
fn a_hundred_connections_wait_in_the_backlog() {
    c_cases_pass("backlog", &["backlog_100"], 200);
}
