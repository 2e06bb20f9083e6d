//! The macro behind the declaration of container types (the table at the bottom of
//! `container/mod.rs`). From one row per type it generates [`Kind`](super::Kind) (with
//! `COUNT`, `ALL`, names, flags, features), [`Link`](super::Link) (the entries of
//! `/proc/[pid]/container` and `ns`) and [`ContainerSet`](super::ContainerSet) (a field per
//! type, `member`, `join`, `derive`, `after_exec`, the root set). A row whose type lacks a
//! piece ([`ContainerType`](super::ContainerType) impl, a root, a child constructor) does
//! not compile.

macro_rules! container_types {
    (
        credentials:
        $ukind:ident $ufield:ident $uflag:ident $ufeat:literal $uty:ty;
        set:
        $($kind:ident $field:ident $flag:ident $feat:literal $ty:ty;)*
    ) => {
        /// The container types, in boot-numbering order.
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum Kind {
            $ukind,
            $($kind,)*
        }

        impl Kind {
            pub const COUNT: usize = [stringify!($ukind), $(stringify!($kind)),*].len();
            pub const ALL: [Kind; Kind::COUNT] = [Kind::$ukind, $(Kind::$kind),*];

            pub const fn index(self) -> usize {
                self as usize
            }

            /// The name in `/proc/[pid]/container/<name>`, `max_<name>_container` and
            /// link texts.
            pub const fn name(self) -> &'static str {
                match self {
                    Kind::$ukind => stringify!($ufield),
                    $(Kind::$kind => stringify!($field),)*
                }
            }

            pub const fn clone_flag(self) -> u64 {
                match self {
                    Kind::$ukind => $uflag,
                    $(Kind::$kind => $flag,)*
                }
            }

            /// Whether the type's cargo feature is on: its `/proc` links and
            /// `max_<name>_container` exist.
            pub const fn enabled(self) -> bool {
                match self {
                    Kind::$ukind => cfg!(feature = $ufeat),
                    $(Kind::$kind => cfg!(feature = $feat),)*
                }
            }

            /// Whether `clone`/`unshare` create containers of the type: its feature is on
            /// and the type creates. Flags of other types give `EINVAL`.
            pub const fn creatable(self) -> bool {
                self.enabled()
                    && match self {
                        Kind::$ukind => <$uty as $crate::container::ContainerType>::CREATABLE,
                        $(Kind::$kind => <$ty as $crate::container::ContainerType>::CREATABLE,)*
                    }
            }

            pub const fn scope(self) -> $crate::container::Scope {
                match self {
                    Kind::$ukind => <$uty as $crate::container::ContainerType>::SCOPE,
                    $(Kind::$kind => <$ty as $crate::container::ContainerType>::SCOPE,)*
                }
            }

            pub const fn hierarchical(self) -> bool {
                match self {
                    Kind::$ukind => <$uty as $crate::container::ContainerType>::HIERARCHICAL,
                    $(Kind::$kind => <$ty as $crate::container::ContainerType>::HIERARCHICAL,)*
                }
            }

            pub fn from_flag(flag: u64) -> Option<Kind> {
                Kind::ALL.into_iter().find(|k| k.clone_flag() == flag)
            }
        }

        /// An entry of `/proc/[pid]/container/` and `/proc/[pid]/ns/`: a process's own
        /// container of a kind, or (PID, TIME) the one its children start in.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Link {
            Own(Kind),
            ForChildren(Kind),
        }

        impl Link {
            pub const COUNT: usize = {
                let mut n = Kind::COUNT;
                let mut i = 0;
                while i < Kind::COUNT {
                    if !matches!(Kind::ALL[i].scope(), $crate::container::Scope::Process) {
                        n += 1;
                    }
                    i += 1;
                }
                n
            };

            /// Every link, each kind's own link followed by its `_for_children` one.
            pub const ALL: [Link; Link::COUNT] = {
                let mut a = [Link::Own(Kind::$ukind); Link::COUNT];
                let (mut i, mut k) = (0, 0);
                while k < Kind::COUNT {
                    let kind = Kind::ALL[k];
                    a[i] = Link::Own(kind);
                    i += 1;
                    if !matches!(kind.scope(), $crate::container::Scope::Process) {
                        a[i] = Link::ForChildren(kind);
                        i += 1;
                    }
                    k += 1;
                }
                a
            };

            pub const fn kind(self) -> Kind {
                match self {
                    Link::Own(k) | Link::ForChildren(k) => k,
                }
            }

            pub const fn name(self) -> &'static str {
                match self {
                    Link::Own(k) => k.name(),
                    Link::ForChildren(Kind::$ukind) => {
                        concat!(stringify!($ufield), "_for_children")
                    }
                    $(Link::ForChildren(Kind::$kind) => {
                        concat!(stringify!($field), "_for_children")
                    })*
                }
            }

            /// The link named `name` in `/proc/[pid]/ns` (a `match`: a lookup there runs
            /// it at every walk through the directory).
            pub fn by_name(name: &str) -> Option<Link> {
                let link = match name {
                    stringify!($ufield) => Link::Own(Kind::$ukind),
                    $(stringify!($field) => Link::Own(Kind::$kind),)*
                    concat!(stringify!($ufield), "_for_children") => Link::ForChildren(Kind::$ukind),
                    $(concat!(stringify!($field), "_for_children") => Link::ForChildren(Kind::$kind),)*
                    _ => return None,
                };
                match link {
                    Link::ForChildren(k)
                        if matches!(k.scope(), $crate::container::Scope::Process) => None,
                    l => Some(l),
                }
            }

            /// The position in [`Link::ALL`].
            pub fn index(self) -> usize {
                Link::ALL.iter().position(|l| *l == self).unwrap_or(0)
            }
        }

        /// A process's containers, one [`Membership`] per type but user (in the
        /// credentials). Immutable: a change builds a new set.
        pub struct ContainerSet {
            $(pub $field: $crate::container::Membership<$ty>,)*
        }

        impl Clone for ContainerSet {
            fn clone(&self) -> Self {
                ContainerSet {
                    $($field: self.$field.share(),)*
                }
            }
        }

        /// A `setns` into one container, checked ([`ContainerSet::check_join`]) and
        /// not yet made: the container, by type.
        pub enum Joining {
            $($kind(Arc<$ty>),)*
        }

        /// What a join replaced: a type's membership, or the whole set when it was
        /// shared. Dropped by the caller once it holds no lock.
        pub enum Replaced {
            Set(Arc<ContainerSet>),
            $($kind($crate::container::Membership<$ty>),)*
        }

        impl ContainerSet {
            /// The root containers, numbered in declaration order; the credentials row's
            /// module keeps its root (`init_root`).
            fn root() -> ContainerSet {
                $ufield::init_root(<$uty as $crate::container::ContainerType>::root(
                    ContainerCommon::root(Kind::$ukind),
                ));
                ContainerSet {
                    $($field: $crate::container::Membership::root(
                        <$ty as $crate::container::ContainerType>::root(
                            ContainerCommon::root(Kind::$kind),
                        ),
                    ),)*
                }
            }

            /// The container behind `link` (`None` for user: it is in the credentials).
            pub fn member(&self, link: Link) -> Option<Arc<dyn Container>> {
                let for_children = matches!(link, Link::ForChildren(_));
                match link.kind() {
                    Kind::$ukind => None,
                    $(Kind::$kind => Some(self.$field.member(for_children)),)*
                }
            }

            /// `setns` into `target` checked against this set (not a user container:
            /// `EINVAL`), with its type's checks ([`ContainerType::may_join`]): the
            /// container to put in, not yet put.
            pub fn check_join(
                &self,
                target: Arc<dyn Container>,
                cred: &$crate::cred::Credentials,
                single_threaded: bool,
            ) -> Result<Joining, Errno> {
                match target.kind() {
                    Kind::$ukind => Err(Errno::EINVAL),
                    $(Kind::$kind => {
                        let t: Arc<$ty> = target.downcast().ok_or(Errno::EINVAL)?;
                        $crate::container::ContainerType::may_join(
                            &*t,
                            self,
                            cred,
                            single_threaded,
                        )?;
                        Ok(Joining::$kind(t))
                    })*
                }
            }

            /// Puts a checked join's container in its type's membership: its kind,
            /// whether the process's own container of the type changed, and the
            /// membership it replaced.
            fn put(&mut self, j: Joining) -> (Kind, bool, Replaced) {
                match j {
                    $(Joining::$kind(t) => {
                        let new = self.$field.join(t);
                        let changed = !Arc::ptr_eq(new.own(), self.$field.own());
                        let old = core::mem::replace(&mut self.$field, new);
                        (Kind::$kind, changed, Replaced::$kind(old))
                    })*
                }
            }

            /// The set after `setns` into `target` (see [`Self::check_join`]).
            pub fn join(
                &self,
                target: Arc<dyn Container>,
                cred: &$crate::cred::Credentials,
                single_threaded: bool,
            ) -> Result<ContainerSet, Errno> {
                let j = self.check_join(target, cred, single_threaded)?;
                let mut c = self.clone();
                drop(c.put(j));
                Ok(c)
            }

            /// A checked join made the process's set `set` (its process lock held):
            /// in place when no one else holds the set (no copy of every membership, no
            /// new set), else in a new set. The changed type's
            /// [`ContainerType::joined`] rule adjusts `fs`, and the process enters the
            /// set. Gives the kind, whether its own container changed, and what was
            /// replaced, to drop once the lock is released (a last reference tears a
            /// container down).
            pub fn install_join(
                set: &mut Arc<ContainerSet>,
                j: Joining,
                fs: &mut Arc<$crate::fs::FsContext>,
            ) -> (Kind, bool, Replaced) {
                let (kind, changed, replaced) = match Arc::get_mut(set) {
                    Some(s) => s.put(j),
                    None => {
                        let mut c = (**set).clone();
                        let (kind, changed, _) = c.put(j);
                        (kind, changed, Replaced::Set(core::mem::replace(set, Arc::new(c))))
                    }
                };
                if changed {
                    match kind {
                        Kind::$ukind => {}
                        $(Kind::$kind => {
                            $crate::container::ContainerType::joined(&**set.$field.own(), fs);
                        })*
                    }
                }
                set.entered();
                (kind, changed, replaced)
            }

            /// The process moves from set `old` to this one (`setns`): each container it
            /// now is in adjusts `fs` when it changed, and is entered.
            pub fn install_over(&self, old: &ContainerSet, fs: &mut Arc<$crate::fs::FsContext>) {
                $(if !Arc::ptr_eq(self.$field.own(), old.$field.own()) {
                    $crate::container::ContainerType::joined(&**self.$field.own(), fs);
                })*
                self.entered();
            }

            /// The file-system context of a process given this set by `clone`/`unshare`
            /// with `flags` (each new container's
            /// [`ContainerType::created`](crate::container::ContainerType::created)).
            pub fn created_fs(&self, flags: u64, fs: &mut Arc<$crate::fs::FsContext>) {
                $(if flags & Kind::$kind.clone_flag() != 0 {
                    $crate::container::ContainerType::created(&**self.$field.own(), fs);
                })*
            }

            /// What `clone(flags)` refuses given these containers (each type's
            /// [`ContainerType::may_clone`](crate::container::ContainerType::may_clone)).
            pub fn check_clone(&self, flags: u64, thread: bool) -> Result<(), Errno> {
                $(<$ty as $crate::container::ContainerType>::may_clone(
                    &self.$field,
                    flags & Kind::$kind.clone_flag() != 0,
                    thread,
                )?;)*
                Ok(())
            }

            /// `EINVAL` when `unshare(flags)` asks again for a container for children the
            /// caller has not entered yet (PID, TIME: LiteOS-A's and Linux's rule).
            pub fn check_unshare(&self, flags: u64) -> Result<(), Errno> {
                $(self.$field.check_unshare(flags)?;)*
                Ok(())
            }

            /// Whether some container for children differs from the own one (a child
            /// then needs a set of its own).
            pub fn has_deferred(&self) -> bool {
                false $(|| self.$field.is_deferred())*
            }

            /// The containers of a child created with `flags` (clone) or of the caller
            /// after `unshare(flags)`: new containers for each `CLONE_NEW*` flag, shared
            /// ones otherwise. Either everything is built or nothing is (an error drops
            /// what was made). New containers are owned by `owner`.
            pub fn derive(
                &self,
                flags: u64,
                for_unshare: bool,
                owner: &Arc<user::UserContainer>,
            ) -> Result<ContainerSet, Errno> {
                let c = ContainerSet {
                    $($field: self.$field.derive(flags, for_unshare, owner)?,)*
                };
                if !for_unshare {
                    c.entered();
                }
                Ok(c)
            }

            /// The set after `execve`, when it changes: a process that unshared its TIME
            /// container enters its container for children (Linux's
            /// `exec_task_namespaces`).
            pub fn after_exec(&self) -> Option<ContainerSet> {
                if !(false $(|| self.$field.enters_at_exec())*) {
                    return None;
                }
                let c = ContainerSet {
                    $($field: self.$field.after_exec(),)*
                };
                c.entered();
                Some(c)
            }

            /// A process is in these containers from now on.
            fn entered(&self) {
                $($crate::container::ContainerType::entered(&**self.$field.own());)*
            }
        }
    };
}
