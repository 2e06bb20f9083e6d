//! SysV message queues (msgget(2), msgop(2), msgctl(2)): the queue state and its pure
//! rules (which message `msgrcv` takes, whether a message fits). Sleeping and user memory
//! are the system call's (`crate::syscall::sysv`); everyone waiting on a queue sleeps on
//! its address and re-checks when woken. A queue and each message are charged to the
//! plimits group of the process that made them (`ENOMEM` over its limit).

use super::{Abi, Ids, Perm, PidRec, Who, env, get_or_create};
use crate::container::user::UserContainer;
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// Largest message (Linux's `MSGMAX`).
pub const MSGMAX: usize = 8192;
/// Default bytes per queue (`MSGMNB`).
pub const MSGMNB: usize = 16384;
/// Queues per IPC container (`MSGMNI`).
pub const MSGMNI: usize = 32000;

pub const MSG_NOERROR: u32 = 0o10000;
pub const MSG_EXCEPT: u32 = 0o20000;
pub const MSG_COPY: u32 = 0o40000;

pub const MSG_STAT: u32 = 11;
pub const MSG_INFO: u32 = 12;
pub const MSG_STAT_ANY: u32 = 13;

pub struct Message {
    pub mtype: i64,
    pub text: Vec<u8>,
    /// Its text and its slot in the queue, to the sender's group.
    pub charge: Charge,
}

impl Message {
    /// A message charged to the caller's group: `ENOMEM` over its limit.
    pub fn new(mtype: i64, text: Vec<u8>) -> Result<Message, Errno> {
        let cost = kmem::array_cost::<u8>(text.capacity())
            .saturating_add(core::mem::size_of::<Message>() as u64);
        Ok(Message {
            mtype,
            charge: Charge::new(cost)?,
            text,
        })
    }
}

pub struct State {
    pub perm: Perm,
    pub msgs: VecDeque<Message>,
    /// Bytes of text queued (`msg_cbytes`).
    pub cbytes: usize,
    pub qbytes: usize,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub lspid: PidRec,
    pub lrpid: PidRec,
    /// Set by `IPC_RMID`: sleepers wake and give `EIDRM`.
    pub removed: bool,
}

pub struct Queue {
    pub state: Mutex<State>,
    /// The queue object, to its creator's group.
    _charge: Charge,
}

/// Which message `msgrcv` takes (Linux's `convert_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    Any,
    Equal(i64),
    NotEqual(i64),
    /// The lowest type not above this; the first of them.
    LessEqual(i64),
}

impl Search {
    pub fn new(msgtyp: i64, flags: u32) -> Search {
        match msgtyp {
            0 => Search::Any,
            t if t < 0 => Search::LessEqual(t.checked_neg().unwrap_or(i64::MAX)),
            t if flags & MSG_EXCEPT != 0 => Search::NotEqual(t),
            t => Search::Equal(t),
        }
    }
}

impl Queue {
    /// The wait channel of senders and receivers.
    pub fn chan(&self) -> usize {
        self as *const Queue as usize
    }
}

impl State {
    /// Index of the message `s` selects.
    pub fn find(&self, s: Search) -> Option<usize> {
        let mut it = self.msgs.iter().enumerate();
        match s {
            Search::Any => it.next().map(|(i, _)| i),
            Search::Equal(t) => it.find(|(_, m)| m.mtype == t).map(|(i, _)| i),
            Search::NotEqual(t) => it.find(|(_, m)| m.mtype != t).map(|(i, _)| i),
            Search::LessEqual(t) => it
                .filter(|(_, m)| m.mtype <= t)
                .min_by_key(|(i, m)| (m.mtype, *i))
                .map(|(i, _)| i),
        }
    }

    /// Whether `len` more bytes fit (Linux's `msg_fits`: bytes and count against `qbytes`).
    pub fn fits(&self, len: usize) -> bool {
        self.cbytes + len <= self.qbytes && self.msgs.len() < self.qbytes
    }

    pub fn push(&mut self, m: Message) {
        self.cbytes += m.text.len();
        self.msgs.push_back(m);
        self.stime = env::now();
        self.lspid = env::caller();
    }

    pub fn take(&mut self, i: usize) -> Option<Message> {
        let m = self.msgs.remove(i)?;
        self.cbytes -= m.text.len();
        self.rtime = env::now();
        self.lrpid = env::caller();
        Some(m)
    }

    /// `struct msqid64_ds` (120 bytes).
    pub fn encode(&self, user: &UserContainer) -> Abi {
        let mut out = Abi::default();
        self.perm.encode(user, &mut out);
        out.i64(self.stime);
        out.i64(self.rtime);
        out.i64(self.ctime);
        out.u64(self.cbytes as u64);
        out.u64(self.msgs.len() as u64);
        out.u64(self.qbytes as u64);
        out.i32(env::view(&self.lspid));
        out.i32(env::view(&self.lrpid));
        out.u64(0);
        out.u64(0);
        out
    }
}

