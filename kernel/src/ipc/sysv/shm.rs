//! SysV shared memory (shmget(2), shmop(2), shmctl(2)). A [`Segment`] owns its pages (a
//! `PageStore`); each `shmat` maps them through an [`Attach`], a page source whose life
//! is the attachment: `nattch` counts the live ones (a fork copies each, see
//! `PageSource::fork_copy`), and the last one to go frees a segment marked `SHM_DEST`.
//! Pages stay while any attach holds them, even after the IPC container is gone (Linux).
//!
//! Limits are LiteOS-A's (`los_vm_shm_pri.h`), which `IPC_INFO` reports.

use super::{Abi, Ids, Perm, PidRec, Who, env, get_or_create};
use crate::container::user::UserContainer;
use crate::errno::Errno;
use crate::fs::pagestore::PageStore;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

pub const SHMMAX: u64 = 0x100_0000;
pub const SHMMIN: u64 = 1;
pub const SHMMNI: usize = 192;
/// Attaches per process: reported, not enforced (Linux does not enforce `SHMSEG` either).
pub const SHMSEG: u64 = 128;
/// Pages of all segments of one IPC container.
pub const SHMALL: u64 = 0x1000;
const PAGE: u64 = 4096;

/// Mode bits beyond the permissions.
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;

/// `shmat` flags.
pub const SHM_RDONLY: u32 = 0o10000;
pub const SHM_RND: u32 = 0o20000;
pub const SHM_REMAP: u32 = 0o40000;
pub const SHM_EXEC: u32 = 0o100000;

/// `shmctl` commands beyond `IPC_*`.
pub const SHM_LOCK: u32 = 11;
pub const SHM_UNLOCK: u32 = 12;
pub const SHM_STAT: u32 = 13;
pub const SHM_INFO: u32 = 14;
pub const SHM_STAT_ANY: u32 = 15;

pub type Table = Mutex<Ids<Arc<Segment>>>;

pub struct Meta {
    pub id: i32,
    pub perm: Perm,
    /// The size asked for (`shm_segsz`); the pages cover it rounded up.
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: PidRec,
    pub lpid: PidRec,
    pub nattch: u64,
}

pub struct Segment {
    pub pages: Mutex<PageStore>,
    pub meta: Mutex<Meta>,
    /// The table it is in, to leave it when the last attach of a removed segment goes.
    table: Weak<Table>,
    /// Its size counted in the creator's plimits group (`ipc.shm_limit`).
    _plimits: crate::plimits::ipc::ShmCharge,
    /// Its pages in use, counted in the creator's group's memory as they are touched.
    mem: crate::plimits::memory::KernelCharge,
}

impl Segment {
    pub fn page_count(&self) -> u64 {
        self.meta.lock().segsz.div_ceil(PAGE)
    }

    /// `struct shmid64_ds` (112 bytes) for the caller with user container `user`.
    pub fn encode(&self, user: &UserContainer) -> Abi {
        let m = self.meta.lock();
        let mut out = Abi::default();
        m.perm.encode(user, &mut out);
        out.u64(m.segsz);
        out.i64(m.atime);
        out.i64(m.dtime);
        out.i64(m.ctime);
        out.i32(env::view(&m.cpid));
        out.i32(env::view(&m.lpid));
        out.u64(m.nattch);
        out.u64(0);
        out.u64(0);
        out
    }
}

