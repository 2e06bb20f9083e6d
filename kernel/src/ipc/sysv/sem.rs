//! SysV semaphores (semget(2), semop(2), semctl(2)): a set's values and the all-or-nothing
//! evaluation of a `semop` call, plus `SEM_UNDO`. Undo adjustments live in the set, per
//! process (by kernel pid, so a process's threads share them and a forked child starts
//! with none); a registry of the sets each process has adjustments in lets
//! [`exit_undo`] apply them when the process exits.

use super::{Abi, Ids, Perm, PidRec, Who, env, get_or_create};
use crate::container::user::UserContainer;
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

/// Semaphores per set (`SEMMSL`).
pub const SEMMSL: usize = 32000;
/// Sets per IPC container (`SEMMNI`).
pub const SEMMNI: usize = 32000;
/// Semaphores per IPC container (`SEMMNS`).
pub const SEMMNS: usize = SEMMSL * SEMMNI;
/// Operations per `semop` (`SEMOPM`).
pub const SEMOPM: usize = 500;
/// Largest value (`SEMVMX`) and largest undo adjustment (`SEMAEM`).
pub const SEMVMX: i32 = 32767;
pub const SEMAEM: i32 = SEMVMX;

pub const SEM_UNDO: i16 = 0x1000;
const NOWAIT: i16 = super::IPC_NOWAIT as i16;

pub const GETPID: u32 = 11;
pub const GETVAL: u32 = 12;
pub const GETALL: u32 = 13;
pub const GETNCNT: u32 = 14;
pub const GETZCNT: u32 = 15;
pub const SETVAL: u32 = 16;
pub const SETALL: u32 = 17;
pub const SEM_STAT: u32 = 18;
pub const SEM_INFO: u32 = 19;
pub const SEM_STAT_ANY: u32 = 20;

/// `struct sembuf`.
#[derive(Clone, Copy, Debug)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

impl SemBuf {
    /// From the 6 bytes of a user `struct sembuf`.
    pub fn decode(b: &[u8]) -> SemBuf {
        let h = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        SemBuf {
            num: h(0),
            op: h(2) as i16,
            flg: h(4) as i16,
        }
    }
}

#[derive(Default)]
pub struct Sem {
    pub val: i32,
    /// The last process to change it (`GETPID`).
    pub pid: PidRec,
    /// Sleepers waiting for it to grow (`GETNCNT`) or reach zero (`GETZCNT`).
    pub ncnt: u32,
    pub zcnt: u32,
}

pub struct State {
    pub perm: Perm,
    pub sems: Vec<Sem>,
    pub otime: i64,
    pub ctime: i64,
    /// `SEM_UNDO` adjustments by kernel pid.
    pub undo: BTreeMap<u32, Vec<i32>>,
    /// Set by `IPC_RMID`: sleepers wake and give `EIDRM`.
    pub removed: bool,
}

pub struct SemSet {
    pub state: Mutex<State>,
    /// The set and its semaphores, to its creator's plimits group.
    _charge: Charge,
}

/// Why a `semop` did not complete.
#[derive(Debug, PartialEq, Eq)]
pub enum Blocked {
    /// It must wait for semaphore `num` to grow (`zero` false) or reach zero.
    Wait {
        num: usize,
        zero: bool,
    },
    Fail(Errno),
}

impl SemSet {
    pub fn chan(&self) -> usize {
        self as *const SemSet as usize
    }
}

