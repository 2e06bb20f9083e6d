//! The container-runtime sequence of the mount containers issue, and the mount calls it needs:
//! bind mounts (`MS_BIND`, `MS_REC`, the root field of `/proc/self/mountinfo`), `umount2` with
//! `MNT_DETACH` and `EBUSY` without it while a working directory is inside, `pivot_root`'s
//! errors, and the sequence itself: a `CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS` child makes `/`
//! rprivate, mounts a tmpfs, populates it, `pivot_root`s into it, mounts a fresh `proc`,
//! detaches the old root, and then finds one process in `/proc` and no way out of the new root
//! (`..`, a symlink to `/../../..`, `/proc/1/root`, `/proc/self/cwd`).
//!
//! Runs as root on a Linux host too (except `counts_back_to_start`, Bulkhead's
//! `max_*_container` files). Calls whose kernel support has not landed (`ENOSYS`,
//! `EINVAL` for `MS_BIND`) are reported `SKIP <case>: <why>`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::cred::{mount, umount2};
    use ulib::mnt::{MNT_DETACH, MS_BIND, access_ok, mkdir_p, rmdir, touch};
    use ulib::sys::{self, SysResult, errno::*};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok, println};

    const MS_REC: usize = 16384;
    const MS_PRIVATE: usize = 1 << 18;
    const NR_SYMLINK: usize = 88;
    const NR_PIVOT_ROOT: usize = 155;
    const ROOT: &str = "/tmp/t_runtime.root";
    const SRC: &str = "/tmp/t_runtime.src";
    const DST: &str = "/tmp/t_runtime.dst";

    fn cpath(p: &str) -> CString {
        CString::new(p).expect("path has a NUL")
    }

    fn pivot_root(new_root: &str, put_old: &str) -> SysResult {
        let (n, o) = (cpath(new_root), cpath(put_old));
        // SAFETY: two NUL-terminated paths.
        sys::check(unsafe {
            sys::syscall2(NR_PIVOT_ROOT, n.as_ptr() as usize, o.as_ptr() as usize)
        })
    }

    fn symlink(target: &str, path: &str) -> SysResult {
        let (t, p) = (cpath(target), cpath(path));
        // SAFETY: two NUL-terminated paths.
        sys::check(unsafe { sys::syscall2(NR_SYMLINK, t.as_ptr() as usize, p.as_ptr() as usize) })
    }

    /// Creates `path` and writes `data` to it.
    fn create_text(path: &str, data: &[u8]) -> SysResult {
        touch(path)?;
        write_text(path, data)
    }

    fn chdir(p: &str) -> SysResult {
        sys::chdir(&cpath(p))
    }

    fn cwd() -> String {
        let mut buf = [0u8; 256];
        match sys::getcwd(&mut buf) {
            Ok(_) => {
                let n = buf.iter().position(|&c| c == 0).unwrap_or(0);
                String::from(core::str::from_utf8(&buf[..n]).unwrap_or("?"))
            }
            Err(e) => alloc::format!("(error {})", e),
        }
    }

    fn ino(p: &str) -> Option<(u64, u64)> {
        stat_path(p).ok().map(|s| (s.st_dev, s.st_ino))
    }

    /// The mount points of `/proc/self/mountinfo` with their roots, in order.
    fn mountinfo() -> Vec<(String, String)> {
        read_text("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                Some((String::from(*f.get(4)?), String::from(*f.get(3)?)))
            })
            .collect()
    }

    /// Makes the caller's tree rprivate (runtimes' `mount --make-rprivate /`).
    fn make_rprivate() {
        check_eq!(mount("none", "/", "", MS_REC | MS_PRIVATE), Ok(0));
    }

    /// Runs `f` in a `CLONE_NEWNS` child whose tree is rprivate; false (after a SKIP line) when
    /// mount containers are missing.
    fn in_newns(case: &str, f: impl FnOnce()) -> bool {
        match clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
            make_rprivate();
            f()
        }) {
            Ok(pid) => {
                check_eq!(wait_exit(pid), Exit::Code(0));
                true
            }
            Err(e) => {
                println!("SKIP {}: clone(CLONE_NEWNS) gives {}", case, e);
                false
            }
        }
    }

    fn setup_src_dst() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(SRC, 0o755));
        check_ok!(mkdir_p(DST, 0o755));
        check_ok!(mkdir_p(&alloc::format!("{}/sub", SRC), 0o755));
        check_ok!(touch(&alloc::format!("{}/f", SRC)));
    }

    fn cleanup_src_dst() {
        let _ = sys::unlink(&cpath(&alloc::format!("{}/f", SRC)));
        let _ = rmdir(&alloc::format!("{}/sub", SRC));
        let _ = rmdir(SRC);
        let _ = rmdir(DST);
    }

    /// `mount(src, dst, MS_BIND)` shows src's directory at dst, with src's path in its file
    /// system as the mountinfo root; without `MS_REC` mounts below src are not taken, with it
    /// they are; umount2 is EBUSY while the working directory is inside, then succeeds.
    fn bind_and_rbind() {
        setup_src_dst();
        in_newns("bind_and_rbind", || {
            match mount(SRC, DST, "", MS_BIND) {
                Err(EINVAL) => {
                    println!("SKIP bind_and_rbind: mount(MS_BIND) gives EINVAL");
                    return;
                }
                r => check_eq!(r, Ok(0)),
            }
            check!(access_ok(&alloc::format!("{}/f", DST)));
            check_eq!(ino(SRC), ino(DST));
            let info = mountinfo();
            let line = info.iter().rev().find(|(p, _)| p == DST);
            check!(
                line.is_some_and(|(_, r)| r.ends_with("t_runtime.src")),
                "mountinfo root of the bind: {:?}",
                line
            );
            check_ok!(chdir(DST));
            check_eq!(umount2(DST, 0), Err(EBUSY), "cwd inside");
            check_ok!(chdir("/"));
            check_eq!(umount2(DST, 0), Ok(0));
            // A tmpfs below src, then a plain and a recursive bind.
            let sub = alloc::format!("{}/sub", SRC);
            check_eq!(mount("tmpfs", &sub, "tmpfs", 0), Ok(0));
            check_ok!(touch(&alloc::format!("{}/marker", sub)));
            check_eq!(mount(SRC, DST, "", MS_BIND), Ok(0));
            check!(
                !access_ok(&alloc::format!("{}/sub/marker", DST)),
                "not recursive"
            );
            check_eq!(umount2(DST, 0), Ok(0));
            check_eq!(mount(SRC, DST, "", MS_BIND | MS_REC), Ok(0));
            check!(
                access_ok(&alloc::format!("{}/sub/marker", DST)),
                "recursive"
            );
            check_eq!(umount2(DST, 0), Err(EBUSY), "a mount below");
            check_eq!(umount2(DST, MNT_DETACH), Ok(0));
            check!(
                !access_ok(&alloc::format!("{}/sub/marker", DST)),
                "detached"
            );
            check_eq!(umount2(&sub, 0), Ok(0));
        });
        cleanup_src_dst();
    }

    /// `umount2(MNT_DETACH)` with an open file and a working directory inside: gone from the
    /// tree at once, the file still reads.
    fn detach_keeps_open_files() {
        setup_src_dst();
        in_newns("detach_keeps_open_files", || {
            check_eq!(mount("tmpfs", DST, "tmpfs", 0), Ok(0));
            let f = alloc::format!("{}/data", DST);
            check_ok!(create_text(&f, b"kept"));
            let fd = check_ok!(open_path(&f, sys::O_RDONLY));
            check_eq!(umount2(DST, 0), Err(EBUSY), "a file open");
            check_ok!(chdir(DST));
            check_eq!(umount2(DST, MNT_DETACH), Ok(0));
            check!(!access_ok(&f), "gone from the tree");
            let mut buf = [0u8; 8];
            check_eq!(sys::read(fd, &mut buf), Ok(4));
            check_eq!(&buf[..4], b"kept");
            check!(access_ok("data"), "the working directory still works");
            check_ok!(sys::close(fd));
            check_ok!(chdir("/"));
        });
        cleanup_src_dst();
    }

    /// pivot_root's errors: new_root not a mount point (EINVAL), put_old outside new_root
    /// (EINVAL), new_root the current root (EBUSY on Linux; EINVAL when `/` is not a mount
    /// of its own, as Linux's rootfs).
    fn pivot_root_errors() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(ROOT, 0o755));
        in_newns("pivot_root_errors", || {
            check_ok!(mkdir_p(&alloc::format!("{}/old", ROOT), 0o755));
            match pivot_root(ROOT, &alloc::format!("{}/old", ROOT)) {
                Err(ENOSYS) => {
                    println!("SKIP pivot_root_errors: pivot_root gives ENOSYS");
                    return;
                }
                // Linux says EBUSY first when new_root is on the root's mount.
                r => check!(
                    r == Err(EINVAL) || r == Err(EBUSY),
                    "new_root is not a mount point: {:?}",
                    r
                ),
            }
            check_eq!(mount("tmpfs", ROOT, "tmpfs", 0), Ok(0));
            check_ok!(mkdir_p(&alloc::format!("{}/old", ROOT), 0o755));
            let r = pivot_root(ROOT, "/tmp");
            check!(
                r == Err(EINVAL) || r == Err(EBUSY),
                "put_old outside: {:?}",
                r
            );
            check_eq!(
                pivot_root(ROOT, "/nonexistent.t_runtime"),
                Err(ENOENT),
                "missing put_old"
            );
            let r = pivot_root("/", "/");
            check!(
                r == Err(EBUSY) || r == Err(EINVAL),
                "new_root is /: {:?}",
                r
            );
        });
        let _ = rmdir(&alloc::format!("{}/old", ROOT));
        let _ = rmdir(ROOT);
    }

    /// Inside the new PID container, after the pivot: what the sequence should give.
    fn runtime_checks() {
        check_eq!(sys::getpid(), 1);
        check_eq!(cwd(), "/");
        let mut top = check_ok!(list_dir("/"));
        top.sort();
        check_eq!(top, ["esc", "hello", "old", "proc"]);
        check_eq!(
            list_dir("/old").map(|l| l.len()),
            Ok(0),
            "old root detached"
        );
        check!(
            !access_ok("/tmp") && !access_ok("/old/tmp"),
            "nothing of the host"
        );
        // /proc shows the new PID container only.
        let pids = check_ok!(list_pids());
        check_eq!(pids, [1], "/proc lists pid 1 only");
        // `..` at the root stays there.
        check_ok!(chdir(".."));
        check_eq!(cwd(), "/");
        check_ok!(chdir("../../.."));
        check_eq!(cwd(), "/");
        check_eq!(ino("/.."), ino("/"));
        check_eq!(ino("/../../.."), ino("/"));
        // A symlink to /../../.. lands on the root.
        check_eq!(ino("/esc"), ino("/"));
        check!(access_ok("/esc/hello") && !access_ok("/esc/tmp"));
        check_eq!(ino("/esc/../.."), ino("/"));
        // The magic links point at the new root.
        if readlink_text("/proc/self/root") == Err(ENOENT) {
            println!("SKIP runtime_sequence/proc_links: no /proc/[pid]/root and cwd links");
        } else {
            proc_link_checks();
        }
        // mountinfo: the new root and proc.
        let info = mountinfo();
        let points: Vec<&str> = info.iter().map(|(p, _)| p.as_str()).collect();
        check_eq!(points, ["/", "/proc"], "mountinfo {:?}", info);
    }

    /// `/proc/[pid]/root` and `cwd` after the pivot: `/`, and nothing outside through them.
    fn proc_link_checks() {
        check_eq!(readlink_text("/proc/1/root").as_deref(), Ok("/"));
        check_eq!(readlink_text("/proc/self/cwd").as_deref(), Ok("/"));
        check_eq!(readlink_text("/proc/self/root").as_deref(), Ok("/"));
        check_eq!(ino("/proc/1/root"), ino("/"));
        // `..` from the root the link lands on stays there.
        check_eq!(ino("/proc/1/root/.."), ino("/"));
        check_eq!(ino("/proc/self/cwd/../.."), ino("/"));
        check!(access_ok("/proc/1/root/hello") && !access_ok("/proc/1/root/tmp"));
        check!(!access_ok("/proc/1/root/../../tmp") && !access_ok("/proc/self/cwd/../tmp"));
    }

    /// The container-runtime sequence (see the module comment).
    fn runtime_sequence() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(ROOT, 0o755));
        let flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | SIGCHLD_EXIT;
        let child = clone_run(flags, || {
            make_rprivate();
            check_eq!(sethostname(b"t-runtime"), Ok(0));
            check_eq!(mount("tmpfs", ROOT, "tmpfs", 0), Ok(0));
            for d in ["proc", "old"] {
                check_ok!(mkdir_p(&alloc::format!("{}/{}", ROOT, d), 0o755));
            }
            check_ok!(create_text(&alloc::format!("{}/hello", ROOT), b"hi\n"));
            check_ok!(symlink("/../../..", &alloc::format!("{}/esc", ROOT)));
            check_ok!(chdir(ROOT));
            match pivot_root(".", "old") {
                Err(ENOSYS) => {
                    println!("SKIP runtime_sequence: pivot_root gives ENOSYS");
                    return;
                }
                r => check_eq!(r, Ok(0)),
            }
            check_ok!(chdir("/"));
            check_eq!(mount("proc", "/proc", "proc", 0), Ok(0));
            check_eq!(umount2("/old", MNT_DETACH), Ok(0));
            runtime_checks();
            check_eq!(hostname(), "t-runtime");
        });
        match child {
            Ok(pid) => check_eq!(wait_exit(pid), Exit::Code(0)),
            Err(e) => println!(
                "SKIP runtime_sequence: clone(NEWNS|NEWPID|NEWUTS) gives {}",
                e
            ),
        }
        check!(hostname() != "t-runtime");
        check!(
            !access_ok(&alloc::format!("{}/hello", ROOT)),
            "the tmpfs went with the child"
        );
        let _ = rmdir(ROOT);
    }

    /// The numeric entries of a proc mount at `dir`, sorted.
    fn pid_entries(dir: &str) -> Vec<i32> {
        let mut v: Vec<i32> = list_dir(dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        v.sort_unstable();
        v
    }

    /// A `proc` mount belongs to the PID container of its mounter: mounted by the init of a
    /// `CLONE_NEWPID` child (sharing the parent's mount tree), it shows that child and its own
    /// child only, also to the parent, while the boot `/proc` still shows the parent. Entries
    /// carry the reader's numbers (containers.md; Linux would show the mounter's numbers, so
    /// the parent's half of this case differs on a Linux host).
    fn proc_belongs_to_mounter() {
        const AT: &str = "/tmp/t_runtime.proc";
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(AT, 0o755));
        let [ready_r, ready_w] = pipe_pair();
        let [done_r, done_w] = pipe_pair();
        let child = clone_run(CLONE_NEWPID | SIGCHLD_EXIT, || {
            close_all(&[ready_r, done_w]);
            let g = check_ok!(clone_run(SIGCHLD_EXIT, || wait_go(done_r)));
            check_eq!(mount("proc", AT, "proc", 0), Ok(0));
            check_eq!(pid_entries(AT), [1, g]);
            send(ready_w, g as i64);
            wait_go(done_r);
            check_eq!(wait_exit(g), Exit::Code(0));
            check_eq!(umount2(AT, 0), Ok(0));
        });
        close_all(&[ready_w, done_r]);
        let Ok(child) = child else {
            println!(
                "SKIP proc_belongs_to_mounter: clone(NEWPID) gives {:?}",
                child
            );
            close_all(&[ready_r, done_w]);
            return;
        };
        check_eq!(recv(ready_r), Some(2), "the child's child is its pid 2");
        let seen = pid_entries(AT);
        check_eq!(seen.len(), 2, "{:?}", seen);
        check!(seen.contains(&child), "{:?} has the child {}", seen, child);
        let me = sys::getpid();
        check!(!seen.contains(&me) && !seen.contains(&1), "{:?}", seen);
        check!(!access_ok(&alloc::format!("{}/{}", AT, me)));
        check!(list_pids().unwrap_or_default().contains(&me));
        close_all(&[done_w]);
        check_eq!(wait_exit(child), Exit::Code(0));
        close_all(&[ready_r]);
        let _ = rmdir(AT);
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            bind_and_rbind,
            detach_keeps_open_files,
            pivot_root_errors,
            runtime_sequence,
            proc_belongs_to_mounter,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
