//! The machine's NIC, which the root container's `eth0` sends through: a virtio-net PCI
//! device driven by `virtio-drivers`, polled by the root stack (no interrupt). The
//! stack speaks IP; [`EtherGlue`] adds and strips the Ethernet header and answers ARP.
//! Everything leaves towards one next hop, QEMU's user-network gateway (10.0.2.2),
//! whose MAC address is learnt from its frames or asked for with ARP.

use super::stack::Nic;
use alloc::sync::Arc;
use alloc::vec::Vec;
use smoltcp::wire::{
    Icmpv4Packet, IpAddress, IpProtocol, Ipv4Address, Ipv4Packet, TcpPacket, UdpPacket,
};
use spin::Once;

const ETH_HDR: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const BROADCAST: [u8; 6] = [0xff; 6];

/// Ethernet framing and ARP for one interface with one next hop.
pub struct EtherGlue {
    pub mac: [u8; 6],
    pub ip: Ipv4Address,
    pub gateway: Ipv4Address,
    /// The next hop's MAC, once known.
    pub peer: Option<[u8; 6]>,
}

fn frame(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Option<Vec<u8>> {
    let mut f = Vec::new();
    f.try_reserve_exact(ETH_HDR + payload.len()).ok()?;
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    Some(f)
}

impl EtherGlue {
    fn arp(&self, op: u16, target_mac: [u8; 6], target_ip: Ipv4Address) -> [u8; 28] {
        let mut a = [0u8; 28];
        a[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
        a[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        a[4] = 6;
        a[5] = 4;
        a[6..8].copy_from_slice(&op.to_be_bytes());
        a[8..14].copy_from_slice(&self.mac);
        a[14..18].copy_from_slice(&self.ip.octets());
        a[18..24].copy_from_slice(&target_mac);
        a[24..28].copy_from_slice(&target_ip.octets());
        a
    }

    /// A received frame: the IP packet in it, and a frame to send back (an ARP reply).
    pub fn receive(&mut self, f: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        if f.len() < ETH_HDR {
            return (None, None);
        }
        let mut src = [0u8; 6];
        src.copy_from_slice(&f[6..12]);
        let ty = u16::from_be_bytes([f[12], f[13]]);
        let body = &f[ETH_HDR..];
        match ty {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => {
                if ty == ETHERTYPE_IPV4 && self.peer.is_none() {
                    self.peer = Some(src);
                }
                let mut p = Vec::new();
                if p.try_reserve_exact(body.len()).is_err() {
                    return (None, None);
                }
                p.extend_from_slice(body);
                (Some(p), None)
            }
            ETHERTYPE_ARP if body.len() >= 28 => {
                let op = u16::from_be_bytes([body[6], body[7]]);
                let mut sha = [0u8; 6];
                sha.copy_from_slice(&body[8..14]);
                let spa = Ipv4Address::new(body[14], body[15], body[16], body[17]);
                let tpa = Ipv4Address::new(body[24], body[25], body[26], body[27]);
                if spa == self.gateway {
                    self.peer = Some(sha);
                }
                if op == 1 && tpa == self.ip {
                    let reply = self.arp(2, sha, spa);
                    return (None, frame(sha, self.mac, ETHERTYPE_ARP, &reply));
                }
                (None, None)
            }
            _ => (None, None),
        }
    }

    /// The frame carrying IP packet `p`, or an ARP request for the next hop when its MAC
    /// is not known yet (the packet is dropped; TCP sends it again).
    pub fn send(&self, p: &[u8]) -> Option<Vec<u8>> {
        let ty = if p.first().is_some_and(|b| b >> 4 == 6) {
            ETHERTYPE_IPV6
        } else {
            ETHERTYPE_IPV4
        };
        match self.peer {
            Some(mac) => {
                let mut f = frame(mac, self.mac, ty, p)?;
                fill_checksums(&mut f[ETH_HDR..]);
                Some(f)
            }
            None => self.arp_request(),
        }
    }

    pub fn arp_request(&self) -> Option<Vec<u8>> {
        let req = self.arp(1, [0; 6], self.gateway);
        frame(BROADCAST, self.mac, ETHERTYPE_ARP, &req)
    }
}

/// Fills in the IPv4 header and TCP/UDP/ICMP checksums the stack leaves out (its
/// loopback and veth packets never need them).
pub fn fill_checksums(p: &mut [u8]) {
    let Ok(mut ip) = Ipv4Packet::new_checked(&mut *p) else {
        return;
    };
    ip.fill_checksum();
    let (src, dst) = (
        IpAddress::Ipv4(ip.src_addr()),
        IpAddress::Ipv4(ip.dst_addr()),
    );
    let proto = ip.next_header();
    let payload = ip.payload_mut();
    match proto {
        IpProtocol::Tcp => {
            if let Ok(mut t) = TcpPacket::new_checked(payload) {
                t.fill_checksum(&src, &dst);
            }
        }
        IpProtocol::Udp => {
            if let Ok(mut u) = UdpPacket::new_checked(payload) {
                u.fill_checksum(&src, &dst);
            }
        }
        IpProtocol::Icmp => {
            if let Ok(mut i) = Icmpv4Packet::new_checked(payload) {
                i.fill_checksum();
            }
        }
        _ => {}
    }
}

static NIC: Once<Option<Arc<dyn Nic>>> = Once::new();

/// Looks for the NIC (boot, before the root container is made).
pub fn init() {
    NIC.call_once(|| {
        #[cfg(target_os = "none")]
        {
            virtio::probe()
        }
        #[cfg(not(target_os = "none"))]
        {
            None
        }
    });
}

/// The NIC, if the machine has one.
pub fn get() -> Option<Arc<dyn Nic>> {
    NIC.get().cloned().flatten()
}

#[cfg(target_os = "none")]
mod virtio {
    use super::{EtherGlue, Nic};
    use crate::arch::x86_64::pci::PortCam;
    use crate::mm::dma::{KernelHal, mmio_reachable};
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use smoltcp::wire::Ipv4Address;
    use spin::Mutex;
    use virtio_drivers::device::net::VirtIONet;
    use virtio_drivers::transport::DeviceType;
    use virtio_drivers::transport::pci::bus::{BarInfo, Command, PciRoot};
    use virtio_drivers::transport::pci::{PciTransport, virtio_device_type};

    const QUEUE: usize = 16;
    const BUF_LEN: usize = 2048;

    struct VirtioNic {
        dev: Mutex<VirtIONet<KernelHal, PciTransport, QUEUE>>,
        glue: Mutex<EtherGlue>,
        mac: [u8; 6],
    }

    impl VirtioNic {
        fn send_frame(&self, f: &[u8]) -> bool {
            let mut dev = self.dev.lock();
            if !dev.can_send() {
                return false;
            }
            let mut tx = dev.new_tx_buffer(f.len());
            tx.packet_mut().copy_from_slice(f);
            dev.send(tx).is_ok()
        }
    }

    impl Nic for VirtioNic {
        fn send_ip(&self, packet: &[u8]) -> bool {
            let f = self.glue.lock().send(packet);
            f.is_some_and(|f| self.send_frame(&f))
        }

        fn mac(&self) -> [u8; 6] {
            self.mac
        }

        fn poll_rx(&self, deliver: &mut dyn FnMut(Vec<u8>)) {
            // At most one ring's worth per poll: a flood cannot keep the kernel here.
            for _ in 0..QUEUE {
                let frame = {
                    let mut dev = self.dev.lock();
                    if !dev.can_recv() {
                        break;
                    }
                    let Ok(rx) = dev.receive() else { break };
                    let (p, reply) = self.glue.lock().receive(rx.packet());
                    let _ = dev.recycle_rx_buffer(rx);
                    (p, reply)
                };
                if let Some(r) = frame.1 {
                    self.send_frame(&r);
                }
                if let Some(p) = frame.0 {
                    deliver(p);
                }
            }
        }
    }

    /// The first virtio-net device on PCI bus 0, if its registers are in reach.
    pub fn probe() -> Option<Arc<dyn Nic>> {
        let mut root = PciRoot::new(PortCam);
        let (df, _) = root
            .enumerate_bus(0)
            .find(|(_, info)| virtio_device_type(info) == Some(DeviceType::Network))?;
        for bar in 0..6 {
            if let Ok(Some(BarInfo::Memory { address, size, .. })) = root.bar_info(df, bar)
                && size > 0
                && !mmio_reachable(address, size)
            {
                log::warn!("net: virtio-net BAR{bar} at {address:#x} is out of reach: no eth0");
                return None;
            }
        }
        root.set_command(
            df,
            Command::IO_SPACE | Command::MEMORY_SPACE | Command::BUS_MASTER,
        );
        let transport = match PciTransport::new::<KernelHal, _>(&mut root, df) {
            Ok(t) => t,
            Err(e) => {
                log::warn!("net: virtio-net transport: {e:?}");
                return None;
            }
        };
        let dev = match VirtIONet::<KernelHal, PciTransport, QUEUE>::new(transport, BUF_LEN) {
            Ok(d) => d,
            Err(e) => {
                log::warn!("net: virtio-net: {e:?}");
                return None;
            }
        };
        let mac = dev.mac_address();
        let glue = EtherGlue {
            mac,
            ip: Ipv4Address::new(10, 0, 2, 15),
            gateway: Ipv4Address::new(10, 0, 2, 2),
            peer: None,
        };
        let nic = VirtioNic {
            dev: Mutex::new(dev),
            glue: Mutex::new(glue),
            mac,
        };
        if let Some(req) = nic.glue.lock().arp_request() {
            nic.send_frame(&req);
        }
        log::info!(
            "net: virtio-net {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} as eth0",
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5]
        );
        Some(Arc::new(nic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glue() -> EtherGlue {
        EtherGlue {
            mac: [2, 0, 0, 0, 0, 1],
            ip: Ipv4Address::new(10, 0, 2, 15),
            gateway: Ipv4Address::new(10, 0, 2, 2),
            peer: None,
        }
    }

    #[test]
    fn arp_requests_for_our_address_get_a_reply_and_teach_the_gateway() {
        let mut g = glue();
        assert!(
            g.send(&[0x45, 0, 0, 20])
                .is_some_and(|f| f[12..14] == [8, 6]),
            "ARP first"
        );
        let gw = [0x52, 0x55, 10, 0, 2, 2];
        let mut req = EtherGlue {
            mac: gw,
            ip: Ipv4Address::new(10, 0, 2, 2),
            gateway: Ipv4Address::new(10, 0, 2, 15),
            peer: None,
        }
        .arp_request()
        .expect("frame");
        req[0..6].copy_from_slice(&BROADCAST);
        let (p, reply) = g.receive(&req);
        assert!(p.is_none());
        let reply = reply.expect("an ARP reply");
        assert_eq!(reply[0..6], gw);
        assert_eq!(u16::from_be_bytes([reply[20], reply[21]]), 2);
        assert_eq!(g.peer, Some(gw));
        let f = g.send(&[0x45, 1, 2, 3]).expect("a frame");
        assert_eq!(f[0..6], gw);
        assert_eq!(f[12..14], [8, 0]);
        assert_eq!(f[14..], [0x45, 1, 2, 3]);
    }
}
