//! bkrun `-t`: the pseudo-terminal pair, CMD's side (session leader, controlling terminal on
//! 0/1/2) and bkrun's relay (stdin to the master, the master to stdout) until CMD exits.

extern crate alloc;
use alloc::ffi::CString;
use ulib::container::{ioctl, setsid};
use ulib::net::{POLLHUP, POLLIN, poll};
use ulib::sys::{self, errno::*};

const O_NOCTTY: usize = 0o400;
const TIOCSCTTY: usize = 0x540E;
const TIOCGPTN: usize = 0x8004_5430;
const TIOCSPTLCK: usize = 0x4004_5431;
const EIO: i32 = 5;
const POLLERR: i16 = 0x8;
/// The terminal's default EOF character (VEOF, ^D).
const VEOF: u8 = 4;

/// Opens /dev/ptmx, unlocks its slave and opens it: (master, slave), both close-on-exec.
pub fn open_pair() -> sys::SysResult<(i32, i32)> {
    let flags = sys::O_RDWR | O_NOCTTY | sys::O_CLOEXEC;
    let master = sys::open(c"/dev/ptmx", flags, 0)?;
    let slave = (|| {
        let mut n = 0u32;
        ioctl(master, TIOCGPTN, &mut n as *mut u32 as usize)?;
        let mut zero = 0i32;
        ioctl(master, TIOCSPTLCK, &mut zero as *mut i32 as usize)?;
        let path = CString::new(alloc::format!("/dev/pts/{n}")).map_err(|_| EINVAL)?;
        sys::open(&path, flags, 0)
    })();
    match slave {
        Ok(s) => Ok((master, s)),
        Err(e) => {
            let _ = sys::close(master);
            Err(e)
        }
    }
}

/// In CMD's process: a new session whose controlling terminal is `slave`, on fds 0, 1, 2
/// (dup2 clears close-on-exec there).
pub fn become_controlled(slave: i32) -> sys::SysResult {
    setsid()?;
    ioctl(slave, TIOCSCTTY, 0)?;
    for fd in 0..3 {
        sys::dup2(slave, fd)?;
    }
    if slave > 2 {
        let _ = sys::close(slave);
    }
    Ok(0)
}

fn write_all(fd: i32, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match sys::write(fd, buf) {
            Ok(0) => return false,
            Ok(n) => buf = &buf[n..],
            Err(EINTR) | Err(EAGAIN) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Copies what the master has to stdout; false when the master is done (EIO: no slave left).
fn pump_master(master: i32) -> bool {
    let mut buf = [0u8; 1024];
    match sys::read(master, &mut buf) {
        Ok(0) | Err(EIO) => false,
        Ok(n) => {
            let _ = write_all(1, &buf[..n]);
            true
        }
        Err(EINTR) | Err(EAGAIN) => true,
        Err(_) => false,
    }
}

/// Relays until `pid` exits; then drains the master. Returns `pid`'s wait status.
pub fn relay(master: i32, pid: i32) -> sys::SysResult<i32> {
    let mut stdin_open = true;
    let mut master_open = true;
    let status = loop {
        match sys::wait4(pid, sys::WNOHANG) {
            Ok((0, _)) => {}
            Ok((_, st)) => break st,
            Err(EINTR) => continue,
            Err(e) => return Err(e),
        }
        let mut fds = alloc::vec::Vec::new();
        if master_open {
            fds.push((master, POLLIN));
        }
        if stdin_open {
            fds.push((0, POLLIN));
        }
        let revents = match poll(&fds, 50) {
            Ok((_, r)) => r,
            Err(EINTR) => continue,
            Err(_) => {
                // Nothing to poll (or no memory): just wait for CMD.
                let _ = sys::sleep_ms(50);
                continue;
            }
        };
        for (i, &(fd, _)) in fds.iter().enumerate() {
            let ev = revents.get(i).copied().unwrap_or(0);
            if ev & (POLLIN | POLLHUP | POLLERR) == 0 {
                continue;
            }
            if fd == master {
                master_open = pump_master(master);
            } else {
                let mut buf = [0u8; 1024];
                match sys::read(0, &mut buf) {
                    Ok(n) if n > 0 => {
                        let _ = write_all(master, &buf[..n]);
                    }
                    Err(EINTR) | Err(EAGAIN) => {}
                    _ => {
                        // stdin's end: the terminal's EOF character for CMD.
                        stdin_open = false;
                        let _ = write_all(master, &[VEOF]);
                    }
                }
            }
        }
    };
    // Drain what CMD wrote before it exited.
    while master_open {
        match poll(&[(master, POLLIN)], 0) {
            Ok((_, r)) if r.first().copied().unwrap_or(0) & (POLLIN | POLLHUP | POLLERR) != 0 => {
                master_open = pump_master(master);
            }
            Err(EINTR) => {}
            _ => break,
        }
    }
    Ok(status)
}

/// symlink(2) (nr 88).
pub fn symlink(target: &str, path: &str) -> sys::SysResult {
    let t = CString::new(target).map_err(|_| EINVAL)?;
    let p = CString::new(path).map_err(|_| EINVAL)?;
    // SAFETY: two NUL-terminated strings that outlive the call.
    sys::check(unsafe { sys::syscall2(88, t.as_ptr() as usize, p.as_ptr() as usize) })
}
