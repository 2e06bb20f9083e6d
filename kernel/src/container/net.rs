//! The network container. Only the root one exists until its issue lands: every
//! process shares it, its flag gives `EINVAL`, and its links show the root's number.

use super::{ContainerCommon, ContainerType, Kind};
use crate::errno::Errno;
use alloc::sync::Arc;

pub struct NetContainer {
    common: ContainerCommon,
}

impl ContainerType for NetContainer {
    const KIND: Kind = Kind::Net;
    const CREATABLE: bool = false;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        NetContainer { common }
    }

    /// Not reached: [`CREATABLE`](ContainerType::CREATABLE) is false, so `CLONE_NEWNET`
    /// gives `EINVAL` before any container is made.
    fn new_child(
        _parent: &Arc<Self>,
        _owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        Err(Errno::EINVAL)
    }
}
