//! One TCP/IP stack per net container: a smoltcp [`Interface`] (medium IP) over
//! [`Router`], the container's interfaces (`lo`, `veth*`, `eth0`) as the kernel models
//! them, its routes and its sockets. smoltcp sees one interface holding every address;
//! the router picks the link a packet leaves by (loopback to itself, a veth pair into
//! the peer stack's queue, the NIC), so each link is only a name, flags and addresses
//! here. Stacks never hold each other's lock: a packet for a peer goes into the peer's
//! receive queue (a leaf lock) and the peer is polled after ours is released.

use crate::errno::Errno;
use crate::fs::env;
use crate::plimits::Group;
use crate::plimits::kmem::Charge;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv6Address};
use spin::Mutex;

mod admin;
mod names;
mod pool;
pub use admin::{LinkChange, Lookup, VethEnd};

pub const IFF_UP: u32 = 0x1;
pub const IFF_BROADCAST: u32 = 0x2;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_RUNNING: u32 = 0x40;
pub const IFF_MULTICAST: u32 = 0x1000;
/// Flags a user may change with `SIOCSIFFLAGS` (the rest are the kernel's).
pub const IFF_SETTABLE: u32 = IFF_UP;

/// Packets waiting in one stack's receive queue at most (more are dropped, as a full
/// NIC ring drops them): a flood from a peer cannot use up the kernel heap.
const RXQ_MAX: usize = 1024;
/// The MTU of every link but the NIC (Linux's loopback has 65536).
pub const LOOPBACK_MTU: usize = 65535;
pub const ETH_MTU: usize = 1500;
/// Polls of one stack per [`NetStack::poll`] (each takes what the last one produced).
const POLL_ROUNDS: usize = 16;
/// Stacks one [`NetStack::poll`] polls at most (itself and those it sent packets to).
const POLL_STACKS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Loopback,
    Veth,
    /// The virtio-net NIC (root container only).
    Nic,
}

/// Packet and byte counts of a link (`/proc/net/dev`).
#[derive(Clone, Copy, Default, Debug)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_dropped: u64,
}

/// One interface of a container.
#[derive(Clone)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub kind: LinkKind,
    pub flags: u32,
    pub mtu: usize,
    pub hwaddr: [u8; 6],
    /// IPv4 and IPv6 addresses with their prefix lengths.
    pub addrs: Vec<IpCidr>,
    pub stats: LinkStats,
    /// The other end of a veth pair: its stack and its index there.
    peer: Option<(Weak<NetStack>, u32)>,
    /// Made by `RTM_NEWLINK`: its cost is charged in its stack's `links_kmem` while it
    /// is there (a container's own pair is charged with the container). A flag, not a
    /// `Charge`, keeps a link in 128 bytes.
    counted: bool,
}

impl Link {
    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    pub fn ipv4(&self) -> Option<(Ipv4Address, u8)> {
        self.addrs.iter().find_map(|c| match c {
            IpCidr::Ipv4(v4) => Some((v4.address(), v4.prefix_len())),
            #[allow(unreachable_patterns)]
            _ => None,
        })
    }
}

/// An IPv4 route (`/proc/net/route`, `SIOCADDRT`, `RTM_NEWROUTE`): a destination
/// prefix, an optional gateway, the link it leaves by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: Ipv4Address,
    pub prefix: u8,
    pub gateway: Option<Ipv4Address>,
    pub ifindex: u32,
}

fn v4_in(addr: Ipv4Address, net: Ipv4Address, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    (addr.to_bits() & mask) == (net.to_bits() & mask)
}

/// Packets handed to a stack (from its own loopback, a veth peer, the NIC): the link
/// index it arrived on and the IP packet.
type RxQueue = Mutex<VecDeque<(u32, Vec<u8>)>>;

/// Packet buffers kept for reuse (`pool.rs`).
type Pool = Mutex<pool::PacketPool>;

/// What the NIC driver offers a stack (implemented by `net::nic` on the target).
pub trait Nic: Send + Sync {
    /// Sends one IP packet (the driver adds the Ethernet header).
    fn send_ip(&self, packet: &[u8]) -> bool;
    fn mac(&self) -> [u8; 6];
    /// Hands every IP packet received since the last call to `deliver`.
    fn poll_rx(&self, deliver: &mut dyn FnMut(Vec<u8>));
}

/// The device smoltcp polls: it receives from the stack's queue and sends each packet
/// out of the link the routing table picks.
struct Router {
    rxq: Arc<RxQueue>,
    pool: Arc<Pool>,
    /// In index order; boxed, so removing one from the middle of thousands (the root
    /// container's veth ends) moves pointers, not links.
    #[allow(clippy::vec_box)]
    links: Vec<Box<Link>>,
    routes: Vec<Route>,
    nic: Option<Arc<dyn Nic>>,
    /// Peer stacks that got packets during this poll (polled after ours).
    kicked: Vec<Weak<NetStack>>,
    /// Whether our own queue got packets (loopback) during this poll.
    looped: bool,
    /// A TCP SYN arrived during this poll: a listener may have a new connection.
    syn_seen: bool,
}

