//! Containers (LiteOS-A's name for namespaces).
//!
//! Words: a **container** is one object of one type (a UTS container, a PID container);
//! a process's **container set** ([`ContainerSet`]) holds one container of each type (two
//! for PID and TIME: the one it is in and the one its children start in). The user
//! container lives in the credentials instead of the set.
//!
//! The types are declared once, in the [`container_types!`] table at the bottom of this
//! file: name, clone flag, cargo feature and Rust type. [`Kind`], the counts, [`Link`], the
//! set's fields and its `member`, `replace`, `derive` and the root set are generated from
//! it. Each type's own rules (creation, what `setns` checks and does, its scope, whether it
//! is hierarchical) are its [`ContainerType`] impl, in its own file. Procfs links, `setns`
//! and the nsfs ioctls go through the object-safe [`Container`] trait.
#![deny(unsafe_code)]

#[macro_use]
mod declare;
pub mod limits;
pub mod pidmap;
pub mod set;

pub mod cgroup;
pub mod ipc;
pub mod mnt;
pub mod net;
pub mod pid;
pub mod time;
pub mod user;
pub mod uts;

pub use set::{Membership, Scope};

use crate::cred::Credentials;
use crate::errno::Errno;
use crate::fs::FsContext;
use crate::plimits::kmem::{self, Charge};
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

/// The global container-number counter: the first number is 0xF0000001 (4026531841).
static NEXT_NUMBER: AtomicU32 = AtomicU32::new(0xF000_0000);

/// What every container carries: its number, its kind, its owner, its counted slot and
/// its charge.
pub struct ContainerCommon {
    number: u32,
    /// The text of a link to it, written once: every `readlink` of one shows it.
    link: LinkText,
    kind: Kind,
    /// The user container that owns this one (for a user container: its parent).
    owner: Option<Arc<user::UserContainer>>,
    _slot: limits::Slot,
    /// The container object (and a network container's stack) charged to the plimits
    /// group of the process whose `clone`/`unshare` made it.
    _charge: Charge,
}

/// What a new container of `kind` takes on the heap: its object in its `Arc` and, for a
/// network container, its stack with `lo` and its veth pair. (A mount container's copied
/// tree charges itself, mount by mount.)
fn object_cost(kind: Kind) -> u64 {
    match kind {
        Kind::User => kmem::arc_cost::<user::UserContainer>(),
        Kind::Pid => kmem::arc_cost::<pid::PidContainer>(),
        Kind::Uts => kmem::arc_cost::<uts::UtsContainer>(),
        Kind::Mnt => kmem::arc_cost::<mnt::MntContainer>(),
        // With the shared counters and tables its spaces allocate.
        Kind::Ipc => kmem::arc_cost::<ipc::IpcContainer>()
            .saturating_add(crate::ipc::mqueue::Space::heap_cost())
            .saturating_add(crate::ipc::sysv::Space::heap_cost()),
        Kind::Time => kmem::arc_cost::<time::TimeContainer>(),
        Kind::Net => {
            kmem::arc_cost::<net::NetContainer>().saturating_add(crate::net::stack::stack_cost())
        }
        Kind::Cgroup => kmem::arc_cost::<cgroup::CgroupContainer>(),
    }
}

impl ContainerCommon {
    /// A new container of `kind`: `ENOSPC` at the limit, `ENOMEM` over the caller's
    /// group's memory limit (nothing is consumed then).
    pub fn new(kind: Kind, owner: &Arc<user::UserContainer>) -> Result<ContainerCommon, Errno> {
        let charge = Charge::new(object_cost(kind))?;
        let slot = limits::Slot::acquire(kind)?;
        let number = NEXT_NUMBER.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        Ok(ContainerCommon {
            number,
            link: LinkText::of(kind, number),
            kind,
            owner: Some(owner.clone()),
            _slot: slot,
            _charge: charge,
        })
    }

    /// The root container of `kind`, made once at boot.
    fn root(kind: Kind) -> ContainerCommon {
        let number = NEXT_NUMBER.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        ContainerCommon {
            number,
            link: LinkText::of(kind, number),
            kind,
            owner: if kind == Kind::User {
                None
            } else {
                Some(user::root_user())
            },
            _slot: limits::Slot::root(kind),
            _charge: Charge::none(),
        }
    }