impl State {
    /// Applies all of `ops` or none (Linux's `perform_atomic_semop`): each in turn on a
    /// copy; the first that would block decides (`EAGAIN` under `IPC_NOWAIT`), a value
    /// over `SEMVMX` or an adjustment beyond `SEMAEM` is `ERANGE`. On success the values,
    /// the undo adjustments of `pid` (a kernel pid) and the `sempid`s are updated.
    pub fn try_ops(&mut self, ops: &[SemBuf], pid: u32, who: &PidRec) -> Result<(), Blocked> {
        let mut vals: Vec<i32> = self.sems.iter().map(|s| s.val).collect();
        let mut adj: Option<Vec<i32>> = None;
        for op in ops {
            let n = op.num as usize;
            let v = *vals.get(n).ok_or(Blocked::Fail(Errno::EFBIG))?;
            let result = v + op.op as i32;
            if (op.op == 0 && v != 0) || result < 0 {
                if op.flg & NOWAIT != 0 {
                    return Err(Blocked::Fail(Errno::EAGAIN));
                }
                return Err(Blocked::Wait {
                    num: n,
                    zero: op.op == 0,
                });
            }
            if result > SEMVMX {
                return Err(Blocked::Fail(Errno::ERANGE));
            }
            if op.flg & SEM_UNDO != 0 {
                let a = adj.get_or_insert_with(|| {
                    self.undo
                        .get(&pid)
                        .cloned()
                        .unwrap_or_else(|| alloc::vec![0; self.sems.len()])
                });
                let u = a[n] - op.op as i32;
                if !(-SEMAEM - 1..=SEMAEM).contains(&u) {
                    return Err(Blocked::Fail(Errno::ERANGE));
                }
                a[n] = u;
            }
            vals[n] = result;
        }
        for (s, v) in self.sems.iter_mut().zip(vals) {
            s.val = v;
        }
        for op in ops {
            self.sems[op.num as usize].pid = who.clone();
        }
        if let Some(a) = adj {
            self.undo.insert(pid, a);
        }
        self.otime = env::now();
        Ok(())
    }

    /// `SETVAL`/`SETALL` clear the adjustments of what they set, in every process.
    pub fn clear_undo(&mut self, num: Option<usize>) {
        for a in self.undo.values_mut() {
            match num {
                Some(n) => {
                    if let Some(x) = a.get_mut(n) {
                        *x = 0;
                    }
                }
                None => a.fill(0),
            }
        }
    }

    /// `struct semid64_ds` (104 bytes on x86_64).
    pub fn encode(&self, user: &UserContainer) -> Abi {
        let mut out = Abi::default();
        self.perm.encode(user, &mut out);
        out.i64(self.otime);
        out.u64(0);
        out.i64(self.ctime);
        out.u64(0);
        out.u64(self.sems.len() as u64);
        out.u64(0);
        out.u64(0);
        out
    }
}

/// `semget`: `EINVAL` for `nsems` over `SEMMSL`, 0 when creating, or more than an
/// existing set has; `ENOSPC` past `SEMMNI` sets or `SEMMNS` semaphores.
pub fn get(
    t: &mut Ids<Arc<SemSet>>,
    key: i32,
    nsems: i32,
    flags: u32,
    who: &Who,
) -> Result<i32, Errno> {
    if nsems < 0 || nsems as usize > SEMMSL {
        return Err(Errno::EINVAL);
    }
    let nsems = nsems as usize;
    let used: usize = t.iter().map(|(_, s)| s.state.lock().sems.len()).sum();
    get_or_create(
        t,
        key,
        flags,
        SEMMNI,
        who,
        |s| {
            let s = s.state.lock();
            if nsems > s.sems.len() {
                return Err(Errno::EINVAL);
            }
            Ok(s.perm.clone())
        },
        |seq| {
            if nsems == 0 {
                return Err(Errno::EINVAL);
            }
            if used + nsems > SEMMNS
                || !crate::mm::heap::room_for_user_objects(nsems * size_of::<Sem>())
            {
                return Err(Errno::ENOSPC);
            }
            let charge = Charge::new(
                kmem::arc_cost::<SemSet>().saturating_add(kmem::array_cost::<Sem>(nsems)),
            )?;
            // The size is the caller's: no contiguous block that large is ENOSPC too.
            let mut sems = Vec::new();
            sems.try_reserve_exact(nsems).map_err(|_| Errno::ENOSPC)?;
            sems.resize_with(nsems, Sem::default);
            let mut perm = Perm::new(key, flags, who);
            perm.seq = seq;
            Ok(Arc::new(SemSet {
                _charge: charge,
                state: Mutex::new(State {
                    perm,
                    sems,
                    otime: 0,
                    ctime: env::now(),
                    undo: BTreeMap::new(),
                    removed: false,
                }),
            }))
        },
    )
}