/// Whether an IP packet is a TCP segment with SYN set (a connection being opened).
fn is_tcp_syn(p: &[u8]) -> bool {
    let tcp = match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 && p[9] == 6 => usize::from(p[0] & 0xf) * 4,
        Some(6) if p.len() >= 40 && p[6] == 6 => 40,
        _ => return false,
    };
    p.get(tcp + 13).is_some_and(|f| f & 0x02 != 0)
}

enum Out {
    Local,
    Link(usize),
    Drop,
}

impl Router {
    fn is_local_v4(&self, a: Ipv4Address) -> bool {
        a.octets()[0] == 127
            || self
                .links
                .iter()
                .any(|l| l.addrs.iter().any(|c| c.address() == IpAddress::Ipv4(a)))
    }

    fn is_local_v6(&self, a: Ipv6Address) -> bool {
        a.is_loopback()
            || self
                .links
                .iter()
                .any(|l| l.addrs.iter().any(|c| c.address() == IpAddress::Ipv6(a)))
    }

    /// The link for an IPv4 destination: connected prefixes first (longest), then routes.
    pub fn route_v4(&self, dst: Ipv4Address) -> Option<usize> {
        let mut best: Option<(u8, usize)> = None;
        for (i, l) in self.links.iter().enumerate() {
            if !l.is_up() || l.kind == LinkKind::Loopback {
                continue;
            }
            for c in &l.addrs {
                if let IpCidr::Ipv4(v4) = c
                    && v4_in(dst, v4.address(), v4.prefix_len())
                    && best.is_none_or(|(bp, _)| v4.prefix_len() > bp)
                {
                    best = Some((v4.prefix_len(), i));
                }
            }
        }
        if best.is_none() {
            for r in &self.routes {
                if v4_in(dst, r.dst, r.prefix)
                    && best.is_none_or(|(bp, _)| r.prefix > bp)
                    && let Some(i) = self.links.iter().position(|l| l.index == r.ifindex)
                    && self.links[i].is_up()
                {
                    best = Some((r.prefix, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn out_for(&self, packet: &[u8]) -> Out {
        match packet.first().map(|b| b >> 4) {
            Some(4) if packet.len() >= 20 => {
                let dst = Ipv4Address::new(packet[16], packet[17], packet[18], packet[19]);
                if self.is_local_v4(dst) {
                    Out::Local
                } else {
                    self.route_v4(dst).map_or(Out::Drop, Out::Link)
                }
            }
            Some(6) if packet.len() >= 40 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(&packet[24..40]);
                let dst = Ipv6Address::from(b);
                if self.is_local_v6(dst) {
                    Out::Local
                } else {
                    // Only on-link IPv6 on a veth: the first up veth with an IPv6 address
                    // in the destination's prefix.
                    self.links
                        .iter()
                        .position(|l| {
                            l.is_up()
                                && l.kind != LinkKind::Loopback
                                && l.addrs.iter().any(|c| {
                                    matches!(c, IpCidr::Ipv6(_))
                                        && c.contains_addr(&IpAddress::Ipv6(dst))
                                })
                        })
                        .map_or(Out::Drop, Out::Link)
                }
            }
            _ => Out::Drop,
        }
    }

    fn transmit_packet(&mut self, packet: Vec<u8>) {
        let len = packet.len() as u64;
        match self.out_for(&packet) {
            Out::Local => {
                let lo = self.links.iter_mut().find(|l| l.kind == LinkKind::Loopback);
                let Some(lo) = lo.filter(|l| l.is_up()) else {
                    return;
                };
                lo.stats.tx_packets += 1;
                lo.stats.tx_bytes += len;
                let index = lo.index;
                let mut q = self.rxq.lock();
                if q.len() < RXQ_MAX {
                    q.push_back((index, packet));
                    self.looped = true;
                }
            }
            Out::Link(i) => {
                let link = &mut self.links[i];
                match link.kind {
                    LinkKind::Veth => {
                        let delivered = link.peer.as_ref().and_then(|(w, idx)| {
                            let peer = w.upgrade()?;
                            let mut q = peer.rxq.lock();
                            (q.len() < RXQ_MAX).then(|| q.push_back((*idx, packet)))?;
                            drop(q);
                            Some(Arc::downgrade(&peer))
                        });
                        match delivered {
                            Some(w) => {
                                link.stats.tx_packets += 1;
                                link.stats.tx_bytes += len;
                                if !self.kicked.iter().any(|k| k.ptr_eq(&w)) {
                                    self.kicked.push(w);
                                }
                            }
                            None => link.stats.tx_dropped += 1,
                        }
                    }
                    LinkKind::Nic => {
                        if self.nic.as_ref().is_some_and(|n| n.send_ip(&packet)) {
                            link.stats.tx_packets += 1;
                            link.stats.tx_bytes += len;
                        } else {
                            link.stats.tx_dropped += 1;
                        }
                    }
                    LinkKind::Loopback => {}
                }
            }
            Out::Drop => {}
        }
    }
}

struct RxToken(Vec<u8>, Arc<Pool>);
struct TxToken<'a>(&'a mut Router);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.0);
        self.1.lock().put(self.0);
        r
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let Some(mut buf) = self.0.pool.lock().take(len) else {
            // No memory: the packet is lost (TCP sends it again), as a full ring loses it.
            let mut scratch = [0u8; 128];
            let n = len.min(scratch.len());
            return f(&mut scratch[..n]);
        };
        let r = f(&mut buf);
        self.0.transmit_packet(buf);
        r
    }
}

impl Device for Router {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _t: Instant) -> Option<(RxToken, TxToken<'_>)> {
        loop {
            let (index, packet) = self.rxq.lock().pop_front()?;
            // A packet arriving on a link that is down (or gone) is dropped.
            if let Some(l) = self.links.iter_mut().find(|l| l.index == index)
                && l.is_up()
            {
                l.stats.rx_packets += 1;
                l.stats.rx_bytes += packet.len() as u64;
                self.syn_seen |= is_tcp_syn(&packet);
                let pool = self.pool.clone();
                return Some((RxToken(packet, pool), TxToken(self)));
            }
        }
    }

