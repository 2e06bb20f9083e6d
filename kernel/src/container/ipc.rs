//! The IPC container. Only the root one exists until its issue lands: every
//! process shares it, its flag gives `EINVAL`, and its links show the root's number.

use super::ContainerCommon;

pub struct IpcContainer {
    common: ContainerCommon,
}

impl IpcContainer {
    pub fn root(common: ContainerCommon) -> Self {
        IpcContainer { common }
    }
}

crate::container_type!(IpcContainer);
