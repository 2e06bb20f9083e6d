//! Containers (LiteOS-A's name for namespaces): the per-process [`Container`] set,
//! the shared base of every type ([`ContainerCommon`], numbers, limits) and the
//! [`ContainerType`] trait that procfs links, `setns` and the nsfs ioctls go through.
//!
//! Adding a type: one file here implementing [`ContainerType`], a [`Kind`] variant
//! with its name and clone flag, a field in [`Container`], its cargo feature, and its
//! case in [`Container::member`]/[`Container::replace`]. README walks through it.
#![deny(unsafe_code)]

pub mod limits;
pub mod pidmap;

pub mod ipc;
pub mod mnt;
pub mod net;
pub mod pid;
pub mod time;
pub mod user;
pub mod uts;

use crate::errno::Errno;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Once;

pub const CLONE_NEWTIME: u64 = 0x0000_0080;
pub const CLONE_NEWNS: u64 = 0x0002_0000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;
/// Every namespace flag Linux defines.
pub const ALL_NEW_FLAGS: u64 = CLONE_NEWTIME
    | CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;

/// Container types, in LiteOS-A's boot numbering order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Kind {
    User,
    Pid,
    Uts,
    Mnt,
    Ipc,
    Time,
    Net,
}

impl Kind {
    pub const COUNT: usize = 7;
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::User,
        Kind::Pid,
        Kind::Uts,
        Kind::Mnt,
        Kind::Ipc,
        Kind::Time,
        Kind::Net,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The name in `/proc/[pid]/container/<name>`, `max_<name>_container` and link texts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Pid => "pid",
            Kind::Uts => "uts",
            Kind::Mnt => "mnt",
            Kind::Ipc => "ipc",
            Kind::Time => "time",
            Kind::Net => "net",
        }
    }

    pub fn clone_flag(self) -> u64 {
        match self {
            Kind::User => CLONE_NEWUSER,
            Kind::Pid => CLONE_NEWPID,
            Kind::Uts => CLONE_NEWUTS,
            Kind::Mnt => CLONE_NEWNS,
            Kind::Ipc => CLONE_NEWIPC,
            Kind::Time => CLONE_NEWTIME,
            Kind::Net => CLONE_NEWNET,
        }
    }

    pub fn from_flag(flag: u64) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.clone_flag() == flag)
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this kernel creates containers of this type (its cargo feature is on
    /// and its issue has landed). Flags of other types give `EINVAL`.
    pub fn creatable(self) -> bool {
        (self == Kind::Uts && cfg!(feature = "uts"))
            || (self == Kind::Pid && cfg!(feature = "pid"))
            || (self == Kind::User && cfg!(feature = "user"))
            || (self == Kind::Mnt && cfg!(feature = "mnt"))
            || (self == Kind::Ipc && cfg!(feature = "ipc"))
            || (self == Kind::Time && cfg!(feature = "time"))
    }

    /// Whether `/proc/[pid]/container/<name>` and `ns/<name>` exist.
    pub fn enabled(self) -> bool {
        match self {
            Kind::User => cfg!(feature = "user"),
            Kind::Pid => cfg!(feature = "pid"),
            Kind::Uts => cfg!(feature = "uts"),
            Kind::Mnt => cfg!(feature = "mnt"),
            Kind::Ipc => cfg!(feature = "ipc"),
            Kind::Time => cfg!(feature = "time"),
            Kind::Net => cfg!(feature = "net"),
        }
    }
}

/// The global container-number counter: the first number is 0xF0000001 (4026531841).
static NEXT_NUMBER: AtomicU32 = AtomicU32::new(0xF000_0000);

/// What every container object carries: its number and its counted slot.
pub struct ContainerCommon {
    number: u32,
    kind: Kind,
    /// The user container that owns this one (for a user container: its parent).
    owner: Option<alloc::sync::Arc<user::UserContainer>>,
    _slot: limits::Slot,
}

impl ContainerCommon {
    /// A new container of `kind`: `ENOSPC` at the limit (nothing is consumed then).
    pub fn new(kind: Kind, owner: &Arc<user::UserContainer>) -> Result<ContainerCommon, Errno> {
        let slot = limits::Slot::acquire(kind)?;
        Ok(ContainerCommon {
            number: NEXT_NUMBER.fetch_add(1, Ordering::Relaxed).wrapping_add(1),
            kind,
            owner: Some(owner.clone()),
            _slot: slot,
        })
    }

    /// The root container of `kind`, made once at boot.
    fn root(kind: Kind) -> ContainerCommon {
        ContainerCommon {
            number: NEXT_NUMBER.fetch_add(1, Ordering::Relaxed).wrapping_add(1),
            kind,
            owner: if kind == Kind::User {
                None
            } else {
                Some(user::root_user())
            },
            _slot: limits::Slot::root(kind),
        }
    }

