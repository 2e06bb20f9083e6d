//! SysV IPC (svipc(7)): shared memory ([`shm`]), message queues ([`msg`]) and semaphores
//! ([`sem`]), per IPC container. This file holds what the three share: the id table
//! ([`Ids`], Linux's `index + seq * 32768` ids), the permission record ([`Perm`], Linux's
//! `kern_ipc_perm`) with its checks, the caller's identity ([`Who`]), and the encoding of
//! `struct ipc64_perm`. The object logic is pure and unit-tested on the host; the system
//! calls that reach user memory and sleep are in `crate::syscall::sysv`.

pub mod msg;
pub mod sem;
pub mod shm;

use crate::container::pid::PidContainer;
use crate::container::user::UserContainer;
use crate::cred::{CAP_IPC_LOCK, CAP_IPC_OWNER, CAP_SYS_ADMIN, CAP_SYS_RESOURCE, Credentials};
use crate::errno::Errno;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: u32 = 0o1000;
pub const IPC_EXCL: u32 = 0o2000;
pub const IPC_NOWAIT: u32 = 0o4000;

pub const IPC_RMID: u32 = 0;
pub const IPC_SET: u32 = 1;
pub const IPC_STAT: u32 = 2;
pub const IPC_INFO: u32 = 3;
/// glibc and some musl ports add this to `cmd` to ask for the `*64_ds` layouts, which
/// are the only ones on x86_64: it is accepted and ignored.
pub const IPC_64: u32 = 0x100;

/// Ids are `index + seq * IPCMNI`: a removed id is not handed out again at once.
const IPCMNI: u32 = 32768;
/// `seq` wraps here so ids stay positive `int`s (Linux's `ipc_mni_shift` of 15).
const SEQ_MAX: u32 = (i32::MAX as u32) >> 15;

/// `S_IRUGO`/`S_IWUGO`-style requests for [`Perm::allows`].
pub const READ: u32 = 0o444;
pub const WRITE: u32 = 0o222;
pub const EXEC: u32 = 0o111;

/// Who is asking: effective ids (kernel ids), groups, and the capabilities that matter
/// here, in the user container that owns the IPC container.
pub struct Who {
    pub euid: u32,
    pub egid: u32,
    pub groups: Vec<u32>,
    /// `CAP_IPC_OWNER`: bypasses the mode bits.
    pub ipc_owner: bool,
    /// `CAP_SYS_ADMIN`: may `IPC_SET`/`IPC_RMID` what it does not own.
    pub sys_admin: bool,
    /// `CAP_IPC_LOCK`: may `SHM_LOCK` what it does not own.
    pub ipc_lock: bool,
    /// `CAP_SYS_RESOURCE`: may raise `msg_qbytes` over `MSGMNB`.
    pub sys_resource: bool,
}

impl Who {
    /// The caller with credentials `cred`, for objects of an IPC container owned by
    /// `owner` (`None`: the boot container, whose owner is the root user container).
    pub fn of(cred: &Credentials, owner: Option<&Arc<UserContainer>>) -> Who {
        let cap = |c| match owner {
            Some(o) => cred.capable_in(o, c),
            None => cred.capable(c),
        };
        Who {
            euid: cred.euid,
            egid: cred.egid,
            groups: cred.groups.clone(),
            ipc_owner: cap(CAP_IPC_OWNER),
            sys_admin: cap(CAP_SYS_ADMIN),
            ipc_lock: cap(CAP_IPC_LOCK),
            sys_resource: cap(CAP_SYS_RESOURCE),
        }
    }

    fn in_group(&self, gid: u32) -> bool {
        self.egid == gid || self.groups.contains(&gid)
    }
}

/// The ownership and mode of one object (`struct kern_ipc_perm`). Ids are kernel ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Permission bits and, for segments, `SHM_DEST`/`SHM_LOCKED`.
    pub mode: u32,
    /// The id's sequence part (`seq` of `ipc64_perm`).
    pub seq: u16,
}

impl Perm {
    /// A new object's record: owner and creator are the caller.
    pub fn new(key: i32, mode: u32, who: &Who) -> Perm {
        Perm {
            key,
            uid: who.euid,
            gid: who.egid,
            cuid: who.euid,
            cgid: who.egid,
            mode: mode & 0o777,
            seq: 0,
        }
    }

