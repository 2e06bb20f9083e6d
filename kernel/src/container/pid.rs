//! The PID container: per-container numbering with a number in every ancestor, the
//! container init, and the depth limit. A [`Pid`] is one process's or thread's set of
//! numbers (Linux's `struct pid`); dropping it frees the numbers.

use super::pidmap::{AllocError, PidMap};
use super::{ContainerCommon, ContainerSet, ContainerType, Kind, Membership, Scope};
use crate::cred::Credentials;
use crate::errno::Errno;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::{Mutex, Once};

/// Deepest level that may be created (root is 0): LiteOS-A allows levels 0..2.
static MAX_LEVEL: AtomicU32 = AtomicU32::new(2);
/// Linux's limit (`MAX_PID_NS_LEVEL`).
pub const LEVEL_CAP: u32 = 32;

pub fn set_max_level(n: u32) {
    MAX_LEVEL.store(n.min(LEVEL_CAP), Ordering::Relaxed);
}

type Owner = Weak<dyn Any + Send + Sync>;

struct Inner {
    map: PidMap<Weak<Pid>>,
    /// Set when the container's init died: no process may enter any more.
    dead: bool,
}

pub struct PidContainer {
    common: ContainerCommon,
    level: u32,
    parent: Option<Arc<PidContainer>>,
    inner: Mutex<Inner>,
}

