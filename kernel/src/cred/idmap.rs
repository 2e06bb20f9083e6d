//! uid/gid maps of user containers (`/proc/[pid]/uid_map`, `gid_map`): extents of
//! `inside outside count`, parsed and checked as user_namespaces(7) says. Pure logic.

use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Linux's limit on extents per map.
pub const MAX_EXTENTS: usize = 340;
/// The id an unmapped id reads as (`/proc/sys/kernel/overflowuid`).
pub const OVERFLOW_ID: u32 = 65534;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// First id inside the container.
    pub first: u32,
    /// First id in the parent container (as written).
    pub lower: u32,
    pub count: u32,
    /// `lower` translated to a kernel (root-container) id.
    pub kernel: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap {
    extents: Vec<Extent>,
}

impl IdMap {
    /// The root container's map: every id is itself.
    pub fn identity() -> IdMap {
        IdMap {
            extents: alloc::vec![Extent {
                first: 0,
                lower: 0,
                count: u32::MAX,
                kernel: 0
            }],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.extents.is_empty()
    }

    pub fn extents(&self) -> &[Extent] {
        &self.extents
    }

    /// Container id → kernel id.
    pub fn to_kernel(&self, id: u32) -> Option<u32> {
        self.extents
            .iter()
            .find(|e| id >= e.first && (id - e.first) < e.count)
            .map(|e| e.kernel + (id - e.first))
    }

    /// Kernel id → container id.
    pub fn from_kernel(&self, kid: u32) -> Option<u32> {
        self.extents
            .iter()
            .find(|e| kid >= e.kernel && (kid - e.kernel) < e.count)
            .map(|e| e.first + (kid - e.kernel))
    }

    /// Parses a map write: lines `inside outside count` (decimal, blanks between). `EINVAL`
    /// for bad text, a zero count, ranges that wrap, overlaps, or more than 340 lines.
    /// `lower_to_kernel` translates a parent range to kernel ids (`EPERM` if the parent
    /// does not map all of it).
    pub fn parse(
        text: &str,
        lower_to_kernel: impl Fn(u32, u32) -> Result<u32, Errno>,
    ) -> Result<IdMap, Errno> {
        let mut extents = Vec::new();
        for line in text.split('\n') {
            if line.trim().is_empty() {
                continue;
            }
            let mut f = line.split_ascii_whitespace();
            let mut num = || -> Result<u32, Errno> {
                f.next()
                    .ok_or(Errno::EINVAL)?
                    .parse::<u32>()
                    .map_err(|_| Errno::EINVAL)
            };
            let (first, lower, count) = (num()?, num()?, num()?);
            if f.next().is_some() || count == 0 {
                return Err(Errno::EINVAL);
            }
            // As Linux: no id u32::MAX, and first + count must not wrap.
            if first == u32::MAX
                || lower == u32::MAX
                || first.checked_add(count).is_none()
                || lower.checked_add(count).is_none()
            {
                return Err(Errno::EINVAL);
            }
            extents.push(Extent {
                first,
                lower,
                count,
                kernel: 0,
            });
            if extents.len() > MAX_EXTENTS {
                return Err(Errno::EINVAL);
            }
        }
        if extents.is_empty() {
            return Err(Errno::EINVAL);
        }
        let overlaps = |a: u32, n: u32, b: u32, m: u32| a <= b + (m - 1) && b <= a + (n - 1);
        for (i, x) in extents.iter().enumerate() {
            for y in &extents[i + 1..] {
                if overlaps(x.first, x.count, y.first, y.count)
                    || overlaps(x.lower, x.count, y.lower, y.count)
                {
                    return Err(Errno::EINVAL);
                }
            }
        }
        for e in extents.iter_mut() {
            e.kernel = lower_to_kernel(e.lower, e.count)?;
        }
        Ok(IdMap { extents })
    }

    /// The text of `/proc/[pid]/uid_map` (Linux's `"%10u %10u %10u\n"` lines).
    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in &self.extents {
            let _ = writeln!(s, "{:>10} {:>10} {:>10}", e.first, e.lower, e.count);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(lower: u32, _count: u32) -> Result<u32, Errno> {
        Ok(lower)
    }

    #[test]
    fn maps_translate_both_ways_and_unmapped_ids_are_none() {
        let m = IdMap::parse("0 1000 1\n1 1001 4\n", ident).expect("valid map");
        assert_eq!(m.to_kernel(0), Some(1000));
        assert_eq!(m.to_kernel(3), Some(1003));
        assert_eq!(m.to_kernel(5), None);
        assert_eq!(m.from_kernel(1004), Some(4));
        assert_eq!(m.from_kernel(999), None);
        assert_eq!(
            m.render(),
            "         0       1000          1\n         1       1001          4\n"
        );
    }

    #[test]
    fn bad_maps_give_einval() {
        assert_eq!(IdMap::parse("", ident), Err(Errno::EINVAL));
        assert_eq!(IdMap::parse("0 1000", ident), Err(Errno::EINVAL));
        assert_eq!(IdMap::parse("0 1000 0", ident), Err(Errno::EINVAL));
        assert_eq!(IdMap::parse("a 1000 1", ident), Err(Errno::EINVAL));
        assert_eq!(IdMap::parse("0 1000 1 7", ident), Err(Errno::EINVAL));
        assert_eq!(
            IdMap::parse("0 1000 10\n5 2000 1", ident),
            Err(Errno::EINVAL),
            "inside ranges overlap"
        );
        assert_eq!(
            IdMap::parse("0 1000 10\n20 1005 1", ident),
            Err(Errno::EINVAL),
            "outside ranges overlap"
        );
        assert_eq!(
            IdMap::parse("4294967294 0 2", ident),
            Err(Errno::EINVAL),
            "wraps"
        );
        assert_eq!(
            IdMap::parse("4294967295 0 1", ident),
            Err(Errno::EINVAL),
            "id u32::MAX"
        );
        assert!(IdMap::parse("4294967294 0 1", ident).is_ok());
        let many: String = (0..341).map(|i| format!("{i} {i} 1\n")).collect();
        assert_eq!(IdMap::parse(&many, ident), Err(Errno::EINVAL));
        let ok: String = (0..340).map(|i| format!("{i} {i} 1\n")).collect();
        assert!(IdMap::parse(&ok, ident).is_ok());
    }

    #[test]
    fn the_parent_decides_what_may_be_mapped() {
        let parent = IdMap::parse("0 1000 10", ident).expect("valid map");
        let through = |lower: u32, count: u32| {
            let k = parent.to_kernel(lower).ok_or(Errno::EPERM)?;
            parent.to_kernel(lower + count - 1).ok_or(Errno::EPERM)?;
            Ok(k)
        };
        let child = IdMap::parse("0 5 2", through).expect("inside the parent's range");
        assert_eq!(child.to_kernel(1), Some(1006));
        assert_eq!(IdMap::parse("0 9 2", through), Err(Errno::EPERM));
    }

    #[test]
    fn identity_maps_everything() {
        let m = IdMap::identity();
        assert_eq!(m.to_kernel(12345), Some(12345));
        assert_eq!(m.from_kernel(0), Some(0));
    }
}
