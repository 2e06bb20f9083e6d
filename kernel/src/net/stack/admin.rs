//! Changing a stack's links as rtnetlink asks (`net/netlink/link.rs`): renaming, the MTU,
//! the hardware address and `IFF_UP` of a link, veth pairs made by name between any two
//! stacks, and moving a veth end into another container's stack. Each step holds one
//! stack's lock at a time, as the rest of the stack does.

use super::{
    ETH_MTU, IFF_RUNNING, IFF_UP, LOOPBACK_MTU, Link, LinkKind, LinkStats, NetStack, StackInner,
    names, new_mac,
};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address};

/// Interface names are at most 15 bytes (`IFNAMSIZ` less the NUL).
const NAME_MAX: usize = 15;
/// The smallest MTU a link takes (IPv4's 68).
const MIN_MTU: usize = 68;

/// One end of a new veth pair: its stack and its name (`None`: `veth%d`; a `%d` in it
/// takes the lowest free number).
pub struct VethEnd<'a> {
    pub stack: &'a Arc<NetStack>,
    pub name: Option<&'a str>,
    /// The index asked for (used when free there; 0: the next one).
    pub index: u32,
}

/// Where [`StackInner::lookup_v4`] sends a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Local,
    Via {
        ifindex: u32,
        gateway: Option<Ipv4Address>,
        src: Option<Ipv4Address>,
    },
}

/// What `RTM_SETLINK` (or `RTM_NEWLINK` on a link that exists) changes.
#[derive(Default)]
pub struct LinkChange<'a> {
    pub name: Option<&'a str>,
    pub mtu: Option<u32>,
    pub hwaddr: Option<[u8; 6]>,
    /// `ifi_flags` and `ifi_change` (0 there: every flag), of which `IFF_UP` counts.
    pub flags: Option<(u32, u32)>,
}

/// Linux's `dev_valid_name`: 1 to 15 bytes, not `.` or `..`, no `/`, `:` or white space.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

impl StackInner {
    /// The name `template` gives here: itself when free (`EEXIST` when not), or with its
    /// one `%d` replaced by the lowest free number (`ENFILE` past 1,000,000, as Linux;
    /// `veth%d` from the stack's bitmap of those numbers, the others by trying each).
    fn resolve_name(&mut self, template: &str) -> Result<String, Errno> {
        if !valid_name(template) {
            return Err(Errno::EINVAL);
        }
        let Some(at) = template.find('%') else {
            if self.link(template).is_some() {
                return Err(Errno::EEXIST);
            }
            let mut s = String::new();
            s.try_reserve(template.len()).map_err(|_| Errno::ENOMEM)?;
            s.push_str(template);
            return Ok(s);
        };
        let (head, tail) = (&template[..at], &template[at..]);
        if !tail.starts_with("%d") || tail[2..].contains('%') {
            return Err(Errno::EINVAL);
        }
        if head == names::PREFIX && tail.len() == 2 {
            let n = self.veth_numbers.lowest_free(&self.dev.links)?;
            let mut s = String::new();
            s.try_reserve(NAME_MAX).map_err(|_| Errno::ENOMEM)?;
            let _ = write!(s, "{head}{n}");
            return Ok(s);
        }
        for n in 0..1_000_000u32 {
            let name = alloc::format!("{head}{n}{}", &tail[2..]);
            if name.len() > NAME_MAX {
                return Err(Errno::EINVAL);
            }
            if self.link(&name).is_none() {
                return Ok(name);
            }
        }
        Err(Errno::ENFILE)
    }

    /// Index `want` when that is free here, else the next one.
    fn index_for(&self, want: Option<u32>) -> u32 {
        match want {
            Some(i) if i != 0 && self.link_by_index(i).is_none() => i,
            _ => self.next_index(),
        }
    }

    /// Adds `link` under index `want` when that is free here, else the next one.
    fn insert_at(&mut self, mut link: Link, want: Option<u32>) -> Result<u32, Errno> {
        link.index = self.index_for(want);
        let index = link.index;
        self.add_link(link)?;
        Ok(index)
    }

