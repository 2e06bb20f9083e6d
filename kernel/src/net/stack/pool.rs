//! Packet buffers a stack keeps for reuse once smoltcp has read a received packet, so a
//! packet sent next takes one instead of allocating (and zeroing) a new buffer. A reused
//! buffer keeps its length, so only bytes past it are zeroed; a buffer is therefore
//! picked so it is shortened as little as possible: a short packet (a bare ACK) never
//! takes a 64 KiB one, which the next large segment would otherwise zero all over again.

//! The buffers kept are charged to the group of the stack's maker, as the rest of the
//! stack: a buffer the group cannot take is freed instead of kept.

use crate::plimits::kmem::{Charge, array_cost};
use alloc::vec::Vec;

/// Buffers a stack keeps (each at most one loopback MTU).
const MAX: usize = 4;
/// Packets this long or shorter take only buffers this short (or a new one).
const SMALL: usize = 256;
/// The step in which the buffers kept are charged.
const GRANULE: u64 = 4096;

#[derive(Default)]
pub struct PacketPool {
    bufs: Vec<Vec<u8>>,
    /// What the buffers kept (and their array) take on the heap.
    kmem: Charge,
}

impl PacketPool {
    /// An empty pool whose buffers are charged with `kmem` (nothing charged yet).
    pub fn new(kmem: Charge) -> PacketPool {
        PacketPool {
            bufs: Vec::new(),
            kmem,
        }
    }

    /// What the buffers kept now take on the heap.
    fn cost(&self) -> u64 {
        let bufs = self.bufs.iter().map(|b| array_cost::<u8>(b.capacity()));
        let array = match self.bufs.capacity() {
            0 => 0,
            n => array_cost::<Vec<u8>>(n),
        };
        bufs.fold(array, u64::saturating_add)
    }

    /// Charges what the pool holds now, in steps of [`GRANULE`] bytes: up to the step
    /// above what it holds when it holds more than is charged, down once two steps are
    /// charged and unused (each packet sent and received moves a buffer in or out, and
    /// charging every move cost a loopback TCP round trip about 500 instructions).
    /// `false` (the old charge kept) when the group cannot take it.
    fn recharge(&mut self) -> bool {
        let held = self.cost();
        let charged = self.kmem.bytes();
        if held <= charged && charged - held < 2 * GRANULE {
            return true;
        }
        self.kmem
            .resize(held.div_ceil(GRANULE).saturating_mul(GRANULE))
            .is_ok()
    }

    /// A buffer of `len` bytes, each either zeroed or left from an earlier packet of this
    /// stack (smoltcp writes every byte of a packet it emits); `None` without memory.
    pub fn take(&mut self, len: usize) -> Option<Vec<u8>> {
        // The shortest buffer that holds the packet, else the longest (fewest to zero);
        // one pass over at most MAX buffers.
        let mut fit: Option<(usize, usize)> = None;
        let mut longest: Option<(usize, usize)> = None;
        for (i, b) in self.bufs.iter().enumerate() {
            let l = b.len();
            if l >= len && fit.is_none_or(|(_, f)| l < f) {
                fit = Some((i, l));
            }
            if longest.is_none_or(|(_, m)| l > m) {
                longest = Some((i, l));
            }
        }
        let pick = fit
            .or(longest)
            .filter(|&(_, l)| len > SMALL || l <= SMALL)
            .map(|(i, _)| i);
        let mut buf = pick.map(|i| self.bufs.swap_remove(i)).unwrap_or_default();
        // Less held now: cannot fail.
        self.recharge();
        buf.try_reserve_exact(len.saturating_sub(buf.len())).ok()?;
        buf.resize(len, 0);
        Some(buf)
    }

    /// Keeps `buf` for a later packet: when the pool is full, in place of a shorter one.
    /// A buffer the group cannot be charged for is freed.
    pub fn put(&mut self, buf: Vec<u8>) {
        if self.bufs.len() < MAX {
            if self.bufs.try_reserve_exact(MAX - self.bufs.len()).is_ok() {
                self.bufs.push(buf);
                if !self.recharge() {
                    self.bufs.pop();
                }
            }
            return;
        }
        if let Some(i) = (0..self.bufs.len()).min_by_key(|&i| self.bufs[i].len())
            && self.bufs[i].len() < buf.len()
        {
            let short = core::mem::replace(&mut self.bufs[i], buf);
            if !self.recharge() {
                self.bufs[i] = short;
            }
        }
    }

    /// Bytes charged for the buffers kept (tests).
    #[cfg(test)]
    fn charged(&self) -> u64 {
        self.kmem.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(p: &PacketPool) -> Vec<usize> {
        let mut v: Vec<usize> = p.bufs.iter().map(|b| b.len()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_short_packet_leaves_the_long_buffers_alone() {
        let mut p = PacketPool::default();
        p.put(alloc::vec![7u8; 65495]);
        let ack = p.take(40).expect("memory");
        assert_eq!(ack, [0u8; 40], "a new, zeroed buffer");
        assert_eq!(lens(&p), [65495]);
        p.put(ack);
        let seg = p.take(65000).expect("memory");
        assert_eq!(seg.len(), 65000);
        assert_eq!(lens(&p), [40]);
        p.put(seg);
        assert_eq!(p.take(39).map(|b| b.len()), Some(39));
        assert_eq!(lens(&p), [65000]);
    }

    #[test]
    fn a_longer_packet_takes_the_longest_and_zeroes_only_the_rest() {
        let mut p = PacketPool::default();
        p.put(alloc::vec![1u8; 300]);
        p.put(alloc::vec![2u8; 1000]);
        let b = p.take(1500).expect("memory");
        assert_eq!(b[..1000], [2u8; 1000]);
        assert_eq!(b[1000..], [0u8; 500]);
        assert_eq!(lens(&p), [300]);
    }

    #[test]
    fn the_buffers_kept_are_charged_in_steps_until_taken() {
        let steps = |b: u64| b.div_ceil(GRANULE) * GRANULE;
        let mut p = PacketPool::new(Charge::empty());
        assert_eq!(p.charged(), 0);
        p.put(alloc::vec![0u8; 10000]);
        let array = array_cost::<Vec<u8>>(MAX);
        assert_eq!(p.charged(), steps(array + array_cost::<u8>(10000)));
        let b = p.take(10000).expect("memory");
        assert_eq!(
            p.charged(),
            steps(array),
            "the buffer taken is no longer charged"
        );
        p.put(b);
        p.put(alloc::vec![0u8; 64]);
        let held = array + array_cost::<u8>(10000) + array_cost::<u8>(64);
        assert_eq!(p.charged(), steps(held));
        // Small packets moving in and out stay within the step charged.
        let small = p.take(64).expect("memory");
        assert_eq!(p.charged(), steps(held));
        p.put(small);
        assert_eq!(p.charged(), steps(held));
    }

    #[test]
    fn a_full_pool_keeps_the_longest_buffers() {
        let mut p = PacketPool::default();
        for n in [40, 50, 60, 70] {
            p.put(alloc::vec![0u8; n]);
        }
        p.put(alloc::vec![0u8; 65495]);
        p.put(alloc::vec![0u8; 10]);
        assert_eq!(lens(&p), [50, 60, 70, 65495]);
    }
}
