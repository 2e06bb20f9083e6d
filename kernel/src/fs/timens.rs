//! `/proc/[pid]/timens_offsets` (Linux) and `/proc/[pid]/time_offsets` (LiteOS-A): two views
//! of one state, the offsets of the process's **time_for_children** container.
//!
//! - `timens_offsets` reads `"%-10s %10lld %9ld\n"` for monotonic then boottime. A write is
//!   one or two lines `<clock> <secs> <nsecs>` (clock `monotonic`/`1` or `boottime`/`7`), at
//!   offset 0 and under 4096 bytes, parsed like Linux's `sscanf("%9s %lld %lu")`; errors in
//!   Linux's order: `EINVAL` (text, clock, nsecs >= 1e9), `EPERM` (no `CAP_SYS_TIME` over
//!   the container's owner), `ERANGE` (out of range), `EACCES` (frozen).
//! - `time_offsets` reads `"monotonic %lld %ld\n"`. A write is `monotonic <sec> <nsec>`
//!   (base-10 numbers, trailing blanks allowed): `EINVAL` for an empty write or other text,
//!   `EACCES` for nsec >= 1e9 (LiteOS-A's errno) or a frozen container; a negative nsec is
//!   accepted as LiteOS-A does. The privilege and range checks are Linux's, as above.

use crate::container::time::{Clock, NSEC_PER_SEC, TimeContainer, checked_offset, split};
use crate::errno::Errno;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Which of the two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetsFile {
    /// `timens_offsets`
    Linux,
    /// `time_offsets`
    LiteOs,
}

impl OffsetsFile {
    pub fn name(self) -> &'static str {
        match self {
            OffsetsFile::Linux => "timens_offsets",
            OffsetsFile::LiteOs => "time_offsets",
        }
    }

    /// Linux's `S_IRUGO|S_IWUSR`; LiteOS-A's 0664.
    pub fn mode(self) -> u32 {
        match self {
            OffsetsFile::Linux => 0o644,
            OffsetsFile::LiteOs => 0o664,
        }
    }
}

/// Linux's limit on one write (`count >= PAGE_SIZE` → `EINVAL`).
const WRITE_MAX: usize = 4096;

/// The text of `file` for offsets `monotonic` and `boottime` (nanoseconds).
pub fn render(file: OffsetsFile, monotonic: i64, boottime: i64) -> String {
    match file {
        OffsetsFile::Linux => {
            let mut s = String::new();
            for (clock, ns) in [(Clock::Monotonic, monotonic), (Clock::Boottime, boottime)] {
                let (sec, nsec) = split(ns);
                s.push_str(&format!("{:<10} {:>10} {:>9}\n", clock.name(), sec, nsec));
            }
            s
        }
        OffsetsFile::LiteOs => {
            let (sec, nsec) = split(monotonic);
            format!("monotonic {sec} {nsec}\n")
        }
    }
}

/// One parsed setting: the clock, seconds, nanoseconds (as written).
pub type Setting = (Clock, i64, i64);

fn is_blank(c: u8) -> bool {
    c.is_ascii_whitespace()
}

