//! Credentials: a process's uids and gids (real, effective, saved, filesystem), its
//! supplementary groups, its capability sets and securebits, and its user container.
//! Immutable while shared: a change builds a new `Arc<Credentials>`. Ids are kept as
//! kernel (root user container) ids and translated for each caller.
#![deny(unsafe_code)]

pub mod caps;
pub mod idmap;

use crate::container::user::UserContainer;
use alloc::sync::Arc;
use alloc::vec::Vec;
pub use caps::*;

#[derive(Clone)]
pub struct Credentials {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_inheritable: u64,
    pub cap_bounding: u64,
    pub cap_ambient: u64,
    pub securebits: u32,
    pub no_new_privs: bool,
    pub user: Arc<UserContainer>,
}

impl Credentials {
    /// Root with every capability in `user`.
    pub fn root(user: Arc<UserContainer>) -> Credentials {
        Credentials {
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            groups: Vec::new(),
            cap_permitted: CAP_FULL,
            cap_effective: CAP_FULL,
            cap_inheritable: 0,
            cap_bounding: CAP_FULL,
            cap_ambient: 0,
            securebits: 0,
            no_new_privs: false,
            user,
        }
    }

    /// Whether these credentials may inspect a process with credentials `them`
    /// (ptrace(2), "Ptrace access mode checking"): `fs` compares the caller's
    /// filesystem ids (`PTRACE_MODE_FSCREDS`: /proc files), else its real ids
    /// (`REALCREDS`: system calls), with every one of the target's uids and gids, in the
    /// same user container; or `CAP_SYS_PTRACE` over the target's user container.
    pub fn may_ptrace(&self, them: &Credentials, fs: bool) -> bool {
        let (uid, gid) = if fs {
            (self.fsuid, self.fsgid)
        } else {
            (self.uid, self.gid)
        };
        let same = Arc::ptr_eq(&self.user, &them.user)
            && [them.uid, them.euid, them.suid].iter().all(|&u| u == uid)
            && [them.gid, them.egid, them.sgid].iter().all(|&g| g == gid);
        same || self.capable_in(&them.user, CAP_SYS_PTRACE)
    }

    /// Whether these credentials have `cap` in user container `ns` (Linux's
    /// `ns_capable`): in their own container through the effective set; in a
    /// descendant, always when they own the container's parent chain link.
    pub fn capable_in(&self, ns: &Arc<UserContainer>, cap: u32) -> bool {
        // Up the chain by reference: no count taken per level.
        let mut c = ns;
        loop {
            if Arc::ptr_eq(c, &self.user) {
                return self.cap_effective & cap_bit(cap) != 0;
            }
            if c.level() <= self.user.level() {
                return false;
            }
            let Some(parent) = c.parent_user() else {
                return false;
            };
            if Arc::ptr_eq(parent, &self.user) && self.euid == c.owner() {
                return true;
            }
            c = parent;
        }
    }

    /// `cap` in the credentials' own user container.
    pub fn capable(&self, cap: u32) -> bool {
        self.cap_effective & cap_bit(cap) != 0
    }

    /// Kernel uid `kuid` as seen by these credentials (65534 when unmapped).
    pub fn view_uid(&self, kuid: u32) -> u32 {
        self.user.uid_from_kernel(kuid)
    }

    pub fn view_gid(&self, kgid: u32) -> u32 {
        self.user.gid_from_kernel(kgid)
    }

    /// Whether kernel uid `kuid` is this container's root.
    fn is_root(&self, kuid: u32) -> bool {
        self.user.uid_to_kernel(0) == Some(kuid)
    }

    /// Applies capabilities(7)'s effects of a uid change from `old` (setuid family).
    pub fn fixup_caps_after_uid_change(&mut self, old: &Credentials) {
        let was_root = old.is_root(old.uid) || old.is_root(old.euid) || old.is_root(old.suid);
        let all_nonroot =
            !self.is_root(self.uid) && !self.is_root(self.euid) && !self.is_root(self.suid);
        if was_root && all_nonroot && self.securebits & SECBIT_NO_SETUID_FIXUP == 0 {
            if self.securebits & SECBIT_KEEP_CAPS == 0 {
                self.cap_permitted = 0;
            }
            self.cap_effective = 0;
            self.cap_ambient = 0;
        }
        if self.securebits & SECBIT_NO_SETUID_FIXUP == 0 {
            if old.is_root(old.euid) && !self.is_root(self.euid) {
                self.cap_effective = 0;
            }
            if !old.is_root(old.euid) && self.is_root(self.euid) {
                self.cap_effective = self.cap_permitted;
            }
            if old.is_root(old.fsuid) && !self.is_root(self.fsuid) {
                self.cap_effective &= !CAP_FS_MASK;
            }
            if !old.is_root(old.fsuid) && self.is_root(self.fsuid) {
                self.cap_effective |= self.cap_permitted & CAP_FS_MASK;
            }
        }
    }

