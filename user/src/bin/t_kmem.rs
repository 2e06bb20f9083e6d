//! Kernel objects are charged to the plimits group that made them: for each route in
//! `ROUTES` (descriptors and open files, pipes and their buffers, threads; mappings are charged
//! but their fill does not finish within the program's timeout yet), a
//! child in a fresh group with a 32 MiB `memory.limit` makes objects until a call fails
//! with `ENOMEM`, its group's usage at the limit, while the machine's `MemFree` falls by
//! at most 34 MiB and the parent outside goes on; everything comes back when the child is
//! gone (`ulib::kmem::fill_to_limit`). A new route is one entry in `ROUTES`.
//!
//! Bulkhead-only in its figures (plimits); Linux's memory cgroup with kmem accounting
//! gives `ENOMEM` on these routes the same way.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use core::sync::atomic::AtomicU32;
    use ulib::kmem::{Route, fill_to_limit, read_num, set_nofile};
    use ulib::sys::{self, errno::*};
    use ulib::{check_eq, container::write_text, test_main};

    const ROUTES: &[Route] = &[
        Route {
            name: "fds",
            fill: fill_fds,
        },
        Route {
            name: "pipes",
            fill: fill_pipes,
        },
        Route {
            name: "threads",
            fill: fill_threads,
        },
    ];

    /// Opens `/` until an open fails (descriptors up to nr_open: memory is the stop).
    fn fill_fds() -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let mut n = 0;
        loop {
            match sys::open(c"/", sys::O_RDONLY | sys::O_DIRECTORY, 0) {
                Ok(_) => n += 1,
                Err(e) => return (e, n),
            }
        }
    }

    /// Pipes, each filled to its 64 KiB, until a pipe or a write fails.
    fn fill_pipes() -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let chunk = [0x5au8; 4096];
        let mut n = 0;
        loop {
            let [_, w] = match sys::pipe2(sys::O_NONBLOCK) {
                Ok(p) => p,
                Err(e) => return (e, n),
            };
            n += 1;
            loop {
                match sys::write(w, &chunk) {
                    Ok(_) => {}
                    Err(EAGAIN) => break,
                    Err(e) => return (e, n),
                }
            }
        }
    }

    /// The word the threads sleep on (never changed).
    static SLEEP_WORD: AtomicU32 = AtomicU32::new(0);
    /// A stack for the threads, which never touch it (they only make system calls).
    static mut THREAD_STACK: [u64; 64] = [0; 64];

    /// `clone(flags, stack)`: the new thread loops on `FUTEX_WAIT_PRIVATE` of `word`
    /// without touching memory (no page of its own to fault in at the limit).
    #[unsafe(naked)]
    unsafe extern "C" fn clone_sleeper(flags: usize, stack: usize, word: usize) -> isize {
        core::arch::naked_asm!(
            "mov r9, rdx",
            "xor edx, edx",
            "xor r10d, r10d",
            "xor r8d, r8d",
            "mov eax, 56",
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "1:",
            "mov rdi, r9",
            "mov esi, 128",
            "xor edx, edx",
            "xor r10d, r10d",
            "mov eax, 202",
            "syscall",
            "jmp 1b",
            "2:",
            "ret",
        )
    }

    /// Threads sleeping on a futex until `clone` fails (threads-max raised by the case).
    fn fill_threads() -> (i32, usize) {
        let flags = sys::CLONE_VM
            | sys::CLONE_FS
            | sys::CLONE_FILES
            | sys::CLONE_SIGHAND
            | sys::CLONE_THREAD
            | sys::CLONE_SYSVSEM;
        let stack = (&raw mut THREAD_STACK) as usize + 256;
        let mut n = 0;
        loop {
            // SAFETY: the thread shares the address space but touches no memory: it only
            // waits on SLEEP_WORD, which lives as long as the process.
            let r = unsafe { clone_sleeper(flags, stack, SLEEP_WORD.as_ptr() as usize) };
            match sys::check(r) {
                Ok(_) => n += 1,
                Err(e) => return (e, n),
            }
        }
    }

    fn each_route_stops_at_the_group_limit_with_enomem() {
        // Threads: threads-max is not the stop.
        let max = read_num("/proc/sys/kernel/threads-max");
        check_eq!(
            write_text("/proc/sys/kernel/threads-max", b"1000000"),
            Ok(7)
        );
        for r in ROUTES {
            fill_to_limit(r);
        }
        let _ = write_text(
            "/proc/sys/kernel/threads-max",
            alloc::format!("{max}").as_bytes(),
        );
    }

    test_main!(each_route_stops_at_the_group_limit_with_enomem);
}

#[cfg(not(target_os = "none"))]
fn main() {}
