//! The terminal line discipline of the console: Linux's `struct termios` (kernel
//! layout), canonical mode (echo, erase, kill, Enter delivers the line, ^D at line start
//! is EOF) and raw mode (bytes as they come) when `ICANON` is cleared.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub const ICRNL: u32 = 0o400;
pub const IXON: u32 = 0o2000;
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;

pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSUSP: usize = 10;
pub const NCCS: usize = 19;

/// Longest line canonical mode buffers (Linux: 4095 plus the newline).
const MAX_LINE: usize = 4095;

/// `struct termios` as the kernel's `TCGETS` copies it (36 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
}

pub const TERMIOS_SIZE: usize = 36;

impl Default for Termios {
    fn default() -> Self {
        Termios::DEFAULT
    }
}

impl Default for LineDiscipline {
    fn default() -> Self {
        LineDiscipline::new()
    }
}

impl Termios {
    /// Linux's defaults for a serial console (`stty sane`, 38400 8N1).
    pub const DEFAULT: Termios = {
        let mut cc = [0u8; NCCS];
        cc[VINTR] = 0x03;
        cc[VQUIT] = 0x1c;
        cc[VERASE] = 0x7f;
        cc[VKILL] = 0x15;
        cc[VEOF] = 0x04;
        cc[VTIME] = 0;
        cc[VMIN] = 1;
        cc[8] = 0x11; // VSTART
        cc[9] = 0x13; // VSTOP
        cc[VSUSP] = 0x1a;
        cc[12] = 0x12; // VREPRINT
        cc[13] = 0x0f; // VDISCARD
        cc[14] = 0x17; // VWERASE
        cc[15] = 0x16; // VLNEXT
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: 0o277, // B38400 | CS8 | CREAD | HUPCL
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    };

    pub fn to_bytes(&self) -> [u8; TERMIOS_SIZE] {
        let mut b = [0u8; TERMIOS_SIZE];
        b[0..4].copy_from_slice(&self.iflag.to_le_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_le_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_le_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_le_bytes());
        b[16] = self.line;
        b[17..17 + NCCS].copy_from_slice(&self.cc);
        b
    }

    pub fn from_bytes(b: &[u8; TERMIOS_SIZE]) -> Termios {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut cc = [0u8; NCCS];
        cc.copy_from_slice(&b[17..17 + NCCS]);
        Termios {
            iflag: word(0),
            oflag: word(4),
            cflag: word(8),
            lflag: word(12),
            line: b[16],
            cc,
        }
    }
}

/// What a received byte asks the caller to do besides echoing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    None,
    /// A signal for the foreground process group (SIGINT, SIGQUIT, SIGTSTP).
    Signal(u32),
}

pub struct LineDiscipline {
    pub termios: Termios,
    /// The line being edited (canonical mode).
    edit: Vec<u8>,
    /// Finished lines; an empty one is an end-of-file mark.
    lines: VecDeque<Vec<u8>>,
    /// Bytes for readers in raw mode.
    raw: VecDeque<u8>,
}

impl LineDiscipline {
    pub const fn new() -> Self {
        LineDiscipline {
            termios: Termios::DEFAULT,
            edit: Vec::new(),
            lines: VecDeque::new(),
            raw: VecDeque::new(),
        }
    }

    fn canonical(&self) -> bool {
        self.termios.lflag & ICANON != 0
    }

    fn echo(&self, out: &mut Vec<u8>, b: u8) {
        if self.termios.lflag & ECHO == 0 {
            return;
        }
        if b < 0x20 && b != b'\n' && b != b'\t' && self.termios.lflag & ECHOCTL != 0 {
            out.extend_from_slice(&[b'^', b + 0x40]);
        } else {
            out.push(b);
        }
    }

    fn erase_one(&mut self, out: &mut Vec<u8>) {
        if let Some(c) = self.edit.pop()
            && self.termios.lflag & ECHO != 0
        {
            let width = if c < 0x20 && c != b'\t' && self.termios.lflag & ECHOCTL != 0 {
                2
            } else {
                1
            };
            for _ in 0..width {
                out.extend_from_slice(b"\x08 \x08");
            }
        }
    }

    /// Takes one received byte; appends what to echo to `out`.
    pub fn input(&mut self, mut b: u8, out: &mut Vec<u8>) -> Event {
        let t = self.termios;
        if b == b'\r' && t.iflag & ICRNL != 0 {
            b = b'\n';
        }
        if t.lflag & ISIG != 0 {
            let sig = if b == t.cc[VINTR] {
                Some(2)
            } else if b == t.cc[VQUIT] {
                Some(3)
            } else if b == t.cc[VSUSP] {
                Some(20)
            } else {
                None
            };
            if let Some(sig) = sig {
                self.edit.clear();
                self.echo(out, b);
                if t.lflag & ECHO != 0 {
                    out.push(b'\n');
                }
                return Event::Signal(sig);
            }
        }
        if !self.canonical() {
            self.raw.push_back(b);
            self.echo(out, b);
            return Event::None;
        }
        if b == t.cc[VERASE] || b == 0x08 {
            self.erase_one(out);
        } else if b == t.cc[VKILL] {
            while !self.edit.is_empty() {
                self.erase_one(out);
            }
        } else if b == t.cc[VEOF] {
            // At line start: end of file; otherwise deliver the line without a newline.
            self.lines.push_back(core::mem::take(&mut self.edit));
        } else if b == b'\n' {
            let mut line = core::mem::take(&mut self.edit);
            line.push(b'\n');
            self.lines.push_back(line);
            self.echo(out, b);
        } else if self.edit.len() < MAX_LINE {
            self.edit.push(b);
            self.echo(out, b);
        }
        Event::None
    }

