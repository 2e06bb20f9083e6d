//! The data pages of ramfs/tmpfs files (memfd too), each charged as user memory
//! (`memory.usage`) to the plimits group of the process that made the page, by a write
//! or a fault on a mapping, whoever made the file, until the page is freed (Linux's memory
//! cgroup charges a tmpfs page so): a write that would take the writer's group past its
//! `memory.limit` gets `ENOMEM` (what fits is written), a fault on a hole of a mapping
//! `SIGBUS`.

use crate::errno::Errno;
use crate::plimits::Group;
use alloc::sync::Arc;

const PAGE: u64 = 4096;

/// The group the pages a caller makes are charged to: its own.
pub fn writer() -> Arc<Group> {
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
