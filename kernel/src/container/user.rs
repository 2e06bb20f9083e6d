//! The user container: uid/gid maps, its owner, its level, and the capability rule
//! "the owner of a container's parent has every capability in it". It lives in the
//! process's [`Credentials`], not in the [`ContainerSet`](super::ContainerSet): it is
//! created with new credentials ([`UserContainer::create`]) and joined by replacing them
//! ([`join`]).

use super::{Container, ContainerCommon, ContainerType, Kind};
use crate::cred::idmap::IdMap;
use crate::cred::{CAP_FULL, CAP_SYS_ADMIN, Credentials};
use crate::errno::Errno;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::{Mutex, Once};

/// Deepest level that may be created (root is 0): LiteOS-A allows levels 0..3; creating
/// level 4 gives ENOSPC. The kernel command line may raise it (`user_container.max_level=N`).
static MAX_LEVEL: AtomicU32 = AtomicU32::new(3);
/// Linux's limit: a user namespace of level 32 may still have children (`create_user_ns`
/// refuses a parent above 32).
pub const LEVEL_CAP: u32 = 33;

pub fn set_max_level(n: u32) {
    MAX_LEVEL.store(n.min(LEVEL_CAP), Ordering::Relaxed);
}

pub struct UserContainer {
    common: ContainerCommon,
    level: u32,
    parent: Option<Arc<UserContainer>>,
    /// Kernel uid and gid of the creator.
    owner: u32,
    group: u32,
    maps: Mutex<Maps>,
}

#[derive(Default)]
struct Maps {
    uid: Option<IdMap>,
    gid: Option<IdMap>,
    /// `/proc/[pid]/setgroups`: "allow" until "deny" is written (before the gid map).
    setgroups_denied: bool,
}

impl ContainerType for UserContainer {
    const KIND: Kind = Kind::User;
    const HIERARCHICAL: bool = true;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    /// The root user container: identity maps, owned by root.
    fn root(common: ContainerCommon) -> Self {
        UserContainer {
            common,
            level: 0,
            parent: None,
            owner: 0,
            group: 0,
            maps: Mutex::new(Maps {
                uid: Some(IdMap::identity()),
                gid: Some(IdMap::identity()),
                setgroups_denied: false,
            }),
        }
    }

    /// Not reached: the user row is not in the set; `clone`/`unshare` build a user
    /// container with the caller's ids through [`UserContainer::create`].
    fn new_child(_parent: &Arc<Self>, _owner: &Arc<UserContainer>) -> Result<Self, Errno> {
        Err(Errno::EINVAL)
    }

    fn parent(&self) -> Option<Arc<Self>> {
        self.parent.clone()
    }
}

static ROOT: Once<Arc<UserContainer>> = Once::new();

/// Keeps the root user container (the declaration's root set calls it once at boot).
pub(super) fn init_root(root: UserContainer) {
    ROOT.call_once(|| Arc::new(root));
}