/// `IPC_RMID`: out of the table; sleepers are woken and give `EIDRM`; undo
/// adjustments in it are forgotten.
pub fn remove(t: &mut Ids<Arc<SemSet>>, id: i32, who: &Who) -> Result<(), Errno> {
    let s = t.get(id).ok_or(Errno::EINVAL)?.clone();
    {
        let mut st = s.state.lock();
        st.perm.check_owner(who)?;
        st.removed = true;
        st.undo.clear();
    }
    t.remove(id);
    env::wakeup(s.chan());
    Ok(())
}

/// `struct seminfo` (40 bytes). `SEM_INFO` reports use: sets in `semusz`, semaphores in
/// `semaem`.
pub fn encode_info(t: &Ids<Arc<SemSet>>, usage: bool) -> Abi {
    let (usz, aem) = if usage {
        let sems: usize = t.iter().map(|(_, s)| s.state.lock().sems.len()).sum();
        (t.in_use() as i32, sems as i32)
    } else {
        (20, SEMAEM)
    };
    let mns = SEMMNS as i32;
    let mut out = Abi::default();
    // semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem
    for v in [
        mns,
        SEMMNI as i32,
        mns,
        mns,
        SEMMSL as i32,
        SEMOPM as i32,
        SEMOPM as i32,
        usz,
        SEMVMX,
        aem,
    ] {
        out.i32(v);
    }
    out
}

/// The sets each process (by kernel pid) has undo adjustments in.
static UNDO_SETS: Mutex<BTreeMap<u32, Vec<Weak<SemSet>>>> = Mutex::new(BTreeMap::new());

/// Notes that process `pid` has adjustments in `set` (after a `SEM_UNDO` operation).
pub fn register_undo(pid: u32, set: &Arc<SemSet>) {
    let mut reg = UNDO_SETS.lock();
    let sets = reg.entry(pid).or_default();
    sets.retain(|w| w.strong_count() > 0);
    if !sets
        .iter()
        .any(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(set)))
    {
        sets.push(Arc::downgrade(set));
    }
}

/// Process `pid` (kernel pid) exits: its adjustments are added to the values, which stay
/// within `0..=SEMVMX` (Linux), and the sleepers of each set re-check.
pub fn exit_undo(pid: u32) {
    let Some(sets) = UNDO_SETS.lock().remove(&pid) else {
        return;
    };
    let me = env::caller();
    for set in sets.iter().filter_map(Weak::upgrade) {
        {
            let mut st = set.state.lock();
            let Some(adj) = st.undo.remove(&pid) else {
                continue;
            };
            for (s, a) in st.sems.iter_mut().zip(adj) {
                if a != 0 {
                    s.val = (s.val + a).clamp(0, SEMVMX);
                    s.pid = me.clone();
                }
            }
        }
        env::wakeup(set.chan());
    }
}

#[cfg(test)]
mod tests {
    use super::super::IPC_CREAT;
    use super::super::tests::who;
    use super::*;

    fn op(num: u16, op: i16, flg: i16) -> SemBuf {
        SemBuf { num, op, flg }
    }

    fn set(vals: &[i32]) -> Arc<SemSet> {
        let mut t: Ids<Arc<SemSet>> = Ids::default();
        let id = get(&mut t, 0, vals.len() as i32, IPC_CREAT | 0o600, &who(0)).expect("created");
        let s = t.get(id).cloned().expect("present");
        for (x, v) in s.state.lock().sems.iter_mut().zip(vals) {
            x.val = *v;
        }
        s
    }

    fn vals(s: &SemSet) -> Vec<i32> {
        s.state.lock().sems.iter().map(|s| s.val).collect()
    }

