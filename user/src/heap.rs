//! The global allocator: power-of-two size classes (16 B to 4 KiB) carved from 64 KiB anonymous
//! mappings, with one free list per class; bigger blocks get their own mapping and are
//! unmapped when freed. A spin lock makes it safe to use from threads.

use crate::sys;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, Ordering};

const PAGE: usize = 4096;
const MIN_CLASS: usize = 4; // 16 bytes
const MAX_CLASS: usize = 12; // 4096 bytes
const ARENA: usize = 64 * 1024;

struct State {
    free: [usize; MAX_CLASS + 1],
    bump: usize,
    end: usize,
}

struct Heap {
    lock: AtomicBool,
    state: core::cell::UnsafeCell<State>,
}

// SAFETY: `state` is only touched with `lock` held.
unsafe impl Sync for Heap {}

impl Heap {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *self.state.get() });
        self.lock.store(false, Ordering::Release);
        r
    }
}

fn class_of(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    let class = size.next_power_of_two().trailing_zeros() as usize;
    (class <= MAX_CLASS).then_some(class)
}

fn big_len(layout: &Layout) -> usize {
    layout.size().div_ceil(PAGE) * PAGE
}

// SAFETY: blocks come from private anonymous mappings owned by the allocator; a block of class
// `c` is `1 << c` bytes aligned to `1 << c`, which covers the layout's size and alignment.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(&layout) else {
            if layout.align() > PAGE {
                return null_mut();
            }
            return sys::mmap_anon(big_len(&layout)).map_or(null_mut(), |a| a as *mut u8);
        };
        self.with(|s| {
            let head = s.free[class];
            if head != 0 {
                // SAFETY: free blocks store the next free block's address in their first word.
                s.free[class] = unsafe { *(head as *const usize) };
                return head as *mut u8;
            }
            let size = 1 << class;
            let mut start = s.bump.next_multiple_of(size);
            if s.bump == 0 || start + size > s.end {
                let Ok(arena) = sys::mmap_anon(ARENA) else {
                    return null_mut();
                };
                s.bump = arena;
                s.end = arena + ARENA;
                start = arena;
            }
            s.bump = start + size;
            start as *mut u8
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class_of(&layout) else {
            // SAFETY: big blocks are whole mappings of `big_len` bytes.
            let _ = unsafe { sys::munmap(ptr as usize, big_len(&layout)) };
            return;
        };
        self.with(|s| {
            // SAFETY: the block is ours again and at least a word long.
            unsafe { *(ptr as *mut usize) = s.free[class] };
            s.free[class] = ptr as usize;
        })
    }
}

#[global_allocator]
static HEAP: Heap = Heap {
    lock: AtomicBool::new(false),
    state: core::cell::UnsafeCell::new(State {
        free: [0; MAX_CLASS + 1],
        bump: 0,
        end: 0,
    }),
};
