//! The TIME container. Only the root one exists until its issue lands: every
//! process shares it, its flag gives `EINVAL`, and its links show the root's number.

use super::ContainerCommon;

pub struct TimeContainer {
    common: ContainerCommon,
}

impl TimeContainer {
    pub fn root(common: ContainerCommon) -> Self {
        TimeContainer { common }
    }
}

crate::container_type!(TimeContainer);
