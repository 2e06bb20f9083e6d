//! Networking: one TCP/IP stack per net container (`stack.rs`, smoltcp) and the
//! AF_INET/AF_INET6 sockets over it.
#![deny(unsafe_code)]

pub mod stack;

use alloc::sync::Arc;

/// The NIC the root container's `eth0` uses, if the machine has one.
pub fn nic() -> Option<Arc<dyn stack::Nic>> {
    None
}