    /// The owning user container (`None` only for the root user container).
    pub fn owner(&self) -> Option<&Arc<user::UserContainer>> {
        self.owner.as_ref()
    }

    pub fn number(&self) -> u32 {
        self.number
    }

    /// The text of a link to it (`uts:[4026531843]`).
    #[inline]
    pub fn link_text(&self) -> &LinkText {
        &self.link
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// The text of a link to a container, `uts:[4026531843]` (at most 19 bytes: the longest
/// kind name and 10 digits), in a fixed-size buffer so that it is copied out with a few
/// word moves.
pub struct LinkText {
    buf: [u8; LINK_TEXT],
    len: u8,
}

/// [`LinkText`]'s buffer size.
pub const LINK_TEXT: usize = 24;

impl LinkText {
    pub(crate) fn of(kind: Kind, n: u32) -> LinkText {
        let mut buf = [0; LINK_TEXT];
        let mut digits = [0; 10];
        let start = crate::fs::procfs::write_digits_before(&mut digits, 10, n);
        let parts: [&[u8]; 4] = [kind.name().as_bytes(), b":[", &digits[start..], b"]"];
        let mut len = 0;
        for b in parts.into_iter().flatten() {
            buf[len] = *b;
            len += 1;
        }
        LinkText {
            buf,
            len: len as u8,
        }
    }

    /// The whole buffer (the text and zeros after it) and the text's length.
    #[inline]
    pub fn buffer(&self) -> (&[u8; LINK_TEXT], usize) {
        (&self.buf, usize::from(self.len))
    }
}

/// One container type's rules (Linux's `proc_ns_operations`), implemented in its file.
/// The generic flow (`clone`, `unshare`, `setns`, `execve`, procfs, nsfs) calls these.
pub trait ContainerType: Any + Send + Sync + Sized {
    /// Its row in the declaration.
    const KIND: Kind;
    /// Which of the caller's containers `unshare`, `setns` and `execve` change.
    const SCOPE: Scope = Scope::Process;
    /// Whether its containers have parents (`NS_GET_PARENT`; Linux: PID and user).
    const HIERARCHICAL: bool = false;
    /// Whether this kernel creates containers of the type (a type whose issue has not
    /// landed has only its root); its flag gives `EINVAL` otherwise.
    const CREATABLE: bool = true;

    fn common(&self) -> &ContainerCommon;

    /// The root container, numbered at boot.
    fn root(common: ContainerCommon) -> Self;

    /// A new container below `parent` (the creator's container for children) owned by
    /// `owner`. Call `ContainerCommon::new(Self::KIND, owner)?` first: it takes the limit
    /// slot (`ENOSPC` at the limit, nothing built).
    fn new_child(parent: &Arc<Self>, owner: &Arc<user::UserContainer>) -> Result<Self, Errno>;

    /// The parent container of a hierarchical type.
    fn parent(&self) -> Option<Arc<Self>> {
        None
    }

    /// What `clone` refuses given the caller's membership `m` in this type: `new` when
    /// the call asks for a new container of the type, `thread` for `CLONE_THREAD`.
    fn may_clone(_m: &Membership<Self>, _new: bool, _thread: bool) -> Result<(), Errno> {
        Ok(())
    }

    /// What `setns` checks beyond CAP_SYS_ADMIN over the caller's and the target's user
    /// containers: `set` is the caller's set, `single_threaded` whether it has one thread.
    fn may_join(
        &self,
        _set: &ContainerSet,
        _cred: &Credentials,
        _single_threaded: bool,
    ) -> Result<(), Errno> {
        Ok(())
    }

    /// What `clone`/`unshare` do to the file-system context of a process that gets this new
    /// container (the mount container: the same paths in the copied tree).
    fn created(&self, _fs: &mut Arc<FsContext>) {}

    /// What `setns` does to the caller's file-system context once the container is its
    /// own (the mount container moves root and cwd).
    fn joined(&self, _fs: &mut Arc<FsContext>) {}

    /// A process enters the container (created into it, `setns`, `execve` into a TIME
    /// container's for-children one).
    fn entered(&self) {}
}

/// One container as procfs links, `setns` and the nsfs ioctls see it. Every
/// [`ContainerType`] is one.
pub trait Container: Any + Send + Sync {
    fn common(&self) -> &ContainerCommon;
    /// The container as its nsfs inode and as its open file (it is both: `fs::nsfs`).
    fn into_inode(self: Arc<Self>) -> crate::fs::vfs::InodeRef;
    fn into_file_ops(self: Arc<Self>) -> Arc<dyn crate::fs::file::FileOps>;
    /// The parent container, for hierarchical types: `NS_GET_PARENT`.
    fn parent(&self) -> Option<Arc<dyn Container>>;
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<T: ContainerType> Container for T {
    fn common(&self) -> &ContainerCommon {
        ContainerType::common(self)
    }
    fn into_inode(self: Arc<Self>) -> crate::fs::vfs::InodeRef {
        self
    }
    fn into_file_ops(self: Arc<Self>) -> Arc<dyn crate::fs::file::FileOps> {
        self
    }
    fn parent(&self) -> Option<Arc<dyn Container>> {
        ContainerType::parent(self).map(|p| p as Arc<dyn Container>)
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

impl dyn Container {
    pub fn number(&self) -> u32 {
        self.common().number()
    }
    pub fn kind(&self) -> Kind {
        self.common().kind()
    }
    /// The object as its concrete type.
    pub fn downcast<T: Container>(self: Arc<Self>) -> Option<Arc<T>> {
        self.as_any().downcast::<T>().ok()
    }
}

static ROOT: Once<Arc<ContainerSet>> = Once::new();

/// Numbers the root containers in the declaration's order (LiteOS-A's: user, pid, uts,
/// mnt, ipc, time, net, then cgroup) and builds the root set. `cmdline` may set
/// `pid_container.max_level=N`.
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
    ROOT.call_once(|| Arc::new(ContainerSet::root()));
}

/// The root container set (PID 1's).
pub fn root() -> Arc<ContainerSet> {
    ROOT.get().expect("container::init runs at boot").clone()
}

// The declaration: one row per type, in boot-numbering order. The user container lives in
// the credentials; the others are members of the set.
//
//  Kind       field   clone flag        feature    Rust type
container_types! {
    credentials:
    User       user    CLONE_NEWUSER     "user"     user::UserContainer;
    set:
    Pid        pid     CLONE_NEWPID      "pid"      pid::PidContainer;
    Uts        uts     CLONE_NEWUTS      "uts"      uts::UtsContainer;
    Mnt        mnt     CLONE_NEWNS       "mnt"      mnt::MntContainer;
    Ipc        ipc     CLONE_NEWIPC      "ipc"      ipc::IpcContainer;
    Time       time    CLONE_NEWTIME     "time"     time::TimeContainer;
    Net        net     CLONE_NEWNET      "net"      net::NetContainer;
    Cgroup     cgroup  CLONE_NEWCGROUP   "cgroup"   cgroup::CgroupContainer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_flag_a_link_a_feature_and_a_root() {
        init("");
        let set = root();
        let mut flags = 0u64;
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i, "{k:?}: ALL is in declaration order");
            let f = k.clone_flag();
            assert_eq!(f.count_ones(), 1, "{k:?}: one flag bit");
            assert_eq!(f & ALL_NEW_FLAGS, f, "{k:?}: a CLONE_NEW* flag");
            assert_eq!(flags & f, 0, "{k:?}: flag {f:#x} taken twice");
            flags |= f;
            assert_eq!(Kind::from_flag(f), Some(k));
            assert_eq!(
                Kind::ALL.iter().filter(|o| o.name() == k.name()).count(),
                1,
                "{k:?}: its name is its own"
            );
            assert!(
                Link::ALL.contains(&Link::Own(k)),
                "{k:?}: /proc/[pid]/ns/{} exists",
                k.name()
            );
            assert_eq!(
                Link::ALL.contains(&Link::ForChildren(k)),
                k.scope() != Scope::Process,
                "{k:?}: a for_children link exactly when unshare defers"
            );
            let root = match k {
                Kind::User => user::root_user() as Arc<dyn Container>,
                _ => set
                    .member(Link::Own(k))
                    .expect("the set has every other kind"),
            };
            assert_eq!(root.kind(), k, "{k:?}: its root is of its kind");
            assert_eq!(
                root.number(),
                0xF000_0001 + i as u32,
                "{k:?}: roots numbered in declaration order"
            );
            if k.scope() != Scope::Process {
                let c = set.member(Link::ForChildren(k)).expect("for_children");
                assert_eq!(c.number(), root.number(), "{k:?}: root for_children");
            }
        }
        assert_eq!(
            flags, ALL_NEW_FLAGS,
            "every Linux CLONE_NEW* flag is a kind"
        );
        assert_eq!(set.member(Link::Own(Kind::User)).map(|_| ()), None);
        let names: alloc::vec::Vec<&str> = Link::ALL.iter().map(|l| l.name()).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "link {n} twice");
            assert_eq!(Link::ALL[i].index(), i);
        }
        assert!(names.contains(&"pid_for_children") && names.contains(&"time_for_children"));
    }

