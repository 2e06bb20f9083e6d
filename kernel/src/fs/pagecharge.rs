//! The data pages of ramfs/tmpfs files (memfd too) charged to the plimits group of the
//! process that made the file, as user memory (`memory.usage`), while the file holds
//! them: a write that would take the group past its `memory.limit` gets `ENOMEM` (what
//! fits is written), a fault on a hole of a mapping `SIGBUS`. The group charged is the
//! one the file was made in, whoever writes it later (or the root once it is removed).

use crate::errno::Errno;
use crate::plimits::Group;
use alloc::sync::Arc;

const PAGE: u64 = 4096;

/// The group a new file's pages are charged to: the caller's.
pub fn owner() -> Arc<Group> {
    crate::plimits::current_group()
}

/// Pages `group` can still take.
pub fn room(group: &Arc<Group>) -> u64 {
    let m = &group.effective().mem;
    if m.fits(u64::MAX) {
        return u64::MAX;
    }
    m.limit().saturating_sub(m.usage()) / PAGE
}

/// The file's pages went from `old` to `now`: charges or gives back the difference
/// (the caller checked the room first).
pub fn moved(group: &Arc<Group>, old: u64, now: u64) {
    let m = &group.effective().mem;
    if now > old {
        m.add((now - old) * PAGE);
    } else if old > now {
        m.uncharge((old - now) * PAGE);
    }
}

/// A write refused for want of room in `group`: counted in its `memory.failcnt`.
pub fn refused(group: &Arc<Group>) -> Errno {
    let m = &group.effective().mem;
    if m.charge(PAGE).is_ok() {
        m.uncharge(PAGE);
    }
    Errno::ENOMEM
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plimits::test_group;

    #[test]
    fn pages_count_in_the_group_and_go_back() {
        let g = test_group(90, "pagecharge");
        let limit = g.mem.limit();
        assert_eq!(room(&g), limit / PAGE);
        moved(&g, 0, 3);
        assert_eq!((g.mem.usage(), room(&g)), (3 * PAGE, limit / PAGE - 3));
        moved(&g, 3, 1);
        assert_eq!(g.mem.usage(), PAGE);
        assert_eq!(refused(&g), Errno::ENOMEM);
        moved(&g, 1, 0);
        assert_eq!(g.mem.usage(), 0);
    }
}
