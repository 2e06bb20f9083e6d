//! The machine running out of memory (tests/oom.rs boots this as init, on its own, with the
//! default 512 MiB): a hog that maps and touches memory until no frame is left is killed by
//! the OOM killer (`SIGKILL`), a process at `oom_score_adj` 1000 goes before a bigger one, a
//! hog at -1000 is never chosen while another process can be, its group's `memory.events`
//! counts the kill, a fork that finds no frame has a process killed and is restarted, init
//! (this program) survives every time and MemFree comes back.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use core::sync::atomic::{AtomicU64, Ordering};
    use ulib::container::{read_text, write_text};
    use ulib::kmem::meminfo_kb;
    use ulib::sys;
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check, check_eq, check_ok, println};

    const CG: &str = "/sys/fs/cgroup";
    /// MemFree (kB) before the first case.
    static START_FREE: AtomicU64 = AtomicU64::new(0);
    const CHUNK: usize = 8 << 20;

    fn set_adj(v: i32) {
        check_ok!(write_text(
            "/proc/self/oom_score_adj",
            format!("{v}").as_bytes()
        ));
    }

    /// Maps and touches `CHUNK`s until it is killed (never returns).
    fn hog() -> ! {
        loop {
            if let Ok(at) = sys::mmap_anon(CHUNK) {
                for off in (0..CHUNK).step_by(4096) {
                    // SAFETY: inside the mapping just made.
                    unsafe { ((at + off) as *mut u8).write_volatile(1) };
                }
            }
        }
    }

    /// A process holding `bytes` of touched memory at `adj`, sleeping until killed; it has
    /// written a byte to `w` when its memory is in place.
    fn holder(bytes: usize, adj: i32, w: i32) -> i32 {
        fork_run(|| {
            set_adj(adj);
            let at = check_ok!(sys::mmap_anon(bytes));
            for off in (0..bytes).step_by(4096) {
                // SAFETY: inside the mapping just made.
                unsafe { ((at + off) as *mut u8).write_volatile(1) };
            }
            let _ = sys::write(w, b"x");
            loop {
                let _ = sys::sleep_ms(1000);
            }
        })
    }

    fn ready(r: i32) {
        let mut b = [0u8; 1];
        check_eq!(sys::read(r, &mut b), Ok(1));
    }

    /// `oom_kill` of the hog's group in cgroup2's `memory.events`.
    fn oom_kills() -> u64 {
        read_text(&format!("{CG}/oomg/memory.events"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill ")?.parse().ok())
            .unwrap_or(u64::MAX)
    }

    fn hog_is_killed_and_memory_comes_back() {
        let free0 = meminfo_kb("MemFree");
        let kills0 = oom_kills();
        let child = fork_run(|| {
            // In a group with no limit of its own (the machine's size): the machine runs
            // out first.
            check_ok!(write_text(
                "/proc/plimits/oomg/plimits.procs",
                format!("{}", sys::getpid()).as_bytes()
            ));
            hog()
        });
        check_eq!(wait_exit(child), Exit::Signal(sys::SIGKILL));
        check_eq!(oom_kills(), kills0 + 1);
        let free1 = meminfo_kb("MemFree");
        println!("oomkill: MemFree {free0} kB before the hog, {free1} kB after");
        check!(free1 + 1024 >= free0, "MemFree {free0} -> {free1} kB");
    }

    fn adj_1000_goes_before_a_bigger_process() {
        let [r, w] = check_ok!(sys::pipe());
        let big = holder(64 << 20, 0, w);
        ready(r);
        let small = holder(4 << 20, 1000, w);
        ready(r);
        let h = fork_run(|| hog());
        // The small one at 1000 goes first, then the hog (the largest at 0).
        check_eq!(wait_exit(small), Exit::Signal(sys::SIGKILL));
        check_eq!(wait_exit(h), Exit::Signal(sys::SIGKILL));
        // The bigger one at 0 was never needed.
        check_eq!(sys::wait4(big, sys::WNOHANG).map(|r| r.0), Ok(0));
        check_ok!(sys::kill(big, sys::SIGKILL));
        check_eq!(wait_exit(big), Exit::Signal(sys::SIGKILL));
        let _ = sys::close(r);
        let _ = sys::close(w);
    }

    fn hog_at_minus_1000_is_not_chosen_while_another_can_be() {
        let [r, w] = check_ok!(sys::pipe());
        let small = holder(4 << 20, 0, w);
        ready(r);
        let h = fork_run(|| {
            set_adj(-1000);
            hog()
        });
        // The small process goes; with nothing else to kill, the hog's own fault fails and
        // kills it.
        check_eq!(wait_exit(small), Exit::Signal(sys::SIGKILL));
        check_eq!(wait_exit(h), Exit::Signal(sys::SIGKILL));
        let _ = sys::close(r);
        let _ = sys::close(w);
    }

    /// A fork when the frames are all in a file: the call fails with `ENOMEM`
    /// inside, the killer takes the holder (init is never chosen) and the fork is restarted
    /// and succeeds.
    fn fork_when_the_machine_is_out_kills_and_is_restarted() {
        let [r, w] = check_ok!(sys::pipe());
        let holder_pid = holder(32 << 20, 0, w);
        ready(r);
        // The root file system (the initramfs's ramfs) has no size limit: its pages are
        // frames until there are none.
        let fd = check_ok!(sys::open(
            c"/oomfill",
            sys::O_WRONLY | sys::O_CREAT | sys::O_CLOEXEC,
            0o600
        ));
        let buf = [7u8; 4096];
        let mut filled = 0usize;
        let err = loop {
            match sys::write(fd, &buf) {
                Ok(n) => filled += n,
                Err(e) => break e,
            }
        };
        println!(
            "oomkill: the file took {} kB before errno {err}",
            filled / 1024
        );
        check_eq!(err, 28); // ENOSPC
        let child = fork_run(|| {});
        check!(child > 0);
        check_eq!(wait_exit(child), Exit::Code(0));
        // Already dead of the killer's SIGKILL (a SIGTERM here would show otherwise).
        let _ = sys::kill(holder_pid, sys::SIGTERM);
        check_eq!(wait_exit(holder_pid), Exit::Signal(sys::SIGKILL));
        let _ = sys::close(fd);
        check_ok!(sys::unlink(c"/oomfill"));
        let _ = sys::close(r);
        let _ = sys::close(w);
    }

    fn init_survives_and_counts_are_back() {
        let (start, free) = (START_FREE.load(Ordering::Relaxed), meminfo_kb("MemFree"));
        println!(
            "oomkill: MemFree {start} kB at the start, {free} kB after the machine ran out four times"
        );
        check!(free + 1024 >= start, "MemFree {start} -> {free} kB");
        check_eq!(
            read_text("/proc/self/oom_score").ok(),
            Some(String::from("0\n"))
        );
    }

    fn main(_args: Args) -> i32 {
        let _ = sys::mkdir(c"/proc", 0o755);
        let _ = sys::mount(c"proc", c"/proc", c"proc", 0);
        let _ = sys::mkdir(c"/sys", 0o755);
        let _ = sys::mount(c"sysfs", c"/sys", c"sysfs", 0);
        let _ = sys::mount(c"none", c"/sys/fs/cgroup", c"cgroup2", 0);
        let _ = write_text(&format!("{CG}/cgroup.subtree_control"), b"+memory");
        let _ = sys::mkdir(c"/proc/plimits/oomg", 0o755);
        START_FREE.store(meminfo_kb("MemFree"), Ordering::Relaxed);
        ulib::test::run(ulib::cases![
            hog_is_killed_and_memory_comes_back,
            adj_1000_goes_before_a_bigger_process,
            hog_at_minus_1000_is_not_chosen_while_another_can_be,
            fork_when_the_machine_is_out_kills_and_is_restarted,
            init_survives_and_counts_are_back,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
