//! SysV IPC: wrappers for shared memory, message queues and semaphores (svipc(7)), with the
//! Linux x86_64 layouts of `struct ipc64_perm`, `shmid64_ds`, `msqid64_ds`, `semid64_ds` and
//! the `*info` structs.

use crate::sys::{SysResult, Timespec, check, syscall3, syscall4, syscall5};
use alloc::vec::Vec;

pub mod nr {
    pub const SHMGET: usize = 29;
    pub const SHMAT: usize = 30;
    pub const SHMCTL: usize = 31;
    pub const SEMGET: usize = 64;
    pub const SEMOP: usize = 65;
    pub const SEMCTL: usize = 66;
    pub const SHMDT: usize = 67;
    pub const MSGGET: usize = 68;
    pub const MSGSND: usize = 69;
    pub const MSGRCV: usize = 70;
    pub const MSGCTL: usize = 71;
    pub const SEMTIMEDOP: usize = 220;
}

pub const EIDRM: i32 = 43;
pub const ENOMSG: i32 = 42;
pub const E2BIG: i32 = 7;
pub const EFBIG: i32 = 27;

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: usize = 0o1000;
pub const IPC_EXCL: usize = 0o2000;
pub const IPC_NOWAIT: usize = 0o4000;
pub const IPC_RMID: usize = 0;
pub const IPC_SET: usize = 1;
pub const IPC_STAT: usize = 2;
pub const IPC_INFO: usize = 3;
pub const IPC_64: usize = 0x100;

pub const SHM_RDONLY: usize = 0o10000;
pub const SHM_RND: usize = 0o20000;
pub const SHM_REMAP: usize = 0o40000;
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;
pub const SHM_LOCK: usize = 11;
pub const SHM_UNLOCK: usize = 12;
pub const SHM_STAT: usize = 13;
pub const SHM_INFO: usize = 14;
pub const SHM_STAT_ANY: usize = 15;

pub const MSG_NOERROR: usize = 0o10000;
pub const MSG_EXCEPT: usize = 0o20000;
pub const MSG_COPY: usize = 0o40000;
pub const MSG_STAT: usize = 11;
pub const MSG_INFO: usize = 12;

pub const SEM_UNDO: i16 = 0x1000;
pub const GETPID: usize = 11;
pub const GETVAL: usize = 12;
pub const GETALL: usize = 13;
pub const GETNCNT: usize = 14;
pub const GETZCNT: usize = 15;
pub const SETVAL: usize = 16;
pub const SETALL: usize = 17;
pub const SEM_STAT: usize = 18;
pub const SEM_INFO: usize = 19;

/// `struct ipc64_perm` (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub pad: u16,
    pub unused: [u64; 2],
}

/// `struct shmid64_ds` (112 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmidDs {
    pub perm: IpcPerm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub unused: [u64; 2],
}

/// `struct shminfo64` (72 bytes): what `shmctl(IPC_INFO)` fills.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmInfo64 {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub unused: [u64; 4],
}

/// `struct msqid64_ds` (120 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MsqidDs {
    pub perm: IpcPerm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused: [u64; 2],
}

/// `struct msginfo` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MsgInfo {
    pub msgpool: i32,
    pub msgmap: i32,
    pub msgmax: i32,
    pub msgmnb: i32,
    pub msgmni: i32,
    pub msgssz: i32,
    pub msgtql: i32,
    pub msgseg: u16,
}

/// `struct semid64_ds` (104 bytes on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemidDs {
    pub perm: IpcPerm,
    pub otime: i64,
    pub unused1: u64,
    pub ctime: i64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused: [u64; 2],
}

/// `struct seminfo` (40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemInfo {
    pub semmap: i32,
    pub semmni: i32,
    pub semmns: i32,
    pub semmnu: i32,
    pub semmsl: i32,
    pub semopm: i32,
    pub semume: i32,
    pub semusz: i32,
    pub semvmx: i32,
    pub semaem: i32,
}

/// `struct sembuf`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

pub const fn sembuf(num: u16, op: i16, flg: i16) -> SemBuf {
    SemBuf { num, op, flg }
}

// ---------------------------------------------------------------------------------------
// Shared memory

pub fn shmget(key: i32, size: usize, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::SHMGET, key as isize as usize, size, flags) }).map(|v| v as i32)
}

/// `shmat(id, NULL, flags)`: the kernel picks the address.
pub fn shmat(id: i32, flags: usize) -> SysResult {
    // SAFETY: with a NULL address the kernel maps at free addresses only.
    unsafe { shmat_at(id, 0, flags) }
}

/// `shmat` at `addr`.
///
/// # Safety
/// With `SHM_REMAP` it may replace memory the program uses.
pub unsafe fn shmat_at(id: i32, addr: usize, flags: usize) -> SysResult {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::SHMAT, id as isize as usize, addr, flags) })
}

/// # Safety
/// The segment's memory must no longer be used.
pub unsafe fn shmdt(addr: usize) -> SysResult {
    // SAFETY: the caller's contract.
    check(unsafe { syscall3(nr::SHMDT, addr, 0, 0) })
}

/// `shmctl` with a raw buffer address (0 for none).
pub fn shmctl_raw(id: i32, cmd: usize, buf: usize) -> SysResult {
    // SAFETY: the kernel checks the buffer; callers pass ours or a bad one on purpose.
    check(unsafe { syscall3(nr::SHMCTL, id as isize as usize, cmd, buf) })
}

/// `IPC_STAT` (or `SHM_STAT` with an index): the result and the struct.
pub fn shm_stat(id: i32, cmd: usize) -> SysResult<(usize, ShmidDs)> {
    let mut ds = ShmidDs::default();
    let r = shmctl_raw(id, cmd, &mut ds as *mut ShmidDs as usize)?;
    Ok((r, ds))
}

