//! The ports bound in one stack, per protocol: `bind` conflicts (`EADDRINUSE`) with
//! Linux's `SO_REUSEADDR`/`SO_REUSEPORT` rules and ephemeral port choice
//! (`ip_local_port_range` 32768-60999).

use crate::errno::Errno;
use alloc::vec::Vec;
use smoltcp::wire::IpAddress;

pub const EPHEMERAL_FIRST: u16 = 32768;
pub const EPHEMERAL_LAST: u16 = 60999;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub id: u64,
    pub proto: Proto,
    /// `None`: every address of the stack (`INADDR_ANY`, `::`).
    pub addr: Option<IpAddress>,
    pub port: u16,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub listening: bool,
}

#[derive(Default)]
pub struct PortTable {
    bound: Vec<Binding>,
    next_id: u64,
    next_ephemeral: u16,
}

impl PortTable {
    fn conflicts(&self, b: &Binding, ignore: Option<u64>) -> bool {
        self.bound.iter().any(|o| {
            Some(o.id) != ignore
                && o.proto == b.proto
                && o.port == b.port
                && (o.addr.is_none() || b.addr.is_none() || o.addr == b.addr)
                && !(o.reuseport && b.reuseport)
                && !(o.reuseaddr && b.reuseaddr && (b.proto != Proto::Tcp || !o.listening))
        })
    }

    /// Binds `port` (0: an ephemeral one); returns the binding's id and the port.
    pub fn bind(
        &mut self,
        proto: Proto,
        addr: Option<IpAddress>,
        port: u16,
        reuseaddr: bool,
        reuseport: bool,
    ) -> Result<(u64, u16), Errno> {
        let mut b = Binding {
            id: self.next_id,
            proto,
            addr,
            port,
            reuseaddr,
            reuseport,
            listening: false,
        };
        if port == 0 {
            let span = (EPHEMERAL_LAST - EPHEMERAL_FIRST) as u32 + 1;
            let start = self.next_ephemeral as u32 % span;
            let found = (0..span).find_map(|i| {
                let p = EPHEMERAL_FIRST + ((start + i) % span) as u16;
                // An ephemeral port is one nobody has, whatever the reuse options.
                let taken = self.bound.iter().any(|o| o.proto == proto && o.port == p);
                (!taken).then_some((p, i))
            });
            let (p, i) = found.ok_or(Errno::EADDRINUSE)?;
            self.next_ephemeral = ((start + i + 1) % span) as u16;
            b.port = p;
        } else if self.conflicts(&b, None) {
            return Err(Errno::EADDRINUSE);
        }
        self.bound.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.bound.push(b);
        self.next_id += 1;
        Ok((b.id, b.port))
    }

    /// `listen`: `EADDRINUSE` when another socket listens on an overlapping address.
    pub fn set_listening(&mut self, id: u64) -> Result<(), Errno> {
        let b = *self
            .bound
            .iter()
            .find(|b| b.id == id)
            .ok_or(Errno::EINVAL)?;
        let mut l = b;
        l.listening = true;
        if self.conflicts(&l, Some(id)) {
            return Err(Errno::EADDRINUSE);
        }
        if let Some(x) = self.bound.iter_mut().find(|x| x.id == id) {
            x.listening = true;
        }
        Ok(())
    }

    pub fn unbind(&mut self, id: u64) {
        self.bound.retain(|b| b.id != id);
    }

    pub fn len(&self) -> usize {
        self.bound.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bound.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LO: Option<IpAddress> = Some(IpAddress::v4(127, 0, 0, 1));

    #[test]
    fn the_same_port_twice_is_in_use_unless_both_reuse() {
        let mut t = PortTable::default();
        let (a, _) = t.bind(Proto::Tcp, LO, 8000, false, false).expect("first");
        assert_eq!(
            t.bind(Proto::Tcp, None, 8000, false, false),
            Err(Errno::EADDRINUSE)
        );
        assert!(
            t.bind(Proto::Udp, LO, 8000, false, false).is_ok(),
            "other protocol"
        );
        t.unbind(a);
        let (a, _) = t.bind(Proto::Tcp, LO, 8000, true, false).expect("again");
        let (b, _) = t
            .bind(Proto::Tcp, LO, 8000, true, false)
            .expect("both reuseaddr");
        t.set_listening(a).expect("one listener");
        assert_eq!(t.set_listening(b), Err(Errno::EADDRINUSE));
    }

    #[test]
    fn ephemeral_ports_are_distinct_and_in_range() {
        let mut t = PortTable::default();
        let (_, p) = t.bind(Proto::Udp, None, 0, false, false).expect("one");
        let (_, q) = t.bind(Proto::Udp, None, 0, false, false).expect("two");
        assert_ne!(p, q);
        assert!((EPHEMERAL_FIRST..=EPHEMERAL_LAST).contains(&p));
        assert_eq!(t.len(), 2);
    }
}
