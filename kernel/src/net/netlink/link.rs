//! rtnetlink links: `RTM_GETLINK` (a dump, or one link by index or `IFLA_IFNAME`),
//! `RTM_SETLINK` and `RTM_NEWLINK` on a link that exists (`IFF_UP`, `IFLA_MTU`,
//! `IFLA_IFNAME`, `IFLA_ADDRESS`, and `IFLA_NET_NS_PID`/`IFLA_NET_NS_FD` moving a veth
//! to another net container), `RTM_NEWLINK` with `IFLA_INFO_KIND "veth"` making a pair
//! (the peer from `VETH_INFO_PEER`), and `RTM_DELLINK` of a veth with its peer.

use super::{Attrs, Ctx, NLM_F_CREATE, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REPLACE, Out};
use super::{RTM_NEWLINK, admin, u32_at};
use crate::container::net::NetContainer;
use crate::errno::Errno;
use crate::net::stack::{
    IFF_BROADCAST, IFF_MULTICAST, IFF_RUNNING, IFF_UP, Link, LinkChange, LinkKind, NetStack,
    VethEnd,
};
use alloc::sync::Arc;
use alloc::vec::Vec;

const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_PID: u16 = 19;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;

/// `struct ifinfomsg`.
const IFINFO_LEN: usize = 16;
/// `IFNAMSIZ` less the NUL.
const NAME_MAX: usize = 15;
const ARPHRD_ETHER: u16 = 1;
const IFF_LOWER_UP: u32 = 0x1_0000;
const ARPHRD_LOOPBACK: u16 = 772;
/// Links a stack may hold for rtnetlink to make a veth end in it or move one there
/// (`ENOSPC` past it; LiteOS-A's pairs for new containers do not count against it), so
/// a user with CAP_NET_ADMIN in its own container cannot fill the kernel heap with links.
const LINKS_MAX: usize = 256;
/// Linux's default `txqueuelen` (0 for `lo`).
const TXQLEN: u32 = 1000;

/// One `RTM_NEWLINK` message describing `l` (`peer`: a veth's peer index).
fn link_msg(m: &mut Out, l: &Link, peer: Option<u32>, flags: u16, cx: (u32, u32)) {
    m.begin(RTM_NEWLINK, flags, cx.0, cx.1);
    let lo = l.kind == LinkKind::Loopback;
    let arphrd = if lo { ARPHRD_LOOPBACK } else { ARPHRD_ETHER };
    m.put(&[0, 0]);
    m.put(&arphrd.to_le_bytes());
    m.put(&(l.index as i32).to_le_bytes());
    // Linux's `dev_get_flags` adds IFF_LOWER_UP for a link with its carrier.
    let lower = if l.flags & IFF_RUNNING != 0 {
        IFF_LOWER_UP
    } else {
        0
    };
    m.put(&(l.flags | lower).to_le_bytes());
    m.put(&0u32.to_le_bytes());
    m.attr_str(IFLA_IFNAME, &l.name);
    m.attr(IFLA_MTU, &(l.mtu as u32).to_le_bytes());
    m.attr(IFLA_TXQLEN, &(if lo { 0 } else { TXQLEN }).to_le_bytes());
    m.attr(IFLA_ADDRESS, &l.hwaddr);
    m.attr(IFLA_BROADCAST, &if lo { [0; 6] } else { [0xff; 6] });
    let up = l.flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING;
    // IF_OPER_UP 6, IF_OPER_DOWN 2; Linux reports UNKNOWN (0) for lo.
    let oper = if lo {
        0
    } else if up {
        6
    } else {
        2
    };
    m.attr(IFLA_OPERSTATE, &[oper]);
    if l.kind == LinkKind::Veth {
        // iproute2 and busybox print a veth as `name@peer`.
        m.attr(IFLA_LINK, &peer.unwrap_or(0).to_le_bytes());
        let info = m.open_nest(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"veth");
        m.close_nest(info);
    }
    m.end();
}

/// The `RTM_NEWLINK` messages of every link, then `NLMSG_DONE`.
pub fn dump_links(stack: &NetStack, seq: u32, port: u32) -> Result<Vec<u8>, Errno> {
    let mut m = Out::default();
    stack.with(|g| {
        for l in g.links() {
            let peer = g.veth_peer(l.index).map(|(_, i)| i);
            link_msg(&mut m, l, peer, NLM_F_MULTI, (seq, port));
        }
    });
    m.done(seq, port);
    m.finish()
}