    #[test]
    fn semop_is_all_or_nothing() {
        let s = set(&[1, 0]);
        let w = PidRec::default();
        let r = s.state.lock().try_ops(&[op(0, -1, 0), op(1, -1, 0)], 1, &w);
        assert_eq!(
            r,
            Err(Blocked::Wait {
                num: 1,
                zero: false
            })
        );
        assert_eq!(vals(&s), [1, 0], "nothing applied");
        let r = s.state.lock().try_ops(&[op(0, -1, 0), op(1, 2, 0)], 1, &w);
        assert_eq!(r, Ok(()));
        assert_eq!(vals(&s), [0, 2]);
        let r = s
            .state
            .lock()
            .try_ops(&[op(1, -1, 0), op(0, 0, NOWAIT)], 1, &w);
        assert_eq!(r, Ok(()), "wait-for-zero on a zero semaphore passes");
        let r = s.state.lock().try_ops(&[op(1, 0, NOWAIT)], 1, &w);
        assert_eq!(r, Err(Blocked::Fail(Errno::EAGAIN)));
        let r = s.state.lock().try_ops(&[op(1, 0, 0)], 1, &w);
        assert_eq!(r, Err(Blocked::Wait { num: 1, zero: true }));
    }

    #[test]
    fn operations_apply_in_order_within_a_call() {
        let s = set(&[0]);
        let w = PidRec::default();
        let r = s
            .state
            .lock()
            .try_ops(&[op(0, 1, 0), op(0, -1, 0), op(0, 0, 0)], 1, &w);
        assert_eq!(r, Ok(()), "+1 then -1 then wait-for-zero");
        assert_eq!(
            s.state
                .lock()
                .try_ops(&[op(0, SEMVMX as i16, 0), op(0, 1, 0)], 1, &w),
            Err(Blocked::Fail(Errno::ERANGE))
        );
        assert_eq!(vals(&s), [0]);
        assert_eq!(
            s.state.lock().try_ops(&[op(3, 1, 0)], 1, &w),
            Err(Blocked::Fail(Errno::EFBIG))
        );
    }

    #[test]
    fn undo_is_per_process_and_applied_at_exit() {
        let s = set(&[5, 0]);
        let w = PidRec::default();
        s.state
            .lock()
            .try_ops(&[op(0, -2, SEM_UNDO), op(1, 3, SEM_UNDO)], 900_001, &w)
            .expect("ok");
        s.state
            .lock()
            .try_ops(&[op(0, -1, SEM_UNDO)], 900_002, &w)
            .expect("ok");
        register_undo(900_001, &s);
        register_undo(900_001, &s);
        register_undo(900_002, &s);
        assert_eq!(vals(&s), [2, 3]);
        assert_eq!(s.state.lock().undo.get(&900_001), Some(&alloc::vec![2, -3]));
        s.state.lock().sems[1].val = 1;
        exit_undo(900_001);
        assert_eq!(vals(&s), [4, 0], "values clamp at 0");
        s.state.lock().clear_undo(Some(0));
        exit_undo(900_002);
        assert_eq!(vals(&s), [4, 0], "SETVAL cleared the other adjustment");
        exit_undo(900_003);
    }

    #[test]
    fn semget_nsems_rules() {
        let mut t: Ids<Arc<SemSet>> = Ids::default();
        let w = who(0);
        assert_eq!(get(&mut t, 1, 0, IPC_CREAT, &w), Err(Errno::EINVAL));
        assert_eq!(
            get(&mut t, 1, SEMMSL as i32 + 1, IPC_CREAT, &w),
            Err(Errno::EINVAL)
        );
        assert_eq!(get(&mut t, 1, -1, IPC_CREAT, &w), Err(Errno::EINVAL));
        let id = get(&mut t, 1, 3, IPC_CREAT | 0o600, &w).expect("created");
        assert_eq!(get(&mut t, 1, 0, 0, &w), Ok(id));
        assert_eq!(get(&mut t, 1, 4, 0, &w), Err(Errno::EINVAL));
        let s = t.get(id).cloned().expect("present");
        assert_eq!(s.state.lock().encode(&user()).0.len(), 104);
        assert_eq!(encode_info(&t, true).0.len(), 40);
    }

    fn user() -> Arc<UserContainer> {
        crate::container::init("");
        crate::container::user::root_user()
    }
}