    /// The owning user container (`None` only for the root user container).
    pub fn owner(&self) -> Option<&Arc<user::UserContainer>> {
        self.owner.as_ref()
    }

    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// The operations every container type provides (Linux's `proc_ns_operations`).
pub trait ContainerType: Any + Send + Sync {
    fn common(&self) -> &ContainerCommon;
    /// The parent container, for hierarchical types (PID, user): `NS_GET_PARENT`.
    fn parent(&self) -> Option<Arc<dyn ContainerType>> {
        None
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl dyn ContainerType {
    pub fn number(&self) -> u32 {
        self.common().number()
    }
    pub fn kind(&self) -> Kind {
        self.common().kind()
    }
    /// The object as its concrete type.
    pub fn downcast<T: ContainerType>(self: Arc<Self>) -> Option<Arc<T>> {
        self.as_any().downcast::<T>().ok()
    }
}

/// The containers a process belongs to. Immutable: a change builds a new one.
#[derive(Clone)]
pub struct Container {
    pub uts: Arc<uts::UtsContainer>,
    pub pid: Arc<pid::PidContainer>,
    pub pid_for_children: Arc<pid::PidContainer>,
    pub mnt: Arc<mnt::MntContainer>,
    pub ipc: Arc<ipc::IpcContainer>,
    pub time: Arc<time::TimeContainer>,
    pub time_for_children: Arc<time::TimeContainer>,
    pub net: Arc<net::NetContainer>,
}

/// The link names of `/proc/[pid]/container/` and `/proc/[pid]/ns/`, with the kind each shows.
pub const LINKS: [(&str, Kind); 9] = [
    ("pid", Kind::Pid),
    ("pid_for_children", Kind::Pid),
    ("uts", Kind::Uts),
    ("mnt", Kind::Mnt),
    ("ipc", Kind::Ipc),
    ("time", Kind::Time),
    ("time_for_children", Kind::Time),
    ("user", Kind::User),
    ("net", Kind::Net),
];

impl Container {
    /// The member behind link `name` (`user` lives in the credentials: see
    /// [`user::UserContainer`]).
    pub fn member(&self, name: &str) -> Option<Arc<dyn ContainerType>> {
        Some(match name {
            "pid" => self.pid.clone(),
            "pid_for_children" => self.pid_for_children.clone(),
            "uts" => self.uts.clone(),
            "mnt" => self.mnt.clone(),
            "ipc" => self.ipc.clone(),
            "time" => self.time.clone(),
            "time_for_children" => self.time_for_children.clone(),
            "net" => self.net.clone(),
            _ => return None,
        })
    }

    /// A copy with `new` installed for its kind (`setns`): PID sets only
    /// pid_for_children, TIME sets both.
    pub fn replace(&self, new: Arc<dyn ContainerType>) -> Result<Container, Errno> {
        let mut c = self.clone();
        match new.kind() {
            Kind::Uts => c.uts = new.downcast().ok_or(Errno::EINVAL)?,
            Kind::Pid => c.pid_for_children = new.downcast().ok_or(Errno::EINVAL)?,
            Kind::Mnt => c.mnt = new.downcast().ok_or(Errno::EINVAL)?,
            Kind::Ipc => c.ipc = new.downcast().ok_or(Errno::EINVAL)?,
            Kind::Time => {
                let t: Arc<time::TimeContainer> = new.downcast().ok_or(Errno::EINVAL)?;
                c.time = t.clone();
                c.time_for_children = t;
            }
            Kind::Net => c.net = new.downcast().ok_or(Errno::EINVAL)?,
            Kind::User => return Err(Errno::EINVAL),
        }
        Ok(c)
    }

    /// The containers of a child created with `flags` (clone) or of the caller after
    /// `unshare(flags)`: new objects for each `CLONE_NEW*` flag, shared ones otherwise.
    /// Either everything is built or nothing is (an error drops what was made).
    /// New containers are owned by `owner` (the caller's user container, or the one
    /// created in the same call).
    pub fn derive(
        &self,
        flags: u64,
        for_unshare: bool,
        owner: &Arc<user::UserContainer>,
    ) -> Result<Container, Errno> {
        let mut c = self.clone();
        if flags & CLONE_NEWUTS != 0 {
            c.uts = Arc::new(self.uts.new_child(owner)?);
        }
        if flags & CLONE_NEWNS != 0 {
            c.mnt = Arc::new(self.mnt.new_child(owner)?);
        }
        if flags & CLONE_NEWIPC != 0 {
            c.ipc = Arc::new(self.ipc.new_child(owner)?);
        }
        if flags & CLONE_NEWPID != 0 {
            let child = Arc::new(pid::PidContainer::new_child(&self.pid_for_children, owner)?);
            c.pid_for_children = child.clone();
            if !for_unshare {
                c.pid = child;
            }
        } else if !for_unshare {
            // A child lives in its parent's pid_for_children.
            c.pid = self.pid_for_children.clone();
        }
        if flags & CLONE_NEWTIME != 0 {
            // Linux's copy_time_ns: the offsets of the caller's time_for_children.
            let t = Arc::new(self.time_for_children.new_child(owner)?);
            c.time_for_children = t.clone();
            if !for_unshare {
                c.time = t;
            }
        } else if !for_unshare {
            // A child lives in its parent's time_for_children (Linux's timens_on_fork).
            c.time = self.time_for_children.clone();
        }
        if !for_unshare {
            // Everything is built: the first process to enter a TIME container fixes its
            // offsets.
            c.time.freeze();
        }
        Ok(c)
    }

    /// The set after `execve`, when it changes: a process that unshared its TIME container
    /// enters its time_for_children (Linux's `exec_task_namespaces`, 5.18 on).
    pub fn after_exec(&self) -> Option<Container> {
        if Arc::ptr_eq(&self.time, &self.time_for_children) {
            return None;
        }
        self.time_for_children.freeze();
        let mut c = self.clone();
        c.time = self.time_for_children.clone();
        Some(c)
    }

    /// Whether two sets are the same objects (a fork may then share the `Arc<Container>`).
    pub fn same_as(&self, o: &Container) -> bool {
        Arc::ptr_eq(&self.uts, &o.uts)
            && Arc::ptr_eq(&self.pid, &o.pid)
            && Arc::ptr_eq(&self.pid_for_children, &o.pid_for_children)
            && Arc::ptr_eq(&self.mnt, &o.mnt)
            && Arc::ptr_eq(&self.ipc, &o.ipc)
            && Arc::ptr_eq(&self.time, &o.time)
            && Arc::ptr_eq(&self.time_for_children, &o.time_for_children)
            && Arc::ptr_eq(&self.net, &o.net)
    }
}

static ROOT: Once<Arc<Container>> = Once::new();

/// Numbers the root containers in LiteOS-A's order (user, pid, uts, mnt, ipc, time,
/// net) and builds the root set. `cmdline` may set `pid_container.max_level=N` and
/// `user_container.max_level=N`.
pub fn init(cmdline: &str) {
    for w in cmdline.split_whitespace() {
        if let Some(v) = w.strip_prefix("pid_container.max_level=")
            && let Ok(n) = v.parse::<u32>()
        {
            pid::set_max_level(n);
        }
        if let Some(v) = w.strip_prefix("user_container.max_level=")
            && let Ok(n) = v.parse::<u32>()
        {
            user::set_max_level(n);
        }
    }
    ROOT.call_once(|| {
        user::init_root(ContainerCommon::root(Kind::User));
        let pid = Arc::new(pid::PidContainer::root(ContainerCommon::root(Kind::Pid)));
        let uts = Arc::new(uts::UtsContainer::root(ContainerCommon::root(Kind::Uts)));
        let mnt = Arc::new(mnt::MntContainer::root(ContainerCommon::root(Kind::Mnt)));
        let ipc = Arc::new(ipc::IpcContainer::root(ContainerCommon::root(Kind::Ipc)));
        let time = Arc::new(time::TimeContainer::root(ContainerCommon::root(Kind::Time)));
        let net = Arc::new(net::NetContainer::root(ContainerCommon::root(Kind::Net)));
        Arc::new(Container {
            uts,
            pid: pid.clone(),
            pid_for_children: pid,
            mnt,
            ipc,
            time: time.clone(),
            time_for_children: time,
            net,
        })
    });
}

/// The root container set (PID 1's).
pub fn root() -> Arc<Container> {
    ROOT.get().expect("container::init runs at boot").clone()
}

/// Implements the boilerplate of [`ContainerType`] for a type with a `common` field.
#[macro_export]
macro_rules! container_type {
    // A hierarchical type (PID, user): `parent: Option<Arc<Self>>` answers NS_GET_PARENT.
    ($t:ty, hierarchical) => {
        impl $crate::container::ContainerType for $t {
            fn common(&self) -> &$crate::container::ContainerCommon {
                &self.common
            }
            fn parent(&self) -> Option<alloc::sync::Arc<dyn $crate::container::ContainerType>> {
                self.parent
                    .clone()
                    .map(|p| p as alloc::sync::Arc<dyn $crate::container::ContainerType>)
            }
            fn as_any(
                self: alloc::sync::Arc<Self>,
            ) -> alloc::sync::Arc<dyn core::any::Any + Send + Sync> {
                self
            }
        }
    };
    ($t:ty) => {
        impl $crate::container::ContainerType for $t {
            fn common(&self) -> &$crate::container::ContainerCommon {
                &self.common
            }
            fn as_any(
                self: alloc::sync::Arc<Self>,
            ) -> alloc::sync::Arc<dyn core::any::Any + Send + Sync> {
                self
            }
        }
    };
}
