//! `t_kmemns`'s route for user containers (issue 16): a child in a fresh plimits group
//! with a 32 MiB `memory.limit` makes user containers until a call gives `ENOMEM`, with
//! the usage at the limit, the machine's `MemFree` down by at most 34 MiB and the root
//! still forking, all back after the child (`ulib::kmem::fill_to_limit`). User containers
//! nest (`unshare` makes a child of the caller's), so each round clones a child into a
//! new one, which makes the rest of the levels below it and stops; an fd on the child's
//! `/proc/<pid>/ns/user` holds the deepest, and it holds its parents, once the child is
//! killed. `RLIMIT_NOFILE` and `max_user_container` are raised and put back.
//!
//! At LiteOS-A's default depth (3 levels) a round makes 3 containers and the fill takes
//! minutes, too long for the suite: `tests/kmem.rs` boots it alone with
//! `user_container.max_level=32` (Linux's depth) and `kmem_user_levels=32`; without that
//! word in its environment (the suite) it says so and passes.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use ulib::container::{CLONE_NEWUSER, SIGCHLD_EXIT, clone_unshare_stop};
    use ulib::kmem::{Route, fill_containers, proc_ns_path, set_nofile};
    use ulib::{Args, sys};

    /// Levels made by `unshare` below the cloned one: the depth less the clone's level.
    static NESTED: AtomicUsize = AtomicUsize::new(0);
    const WUNTRACED: usize = 2;

    fn fill_user() -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let nested = NESTED.load(Ordering::Relaxed);
        let mut n = 0;
        loop {
            let pid = match clone_unshare_stop(CLONE_NEWUSER | SIGCHLD_EXIT, CLONE_NEWUSER, nested)
            {
                Ok(pid) => pid,
                Err(e) => return (e, n),
            };
            match sys::wait4(pid, WUNTRACED) {
                // Stopped: all its levels made.
                Ok((_, status)) if status & 0xff == 0x7f => {}
                // Exited: an `unshare` failed with the errno as its status.
                Ok((_, status)) => return ((status >> 8) & 0xff, n),
                Err(e) => return (e, n),
            }
            let mut buf = [0u8; 40];
            let held = match proc_ns_path(&mut buf, pid, "user") {
                Some(path) => sys::open(path, sys::O_RDONLY, 0),
                None => Err(sys::errno::EINVAL),
            };
            let _ = sys::kill(pid, 9);
            let _ = sys::waitpid(pid);
            match held {
                Ok(_) => n += 1 + nested,
                Err(e) => return (e, n),
            }
        }
    }

    fn user_containers_stop_at_the_group_limit_with_enomem() {
        let route = Route {
            name: "user_containers",
            fill: fill_user,
        };
        fill_containers(&route, "/proc/sys/user/max_user_container");
    }

    fn main(args: Args) -> i32 {
        match args
            .getenv("kmem_user_levels")
            .and_then(|v| v.parse::<usize>().ok())
        {
            Some(levels) if levels >= 2 => {
                NESTED.store(levels - 1, Ordering::Relaxed);
                ulib::test::run(ulib::cases![
                    user_containers_stop_at_the_group_limit_with_enomem
                ])
            }
            _ => {
                ulib::println!(
                    "  skipped here: tests/kmem.rs runs it with user_container.max_level=32 kmem_user_levels=32"
                );
                0
            }
        }
    }
    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
