//! The interface and route ioctls of an inet socket (netdevice(7), `SIOCADDRT`), on the
//! socket's own net container's stack. Changes need CAP_NET_ADMIN over it (`EPERM`).

use crate::errno::Errno;
use crate::fs::env::{copy_from_user, copy_to_user};
use crate::net::stack::{IFF_LOOPBACK, Link, NetStack, Route};
use crate::net::{AF_INET, SocketCommon};
use alloc::vec::Vec;
use smoltcp::wire::Ipv4Address;

pub const SIOCADDRT: u32 = 0x890B;
pub const SIOCDELRT: u32 = 0x890C;
pub const SIOCGIFNAME: u32 = 0x8910;
pub const SIOCGIFCONF: u32 = 0x8912;
pub const SIOCGIFFLAGS: u32 = 0x8913;
pub const SIOCSIFFLAGS: u32 = 0x8914;
pub const SIOCGIFADDR: u32 = 0x8915;
pub const SIOCSIFADDR: u32 = 0x8916;
pub const SIOCGIFBRDADDR: u32 = 0x8919;
pub const SIOCGIFNETMASK: u32 = 0x891b;
pub const SIOCSIFNETMASK: u32 = 0x891c;
pub const SIOCGIFMTU: u32 = 0x8921;
pub const SIOCSIFMTU: u32 = 0x8922;
pub const SIOCGIFHWADDR: u32 = 0x8927;
pub const SIOCGIFINDEX: u32 = 0x8933;
pub const SIOCGIFTXQLEN: u32 = 0x8942;
/// Linux's default `txqueuelen`.
const TXQLEN: i32 = 1000;

const IFREQ_SIZE: usize = 40;
const RTENTRY_SIZE: usize = 120;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const RTF_GATEWAY: u16 = 0x2;
const RTF_HOST: u16 = 0x4;

