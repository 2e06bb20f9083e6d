//! The user container. Until credentials land, the root one is the only one: every
//! process belongs to it and its link shows its number.

use super::{ContainerCommon, ContainerType};
use alloc::sync::Arc;
use spin::Once;

pub struct UserContainer {
    common: ContainerCommon,
}

crate::container_type!(UserContainer);

static ROOT: Once<Arc<UserContainer>> = Once::new();

pub(super) fn init_root(common: ContainerCommon) {
    ROOT.call_once(|| Arc::new(UserContainer { common }));
}

/// The root user container.
pub fn root() -> Arc<dyn ContainerType> {
    ROOT.get().expect("container::init runs at boot").clone()
}
