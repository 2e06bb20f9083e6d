//! `t_kmemns`'s route for user containers (issue 16): a child in a fresh plimits group
//! with a 32 MiB `memory.limit` makes user containers until a call gives `ENOMEM`, with
//! the usage at the limit, the machine's `MemFree` down by at most 34 MiB and the root
//! still forking, all back after the child (`ulib::kmem::fill_to_limit`). User containers
//! nest (`unshare` makes a child of the caller's, three levels deep by default), so each
//! round clones a child into a new one, which makes two more below it and stops; an fd
//! on the child's `/proc/<pid>/ns/user` holds the deepest, and it holds its parents, once
//! the child is killed. `RLIMIT_NOFILE` and `max_user_container` are raised and put back.
//! About 29,000 processes take 2 to 3 minutes under TCG, so the suite's run (whose 600 s
//! cover every program) skips it: `tests/kmem_user.rs` boots it alone with `kmem_slow=1`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::container::{CLONE_NEWUSER, SIGCHLD_EXIT, clone_unshare_stop};
    use ulib::kmem::{Route, fill_containers, proc_ns_path, set_nofile};
    use ulib::{println, sys, test_main};

    /// Levels made by `unshare` below the cloned one (LiteOS-A's default deepest level
    /// is 3).
    const NESTED: usize = 2;
    const WUNTRACED: usize = 2;

    fn fill_user() -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let mut n = 0;
        loop {
            let pid = match clone_unshare_stop(CLONE_NEWUSER | SIGCHLD_EXIT, CLONE_NEWUSER, NESTED)
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
                Ok(_) => n += 1 + NESTED,
                Err(e) => return (e, n),
            }
        }
    }

    fn user_containers_stop_at_the_group_limit_with_enomem() {
        if ulib::Args::get().getenv("kmem_slow") != Some("1") {
            println!("  user_containers: not in the suite run (tests/kmem_user.rs runs it)");
            return;
        }
        let route = Route {
            name: "user_containers",
            fill: fill_user,
        };
        fill_containers(&route, "/proc/sys/user/max_user_container");
    }

    test_main!(user_containers_stop_at_the_group_limit_with_enomem);
}

#[cfg(not(target_os = "none"))]
fn main() {}