    /// capabilities(7)'s transformation at `execve` (no file capabilities).
    pub fn exec_transform(&mut self) {
        let before = self.cap_permitted;
        let root = self.is_root(self.euid) || self.is_root(self.uid);
        if root && self.securebits & SECBIT_NOROOT == 0 {
            // Linux keeps the ambient set here (only set-id or file capabilities clear
            // it): pP' = bset | pI | pA', pE' = pP' for euid 0, else pA'.
            self.cap_ambient &= self.cap_permitted & self.cap_inheritable;
            self.cap_permitted =
                (self.cap_inheritable | self.cap_bounding | self.cap_ambient) & CAP_FULL;
            self.cap_effective = if self.is_root(self.euid) {
                self.cap_permitted
            } else {
                self.cap_ambient
            };
        } else {
            self.cap_ambient &= self.cap_permitted & self.cap_inheritable;
            self.cap_permitted = self.cap_ambient;
            self.cap_effective = self.cap_ambient;
        }
        if self.no_new_privs {
            // no_new_privs: an exec never gains capabilities (Linux: LSM_UNSAFE_NO_NEW_PRIVS).
            self.cap_permitted &= before;
            self.cap_effective &= before;
        }
        self.securebits &= !SECBIT_KEEP_CAPS;
        self.suid = self.euid;
        self.fsuid = self.euid;
        self.sgid = self.egid;
        self.fsgid = self.egid;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{ContainerCommon, Kind};

    fn root_user() -> Arc<UserContainer> {
        crate::container::init("");
        crate::container::user::root_user()
    }

    #[test]
    fn setuid_from_root_drops_capabilities_unless_keepcaps() {
        let old = Credentials::root(root_user());
        let mut new = old.clone();
        new.uid = 1000;
        new.euid = 1000;
        new.suid = 1000;
        new.fsuid = 1000;
        new.fixup_caps_after_uid_change(&old);
        assert_eq!((new.cap_permitted, new.cap_effective), (0, 0));

        let mut keep = old.clone();
        keep.securebits |= SECBIT_KEEP_CAPS;
        let old_keep = keep.clone();
        keep.uid = 1000;
        keep.euid = 1000;
        keep.suid = 1000;
        keep.fsuid = 1000;
        keep.fixup_caps_after_uid_change(&old_keep);
        assert_eq!(
            keep.cap_permitted, CAP_FULL,
            "KEEP_CAPS keeps the permitted set"
        );
        assert_eq!(keep.cap_effective, 0, "but the effective set is cleared");
    }

    #[test]
    fn seteuid_back_to_root_restores_effective_from_permitted() {
        let old = Credentials::root(root_user());
        let mut mid = old.clone();
        mid.euid = 1000;
        mid.fsuid = 1000;
        mid.fixup_caps_after_uid_change(&old);
        assert_eq!(mid.cap_effective, 0);
        assert_eq!(mid.cap_permitted, CAP_FULL, "the real uid is still root");
        let mut back = mid.clone();
        back.euid = 0;
        back.fsuid = 0;
        back.fixup_caps_after_uid_change(&mid);
        assert_eq!(back.cap_effective, CAP_FULL);
    }

    #[test]
    fn exec_gives_root_the_bounding_set_and_others_their_ambient_set() {
        let mut r = Credentials::root(root_user());
        r.cap_bounding = CAP_FULL & !cap_bit(CAP_SYS_ADMIN);
        r.exec_transform();
        assert_eq!(r.cap_permitted, CAP_FULL & !cap_bit(CAP_SYS_ADMIN));
        assert_eq!(r.cap_effective, r.cap_permitted);

        // Root keeps its ambient set across exec, as Linux.
        let mut r = Credentials::root(root_user());
        r.cap_inheritable = cap_bit(CAP_NET_RAW);
        r.cap_ambient = cap_bit(CAP_NET_RAW);
        r.exec_transform();
        assert_eq!(r.cap_ambient, cap_bit(CAP_NET_RAW));

        let mut u = Credentials::root(root_user());
        u.uid = 1000;
        u.euid = 1000;
        u.suid = 1000;
        u.cap_inheritable = cap_bit(CAP_NET_RAW);
        u.cap_ambient = cap_bit(CAP_NET_RAW);
        u.exec_transform();
        assert_eq!(u.cap_permitted, cap_bit(CAP_NET_RAW));
        assert_eq!(u.cap_effective, cap_bit(CAP_NET_RAW));
    }

    #[test]
    fn the_owner_of_a_child_user_container_has_every_capability_in_it() {
        let root = root_user();
        let mut creds = Credentials::root(root.clone());
        creds.euid = 1000;
        creds.cap_effective = 0;
        let child = Arc::new(UserContainer::create(&root, 1000, 1000).expect("below the limit"));
        assert!(
            creds.capable_in(&child, CAP_SYS_ADMIN),
            "owner of the child"
        );
        assert!(
            !creds.capable_in(&root, CAP_SYS_ADMIN),
            "no capability in its own container"
        );
        let inside = Credentials::root(child.clone());
        assert!(inside.capable_in(&child, CAP_SYS_ADMIN));
        assert!(!inside.capable_in(&root, CAP_SYS_ADMIN), "nothing outside");
        let _ = (ContainerCommon::new(Kind::Uts, &child), ());
    }
}
