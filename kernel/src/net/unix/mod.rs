//! AF_UNIX sockets (in progress: not registered yet).

use super::{Family, Socket};
use crate::errno::Errno;
use alloc::sync::Arc;

pub static FAMILY: Family = Family { create, pair: None };

fn create(_sock_type: i32, _protocol: i32) -> Result<Arc<dyn Socket>, Errno> {
    Err(Errno::EAFNOSUPPORT)
}
