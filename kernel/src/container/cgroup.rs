//! The cgroup container (cgroup_namespaces(7)) over the plimits groups: its root is the
//! group its creator was in when it was made. Paths of groups (`/proc/[pid]/cgroup`,
//! a cgroup2 mount's root) are relative to the reader's root: a group outside it shows
//! as `/..` (the root group) or `/../<name>` (a sibling), as on Linux.

use super::{ContainerCommon, ContainerType, Kind};
use crate::errno::Errno;
use crate::plimits::{self, Group};
use alloc::string::String;
use alloc::sync::Arc;

pub struct CgroupContainer {
    common: ContainerCommon,
    /// The root group; `None` for the root container (the plimits root group, which is
    /// made after the containers at boot).
    root: Option<Arc<Group>>,
}

impl ContainerType for CgroupContainer {
    const KIND: Kind = Kind::Cgroup;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        CgroupContainer { common, root: None }
    }

    /// A new container rooted at the creator's (the caller's) group.
    fn new_child(
        _parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        Ok(CgroupContainer {
            common: ContainerCommon::new(Kind::Cgroup, owner)?,
            root: Some(plimits::current_group()),
        })
    }
}

impl CgroupContainer {
    /// The container's root group.
    pub fn root_group(&self) -> Arc<Group> {
        self.root.clone().unwrap_or_else(plimits::root)
    }

    /// The cgroup v2 path of `g` from this container's root.
    pub fn path_of(&self, g: &Group) -> String {
        path(self.root.as_deref(), g)
    }
}

/// The root group of the calling process's cgroup container: what a cgroup2 mount made
/// by the caller shows as its root, and what `/proc/[pid]/cgroup` paths are relative
/// to (the plimits root group when no process runs, as in host tests).
#[cfg(target_os = "none")]
pub fn root_group_of_current() -> Arc<Group> {
    match crate::task::sched::try_current() {
        Some(t) => t.process().containers().cgroup.root_group(),
        None => plimits::root(),
    }
}

/// The root group of the calling process's cgroup container (host: the plimits root).
#[cfg(not(target_os = "none"))]
pub fn root_group_of_current() -> Arc<Group> {
    plimits::root()
}

/// The cgroup v2 path of group `g` seen from a container rooted at `root` (`None`: the
/// root group): `/`, `/<name>`, or outside the root `/..` and `/../<name>`. Groups are
/// one level deep (plimits), so nothing is longer.
pub fn path(root: Option<&Group>, g: &Group) -> String {
    let root_id = root.map_or(0, Group::id);
    let mut s = String::with_capacity(g.name().len() + 4);
    if g.id() == root_id {
        s.push('/');
    } else if root_id == 0 {
        s.push('/');
        s.push_str(g.name());
    } else if g.is_root() {
        s.push_str("/..");
    } else {
        s.push_str("/../");
        s.push_str(g.name());
    }
    s
}

/// The text of `/proc/[pid]/cgroup` for a process in group `g`, read by a process whose
/// cgroup container is `reader` (cgroup v2: hierarchy 0, no controllers).
pub fn proc_text(reader: &CgroupContainer, g: &Group) -> String {
    let mut s = String::from("0::");
    s.push_str(&reader.path_of(g));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_root_with_dotdot_outside() {
        let root = plimits::root();
        let a = plimits::test_group(900_001, "cgns_a");
        let b = plimits::test_group(900_002, "cgns_b");
        assert_eq!(path(None, &root), "/");
        assert_eq!(path(None, &a), "/cgns_a");
        assert_eq!(path(Some(&root), &a), "/cgns_a", "the root group given");
        assert_eq!(path(Some(&a), &a), "/");
        assert_eq!(path(Some(&a), &root), "/..");
        assert_eq!(path(Some(&a), &b), "/../cgns_b");
    }

    #[test]
    fn proc_text_is_cgroup_v2_format() {
        crate::container::init("");
        let c = crate::container::root();
        let a = plimits::test_group(900_003, "cgns_c");
        assert_eq!(proc_text(&c.cgroup, &plimits::root()), "0::/\n");
        assert_eq!(proc_text(&c.cgroup, &a), "0::/cgns_c\n");
        let inside =
            CgroupContainer::new_child(c.cgroup.own(), &crate::container::user::root_user())
                .expect("below the limit");
        // Host: the creator is in the root group.
        assert_eq!(inside.root_group().id(), 0);
        assert_eq!(proc_text(&inside, &a), "0::/cgns_c\n");
    }
}
