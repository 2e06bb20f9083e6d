//! The running thread of this CPU, readable without a lock or a reference count: the
//! scheduler records a pointer to the `Arc` it holds in its own `current` field, and the
//! system-call path borrows it from here.

use alloc::sync::Arc;
use core::mem::ManuallyDrop;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

pub struct CurrentSlot<T>(AtomicPtr<T>);

impl<T> CurrentSlot<T> {
    pub const fn new() -> Self {
        CurrentSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Records `t` as running. The caller (the scheduler) keeps a strong reference to it
    /// for as long as it is recorded, and records the next thread before dropping it.
    pub fn set(&self, t: &Arc<T>) {
        self.0.store(Arc::as_ptr(t) as *mut T, Ordering::Release);
    }

    /// Runs `f` with the running thread, borrowed (no reference-count traffic). Always
    /// inlined: the system-call path is built around it, and left to the inliner it was
    /// once called out of line, costing that path 24 instructions.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(&Arc<T>) -> R) -> Option<R> {
        let p = self.0.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` came from `Arc::as_ptr` of an `Arc` the scheduler holds while it is
        // recorded here; a thread that is not running is still owned by the run queue or a
        // sleeper record, and a dead one never runs `f` again after switching away. The
        // `ManuallyDrop` leaves the count as it was.
        let a = ManuallyDrop::new(unsafe { Arc::from_raw(p) });
        Some(f(&a))
    }

    /// A new reference to the running thread.
    pub fn get(&self) -> Option<Arc<T>> {
        self.with(Arc::clone)
    }
}

impl<T> Default for CurrentSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}
