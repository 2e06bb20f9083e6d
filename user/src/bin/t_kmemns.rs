//! Containers of every type are charged to the plimits group that made them (issue 16):
//! for UTS, IPC, network, TIME and PID containers, a child in a fresh group with a 32 MiB
//! `memory.limit` makes containers with `unshare` and holds each by an fd on
//! `/proc/self/ns/<type>` (for TIME and PID, which a process enters once, a child makes
//! each and the parent holds `/proc/<child>/ns/<type>_for_children`) until a call gives
//! `ENOMEM`: the usage at the limit, the machine's `MemFree` down by at most 34 MiB, the
//! root still forking; all back after the child (`ulib::kmem::fill_to_limit`). Mount
//! containers are `t_kmem2`'s. `RLIMIT_NOFILE` and `max_<type>_container` are raised for
//! each route and put back.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use ulib::container::{
        CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUTS, unshare,
    };
    use ulib::kmem::{Route, fill_with_raised, set_nofile};
    use ulib::sys;
    use ulib::test::wait_exit;
    use ulib::test_main;

    /// Makes containers with `flag` and holds each by an fd on `/proc/self/ns/<link>`
    /// until a call fails.
    fn hold_containers(flag: usize, link: &core::ffi::CStr) -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let mut n = 0;
        loop {
            if let Err(e) = unshare(flag) {
                return (e, n);
            }
            match sys::open(link, sys::O_RDONLY, 0) {
                Ok(_) => n += 1,
                Err(e) => return (e, n),
            }
        }
    }

    fn fill_uts() -> (i32, usize) {
        hold_containers(CLONE_NEWUTS, c"/proc/self/ns/uts")
    }

    fn fill_ipc() -> (i32, usize) {
        hold_containers(CLONE_NEWIPC, c"/proc/self/ns/ipc")
    }

    fn fill_net() -> (i32, usize) {
        hold_containers(CLONE_NEWNET, c"/proc/self/ns/net")
    }

    /// For the types a process enters once (a second `unshare` of PID or TIME is
    /// `EINVAL`): a child makes each container and the parent holds it by an fd on
    /// `/proc/<child>/ns/<link>`, then kills and reaps the child.
    fn hold_by_children(flag: usize, link: &[u8]) -> (i32, usize) {
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let (Ok([r, w]), Ok([hold, _])) = (sys::pipe(), sys::pipe()) else {
            return (0, 0);
        };
        let mut n = 0;
        loop {
            let pid = match sys::fork() {
                Ok(0) => {
                    let e = unshare(flag).err().unwrap_or(0);
                    let _ = sys::write(w, &[e as u8]);
                    loop {
                        let mut b = [0u8; 1];
                        let _ = sys::read(hold, &mut b);
                    }
                }
                Ok(pid) => pid,
                Err(e) => return (e, n),
            };
            let mut b = [0u8; 1];
            let got = sys::read(r, &mut b);
            // "/proc/<pid>/ns/<link>\0", built on the stack.
            let mut path = [0u8; 64];
            let mut len = 0;
            let mut push = |bytes: &[u8]| {
                path[len..len + bytes.len()].copy_from_slice(bytes);
                len += bytes.len();
            };
            push(b"/proc/");
            let mut digits = [0u8; 10];
            let (mut v, mut d) = (pid as u32, digits.len());
            loop {
                d -= 1;
                digits[d] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            push(&digits[d..]);
            push(b"/ns/");
            push(link);
            let opened = match (got, core::ffi::CStr::from_bytes_until_nul(&path)) {
                (Ok(1), Ok(c)) if b[0] == 0 => sys::open(c, sys::O_RDONLY, 0),
                (Ok(1), _) => Err(b[0] as i32),
                _ => Err(0),
            };
            let _ = sys::kill(pid, 9);
            let _ = wait_exit(pid);
            match opened {
                Ok(_) => n += 1,
                Err(e) => return (e, n),
            }
        }
    }

    fn fill_time() -> (i32, usize) {
        hold_by_children(CLONE_NEWTIME, b"time_for_children")
    }

    fn fill_pid() -> (i32, usize) {
        hold_by_children(CLONE_NEWPID, b"pid_for_children")
    }

    const ROUTES: &[(Route, &str)] = &[
        (
            Route {
                name: "uts_containers",
                fill: fill_uts,
            },
            "/proc/sys/user/max_uts_container",
        ),
        (
            Route {
                name: "ipc_containers",
                fill: fill_ipc,
            },
            "/proc/sys/user/max_ipc_container",
        ),
        (
            Route {
                name: "time_containers",
                fill: fill_time,
            },
            "/proc/sys/user/max_time_container",
        ),
        (
            Route {
                name: "pid_containers",
                fill: fill_pid,
            },
            "/proc/sys/user/max_pid_container",
        ),
        (
            Route {
                name: "net_containers",
                fill: fill_net,
            },
            "/proc/sys/user/max_net_container",
        ),
    ];

    fn each_type_stops_at_the_group_limit_with_enomem() {
        for (route, max) in ROUTES {
            fill_with_raised(route, &[(max, "1000000")]);
        }
    }

    test_main!(each_type_stops_at_the_group_limit_with_enomem);
}

#[cfg(not(target_os = "none"))]
fn main() {}