/// The link a request names: by `ifi_index` when not 0, else by `IFLA_IFNAME`.
fn find(stack: &NetStack, index: i32, a: Attrs) -> Result<Option<(u32, LinkKind)>, Errno> {
    let name = a.str(IFLA_IFNAME, NAME_MAX)?;
    Ok(stack.with(|g| {
        let l = if index > 0 {
            g.link_by_index(index as u32)
        } else {
            name.and_then(|n| g.link(n))
        };
        l.map(|l| (l.index, l.kind))
    }))
}

fn index_of(ifi: &[u8]) -> i32 {
    u32_at(ifi, 4) as i32
}

/// `RTM_GETLINK`: a dump, or the one link named (`ENODEV`).
pub fn get(cx: &Ctx) -> Result<Vec<u8>, Errno> {
    if cx.dump() {
        return dump_links(cx.stack, cx.seq, cx.port);
    }
    let (ifi, a) = cx.split(IFINFO_LEN)?;
    let (index, _) = find(cx.stack, index_of(ifi), a)?.ok_or(Errno::ENODEV)?;
    let mut m = Out::default();
    cx.stack.with(|g| {
        if let Some(l) = g.link_by_index(index) {
            let peer = g.veth_peer(index).map(|(_, i)| i);
            link_msg(&mut m, l, peer, 0, (cx.seq, cx.port));
        }
    });
    m.finish()
}

/// The net container `IFLA_NET_NS_PID` or `IFLA_NET_NS_FD` in `a` names, if any; the
/// caller needs CAP_NET_ADMIN over it too (`EPERM`).
fn target_net(a: Attrs) -> Result<Option<Arc<NetContainer>>, Errno> {
    let net = if let Some(pid) = a.u32(IFLA_NET_NS_PID)? {
        crate::net::env::net_of_pid(pid as i32)?
    } else if let Some(fd) = a.u32(IFLA_NET_NS_FD)? {
        crate::net::env::net_of_fd(fd as i32)?
    } else {
        return Ok(None);
    };
    admin(&net)?;
    Ok(Some(net))
}

/// The changes `ifi` and `a` ask for (`rename`: whether `IFLA_IFNAME` is a new name).
fn changes<'a>(ifi: &[u8], a: Attrs<'a>, rename: bool) -> Result<LinkChange<'a>, Errno> {
    let flags = u32_at(ifi, 8);
    let change = u32_at(ifi, 12);
    let hwaddr = match a.get(IFLA_ADDRESS) {
        None => None,
        Some(d) if d.len() >= 6 => Some([d[0], d[1], d[2], d[3], d[4], d[5]]),
        Some(_) => return Err(Errno::EINVAL),
    };
    Ok(LinkChange {
        name: if rename {
            a.str(IFLA_IFNAME, NAME_MAX)?
        } else {
            None
        },
        mtu: a.u32(IFLA_MTU)?,
        hwaddr,
        flags: (flags != 0 || change != 0).then_some((flags, change)),
    })
}

/// Linux's `do_setlink` on link `index` of the socket's stack: first the move to
/// another container, then the rest there.
fn setlink(cx: &Ctx, index: u32, ifi: &[u8], a: Attrs, rename: bool) -> Result<(), Errno> {
    let c = changes(ifi, a, rename)?;
    let target = target_net(a)?;
    if let Some(net) = &target
        && !Arc::ptr_eq(net.stack(), cx.stack)
    {
        room(net.stack(), 1)?;
    }
    let (stack, index) = match &target {
        Some(net) => (net.stack(), cx.stack.move_link(index, net.stack())?),
        None => (cx.stack, index),
    };
    stack.with(|g| g.change_link(index, &c))
}

/// `ENOSPC` when `n` more links would take `stack` past [`LINKS_MAX`].
fn room(stack: &NetStack, n: usize) -> Result<(), Errno> {
    if stack.with(|g| g.links().len()) + n > LINKS_MAX {
        return Err(Errno::ENOSPC);
    }
    Ok(())
}

/// `RTM_SETLINK`: the link named (`ENODEV`) changes.
pub fn set(cx: &Ctx) -> Result<(), Errno> {
    let (ifi, a) = cx.split(IFINFO_LEN)?;
    let by_index = index_of(ifi) > 0;
    let (index, _) = find(cx.stack, index_of(ifi), a)?.ok_or(Errno::ENODEV)?;
    setlink(cx, index, ifi, a, by_index)
}