    /// Whether a read would return now.
    pub fn readable(&self) -> bool {
        if self.canonical() {
            !self.lines.is_empty()
        } else {
            !self.raw.is_empty()
        }
    }

    /// Bytes a read could return now (`FIONREAD`).
    pub fn available(&self) -> usize {
        if self.canonical() {
            self.lines.iter().map(|l| l.len()).sum()
        } else {
            self.raw.len()
        }
    }

    /// Reads what is ready: at most one line in canonical mode (0 bytes for an
    /// end-of-file mark). `None` when nothing is ready (the reader waits).
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.canonical() {
            let mut line = self.lines.pop_front()?;
            let n = buf.len().min(line.len());
            buf[..n].copy_from_slice(&line[..n]);
            if n < line.len() {
                line.drain(..n);
                self.lines.push_front(line);
            }
            Some(n)
        } else {
            if self.raw.is_empty() {
                return None;
            }
            let n = buf.len().min(self.raw.len());
            for (d, s) in buf.iter_mut().zip(self.raw.drain(..n)) {
                *d = s;
            }
            Some(n)
        }
    }

    /// Installs new settings; pending input moves over to the new mode.
    pub fn set_termios(&mut self, t: Termios, flush_input: bool) {
        let was_canonical = self.canonical();
        self.termios = t;
        if flush_input {
            self.edit.clear();
            self.lines.clear();
            self.raw.clear();
            return;
        }
        match (was_canonical, self.canonical()) {
            (true, false) => {
                for l in self.lines.drain(..) {
                    self.raw.extend(l);
                }
                self.raw.extend(self.edit.drain(..));
            }
            (false, true) => self.edit.extend(self.raw.drain(..)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(ld: &mut LineDiscipline, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            ld.input(b, &mut out);
        }
        out
    }

    #[test]
    fn termios_has_the_kernel_layout() {
        let t = Termios::default();
        let b = t.to_bytes();
        assert_eq!(b.len(), 36);
        assert_eq!(u32::from_le_bytes([b[12], b[13], b[14], b[15]]), t.lflag);
        assert_eq!(b[17 + VMIN], 1);
        assert_eq!(Termios::from_bytes(&b), t);
    }

    #[test]
    fn canonical_mode_delivers_edited_lines_on_enter() {
        let mut ld = LineDiscipline::default();
        let echo = feed(&mut ld, b"helo\x7flo\r");
        assert_eq!(echo, b"helo\x08 \x08lo\n");
        assert!(ld.readable());
        let mut buf = [0u8; 4];
        assert_eq!(ld.read(&mut buf), Some(4));
        assert_eq!(&buf, b"hell");
        let mut buf = [0u8; 16];
        assert_eq!(ld.read(&mut buf), Some(2), "the rest of the line");
        assert_eq!(&buf[..2], b"o\n");
        assert_eq!(ld.read(&mut buf), None, "nothing more: the reader waits");
    }

    #[test]
    fn ctrl_d_at_line_start_is_eof_and_elsewhere_delivers_the_line() {
        let mut ld = LineDiscipline::default();
        feed(&mut ld, b"ab\x04\x04");
        let mut buf = [0u8; 8];
        assert_eq!(ld.read(&mut buf), Some(2));
        assert_eq!(&buf[..2], b"ab");
        assert_eq!(ld.read(&mut buf), Some(0), "EOF");
    }

    #[test]
    fn kill_erases_the_line_and_ctrl_c_reports_sigint() {
        let mut ld = LineDiscipline::default();
        feed(&mut ld, b"abc\x15x\n");
        let mut buf = [0u8; 8];
        assert_eq!(ld.read(&mut buf), Some(2));
        assert_eq!(&buf[..2], b"x\n");
        let mut out = Vec::new();
        ld.input(b'q', &mut out);
        assert_eq!(ld.input(3, &mut out), Event::Signal(2));
        assert!(!ld.readable(), "^C discards the line");
    }

    #[test]
    fn raw_mode_passes_bytes_without_echo() {
        let mut ld = LineDiscipline::default();
        feed(&mut ld, b"par");
        let mut t = ld.termios;
        t.lflag &= !(ICANON | ECHO);
        ld.set_termios(t, false);
        let echo = feed(&mut ld, b"\x7fz");
        assert!(echo.is_empty(), "no echo: {echo:?}");
        let mut buf = [0u8; 8];
        assert_eq!(ld.read(&mut buf), Some(5));
        assert_eq!(&buf[..5], b"par\x7fz", "the unfinished line and raw bytes");
    }
}