    /// Applies `c` to link `index` (`ENODEV`): a new name (`EBUSY` while up, `EEXIST`
    /// when taken, `EINVAL` when not a valid one), an MTU within the link's bounds (`EINVAL`), the hardware
    /// address of a veth (`EOPNOTSUPP` for others), `IFF_UP`. Checked first, then
    /// applied, so a refused change changes nothing.
    pub fn change_link(&mut self, index: u32, c: &LinkChange) -> Result<(), Errno> {
        let l = self.link_by_index(index).ok_or(Errno::ENODEV)?;
        let kind = l.kind;
        let mut rename = None;
        if let Some(name) = c.name
            && name != l.name
        {
            if name.contains('%') {
                return Err(Errno::EINVAL);
            }
            // Linux renames only a link that is down.
            if l.is_up() {
                return Err(Errno::EBUSY);
            }
            rename = Some(self.resolve_name(name)?);
        }
        if let Some(mtu) = c.mtu {
            let max = if kind == LinkKind::Nic {
                ETH_MTU
            } else {
                LOOPBACK_MTU
            };
            if (mtu as usize) < MIN_MTU || mtu as usize > max {
                return Err(Errno::EINVAL);
            }
        }
        if c.hwaddr.is_some() && kind != LinkKind::Veth {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(name) = rename {
            self.veth_numbers.taken(&name);
            let old = core::mem::replace(&mut self.link_mut(index)?.name, name);
            self.veth_numbers.freed(&old);
        }
        let l = self.link_mut(index)?;
        if let Some(mtu) = c.mtu {
            l.mtu = mtu as usize;
        }
        if let Some(mac) = c.hwaddr {
            l.hwaddr = mac;
        }
        if let Some((flags, change)) = c.flags {
            let change = if change == 0 { u32::MAX } else { change };
            let new = (l.flags & !change) | (flags & change);
            return self.set_flags(index, new);
        }
        Ok(())
    }

    /// Where an IPv4 packet to `dst` goes (`RTM_GETROUTE` without a dump): a local
    /// address (`Local`), or the link, the gateway if the route has one, and the source
    /// address. `None`: unreachable.
    pub fn lookup_v4(&self, dst: Ipv4Address) -> Option<Lookup> {
        if self.is_local(IpAddress::Ipv4(dst)) {
            return Some(Lookup::Local);
        }
        let i = self.dev.route_v4(dst)?;
        let l = &self.dev.links[i];
        let connected = l
            .addrs
            .iter()
            .any(|c| matches!(c, IpCidr::Ipv4(_)) && c.contains_addr(&IpAddress::Ipv4(dst)));
        let gateway = if connected {
            None
        } else {
            self.dev
                .routes
                .iter()
                .filter(|r| r.ifindex == l.index && super::v4_in(dst, r.dst, r.prefix))
                .max_by_key(|r| r.prefix)
                .and_then(|r| r.gateway)
        };
        // The source: the link's address on the next hop's prefix, else its first (as
        // Linux's `inet_select_addr`).
        let hop = IpAddress::Ipv4(gateway.unwrap_or(dst));
        let src = l
            .addrs
            .iter()
            .find_map(|c| match c {
                IpCidr::Ipv4(v4) if c.contains_addr(&hop) => Some(v4.address()),
                _ => None,
            })
            .or(l.ipv4().map(|(a, _)| a));
        Some(Lookup::Via {
            ifindex: l.index,
            gateway,
            src,
        })
    }

    /// The other end of veth `index`: its stack and its index there.
    pub fn veth_peer(&self, index: u32) -> Option<(Arc<NetStack>, u32)> {
        let (w, i) = self.link_by_index(index)?.peer.as_ref()?;
        Some((w.upgrade()?, *i))
    }

    /// Charges one link more to the stack's maker's group (`ENOMEM` over its limit).
    fn reserve_link_charge(&mut self) -> Result<(), Errno> {
        self.links_kmem.grow(super::link_cost())
    }

    /// Gives one link's charge back.
    pub(super) fn release_link_charge(&mut self) {
        let left = self.links_kmem.bytes().saturating_sub(super::link_cost());
        let _ = self.links_kmem.resize(left);
    }

    /// Link `index` (made by `RTM_NEWLINK`) is charged from now on, until it leaves
    /// this stack: `ENOMEM` over the group's limit (`ENODEV`: no such link).
    pub fn count_link(&mut self, index: u32) -> Result<(), Errno> {
        if self.link_by_index(index).ok_or(Errno::ENODEV)?.counted {
            return Ok(());
        }
        self.reserve_link_charge()?;
        self.link_mut(index)?.counted = true;
        Ok(())
    }

    /// Points veth `index`'s peer record at `stack`'s link `peer_index`.
    fn set_peer(&mut self, index: u32, stack: &Arc<NetStack>, peer_index: u32) {
        if let Ok(l) = self.link_mut(index) {
            l.peer = Some((Arc::downgrade(stack), peer_index));
        }
    }
}

fn veth_link(flags: u32) -> Link {
    Link {
        index: 0,
        name: String::new(),
        kind: LinkKind::Veth,
        flags,
        mtu: ETH_MTU,
        hwaddr: new_mac(),
        addrs: Vec::new(),
        stats: LinkStats::default(),
        peer: None,
        counted: false,
    }
}

impl NetStack {
    /// A veth pair with ends `a` and `b` (possibly in one stack) and `flags` on both;
    /// their indices. A name that is taken or invalid (`EEXIST`, `EINVAL`) makes nothing.
    pub fn new_veth_pair(a: VethEnd, b: VethEnd, flags: u32) -> Result<(u32, u32), Errno> {
        let new = |end: &VethEnd| {
            end.stack.with(|g| {
                let mut link = veth_link(flags);
                link.name = g.resolve_name(end.name.unwrap_or("veth%d"))?;
                g.insert_at(link, Some(end.index))
            })
        };
        let ia = new(&a)?;
        let ib = match new(&b) {
            Ok(i) => i,
            Err(e) => {
                a.stack.with(|g| g.remove_link(ia));
                return Err(e);
            }
        };
        b.stack.with(|g| g.set_peer(ib, a.stack, ia));
        a.stack.with(|g| g.set_peer(ia, b.stack, ib));
        Ok((ia, ib))
    }