    fn transmit(&mut self, _t: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = LOOPBACK_MTU;
        // Loopback and veth packets never leave the machine: no checksums. The NIC path
        // fills them in (`nic::EtherGlue::send`); TCP's MSS option keeps segments to the
        // outside within its MTU.
        caps.checksum = ChecksumCapabilities::ignored();
        caps
    }
}

/// The state behind a stack's lock.
pub struct StackInner {
    iface: Interface,
    dev: Router,
    pub sockets: SocketSet<'static>,
    /// TCP sockets closed by their owner, finishing their close here; removed once
    /// smoltcp is done with them.
    orphans: Vec<SocketHandle>,
    /// The budget bytes each socket's buffers took.
    charged: Vec<(SocketHandle, SockBytes)>,
    /// Bound ports of the sockets of this stack (`bind`, ephemeral ports).
    pub ports: super::ports::PortTable,
    /// The numbers of the `veth<N>` links (the lowest free one for `veth%d`).
    veth_numbers: names::VethNumbers,
    /// The links made by `RTM_NEWLINK` here, charged to the stack's maker's group (as
    /// the stack): [`link_cost`] each.
    links_kmem: Charge,
}

impl StackInner {
    pub fn iface(&mut self) -> &mut Interface {
        &mut self.iface
    }

    /// smoltcp's context (for `connect`) and the socket set at once.
    pub fn cx_and_sockets(&mut self) -> (&mut smoltcp::iface::Context, &mut SocketSet<'static>) {
        (self.iface.context(), &mut self.sockets)
    }

    /// Hands a closed TCP socket to the stack: it finishes its FIN exchange and is
    /// removed when closed (or at once when it has nothing left to do).
    pub fn orphan(&mut self, h: SocketHandle) {
        if self.orphans.try_reserve(1).is_err() {
            self.sockets.get_mut::<tcp::Socket>(h).abort();
            self.remove_socket(h);
            return;
        }
        let s = self.sockets.get_mut::<tcp::Socket>(h);
        s.close();
        // A peer that never answers cannot keep it for ever.
        s.set_timeout(Some(smoltcp::time::Duration::from_secs(30)));
        self.orphans.push(h);
        self.reap();
    }

    /// Removes orphans smoltcp is done with (closed, or waiting out TIME-WAIT).
    fn reap(&mut self) {
        let mut i = 0;
        while i < self.orphans.len() {
            let h = self.orphans[i];
            let st = self.sockets.get::<tcp::Socket>(h).state();
            if matches!(st, tcp::State::Closed | tcp::State::TimeWait) {
                self.orphans.swap_remove(i);
                self.remove_socket(h);
            } else {
                i += 1;
            }
        }
    }

