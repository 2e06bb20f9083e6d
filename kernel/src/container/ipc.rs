//! The IPC container: its own POSIX message-queue names and SysV key spaces
//! (`crate::ipc`). A new one starts empty; everything in it is freed with its last user
//! (segments still attached stay mapped until detached, as on Linux).

use super::{ContainerCommon, ContainerType, Kind};
use crate::errno::Errno;
use crate::ipc::{mqueue, sysv};
use alloc::sync::Arc;

pub struct IpcContainer {
    common: ContainerCommon,
    pub mq: mqueue::Space,
    pub sysv: sysv::Space,
}

impl ContainerType for IpcContainer {
    const KIND: Kind = Kind::Ipc;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        IpcContainer {
            common,
            mq: mqueue::Space::default(),
            sysv: sysv::Space::default(),
        }
    }

    /// A new, empty IPC container (`clone`/`unshare(CLONE_NEWIPC)`).
    fn new_child(
        _parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        Ok(IpcContainer {
            common: ContainerCommon::new(Kind::Ipc, owner)?,
            mq: mqueue::Space::default(),
            sysv: sysv::Space::default(),
        })
    }
}
