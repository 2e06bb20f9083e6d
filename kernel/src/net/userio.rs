//! The two ends of a stream transfer: kernel memory (`send`/`recv` with their own
//! buffers) or user memory reached straight from a socket's ring, so `read(2)` and
//! `write(2)` of a TCP socket copy each byte once between the user and the ring instead
//! of through a zero-filled kernel buffer.

use crate::errno::Errno;
use crate::fs::env;

/// Where the bytes of a send come from.
pub enum Src<'a> {
    Kernel(&'a [u8]),
    /// `len` bytes of user memory at `addr`.
    User {
        addr: u64,
        len: usize,
    },
}

impl Src<'_> {
    pub fn len(&self) -> usize {
        match self {
            Src::Kernel(b) => b.len(),
            Src::User { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies bytes from offset `off` on into `ring`: how many (`EFAULT` for a bad user
    /// address).
    pub fn copy_into(&self, off: usize, ring: &mut [u8]) -> Result<usize, Errno> {
        let n = self.len().saturating_sub(off).min(ring.len());
        match self {
            Src::Kernel(b) => ring[..n].copy_from_slice(&b[off..off + n]),
            Src::User { addr, .. } => env::copy_from_user(addr + off as u64, &mut ring[..n])?,
        }
        Ok(n)
    }
}

/// Where the bytes of a receive go.
pub enum Dst<'a> {
    Kernel(&'a mut [u8]),
    User { addr: u64, len: usize },
}

impl Dst<'_> {
    pub fn len(&self) -> usize {
        match self {
            Dst::Kernel(b) => b.len(),
            Dst::User { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `ring` (or what fits) to offset `off` on: how many.
    pub fn copy_from(&mut self, off: usize, ring: &[u8]) -> Result<usize, Errno> {
        let n = self.len().saturating_sub(off).min(ring.len());
        match self {
            Dst::Kernel(b) => b[off..off + n].copy_from_slice(&ring[..n]),
            Dst::User { addr, .. } => env::copy_to_user(*addr + off as u64, &ring[..n])?,
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_ends_copy_what_fits_from_the_offset() {
        let src = Src::Kernel(b"abcdef");
        let mut ring = [0u8; 4];
        assert_eq!(src.copy_into(4, &mut ring), Ok(2));
        assert_eq!(&ring[..2], b"ef");
        let mut out = [0u8; 5];
        let mut dst = Dst::Kernel(&mut out);
        assert_eq!(dst.copy_from(3, b"xyz"), Ok(2));
        assert_eq!(&out, b"\0\0\0xy");
    }
}
