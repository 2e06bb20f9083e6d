//! Reliability: what the fuzzer found stays fixed, and the limits Linux has hold.
//! `recursive_binds_stop_at_mount_max`: a tree that doubles with every recursive bind (the
//! fuzzer's seed 7 grew one until the kernel heap ran out and the kernel panicked) stops at
//! `/proc/sys/fs/mount-max` with `ENOSPC`, and one detach frees it all. The descriptor
//! table follows `RLIMIT_NOFILE` up to `/proc/sys/fs/nr_open`; `/proc/sys/kernel/threads-max`
//! starts at Linux's value for the memory and a fork beyond it gives `EAGAIN`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use ulib::container::*;
    use ulib::cred::{make_root_private, mount, umount2};
    use ulib::kmem::meminfo_kb;
    use ulib::mnt::{mkdir_p, rmdir};
    use ulib::sys::{self, errno::*};
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ok, println};

    const MS_BIND: usize = 4096;
    const MS_REC: usize = 16384;
    const MNT_DETACH: usize = 2;
    const ENOSPC: i32 = 28;
    const DIR: &str = "/tmp/t_reliab.d";

    /// Runs `f` in a `CLONE_NEWNS` child with an rprivate tree.
    fn in_newns(case: &str, f: impl FnOnce()) {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        check_ok!(mkdir_p(DIR, 0o755));
        match clone_run(CLONE_NEWNS | SIGCHLD_EXIT, || {
            check_eq!(make_root_private(), Ok(0));
            f()
        }) {
            Ok(pid) => check_eq!(wait_exit(pid), Exit::Code(0)),
            Err(e) => println!("SKIP {}: clone(CLONE_NEWNS) gives {}", case, e),
        }
        let _ = rmdir(DIR);
    }

    fn mount_count() -> usize {
        read_text("/proc/self/mounts").map_or(0, |t| t.lines().count())
    }

    fn read_num(path: &str) -> u64 {
        read_text(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }

    /// `prlimit64(0, RLIMIT_NOFILE, new, old)`.
    fn nofile(new: Option<(u64, u64)>) -> sys::SysResult<(u64, u64)> {
        let n = new.map(|(a, b)| [a, b]);
        let mut old = [0u64; 2];
        // SAFETY: pointers to live arrays of two u64s (or NULL).
        sys::check(unsafe {
            sys::syscall4(
                302,
                0,
                7,
                n.as_ref().map_or(0, |n| n.as_ptr() as usize),
                old.as_mut_ptr() as usize,
            )
        })?;
        Ok((old[0], old[1]))
    }

    const F_DUPFD: usize = 0;
    const EMFILE: i32 = 24;

    fn mount_max_is_a_sysctl() {
        check_eq!(read_num("/proc/sys/fs/mount-max"), 100_000);
        check_eq!(write_text("/proc/sys/fs/mount-max", b"0"), Err(EINVAL));
        check_eq!(write_text("/proc/sys/fs/mount-max", b"x"), Err(EINVAL));
        check_eq!(write_text("/proc/sys/fs/mount-max", b"2000\n"), Ok(5));
        check_eq!(read_num("/proc/sys/fs/mount-max"), 2000);
        check_eq!(write_text("/proc/sys/fs/mount-max", b"100000"), Ok(6));
    }

    fn recursive_binds_stop_at_mount_max() {
        check_eq!(write_text("/proc/sys/fs/mount-max", b"3000"), Ok(4));
        in_newns("recursive_binds_stop_at_mount_max", || {
            let max = read_num("/proc/sys/fs/mount-max") as usize;
            let before = mount_count();
            check_eq!(mount("tmpfs", DIR, "tmpfs", 0), Ok(0));
            let x = format!("{}/x", DIR);
            check_ok!(mkdir_p(&x, 0o755));
            // Each bind of DIR with everything below it onto DIR/x doubles the tree.
            let mut last = Ok(0);
            for _ in 0..40 {
                last = mount(DIR, &x, "", MS_BIND | MS_REC);
                if last.is_err() {
                    break;
                }
            }
            check_eq!(last, Err(ENOSPC));
            let full = mount_count();
            check!(full <= max, "{} mounts, mount-max {}", full, max);
            check!(full > max / 2, "{} mounts, mount-max {}", full, max);
            check_eq!(umount2(DIR, MNT_DETACH), Ok(0));
            check_eq!(mount_count(), before);
        });
        check_eq!(write_text("/proc/sys/fs/mount-max", b"100000"), Ok(6));
    }

    fn nofile_follows_rlimit_up_to_nr_open() {
        check_eq!(read_num("/proc/sys/fs/nr_open"), 1 << 20);
        check_eq!(nofile(None), Ok((1024, 4096)));
        let fd = check_ok!(sys::dup(0));
        check_eq!(sys::dup2(fd, 1024), Err(EBADF));
        check_eq!(sys::fcntl(fd, F_DUPFD, 1024), Err(EINVAL));
        check_eq!(nofile(Some((3000, 4096))), Ok((1024, 4096)));
        check_eq!(sys::dup2(fd, 2999), Ok(2999));
        check_eq!(sys::dup2(fd, 3000), Err(EBADF));
        check_eq!(sys::fcntl(fd, F_DUPFD, 2990), Ok(2990));
        check_eq!(sys::close(2999), Ok(0));
        check_eq!(sys::close(2990), Ok(0));
        // Over nr_open: EPERM, even for root.
        check_eq!(nofile(Some((1 << 20, (1 << 20) + 1))), Err(EPERM));
        check_eq!(nofile(Some((1 << 20, 1 << 20))), Ok((3000, 4096)));
        check_eq!(sys::dup2(fd, 1_000_000), Ok(1_000_000));
        check_eq!(sys::close(1_000_000), Ok(0));
        // A lower nr_open caps the limit already set.
        check_eq!(write_text("/proc/sys/fs/nr_open", b"63"), Err(EINVAL));
        check_eq!(write_text("/proc/sys/fs/nr_open", b"2048"), Ok(4));
        check_eq!(sys::dup2(fd, 2048), Err(EBADF));
        check_eq!(sys::dup2(fd, 2047), Ok(2047));
        check_eq!(sys::close(2047), Ok(0));
        check_eq!(write_text("/proc/sys/fs/nr_open", b"1048576"), Ok(7));
        // Filling a small table: EMFILE.
        check_eq!(nofile(Some((64, 64))), Ok((1 << 20, 1 << 20)));
        let mut last = Ok(0);
        for _ in 0..100 {
            last = sys::dup(fd);
            if last.is_err() {
                break;
            }
        }
        check_eq!(last, Err(EMFILE));
        for i in 3..64 {
            if i != fd {
                let _ = sys::close(i);
            }
        }
        check_eq!(sys::close(fd), Ok(0));
    }

    fn threads_max_defaults_from_memory_and_gives_eagain() {
        let mem_kb = read_text("/proc/meminfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .unwrap_or(0);
        // Linux: total RAM / (8 * THREAD_SIZE of 16 KiB).
        let max = read_num("/proc/sys/kernel/threads-max");
        check_eq!(max, mem_kb / 128);
        check_eq!(
            write_text("/proc/sys/kernel/threads-max", b"19"),
            Err(EINVAL)
        );
        check_eq!(write_text("/proc/sys/kernel/threads-max", b"20"), Ok(2));
        let mut kids = alloc::vec::Vec::new();
        let mut last = Ok(0);
        for _ in 0..40 {
            last = sys::fork();
            match last {
                Ok(0) => loop {
                    let _ = sys::nanosleep(&sys::Timespec {
                        tv_sec: 100,
                        tv_nsec: 0,
                    });
                },
                Ok(pid) => kids.push(pid),
                Err(_) => break,
            }
        }
        check_eq!(last, Err(EAGAIN));
        check!(
            kids.len() < 20,
            "{} children under threads-max 20",
            kids.len()
        );
        let s = format!("{}", max);
        check_eq!(
            write_text("/proc/sys/kernel/threads-max", s.as_bytes()),
            Ok(s.len())
        );
        for pid in kids {
            check_eq!(sys::kill(pid, 9), Ok(0));
            check_ok!(sys::waitpid(pid));
        }
    }

    /// `KernelStack` grows by one kernel stack per new process and comes back; `Slab`
    /// (the kernel heap in use) is shown.
    fn meminfo_shows_kernel_stacks_and_slab() {
        check!(meminfo_kb("Slab") > 0, "Slab {} kB", meminfo_kb("Slab"));
        check_eq!(meminfo_kb("SUnreclaim"), meminfo_kb("Slab"));
        let before = meminfo_kb("KernelStack");
        let mut kids = alloc::vec::Vec::new();
        for _ in 0..8 {
            match sys::fork() {
                Ok(0) => loop {
                    let _ = sys::nanosleep(&sys::Timespec {
                        tv_sec: 100,
                        tv_nsec: 0,
                    });
                },
                Ok(pid) => kids.push(pid),
                Err(e) => check_eq!(Err::<i32, i32>(e), Ok(0)),
            }
        }
        let with = meminfo_kb("KernelStack");
        let per = (with - before) / 8;
        check!(
            with - before == per * 8 && per >= 16,
            "KernelStack {} kB -> {} kB for 8 processes",
            before,
            with
        );
        for pid in kids {
            check_eq!(sys::kill(pid, 9), Ok(0));
            check_ok!(sys::waitpid(pid));
        }
        check_eq!(meminfo_kb("KernelStack"), before);
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            mount_max_is_a_sysctl,
            recursive_binds_stop_at_mount_max,
            nofile_follows_rlimit_up_to_nr_open,
            threads_max_defaults_from_memory_and_gives_eagain,
            meminfo_shows_kernel_stacks_and_slab,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
