//! The initramfs format: a parser for cpio "newc" archives (magic `070701`, or `070702`
//! with checksums, which are not verified). A malformed archive gives `EINVAL`.

use crate::errno::Errno;

const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// One archive member. `mode` holds the Linux file type bits and the permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub data: &'a [u8],
}

/// Iterates over the members of an archive up to its `TRAILER!!!` entry (or its end).
/// After an error the iterator stops.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            done: false,
        }
    }

    fn next_entry(&mut self) -> Result<Option<Entry<'a>>, Errno> {
        // Some packers pad the end of the archive with zeros; stop at the end or padding.
        if self.pos >= self.buf.len() || self.buf[self.pos..].iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let hdr = self
            .buf
            .get(self.pos..self.pos + HEADER_LEN)
            .ok_or(Errno::EINVAL)?;
        if &hdr[..6] != b"070701" && &hdr[..6] != b"070702" {
            return Err(Errno::EINVAL);
        }
        let field = |i: usize| -> Result<u32, Errno> {
            let s = core::str::from_utf8(&hdr[6 + i * 8..14 + i * 8]).map_err(|_| Errno::EINVAL)?;
            u32::from_str_radix(s, 16).map_err(|_| Errno::EINVAL)
        };
        let ino = field(0)?;
        let mode = field(1)?;
        let uid = field(2)?;
        let gid = field(3)?;
        let nlink = field(4)?;
        let mtime = field(5)?;
        let filesize = field(6)? as usize;
        let rdev_major = field(9)?;
        let rdev_minor = field(10)?;
        let namesize = field(11)? as usize;
        if namesize == 0 {
            return Err(Errno::EINVAL);
        }
        let name_start = self.pos + HEADER_LEN;
        let name_end = name_start.checked_add(namesize).ok_or(Errno::EINVAL)?;
        let name_bytes = self.buf.get(name_start..name_end).ok_or(Errno::EINVAL)?;
        // The name is NUL-terminated; the size includes the NUL.
        let (&nul, name_bytes) = name_bytes.split_last().ok_or(Errno::EINVAL)?;
        if nul != 0 {
            return Err(Errno::EINVAL);
        }
        let name = core::str::from_utf8(name_bytes).map_err(|_| Errno::EINVAL)?;
        let data_start = align4(name_end);
        let data_end = data_start.checked_add(filesize).ok_or(Errno::EINVAL)?;
        let data = self.buf.get(data_start..data_end).ok_or(Errno::EINVAL)?;
        self.pos = align4(data_end);
        if name == TRAILER {
            return Ok(None);
        }
        Ok(Some(Entry {
            name,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            rdev_major,
            rdev_minor,
            data,
        }))
    }
}

fn align4(x: usize) -> usize {
    (x + 3) & !3
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Builds newc archives for tests (the host runner has its own packer).
#[cfg(test)]
pub mod build {
    use alloc::format;
    use alloc::vec::Vec;

    pub fn push(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
        let hdr = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            out.len() as u32,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(hdr.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    pub fn finish(out: &mut Vec<u8>) {
        push(out, "TRAILER!!!", 0, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn parses_files_dirs_and_symlinks_with_modes() {
        let mut a = Vec::new();
        build::push(&mut a, "bin", 0o040755, &[]);
        build::push(&mut a, "bin/hello", 0o100755, b"hello world");
        build::push(&mut a, "bin/link", 0o120777, b"hello");
        build::finish(&mut a);
        let e: Vec<Entry> = Reader::new(&a)
            .collect::<Result<_, _>>()
            .expect("valid archive");
        assert_eq!(e.len(), 3, "entries: {e:?}");
        assert_eq!((e[0].name, e[0].mode), ("bin", 0o040755));
        assert_eq!((e[1].name, e[1].data), ("bin/hello", &b"hello world"[..]));
        assert_eq!((e[2].mode & 0o170000, e[2].data), (0o120000, &b"hello"[..]));
    }

    #[test]
    fn stops_at_trailer_and_ignores_what_follows() {
        let mut a = Vec::new();
        build::push(&mut a, "x", 0o100644, b"1");
        build::finish(&mut a);
        a.extend_from_slice(b"garbage after trailer");
        assert_eq!(Reader::new(&a).count(), 1);
    }

    #[test]
    fn malformed_archives_give_einval_not_panic() {
        let mut a = Vec::new();
        build::push(&mut a, "file", 0o100644, b"0123456789");
        build::finish(&mut a);
        // Bad magic.
        let mut bad = a.clone();
        bad[0] = b'9';
        assert_eq!(Reader::new(&bad).next(), Some(Err(Errno::EINVAL)));
        // Non-hex field.
        let mut bad = a.clone();
        bad[20] = b'z';
        assert_eq!(Reader::new(&bad).next(), Some(Err(Errno::EINVAL)));
        // Every truncation is either a clean error or a shorter listing, never a panic.
        for len in 0..a.len() {
            for r in Reader::new(&a[..len]) {
                let _ = r;
            }
        }
        // A huge file size must not overflow.
        let mut bad = a.clone();
        bad[54..62].copy_from_slice(b"ffffffff");
        assert_eq!(Reader::new(&bad).next(), Some(Err(Errno::EINVAL)));
    }

    #[test]
    fn empty_and_zero_padded_input_has_no_entries() {
        assert_eq!(Reader::new(&[]).count(), 0);
        assert_eq!(Reader::new(&[0u8; 512]).count(), 0);
    }
}