/// `msgget`.
pub fn get(t: &mut Ids<Arc<Queue>>, key: i32, flags: u32, who: &Who) -> Result<i32, Errno> {
    get_or_create(
        t,
        key,
        flags,
        MSGMNI,
        who,
        |q| Ok(q.state.lock().perm.clone()),
        |seq| {
            let mut perm = Perm::new(key, flags, who);
            perm.seq = seq;
            Ok(Arc::new(Queue {
                _charge: Charge::arc::<Queue>()?,
                state: Mutex::new(State {
                    perm,
                    msgs: VecDeque::new(),
                    cbytes: 0,
                    qbytes: MSGMNB,
                    stime: 0,
                    rtime: 0,
                    ctime: env::now(),
                    lspid: PidRec::default(),
                    lrpid: PidRec::default(),
                    removed: false,
                }),
            }))
        },
    )
}

/// `IPC_RMID`: out of the table; sleepers are woken and give `EIDRM`.
pub fn remove(t: &mut Ids<Arc<Queue>>, id: i32, who: &Who) -> Result<(), Errno> {
    let q = t.get(id).ok_or(Errno::EINVAL)?.clone();
    {
        let mut s = q.state.lock();
        s.perm.check_owner(who)?;
        s.removed = true;
        s.msgs.clear();
        s.cbytes = 0;
    }
    t.remove(id);
    env::wakeup(q.chan());
    Ok(())
}

/// `struct msginfo` (32 bytes). `MSG_INFO` reports use: queues, messages, bytes.
pub fn encode_info(t: &Ids<Arc<Queue>>, usage: bool) -> Abi {
    let (mut msgs, mut bytes) = (0usize, 0usize);
    for (_, q) in t.iter() {
        let s = q.state.lock();
        msgs += s.msgs.len();
        bytes += s.cbytes;
    }
    let (pool, map, tql) = if usage {
        (t.in_use(), msgs, bytes)
    } else {
        (MSGMNI * MSGMNB / 1024, MSGMNB, MSGMNB)
    };
    let mut out = Abi::default();
    for v in [pool, map, MSGMAX, MSGMNB, MSGMNI, 16, tql] {
        out.i32(v as i32);
    }
    out.u16(0xffff);
    out.u16(0);
    out
}

#[cfg(test)]
mod tests {
    use super::super::IPC_CREAT;
    use super::super::tests::who;
    use super::*;

    fn queue(types: &[i64]) -> State {
        let mut s = State {
            perm: Perm::new(0, 0o600, &who(0)),
            msgs: VecDeque::new(),
            cbytes: 0,
            qbytes: MSGMNB,
            stime: 0,
            rtime: 0,
            ctime: 0,
            lspid: PidRec::default(),
            lrpid: PidRec::default(),
            removed: false,
        };
        for &t in types {
            s.push(Message::new(t, alloc::vec![t as u8]).expect("the root group has room"));
        }
        s
    }

    #[test]
    fn msgtyp_selects_as_linux() {
        let s = queue(&[5, 3, 7, 3, 1]);
        assert_eq!(s.find(Search::new(0, 0)), Some(0), "0: the first");
        assert_eq!(
            s.find(Search::new(3, 0)),
            Some(1),
            ">0: the first of that type"
        );
        assert_eq!(s.find(Search::new(4, 0)), None);
        assert_eq!(
            s.find(Search::new(5, MSG_EXCEPT)),
            Some(1),
            "MSG_EXCEPT: first other"
        );
        assert_eq!(
            s.find(Search::new(-4, 0)),
            Some(4),
            "<0: lowest type <= |t|"
        );
        assert_eq!(
            queue(&[5, 3, 7, 3]).find(Search::new(-4, 0)),
            Some(1),
            "first of lowest"
        );
        assert_eq!(s.find(Search::new(i64::MIN, 0)), Some(4));
        assert_eq!(queue(&[5]).find(Search::new(-4, 0)), None);
    }

    #[test]
    fn fits_counts_bytes_and_messages() {
        let mut s = queue(&[]);
        s.qbytes = 4;
        assert!(s.fits(4));
        assert!(!s.fits(5));
        s.push(Message::new(1, alloc::vec![0; 3]).expect("the root group has room"));
        assert!(s.fits(1));
        assert!(!s.fits(2));
        let m = s.take(0).expect("one message");
        assert_eq!((m.mtype, s.cbytes), (1, 0));
    }

    #[test]
    fn rmid_marks_removed_and_frees_the_key() {
        let mut t: Ids<Arc<Queue>> = Ids::default();
        let id = get(&mut t, 9, IPC_CREAT | 0o600, &who(0)).expect("created");
        let q = t.get(id).cloned().expect("present");
        assert_eq!(remove(&mut t, id, &who(3)), Err(Errno::EPERM));
        assert_eq!(remove(&mut t, id, &who(0)), Ok(()));
        assert!(q.state.lock().removed);
        assert_eq!(get(&mut t, 9, 0, &who(0)), Err(Errno::ENOENT));
        assert_eq!(encode_info(&t, false).0.len(), 32);
    }
}