/// `setns` into user container `target`: not one's own (`EINVAL`), CAP_SYS_ADMIN in the
/// target (`EPERM`); the caller then has every capability inside it.
pub fn join(cred: &Credentials, target: Arc<dyn Container>) -> Result<Credentials, Errno> {
    let u: Arc<UserContainer> = target.downcast().ok_or(Errno::EINVAL)?;
    if Arc::ptr_eq(&u, &cred.user) {
        return Err(Errno::EINVAL);
    }
    if !cred.capable_in(&u, CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let mut c = cred.clone();
    c.user = u;
    c.cap_permitted = CAP_FULL;
    c.cap_effective = CAP_FULL;
    Ok(c)
}

/// The root user container.
pub fn root_user() -> Arc<UserContainer> {
    ROOT.get().expect("container::init runs at boot").clone()
}

impl UserContainer {
    /// A child of `parent` owned by kernel ids `owner`/`group`: `ENOSPC` beyond the
    /// deepest level (3 unless the command line says otherwise) or at `max_user_container`.
    pub fn create(
        parent: &Arc<UserContainer>,
        owner: u32,
        group: u32,
    ) -> Result<UserContainer, Errno> {
        if parent.level >= MAX_LEVEL.load(Ordering::Relaxed) {
            return Err(Errno::ENOSPC);
        }
        Ok(UserContainer {
            common: ContainerCommon::new(Kind::User, parent)?,
            level: parent.level + 1,
            parent: Some(parent.clone()),
            owner,
            group,
            // A child starts with its parent's setgroups setting (Linux copies it).
            maps: Mutex::new(Maps {
                setgroups_denied: parent.setgroups_denied(),
                ..Maps::default()
            }),
        })
    }

    pub fn level(&self) -> u32 {
        self.level
    }
    pub fn parent_user(&self) -> Option<&Arc<UserContainer>> {
        self.parent.as_ref()
    }
    pub fn owner(&self) -> u32 {
        self.owner
    }
    pub fn group(&self) -> u32 {
        self.group
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_ancestor_of(&self, other: &UserContainer) -> bool {
        let mut c = Some(other);
        while let Some(x) = c {
            if core::ptr::eq(x, self) {
                return true;
            }
            c = x.parent.as_deref();
        }
        false
    }

    /// Kernel uid of `uid` as seen in this container.
    pub fn uid_to_kernel(&self, uid: u32) -> Option<u32> {
        self.maps.lock().uid.as_ref()?.to_kernel(uid)
    }
    pub fn gid_to_kernel(&self, gid: u32) -> Option<u32> {
        self.maps.lock().gid.as_ref()?.to_kernel(gid)
    }
    /// This container's view of kernel uid `kuid` (65534 when unmapped).
    pub fn uid_from_kernel(&self, kuid: u32) -> u32 {
        self.maps
            .lock()
            .uid
            .as_ref()
            .and_then(|m| m.from_kernel(kuid))
            .unwrap_or(crate::cred::idmap::OVERFLOW_ID)
    }
    pub fn gid_from_kernel(&self, kgid: u32) -> u32 {
        self.maps
            .lock()
            .gid
            .as_ref()
            .and_then(|m| m.from_kernel(kgid))
            .unwrap_or(crate::cred::idmap::OVERFLOW_ID)
    }

    /// The text of `uid_map` (`gid` false) or `gid_map`.
    pub fn render_map(&self, gid: bool) -> alloc::string::String {
        let m = self.maps.lock();
        let map = if gid { &m.gid } else { &m.uid };
        map.as_ref().map(IdMap::render).unwrap_or_default()
    }

    pub fn map_written(&self, gid: bool) -> bool {
        let m = self.maps.lock();
        if gid {
            m.gid.is_some()
        } else {
            m.uid.is_some()
        }
    }

    /// Installs a map (written once: `EPERM` afterwards).
    pub fn set_map(&self, gid: bool, map: IdMap) -> Result<(), Errno> {
        let mut m = self.maps.lock();
        let slot = if gid { &mut m.gid } else { &mut m.uid };
        if slot.is_some() {
            return Err(Errno::EPERM);
        }
        *slot = Some(map);
        Ok(())
    }

    pub fn setgroups_denied(&self) -> bool {
        self.maps.lock().setgroups_denied
    }

    /// `/proc/[pid]/setgroups` write: "deny" before the gid map; "allow" only while allowed.
    pub fn set_setgroups(&self, deny: bool) -> Result<(), Errno> {
        let mut m = self.maps.lock();
        // "allow" only while allowed; "deny" only before the gid map (user_namespaces(7)).
        if (!deny && m.setgroups_denied) || (deny && m.gid.is_some()) {
            return Err(Errno::EPERM);
        }
        m.setgroups_denied = deny;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The levels below the root a chain of new user containers reaches.
    fn depth_reached(limit: u32) -> u32 {
        let mut chain = alloc::vec![root_user()];
        while chain.len() <= limit as usize + 1 {
            let parent = chain.last().cloned().expect("the root");
            match UserContainer::create(&parent, 0, 0) {
                Ok(c) => chain.push(Arc::new(c)),
                Err(e) => {
                    assert_eq!(e, Errno::ENOSPC);
                    break;
                }
            }
        }
        chain.len() as u32 - 1
    }

    #[test]
    fn nesting_stops_at_the_configured_level_at_most_linuxs_33() {
        crate::container::init("");
        set_max_level(100);
        assert_eq!(MAX_LEVEL.load(Ordering::Relaxed), LEVEL_CAP);
        // Five levels stay below the default max_user_container (10).
        set_max_level(5);
        assert_eq!(depth_reached(5), 5);
        set_max_level(3);
        assert_eq!(depth_reached(3), 3, "LiteOS-A's default");
    }
}
