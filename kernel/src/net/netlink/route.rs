//! rtnetlink routes of the main table: the `RTM_GETROUTE` dump (the routes added, then
//! each up link's connected prefixes, IPv4 then IPv6, as Linux lists them), and
//! `RTM_NEWROUTE` / `RTM_DELROUTE` of IPv4 unicast routes (a gateway, a link, or both),
//! and IPv4 route lookups (`RTM_GETROUTE` without a dump, `ip route get`). Other tables
//! and types, and IPv6 routes, are `EOPNOTSUPP`; a connected prefix goes
//! with its address, not by `RTM_DELROUTE` (`ESRCH`).

use super::{Attrs, Ctx, NLM_F_CREATE, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REPLACE, Out};
use crate::errno::Errno;
use crate::net::stack::{LinkKind, Lookup, Route};
use crate::net::{AF_INET, AF_INET6};
use alloc::vec::Vec;
use smoltcp::wire::{IpCidr, Ipv4Address};

const RTM_NEWROUTE: u16 = 24;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;
/// `struct rtmsg`.
const RTMSG_LEN: usize = 12;
const RT_TABLE_UNSPEC: u32 = 0;
const RT_TABLE_MAIN: u32 = 254;
const RT_TABLE_LOCAL: u32 = 255;
const RT_SCOPE_HOST: u8 = 254;
const RTN_LOCAL: u8 = 2;
/// `rtm_flags` of a route made by a lookup.
const RTM_F_CLONED: u32 = 0x200;
const RTPROT_KERNEL: u8 = 2;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RTN_UNSPEC: u8 = 0;
const RTN_UNICAST: u8 = 1;
const RTN_MAX: u8 = 11;
/// The metric Linux gives IPv6 connected prefixes.
const IP6_RT_PRIO_ADDRCONF: u32 = 256;

struct Entry<'a> {
    family: u8,
    dst: &'a [u8],
    prefix: u8,
    protocol: u8,
    scope: u8,
    gateway: Option<[u8; 4]>,
    prefsrc: Option<&'a [u8]>,
    priority: Option<u32>,
    oif: u32,
}

fn route_msg(m: &mut Out, e: &Entry, seq: u32, port: u32) {
    m.begin(RTM_NEWROUTE, NLM_F_MULTI, seq, port);
    m.put(&[e.family, e.prefix, 0, 0, RT_TABLE_MAIN as u8]);
    m.put(&[e.protocol, e.scope, RTN_UNICAST]);
    m.put(&0u32.to_le_bytes());
    m.attr(RTA_TABLE, &RT_TABLE_MAIN.to_le_bytes());
    if e.prefix > 0 {
        m.attr(RTA_DST, e.dst);
    }
    if let Some(p) = e.priority {
        m.attr(RTA_PRIORITY, &p.to_le_bytes());
    }
    if let Some(s) = e.prefsrc {
        m.attr(RTA_PREFSRC, s);
    }
    if let Some(g) = e.gateway {
        m.attr(RTA_GATEWAY, &g);
    }
    m.attr(RTA_OIF, &e.oif.to_le_bytes());
    m.end();
}

fn masked(a: Ipv4Address, prefix: u8) -> Ipv4Address {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    Ipv4Address::from_bits(a.to_bits() & mask)
}

fn masked6(mut b: [u8; 16], prefix: u8) -> [u8; 16] {
    for (i, byte) in b.iter_mut().enumerate() {
        let keep = (prefix as usize).saturating_sub(i * 8).min(8);
        *byte &= !(0xffu8.checked_shr(keep as u32).unwrap_or(0));
    }
    b
}

