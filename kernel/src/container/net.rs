//! The network container. Only the root one exists until its issue lands: every
//! process shares it, its flag gives `EINVAL`, and its links show the root's number.

use super::ContainerCommon;

pub struct NetContainer {
    common: ContainerCommon,
}

impl NetContainer {
    pub fn root(common: ContainerCommon) -> Self {
        NetContainer { common }
    }
}

crate::container_type!(NetContainer);
