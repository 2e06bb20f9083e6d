//! The mount container. Only the root one exists until its issue lands: every
//! process shares it, its flag gives `EINVAL`, and its links show the root's number.

use super::ContainerCommon;

pub struct MntContainer {
    common: ContainerCommon,
}

impl MntContainer {
    pub fn root(common: ContainerCommon) -> Self {
        MntContainer { common }
    }
}

crate::container_type!(MntContainer);