    /// Moves veth `index` into `to` (`IFLA_NET_NS_PID`/`_FD`), as Linux does: down,
    /// without addresses, the routes through it gone, under the same index when that is
    /// free there. `lo` and `eth0` stay (`EINVAL`); a name taken there: `EEXIST`, nothing
    /// moved. Returns its index in `to`.
    pub fn move_link(self: &Arc<Self>, index: u32, to: &Arc<NetStack>) -> Result<u32, Errno> {
        let kind = self.with(|g| g.link_by_index(index).map(|l| l.kind));
        match kind {
            None => return Err(Errno::ENODEV),
            Some(LinkKind::Veth) => {}
            Some(_) => return Err(Errno::EINVAL),
        }
        if Arc::ptr_eq(self, to) {
            return Ok(index);
        }
        let mut link = self.with(|g| g.remove_link(index)).ok_or(Errno::ENODEV)?;
        link.flags &= !(IFF_UP | IFF_RUNNING);
        link.addrs.clear();
        let peer = link.peer.clone();
        let name = link.name.clone();
        let mut slot = Some(link);
        let moved = to.with(|g| {
            if g.link(&name).is_some() {
                return Err(Errno::EEXIST);
            }
            g.dev.links.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            if slot.as_ref().is_some_and(|l| l.counted) {
                g.reserve_link_charge()?;
            }
            let mut link = slot.take().ok_or(Errno::ENODEV)?;
            link.index = g.index_for(Some(index));
            let i = link.index;
            // Room reserved above: this cannot fail.
            let _ = g.add_link(link);
            Ok(i)
        });
        let new = match moved {
            Ok(i) => i,
            Err(e) => {
                // Back where it was (under its index unless that was taken meanwhile).
                if let Some(mut link) = slot {
                    let _ = self.with(|g| {
                        // Its charge went with it: taken again (the same bytes, in the
                        // same group), else it stays uncounted.
                        link.counted = link.counted && g.reserve_link_charge().is_ok();
                        g.insert_at(link, Some(index))
                    });
                }
                return Err(e);
            }
        };
        if let Some((w, pi)) = peer
            && let Some(p) = w.upgrade()
        {
            p.with(|g| g.set_peer(pi, to, new));
        }
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_links_are_charged_in_their_stack_until_they_go() {
        assert!(size_of::<Link>() <= 128, "a link in the 128-byte class");
        let s = NetStack::new().expect("stack");
        let end = |name| VethEnd {
            stack: &s,
            name: Some(name),
            index: 0,
        };
        let (a, b) = NetStack::new_veth_pair(end("c1"), end("c2"), 0).expect("pair");
        let charged = || s.with(|g| g.links_kmem.bytes());
        assert_eq!(charged(), 0, "a pair is charged only when counted");
        s.with(|g| g.count_link(a)).expect("count a");
        s.with(|g| g.count_link(b)).expect("count b");
        s.with(|g| g.count_link(b)).expect("counted once");
        assert_eq!(charged(), 2 * super::super::link_cost());
        s.remove_link(a).expect("delete the pair");
        assert_eq!(charged(), 0, "both ends gave theirs back");
        assert_eq!(s.with(|g| g.count_link(a)), Err(Errno::ENODEV));
    }

    #[test]
    fn a_named_pair_in_one_stack_takes_free_names_and_goes_with_either_end() {
        let s = NetStack::new().expect("stack");
        let end = |name| VethEnd {
            stack: &s,
            name: Some(name),
            index: 0,
        };
        let (a, b) = NetStack::new_veth_pair(end("v1"), end("v2"), 0).expect("pair");
        assert_eq!((a, b), (2, 3));
        assert_eq!(
            NetStack::new_veth_pair(end("v1"), end("v3"), 0),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            NetStack::new_veth_pair(end("x"), end("v2"), 0),
            Err(Errno::EEXIST)
        );
        assert!(
            s.with(|g| g.link("x").is_none()),
            "a refused pair leaves nothing"
        );
        assert_eq!(
            NetStack::new_veth_pair(end("a/b"), end("c"), 0),
            Err(Errno::EINVAL)
        );
        let (c, _) = NetStack::new_veth_pair(end("t%d"), end("t%d"), 0).expect("templates");
        s.with(|g| {
            assert_eq!(g.link_by_index(c).map(|l| l.name.as_str()), Some("t0"));
            assert!(g.link("t1").is_some());
            assert!(!g.link("v1").expect("v1").is_up(), "made down");
        });
        s.remove_link(b).expect("delete v2");
        s.with(|g| assert!(g.link("v1").is_none(), "v1 went with its peer"));
    }

    #[test]
    fn a_moved_end_is_down_without_addresses_and_still_reaches_its_peer() {
        let root = NetStack::new().expect("root");
        let child = NetStack::new().expect("child");
        let end = |name| VethEnd {
            stack: &root,
            name: Some(name),
            index: 0,
        };
        let (a, b) = NetStack::new_veth_pair(end("v1"), end("v2"), IFF_UP).expect("pair");
        root.with(|g| g.add_addr(b, IpCidr::new(IpAddress::v4(10, 1, 0, 2), 24)))
            .expect("address");
        let nb = root.move_link(b, &child).expect("move");
        assert_eq!(nb, b, "same index when free");
        child.with(|g| {
            let l = g.link("v2").expect("v2 moved");
            assert!(!l.is_up() && l.addrs.is_empty());
        });
        root.with(|g| {
            assert!(g.link("v2").is_none());
            let (p, i) = g.veth_peer(a).expect("peer");
            assert!(Arc::ptr_eq(&p, &child) && i == nb);
        });
        assert_eq!(root.move_link(1, &child), Err(Errno::EINVAL), "lo stays");
        assert_eq!(root.move_link(99, &child), Err(Errno::ENODEV));
        let (c, _) = NetStack::new_veth_pair(end("v2"), end("v3"), 0).expect("pair 2");
        assert_eq!(root.move_link(c, &child), Err(Errno::EEXIST));
        assert!(
            root.with(|g| g.link("v2").is_some()),
            "refused: back in root"
        );
        child.shut_down();
        assert!(
            root.with(|g| g.link("v1").is_none()),
            "peer gone with the child"
        );
    }

    #[test]
    fn link_changes_check_everything_before_changing_anything() {
        let s = NetStack::new().expect("stack");
        let end = |name| VethEnd {
            stack: &s,
            name: Some(name),
            index: 0,
        };
        let (a, _) = NetStack::new_veth_pair(end("v1"), end("v2"), 0).expect("pair");
        let bad = LinkChange {
            name: Some("v9"),
            mtu: Some(20),
            ..Default::default()
        };
        assert_eq!(s.with(|g| g.change_link(a, &bad)), Err(Errno::EINVAL));
        assert!(s.with(|g| g.link("v1").is_some()), "not renamed");
        let good = LinkChange {
            name: Some("v9"),
            mtu: Some(1400),
            flags: Some((IFF_UP, IFF_UP)),
            ..Default::default()
        };
        s.with(|g| g.change_link(a, &good)).expect("change");
        s.with(|g| {
            g.add_addr(a, IpCidr::new(IpAddress::v4(10, 1, 0, 1), 24))
                .expect("address");
            let r = super::super::Route {
                dst: Ipv4Address::UNSPECIFIED,
                prefix: 0,
                gateway: Some(Ipv4Address::new(10, 1, 0, 2)),
                ifindex: 0,
            };
            g.add_route(r).expect("route");
            g.set_flags(a, 0).expect("down");
            assert!(g.routes().is_empty(), "down flushes the routes through it");
            g.set_flags(a, IFF_UP).expect("up");
            g.add_route(r).expect("route again");
            g.del_addr(a, IpAddress::v4(10, 1, 0, 1)).expect("del");
            assert!(g.routes().is_empty(), "so does its last IPv4 address going");
        });
        s.with(|g| {
            let l = g.link("v9").expect("renamed");
            assert_eq!(l.mtu, 1400);
            assert!(l.is_up() && l.flags & IFF_RUNNING != 0);
        });
        let taken = LinkChange {
            name: Some("v2"),
            ..Default::default()
        };
        assert_eq!(
            s.with(|g| g.change_link(a, &taken)),
            Err(Errno::EBUSY),
            "up"
        );
        s.with(|g| g.set_flags(a, 0)).expect("down");
        assert_eq!(s.with(|g| g.change_link(a, &taken)), Err(Errno::EEXIST));
        assert_eq!(s.with(|g| g.change_link(77, &good)), Err(Errno::ENODEV));
    }
}
