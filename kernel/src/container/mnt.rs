//! The mount container: one mount tree ([`MountTable`]). The root one holds the boot
//! tree (made by `fs::init`); a new one gets a copy of its creator's tree, with the
//! same file system instances, after which mounts and unmounts in one never show in
//! the other. The tree is freed with the last user (the container and the file-system
//! contexts of the processes in it).

use super::{ContainerCommon, ContainerSet, ContainerType, Kind};
use crate::cred::{CAP_SYS_CHROOT, Credentials};
use crate::errno::Errno;
use crate::fs::FsContext;
use crate::fs::mount::MountTable;
use alloc::sync::Arc;
use spin::Once;

/// The boot tree, registered by `fs::init` (which runs after `container::init`).
static BOOT_TABLE: Once<Arc<MountTable>> = Once::new();

/// Makes `t` the root mount container's tree (once, at boot).
pub fn set_boot_table(t: Arc<MountTable>) {
    BOOT_TABLE.call_once(|| t);
}

pub struct MntContainer {
    common: ContainerCommon,
    /// `None` for the root container: its tree is [`BOOT_TABLE`].
    mounts: Option<Arc<MountTable>>,
}

impl ContainerType for MntContainer {
    const KIND: Kind = Kind::Mnt;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        MntContainer {
            common,
            mounts: None,
        }
    }

    /// A new container with a copy of the parent's tree.
    fn new_child(
        parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        let common = ContainerCommon::new(Kind::Mnt, owner)?;
        Ok(MntContainer {
            common,
            mounts: Some(parent.mounts().copy()?),
        })
    }

    /// Entering a mount container also changes the root directory (setns(2)):
    /// CAP_SYS_CHROOT.
    fn may_join(&self, _set: &ContainerSet, cred: &Credentials, _: bool) -> Result<(), Errno> {
        if !cred.capable(CAP_SYS_CHROOT) {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// The process keeps its root and cwd paths, looked up again in the copied tree.
    fn created(&self, fs: &mut Arc<FsContext>) {
        *fs = fs.copy_into(self.mounts());
    }

    /// The caller's root and cwd move to the root of the container's tree.
    fn joined(&self, fs: &mut Arc<FsContext>) {
        *fs = fs.enter(self.mounts());
    }
}

impl MntContainer {
    /// The container's mount tree (the same object the contexts of its processes use).
    pub fn mounts(&self) -> Arc<MountTable> {
        match &self.mounts {
            Some(t) => t.clone(),
            None => BOOT_TABLE
                .get()
                .expect("fs::init registers the boot tree")
                .clone(),
        }
    }
}
