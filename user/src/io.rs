//! Printing on fds 1 and 2 without allocating: text is formatted into a stack buffer and
//! written in as few `write` calls as possible (one per line for short lines).

use crate::sys;
use core::fmt::{self, Write};

struct FdWriter {
    fd: i32,
    buf: [u8; 512],
    len: usize,
}

impl FdWriter {
    fn flush(&mut self) {
        // Nothing useful to do if the console write fails.
        let _ = sys::write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for chunk in s.as_bytes().chunks(self.buf.len()) {
            if self.len + chunk.len() > self.buf.len() {
                self.flush();
            }
            self.buf[self.len..self.len + chunk.len()].copy_from_slice(chunk);
            self.len += chunk.len();
        }
        Ok(())
    }
}

/// Formats `args` and writes it to `fd`.
pub fn print_fd(fd: i32, args: fmt::Arguments) {
    let mut w = FdWriter {
        fd,
        buf: [0; 512],
        len: 0,
    };
    let _ = w.write_fmt(args);
    w.flush();
}

/// Formats into a caller-provided buffer; returns the text written (truncated if it does not fit).
pub fn format_into<'a>(buf: &'a mut [u8], args: fmt::Arguments) -> &'a str {
    struct Buf<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl Write for Buf<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            if n < s.len() { Err(fmt::Error) } else { Ok(()) }
        }
    }
    let mut b = Buf { buf, len: 0 };
    let _ = b.write_fmt(args);
    let len = b.len;
    // Truncation can split a UTF-8 sequence; keep the valid prefix.
    match core::str::from_utf8(&b.buf[..len]) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&b.buf[..e.valid_up_to()]).unwrap_or(""),
    }
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::print_fd(1, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::io::print_fd(1, format_args!("\n")) };
    ($($arg:tt)*) => { $crate::io::print_fd(1, format_args!("{}\n", format_args!($($arg)*))) };
}

#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::print_fd(2, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! eprintln {
    () => { $crate::io::print_fd(2, format_args!("\n")) };
    ($($arg:tt)*) => { $crate::io::print_fd(2, format_args!("{}\n", format_args!($($arg)*))) };
}