fn sockaddr_in(a: Ipv4Address) -> [u8; 16] {
    let mut s = [0u8; 16];
    s[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
    s[4..8].copy_from_slice(&a.octets());
    s
}

/// The IPv4 address of a `struct sockaddr` (family must be AF_INET: `EINVAL`).
fn parse_in(s: &[u8]) -> Result<Ipv4Address, Errno> {
    if s.len() < 8 || u16::from_le_bytes([s[0], s[1]]) != AF_INET as u16 {
        return Err(Errno::EINVAL);
    }
    Ok(Ipv4Address::new(s[4], s[5], s[6], s[7]))
}

fn mask_of(prefix: u8) -> Ipv4Address {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    Ipv4Address::from_bits(bits)
}

/// A contiguous netmask's prefix length (`EINVAL` otherwise).
pub fn prefix_of(mask: Ipv4Address) -> Result<u8, Errno> {
    let m = mask.to_bits();
    let p = m.leading_ones();
    if m.checked_shl(p).unwrap_or(0) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(p as u8)
}

/// The classful prefix Linux gives an address set by `SIOCSIFADDR`.
fn classful(a: Ipv4Address) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

fn name_of(req: &[u8]) -> Result<&str, Errno> {
    let n = req[..16].iter().position(|&b| b == 0).unwrap_or(16);
    core::str::from_utf8(&req[..n]).map_err(|_| Errno::ENODEV)
}

fn find(stack: &NetStack, name: &str) -> Result<Link, Errno> {
    stack.with(|g| g.link(name).cloned()).ok_or(Errno::ENODEV)
}

fn admin(common: &SocketCommon) -> Result<(), Errno> {
    if crate::net::env::net_capable(&common.net, crate::cred::CAP_NET_ADMIN) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// A user's NUL-terminated interface name (`rt_dev`), at most 15 bytes.
fn user_name(ptr: u64) -> Result<alloc::string::String, Errno> {
    let mut out = Vec::new();
    for i in 0..16u64 {
        let mut b = [0u8];
        copy_from_user(ptr.checked_add(i).ok_or(Errno::EFAULT)?, &mut b)?;
        if b[0] == 0 {
            return alloc::string::String::from_utf8(out).map_err(|_| Errno::ENODEV);
        }
        out.push(b[0]);
    }
    Err(Errno::ENODEV)
}

pub fn ioctl(common: &SocketCommon, stack: &NetStack, cmd: u32, arg: u64) -> Result<usize, Errno> {
    match cmd {
        SIOCGIFCONF => return ifconf(stack, arg),
        SIOCADDRT | SIOCDELRT => return route(common, stack, cmd, arg),
        SIOCGIFNAME | SIOCGIFFLAGS | SIOCSIFFLAGS | SIOCGIFADDR | SIOCSIFADDR | SIOCGIFBRDADDR
        | SIOCGIFNETMASK | SIOCSIFNETMASK | SIOCGIFMTU | SIOCSIFMTU | SIOCGIFHWADDR
        | SIOCGIFINDEX | SIOCGIFTXQLEN => {}
        _ => return Err(Errno::ENOTTY),
    }
    let mut req = [0u8; IFREQ_SIZE];
    copy_from_user(arg, &mut req)?;
    if cmd == SIOCGIFNAME {
        let index = i32::from_le_bytes([req[16], req[17], req[18], req[19]]);
        let name = stack
            .with(|g| g.link_by_index(index as u32).map(|l| l.name.clone()))
            .ok_or(Errno::ENODEV)?;
        req[..16].fill(0);
        let n = name.len().min(15);
        req[..n].copy_from_slice(&name.as_bytes()[..n]);
        copy_to_user(arg, &req)?;
        return Ok(0);
    }
    let link = find(stack, name_of(&req)?)?;
    let field = &mut req[16..];
    match cmd {
        SIOCGIFINDEX => field[..4].copy_from_slice(&(link.index as i32).to_le_bytes()),
        SIOCGIFFLAGS => field[..2].copy_from_slice(&(link.flags as u16).to_le_bytes()),
        SIOCGIFMTU => field[..4].copy_from_slice(&(link.mtu as i32).to_le_bytes()),
        SIOCGIFTXQLEN => field[..4].copy_from_slice(&TXQLEN.to_le_bytes()),
        SIOCGIFHWADDR => {
            let fam = if link.flags & IFF_LOOPBACK != 0 {
                ARPHRD_LOOPBACK
            } else {
                ARPHRD_ETHER
            };
            field[..16].fill(0);
            field[..2].copy_from_slice(&fam.to_le_bytes());
            field[2..8].copy_from_slice(&link.hwaddr);
        }
        SIOCGIFADDR | SIOCGIFNETMASK | SIOCGIFBRDADDR => {
            let (a, p) = link.ipv4().ok_or(Errno::EADDRNOTAVAIL)?;
            let v = match cmd {
                SIOCGIFADDR => a,
                SIOCGIFNETMASK => mask_of(p),
                _ => Ipv4Address::from_bits(a.to_bits() | !mask_of(p).to_bits()),
            };
            field[..16].copy_from_slice(&sockaddr_in(v));
        }
        SIOCSIFFLAGS => {
            admin(common)?;
            let flags = u16::from_le_bytes([field[0], field[1]]) as u32;
            stack.with(|g| g.set_flags(link.index, flags))?;
            return Ok(0);
        }
        SIOCSIFADDR => {
            admin(common)?;
            let a = parse_in(field)?;
            stack.with(|g| g.set_ipv4(link.index, a, Some(classful(a))))?;
            return Ok(0);
        }
        SIOCSIFMTU => {
            admin(common)?;
            let mtu = i32::from_le_bytes([field[0], field[1], field[2], field[3]]);
            let change = crate::net::stack::LinkChange {
                mtu: Some(u32::try_from(mtu).map_err(|_| Errno::EINVAL)?),
                ..Default::default()
            };
            stack.with(|g| g.change_link(link.index, &change))?;
            return Ok(0);
        }
        SIOCSIFNETMASK => {
            admin(common)?;
            let p = prefix_of(parse_in(field)?)?;
            let (a, _) = link.ipv4().ok_or(Errno::EADDRNOTAVAIL)?;
            stack.with(|g| g.set_ipv4(link.index, a, Some(p)))?;
            return Ok(0);
        }
        _ => return Err(Errno::ENOTTY),
    }
    copy_to_user(arg, &req)?;
    Ok(0)
}

/// `SIOCGIFCONF`: one `ifreq` (name, IPv4 address) per interface with an IPv4 address;
/// a NULL buffer asks for the length needed.
fn ifconf(stack: &NetStack, arg: u64) -> Result<usize, Errno> {
    let mut conf = [0u8; 16];
    copy_from_user(arg, &mut conf)?;
    let len = i32::from_le_bytes([conf[0], conf[1], conf[2], conf[3]]);
    let buf = u64::from_le_bytes(conf[8..16].try_into().unwrap_or_default());
    let entries: Vec<[u8; IFREQ_SIZE]> = stack.with(|g| {
        g.links()
            .iter()
            .filter_map(|l| {
                let (a, _) = l.ipv4()?;
                let mut r = [0u8; IFREQ_SIZE];
                let n = l.name.len().min(15);
                r[..n].copy_from_slice(&l.name.as_bytes()[..n]);
                r[16..32].copy_from_slice(&sockaddr_in(a));
                Some(r)
            })
            .collect()
    });
    let total = if buf == 0 {
        entries.len() * IFREQ_SIZE
    } else {
        let room = (len.max(0) as usize) / IFREQ_SIZE;
        let n = entries.len().min(room);
        for (i, e) in entries.iter().take(n).enumerate() {
            copy_to_user(buf + (i * IFREQ_SIZE) as u64, e)?;
        }
        n * IFREQ_SIZE
    };
    conf[..4].copy_from_slice(&(total as i32).to_le_bytes());
    copy_to_user(arg, &conf[..4])?;
    Ok(0)
}

/// `SIOCADDRT`/`SIOCDELRT` with a `struct rtentry`.
fn route(common: &SocketCommon, stack: &NetStack, cmd: u32, arg: u64) -> Result<usize, Errno> {
    admin(common)?;
    let mut rt = [0u8; RTENTRY_SIZE];
    copy_from_user(arg, &mut rt)?;
    let dst = parse_in(&rt[8..24])?;
    let flags = u16::from_le_bytes([rt[56], rt[57]]);
    let prefix = if flags & RTF_HOST != 0 {
        32
    } else {
        let mask = &rt[40..56];
        if u16::from_le_bytes([mask[0], mask[1]]) == AF_INET as u16 {
            prefix_of(parse_in(mask)?)?
        } else if dst.is_unspecified() {
            0
        } else {
            classful(dst)
        }
    };
    if cmd == SIOCDELRT {
        stack.with(|g| g.del_route(dst, prefix))?;
        return Ok(0);
    }
    let gateway = if flags & RTF_GATEWAY != 0 {
        Some(parse_in(&rt[24..40])?)
    } else {
        None
    };
    let dev = u64::from_le_bytes(rt[88..96].try_into().unwrap_or_default());
    let ifindex = if dev != 0 {
        find(stack, &user_name(dev)?)?.index
    } else if gateway.is_none() {
        return Err(Errno::EINVAL);
    } else {
        0
    };
    stack.with(|g| {
        g.add_route(Route {
            dst,
            prefix,
            gateway,
            ifindex,
        })
    })?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_must_be_contiguous() {
        assert_eq!(prefix_of(Ipv4Address::new(255, 255, 255, 0)), Ok(24));
        assert_eq!(prefix_of(Ipv4Address::new(0, 0, 0, 0)), Ok(0));
        assert_eq!(
            prefix_of(Ipv4Address::new(255, 0, 255, 0)),
            Err(Errno::EINVAL)
        );
        assert_eq!(mask_of(20), Ipv4Address::new(255, 255, 240, 0));
    }
}