/// A cursor over one line, with `sscanf`'s field rules.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn skip_blanks(&mut self) {
        while self.i < self.s.len() && is_blank(self.s[self.i]) {
            self.i += 1;
        }
    }

    /// `%Ns`: up to `max` non-blank bytes after blanks; `None` if there are none.
    fn word(&mut self, max: usize) -> Option<&'a [u8]> {
        self.skip_blanks();
        let start = self.i;
        while self.i < self.s.len() && !is_blank(self.s[self.i]) && self.i - start < max {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// Decimal digits after blanks, with a leading `-` when `signed`; `None` without a
    /// digit. A value too large saturates (it is then out of range for its caller).
    fn number(&mut self, signed: bool) -> Option<i64> {
        self.skip_blanks();
        let neg = signed && self.s.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(d) = self.s.get(self.i).filter(|c| c.is_ascii_digit()) {
            v = v.saturating_mul(10).saturating_add((d - b'0') as i64);
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        Some(if neg { -v } else { v })
    }

    fn rest_is_blank(&self) -> bool {
        self.s[self.i..].iter().all(|&c| is_blank(c))
    }
}

/// Parses a `timens_offsets` write (Linux's `timens_offsets_write`): lines split at `\n`,
/// at most two used (a longer write counts only up to the end of the second line: the
/// returned length). Each line is `%9s %lld %lu`; anything after the third field is
/// ignored, as `sscanf` does.
pub fn parse_timens(text: &[u8]) -> Result<(Vec<Setting>, usize), Errno> {
    // The kernel copies the text as a C string.
    let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
    let mut out = Vec::new();
    let mut pos = 0;
    let mut consumed = text.len();
    loop {
        let (line, next) = match text[pos..].iter().position(|&c| c == b'\n') {
            Some(n) => (
                &text[pos..pos + n],
                Some(pos + n + 1).filter(|&x| x < text.len()),
            ),
            None => (&text[pos..], None),
        };
        let mut sc = Scan { s: line, i: 0 };
        let clock = sc.word(9).ok_or(Errno::EINVAL)?;
        let sec = sc.number(true).ok_or(Errno::EINVAL)?;
        let nsec = sc.number(false).ok_or(Errno::EINVAL)?;
        if nsec >= NSEC_PER_SEC {
            return Err(Errno::EINVAL);
        }
        let clock = Clock::from_name(clock).ok_or(Errno::EINVAL)?;
        out.push((clock, sec, nsec));
        match next {
            Some(n) if out.len() == 2 => {
                consumed = n;
                break;
            }
            Some(n) => pos = n,
            None => break,
        }
    }
    Ok((out, consumed))
}

/// Parses a `time_offsets` write: `monotonic <sec> <nsec>`, trailing blanks allowed.
/// `EINVAL` for other text, `EACCES` for nsec >= 1e9 (LiteOS-A).
pub fn parse_liteos(text: &[u8]) -> Result<Setting, Errno> {
    let rest = text.strip_prefix(b"monotonic").ok_or(Errno::EINVAL)?;
    if !rest.first().is_some_and(|&c| is_blank(c)) {
        return Err(Errno::EINVAL);
    }
    let mut sc = Scan { s: rest, i: 0 };
    let sec = sc.number(true).ok_or(Errno::EINVAL)?;
    let nsec = sc.number(true).ok_or(Errno::EINVAL)?;
    if !sc.rest_is_blank() {
        return Err(Errno::EINVAL);
    }
    if nsec >= NSEC_PER_SEC {
        return Err(Errno::EACCES);
    }
    Ok((Clock::Monotonic, sec, nsec))
}

/// A write of `text` at `offset` to `file` of a process whose time_for_children is
/// `target`. `may_set_time`: the writer has `CAP_SYS_TIME` over the container's owner;
/// `now_ns`: the host's monotonic (= boot) clock. Returns the byte count written.
pub fn write(
    file: OffsetsFile,
    target: &TimeContainer,
    offset: u64,
    text: &[u8],
    may_set_time: bool,
    now_ns: u64,
) -> Result<usize, Errno> {
    let (settings, count) = match file {
        OffsetsFile::Linux => {
            if offset != 0 || text.len() >= WRITE_MAX {
                return Err(Errno::EINVAL);
            }
            parse_timens(text)?
        }
        OffsetsFile::LiteOs => {
            if text.is_empty() {
                return Err(Errno::EINVAL);
            }
            (alloc::vec![parse_liteos(text)?], text.len())
        }
    };
    if !may_set_time {
        return Err(Errno::EPERM);
    }
    let mut new = Vec::with_capacity(settings.len());
    for (clock, sec, nsec) in settings {
        new.push((clock, checked_offset(now_ns, sec, nsec)?));
    }
    target.set_offsets(&new)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn render_formats() {
        assert_eq!(
            render(OffsetsFile::Linux, 0, 0),
            "monotonic           0         0\nboottime            0         0\n"
        );
        assert_eq!(
            render(OffsetsFile::Linux, 600_800_000_000, -500_000_000),
            "monotonic         600 800000000\nboottime           -1 500000000\n"
        );
        assert_eq!(
            render(OffsetsFile::LiteOs, 600_800_000_000, 7),
            "monotonic 600 800000000\n"
        );
        assert_eq!(
            render(OffsetsFile::LiteOs, -1, 0),
            "monotonic -1 999999999\n"
        );
    }

    #[test]
    fn parse_timens_lines() {
        let m = Clock::Monotonic;
        let b = Clock::Boottime;
        assert_eq!(parse_timens(b"monotonic 5 6"), Ok((vec![(m, 5, 6)], 13)));
        assert_eq!(parse_timens(b"1 -5 6\n"), Ok((vec![(m, -5, 6)], 7)));
        assert_eq!(
            parse_timens(b"boottime 1 2\n7 3 4\n"),
            Ok((vec![(b, 1, 2), (b, 3, 4)], 19))
        );
        // Two lines at most: the rest is not consumed.
        assert_eq!(
            parse_timens(b"1 1 0\n7 2 0\nbogus\n"),
            Ok((vec![(m, 1, 0), (b, 2, 0)], 12))
        );
        // sscanf ignores what follows the third field.
        assert_eq!(
            parse_timens(b"  monotonic\t1  2 x"),
            Ok((vec![(m, 1, 2)], 18))
        );
        // `%9s` stops after nine bytes, so the seconds may follow the name directly.
        assert_eq!(parse_timens(b"monotonic1 0"), Ok((vec![(m, 1, 0)], 12)));
    }

    #[test]
    fn parse_timens_errors() {
        for bad in [
            &b""[..],
            b"\n",
            b"monotonic",
            b"monotonic 1",
            b"monotonic x 1",
            b"monotonic 1 -1",
            b"monotonic 1 1000000000",
            b"realtime 1 0",
            b"0 1 0",
            b"4 1 0",
            b"monotonic 1 0\n\n",
        ] {
            assert_eq!(
                parse_timens(bad),
                Err(Errno::EINVAL),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }

    #[test]
    fn parse_liteos_rules() {
        let m = Clock::Monotonic;
        assert_eq!(
            parse_liteos(b"monotonic 600 800000000"),
            Ok((m, 600, 800_000_000))
        );
        assert_eq!(parse_liteos(b"monotonic -3 -5\n"), Ok((m, -3, -5)));
        assert_eq!(parse_liteos(b"monotonic 1 1000000000"), Err(Errno::EACCES));
        assert_eq!(
            parse_liteos(b"monotonic 172800 800000000000"),
            Err(Errno::EACCES)
        );
        for bad in [
            &b""[..],
            b"boottime 1 2",
            b"monotonic",
            b"monotonic 1",
            b"monotonic1 2 3",
            b"monotonic 1 2 3",
            b"1 2 3",
        ] {
            assert_eq!(
                parse_liteos(bad),
                Err(Errno::EINVAL),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }
}
