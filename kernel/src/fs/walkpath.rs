//! The canonical path a walk builds as it goes. A walk that returns a
//! [`Loc`](super::walk::Loc) builds it in the `String` it returns; one whose caller wants
//! only the inode (`readlink`) builds it in a [`WalkPath`], on the kernel stack up to
//! [`INLINE_PATH`] bytes and on the heap (fallibly, `ENOMEM`) past that, so it allocates
//! nothing for it.

use super::walk::next_component;
use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// Bytes kept on the kernel stack: nearly every path walked.
pub const INLINE_PATH: usize = 128;

pub struct WalkPath {
    inline: [u8; INLINE_PATH],
    /// The path once it outgrew `inline` (then `inline` is unused).
    heap: Vec<u8>,
    len: usize,
    spilled: bool,
}

/// What a walk needs of the path it builds: a [`WalkPath`] for a walk whose caller wants
/// only the inode, the result's `String` (made with room for the path given) for one that
/// returns a [`Loc`](super::walk::Loc).
pub trait PathSink {
    fn len(&self) -> usize;
    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn bytes(&self) -> &[u8];
    /// Room for `more` bytes (`ENOMEM` when there is none): a walk reserves its path's
    /// length before it starts.
    #[inline]
    fn reserve(&mut self, _more: usize) -> Result<(), Errno> {
        Ok(())
    }
    /// The text of the first `len` bytes.
    fn prefix(&self, len: usize) -> Result<&str, Errno>;
    fn push_str(&mut self, s: &str) -> Result<(), Errno>;
    /// Adds a `/` unless the path ends with one (the root).
    fn push_slash(&mut self) -> Result<(), Errno>;
    /// Finds the next component of `text` at or after byte `from` (its byte range;
    /// `None` at the end) and adds it: `/name` (`name` alone after a path ending with
    /// `/`).
    #[inline]
    fn push_next(&mut self, text: &str, from: usize) -> Result<Option<(usize, usize)>, Errno> {
        push_found(self, text, from)
    }
    /// Adds `n` in decimal.
    fn push_decimal(&mut self, n: u32) -> Result<(), Errno>;
    fn truncate(&mut self, len: usize);

    /// Whether the path is `s`.
    #[inline]
    fn is(&self, s: &str) -> bool {
        super::path::same(self.bytes(), s.as_bytes())
    }

    /// The whole path as text.
    #[inline]
    fn as_str(&self) -> Result<&str, Errno> {
        self.prefix(self.len())
    }

    /// Replaces the path with `s`.
    #[inline]
    fn set(&mut self, s: &str) -> Result<(), Errno> {
        self.truncate(0);
        self.push_str(s)
    }
}

impl PathSink for String {
    #[inline]
    fn len(&self) -> usize {
        String::len(self)
    }

    #[inline]
    fn reserve(&mut self, more: usize) -> Result<(), Errno> {
        self.try_reserve(more).map_err(|_| Errno::ENOMEM)
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }

    #[inline]
    fn prefix(&self, len: usize) -> Result<&str, Errno> {
        self.get(..len).ok_or(Errno::EINVAL)
    }

    /// Room is checked inline (the walk reserved the path's length; only symlink
    /// targets grow it), grown fallibly out of line.
    #[inline]
    fn push_str(&mut self, s: &str) -> Result<(), Errno> {
        if self.capacity() - String::len(self) < s.len() {
            grow(self, s.len())?;
        }
        String::push_str(self, s);
        Ok(())
    }

    #[inline]
    fn push_slash(&mut self) -> Result<(), Errno> {
        if self.ends_with('/') {
            return Ok(());
        }
        if self.capacity() == String::len(self) {
            grow(self, 1)?;
        }
        self.push('/');
        Ok(())
    }

    fn push_decimal(&mut self, n: u32) -> Result<(), Errno> {
        grow(self, 10)?;
        super::procfs::push_decimal(self, n);
        Ok(())
    }

    #[inline]
    fn truncate(&mut self, len: usize) {
        String::truncate(self, len)
    }
}

/// [`PathSink::push_next`] in its parts: the component found, then a slash and the name
/// added.
#[inline]
fn push_found<P: PathSink + ?Sized>(
    sink: &mut P,
    text: &str,
    from: usize,
) -> Result<Option<(usize, usize)>, Errno> {
    let Some((a, b)) = next_component(text, from) else {
        return Ok(None);
    };
    sink.push_slash()?;
    sink.push_str(text.get(a..b).ok_or(Errno::EINVAL)?)?;
    Ok(Some((a, b)))
}

#[inline(never)]
fn grow(s: &mut String, more: usize) -> Result<(), Errno> {
    s.try_reserve(more).map_err(|_| Errno::ENOMEM)
}

