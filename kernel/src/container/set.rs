//! A process's membership in one container type ([`Membership`]): the container it is
//! in and the one its children start in, and the generic rules `clone`, `unshare`,
//! `setns` and `execve` apply to it according to the type's [`Scope`].

use super::{Container, ContainerType, user};
use crate::errno::Errno;
use alloc::sync::Arc;
use core::ops::Deref;

/// Which of a process's containers of a type `unshare`, `setns` and `execve` change.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scope {
    /// The process's own container; one link (UTS, mount, IPC, network, cgroup).
    Process,
    /// `unshare` makes a container for children that the process itself enters at
    /// `execve`; `setns` enters at once (TIME, Linux's `time_for_children`).
    UntilExec,
    /// `unshare` and `setns` change only the container for children: the process never
    /// moves (PID, Linux's `pid_for_children`).
    Children,
}

/// The container a process is in ([`own`](Membership::own), also what `Deref` gives) and,
/// for a type whose [`Scope`] is not `Process`, the one its children start in.
pub struct Membership<T> {
    own: Arc<T>,
    for_children: Arc<T>,
}

impl<T> Deref for Membership<T> {
    type Target = Arc<T>;
    fn deref(&self) -> &Arc<T> {
        &self.own
    }
}

impl<T: ContainerType> Membership<T> {
    pub(super) fn root(c: T) -> Self {
        let c = Arc::new(c);
        Membership {
            own: c.clone(),
            for_children: c,
        }
    }

    fn both(c: Arc<T>) -> Self {
        Membership {
            own: c.clone(),
            for_children: c,
        }
    }

    /// The container the process is in.
    pub fn own(&self) -> &Arc<T> {
        &self.own
    }

    /// The container its next children start in (what the `pid_for_children` and
    /// `time_for_children` links show).
    pub fn for_children(&self) -> &Arc<T> {
        &self.for_children
    }

    /// Whether `unshare` or `setns` made the container for children differ.
    pub fn is_deferred(&self) -> bool {
        !Arc::ptr_eq(&self.own, &self.for_children)
    }

    /// The same containers (a set shared after a change to another type).
    pub(super) fn share(&self) -> Self {
        Membership {
            own: self.own.clone(),
            for_children: self.for_children.clone(),
        }
    }

    pub(super) fn member(&self, for_children: bool) -> Arc<dyn Container> {
        if for_children {
            self.for_children.clone()
        } else {
            self.own.clone()
        }
    }

    fn asked(flags: u64) -> bool {
        flags & T::KIND.clone_flag() != 0
    }

    pub(super) fn check_unshare(&self, flags: u64) -> Result<(), Errno> {
        if Self::asked(flags) && T::SCOPE != Scope::Process && self.is_deferred() {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// `clone` (`for_unshare` false: the child) or `unshare`: a new container when the
    /// type's flag is in `flags`. A child lives in its parent's container for children.
    pub(super) fn derive(
        &self,
        flags: u64,
        for_unshare: bool,
        owner: &Arc<user::UserContainer>,
    ) -> Result<Self, Errno> {
        if !Self::asked(flags) {
            return Ok(if for_unshare {
                self.share()
            } else {
                Self::both(self.for_children.clone())
            });
        }
        let new = Arc::new(T::new_child(&self.for_children, owner)?);
        debug_assert_eq!(
            ContainerType::common(&*new).kind(),
            T::KIND,
            "new_child counts its container under its own kind"
        );
        Ok(if for_unshare && T::SCOPE != Scope::Process {
            Membership {
                own: self.own.clone(),
                for_children: new,
            }
        } else {
            Self::both(new)
        })
    }

    /// `setns` into `target`.
    pub(super) fn join(&self, target: Arc<T>) -> Self {
        match T::SCOPE {
            Scope::Children => Membership {
                own: self.own.clone(),
                for_children: target,
            },
            Scope::Process | Scope::UntilExec => Self::both(target),
        }
    }

    pub(super) fn enters_at_exec(&self) -> bool {
        T::SCOPE == Scope::UntilExec && self.is_deferred()
    }

    /// After `execve`.
    pub(super) fn after_exec(&self) -> Self {
        if self.enters_at_exec() {
            Self::both(self.for_children.clone())
        } else {
            self.share()
        }
    }
}
