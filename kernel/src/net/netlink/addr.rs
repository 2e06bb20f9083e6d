//! rtnetlink addresses: the `RTM_GETADDR` dump, `RTM_NEWADDR` (`IFA_LOCAL`, else
//! `IFA_ADDRESS`, with `ifa_prefixlen`) and `RTM_DELADDR`, IPv4 and IPv6.

use super::{Ctx, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REPLACE, Out, RTM_NEWADDR, u32_at};
use crate::errno::Errno;
use crate::net::stack::{LinkKind, NetStack};
use crate::net::{AF_INET, AF_INET6};
use alloc::vec::Vec;
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address, Ipv6Address};

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
/// `struct ifaddrmsg`.
const IFADDR_LEN: usize = 8;
/// `IFA_F_PERMANENT`: every address here is.
const IFA_F_PERMANENT: u8 = 0x80;
/// Families rtnetlink has a table slot for (`NPROTO`).
const NPROTO: u8 = 46;

/// The `RTM_NEWADDR` messages of every address of `family` (0: all), then `NLMSG_DONE`.
pub fn dump_addrs(stack: &NetStack, family: u8, seq: u32, port: u32) -> Result<Vec<u8>, Errno> {
    let mut m = Out::default();
    stack.with(|g| {
        for l in g.links() {
            for c in &l.addrs {
                let (fam, v4, v6);
                let bytes: &[u8] = match c {
                    IpCidr::Ipv4(a) => {
                        fam = AF_INET as u8;
                        v4 = a.address().octets();
                        &v4
                    }
                    IpCidr::Ipv6(a) => {
                        fam = AF_INET6 as u8;
                        v6 = a.address().octets();
                        &v6
                    }
                };
                if family != 0 && family != fam {
                    continue;
                }
                m.begin(RTM_NEWADDR, NLM_F_MULTI, seq, port);
                // RT_SCOPE_HOST (254) for loopback addresses, else universe (0).
                let scope = if l.kind == LinkKind::Loopback { 254 } else { 0 };
                m.put(&[fam, c.prefix_len(), IFA_F_PERMANENT, scope]);
                m.put(&l.index.to_le_bytes());
                m.attr(IFA_ADDRESS, bytes);
                m.attr(IFA_LOCAL, bytes);
                m.attr_str(IFA_LABEL, &l.name);
                m.end();
            }
        }
    });
    m.done(seq, port);
    m.finish()
}

/// The request's link index and address with its prefix (`IFA_LOCAL` first, as
/// Linux); `None` when it names no address. An unknown family: `EOPNOTSUPP`.
fn parse(cx: &Ctx) -> Result<(u32, Option<IpCidr>), Errno> {
    let (ifa, a) = cx.split(IFADDR_LEN)?;
    let (family, prefix, index) = (ifa[0], ifa[1], u32_at(ifa, 4));
    let raw = a.get(IFA_LOCAL).or(a.get(IFA_ADDRESS));
    let cidr = match family as i32 {
        AF_INET => {
            if prefix > 32 {
                return Err(Errno::EINVAL);
            }
            match raw {
                Some(d) if d.len() >= 4 => {
                    let ip = Ipv4Address::new(d[0], d[1], d[2], d[3]);
                    Some(IpCidr::new(IpAddress::Ipv4(ip), prefix))
                }
                Some(_) => return Err(Errno::EINVAL),
                None => None,
            }
        }
        AF_INET6 => {
            if prefix > 128 {
                return Err(Errno::EINVAL);
            }
            match raw {
                Some(d) if d.len() >= 16 => {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(&d[..16]);
                    Some(IpCidr::new(IpAddress::Ipv6(Ipv6Address::from(b)), prefix))
                }
                Some(_) => return Err(Errno::EINVAL),
                None => None,
            }
        }
        _ if family >= NPROTO => return Err(Errno::EAFNOSUPPORT),
        _ => return Err(Errno::EOPNOTSUPP),
    };
    Ok((index, cidr))
}

/// `RTM_NEWADDR`: `ENODEV` for no such link, `EINVAL` without an address, `EEXIST` when
/// the link has it (unless `NLM_F_REPLACE` without `NLM_F_EXCL`, which keeps it).
pub fn new(cx: &Ctx) -> Result<(), Errno> {
    let (index, cidr) = parse(cx)?;
    cx.stack.with(|g| {
        let l = g.link_by_index(index).ok_or(Errno::ENODEV)?;
        let cidr = cidr.ok_or(Errno::EINVAL)?;
        if l.addrs.iter().any(|c| c.address() == cidr.address()) {
            return if cx.flags & NLM_F_EXCL != 0 || cx.flags & NLM_F_REPLACE == 0 {
                Err(Errno::EEXIST)
            } else {
                Ok(())
            };
        }
        g.add_addr(index, cidr)
    })
}

/// `RTM_DELADDR`: the address given (or the link's first of that family), `ENODEV` for
/// no such link, `EADDRNOTAVAIL` when it has not got it.
pub fn del(cx: &Ctx) -> Result<(), Errno> {
    let (index, cidr) = parse(cx)?;
    let v4 = cx.body[0] as i32 == AF_INET;
    cx.stack.with(|g| {
        let l = g.link_by_index(index).ok_or(Errno::ENODEV)?;
        let addr = match cidr {
            Some(c) => c.address(),
            None => l
                .addrs
                .iter()
                .find(|c| matches!(c, IpCidr::Ipv4(_)) == v4)
                .ok_or(Errno::EADDRNOTAVAIL)?
                .address(),
        };
        g.del_addr(index, addr)
    })
}
