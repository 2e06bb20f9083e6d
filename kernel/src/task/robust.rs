//! Robust futexes (`set_robust_list(2)`): a thread registers the head of a user-space
//! list of the robust mutexes it holds; when it exits, every futex word on the list (and
//! the one it was about to take or release, `list_op_pending`) that still holds its tid
//! gets `FUTEX_OWNER_DIED` and one waiter is woken, so the next owner sees `EOWNERDEAD`.

use super::{Thread, futex};
use crate::mm::user::{read_user, write_user};
use alloc::sync::Arc;

/// `sizeof(struct robust_list_head)`: next pointer, futex offset, pending pointer.
pub const HEAD_SIZE: u64 = 24;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Linux's `ROBUST_LIST_LIMIT`: a cyclic or huge list is not walked for ever.
const LIMIT: usize = 2048;

/// Marks the futex of list entry `entry` (its word at `entry + offset`) if `tid` owns it.
/// The low bit of an entry pointer flags a priority-inheritance futex; it is masked off.
fn release(entry: u64, offset: i64, tid: u32) {
    let uaddr = (entry & !1).wrapping_add(offset as u64);
    let Ok(word) = read_user::<u32>(uaddr) else {
        return;
    };
    if word & FUTEX_TID_MASK != tid {
        return;
    }
    let new = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if write_user(uaddr, &new).is_ok() && word & FUTEX_WAITERS != 0 {
        futex::wake_addr(uaddr, 1);
    }
}

/// Called when `t` exits, in its own address space: releases what its list holds.
/// A bad pointer ends the walk quietly, as Linux.
pub fn exit_robust_list(t: &Arc<Thread>, tid: u32) {
    let head = t.inner.lock().robust_list.0;
    if head == 0 {
        return;
    }
    let Ok([mut next, offset, pending]) = read_user::<[u64; 3]>(head) else {
        return;
    };
    let offset = offset as i64;
    let mut seen = 0;
    while next != head && next != 0 && seen < LIMIT {
        let Ok(after) = read_user::<u64>(next & !1) else {
            return;
        };
        // The pending entry is handled once, below.
        if next != pending {
            release(next, offset, tid);
        }
        next = after;
        seen += 1;
    }
    if pending != 0 {
        release(pending, offset, tid);
    }
}
