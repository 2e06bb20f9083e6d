//! SysV IPC system calls: shared memory (`shmget` 29, `shmat` 30, `shmctl` 31, `shmdt` 67),
//! semaphores (`semget` 64, `semop` 65, `semctl` 66, `semtimedop` 220) and message queues
//! (`msgget` 68, `msgsnd` 69, `msgrcv` 70, `msgctl` 71), on the caller's IPC container's
//! objects (`crate::ipc::sysv`). This file does the user memory, the address space and
//! the sleeping; the rules are in the object modules. Blocking calls sleep on the
//! object's address, re-check when woken, and give `EINTR` on a signal (never restarted,
//! signal(7)) and `EIDRM` when the object was removed meanwhile.

use super::as_i32;
use super::table::syscalls;
use crate::container::ContainerType;
use crate::container::ipc::IpcContainer;
use crate::errno::{Errno, SysResult};
use crate::ipc::sysv::shm::{self, Attach};
use crate::ipc::sysv::{
    self as sysv, Abi, EXEC, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, PermSet,
    READ, WRITE, Who, msg, sem,
};
use crate::mm::aspace::{MMAP_BASE, STACK_SIZE, STACK_TOP};
use crate::mm::user::{copy_from_user, copy_to_user, read_user, write_user};
use crate::mm::vma::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE, Vma, same_source};
use crate::mm::{PAGE_SIZE, USER_END, page_up};
use crate::task::{self, Wake};
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// `SHMLBA` on x86_64: one page.
const SHMLBA: u64 = PAGE_SIZE;
/// Lowest address a segment may be attached at (`vm.mmap_min_addr`, as `mmap`).
const MMAP_MIN: u64 = 0x10000;

syscalls! {
    frame, a;
    29 => shmget(as_i32(a[0]), a[1], a[2] as u32),
    30 => shmat(as_i32(a[0]), a[1], a[2] as u32),
    31 => shmctl(as_i32(a[0]), a[1] as u32, a[2]),
    67 => shmdt(a[0]),
    64 => semget(as_i32(a[0]), as_i32(a[1]), a[2] as u32),
    65 => semtimedop(as_i32(a[0]), a[1], a[2], 0),
    66 => semctl(as_i32(a[0]), as_i32(a[1]), a[2] as u32, a[3]),
    220 => semtimedop(as_i32(a[0]), a[1], a[2], a[3]),
    68 => msgget(as_i32(a[0]), a[1] as u32),
    69 => msgsnd(as_i32(a[0]), a[1], a[2], a[3] as u32),
    70 => msgrcv(as_i32(a[0]), a[1], a[2], a[3] as i64, a[4] as u32),
    71 => msgctl(as_i32(a[0]), a[1] as u32, a[2]),
}

/// The caller's IPC container and who it is there.
fn caller() -> (Arc<IpcContainer>, Who) {
    let ipc = task::current_process().containers().ipc.clone();
    let who = Who::of(&task::current_cred(), ipc.common().owner());
    (ipc, who)
}

/// The caller's user container (ids in results and in `IPC_SET`).
fn user() -> Arc<crate::container::user::UserContainer> {
    task::current_cred().user.clone()
}

fn put(addr: u64, abi: &Abi) -> Result<(), Errno> {
    copy_to_user(addr, &abi.0)
}

fn get_bytes(addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    if !crate::mm::heap::room_for_user_objects(len) {
        return Err(Errno::ENOMEM);
    }
    let mut buf = crate::mm::try_zeroed(len)?;
    copy_from_user(addr, &mut buf)?;
    Ok(buf)
}