impl PathSink for WalkPath {
    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        if self.spilled {
            &self.heap
        } else {
            &self.inline[..self.len]
        }
    }

    /// `EINVAL` cannot happen: only whole `&str`s and ASCII are pushed, and the path is
    /// cut only where one of them ended.
    fn prefix(&self, len: usize) -> Result<&str, Errno> {
        let b = self.bytes();
        core::str::from_utf8(&b[..len.min(b.len())]).map_err(|_| Errno::EINVAL)
    }

    #[inline]
    fn push_str(&mut self, s: &str) -> Result<(), Errno> {
        self.push_bytes(s.as_bytes())
    }

    #[inline]
    fn push_slash(&mut self) -> Result<(), Errno> {
        if !self.spilled && self.len < INLINE_PATH {
            if self.len > 0 && self.inline[self.len - 1] == b'/' {
                return Ok(());
            }
            self.inline[self.len] = b'/';
            self.len += 1;
            return Ok(());
        }
        if self.ends_with_slash() {
            return Ok(());
        }
        self.push_heap(b"/")
    }

    /// One pass over the component: each byte is tested for the `/` that ends it and
    /// stored as it goes (a scan, then a copy, cost twice the passes).
    #[inline(always)]
    fn push_next(&mut self, text: &str, from: usize) -> Result<Option<(usize, usize)>, Errno> {
        let bytes = text.as_bytes();
        let mut a = from;
        while a < bytes.len() && bytes[a] == b'/' {
            a += 1;
        }
        let Some(src) = bytes.get(a..).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let mut at = self.len;
        if self.spilled || at.wrapping_add(src.len()) >= INLINE_PATH {
            return push_found(self, text, from);
        }
        if at == 0 || self.inline[at.wrapping_sub(1)] != b'/' {
            self.inline[at] = b'/';
            at = at.wrapping_add(1);
        }
        let Some(dst) = self.inline.get_mut(at..at.wrapping_add(src.len())) else {
            return Err(Errno::ENAMETOOLONG);
        };
        let mut n = 0;
        while n < src.len() && src[n] != b'/' {
            dst[n] = src[n];
            n += 1;
        }
        self.len = at.wrapping_add(n);
        Ok(Some((a, a + n)))
    }

    fn push_decimal(&mut self, n: u32) -> Result<(), Errno> {
        let mut digits = [0u8; 10];
        let start = super::procfs::write_digits_before(&mut digits, 10, n);
        self.push_bytes(&digits[start..])
    }

    #[inline]
    fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            if self.spilled {
                self.heap.truncate(len);
            }
        }
    }
}

impl Default for WalkPath {
    fn default() -> Self {
        Self::new()
    }
}

impl WalkPath {
    pub fn new() -> WalkPath {
        WalkPath {
            inline: [0; INLINE_PATH],
            heap: Vec::new(),
            len: 0,
            spilled: false,
        }
    }

    #[inline]
    pub fn ends_with_slash(&self) -> bool {
        self.len > 0 && self.bytes()[self.len - 1] == b'/'
    }

    #[inline]
    fn push_bytes(&mut self, s: &[u8]) -> Result<(), Errno> {
        let end = self.len + s.len();
        if self.spilled || end > INLINE_PATH {
            return self.push_heap(s);
        }
        // Byte stores: the names a walk pushes are a few bytes, and `copy_from_slice`'s
        // `memcpy` call costs more than they do.
        for (i, &b) in (self.len..).zip(s) {
            self.inline[i] = b;
        }
        self.len = end;
        Ok(())
    }

    #[inline(never)]
    fn push_heap(&mut self, s: &[u8]) -> Result<(), Errno> {
        let end = self.len + s.len();
        self.heap
            .try_reserve(end.saturating_sub(self.heap.len()))
            .map_err(|_| Errno::ENOMEM)?;
        if !self.spilled {
            self.heap.clear();
            self.heap.extend_from_slice(&self.inline[..self.len]);
            self.spilled = true;
        }
        self.heap.extend_from_slice(s);
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paths_stay_inline_and_long_ones_spill_and_come_back() {
        let mut p = WalkPath::new();
        p.push_str("/").expect("push");
        assert!(p.ends_with_slash());
        p.push_slash().expect("slash");
        p.push_str("proc").expect("push");
        p.push_slash().expect("slash");
        p.push_decimal(4_294_967_295).expect("digits");
        assert_eq!(p.as_str(), Ok("/proc/4294967295"));
        assert!(p.is("/proc/4294967295") && !p.is("/proc/4294967290"));
        assert!(!p.spilled);
        let keep = p.len();
        let long = "x".repeat(200);
        p.push_slash().expect("slash");
        p.push_str(&long).expect("spill");
        assert!(p.spilled);
        assert_eq!(p.len(), keep + 201);
        assert_eq!(p.prefix(keep), Ok("/proc/4294967295"));
        p.truncate(keep);
        p.push_slash().expect("slash");
        p.push_decimal(7).expect("digit");
        assert_eq!(p.as_str(), Ok("/proc/4294967295/7"));
        p.set("/a").expect("set");
        assert_eq!(p.as_str(), Ok("/a"));
        p.truncate(0);
        assert_eq!((p.len(), p.as_str()), (0, Ok("")));
        let mut s = String::from("/");
        s.push_slash().expect("slash");
        PathSink::push_str(&mut s, "proc").expect("push");
        s.push_slash().expect("slash");
        s.push_decimal(42).expect("digits");
        assert_eq!((PathSink::len(&s), s.prefix(5)), (8, Ok("/proc")));
        assert!(s.is("/proc/42"));
    }
}
