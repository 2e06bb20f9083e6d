//! The IPC container: its own POSIX message-queue names and SysV key spaces
//! (`crate::ipc`). A new one starts empty; everything in it is freed with its last user
//! (segments still attached stay mapped until detached, as on Linux).

use super::{ContainerCommon, Kind};
use crate::errno::Errno;
use crate::ipc::{mqueue, sysv};
use alloc::sync::Arc;

pub struct IpcContainer {
    common: ContainerCommon,
    pub mq: mqueue::Space,
    pub sysv: sysv::Space,
}

impl IpcContainer {
    pub fn root(common: ContainerCommon) -> Self {
        IpcContainer {
            common,
            mq: mqueue::Space::default(),
            sysv: sysv::Space::default(),
        }
    }

    /// A new, empty IPC container (`clone`/`unshare(CLONE_NEWIPC)`).
    pub fn new_child(&self, owner: &Arc<super::user::UserContainer>) -> Result<Self, Errno> {
        Ok(IpcContainer {
            common: ContainerCommon::new(Kind::Ipc, owner)?,
            mq: mqueue::Space::default(),
            sysv: sysv::Space::default(),
        })
    }
}

crate::container_type!(IpcContainer);