/// `shmget`: the id of the segment for `key`, created with `size` bytes under
/// `IPC_CREAT`. `EINVAL` for a size outside `SHMMIN..=SHMMAX` (or larger than an
/// existing segment), `ENOSPC` past `SHMMNI` segments or `SHMALL` pages.
pub fn get(table: &Arc<Table>, key: i32, size: u64, flags: u32, who: &Who) -> Result<i32, Errno> {
    let mut t = table.lock();
    let total: u64 = t.iter().map(|(_, s)| s.page_count()).sum();
    let id = get_or_create(
        &mut t,
        key,
        flags,
        SHMMNI,
        who,
        |seg| {
            let m = seg.meta.lock();
            if size > m.segsz {
                return Err(Errno::EINVAL);
            }
            Ok(m.perm.clone())
        },
        |seq| {
            if !(SHMMIN..=SHMMAX).contains(&size) {
                return Err(Errno::EINVAL);
            }
            let pages = size.div_ceil(PAGE);
            if total + pages > SHMALL {
                return Err(Errno::ENOSPC);
            }
            let charge = crate::plimits::ipc::ShmCharge::take(
                &crate::plimits::current_group(),
                pages * PAGE,
            )?;
            let mut store = PageStore::new();
            store.truncate(pages * PAGE, true)?;
            let mut perm = Perm::new(key, flags, who);
            perm.seq = seq;
            Ok(Arc::new(Segment {
                pages: Mutex::new(store),
                meta: Mutex::new(Meta {
                    id: -1,
                    perm,
                    segsz: size,
                    atime: 0,
                    dtime: 0,
                    ctime: env::now(),
                    cpid: env::caller(),
                    lpid: PidRec::default(),
                    nattch: 0,
                }),
                table: Arc::downgrade(table),
                _plimits: charge,
                mem: crate::plimits::memory::KernelCharge::take(
                    &crate::plimits::current_group(),
                    0,
                )?,
            }))
        },
    )?;
    if let Some(seg) = t.get(id) {
        let mut m = seg.meta.lock();
        if m.id < 0 {
            m.id = id;
        }
    }
    Ok(id)
}

/// `IPC_RMID`: the segment goes now if nothing is attached, else it is marked
/// `SHM_DEST`, loses its key and goes with its last attach.
pub fn remove(table: &Table, id: i32, who: &Who) -> Result<(), Errno> {
    let mut t = table.lock();
    let seg = t.get(id).ok_or(Errno::EINVAL)?.clone();
    let gone = {
        let mut m = seg.meta.lock();
        m.perm.check_owner(who)?;
        m.perm.mode |= SHM_DEST;
        m.perm.key = super::IPC_PRIVATE;
        m.ctime = env::now();
        m.nattch == 0
    };
    if gone {
        t.remove(id);
    } else {
        t.make_private(id);
    }
    Ok(())
}

/// One attachment of a segment: the page source of its mapping.
pub struct Attach {
    seg: Arc<Segment>,
}

impl Attach {
    /// A new attachment: counts in `nattch` and stamps `shm_atime`/`shm_lpid`.
    pub fn new(seg: Arc<Segment>) -> Arc<Attach> {
        {
            let mut m = seg.meta.lock();
            m.nattch += 1;
            m.atime = env::now();
            m.lpid = env::caller();
        }
        Arc::new(Attach { seg })
    }

    pub fn segment(&self) -> &Arc<Segment> {
        &self.seg
    }
}

impl Drop for Attach {
    fn drop(&mut self) {
        let (gone, id) = {
            let mut m = self.seg.meta.lock();
            m.nattch = m.nattch.saturating_sub(1);
            m.dtime = env::now();
            m.lpid = env::caller();
            (m.nattch == 0 && m.perm.mode & SHM_DEST != 0, m.id)
        };
        if gone && let Some(table) = self.seg.table.upgrade() {
            let removed = {
                let mut t = table.lock();
                match t.get(id) {
                    Some(s) if Arc::ptr_eq(s, &self.seg) => t.remove(id),
                    _ => None,
                }
            };
            drop(removed);
        }
    }
}

#[cfg(target_os = "none")]
impl crate::mm::vma::PageSource for Attach {
    /// A page touched for the first time is charged to the creator's group (over its
    /// memory limit the access gets SIGBUS).
    fn page_phys(&self, index: u64) -> Option<u64> {
        let new = {
            let s = self.seg.pages.lock();
            index.saturating_mul(PAGE) < s.size() && s.page(index as usize).is_none()
        };
        if new {
            self.seg.mem.grow(PAGE).ok()?;
        }
        crate::mm::vma::PageSource::page_phys(&self.seg.pages, index)
    }

    fn fork_copy(&self) -> Option<Arc<dyn crate::mm::vma::PageSource>> {
        Some(Attach::new(self.seg.clone()))
    }

    fn shm_size(&self) -> Option<u64> {
        Some(self.seg.meta.lock().segsz)
    }
}

