//! eventfd (eventfd(2)): a file holding a 64-bit counter. A write adds an 8-byte value
//! (blocking while the sum would pass `u64::MAX - 1`); a read takes the whole count, or
//! 1 with `EFD_SEMAPHORE` (blocking while it is 0). `EAGAIN` instead of blocking with
//! `O_NONBLOCK`. `poll`: `POLLIN` while non-zero, `POLLOUT` while 1 more fits.

use super::env::{self, Wake};
use super::file::{FileOps, O_NONBLOCK, O_RDWR, OpenFile, POLLIN, POLLOUT};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

pub const EFD_SEMAPHORE: u32 = 1;
pub const EFD_CLOEXEC: u32 = 0o2000000;
pub const EFD_NONBLOCK: u32 = O_NONBLOCK;
const MAX: u64 = u64::MAX - 1;

pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
}

impl EventFd {
    fn chan(&self) -> usize {
        self as *const EventFd as usize
    }

    fn wait(&self) -> Result<(), Errno> {
        match env::sleep(self.chan(), None) {
            Wake::Interrupted => Err(Errno::EINTR),
            _ => Ok(()),
        }
    }
}

/// A new eventfd with `initval`; `flags` as eventfd2's (`EINVAL` for unknown bits).
pub fn new(initval: u32, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    if flags & !(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let e = Arc::new(EventFd {
        count: Mutex::new(initval as u64),
        semaphore: flags & EFD_SEMAPHORE != 0,
    });
    Ok(OpenFile::new(
        e,
        None,
        String::from("anon_inode:[eventfd]"),
        O_RDWR | (flags & EFD_NONBLOCK),
    ))
}

impl FileOps for EventFd {
    /// Linux's `eventfd-count:` line (the counter in hex, 16 wide).
    fn fdinfo(&self) -> String {
        alloc::format!("eventfd-count: {:16x}\n", *self.count.lock())
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        loop {
            {
                let mut c = self.count.lock();
                if *c > 0 {
                    let v = if self.semaphore { 1 } else { *c };
                    *c -= v;
                    drop(c);
                    buf[..8].copy_from_slice(&v.to_le_bytes());
                    env::wakeup(self.chan());
                    return Ok(8);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            self.wait()?;
        }
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let v = buf
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or(Errno::EINVAL)?;
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        loop {
            {
                let mut c = self.count.lock();
                if MAX - *c >= v {
                    *c += v;
                    drop(c);
                    if v > 0 {
                        env::wakeup(self.chan());
                    }
                    return Ok(8);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            self.wait()?;
        }
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.chan())
    }

    fn poll(&self) -> u16 {
        let c = *self.count.lock();
        let mut ev = 0;
        if c > 0 {
            ev |= POLLIN;
        }
        if c < MAX {
            ev |= POLLOUT;
        }
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_u64(f: &OpenFile) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        f.read(&mut b).map(|_| u64::from_le_bytes(b))
    }

    #[test]
    fn counts_add_up_and_a_read_takes_them_all() {
        let f = new(3, EFD_NONBLOCK).expect("eventfd");
        assert_eq!(f.write(&5u64.to_le_bytes()), Ok(8));
        assert_eq!(f.poll() & POLLIN, POLLIN);
        assert_eq!(read_u64(&f), Ok(8));
        assert_eq!(read_u64(&f), Err(Errno::EAGAIN));
        assert_eq!(f.write(&[1, 2, 3]), Err(Errno::EINVAL), "short write");
        assert_eq!(f.write(&u64::MAX.to_le_bytes()), Err(Errno::EINVAL));
        assert_eq!(f.read(&mut [0u8; 4]), Err(Errno::EINVAL), "short read");
    }

    #[test]
    fn semaphore_mode_takes_one_and_a_full_counter_refuses() {
        let f = new(2, EFD_NONBLOCK | EFD_SEMAPHORE).expect("eventfd");
        assert_eq!(read_u64(&f), Ok(1));
        assert_eq!(read_u64(&f), Ok(1));
        assert_eq!(read_u64(&f), Err(Errno::EAGAIN));
        assert_eq!(f.write(&(u64::MAX - 1).to_le_bytes()), Ok(8));
        assert_eq!(f.poll() & POLLOUT, 0, "full");
        assert_eq!(f.write(&1u64.to_le_bytes()), Err(Errno::EAGAIN));
        assert_eq!(new(0, 0x10).err(), Some(Errno::EINVAL));
    }
}