    /// Linux's `ipcperms`: the `rwx` bits of `req` (any of the three classes) must be
    /// granted to the caller's class, unless it has `CAP_IPC_OWNER`.
    pub fn allows(&self, who: &Who, req: u32) -> bool {
        let requested = (req >> 6 | req >> 3 | req) & 7;
        let granted = if who.euid == self.cuid || who.euid == self.uid {
            self.mode >> 6
        } else if who.in_group(self.cgid) || who.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        };
        requested & !granted & 7 == 0 || who.ipc_owner
    }

    /// `EACCES` unless [`allows`](Self::allows).
    pub fn check(&self, who: &Who, req: u32) -> Result<(), Errno> {
        if self.allows(who, req) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    /// `IPC_SET`/`IPC_RMID`: the owner, the creator or `CAP_SYS_ADMIN`; else `EPERM`.
    pub fn check_owner(&self, who: &Who) -> Result<(), Errno> {
        if who.euid == self.uid || who.euid == self.cuid || who.sys_admin {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// `IPC_SET`: new owner ids (kernel ids) and the low nine mode bits.
    pub fn set(&mut self, uid: u32, gid: u32, mode: u32) {
        self.uid = uid;
        self.gid = gid;
        self.mode = (self.mode & !0o777) | (mode & 0o777);
    }

    /// `struct ipc64_perm` (48 bytes) with ids as `user` sees them.
    pub fn encode(&self, user: &UserContainer, out: &mut Abi) {
        out.i32(self.key);
        out.u32(user.uid_from_kernel(self.uid));
        out.u32(user.gid_from_kernel(self.gid));
        out.u32(user.uid_from_kernel(self.cuid));
        out.u32(user.gid_from_kernel(self.cgid));
        out.u32(self.mode);
        out.u16(self.seq);
        out.u16(0);
        out.u32(0);
        out.u64(0);
        out.u64(0);
    }
}

/// The fields of a `*64_ds` that `IPC_SET` reads: the owner ids and mode of its
/// `ipc64_perm`, as the caller's user container names them.
pub struct PermSet {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl PermSet {
    /// Reads them from the start of a `*64_ds` (at least 24 bytes).
    pub fn decode(b: &[u8]) -> PermSet {
        let w = |o: usize| {
            b.get(o..o + 4)
                .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        };
        PermSet {
            uid: w(4),
            gid: w(8),
            mode: w(20),
        }
    }

    /// The kernel ids; `EINVAL` when the caller's user container maps none (Linux).
    pub fn to_kernel(&self, user: &UserContainer) -> Result<(u32, u32), Errno> {
        let uid = user.uid_to_kernel(self.uid).ok_or(Errno::EINVAL)?;
        let gid = user.gid_to_kernel(self.gid).ok_or(Errno::EINVAL)?;
        Ok((uid, gid))
    }
}

/// A little-endian byte image of a Linux ABI struct, built field by field (naturally
/// aligned fields in order, as `#[repr(C)]` would lay them out).
#[derive(Default)]
pub struct Abi(pub Vec<u8>);

impl Abi {
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// Reads the little-endian `u64` at byte `off` of `b` (0 past the end).
pub fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(s) = b.get(off..off + 8) {
        v.copy_from_slice(s);
    }
    u64::from_le_bytes(v)
}

struct Slot<T> {
    key: i32,
    id: i32,
    obj: T,
}

/// One kind's objects in one IPC container, by id and by key (Linux's `ipc_ids`).
pub struct Ids<T> {
    slots: Vec<Option<Slot<T>>>,
    in_use: usize,
    seq: u32,
}

impl<T> Default for Ids<T> {
    fn default() -> Self {
        Ids {
            slots: Vec::new(),
            in_use: 0,
            seq: 0,
        }
    }
}

impl<T> Ids<T> {
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// The highest index in use (what `IPC_INFO`/`*_INFO` return), 0 when empty.
    pub fn max_index(&self) -> usize {
        self.slots.iter().rposition(Option::is_some).unwrap_or(0)
    }

    /// The object with public `key` (never `IPC_PRIVATE`), and its id.
    pub fn find_key(&self, key: i32) -> Option<(i32, &T)> {
        if key == IPC_PRIVATE {
            return None;
        }
        self.slots
            .iter()
            .flatten()
            .find(|s| s.key == key)
            .map(|s| (s.id, &s.obj))
    }

    /// The object with id `id` (the whole id must match, not only its index).
    pub fn get(&self, id: i32) -> Option<&T> {
        if id < 0 {
            return None;
        }
        let slot = self.slots.get(id as usize % IPCMNI as usize)?.as_ref()?;
        (slot.id == id).then_some(&slot.obj)
    }

    /// The object at index `index` (`*_STAT`) and its id.
    pub fn at_index(&self, index: usize) -> Option<(i32, &T)> {
        let slot = self.slots.get(index)?.as_ref()?;
        Some((slot.id, &slot.obj))
    }

    /// The object a stat command names, with what the command returns: by whole id
    /// (returning 0) when `by_id` (`IPC_STAT`), else by index (`*_STAT`, `*_STAT_ANY`,
    /// returning the object's id).
    pub fn stat_target(&self, id: i32, by_id: bool) -> Option<(i32, &T)> {
        if by_id {
            self.get(id).map(|o| (0, o))
        } else {
            usize::try_from(id).ok().and_then(|i| self.at_index(i))
        }
    }

    /// Adds an object at the lowest free index; `ENOSPC` when `max` are in use.
    /// `make` gets the new id's `seq` (for `ipc64_perm.seq`).
    pub fn add(&mut self, key: i32, max: usize, make: impl FnOnce(u16) -> T) -> Result<i32, Errno> {
        if self.in_use >= max.min(IPCMNI as usize) {
            return Err(Errno::ENOSPC);
        }
        let index = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let seq = self.seq;
        self.seq = if seq >= SEQ_MAX { 0 } else { seq + 1 };
        let id = (seq * IPCMNI + index as u32) as i32;
        self.slots[index] = Some(Slot {
            key,
            id,
            obj: make(seq as u16),
        });
        self.in_use += 1;
        Ok(id)
    }

    /// Removes object `id`; its key is free at once.
    pub fn remove(&mut self, id: i32) -> Option<T> {
        self.get(id)?;
        let index = id as usize % IPCMNI as usize;
        let slot = self.slots[index].take()?;
        self.in_use -= 1;
        while let Some(None) = self.slots.last() {
            self.slots.pop();
        }
        self.trim();
        Some(slot.obj)
    }

    /// Gives back the table's room once it is under a quarter used (thousands of
    /// objects made and removed would keep their peak otherwise); kept as it is when
    /// the smaller copy cannot be allocated.
    fn trim(&mut self) {
        let len = self.slots.len();
        if self.slots.capacity() < 64 || self.slots.capacity() <= 4 * len {
            return;
        }
        let mut smaller = Vec::new();
        if smaller.try_reserve_exact(2 * len).is_ok() {
            smaller.append(&mut self.slots);
            self.slots = smaller;
        }
    }

    /// Makes object `id` unreachable by key (a segment marked for destruction).
    pub fn make_private(&mut self, id: i32) {
        if self.get(id).is_some()
            && let Some(Some(s)) = self.slots.get_mut(id as usize % IPCMNI as usize)
        {
            s.key = IPC_PRIVATE;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (i32, &T)> {
        self.slots.iter().flatten().map(|s| (s.id, &s.obj))
    }
}

/// Linux's `ipcget`: finds or creates the object for `key` under `flags`.
/// `exists` runs the kind's checks on an existing object (size, nsems) and gives its
/// `Perm`; `create` makes a new one given its seq.
pub fn get_or_create<T>(
    ids: &mut Ids<T>,
    key: i32,
    flags: u32,
    max: usize,
    who: &Who,
    exists: impl FnOnce(&T) -> Result<Perm, Errno>,
    create: impl FnOnce(u16) -> Result<T, Errno>,
) -> Result<i32, Errno> {
    if key != IPC_PRIVATE
        && let Some((id, obj)) = ids.find_key(key)
    {
        if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
            return Err(Errno::EEXIST);
        }
        exists(obj)?.check(who, flags & 0o777)?;
        return Ok(id);
    }
    if key != IPC_PRIVATE && flags & IPC_CREAT == 0 {
        return Err(Errno::ENOENT);
    }
    // The kind's own checks (size, nsems) come before the count limit, as in Linux.
    let obj = create(ids.seq as u16)?;
    ids.add(key, max, move |_| obj)
}

/// The SysV objects of one IPC container. Segments hold a weak reference to their table
/// so that the last detach of a removed segment can take it out.
#[derive(Default)]
pub struct Space {
    pub shm: Arc<Mutex<Ids<Arc<shm::Segment>>>>,
    pub msg: Mutex<Ids<Arc<msg::Queue>>>,
    pub sem: Mutex<Ids<Arc<sem::SemSet>>>,
}

impl Space {
    /// What a new space allocates beyond itself: the shared segment table.
    pub fn heap_cost() -> u64 {
        crate::plimits::kmem::arc_cost::<Mutex<Ids<Arc<shm::Segment>>>>()
    }
}

/// A process as the `*_pid` fields record it: its number in each PID container that saw
/// it. Like Linux's `struct pid`, the numbers outlive the process (a reaped sender still
/// reads as its old number), and nothing is pinned: the containers are held weakly.
#[derive(Clone, Default)]
pub struct PidRec(Vec<(Weak<PidContainer>, u32)>);

impl PidRec {
    /// The number as PID container `c` sees it; 0 when `c` never saw it.
    pub fn nr_in(&self, c: &Arc<PidContainer>) -> u32 {
        self.0
            .iter()
            .find(|(w, _)| core::ptr::eq(w.as_ptr(), Arc::as_ptr(c)))
            .map_or(0, |(_, nr)| *nr)
    }
}

/// What the object code needs from the rest of the kernel: the time and the caller's
/// pid. On the host (unit tests) the clock is 0 and there is no caller.
#[cfg(target_os = "none")]
pub mod env {
    use super::*;

    /// Seconds since the epoch (`*_time` fields).
    pub fn now() -> i64 {
        (crate::time::realtime_ns() / 1_000_000_000) as i64
    }

    /// The calling process, for the `*_pid` fields.
    pub fn caller() -> PidRec {
        let Some(t) = crate::task::sched::try_current() else {
            return PidRec::default();
        };
        let pid = t.process().pid_ref().clone();
        let mut rec = Vec::new();
        let mut c = Some(pid.container().clone());
        while let Some(x) = c {
            if let Some(nr) = pid.nr_in(&x) {
                rec.push((Arc::downgrade(&x), nr));
            }
            c = x.parent_container().cloned();
        }
        PidRec(rec)
    }

    /// A recorded process as the caller sees it (0: not in the caller's PID container).
    pub fn view(pid: &PidRec) -> i32 {
        pid.nr_in(&crate::task::caller_pid_container()) as i32
    }

    /// Wakes every thread sleeping on `chan` (an object's address).
    pub fn wakeup(chan: usize) {
        crate::task::wakeup(chan);
    }
}

#[cfg(not(target_os = "none"))]
pub mod env {
    use super::*;

    pub fn now() -> i64 {
        0
    }

    pub fn caller() -> PidRec {
        PidRec::default()
    }

    pub fn view(_pid: &PidRec) -> i32 {
        0
    }

    pub fn wakeup(_chan: usize) {}
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn who(euid: u32) -> Who {
        Who {
            euid,
            egid: euid,
            groups: Vec::new(),
            ipc_owner: false,
            sys_admin: false,
            ipc_lock: false,
            sys_resource: false,
        }
    }

    #[test]
    fn ids_are_index_plus_seq_and_not_reused_at_once() {
        let mut ids: Ids<u8> = Ids::default();
        let a = ids.add(1, 10, |_| 0).expect("room");
        let b = ids.add(2, 10, |_| 0).expect("room");
        assert_eq!((a, b), (0, 32768 + 1));
        assert!(ids.remove(a).is_some());
        let c = ids.add(3, 10, |_| 0).expect("room");
        assert_eq!(c, 2 * 32768, "the freed index comes back with a new seq");
        assert!(ids.get(a).is_none(), "the old id is stale");
        assert_eq!(ids.max_index(), 1);
        assert_eq!(ids.at_index(1).map(|(id, _)| id), Some(b));
    }

    #[test]
    fn stat_target_by_id_or_by_index() {
        let mut ids: Ids<u8> = Ids::default();
        ids.add(1, 10, |_| 7).expect("room");
        let b = ids.add(2, 10, |_| 8).expect("room");
        assert_eq!(ids.stat_target(b, true), Some((0, &8)));
        assert_eq!(ids.stat_target(1, true), None, "1 is an index, not b's id");
        assert_eq!(ids.stat_target(1, false), Some((b, &8)));
        assert_eq!(ids.stat_target(-1, false), None);
        assert_eq!(ids.stat_target(5, false), None);
    }

    #[test]
    fn the_table_gives_its_room_back_when_emptied() {
        let mut ids: Ids<u8> = Ids::default();
        let made: Vec<i32> = (0..1000)
            .map(|k| ids.add(k + 1, 2000, |_| 0).unwrap())
            .collect();
        assert!(ids.slots.capacity() >= 1000);
        for id in &made[1..] {
            assert_eq!(ids.remove(*id), Some(0));
        }
        assert_eq!(ids.in_use(), 1);
        assert!(ids.slots.capacity() < 64, "{}", ids.slots.capacity());
        assert_eq!(ids.get(made[0]), Some(&0));
    }

    #[test]
    fn ids_give_enospc_over_the_limit() {
        let mut ids: Ids<u8> = Ids::default();
        ids.add(0, 2, |_| 0).expect("room");
        ids.add(0, 2, |_| 0).expect("room");
        assert_eq!(ids.add(0, 2, |_| 0), Err(Errno::ENOSPC));
    }

    #[test]
    fn get_or_create_follows_ipcget() {
        let mut ids: Ids<Perm> = Ids::default();
        let w = who(0);
        let make = |_| Ok(Perm::new(5, 0o600, &who(0)));
        assert_eq!(
            get_or_create(&mut ids, 5, 0, 8, &w, |p| Ok(p.clone()), make),
            Err(Errno::ENOENT)
        );
        let id = get_or_create(
            &mut ids,
            5,
            IPC_CREAT | 0o600,
            8,
            &w,
            |p| Ok(p.clone()),
            make,
        );
        assert_eq!(id, Ok(0));
        assert_eq!(
            get_or_create(&mut ids, 5, 0, 8, &w, |p| Ok(p.clone()), make),
            Ok(0)
        );
        assert_eq!(
            get_or_create(
                &mut ids,
                5,
                IPC_CREAT | IPC_EXCL,
                8,
                &w,
                |p| Ok(p.clone()),
                make
            ),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            get_or_create(&mut ids, 5, 0o400, 8, &who(7), |p| Ok(p.clone()), make),
            Err(Errno::EACCES),
            "another user asking for read of a 0600 object"
        );
        let p = get_or_create(&mut ids, IPC_PRIVATE, 0, 8, &w, |p| Ok(p.clone()), make);
        assert_eq!(p, Ok(32768 + 1), "IPC_PRIVATE always creates");
    }

    #[test]
    fn perm_classes_and_capabilities() {
        let mut p = Perm::new(1, 0o640, &who(10));
        p.gid = 20;
        let mut member = who(30);
        member.groups.push(20);
        assert!(p.allows(&who(10), READ | WRITE));
        assert!(p.allows(&member, READ));
        assert!(!p.allows(&member, WRITE));
        assert!(!p.allows(&who(40), READ));
        let mut owner_cap = who(40);
        owner_cap.ipc_owner = true;
        assert!(p.allows(&owner_cap, READ | WRITE));
        assert_eq!(p.check_owner(&who(40)), Err(Errno::EPERM));
        assert_eq!(p.check_owner(&who(10)), Ok(()));
        p.uid = 50;
        assert_eq!(
            p.check_owner(&who(10)),
            Ok(()),
            "the creator stays an owner"
        );
    }

    #[test]
    fn ipc64_perm_is_48_bytes() {
        let user = crate::container::user::root_user();
        let mut out = Abi::default();
        let mut p = Perm::new(0x1234, 0o666, &who(3));
        p.seq = 2;
        p.encode(&user, &mut out);
        assert_eq!(out.0.len(), 48);
        assert_eq!(&out.0[0..4], &0x1234i32.to_le_bytes());
        assert_eq!(&out.0[4..8], &3u32.to_le_bytes());
        assert_eq!(&out.0[20..24], &0o666u32.to_le_bytes());
        assert_eq!(&out.0[24..26], &2u16.to_le_bytes());
        let back = PermSet::decode(&out.0);
        assert_eq!((back.uid, back.gid, back.mode), (3, 3, 0o666));
    }
}