/// `RTM_GETROUTE` dump of `rtm_family` (0: both).
pub fn dump(cx: &Ctx) -> Result<Vec<u8>, Errno> {
    let family = cx.body.first().copied().unwrap_or(0);
    let (want4, want6) = match family as i32 {
        0 => (true, true),
        AF_INET => (true, false),
        AF_INET6 => (false, true),
        _ => (false, false),
    };
    let mut m = Out::default();
    cx.stack.with(|g| {
        if want4 {
            for r in g.routes() {
                let e = Entry {
                    family: AF_INET as u8,
                    dst: &r.dst.octets(),
                    prefix: r.prefix,
                    protocol: RTPROT_BOOT,
                    scope: if r.gateway.is_some() {
                        RT_SCOPE_UNIVERSE
                    } else {
                        RT_SCOPE_LINK
                    },
                    gateway: r.gateway.map(|a| a.octets()),
                    prefsrc: None,
                    priority: None,
                    oif: r.ifindex,
                };
                route_msg(&mut m, &e, cx.seq, cx.port);
            }
        }
        for l in g.links() {
            if !l.is_up() {
                continue;
            }
            for c in &l.addrs {
                match c {
                    IpCidr::Ipv4(a) if want4 && l.kind != LinkKind::Loopback => {
                        let e = Entry {
                            family: AF_INET as u8,
                            dst: &masked(a.address(), a.prefix_len()).octets(),
                            prefix: a.prefix_len(),
                            protocol: RTPROT_KERNEL,
                            scope: RT_SCOPE_LINK,
                            gateway: None,
                            prefsrc: Some(&a.address().octets()),
                            priority: None,
                            oif: l.index,
                        };
                        route_msg(&mut m, &e, cx.seq, cx.port);
                    }
                    IpCidr::Ipv6(a) if want6 => {
                        let e = Entry {
                            family: AF_INET6 as u8,
                            dst: &masked6(a.address().octets(), a.prefix_len()),
                            prefix: a.prefix_len(),
                            protocol: RTPROT_KERNEL,
                            scope: RT_SCOPE_UNIVERSE,
                            gateway: None,
                            prefsrc: None,
                            priority: Some(IP6_RT_PRIO_ADDRCONF),
                            oif: l.index,
                        };
                        route_msg(&mut m, &e, cx.seq, cx.port);
                    }
                    _ => {}
                }
            }
        }
    });
    m.done(cx.seq, cx.port);
    m.finish()
}

/// `RTM_GETROUTE` without a dump, as `ip route get`: the route an IPv4 packet to
/// `RTA_DST` takes, one `RTM_NEWROUTE` (`RTM_F_CLONED`, destination /32, `RTA_OIF`,
/// `RTA_PREFSRC`, `RTA_GATEWAY`; `local` through `lo` for the container's own
/// addresses); `ENETUNREACH` when there is none, `EOPNOTSUPP` for IPv6.
pub fn get(cx: &Ctx) -> Result<Vec<u8>, Errno> {
    let (rtm, a) = cx.split(RTMSG_LEN)?;
    if rtm[0] as i32 != AF_INET {
        return Err(Errno::EOPNOTSUPP);
    }
    let dst = v4_attr(a, RTA_DST)?.unwrap_or(Ipv4Address::UNSPECIFIED);
    let found = cx
        .stack
        .with(|g| g.lookup_v4(dst))
        .ok_or(Errno::ENETUNREACH)?;
    let (table, ty, scope, oif, gateway, src) = match found {
        Lookup::Local => (RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST, 1, None, Some(dst)),
        Lookup::Via {
            ifindex,
            gateway,
            src,
        } => (
            RT_TABLE_MAIN,
            RTN_UNICAST,
            RT_SCOPE_UNIVERSE,
            ifindex,
            gateway,
            src,
        ),
    };
    let mut m = Out::default();
    m.begin(RTM_NEWROUTE, 0, cx.seq, cx.port);
    m.put(&[AF_INET as u8, 32, 0, 0, table as u8, 0, scope, ty]);
    m.put(&RTM_F_CLONED.to_le_bytes());
    m.attr(RTA_TABLE, &table.to_le_bytes());
    m.attr(RTA_DST, &dst.octets());
    m.attr(RTA_OIF, &oif.to_le_bytes());
    if let Some(s) = src {
        m.attr(RTA_PREFSRC, &s.octets());
    }
    if let Some(g) = gateway {
        m.attr(RTA_GATEWAY, &g.octets());
    }
    m.end();
    m.finish()
}

/// An IPv4 address attribute (`EINVAL` when short).
fn v4_attr(a: Attrs, ty: u16) -> Result<Option<Ipv4Address>, Errno> {
    match a.get(ty) {
        None => Ok(None),
        Some(d) if d.len() >= 4 => Ok(Some(Ipv4Address::new(d[0], d[1], d[2], d[3]))),
        Some(_) => Err(Errno::EINVAL),
    }
}

