//! AF_INET and AF_INET6 over the caller's net container's stack (`net/stack.rs`):
//! TCP (`tcp.rs`), UDP (`udp.rs`), the interface ioctls (`ifreq.rs`). Addresses are
//! `sockaddr_in`/`sockaddr_in6`; an AF_INET6 socket sees IPv4 peers as `::ffff:a.b.c.d`.

pub mod icmp;
pub mod ifreq;
pub mod procnet;
pub mod tcp;
pub mod udp;

use super::stack::NetStack;
use super::{AF_INET, AF_INET6, Family, Io, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, Socket};
use crate::errno::Errno;
use crate::fs::env::{self, Wake};
use crate::plimits::kmem;
use alloc::sync::Arc;
use alloc::vec::Vec;
use smoltcp::storage::{PacketBuffer, PacketMetadata};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv6Address};

pub const IPPROTO_IP: i32 = 0;
pub const IPPROTO_ICMP: i32 = 1;
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_UDP: i32 = 17;
pub const IPPROTO_IPV6: i32 = 41;

pub const IP_TTL: i32 = 2;
pub const TCP_NODELAY: i32 = 1;
pub const TCP_MAXSEG: i32 = 2;
pub const IPV6_UNICAST_HOPS: i32 = 16;
pub const IPV6_V6ONLY: i32 = 26;

/// The default TTL / hop limit (`net.ipv4.ip_default_ttl`).
pub const DEFAULT_TTL: u8 = 64;
/// The longest a blocked socket call sleeps before polling the stack again (smoltcp's
/// timers: retransmits, delayed packets from the NIC).
const RECHECK_NS: u64 = 10_000_000;

pub static FAMILY_INET: Family = Family {
    create: create_v4,
    pair: None,
};
pub static FAMILY_INET6: Family = Family {
    create: create_v6,
    pair: None,
};

/// Registers AF_INET and AF_INET6 with the socket layer (boot).
/// A datagram socket's buffer for one direction (UDP, ICMP): `slots` packet slots and
/// `payload` bytes; `ENOBUFS` when they cannot be allocated.
pub fn packet_buffer<H: Copy>(
    slots: usize,
    payload: usize,
) -> Result<PacketBuffer<'static, H>, Errno> {
    let mut meta = Vec::new();
    meta.try_reserve_exact(slots).map_err(|_| Errno::ENOBUFS)?;
    meta.resize(slots, PacketMetadata::EMPTY);
    let mut data = Vec::new();
    data.try_reserve_exact(payload)
        .map_err(|_| Errno::ENOBUFS)?;
    data.resize(payload, 0);
    Ok(PacketBuffer::new(meta, data))
}

/// What a [`packet_buffer`] with slots of type `M` takes on the heap (what its socket is
/// charged): the slots and the payload.
pub fn packet_buffer_cost<M>(slots: usize, payload: usize) -> usize {
    let cost = kmem::array_cost::<M>(slots) + kmem::array_cost::<u8>(payload);
    usize::try_from(cost).unwrap_or(usize::MAX)
}

pub fn init() {
    super::register_family(AF_INET, &FAMILY_INET);
    super::register_family(AF_INET6, &FAMILY_INET6);
}

fn create_v4(ty: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    create(AF_INET, ty, protocol)
}

fn create_v6(ty: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    create(AF_INET6, ty, protocol)
}

fn create(family: i32, ty: i32, protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    match (ty, protocol) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) => Ok(Arc::new(tcp::TcpSocket::new(family)?)),
        (SOCK_DGRAM, 0 | IPPROTO_UDP) => Ok(Arc::new(udp::UdpSocket::new(family)?)),
        (SOCK_DGRAM | SOCK_RAW, IPPROTO_ICMP) => Ok(Arc::new(icmp::IcmpSocket::new(family, ty)?)),
        (SOCK_STREAM | SOCK_DGRAM | SOCK_RAW, _) => Err(Errno::EPROTONOSUPPORT),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

/// A `sockaddr_in` (family AF_INET sockets) or `sockaddr_in6` as an endpoint. IPv4-mapped
/// IPv6 addresses become IPv4 ones. `EINVAL` when short, `EAFNOSUPPORT` for another family.
pub fn parse_sockaddr(family: i32, raw: &[u8]) -> Result<IpEndpoint, Errno> {
    let fam = raw
        .get(..2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as i32)
        .ok_or(Errno::EINVAL)?;
    if family == AF_INET {
        if raw.len() < 16 {
            return Err(Errno::EINVAL);
        }
        if fam != AF_INET {
            return Err(Errno::EAFNOSUPPORT);
        }
        let port = u16::from_be_bytes([raw[2], raw[3]]);
        let a = Ipv4Address::new(raw[4], raw[5], raw[6], raw[7]);
        return Ok(IpEndpoint::new(IpAddress::Ipv4(a), port));
    }
    if raw.len() < 24 {
        return Err(Errno::EINVAL);
    }
    if fam != AF_INET6 {
        return Err(Errno::EAFNOSUPPORT);
    }
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&raw[8..24]);
    let a = Ipv6Address::from(b);
    let addr = match a.to_ipv4_mapped() {
        Some(v4) => IpAddress::Ipv4(v4),
        None => IpAddress::Ipv6(a),
    };
    Ok(IpEndpoint::new(addr, port))
}