    /// Adds a socket whose buffers took `bytes` ([`charge`]), held until it is removed,
    /// with its slot in smoltcp's socket set (a doubling vector: two slots' room) taken
    /// too: `ENOBUFS` past the group's limit or the budget, or when the list of charges
    /// cannot grow, and nothing added.
    pub fn add_socket<T: smoltcp::socket::AnySocket<'static>>(
        &mut self,
        s: T,
        mut bytes: SockBytes,
    ) -> Result<SocketHandle, Errno> {
        bytes.grow(socket_slot_cost())?;
        self.charged.try_reserve(1).map_err(|_| Errno::ENOBUFS)?;
        let h = self.sockets.add(s);
        self.charged.push((h, bytes));
        Ok(h)
    }

    /// Removes a socket and gives its bytes back to the budget.
    pub fn remove_socket(&mut self, h: SocketHandle) {
        self.sockets.remove(h);
        if let Some(i) = self.charged.iter().position(|(x, _)| *x == h) {
            self.charged.swap_remove(i);
        }
    }

    /// Sockets alive in smoltcp (owned and orphans).
    pub fn socket_count(&self) -> usize {
        self.sockets.iter().count()
    }

    pub fn links(&self) -> &[Box<Link>] {
        &self.dev.links
    }

    pub fn link(&self, name: &str) -> Option<&Link> {
        self.dev.links.iter().find(|l| l.name == name).map(|l| &**l)
    }

    /// (The links are kept in index order: a lookup by index is a binary search.)
    pub fn link_by_index(&self, index: u32) -> Option<&Link> {
        let i = self.position(index)?;
        self.dev.links.get(i).map(|l| &**l)
    }

    fn position(&self, index: u32) -> Option<usize> {
        self.dev
            .links
            .binary_search_by_key(&index, |l| l.index)
            .ok()
    }

    pub fn routes(&self) -> &[Route] {
        &self.dev.routes
    }

    /// Whether `a` is an address of this stack (a bind to it is allowed).
    pub fn is_local(&self, a: IpAddress) -> bool {
        match a {
            IpAddress::Ipv4(v4) => self.dev.is_local_v4(v4),
            IpAddress::Ipv6(v6) => self.dev.is_local_v6(v6),
        }
    }

    /// Whether a packet to `a` has a way out (a connected prefix or a route).
    pub fn has_route(&self, a: IpAddress) -> bool {
        match a {
            IpAddress::Ipv4(v4) => self.dev.route_v4(v4).is_some(),
            IpAddress::Ipv6(_) => self.dev.links.iter().any(|l| {
                l.is_up()
                    && l.kind != LinkKind::Loopback
                    && l.addrs.iter().any(|c| c.contains_addr(&a))
            }),
        }
    }

    /// Hands smoltcp every address of every up link (it owns them as one interface),
    /// and the routes' gateways as its default routes.
    fn sync(&mut self) {
        let addrs: Vec<IpCidr> = self
            .dev
            .links
            .iter()
            .filter(|l| l.is_up())
            .flat_map(|l| l.addrs.iter().copied())
            .collect();
        self.iface.update_ip_addrs(|a| {
            a.clear();
            for c in addrs {
                if a.push(c).is_err() {
                    break;
                }
            }
        });
        let gw = self
            .dev
            .routes
            .iter()
            .find(|r| r.prefix == 0)
            .and_then(|r| r.gateway);
        let routes = self.iface.routes_mut();
        routes.remove_default_ipv4_route();
        if let Some(g) = gw {
            let _ = routes.add_default_ipv4_route(g);
        }
    }

    fn link_mut(&mut self, index: u32) -> Result<&mut Link, Errno> {
        let i = self.position(index).ok_or(Errno::ENODEV)?;
        self.dev
            .links
            .get_mut(i)
            .map(|l| &mut **l)
            .ok_or(Errno::ENODEV)
    }

    /// `SIOCSIFFLAGS`: only `IFF_UP` changes. A link going down loses the routes
    /// through it, as Linux flushes them.
    pub fn set_flags(&mut self, index: u32, flags: u32) -> Result<(), Errno> {
        let l = self.link_mut(index)?;
        l.flags = (l.flags & !IFF_SETTABLE) | (flags & IFF_SETTABLE);
        if l.is_up() {
            l.flags |= IFF_RUNNING;
        } else {
            l.flags &= !IFF_RUNNING;
            self.dev.routes.retain(|r| r.ifindex != index);
        }
        self.sync();
        Ok(())
    }

    /// Sets (replacing) the IPv4 address and prefix of a link; `prefix` None keeps the
    /// old one (or the class default, as `SIOCSIFADDR` does). The connected route and
    /// those through it follow.
    pub fn set_ipv4(
        &mut self,
        index: u32,
        addr: Ipv4Address,
        prefix: Option<u8>,
    ) -> Result<(), Errno> {
        if !IpAddress::Ipv4(addr).is_unicast() && !addr.is_unspecified() {
            return Err(Errno::EINVAL);
        }
        let l = self.link_mut(index)?;
        let old = l.ipv4();
        let prefix = prefix
            .or(old.map(|(_, p)| p))
            .unwrap_or(match addr.octets()[0] {
                0..=127 => 8,
                128..=191 => 16,
                _ => 24,
            });
        if prefix > 32 {
            return Err(Errno::EINVAL);
        }
        l.addrs.retain(|c| !matches!(c, IpCidr::Ipv4(_)));
        if !addr.is_unspecified() {
            l.addrs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            l.addrs
                .insert(0, IpCidr::new(IpAddress::Ipv4(addr), prefix));
        }
        self.sync();
        Ok(())
    }

    /// Adds an address (rtnetlink `RTM_NEWADDR`) after the link's others (the first IPv4
    /// one stays the primary `SIOCGIFADDR` shows): `EEXIST` when the link has it,
    /// `ENOSPC` past the addresses smoltcp holds.
    pub fn add_addr(&mut self, index: u32, cidr: IpCidr) -> Result<(), Errno> {
        let (unicast, max) = match cidr {
            IpCidr::Ipv4(v4) => (IpAddress::Ipv4(v4.address()).is_unicast(), 32),
            IpCidr::Ipv6(v6) => (IpAddress::Ipv6(v6.address()).is_unicast(), 128),
        };
        if !unicast || cidr.prefix_len() > max {
            return Err(Errno::EINVAL);
        }
        let total: usize = self.dev.links.iter().map(|l| l.addrs.len()).sum();
        let l = self.link_mut(index)?;
        if l.addrs.iter().any(|c| c.address() == cidr.address()) {
            return Err(Errno::EEXIST);
        }
        if total >= 8 {
            return Err(Errno::ENOSPC);
        }
        l.addrs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        l.addrs.push(cidr);
        self.sync();
        Ok(())
    }

    /// Removes an address (`RTM_DELADDR`): `EADDRNOTAVAIL` when the link has not got it.
    /// The link's last IPv4 address takes the routes through it along, as on Linux.
    pub fn del_addr(&mut self, index: u32, addr: IpAddress) -> Result<(), Errno> {
        let l = self.link_mut(index)?;
        let before = l.addrs.len();
        l.addrs.retain(|c| c.address() != addr);
        if l.addrs.len() == before {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if l.ipv4().is_none() {
            self.dev.routes.retain(|r| r.ifindex != index);
        }
        self.sync();
        Ok(())
    }

    /// Adds a route: `EEXIST` for the same destination, `ENETUNREACH` for a gateway not
    /// on a connected prefix of an up link.
    pub fn add_route(&mut self, mut r: Route) -> Result<(), Errno> {
        if r.prefix > 32 {
            return Err(Errno::EINVAL);
        }
        if let Some(g) = r.gateway {
            let i = self.dev.route_v4(g).ok_or(Errno::ENETUNREACH)?;
            if r.ifindex == 0 {
                r.ifindex = self.dev.links[i].index;
            }
        }
        if self.link_by_index(r.ifindex).is_none() {
            return Err(Errno::ENODEV);
        }
        if self
            .dev
            .routes
            .iter()
            .any(|o| o.dst == r.dst && o.prefix == r.prefix)
        {
            return Err(Errno::EEXIST);
        }
        if self.dev.routes.len() >= 64 {
            return Err(Errno::ENOSPC);
        }
        self.dev.routes.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.dev.routes.push(r);
        self.sync();
        Ok(())
    }

    /// Removes the route to `dst/prefix` (`ESRCH` when there is none, as Linux).
    pub fn del_route(&mut self, dst: Ipv4Address, prefix: u8) -> Result<(), Errno> {
        let before = self.dev.routes.len();
        self.dev
            .routes
            .retain(|r| !(r.dst == dst && r.prefix == prefix));
        if self.dev.routes.len() == before {
            return Err(Errno::ESRCH);
        }
        self.sync();
        Ok(())
    }

    /// One past the highest index (the links are in index order).
    fn next_index(&self) -> u32 {
        self.dev.links.last().map_or(0, |l| l.index) + 1
    }

    /// Adds a link (its index free here) in index order. Work per link stays flat in the
    /// number of links: smoltcp hears of it only when it brings addresses.
    fn add_link(&mut self, link: Link) -> Result<(), Errno> {
        self.dev.links.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        let link = crate::mm::try_box(link)?;
        let at = self.dev.links.partition_point(|l| l.index < link.index);
        let sync = !link.addrs.is_empty();
        self.veth_numbers.taken(&link.name);
        self.dev.links.insert(at, link);
        if sync {
            self.sync();
        }
        Ok(())
    }

    /// Removes a link, its addresses and the routes through it.
    fn remove_link(&mut self, index: u32) -> Option<Link> {
        let i = self.position(index)?;
        let l = *self.dev.links.remove(i);
        self.veth_numbers.freed(&l.name);
        if l.counted {
            self.release_link_charge();
        }
        let links = &mut self.dev.links;
        if links.capacity() > 64 && links.len() < links.capacity() / 4 {
            // Thousands of veth ends gone: a smaller array gives their room back (kept as
            // it is when there is no memory for the copy).
            let mut smaller = Vec::new();
            if smaller.try_reserve_exact(links.len() * 2).is_ok() {
                smaller.append(links);
                *links = smaller;
            }
        }
        let routes = self.dev.routes.len();
        self.dev.routes.retain(|r| r.ifindex != index);
        if !l.addrs.is_empty() || self.dev.routes.len() != routes {
            self.sync();
        }
        Some(l)
    }
}