/// A request's route: family, table and type checked (`EOPNOTSUPP` for what is not
/// here, `EINVAL` for what Linux refuses), the destination without host bits. A
/// deletion may leave the type unset (`RTN_UNSPEC`), as iproute2 does.
fn parse(cx: &Ctx, delete: bool) -> Result<Route, Errno> {
    let (rtm, a) = cx.split(RTMSG_LEN)?;
    let (family, prefix, ty) = (rtm[0], rtm[1], rtm[7]);
    if family as i32 != AF_INET {
        return Err(Errno::EOPNOTSUPP);
    }
    if prefix > 32 || ty > RTN_MAX {
        return Err(Errno::EINVAL);
    }
    let table = a.u32(RTA_TABLE)?.unwrap_or(rtm[4] as u32);
    let unicast = ty == RTN_UNICAST || (delete && ty == RTN_UNSPEC);
    if (table != RT_TABLE_MAIN && table != RT_TABLE_UNSPEC) || !unicast {
        return Err(Errno::EOPNOTSUPP);
    }
    let dst = v4_attr(a, RTA_DST)?.unwrap_or(Ipv4Address::UNSPECIFIED);
    if masked(dst, prefix) != dst {
        return Err(Errno::EINVAL);
    }
    Ok(Route {
        dst,
        prefix,
        gateway: v4_attr(a, RTA_GATEWAY)?,
        ifindex: a.u32(RTA_OIF)?.unwrap_or(0),
    })
}

/// `RTM_NEWROUTE`: `ENODEV` for no such link (or neither a link nor a gateway),
/// `ENETDOWN` for a link that is down, `ENETUNREACH` for a gateway off every connected
/// prefix, `EEXIST` for a destination routed already (`NLM_F_REPLACE` replaces it),
/// `ENOENT` without `NLM_F_CREATE` when there is none to replace.
pub fn new(cx: &Ctx) -> Result<(), Errno> {
    let r = parse(cx, false)?;
    cx.stack.with(|g| {
        if r.ifindex != 0 {
            let l = g.link_by_index(r.ifindex).ok_or(Errno::ENODEV)?;
            if !l.is_up() {
                return Err(Errno::ENETDOWN);
            }
        } else if r.gateway.is_none() {
            return Err(Errno::ENODEV);
        }
        // A gateway is on a connected prefix (Linux looks it up at link scope).
        if let Some(gw) = r.gateway
            && !g.links().iter().any(|l| {
                l.is_up()
                    && l.kind != LinkKind::Loopback
                    && (r.ifindex == 0 || l.index == r.ifindex)
                    && l.addrs.iter().any(|c| {
                        matches!(c, IpCidr::Ipv4(v4)
                            if masked(gw, v4.prefix_len()) == masked(v4.address(), v4.prefix_len()))
                    })
            })
        {
            return Err(Errno::ENETUNREACH);
        }
        let old = g
            .routes()
            .iter()
            .find(|o| o.dst == r.dst && o.prefix == r.prefix)
            .copied();
        match old {
            Some(_) if cx.flags & NLM_F_EXCL != 0 || cx.flags & NLM_F_REPLACE == 0 => {
                Err(Errno::EEXIST)
            }
            None if cx.flags & NLM_F_CREATE == 0 => Err(Errno::ENOENT),
            Some(o) => {
                g.del_route(o.dst, o.prefix)?;
                g.add_route(r).inspect_err(|_| {
                    let _ = g.add_route(o);
                })
            }
            None => g.add_route(r),
        }
    })
}

/// `RTM_DELROUTE`: the route to the destination, matching the gateway and link when
/// given (`ESRCH` when none does).
pub fn del(cx: &Ctx) -> Result<(), Errno> {
    let r = parse(cx, true)?;
    cx.stack.with(|g| {
        let found = g.routes().iter().any(|o| {
            o.dst == r.dst
                && o.prefix == r.prefix
                && r.gateway.is_none_or(|gw| o.gateway == Some(gw))
                && (r.ifindex == 0 || o.ifindex == r.ifindex)
        });
        if !found {
            return Err(Errno::ESRCH);
        }
        g.del_route(r.dst, r.prefix)
    })
}
