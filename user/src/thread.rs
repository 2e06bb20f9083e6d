//! Threads: `clone` with the flags musl and glibc use, a stack from `mmap`, and a join that
//! sleeps on the child-tid word the kernel clears (and futex-wakes) when the thread exits.

use crate::sys::{self, SysResult};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU32, Ordering};

const STACK_SIZE: usize = 64 * 1024;

/// The flags of a POSIX thread (as musl's `pthread_create` passes them).
pub const THREAD_FLAGS: usize = sys::CLONE_VM
    | sys::CLONE_FS
    | sys::CLONE_FILES
    | sys::CLONE_SIGHAND
    | sys::CLONE_THREAD
    | sys::CLONE_SYSVSEM
    | sys::CLONE_SETTLS
    | sys::CLONE_PARENT_SETTID
    | sys::CLONE_CHILD_CLEARTID;

/// Per-thread block: the TLS area `fs` points at (its first word points to itself, as the x86_64
/// TLS ABI wants) and the tid word the kernel sets and clears.
#[repr(C, align(64))]
struct ThreadBlock {
    self_ptr: usize,
    tid: AtomicU32,
}

/// A running thread; [`join`](JoinHandle::join) waits for it to exit.
pub struct JoinHandle {
    block: Box<ThreadBlock>,
    stack: usize,
    tid: i32,
}

impl JoinHandle {
    /// The thread's id, as `gettid` returns it in the thread.
    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// Waits until the kernel has cleared the tid word (the thread is gone), then frees its stack.
    pub fn join(self) {
        loop {
            let v = self.block.tid.load(Ordering::Acquire);
            if v == 0 {
                break;
            }
            // EAGAIN (the word changed) and EINTR just mean: look again.
            let _ = sys::futex_wait(&self.block.tid, v, None);
        }
        // SAFETY: the thread has exited (the kernel cleared its tid), so nothing uses the stack.
        let _ = unsafe { sys::munmap(self.stack, STACK_SIZE) };
    }
}

type Start = Box<dyn FnOnce() + Send + 'static>;

extern "C" fn thread_main(arg: usize) -> ! {
    // SAFETY: `arg` is the `Box<Start>` leaked by `spawn`, handed over to this thread alone.
    let f = unsafe { Box::from_raw(arg as *mut Start) };
    f();
    sys::exit_thread(0)
}

/// `clone(flags, stack, ptid, ctid, tls)`; in the child pops the argument off the new stack
/// and calls `entry(arg)`, which never returns.
#[unsafe(naked)]
unsafe extern "C" fn clone_raw(
    flags: usize,
    stack: usize,
    ptid: usize,
    ctid: usize,
    tls: usize,
    entry: usize,
) -> isize {
    core::arch::naked_asm!(
        "mov r10, rcx",
        "mov eax, 56",
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // Child: new stack; r9 (entry) survives the syscall.
        "xor ebp, ebp",
        "pop rdi",
        "and rsp, -16",
        "call r9",
        "ud2",
        "2:",
        "ret",
    )
}

/// Starts a thread running `f`.
pub fn spawn(f: impl FnOnce() + Send + 'static) -> SysResult<JoinHandle> {
    let stack = sys::mmap_anon(STACK_SIZE)?;
    let mut block = Box::new(ThreadBlock {
        self_ptr: 0,
        tid: AtomicU32::new(0),
    });
    block.self_ptr = &*block as *const ThreadBlock as usize;
    let start: Box<Start> = Box::new(Box::new(f));
    let arg = Box::into_raw(start) as usize;
    // The child pops `arg` from the top of its stack.
    let top = stack + STACK_SIZE - 16;
    // SAFETY: `top` is inside the fresh mapping.
    unsafe { *(top as *mut usize) = arg };
    let tid_ptr = block.tid.as_ptr() as usize;
    // SAFETY: the stack and block stay alive until `join` has seen the thread exit.
    let r = unsafe {
        clone_raw(
            THREAD_FLAGS,
            top,
            tid_ptr,
            tid_ptr,
            block.self_ptr,
            thread_main as *const () as usize,
        )
    };
    match sys::check(r) {
        Ok(tid) => Ok(JoinHandle {
            block,
            stack,
            tid: tid as i32,
        }),
        Err(e) => {
            // SAFETY: no thread was made, so `arg` and the stack are still only ours.
            drop(unsafe { Box::from_raw(arg as *mut Start) });
            let _ = unsafe { sys::munmap(stack, STACK_SIZE) };
            Err(e)
        }
    }
}