/// Socket buffer bytes (every stack) at most: making sockets gives `ENOBUFS` long before
/// the kernel heap runs out, whatever the plimits groups allow.
pub const SOCKET_BUDGET: usize = 48 << 20;
static SOCKET_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Socket buffer bytes held: taken from the machine-wide budget and charged to the
/// plimits group of the socket's creator (kernel memory in its `memory.stat`) until
/// dropped.
pub struct SockBytes {
    bytes: usize,
    kmem: Charge,
}

impl SockBytes {
    /// Nothing held yet, to be charged to `group`.
    pub fn new(group: &Arc<Group>) -> SockBytes {
        SockBytes {
            bytes: 0,
            kmem: Charge::to(group, 0).unwrap_or_default(),
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes `n` bytes more before they are allocated: `ENOBUFS` past the budget, past
    /// what the heap leaves to objects users make (filling it would starve the kernel) or
    /// past the group's `memory.limit` (as Linux when a socket cannot get buffer memory).
    pub fn grow(&mut self, n: usize) -> Result<(), Errno> {
        if !crate::mm::heap::room_for_user_objects(n) {
            return Err(Errno::ENOBUFS);
        }
        self.kmem.grow(n as u64).map_err(|_| Errno::ENOBUFS)?;
        let prev = SOCKET_BYTES.fetch_add(n, Ordering::Relaxed);
        if prev.saturating_add(n) > SOCKET_BUDGET {
            SOCKET_BYTES.fetch_sub(n, Ordering::Relaxed);
            let _ = self.kmem.resize(self.bytes as u64);
            return Err(Errno::ENOBUFS);
        }
        self.bytes += n;
        Ok(())
    }

    /// Gives back `n` of the bytes held.
    pub fn shrink(&mut self, n: usize) {
        let n = n.min(self.bytes);
        self.bytes -= n;
        SOCKET_BYTES.fetch_sub(n, Ordering::Relaxed);
        let _ = self.kmem.resize(self.bytes as u64);
    }
}

impl Drop for SockBytes {
    fn drop(&mut self) {
        SOCKET_BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Takes `bytes` of socket buffers for a socket of `group` before allocating them
/// ([`SockBytes::grow`]: `ENOBUFS`).
pub fn charge(group: &Arc<Group>, bytes: usize) -> Result<SockBytes, Errno> {
    let mut b = SockBytes::new(group);
    b.grow(bytes)?;
    Ok(b)
}

/// What a socket's place in its stack's socket set may take on the heap.
pub fn socket_slot_cost() -> usize {
    2 * core::mem::size_of::<smoltcp::iface::SocketStorage<'static>>()
}

/// Socket buffer bytes in use now.
pub fn socket_bytes() -> usize {
    SOCKET_BYTES.load(Ordering::Relaxed)
}

static NEXT_MAC: AtomicU32 = AtomicU32::new(1);

fn new_mac() -> [u8; 6] {
    let n = NEXT_MAC.fetch_add(1, Ordering::Relaxed);
    let b = n.to_be_bytes();
    // Locally administered, unicast.
    [0x02, 0x42, b[0], b[1], b[2], b[3]]
}

fn loopback_link() -> Link {
    Link {
        index: 1,
        name: String::from("lo"),
        kind: LinkKind::Loopback,
        flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING,
        mtu: LOOPBACK_MTU,
        hwaddr: [0; 6],
        addrs: alloc::vec![
            IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8),
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128),
        ],
        stats: LinkStats::default(),
        peer: None,
        counted: false,
    }
}

/// What a link takes on the heap: itself in its box, its name and its place in its
/// stack's array (which doubles as it grows).
pub fn link_cost() -> u64 {
    use crate::plimits::kmem::heap_cost;
    use core::alloc::Layout;
    heap_cost(Layout::new::<Link>())
        + heap_cost(Layout::new::<[u8; 15]>())
        + 2 * core::mem::size_of::<Box<Link>>() as u64
}

/// One container's stack.
pub struct NetStack {
    inner: Mutex<StackInner>,
    rxq: Arc<RxQueue>,
    /// Listeners may have work: a SYN arrived, or a half-open connection is pending
    /// (`inet::tcp::after_poll` looks only then).
    pub listen_work: AtomicBool,
}

static LIVE_STACKS: AtomicU32 = AtomicU32::new(0);

/// What a new stack takes on the heap, charged with its network container: itself, its
/// receive queue and packet pool, `lo` (with its two addresses) and `veth0`, their array
/// and the bitmap of its veth numbers, and in the root's stack the peer end `veth<N>`
/// (each link boxed, with its name) and its slot in the root's array (which doubles as
/// it grows).
pub fn stack_cost() -> u64 {
    use crate::plimits::kmem::{arc_cost, array_cost, heap_cost};
    use core::alloc::Layout;
    let link = heap_cost(Layout::new::<Link>()) + heap_cost(Layout::new::<[u8; 15]>());
    arc_cost::<NetStack>()
        .saturating_add(arc_cost::<RxQueue>())
        .saturating_add(arc_cost::<Pool>())
        .saturating_add(3 * link)
        .saturating_add(array_cost::<IpCidr>(2))
        .saturating_add(array_cost::<Box<Link>>(4))
        .saturating_add(array_cost::<u64>(4))
        .saturating_add(2 * core::mem::size_of::<Box<Link>>() as u64)
}

/// Stacks alive now (tests count them back).
pub fn live_stacks() -> u32 {
    LIVE_STACKS.load(Ordering::Relaxed)
}

pub fn now() -> Instant {
    Instant::from_micros((env::monotonic_ns() / 1000) as i64)
}

impl NetStack {
    /// A stack with `lo` up (127.0.0.1/8, ::1/128) and nothing else.
    /// Its `Arc`s cannot fail on stable Rust: `ENOMEM` first when the heap has no room
    /// for what it takes (charged with its container by the caller).
    pub fn new() -> Result<Arc<NetStack>, Errno> {
        if !crate::mm::heap::room_for_user_objects(stack_cost() as usize) {
            return Err(Errno::ENOMEM);
        }
        let rxq: Arc<RxQueue> = Arc::new(Mutex::new(VecDeque::new()));
        let mut dev = Router {
            rxq: rxq.clone(),
            pool: Arc::new(Mutex::new(pool::PacketPool::new(Charge::empty()))),
            links: alloc::vec![Box::new(loopback_link())],
            routes: Vec::new(),
            nic: None,
            kicked: Vec::new(),
            looped: false,
            syn_seen: false,
        };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = env::monotonic_ns() ^ 0x5eed_b01c_4ead;
        let iface = Interface::new(config, &mut dev, now());
        let mut inner = StackInner {
            iface,
            dev,
            sockets: SocketSet::new(Vec::new()),
            orphans: Vec::new(),
            charged: Vec::new(),
            ports: super::ports::PortTable::default(),
            veth_numbers: names::VethNumbers::default(),
            links_kmem: Charge::empty(),
        };
        inner.sync();
        LIVE_STACKS.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(NetStack {
            inner: Mutex::new(inner),
            rxq,
            listen_work: AtomicBool::new(false),
        }))
    }

    /// The root container's stack: `lo`, and `eth0` at 10.0.2.15/24 via 10.0.2.2
    /// (QEMU's user network) when there is a NIC.
    pub fn new_root(nic: Option<Arc<dyn Nic>>) -> Result<Arc<NetStack>, Errno> {
        let s = NetStack::new()?;
        // The bitmap of the peers' `veth<N>` numbers from boot on (its first words), so
        // the first containers leave no new allocation behind in the root.
        s.with(|g| g.veth_numbers.lowest_free(&g.dev.links).map(|_| ()))?;
        if let Some(nic) = nic {
            let mut g = s.inner.lock();
            let index = g.next_index();
            let mac = nic.mac();
            g.dev.nic = Some(nic);
            g.add_link(Link {
                index,
                name: String::from("eth0"),
                kind: LinkKind::Nic,
                flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST,
                mtu: ETH_MTU,
                hwaddr: mac,
                addrs: Vec::new(),
                stats: LinkStats::default(),
                peer: None,
                counted: false,
            })?;
            g.set_ipv4(index, Ipv4Address::new(10, 0, 2, 15), Some(24))?;
            g.add_route(Route {
                dst: Ipv4Address::UNSPECIFIED,
                prefix: 0,
                gateway: Some(Ipv4Address::new(10, 0, 2, 2)),
                ifindex: index,
            })?;
        }
        Ok(s)
    }

    /// The wait channel of everything waiting on this stack's sockets.
    pub fn chan(&self) -> usize {
        self as *const NetStack as usize
    }

    /// Runs `f` on the stack's state (the lock is not held across a sleep).
    pub fn with<R>(&self, f: impl FnOnce(&mut StackInner) -> R) -> R {
        f(&mut self.inner.lock())
    }

    /// Queues a packet that arrived on link `index` (the NIC's receive path).
    pub fn deliver(&self, index: u32, packet: Vec<u8>) {
        let mut q = self.rxq.lock();
        if q.len() < RXQ_MAX {
            q.push_back((index, packet));
        }
    }

    /// One poll of this stack alone: returns the peer stacks it sent packets to.
    fn poll_once(&self) -> Vec<Weak<NetStack>> {
        let mut changed = false;
        let kicked = {
            let mut g = self.inner.lock();
            let g = &mut *g;
            if let Some(nic) = g.dev.nic.clone()
                && let Some(index) = g
                    .dev
                    .links
                    .iter()
                    .find(|l| l.kind == LinkKind::Nic)
                    .map(|l| l.index)
            {
                let mut q = self.rxq.lock();
                nic.poll_rx(&mut |p| {
                    if q.len() < RXQ_MAX {
                        q.push_back((index, p));
                    }
                });
            }
            for _ in 0..POLL_ROUNDS {
                g.dev.looped = false;
                let r = g.iface.poll(now(), &mut g.dev, &mut g.sockets);
                changed |= r == smoltcp::iface::PollResult::SocketStateChanged;
                if !g.dev.looped && self.rxq.lock().is_empty() {
                    break;
                }
            }
            if !g.orphans.is_empty() {
                g.reap();
            }
            if core::mem::take(&mut g.dev.syn_seen) {
                self.listen_work.store(true, Ordering::Release);
            }
            core::mem::take(&mut g.dev.kicked)
        };
        if changed {
            env::wakeup(self.chan());
        }
        kicked
    }

    /// Polls this stack and every stack it sent packets to (and theirs), a bounded
    /// number of times, waking the waiters of each that changed.
    pub fn poll(self: &Arc<Self>) {
        // The stacks still to poll, in order, in a fixed array: the path every send and
        // receive takes allocates nothing.
        let mut work: [Option<Arc<NetStack>>; POLL_STACKS] = Default::default();
        work[0] = Some(self.clone());
        let mut tail = 1;
        for head in 0..POLL_STACKS {
            let Some(s) = work[head].take() else {
                break;
            };
            for w in s.poll_once() {
                if let Some(p) = w.upgrade()
                    && tail < POLL_STACKS
                    && !work[head + 1..tail]
                        .iter()
                        .flatten()
                        .any(|x| Arc::ptr_eq(x, &p))
                {
                    work[tail] = Some(p);
                    tail += 1;
                }
            }
            super::inet::tcp::after_poll(&s);
        }
    }

    /// How long until smoltcp wants to be polled again (retransmits, timers), if ever.
    pub fn poll_delay(&self) -> Option<u64> {
        let mut g = self.inner.lock();
        let g = &mut *g;
        g.iface
            .poll_delay(now(), &g.sockets)
            .map(|d| d.total_micros() * 1000)
    }

    /// LiteOS-A's pair for a new container: `veth0` here (up, no address) and its peer
    /// `veth<N>` (lowest free N, up) in `root`.
    pub fn add_veth_pair(self: &Arc<Self>, root: &Arc<NetStack>) -> Result<(), Errno> {
        let end = |stack| VethEnd {
            stack,
            name: Some("veth%d"),
            index: 0,
        };
        let flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST;
        NetStack::new_veth_pair(end(self), end(root), flags).map(|_| ())
    }

    /// Removes link `index` and, for a veth, its peer end in the other stack.
    pub fn remove_link(&self, index: u32) -> Result<(), Errno> {
        let link = self.with(|g| g.remove_link(index)).ok_or(Errno::ENODEV)?;
        if let Some((w, pi)) = link.peer
            && let Some(p) = w.upgrade()
        {
            p.with(|g| g.remove_link(pi));
        }
        Ok(())
    }

    /// The container's last user left: its veth pairs go (the peers in other stacks
    /// too) and every socket is aborted. Sockets still open keep a stack with `lo`.
    pub fn shut_down(&self) {
        let veths: Vec<u32> = self.with(|g| {
            g.dev
                .links
                .iter()
                .filter(|l| l.kind == LinkKind::Veth)
                .map(|l| l.index)
                .collect()
        });
        for i in veths {
            let _ = self.remove_link(i);
        }
        self.rxq.lock().clear();
    }
}

impl Drop for NetStack {
    fn drop(&mut self) {
        LIVE_STACKS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stack_has_lo_up_with_both_loopback_addresses() {
        let s = NetStack::new().expect("stack");
        s.with(|g| {
            let lo = g.link("lo").expect("lo exists");
            assert_eq!(lo.index, 1);
            assert!(lo.is_up());
            assert_eq!(lo.ipv4(), Some((Ipv4Address::new(127, 0, 0, 1), 8)));
            assert!(g.is_local(IpAddress::Ipv6(Ipv6Address::LOCALHOST)));
            assert!(g.link("eth0").is_none());
        });
    }

    #[test]
    fn veth_pairs_take_the_lowest_free_name_in_root_and_go_with_their_stack() {
        let root = NetStack::new().expect("root");
        let a = NetStack::new().expect("a");
        let b = NetStack::new().expect("b");
        a.add_veth_pair(&root).expect("pair a");
        b.add_veth_pair(&root).expect("pair b");
        root.with(|g| {
            assert!(g.link("veth0").is_some());
            assert!(g.link("veth1").is_some());
        });
        a.with(|g| assert_eq!(g.link("veth0").map(|l| l.index), Some(2)));
        a.shut_down();
        root.with(|g| {
            assert!(g.link("veth0").is_none(), "a's peer went with a");
            assert!(g.link("veth1").is_some());
        });
        let c = NetStack::new().expect("c");
        c.add_veth_pair(&root).expect("pair c");
        root.with(|g| assert!(g.link("veth0").is_some(), "lowest free name reused"));
    }

    #[test]
    fn routes_pick_the_longest_connected_prefix_then_the_gateway() {
        let root = NetStack::new().expect("root");
        let a = NetStack::new().expect("a");
        a.add_veth_pair(&root).expect("pair");
        a.with(|g| {
            g.set_ipv4(2, Ipv4Address::new(192, 168, 100, 5), Some(24))
                .expect("address");
            assert_eq!(
                g.add_route(Route {
                    dst: Ipv4Address::UNSPECIFIED,
                    prefix: 0,
                    gateway: Some(Ipv4Address::new(10, 9, 9, 9)),
                    ifindex: 0,
                }),
                Err(Errno::ENETUNREACH)
            );
            g.add_route(Route {
                dst: Ipv4Address::UNSPECIFIED,
                prefix: 0,
                gateway: Some(Ipv4Address::new(192, 168, 100, 1)),
                ifindex: 0,
            })
            .expect("gateway on the veth's prefix");
            assert_eq!(g.routes()[0].ifindex, 2);
            assert_eq!(g.dev.route_v4(Ipv4Address::new(8, 8, 8, 8)), Some(1));
            assert_eq!(
                g.set_ipv4(2, Ipv4Address::new(224, 0, 0, 1), None),
                Err(Errno::EINVAL)
            );
        });
    }
}