/// The `sockaddr` of `ep` for a socket of `family`.
pub fn sockaddr(family: i32, ep: IpEndpoint) -> Vec<u8> {
    if family == AF_INET {
        let mut v = alloc::vec![0u8; 16];
        v[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
        v[2..4].copy_from_slice(&ep.port.to_be_bytes());
        if let IpAddress::Ipv4(a) = ep.addr {
            v[4..8].copy_from_slice(&a.octets());
        }
        return v;
    }
    let mut v = alloc::vec![0u8; 28];
    v[..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
    v[2..4].copy_from_slice(&ep.port.to_be_bytes());
    let a = match ep.addr {
        IpAddress::Ipv4(v4) if v4.is_unspecified() => Ipv6Address::UNSPECIFIED,
        IpAddress::Ipv4(v4) => v4.to_ipv6_mapped(),
        IpAddress::Ipv6(v6) => v6,
    };
    v[8..24].copy_from_slice(&a.octets());
    v
}

/// The unspecified address of a family (`INADDR_ANY`, `::`).
pub fn any_addr(family: i32) -> IpAddress {
    if family == AF_INET {
        IpAddress::Ipv4(Ipv4Address::UNSPECIFIED)
    } else {
        IpAddress::Ipv6(Ipv6Address::UNSPECIFIED)
    }
}

/// A listen endpoint's `sockaddr` (no address: the unspecified one).
pub fn listen_sockaddr(family: i32, ep: Option<IpListenEndpoint>) -> Vec<u8> {
    let ep = ep.unwrap_or_default();
    sockaddr(
        family,
        IpEndpoint::new(ep.addr.unwrap_or(any_addr(family)), ep.port),
    )
}

/// A connect to the unspecified address goes to the loopback one (Linux).
pub fn connect_target(ep: IpEndpoint) -> IpEndpoint {
    let addr = match ep.addr {
        IpAddress::Ipv4(a) if a.is_unspecified() => IpAddress::Ipv4(Ipv4Address::LOCALHOST),
        IpAddress::Ipv6(a) if a.is_unspecified() => IpAddress::Ipv6(Ipv6Address::LOCALHOST),
        a => a,
    };
    IpEndpoint::new(addr, ep.port)
}

/// Checks a bind address: local to the stack (`EADDRNOTAVAIL`), a port below 1024 only
/// with CAP_NET_BIND_SERVICE over the net container (`EACCES`). Returns the address to
/// bind (`None` for any).
pub fn check_bind(
    common: &super::SocketCommon,
    stack: &NetStack,
    ep: IpEndpoint,
) -> Result<Option<IpAddress>, Errno> {
    let addr = (!ep.addr.is_unspecified()).then_some(ep.addr);
    if let Some(a) = addr
        && !stack.with(|g| g.is_local(a))
    {
        return Err(Errno::EADDRNOTAVAIL);
    }
    if ep.port != 0
        && ep.port < 1024
        && !super::env::net_capable(&common.net, crate::cred::CAP_NET_BIND_SERVICE)
    {
        return Err(Errno::EACCES);
    }
    Ok(addr)
}

/// One wait of a blocked socket call on its stack: `EAGAIN` when non-blocking or past
/// the `SO_*TIMEO` deadline, `EINTR` on a signal; otherwise the caller polls again.
pub fn wait(stack: &NetStack, io: &Io) -> Result<(), Errno> {
    if io.nonblock {
        return Err(Errno::EAGAIN);
    }
    let now = env::monotonic_ns();
    let recheck = now + RECHECK_NS;
    let until = match io.deadline {
        Some(d) if now >= d => return Err(Errno::EAGAIN),
        Some(d) => d.min(recheck),
        None => recheck,
    };
    match env::sleep(stack.chan(), Some(until)) {
        Wake::Interrupted => Err(Errno::EINTR),
        _ => Ok(()),
    }
}

/// An integer option value (at least 4 bytes; a single byte is taken too, as Linux's
/// IP options do).
pub fn opt_int(val: &[u8]) -> Result<i32, Errno> {
    match val.len() {
        0 => Err(Errno::EINVAL),
        1..=3 => Ok(val[0] as i32),
        _ => Ok(i32::from_le_bytes([val[0], val[1], val[2], val[3]])),
    }
}

/// `IP_TTL`/`IPV6_UNICAST_HOPS`: 1..=255, or -1 for the default.
pub fn parse_ttl(val: &[u8]) -> Result<Option<u8>, Errno> {
    match opt_int(val)? {
        -1 => Ok(None),
        v @ 1..=255 => Ok(Some(v as u8)),
        _ => Err(Errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_in_round_trips_and_maps_ipv4_into_ipv6() {
        let ep = IpEndpoint::new(IpAddress::v4(127, 0, 0, 1), 8002);
        let raw = sockaddr(AF_INET, ep);
        assert_eq!(raw[2..4], [0x1f, 0x42]);
        assert_eq!(parse_sockaddr(AF_INET, &raw), Ok(ep));
        let raw6 = sockaddr(AF_INET6, ep);
        assert_eq!(raw6.len(), 28);
        assert_eq!(parse_sockaddr(AF_INET6, &raw6), Ok(ep), "v4-mapped back");
        assert_eq!(parse_sockaddr(AF_INET6, &raw), Err(Errno::EINVAL));
        assert_eq!(
            parse_sockaddr(AF_INET, &raw6[..16]),
            Err(Errno::EAFNOSUPPORT)
        );
    }

    #[test]
    fn ttl_accepts_one_to_255_and_minus_one() {
        assert_eq!(parse_ttl(&0i32.to_le_bytes()), Err(Errno::EINVAL));
        assert_eq!(parse_ttl(&(-1i32).to_le_bytes()), Ok(None));
        assert_eq!(parse_ttl(&200i32.to_le_bytes()), Ok(Some(200)));
        assert_eq!(parse_ttl(&256i32.to_le_bytes()), Err(Errno::EINVAL));
    }
}