/// A `ctl` command without the `IPC_64` flag; negative commands are `EINVAL`.
fn ctl_cmd(cmd: u32) -> Result<u32, Errno> {
    if (cmd as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(cmd & !IPC_64)
}

/// Sleeps on `chan` until woken or `deadline`; `EINTR` on a signal, `EAGAIN` at the deadline.
fn wait(chan: usize, deadline: Option<u64>) -> Result<(), Errno> {
    match task::sleep(chan, deadline) {
        Wake::Woken => Ok(()),
        Wake::TimedOut => Err(Errno::EAGAIN),
        Wake::Interrupted => Err(Errno::EINTR),
    }
}

// ---------------------------------------------------------------------------------------
// Shared memory

fn shmget(key: i32, size: u64, flags: u32) -> SysResult {
    let (ipc, who) = caller();
    shm::get(&ipc.sysv.shm, key, size, flags, &who).map(|id| id as usize)
}

fn shmat(id: i32, addr: u64, flags: u32) -> SysResult {
    let (ipc, who) = caller();
    let seg = ipc.sysv.shm.lock().get(id).cloned().ok_or(Errno::EINVAL)?;
    let (mut prot, mut req) = (PROT_READ, READ);
    if flags & shm::SHM_RDONLY == 0 {
        prot |= PROT_WRITE;
        req |= WRITE;
    }
    if flags & shm::SHM_EXEC != 0 {
        prot |= PROT_EXEC;
        req |= EXEC;
    }
    let (key, size) = {
        let m = seg.meta.lock();
        m.perm.check(&who, req)?;
        (m.perm.key, m.segsz)
    };
    let mut at = addr;
    if !at.is_multiple_of(SHMLBA) {
        if flags & shm::SHM_RND == 0 {
            return Err(Errno::EINVAL);
        }
        at -= at % SHMLBA;
    }
    if at == 0 && flags & shm::SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_up(size).ok_or(Errno::EINVAL)?;
    // Counted from here: dropping it on an error below uncounts it.
    let attach = Attach::new(seg);
    let vm = task::current_vm();
    let mut vm = vm.lock();
    vm.vmas.may_map()?;
    let start = if at != 0 {
        let end = at.checked_add(len).filter(|e| *e <= USER_END);
        let end = end.ok_or(Errno::EINVAL)?;
        if at < MMAP_MIN {
            return Err(Errno::EPERM);
        }
        if flags & shm::SHM_REMAP == 0 && vm.vmas.overlaps(at, end) {
            return Err(Errno::EINVAL);
        }
        at
    } else {
        vm.vmas
            .find_free(len, MMAP_BASE, STACK_TOP - STACK_SIZE)
            .ok_or(Errno::ENOMEM)?
    };
    vm.map_area(Vma {
        start,
        end: start + len,
        prot,
        backing: Backing::Shared {
            src: attach,
            pgoff: 0,
        },
        name: format!("/SYSV{:08x} (deleted)", key as u32),
        file: None,
    });
    Ok(start as usize)
}

/// Detaches the segment attached at `addr`: every piece of that attachment within the
/// segment's size from there (Linux's `shmdt`). `EINVAL` when no attachment starts there.
fn shmdt(addr: u64) -> SysResult {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let vm = task::current_vm();
    let mut vm = vm.lock();
    let (src, size) = match vm.vmas.find(addr) {
        Some(Vma {
            start,
            backing: Backing::Shared { src, pgoff: 0 },
            ..
        }) if *start == addr => match src.shm_size() {
            Some(size) => (src.clone(), size),
            None => return Err(Errno::EINVAL),
        },
        _ => return Err(Errno::EINVAL),
    };
    let end = page_up(size).map_or(USER_END, |l| addr.saturating_add(l));
    let pieces: Vec<(u64, u64)> = vm
        .vmas
        .iter()
        .filter(|v| v.start >= addr && v.start < end)
        .filter(|v| matches!(&v.backing, Backing::Shared { src: s, .. } if same_source(s, &src)))
        .map(|v| (v.start, v.end))
        .collect();
    drop(src);
    for (s, e) in pieces {
        vm.unmap_range(s, e);
    }
    Ok(0)
}

fn shmctl(id: i32, cmd: u32, buf: u64) -> SysResult {
    let cmd = ctl_cmd(cmd)?;
    let (ipc, who) = caller();
    let table = &ipc.sysv.shm;
    match cmd {
        IPC_INFO => {
            put(buf, &shm::encode_info())?;
            // Linux returns the highest index in use; LiteOS-A returns shmmni (192). The
            // Linux ABI wins: programs use the value to loop over SHM_STAT indexes.
            Ok(table.lock().max_index())
        }
        shm::SHM_INFO => {
            let t = table.lock();
            put(buf, &shm::encode_shm_info(&t))?;
            Ok(t.max_index())
        }
        shm::SHM_STAT | shm::SHM_STAT_ANY | IPC_STAT => {
            let (full, seg) = {
                let t = table.lock();
                let (full, seg) = t.stat_target(id, cmd == IPC_STAT).ok_or(Errno::EINVAL)?;
                (full, seg.clone())
            };
            if cmd != shm::SHM_STAT_ANY {
                seg.meta.lock().perm.check(&who, READ)?;
            }
            put(buf, &seg.encode(&user()))?;
            Ok(full as usize)
        }
        IPC_SET => {
            let set = PermSet::decode(&get_bytes(buf, 24)?);
            let (uid, gid) = set.to_kernel(&user())?;
            let seg = table.lock().get(id).cloned().ok_or(Errno::EINVAL)?;
            let mut m = seg.meta.lock();
            m.perm.check_owner(&who)?;
            m.perm.set(uid, gid, set.mode);
            m.ctime = sysv::env::now();
            Ok(0)
        }
        IPC_RMID => shm::remove(table, id, &who).map(|_| 0),
        shm::SHM_LOCK | shm::SHM_UNLOCK => {
            // Nothing is ever swapped: locking only records SHM_LOCKED, with Linux's
            // permission rule (CAP_IPC_LOCK, or the owner or creator).
            let seg = table.lock().get(id).cloned().ok_or(Errno::EINVAL)?;
            let mut m = seg.meta.lock();
            if !who.ipc_lock {
                m.perm.check_owner(&Who {
                    sys_admin: false,
                    ..who
                })?;
            }
            if cmd == shm::SHM_LOCK {
                m.perm.mode |= shm::SHM_LOCKED;
            } else {
                m.perm.mode &= !shm::SHM_LOCKED;
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

// ---------------------------------------------------------------------------------------
// Message queues

fn msgget(key: i32, flags: u32) -> SysResult {
    let (ipc, who) = caller();
    msg::get(&mut ipc.sysv.msg.lock(), key, flags, &who).map(|id| id as usize)
}

fn queue(ipc: &IpcContainer, id: i32) -> Result<Arc<msg::Queue>, Errno> {
    ipc.sysv.msg.lock().get(id).cloned().ok_or(Errno::EINVAL)
}

fn msgsnd(id: i32, msgp: u64, size: u64, flags: u32) -> SysResult {
    if size > msg::MSGMAX as u64 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let mtype: i64 = read_user(msgp)?;
    if mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text = get_bytes(msgp.checked_add(8).ok_or(Errno::EFAULT)?, size as usize)?;
    let (ipc, who) = caller();
    let q = queue(&ipc, id)?;
    drop(ipc);
    let mut text = Some(msg::Message::new(mtype, text)?);
    loop {
        {
            let mut s = q.state.lock();
            if s.removed {
                return Err(Errno::EIDRM);
            }
            s.perm.check(&who, WRITE)?;
            if s.fits(size as usize)
                && let Some(m) = text.take()
            {
                s.push(m);
                drop(s);
                task::wakeup(q.chan());
                return Ok(0);
            }
        }
        if flags & IPC_NOWAIT != 0 {
            return Err(Errno::EAGAIN);
        }
        wait(q.chan(), None)?;
    }
}

fn msgrcv(id: i32, msgp: u64, size: u64, msgtyp: i64, flags: u32) -> SysResult {
    if (size as i64) < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if flags & msg::MSG_COPY != 0 {
        // Linux without CONFIG_CHECKPOINT_RESTORE.
        return Err(Errno::ENOSYS);
    }
    let search = msg::Search::new(msgtyp, flags);
    let (ipc, who) = caller();
    let q = queue(&ipc, id)?;
    drop(ipc);
    let m = loop {
        {
            let mut s = q.state.lock();
            if s.removed {
                return Err(Errno::EIDRM);
            }
            s.perm.check(&who, READ)?;
            if let Some(i) = s.find(search) {
                if s.msgs[i].text.len() as u64 > size && flags & msg::MSG_NOERROR == 0 {
                    return Err(Errno::E2BIG);
                }
                break s.take(i);
            }
        }
        if flags & IPC_NOWAIT != 0 {
            return Err(Errno::ENOMSG);
        }
        wait(q.chan(), None)?;
    };
    task::wakeup(q.chan());
    let m = m.ok_or(Errno::EIDRM)?;
    let n = m.text.len().min(size as usize);
    write_user(msgp, &m.mtype)?;
    copy_to_user(msgp + 8, &m.text[..n])?;
    Ok(n)
}

fn msgctl(id: i32, cmd: u32, buf: u64) -> SysResult {
    let cmd = ctl_cmd(cmd)?;
    let (ipc, who) = caller();
    match cmd {
        IPC_INFO | msg::MSG_INFO => {
            let t = ipc.sysv.msg.lock();
            put(buf, &msg::encode_info(&t, cmd == msg::MSG_INFO))?;
            Ok(t.max_index())
        }
        msg::MSG_STAT | msg::MSG_STAT_ANY | IPC_STAT => {
            let (full, q) = {
                let t = ipc.sysv.msg.lock();
                let (full, q) = t.stat_target(id, cmd == IPC_STAT).ok_or(Errno::EINVAL)?;
                (full, q.clone())
            };
            let abi = {
                let s = q.state.lock();
                if cmd != msg::MSG_STAT_ANY {
                    s.perm.check(&who, READ)?;
                }
                s.encode(&user())
            };
            put(buf, &abi)?;
            Ok(full as usize)
        }
        IPC_SET => {
            let b = get_bytes(buf, 96)?;
            let set = PermSet::decode(&b);
            let qbytes = sysv::le_u64(&b, 88);
            let (uid, gid) = set.to_kernel(&user())?;
            let q = queue(&ipc, id)?;
            {
                let mut s = q.state.lock();
                s.perm.check_owner(&who)?;
                if qbytes > msg::MSGMNB as u64 && !who.sys_resource {
                    return Err(Errno::EPERM);
                }
                s.perm.set(uid, gid, set.mode);
                s.qbytes = usize::try_from(qbytes).map_err(|_| Errno::EINVAL)?;
                s.ctime = sysv::env::now();
            }
            task::wakeup(q.chan());
            Ok(0)
        }
        IPC_RMID => msg::remove(&mut ipc.sysv.msg.lock(), id, &who).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

// ---------------------------------------------------------------------------------------
// Semaphores

fn semget(key: i32, nsems: i32, flags: u32) -> SysResult {
    let (ipc, who) = caller();
    sem::get(&mut ipc.sysv.sem.lock(), key, nsems, flags, &who).map(|id| id as usize)
}

fn sem_set(ipc: &IpcContainer, id: i32) -> Result<Arc<sem::SemSet>, Errno> {
    ipc.sysv.sem.lock().get(id).cloned().ok_or(Errno::EINVAL)
}

/// A relative `struct timespec` as an absolute monotonic deadline.
fn deadline_after(ts: u64) -> Result<Option<u64>, Errno> {
    const NS: i64 = 1_000_000_000;
    if ts == 0 {
        return Ok(None);
    }
    let [sec, nsec]: [i64; 2] = read_user(ts)?;
    if sec < 0 || !(0..NS).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let rel = (sec as u64)
        .saturating_mul(NS as u64)
        .saturating_add(nsec as u64);
    Ok(Some(crate::time::monotonic_ns().saturating_add(rel)))
}

fn semtimedop(id: i32, sops: u64, nsops: u64, timeout: u64) -> SysResult {
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops > sem::SEMOPM as u64 {
        return Err(Errno::E2BIG);
    }
    let deadline = deadline_after(timeout)?;
    let raw = get_bytes(sops, nsops as usize * 6)?;
    let ops: Vec<sem::SemBuf> = raw.chunks_exact(6).map(sem::SemBuf::decode).collect();
    let (ipc, who) = caller();
    let set = sem_set(&ipc, id)?;
    drop(ipc);
    let alter = ops.iter().any(|o| o.op != 0);
    let undo = ops.iter().any(|o| o.flg & sem::SEM_UNDO != 0);
    let max = ops.iter().map(|o| o.num as usize).max().unwrap_or(0);
    {
        let s = set.state.lock();
        if max >= s.sems.len() {
            return Err(Errno::EFBIG);
        }
        s.perm.check(&who, if alter { WRITE } else { READ })?;
    }
    let pid = task::current_process().pid();
    let me = sysv::env::caller();
    loop {
        let blocked = {
            let mut s = set.state.lock();
            if s.removed {
                return Err(Errno::EIDRM);
            }
            match s.try_ops(&ops, pid, &me) {
                Ok(()) => None,
                Err(sem::Blocked::Fail(e)) => return Err(e),
                Err(sem::Blocked::Wait { num, zero }) => {
                    let c = &mut s.sems[num];
                    if zero {
                        c.zcnt += 1
                    } else {
                        c.ncnt += 1
                    }
                    Some((num, zero))
                }
            }
        };
        let Some((num, zero)) = blocked else {
            if undo {
                sem::register_undo(pid, &set);
            }
            task::wakeup(set.chan());
            return Ok(0);
        };
        let woke = wait(set.chan(), deadline);
        let mut s = set.state.lock();
        if s.removed {
            return Err(Errno::EIDRM);
        }
        if let Some(c) = s.sems.get_mut(num) {
            if zero {
                c.zcnt = c.zcnt.saturating_sub(1);
            } else {
                c.ncnt = c.ncnt.saturating_sub(1);
            }
        }
        woke?;
    }
}

fn semctl(id: i32, num: i32, cmd: u32, arg: u64) -> SysResult {
    let cmd = ctl_cmd(cmd)?;
    let (ipc, who) = caller();
    match cmd {
        IPC_INFO | sem::SEM_INFO => {
            let t = ipc.sysv.sem.lock();
            put(arg, &sem::encode_info(&t, cmd == sem::SEM_INFO))?;
            return Ok(t.max_index());
        }
        sem::SEM_STAT | sem::SEM_STAT_ANY => {
            let (full, set) = {
                let t = ipc.sysv.sem.lock();
                let (full, set) = t.stat_target(id, false).ok_or(Errno::EINVAL)?;
                (full, set.clone())
            };
            let abi = {
                let s = set.state.lock();
                if cmd == sem::SEM_STAT {
                    s.perm.check(&who, READ)?;
                }
                s.encode(&user())
            };
            put(arg, &abi)?;
            return Ok(full as usize);
        }
        IPC_RMID => return sem::remove(&mut ipc.sysv.sem.lock(), id, &who).map(|_| 0),
        sem::SETVAL if !(0..=sem::SEMVMX).contains(&(arg as i32)) => {
            return Err(Errno::ERANGE);
        }
        _ => {}
    }
    let set_in = if cmd == IPC_SET {
        Some(PermSet::decode(&get_bytes(arg, 24)?))
    } else {
        None
    };
    let set = sem_set(&ipc, id)?;
    drop(ipc);
    let mut s = set.state.lock();
    let nsems = s.sems.len();
    let one = || {
        usize::try_from(num)
            .ok()
            .filter(|n| *n < nsems)
            .ok_or(Errno::EINVAL)
    };
    match cmd {
        IPC_STAT => {
            s.perm.check(&who, READ)?;
            let abi = s.encode(&user());
            drop(s);
            put(arg, &abi)?;
            Ok(0)
        }
        IPC_SET => {
            let set_in = set_in.ok_or(Errno::EINVAL)?;
            let (uid, gid) = set_in.to_kernel(&user())?;
            s.perm.check_owner(&who)?;
            s.perm.set(uid, gid, set_in.mode);
            s.ctime = sysv::env::now();
            Ok(0)
        }
        sem::GETVAL | sem::GETPID | sem::GETNCNT | sem::GETZCNT => {
            let n = one()?;
            s.perm.check(&who, READ)?;
            let x = &s.sems[n];
            Ok(match cmd {
                sem::GETVAL => x.val as usize,
                sem::GETPID => sysv::env::view(&x.pid) as usize,
                sem::GETNCNT => x.ncnt as usize,
                _ => x.zcnt as usize,
            })
        }
        sem::GETALL => {
            s.perm.check(&who, READ)?;
            let mut out = Abi::default();
            for x in &s.sems {
                out.u16(x.val as u16);
            }
            drop(s);
            put(arg, &out)?;
            Ok(0)
        }
        sem::SETVAL => {
            let n = one()?;
            s.perm.check(&who, WRITE)?;
            s.clear_undo(Some(n));
            s.sems[n].val = arg as i32;
            s.sems[n].pid = sysv::env::caller();
            s.ctime = sysv::env::now();
            drop(s);
            task::wakeup(set.chan());
            Ok(0)
        }
        sem::SETALL => {
            s.perm.check(&who, WRITE)?;
            drop(s);
            let raw = get_bytes(arg, nsems * 2)?;
            let vals: Vec<i32> = raw
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as i32)
                .collect();
            if vals.iter().any(|v| *v > sem::SEMVMX) {
                return Err(Errno::ERANGE);
            }
            let mut s = set.state.lock();
            if s.removed {
                return Err(Errno::EIDRM);
            }
            s.clear_undo(None);
            let me = sysv::env::caller();
            for (x, v) in s.sems.iter_mut().zip(vals) {
                x.val = v;
                x.pid = me.clone();
            }
            s.ctime = sysv::env::now();
            drop(s);
            task::wakeup(set.chan());
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