    #[test]
    fn a_join_changes_a_set_held_once_in_place_and_a_shared_one_by_copy() {
        use crate::fs::mount::MountTable;
        use crate::fs::ramfs::RamFs;
        init("");
        let owner = user::root_user();
        let cred = Credentials::root(owner.clone());
        let root = root();
        let mut fs = FsContext::new(MountTable::new(RamFs::new("rootfs"), "rootfs"));
        let fs_before = fs.clone();
        let mut set = Arc::new(root.derive(CLONE_NEWUTS, true, &owner).expect("a new UTS"));
        let mine = set.uts.own().clone();
        let root_uts = root.member(Link::Own(Kind::Uts)).expect("uts");

        // Held once: the membership changes where it is.
        let at = Arc::as_ptr(&set);
        let j = set.check_join(root_uts, &cred, true).expect("may join");
        let (kind, changed, replaced) = ContainerSet::install_join(&mut set, j, &mut fs);
        assert_eq!((kind, changed), (Kind::Uts, true));
        assert_eq!(Arc::as_ptr(&set), at, "the same set, changed in place");
        assert!(
            Arc::ptr_eq(set.uts.own(), root.uts.own()),
            "in the root's UTS"
        );
        assert!(matches!(replaced, Replaced::Uts(_)));
        drop(replaced);
        assert_eq!(
            Arc::strong_count(&mine),
            1,
            "the replaced membership let it go"
        );
        assert!(
            Arc::ptr_eq(&fs, &fs_before),
            "a UTS join leaves the context"
        );

        // Shared with another holder: a new set, the other one untouched.
        let other = set.clone();
        let j = set.check_join(mine.clone(), &cred, true).expect("may join");
        let (_, changed, replaced) = ContainerSet::install_join(&mut set, j, &mut fs);
        assert!(changed);
        assert!(matches!(replaced, Replaced::Set(_)));
        assert!(!Arc::ptr_eq(&set, &other), "a copy");
        assert!(Arc::ptr_eq(set.uts.own(), &mine));
        assert!(
            Arc::ptr_eq(other.uts.own(), root.uts.own()),
            "the other set kept"
        );
        assert!(
            Arc::ptr_eq(set.pid.own(), other.pid.own()),
            "the rest shared"
        );

        // The container it is already in: nothing changes.
        let j = set.check_join(mine.clone(), &cred, true).expect("may join");
        let (_, changed, _) = ContainerSet::install_join(&mut set, j, &mut fs);
        assert!(!changed);
        assert_eq!(
            set.check_join(cred.user.clone(), &cred, true).err(),
            Some(Errno::EINVAL),
            "a user container is not joined through the set"
        );
    }

    #[test]
    fn hierarchical_kinds_are_pid_and_user() {
        for k in Kind::ALL {
            assert_eq!(
                k.hierarchical(),
                matches!(k, Kind::Pid | Kind::User),
                "{k:?}"
            );
        }
    }
}