/// `struct shminfo64` (72 bytes): LiteOS-A's limits.
pub fn encode_info() -> Abi {
    let mut out = Abi::default();
    for v in [SHMMAX, SHMMIN, SHMMNI as u64, SHMSEG, SHMALL, 0, 0, 0, 0] {
        out.u64(v);
    }
    out
}

/// `struct shm_info` (48 bytes): segments in use and their pages (all resident, no swap).
pub fn encode_shm_info(t: &Ids<Arc<Segment>>) -> Abi {
    let pages: u64 = t.iter().map(|(_, s)| s.page_count()).sum();
    let resident: u64 = t
        .iter()
        .map(|(_, s)| s.pages.lock().allocated_pages() as u64)
        .sum();
    let mut out = Abi::default();
    out.i32(t.in_use() as i32);
    out.u32(0);
    for v in [pages, resident, 0, 0, 0] {
        out.u64(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::who;
    use super::super::{IPC_CREAT, IPC_EXCL, IPC_PRIVATE};
    use super::*;

    #[test]
    fn sizes_follow_liteos_limits() {
        let t: Arc<Table> = Arc::default();
        let w = who(0);
        assert_eq!(get(&t, IPC_PRIVATE, 0, IPC_CREAT, &w), Err(Errno::EINVAL));
        assert_eq!(
            get(&t, IPC_PRIVATE, SHMMAX + 1, IPC_CREAT, &w),
            Err(Errno::EINVAL)
        );
        let id = get(&t, 1234, 1024, IPC_CREAT | 0o666, &w).expect("created");
        assert_eq!(
            get(&t, 1234, 4096, 0, &w),
            Err(Errno::EINVAL),
            "larger than the segment"
        );
        assert_eq!(get(&t, 1234, 0, 0, &w), Ok(id));
        assert_eq!(
            get(&t, 1234, 10, IPC_CREAT | IPC_EXCL, &w),
            Err(Errno::EEXIST)
        );
        assert_eq!(t.lock().get(id).map(|s| s.meta.lock().segsz), Some(1024));
        // 0x1000 pages in all: 15 × 1 MiB (256 pages each) fit with the first page, the 16th not.
        for _ in 0..15 {
            get(&t, IPC_PRIVATE, 1 << 20, IPC_CREAT, &w).expect("within SHMALL");
        }
        assert_eq!(
            get(&t, IPC_PRIVATE, 1 << 20, IPC_CREAT, &w),
            Err(Errno::ENOSPC)
        );
    }

    #[test]
    fn shmmni_segments_at_most() {
        let t: Arc<Table> = Arc::default();
        for _ in 0..SHMMNI {
            get(&t, IPC_PRIVATE, 1, IPC_CREAT, &who(0)).expect("room");
        }
        assert_eq!(
            get(&t, IPC_PRIVATE, 1, IPC_CREAT, &who(0)),
            Err(Errno::ENOSPC)
        );
    }

    #[test]
    fn rmid_while_attached_waits_for_the_last_detach() {
        let t: Arc<Table> = Arc::default();
        let w = who(0);
        let id = get(&t, 77, 100, IPC_CREAT | 0o600, &w).expect("created");
        let seg = t.lock().get(id).cloned().expect("present");
        let a = Attach::new(seg.clone());
        let b = Attach::new(seg.clone());
        assert_eq!(seg.meta.lock().nattch, 2);
        assert_eq!(remove(&t, id, &who(5)), Err(Errno::EPERM));
        assert_eq!(remove(&t, id, &w), Ok(()));
        assert!(t.lock().get(id).is_some(), "still there while attached");
        assert_eq!(
            t.lock().find_key(77).map(|(id, _)| id),
            None,
            "key is private"
        );
        assert_ne!(seg.meta.lock().perm.mode & SHM_DEST, 0);
        drop(a);
        assert!(t.lock().get(id).is_some());
        drop(b);
        assert!(t.lock().get(id).is_none(), "gone with the last attach");
        assert_eq!(seg.encode(&user()).0.len(), 112);
    }

    fn user() -> Arc<UserContainer> {
        crate::container::init("");
        crate::container::user::root_user()
    }

    #[test]
    fn info_structs_have_linux_sizes() {
        let t: Ids<Arc<Segment>> = Ids::default();
        assert_eq!(encode_info().0.len(), 72);
        assert_eq!(encode_shm_info(&t).0.len(), 48);
    }
}
