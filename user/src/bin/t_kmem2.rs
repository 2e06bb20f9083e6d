//! Kernel objects charged to the plimits group that made them (issue 16), the routes of
//! the kcharge2 branch: for each route a child in a fresh group with a 32 MiB
//! `memory.limit` makes kernel objects of one kind until the kernel refuses, and then:
//! the refusal is `ENOMEM` (as Linux's memory cgroup gives), the group's `memory.usage` is
//! within 1 MiB of the limit, `memory.failcnt` went up, the root's `MemFree` fell by at
//! most 34 MiB, and the parent (in the root group) still forks, pipes and maps. Once the
//! child has exited the group's usage is 0 again and `MemFree` is back.
//!
//! Bulkhead-only (plimits is LiteOS-A's; Linux's counterpart is the memory cgroup's kmem
//! accounting).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::cred::{MS_REC, make_root_private, mount};
    use ulib::mnt::{MS_BIND, mkdir_p};
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, wait_exit};
    use ulib::{Args, check, check_eq, println};

    const LIMIT: u64 = 32 << 20;
    const MIB: u64 = 1 << 20;

    /// One kind of kernel object: `fill` runs in the child, inside the group, makes
    /// objects until a call fails and returns that call's errno (its objects stay alive
    /// until the child exits).
    struct Route {
        name: &'static str,
        fill: fn() -> i32,
        /// Limits raised for the route (and put back after it) so that memory stops it.
        raise: &'static [(&'static str, &'static str)],
    }

    fn group(name: &str) -> String {
        format!("/proc/plimits/kmem2_{name}")
    }

    fn read_u64(path: &str) -> u64 {
        read_text(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    /// What the root group can still do while another group is at its limit: fork a
    /// child, move 64 KiB through a pipe, touch 4 MiB of fresh memory.
    fn others_work() -> bool {
        let Ok([r, w]) = pipe() else {
            return false;
        };
        let data = [7u8; 4096];
        let mut ok = true;
        for _ in 0..16 {
            ok &= write_all(w, &data).is_ok();
            let mut buf = [0u8; 4096];
            ok &= matches!(read(r, &mut buf), Ok(4096));
        }
        close_all(&[r, w]);
        let child = match fork() {
            Ok(0) => {
                let Ok(addr) = mmap_anon(4 << 20) else {
                    exit(2)
                };
                // SAFETY: a fresh private mapping of 4 MiB this process owns.
                let mem = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, 4 << 20) };
                for i in (0..mem.len()).step_by(4096) {
                    mem[i] = 1;
                }
                exit(0)
            }
            Ok(pid) => pid,
            Err(e) => {
                println!(
                    "kmem2: fork in the root group: errno {e}; root usage {} limit {}\n{}",
                    read_u64("/proc/plimits/memory.usage"),
                    read_u64("/proc/plimits/memory.limit"),
                    read_text("/proc/meminfo").unwrap_or_default()
                );
                return false;
            }
        };
        ok && wait_exit(child) == Exit::Code(0)
    }

    /// Runs one route and checks what the module doc says.
    fn run(route: &Route) {
        let g = group(route.name);
        let _ = rmdir_text(&g);
        let mut saved = Vec::new();
        for (path, value) in route.raise {
            // Either a number or ("max_<type>_container") "limit: N\ncount: M".
            let text = read_text(path).unwrap_or_default();
            let old = match text.split_once("limit:") {
                Some((_, rest)) => rest.lines().next().unwrap_or("").trim().into(),
                None => String::from(text.trim()),
            };
            saved.push((*path, old));
            check!(write_text(path, value.as_bytes()).is_ok(), "{path}");
        }
        let free0 = mem_free_kb().unwrap_or(0) * 1024;
        let [r, w] = pipe_pair();
        let [go_r, go_w] = pipe_pair();
        let limit = format!("{g}/memory.limit");
        let child = ulib::test::fork_run(|| {
            let _ = close(r);
            let _ = close(go_w);
            // mkdir puts its caller in the group (LiteOS-A's rule).
            let made =
                mkdir_text(&g).and_then(|_| write_text(&limit, format!("{LIMIT}").as_bytes()));
            if let Err(e) = made {
                send(w, -(e as i64));
                exit(3);
            }
            send(w, (route.fill)() as i64);
            wait_go(go_r);
        });
        close_all(&[w, go_r]);
        let errno = recv(r).unwrap_or(-2);
        let usage = read_u64(&format!("{g}/memory.usage"));
        let failcnt = read_u64(&format!("{g}/memory.failcnt"));
        let free1 = mem_free_kb().unwrap_or(0) * 1024;
        let fell = free0.saturating_sub(free1);
        println!(
            "kmem2 {}: errno {errno}, usage {usage} of {LIMIT}, failcnt {failcnt}, \
             MemFree fell {} KiB",
            route.name,
            fell / 1024
        );
        check_eq!(errno, ENOMEM as i64, "{}: the refusal", route.name);
        check!(
            usage + MIB >= LIMIT && usage <= LIMIT,
            "{}: usage {usage} within 1 MiB of {LIMIT}",
            route.name
        );
        check!(failcnt >= 1, "{}: failcnt {failcnt}", route.name);
        check!(
            fell <= 34 * MIB,
            "{}: MemFree fell {fell} bytes, at most 34 MiB",
            route.name
        );
        check!(others_work(), "{}: the root group still works", route.name);
        go(go_w);
        let _ = close(go_w);
        check_eq!(wait_exit(child), Exit::Code(0), "{}: the child", route.name);
        let _ = close(r);
        check_eq!(
            read_u64(&format!("{g}/memory.usage")),
            0,
            "{}: everything uncharged after the child exited",
            route.name
        );
        let free2 = mem_free_kb().unwrap_or(0) * 1024;
        check!(
            free2 + MIB >= free0,
            "{}: MemFree back ({free2} of {free0} bytes)",
            route.name
        );
        check_eq!(rmdir_text(&g), Ok(0));
        for (path, value) in saved {
            let back = write_text(path, value.trim().as_bytes());
            check!(back.is_ok(), "{path} back to {value:?}: {back:?}");
        }
    }

    fn mkdir_text(p: &str) -> SysResult {
        let c = alloc::ffi::CString::new(p).unwrap_or_default();
        mkdir(&c, 0o700)
    }

    fn rmdir_text(p: &str) -> SysResult {
        let c = alloc::ffi::CString::new(p).unwrap_or_default();
        rmdir(&c)
    }

    /// Mounts: in its own mount container, a tmpfs tree doubled by recursive binds (each
    /// `d<k>` below it then holds 2^k mounts), then those trees bound again, biggest first,
    /// until even one mount does not fit.
    fn fill_mounts() -> i32 {
        const T: &str = "/kmem2";
        if let Err(e) = unshare(CLONE_NEWNS).and_then(|_| make_root_private()) {
            return e;
        }
        let setup = mkdir_p(T, 0o755)
            .and_then(|_| mount("tmpfs", T, "tmpfs", 0))
            .and_then(|_| mkdir_p(&format!("{T}/s"), 0o755))
            .and_then(|_| mkdir_p(&format!("{T}/u"), 0o755))
            .and_then(|_| mount("tmpfs", &format!("{T}/s"), "tmpfs", 0));
        if let Err(e) = setup {
            return e;
        }
        let mut sources: Vec<String> = Vec::new();
        for k in 0..24 {
            let d = format!("{T}/s/d{k}");
            if let Err(e) = mkdir_p(&d, 0o755) {
                return e;
            }
            match mount(&format!("{T}/s"), &d, "", MS_BIND | MS_REC) {
                Ok(_) => sources.push(d),
                Err(ENOMEM) => break,
                Err(e) => return e,
            }
        }
        let mut n = 0;
        while let Some(src) = sources.last() {
            let d = format!("{T}/u/{n}");
            n += 1;
            if let Err(e) = mkdir_p(&d, 0o755) {
                return e;
            }
            match mount(src, &d, "", MS_BIND | MS_REC) {
                Ok(_) => {}
                Err(ENOMEM) => {
                    sources.pop();
                }
                Err(e) => return e,
            }
        }
        ENOMEM
    }

    /// Mount containers, each holding a copy of a 512-mount tree, kept by an fd on
    /// `/proc/self/ns/mnt` until no more can be made.
    fn fill_mount_containers() -> i32 {
        const T: &str = "/kmem2c";
        let setup = unshare(CLONE_NEWNS)
            .and_then(|_| make_root_private())
            .and_then(|_| mkdir_p(T, 0o755))
            .and_then(|_| mount("tmpfs", T, "tmpfs", 0));
        if let Err(e) = setup {
            return e;
        }
        for k in 0..9 {
            let d = format!("{T}/d{k}");
            if let Err(e) = mkdir_p(&d, 0o755).and_then(|_| mount(T, &d, "", MS_BIND | MS_REC)) {
                return e;
            }
        }
        loop {
            if let Err(e) = unshare(CLONE_NEWNS) {
                return e;
            }
            if let Err(e) = open(c"/proc/self/ns/mnt", O_RDONLY, 0) {
                return e;
            }
        }
    }

    /// SysV message queues in a new IPC container (freed with it when the child exits),
    /// each filled with 2 KiB messages (heap blocks from frames) to its 16 KiB, then the next, until one more
    /// queue or message does not fit.
    fn fill_sysv_messages() -> i32 {
        use ulib::sysv::{IPC_NOWAIT, IPC_PRIVATE, msgget, msgsnd};
        if let Err(e) = unshare(CLONE_NEWIPC) {
            return e;
        }
        let text = [0x6du8; 2048];
        loop {
            let q = match msgget(IPC_PRIVATE, 0o600) {
                Ok(q) => q,
                Err(e) => return e,
            };
            loop {
                match msgsnd(q, 1, &text, IPC_NOWAIT) {
                    Ok(_) => {}
                    Err(EAGAIN) => break,
                    Err(e) => return e,
                }
            }
        }
    }

    const MOUNT_MAX: &str = "/proc/sys/fs/mount-max";

    const ROUTES: &[Route] = &[
        Route {
            name: "mounts",
            fill: fill_mounts,
            raise: &[(MOUNT_MAX, "1000000")],
        },
        Route {
            name: "mount_containers",
            fill: fill_mount_containers,
            raise: &[("/proc/sys/user/max_mnt_container", "1000000")],
        },
        Route {
            name: "sysv_messages",
            fill: fill_sysv_messages,
            raise: &[],
        },
    ];

    fn routes_fill_to_the_limit_and_give_everything_back() {
        for r in ROUTES {
            run(r);
        }
    }

    fn main(_args: Args) -> i32 {
        // Run alone as init, /proc is not mounted yet; under the suite it is (EBUSY).
        let _ = mkdir(c"/proc", 0o755);
        let _ = mount("proc", "/proc", "proc", 0);
        ulib::test::run(ulib::cases![
            routes_fill_to_the_limit_and_give_everything_back
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