/// The kind `IFLA_LINKINFO` names, and its `IFLA_INFO_DATA`.
fn link_info(a: Attrs<'_>) -> Result<(Option<&str>, Option<Attrs<'_>>), Errno> {
    let Some(info) = a.get(IFLA_LINKINFO) else {
        return Ok((None, None));
    };
    let info = Attrs::parse(info)?;
    let data = info.get(IFLA_INFO_DATA).map(Attrs::parse).transpose()?;
    Ok((info.str(IFLA_INFO_KIND, 64)?, data))
}

/// `RTM_NEWLINK`: a link that exists changes (`EEXIST` with `NLM_F_EXCL`); otherwise,
/// with `NLM_F_CREATE` (else `ENODEV`), kind "veth" makes a pair and any other kind
/// (or none) is `EOPNOTSUPP`.
pub fn new(cx: &Ctx) -> Result<(), Errno> {
    let (ifi, a) = cx.split(IFINFO_LEN)?;
    let (kind, data) = link_info(a)?;
    if let Some((index, lk)) = find(cx.stack, index_of(ifi), a)? {
        if cx.flags & NLM_F_EXCL != 0 {
            return Err(Errno::EEXIST);
        }
        if cx.flags & NLM_F_REPLACE != 0
            || kind.is_some_and(|k| k != "veth" || lk != LinkKind::Veth)
        {
            return Err(Errno::EOPNOTSUPP);
        }
        return setlink(cx, index, ifi, a, index_of(ifi) > 0);
    }
    if cx.flags & NLM_F_CREATE == 0 {
        return Err(Errno::ENODEV);
    }
    match kind {
        Some("veth") => new_veth(cx, ifi, a, data),
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// A veth pair: this end (`ifi`, `a`) in `IFLA_NET_NS_*`'s container or the socket's,
/// the peer (`VETH_INFO_PEER`: an `ifinfomsg` and attributes) in its own `IFLA_NET_NS_*`
/// container or the socket's; names default to `veth%d`; both made down unless
/// `ifi_flags` say up, as Linux's `veth_newlink`.
fn new_veth(cx: &Ctx, ifi: &[u8], a: Attrs, data: Option<Attrs>) -> Result<(), Errno> {
    let (pifi, pa): (&[u8], Attrs) = match data.and_then(|d| d.get(VETH_INFO_PEER)) {
        Some(p) if p.len() < IFINFO_LEN => return Err(Errno::EINVAL),
        Some(p) => (&p[..IFINFO_LEN], Attrs::parse(&p[IFINFO_LEN..])?),
        None => (&[0; IFINFO_LEN], Attrs(&[])),
    };
    let here = changes(ifi, a, false)?;
    let there = changes(pifi, pa, false)?;
    let net = target_net(a)?;
    let peer_net = target_net(pa)?;
    let stack = net.as_ref().map_or(cx.stack, |n| n.stack());
    let peer_stack = peer_net.as_ref().map_or(cx.stack, |n| n.stack());
    if Arc::ptr_eq(stack, peer_stack) {
        room(stack, 2)?;
    } else {
        room(stack, 1)?;
        room(peer_stack, 1)?;
    }
    let (ia, ib) = NetStack::new_veth_pair(
        VethEnd {
            stack,
            name: a.str(IFLA_IFNAME, NAME_MAX)?,
            index: index_of(ifi).max(0) as u32,
        },
        VethEnd {
            stack: peer_stack,
            name: pa.str(IFLA_IFNAME, NAME_MAX)?,
            index: index_of(pifi).max(0) as u32,
        },
        IFF_BROADCAST | IFF_MULTICAST,
    )?;
    // Each end is charged in its stack (`ENOMEM` over the group's limit: the pair goes).
    let r = stack
        .with(|g| g.count_link(ia))
        .and_then(|_| peer_stack.with(|g| g.count_link(ib)))
        .and_then(|_| stack.with(|g| g.change_link(ia, &here)))
        .and_then(|_| peer_stack.with(|g| g.change_link(ib, &there)));
    if r.is_err() {
        let _ = stack.remove_link(ia);
    }
    r
}

/// `RTM_DELLINK`: a veth goes with its peer (`ENODEV` for none, `EOPNOTSUPP` for `lo`
/// and `eth0`).
pub fn del(cx: &Ctx) -> Result<(), Errno> {
    let (ifi, a) = cx.split(IFINFO_LEN)?;
    let (index, kind) = find(cx.stack, index_of(ifi), a)?.ok_or(Errno::ENODEV)?;
    if kind != LinkKind::Veth {
        return Err(Errno::EOPNOTSUPP);
    }
    cx.stack.remove_link(index)
}
