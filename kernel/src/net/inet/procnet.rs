//! `/proc/net/{dev,route,tcp,udp}` for the reader's net container, in Linux's formats.

use crate::net::stack::{LinkKind, NetStack};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use smoltcp::socket::{Socket, tcp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address};

/// The files, in `/proc/net` listing order.
pub const FILES: [&str; 4] = ["dev", "route", "tcp", "udp"];

/// The text of `FILES[i]` for `stack`.
pub fn render(i: u8, stack: &NetStack) -> String {
    match i {
        0 => dev(stack),
        1 => route(stack),
        2 => tcp(stack),
        _ => udp(stack),
    }
}

fn dev(stack: &NetStack) -> String {
    let mut s = String::from(
        "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    stack.with(|g| {
        for l in g.links() {
            let st = l.stats;
            let _ = writeln!(
                s,
                "{:>6}:{:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}",
                l.name,
                st.rx_bytes,
                st.rx_packets,
                0,
                0,
                0,
                0,
                0,
                0,
                st.tx_bytes,
                st.tx_packets,
                0,
                st.tx_dropped,
                0,
                0,
                0,
                0
            );
        }
    });
    s
}

/// An IPv4 address as Linux prints a `__be32` in hex (its bytes in memory order).
fn hex(a: Ipv4Address) -> String {
    format!("{:08X}", u32::from_le_bytes(a.octets()))
}

fn mask(prefix: u8) -> Ipv4Address {
    Ipv4Address::from_bits(if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    })
}

fn route(stack: &NetStack) -> String {
    let mut s = format!(
        "{:<127}\n",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    );
    stack.with(|g| {
        let mut line = |name: &str, dst: Ipv4Address, gw: Ipv4Address, flags: u16, p: u8| {
            let l = format!(
                "{name}\t{}\t{}\t{flags:04X}\t0\t0\t0\t{}\t0\t0\t0",
                hex(dst),
                hex(gw),
                hex(mask(p))
            );
            let _ = writeln!(s, "{l:<127}");
        };
        for r in g.routes() {
            if let Some(l) = g.link_by_index(r.ifindex) {
                let flags = 0x1 | if r.gateway.is_some() { 0x2 } else { 0 };
                let gw = r.gateway.unwrap_or(Ipv4Address::UNSPECIFIED);
                line(&l.name, r.dst, gw, flags, r.prefix);
            }
        }
        for l in g.links() {
            if l.kind == LinkKind::Loopback || !l.is_up() {
                continue;
            }
            if let Some((a, p)) = l.ipv4() {
                let net = Ipv4Address::from_bits(a.to_bits() & mask(p).to_bits());
                line(&l.name, net, Ipv4Address::UNSPECIFIED, 0x1, p);
            }
        }
    });
    s
}

fn v4(ep: Option<IpEndpoint>) -> Option<(Ipv4Address, u16)> {
    match ep {
        None => Some((Ipv4Address::UNSPECIFIED, 0)),
        Some(IpEndpoint {
            addr: IpAddress::Ipv4(a),
            port,
        }) => Some((a, port)),
        _ => None,
    }
}

fn listen_v4(ep: IpListenEndpoint) -> Option<(Ipv4Address, u16)> {
    match ep.addr {
        None => Some((Ipv4Address::UNSPECIFIED, ep.port)),
        Some(IpAddress::Ipv4(a)) => Some((a, ep.port)),
        _ => None,
    }
}

/// Linux's `TCP_*` state numbers.
fn state_number(st: tcp::State) -> u8 {
    use tcp::State::*;
    match st {
        Established => 1,
        SynSent => 2,
        SynReceived => 3,
        FinWait1 => 4,
        FinWait2 => 5,
        TimeWait => 6,
        Closed => 7,
        CloseWait => 8,
        LastAck => 9,
        Listen => 0x0A,
        Closing => 0x0B,
    }
}

fn sock_line(
    s: &mut String,
    n: usize,
    l: (Ipv4Address, u16),
    r: (Ipv4Address, u16),
    st: u8,
    tx: usize,
    rx: usize,
) {
    let _ = writeln!(
        s,
        "{n:>4}: {}:{:04X} {}:{:04X} {st:02X} {tx:08X}:{rx:08X} 00:00000000 00000000     0        0 0",
        hex(l.0),
        l.1,
        hex(r.0),
        r.1
    );
}

fn tcp(stack: &NetStack) -> String {
    let mut s = String::from(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    );
    stack.with(|g| {
        let mut n = 0;
        for (_, sock) in g.sockets.iter() {
            let Socket::Tcp(t) = sock else { continue };
            let local = if t.state() == tcp::State::Listen {
                listen_v4(t.listen_endpoint())
            } else {
                v4(t.local_endpoint())
            };
            let (Some(l), Some(r)) = (local, v4(t.remote_endpoint())) else {
                continue;
            };
            sock_line(
                &mut s,
                n,
                l,
                r,
                state_number(t.state()),
                t.send_queue(),
                t.recv_queue(),
            );
            n += 1;
        }
    });
    s
}

fn udp(stack: &NetStack) -> String {
    let mut s = String::from(
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n",
    );
    stack.with(|g| {
        let mut n = 0;
        for (_, sock) in g.sockets.iter() {
            let Socket::Udp(u) = sock else { continue };
            let Some(l) = listen_v4(u.endpoint()) else {
                continue;
            };
            let r = (Ipv4Address::UNSPECIFIED, 0);
            sock_line(&mut s, n, l, r, 7, u.send_queue(), u.recv_queue());
            n += 1;
        }
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_and_dev_show_the_stack_in_linux_format() {
        let root = NetStack::new().expect("root");
        let a = NetStack::new().expect("a");
        a.add_veth_pair(&root).expect("pair");
        a.with(|g| {
            g.set_ipv4(2, Ipv4Address::new(10, 0, 2, 15), Some(24))
                .expect("address")
        });
        let r = route(&a);
        let lines: alloc::vec::Vec<&str> = r.lines().collect();
        assert_eq!(lines.len(), 2, "{r}");
        assert!(
            lines[1].starts_with("veth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF"),
            "{r}"
        );
        assert_eq!(lines[1].len(), 127);
        let d = dev(&a);
        assert!(
            d.lines().nth(2).is_some_and(|l| l.starts_with("    lo:")),
            "{d}"
        );
        assert!(
            d.lines().nth(3).is_some_and(|l| l.starts_with(" veth0:")),
            "{d}"
        );
    }
}
