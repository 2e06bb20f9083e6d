//! The network container: its own TCP/IP stack (`net/stack.rs`) with `lo`, and for a
//! new one LiteOS-A's veth pair (`veth0` here, `veth<N>` in the root container). The
//! last user's leaving removes the pair; sockets keep the stack until they close.

use super::{ContainerCommon, ContainerType, Kind};
use crate::errno::Errno;
use crate::net::stack::NetStack;
use alloc::sync::Arc;

pub struct NetContainer {
    common: ContainerCommon,
    stack: Arc<NetStack>,
}

impl ContainerType for NetContainer {
    const KIND: Kind = Kind::Net;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        let stack =
            NetStack::new_root(crate::net::nic::get()).expect("the root stack fits at boot");
        NetContainer { common, stack }
    }

    /// A new container: its own stack and a veth pair into the root container's.
    fn new_child(
        _parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<Self, Errno> {
        let common = ContainerCommon::new(Kind::Net, owner)?;
        let stack = NetStack::new()?;
        stack.add_veth_pair(&super::root().net.stack)?;
        Ok(NetContainer { common, stack })
    }
}

impl NetContainer {
    pub fn stack(&self) -> &Arc<NetStack> {
        &self.stack
    }
}

impl Drop for NetContainer {
    fn drop(&mut self) {
        self.stack.shut_down();
    }
}