pub fn shm_set(id: i32, ds: &ShmidDs) -> SysResult {
    shmctl_raw(id, IPC_SET, ds as *const ShmidDs as usize)
}

pub fn shm_rmid(id: i32) -> SysResult {
    shmctl_raw(id, IPC_RMID, 0)
}

pub fn shm_info() -> SysResult<(usize, ShmInfo64)> {
    let mut i = ShmInfo64::default();
    let r = shmctl_raw(0, IPC_INFO, &mut i as *mut ShmInfo64 as usize)?;
    Ok((r, i))
}

// ---------------------------------------------------------------------------------------
// Message queues

pub fn msgget(key: i32, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall3(nr::MSGGET, key as isize as usize, flags, 0) }).map(|v| v as i32)
}

/// Sends `text` with type `mtype` (builds the `struct msgbuf`).
pub fn msgsnd(id: i32, mtype: i64, text: &[u8], flags: usize) -> SysResult {
    let mut buf = Vec::with_capacity(8 + text.len());
    buf.extend_from_slice(&mtype.to_le_bytes());
    buf.extend_from_slice(text);
    // SAFETY: `buf` holds the type and `text.len()` bytes of text.
    check(unsafe {
        syscall4(
            nr::MSGSND,
            id as isize as usize,
            buf.as_ptr() as usize,
            text.len(),
            flags,
        )
    })
}

/// Receives at most `max` bytes: `(mtype, text)`.
pub fn msgrcv(id: i32, max: usize, mtype: i64, flags: usize) -> SysResult<(i64, Vec<u8>)> {
    let mut buf = alloc::vec![0u8; 8 + max];
    // SAFETY: `buf` has room for the type and `max` bytes.
    let n = check(unsafe {
        syscall5(
            nr::MSGRCV,
            id as isize as usize,
            buf.as_mut_ptr() as usize,
            max,
            mtype as usize,
            flags,
        )
    })?;
    let t = i64::from_le_bytes(buf[..8].try_into().unwrap_or([0; 8]));
    Ok((t, buf[8..8 + n].to_vec()))
}

pub fn msgctl_raw(id: i32, cmd: usize, buf: usize) -> SysResult {
    // SAFETY: the kernel checks the buffer.
    check(unsafe { syscall3(nr::MSGCTL, id as isize as usize, cmd, buf) })
}

pub fn msg_stat(id: i32, cmd: usize) -> SysResult<(usize, MsqidDs)> {
    let mut ds = MsqidDs::default();
    let r = msgctl_raw(id, cmd, &mut ds as *mut MsqidDs as usize)?;
    Ok((r, ds))
}

pub fn msg_set(id: i32, ds: &MsqidDs) -> SysResult {
    msgctl_raw(id, IPC_SET, ds as *const MsqidDs as usize)
}

pub fn msg_rmid(id: i32) -> SysResult {
    msgctl_raw(id, IPC_RMID, 0)
}

pub fn msg_info(cmd: usize) -> SysResult<(usize, MsgInfo)> {
    let mut i = MsgInfo::default();
    let r = msgctl_raw(0, cmd, &mut i as *mut MsgInfo as usize)?;
    Ok((r, i))
}

// ---------------------------------------------------------------------------------------
// Semaphores

pub fn semget(key: i32, nsems: i32, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe {
        syscall3(
            nr::SEMGET,
            key as isize as usize,
            nsems as isize as usize,
            flags,
        )
    })
    .map(|v| v as i32)
}

pub fn semop(id: i32, ops: &[SemBuf]) -> SysResult {
    // SAFETY: `ops` is a valid array of `struct sembuf`.
    check(unsafe {
        syscall3(
            nr::SEMOP,
            id as isize as usize,
            ops.as_ptr() as usize,
            ops.len(),
        )
    })
}

pub fn semtimedop(id: i32, ops: &[SemBuf], timeout: Option<&Timespec>) -> SysResult {
    let t = timeout.map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: `ops` and `timeout` are valid.
    check(unsafe {
        syscall4(
            nr::SEMTIMEDOP,
            id as isize as usize,
            ops.as_ptr() as usize,
            ops.len(),
            t,
        )
    })
}

/// `semctl` with the fourth argument (`union semun`) as a raw word.
pub fn semctl(id: i32, num: i32, cmd: usize, arg: usize) -> SysResult {
    // SAFETY: pointer arguments are checked by the kernel.
    check(unsafe {
        syscall4(
            nr::SEMCTL,
            id as isize as usize,
            num as isize as usize,
            cmd,
            arg,
        )
    })
}

pub fn sem_stat(id: i32, cmd: usize) -> SysResult<(usize, SemidDs)> {
    let mut ds = SemidDs::default();
    let r = semctl(id, 0, cmd, &mut ds as *mut SemidDs as usize)?;
    Ok((r, ds))
}

pub fn sem_info(cmd: usize) -> SysResult<(usize, SemInfo)> {
    let mut i = SemInfo::default();
    let r = semctl(0, 0, cmd, &mut i as *mut SemInfo as usize)?;
    Ok((r, i))
}

pub fn sem_getall(id: i32, n: usize) -> SysResult<Vec<u16>> {
    let mut v = alloc::vec![0u16; n];
    semctl(id, 0, GETALL, v.as_mut_ptr() as usize)?;
    Ok(v)
}

pub fn sem_setall(id: i32, vals: &[u16]) -> SysResult {
    semctl(id, 0, SETALL, vals.as_ptr() as usize)
}

pub fn sem_rmid(id: i32) -> SysResult {
    semctl(id, 0, IPC_RMID, 0)
}