impl ContainerType for PidContainer {
    const KIND: Kind = Kind::Pid;
    const SCOPE: Scope = Scope::Children;
    const HIERARCHICAL: bool = true;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        PidContainer {
            common,
            level: 0,
            parent: None,
            inner: Mutex::new(Inner {
                map: PidMap::new(),
                dead: false,
            }),
        }
    }

    /// A child container of `parent`: `ENOSPC` beyond the depth limit or the count limit.
    fn new_child(
        parent: &Arc<PidContainer>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<PidContainer, Errno> {
        let level = parent.level + 1;
        if level > MAX_LEVEL.load(Ordering::Relaxed) {
            return Err(Errno::ENOSPC);
        }
        Ok(PidContainer {
            common: ContainerCommon::new(Kind::Pid, owner)?,
            level,
            parent: Some(parent.clone()),
            inner: Mutex::new(Inner {
                map: PidMap::new(),
                dead: false,
            }),
        })
    }

    fn parent(&self) -> Option<Arc<Self>> {
        self.parent.clone()
    }

    /// After `unshare(CLONE_NEWPID)` (or a `setns` that set pid_for_children) the caller
    /// cannot add threads or ask for another PID container (Linux: `EINVAL`).
    fn may_clone(m: &Membership<Self>, new: bool, thread: bool) -> Result<(), Errno> {
        if m.is_deferred() && (new || thread) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// Only the caller's own PID container or one below it (`EINVAL`).
    fn may_join(&self, set: &ContainerSet, _cred: &Credentials, _: bool) -> Result<(), Errno> {
        if !set.pid.is_ancestor_of(self) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

impl PidContainer {
    pub fn level(&self) -> u32 {
        self.level
    }

    pub fn parent_container(&self) -> Option<&Arc<PidContainer>> {
        self.parent.as_ref()
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_ancestor_of(&self, other: &PidContainer) -> bool {
        let mut c = Some(other);
        while let Some(x) = c {
            if core::ptr::eq(x, self) {
                return true;
            }
            c = x.parent.as_deref();
        }
        false
    }

    /// Allocates a number here and in every ancestor. `ENOMEM` if this container's init
    /// has died (Linux), `EAGAIN` when a table is full.
    pub fn alloc(self: &Arc<Self>) -> Result<Arc<Pid>, Errno> {
        let mut chain = Vec::new();
        let mut c = Some(self.clone());
        while let Some(x) = c {
            c = x.parent.clone();
            chain.push(x);
        }
        chain.reverse(); // root first
        let mut err = None;
        let pid = Arc::new_cyclic(|weak: &Weak<Pid>| {
            let mut numbers = Vec::with_capacity(chain.len());
            for c in &chain {
                let mut inner = c.inner.lock();
                if inner.dead {
                    err = Some(Errno::ENOMEM);
                    break;
                }
                match inner.map.alloc(weak.clone()) {
                    Ok(n) => numbers.push((c.clone(), n)),
                    Err(e) => {
                        err = Some(match e {
                            AllocError::Full => Errno::EAGAIN,
                            AllocError::NoMemory => Errno::ENOMEM,
                        });
                        break;
                    }
                }
            }
            Pid {
                numbers,
                process: Once::new(),
                thread: Once::new(),
            }
        });
        match err {
            // Dropping the partial Pid frees the numbers it got.
            Some(e) => Err(e),
            None => Ok(pid),
        }
    }

    pub fn lookup(&self, nr: u32) -> Option<Arc<Pid>> {
        self.inner.lock().map.get(nr).and_then(Weak::upgrade)
    }

    /// Every live `Pid` with a number here, with that number.
    pub fn members(&self) -> Vec<(u32, Arc<Pid>)> {
        self.inner
            .lock()
            .map
            .iter()
            .filter_map(|(n, w)| w.upgrade().map(|p| (n, p)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The container's init died: later forks into it fail.
    pub fn mark_dead(&self) {
        self.inner.lock().dead = true;
    }

    pub fn is_dead(&self) -> bool {
        self.inner.lock().dead
    }

    fn free(&self, nr: u32) {
        self.inner.lock().map.remove(nr);
    }
}

/// The numbers of one process or thread, root level first.
pub struct Pid {
    numbers: Vec<(Arc<PidContainer>, u32)>,
    process: Once<Owner>,
    thread: Once<Owner>,
}

impl Pid {
    /// The number in the root container (the kernel-wide identity).
    pub fn global(&self) -> u32 {
        self.numbers[0].1
    }

    /// The innermost container and the number there (what `getpid` returns).
    pub fn container(&self) -> &Arc<PidContainer> {
        &self.numbers[self.numbers.len() - 1].0
    }

    pub fn vnr(&self) -> u32 {
        self.numbers[self.numbers.len() - 1].1
    }

    /// The number as seen from `c`, if `c` is one of this pid's containers.
    pub fn nr_in(&self, c: &PidContainer) -> Option<u32> {
        self.numbers
            .get(c.level as usize)
            .filter(|(x, _)| core::ptr::eq(&**x, c))
            .map(|(_, n)| *n)
    }

    /// Whether this is the init (number 1) of its innermost, non-root container.
    pub fn is_container_init(&self) -> bool {
        self.numbers.len() > 1 && self.vnr() == 1
    }

    /// Records the process this pid names (once, when it is made: later calls change
    /// nothing), so readers need no lock.
    pub fn set_process<T: Any + Send + Sync>(&self, p: &Arc<T>) {
        let w: Weak<dyn Any + Send + Sync> =
            Arc::downgrade(&(p.clone() as Arc<dyn Any + Send + Sync>));
        self.process.call_once(|| w);
    }

    /// Records the thread this pid names (once, as [`set_process`](Self::set_process)).
    pub fn set_thread<T: Any + Send + Sync>(&self, t: &Arc<T>) {
        let w: Weak<dyn Any + Send + Sync> =
            Arc::downgrade(&(t.clone() as Arc<dyn Any + Send + Sync>));
        self.thread.call_once(|| w);
    }

    pub fn process<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.process_any()?.downcast::<T>().ok()
    }

    /// [`process`](Self::process) before it is told what type it has.
    pub fn process_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.process.get()?.upgrade()
    }

    /// Whether a process is recorded for this pid (and still referenced).
    pub fn has_process(&self) -> bool {
        self.process.get().is_some_and(|w| w.strong_count() != 0)
    }

    pub fn thread<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.thread.get()?.upgrade()?.downcast::<T>().ok()
    }
}

impl Drop for Pid {
    fn drop(&mut self) {
        for (c, n) in &self.numbers {
            c.free(*n);
        }
    }
}
