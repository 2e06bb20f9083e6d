//! The numbers of one stack's `veth<N>` links, so the template `veth%d` (a new network
//! container's peer in the root container) takes the lowest free number without trying
//! each number against every link's name: with thousands of containers alive that scan
//! made creation cost grow with the square of the number alive.

use super::Link;
use crate::errno::Errno;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The name a number is written into.
pub const PREFIX: &str = "veth";
/// Numbers a template gives at most (Linux's `ENFILE` limit).
pub const NUMBER_MAX: u32 = 1_000_000;

/// `N` when `name` is `veth<N>` as the template writes it (decimal, no leading zero),
/// below [`NUMBER_MAX`].
pub fn number(name: &str) -> Option<u32> {
    let d = name.strip_prefix(PREFIX)?;
    if d.is_empty() || (d.len() > 1 && d.starts_with('0')) || !d.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    d.parse().ok().filter(|&n| n < NUMBER_MAX)
}

/// A bitmap of the `veth<N>` names in use, for `N` below 64 × its length (it grows one
/// word at a time, when every number it covers is taken).
#[derive(Default)]
pub struct VethNumbers {
    words: Vec<u64>,
    /// Every word below this one is full.
    full_below: usize,
    /// Links named `veth<N>` with `N` past the bitmap (named by hand): the links are read
    /// when it grows only while there are some.
    beyond: usize,
}

impl VethNumbers {
    /// A link named `name` came (or was renamed to it).
    pub fn taken(&mut self, name: &str) {
        if let Some(n) = number(name) {
            match self.words.get_mut(n as usize / 64) {
                Some(w) => *w |= 1 << (n % 64),
                None => self.beyond += 1,
            }
        }
    }

    /// A link named `name` went (or was renamed away from it).
    pub fn freed(&mut self, name: &str) {
        if let Some(n) = number(name) {
            let i = n as usize / 64;
            match self.words.get_mut(i) {
                Some(w) => {
                    *w &= !(1 << (n % 64));
                    self.full_below = self.full_below.min(i);
                }
                None => self.beyond = self.beyond.saturating_sub(1),
            }
        }
    }

    /// The lowest number no link in `links` (the stack's links, every one of them
    /// reported to [`VethNumbers::taken`]) is named with: `ENOMEM` when the bitmap cannot
    /// grow, `ENFILE` past [`NUMBER_MAX`].
    pub fn lowest_free(&mut self, links: &[Box<Link>]) -> Result<u32, Errno> {
        loop {
            while let Some(&w) = self.words.get(self.full_below) {
                if w != u64::MAX {
                    let n = self.full_below * 64 + w.trailing_ones() as usize;
                    return u32::try_from(n)
                        .ok()
                        .filter(|&n| n < NUMBER_MAX)
                        .ok_or(Errno::ENFILE);
                }
                self.full_below += 1;
            }
            // Every number covered is taken: one word more, filled from the names (links
            // named before the bitmap reached their number).
            let base = self.words.len() * 64;
            if base >= NUMBER_MAX as usize {
                return Err(Errno::ENFILE);
            }
            self.words.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            let mut word = 0u64;
            if self.beyond > 0 {
                for l in links {
                    if let Some(n) = number(&l.name)
                        && (base..base + 64).contains(&(n as usize))
                    {
                        word |= 1 << (n as usize - base);
                    }
                }
                self.beyond -= word.count_ones() as usize;
            }
            self.words.push(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LinkKind, LinkStats};
    use super::*;
    use alloc::string::String;

    fn link(name: &str) -> Box<Link> {
        Box::new(Link {
            index: 0,
            name: String::from(name),
            kind: LinkKind::Veth,
            flags: 0,
            mtu: 1500,
            hwaddr: [0; 6],
            addrs: Vec::new(),
            stats: LinkStats::default(),
            peer: None,
            counted: false,
        })
    }

    #[test]
    fn only_the_template_s_own_spelling_is_a_number() {
        assert_eq!(number("veth0"), Some(0));
        assert_eq!(number("veth123"), Some(123));
        assert_eq!(number("veth"), None);
        assert_eq!(number("veth01"), None);
        assert_eq!(number("veth1a"), None);
        assert_eq!(number("eth1"), None);
        assert_eq!(number("veth1000000"), None, "past the template's limit");
    }

    #[test]
    fn the_lowest_free_number_is_found_again_after_names_come_and_go() {
        let mut links = Vec::new();
        let mut v = VethNumbers::default();
        for want in 0..200u32 {
            let n = v.lowest_free(&links).expect("a number");
            assert_eq!(n, want);
            let l = link(&alloc::format!("veth{n}"));
            v.taken(&l.name);
            links.push(l);
        }
        v.freed("veth70");
        v.freed("veth3");
        assert_eq!(v.lowest_free(&links), Ok(3));
        v.taken("veth3");
        assert_eq!(v.lowest_free(&links), Ok(70));
        v.taken("veth70");
        assert_eq!(v.lowest_free(&links), Ok(200));
    }

    #[test]
    fn names_given_beyond_the_bitmap_are_read_when_it_grows() {
        // veth64 and veth65 were named by hand while the bitmap was empty.
        let mut links = Vec::new();
        let mut v = VethNumbers::default();
        for n in 0..66 {
            links.push(link(&alloc::format!("veth{n}")));
            v.taken(&links[n].name);
        }
        links.push(link("veth007"));
        v.taken("veth007");
        assert_eq!(v.beyond, 66);
        assert_eq!(v.lowest_free(&links), Ok(66));
        assert_eq!(v.beyond, 0, "all read into the bitmap");
        v.freed("veth65");
        assert_eq!(v.lowest_free(&links), Ok(65));
    }
}
