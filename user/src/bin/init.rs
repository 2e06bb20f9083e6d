//! PID 1 for the test suite: mounts /proc, /dev and /dev/shm, runs every program in /tests in
//! name order, each in its own process with a timeout, prints `ok NAME` or `FAILED NAME: reason`
//! per program, the free memory before and after, and `N passed, N failed`; exits 0 if none
//! failed, else 1 (the kernel turns PID 1's exit status into QEMU's).
//!
//! Each line carries the program's wall time (`ok t_mm (3.2 s)`). After each program, as PID 1,
//! init takes back what it left: processes still alive after [`GRACE_MS`] are killed with
//! `kill(-1, SIGKILL)` and reaped, its plimits groups removed, and init waits for every
//! container count to return to the one before it; a program that leaves anything (or times out)
//! is `FAILED` with what it left, and the next one starts clean.
//!
//! Environment (from the kernel command line): `test_timeout=SECS` (default 300: the container stress program runs for tens of seconds under TCG).
//! The programs get init's environment plus `BULKHEAD_INIT=1` when init is PID 1, which tells
//! them orphans are re-parented to this process.
//!
//! Init does not allocate: everything lives in static buffers touched before the first memory
//! reading, so its own footprint does not change between the two readings.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::cell::UnsafeCell;
    use ulib::sys::{self, errno};
    use ulib::{Args, print, println};

    const TESTS_DIR: &str = "/tests";
    const MAX_TESTS: usize = 128;
    const MAX_NAME: usize = 64;
    const MAX_ENV: usize = 64;
    const DEFAULT_TIMEOUT_S: u64 = 300;
    const POLL_MS: u64 = 10;
    /// How long a program's leftover processes get to end on their own after it exits.
    const GRACE_MS: u64 = 2_000;
    /// How long killing and reaping them, and the containers' return, may take.
    const SETTLE_MS: u64 = 10_000;
    /// `__WALL`: also reap children whose exit signal is not `SIGCHLD`.
    const WALL: usize = 0x4000_0000;
    const CONTAINER_TYPES: [&str; 8] =
        ["user", "pid", "uts", "mnt", "ipc", "time", "net", "cgroup"];

    /// Init's static working memory (init is single-threaded; only `main` touches it).
    struct Storage {
        names: [[u8; MAX_NAME]; MAX_TESTS],
        name_lens: [usize; MAX_TESTS],
        count: usize,
        dents: [u8; 4096],
        meminfo: [u8; 4096],
        path: [u8; 128],
        env: [*const u8; MAX_ENV],
    }

    struct Static(UnsafeCell<Storage>);
    // SAFETY: only the single-threaded init touches it.
    unsafe impl Sync for Static {}

    static STORAGE: Static = Static(UnsafeCell::new(Storage {
        names: [[0; MAX_NAME]; MAX_TESTS],
        name_lens: [0; MAX_TESTS],
        count: 0,
        dents: [0; 4096],
        meminfo: [0; 4096],
        path: [0; 128],
        env: [core::ptr::null(); MAX_ENV],
    }));

    fn mount_if_missing(dir: &core::ffi::CStr, fstype: &core::ffi::CStr) {
        let _ = sys::mkdir(dir, 0o755);
        match sys::mount(fstype, dir, fstype, 0) {
            Ok(_) | Err(errno::EBUSY) => {}
            Err(e) => println!("init: mount {:?} on {:?}: errno {}", fstype, dir, e),
        }
    }

    /// Fills `s.names` with the regular files in /tests, sorted by name.
    /// Lists /tests; with arguments, only the programs they name (`--init /init t_fs`).
    fn list_tests(s: &mut Storage, args: &Args) {
        let Storage {
            dents,
            names,
            name_lens,
            count,
            ..
        } = s;
        each_entry(dents, c"/tests", |name, dtype| {
            const DT_UNKNOWN: u8 = 0;
            const DT_REG: u8 = 8;
            let is_file = dtype == DT_REG || dtype == DT_UNKNOWN;
            let wanted = args.argc() <= 1 || (1..args.argc()).any(|i| args.arg(i) == Some(name));
            if name.starts_with(b".")
                || !wanted
                || !is_file
                || name.len() >= MAX_NAME
                || *count == MAX_TESTS
            {
                return;
            }
            names[*count][..name.len()].copy_from_slice(name);
            name_lens[*count] = name.len();
            *count += 1;
        });
        // Insertion sort by name: a handful of entries.
        for i in 1..s.count {
            let mut j = i;
            while j > 0 && s.names[j - 1][..s.name_lens[j - 1]] > s.names[j][..s.name_lens[j]] {
                s.names.swap(j - 1, j);
                s.name_lens.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    /// `MemFree` from /proc/meminfo in kB, read into the static buffer.
    fn mem_free_kb(buf: &mut [u8]) -> Option<u64> {
        let fd = sys::open(c"/proc/meminfo", sys::O_RDONLY | sys::O_CLOEXEC, 0).ok()?;
        let mut len = 0;
        while len < buf.len() {
            match sys::read(fd, &mut buf[len..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
        let _ = sys::close(fd);
        let text = core::str::from_utf8(&buf[..len]).ok()?;
        let line = text.lines().find(|l| l.starts_with("MemFree:"))?;
        line["MemFree:".len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// The live count of container type `t` (`count:` of `/proc/sys/user/max_<t>_container`).
    fn container_count(t: &str) -> Option<u32> {
        let mut path = [0u8; 64];
        let head = b"/proc/sys/user/max_";
        let tail = b"_container\0";
        let n = head.len() + t.len() + tail.len();
        path[..head.len()].copy_from_slice(head);
        path[head.len()..head.len() + t.len()].copy_from_slice(t.as_bytes());
        path[head.len() + t.len()..n].copy_from_slice(tail);
        let path = core::ffi::CStr::from_bytes_until_nul(&path[..n]).ok()?;
        let fd = sys::open(path, sys::O_RDONLY | sys::O_CLOEXEC, 0).ok()?;
        let mut buf = [0u8; 64];
        let len = sys::read(fd, &mut buf).unwrap_or(0);
        let _ = sys::close(fd);
        let text = core::str::from_utf8(&buf[..len]).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("count: "))?
            .trim()
            .parse()
            .ok()
    }

    /// Faults in every page of init's static storage now, so that the first use of a
    /// table entry during the run (the 16th program's name, say) does not show up as a
    /// page missing from the free memory afterwards.
    fn touch_storage(s: &mut Storage) {
        let base = s as *mut Storage as *mut u8;
        let len = core::mem::size_of::<Storage>();
        for off in (0..len).step_by(4096).chain(core::iter::once(len - 1)) {
            // SAFETY: `off < len`, inside the storage we hold the only reference to;
            // the byte is written back unchanged.
            unsafe {
                let p = base.add(off);
                core::ptr::write_volatile(p, core::ptr::read_volatile(p));
            }
        }
    }

    /// Grows the stack to its deepest use now, so later calls do not fault in new stack pages.
    #[inline(never)]
    fn touch_stack() {
        let mut probe = [0u8; 32 * 1024];
        for i in (0..probe.len()).step_by(4096) {
            // SAFETY: in bounds; volatile so the writes are not optimised away.
            unsafe { core::ptr::write_volatile(&mut probe[i], 1) };
        }
        core::hint::black_box(&probe);
    }

    enum Outcome {
        Exited(i32),
        Signaled(i32),
        TimedOut(u64),
        Lost(i32),
    }

    /// Runs /tests/`name` in a child and waits for it, reaping orphans meanwhile.
    fn run_one(s: &mut Storage, name: &[u8], timeout_s: u64) -> Outcome {
        let dir = TESTS_DIR.as_bytes();
        let path_len = dir.len() + 1 + name.len();
        s.path[..dir.len()].copy_from_slice(dir);
        s.path[dir.len()] = b'/';
        s.path[dir.len() + 1..path_len].copy_from_slice(name);
        s.path[path_len] = 0;
        let path =
            core::ffi::CStr::from_bytes_until_nul(&s.path).expect("path is NUL-terminated above");
        let argv = [path.as_ptr().cast::<u8>(), core::ptr::null()];
        let pid = match sys::fork() {
            Ok(0) => {
                let e = sys::execve(path, &argv, &s.env).err().unwrap_or(0);
                println!("init: execve {:?}: errno {}", path, e);
                sys::exit(127)
            }
            Ok(pid) => pid,
            Err(e) => return Outcome::Lost(e),
        };
        let deadline = sys::monotonic_ns() + timeout_s * 1_000_000_000;
        loop {
            match sys::wait4(-1, sys::WNOHANG) {
                Ok((p, status)) if p == pid => {
                    return if sys::wifexited(status) {
                        Outcome::Exited(sys::wexitstatus(status))
                    } else {
                        Outcome::Signaled(sys::wtermsig(status))
                    };
                }
                // An orphan re-parented to init: reaped, keep waiting.
                Ok((p, _)) if p > 0 => continue,
                Ok(_) | Err(errno::EINTR) => {}
                Err(e) => return Outcome::Lost(e),
            }
            if sys::monotonic_ns() >= deadline {
                // Bounded: the clean-up after it kills whatever is left.
                let _ = sys::kill(pid, sys::SIGKILL);
                let until = sys::monotonic_ns() + SETTLE_MS * 1_000_000;
                while sys::monotonic_ns() < until {
                    match sys::wait4(pid, sys::WNOHANG | WALL) {
                        Ok((p, _)) if p == pid => break,
                        Ok(_) | Err(errno::EINTR) => {}
                        Err(_) => break,
                    }
                    let _ = sys::sleep_ms(POLL_MS);
                }
                return Outcome::TimedOut(timeout_s);
            }
            let _ = sys::sleep_ms(POLL_MS);
        }
    }

    /// Reaps every child that has already ended (orphans left behind by a test).
    fn reap_zombies() {
        while let Ok((p, _)) = sys::wait4(-1, sys::WNOHANG | WALL) {
            if p <= 0 {
                break;
            }
        }
    }

    /// Whether no process but init is left (zombies included: `kill` finds them too).
    fn alone() -> bool {
        reap_zombies();
        sys::kill(-1, 0) == Err(errno::ESRCH)
    }

    /// Polls `done` every [`POLL_MS`] for up to `ms`; whether it became true.
    fn poll_until(ms: u64, mut done: impl FnMut() -> bool) -> bool {
        let deadline = sys::monotonic_ns() + ms * 1_000_000;
        loop {
            if done() {
                return true;
            }
            if sys::monotonic_ns() >= deadline {
                return false;
            }
            let _ = sys::sleep_ms(POLL_MS);
        }
    }

    /// Calls `f` with the name and `d_type` of each entry of the directory `dir`, read
    /// through `dents` (init's static buffer). Whether the directory could be opened.
    fn each_entry(dents: &mut [u8], dir: &core::ffi::CStr, mut f: impl FnMut(&[u8], u8)) -> bool {
        let Ok(fd) = sys::open(dir, sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC, 0) else {
            return false;
        };
        loop {
            let n = match sys::getdents64(fd, dents) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut off = 0;
            while off < n {
                let d = &dents[off..n];
                let reclen = u16::from_ne_bytes([d[16], d[17]]) as usize;
                let name = &d[19..reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                f(name, d[18]);
                off += reclen;
            }
        }
        let _ = sys::close(fd);
        true
    }

    /// The processes besides init (numbered directories of /proc other than 1).
    fn other_processes(s: &mut Storage) -> u32 {
        let mut n = 0;
        each_entry(&mut s.dents, c"/proc", |name, _| {
            if !name.is_empty() && name != b"1" && name.iter().all(u8::is_ascii_digit) {
                n += 1;
            }
        });
        n
    }

    /// `/proc/plimits/NAME` as a C string in `buf`.
    fn group_path<'a>(buf: &'a mut [u8; 128], name: &[u8]) -> Option<&'a core::ffi::CStr> {
        let head = b"/proc/plimits/";
        let n = head.len() + name.len();
        if n >= buf.len() {
            return None;
        }
        buf[..head.len()].copy_from_slice(head);
        buf[head.len()..n].copy_from_slice(name);
        buf[n] = 0;
        core::ffi::CStr::from_bytes_until_nul(&buf[..=n]).ok()
    }

    /// The plimits groups besides the root (the directories of /proc/plimits, one level);
    /// with `remove`, each is removed (`rmdir`) and only those that stay are counted. `None`
    /// when /proc/plimits cannot be read.
    fn plimits_groups(s: &mut Storage, remove: bool) -> Option<u32> {
        const DT_DIR: u8 = 4;
        const DT_UNKNOWN: u8 = 0;
        let mut n = 0;
        let opened = each_entry(&mut s.dents, c"/proc/plimits", |name, dtype| {
            let mut buf = [0u8; 128];
            if name == b"." || name == b".." || (dtype != DT_DIR && dtype != DT_UNKNOWN) {
                return;
            }
            let Some(path) = group_path(&mut buf, name) else {
                n += 1;
                return;
            };
            let is_dir = sys::stat(path).is_ok_and(|st| st.st_mode & 0o170000 == 0o040000);
            if is_dir && !(remove && sys::rmdir(path).is_ok()) {
                n += 1;
            }
        });
        opened.then_some(n)
    }

    /// The live count of each container type (`u32::MAX` when unreadable).
    fn container_counts() -> [u32; 8] {
        CONTAINER_TYPES.map(|t| container_count(t).unwrap_or(u32::MAX))
    }

    /// What a program left behind, found (and taken back) after it ended.
    #[derive(Default)]
    struct Leftovers {
        /// Processes alive after the grace period, killed.
        killed: u32,
        /// Processes still there after `kill(-1, SIGKILL)` and [`SETTLE_MS`].
        unkillable: u32,
        /// plimits groups removed, and those that would not go.
        groups_removed: u32,
        groups_stuck: u32,
        /// Containers of each type above the count before the program, after [`SETTLE_MS`].
        containers: [u32; 8],
    }

    impl Leftovers {
        fn any(&self) -> bool {
            self.killed + self.unkillable + self.groups_removed + self.groups_stuck > 0
                || self.containers.iter().any(|&c| c > 0)
        }

        /// `left 2 processes (killed), 1 plimits group (removed), containers pid+1 (not freed)`.
        fn print(&self) {
            print!("left");
            let mut sep = " ";
            let plural = |n: u32| if n == 1 { "" } else { "es" };
            if self.killed > 0 {
                print!(
                    "{}{} process{} (killed)",
                    sep,
                    self.killed,
                    plural(self.killed)
                );
                sep = ", ";
            }
            if self.unkillable > 0 {
                let n = self.unkillable;
                print!("{}{} process{} (alive after SIGKILL)", sep, n, plural(n));
                sep = ", ";
            }
            let groups = |n: u32| if n == 1 { "group" } else { "groups" };
            if self.groups_removed > 0 {
                let n = self.groups_removed;
                print!("{}{} plimits {} (removed)", sep, n, groups(n));
                sep = ", ";
            }
            if self.groups_stuck > 0 {
                let n = self.groups_stuck;
                print!("{}{} plimits {} (not removable)", sep, n, groups(n));
                sep = ", ";
            }
            if self.containers.iter().any(|&c| c > 0) {
                print!("{}containers", sep);
                for (t, &c) in CONTAINER_TYPES.iter().zip(&self.containers) {
                    if c > 0 {
                        print!(" {}+{}", t, c);
                    }
                }
                print!(" (not freed)");
            }
        }
    }

    /// After a program: waits [`GRACE_MS`] for what it left to end, kills what is still there
    /// (`kill(-1, SIGKILL)` until nothing is left: a process forking while the first kill
    /// went round is caught by the next), reaps it, removes its plimits groups and waits for
    /// the container counts to return to `base`. Only as PID 1: elsewhere `kill(-1)` would
    /// reach the caller's own relatives.
    fn take_back(s: &mut Storage, base: &mut [u32; 8]) -> Leftovers {
        let mut left = Leftovers::default();
        if sys::getpid() != 1 {
            poll_until(GRACE_MS, || {
                reap_zombies();
                false
            });
            return left;
        }
        if !poll_until(GRACE_MS, alone) {
            left.killed = other_processes(s);
            let gone = poll_until(SETTLE_MS, || {
                let _ = sys::kill(-1, sys::SIGKILL);
                alone()
            });
            if !gone {
                left.unkillable = other_processes(s).max(1);
            }
        }
        let groups = plimits_groups(s, false).unwrap_or(0);
        if groups > 0 {
            left.groups_stuck = plimits_groups(s, true).unwrap_or(groups);
            left.groups_removed = groups.saturating_sub(left.groups_stuck);
        }
        let mut now = container_counts();
        poll_until(SETTLE_MS, || {
            now = container_counts();
            now.iter().zip(base.iter()).all(|(n, b)| n <= b)
        });
        for i in 0..now.len() {
            left.containers[i] = now[i].saturating_sub(base[i]);
        }
        // What stays is the next program's starting point, not its fault.
        *base = now;
        left
    }

    /// Prints `(12.3 s)` for `ns` nanoseconds.
    fn print_wall(ns: u64) {
        print!("({}.{} s)", ns / 1_000_000_000, ns / 100_000_000 % 10);
    }

    fn main(args: Args) -> i32 {
        // SAFETY: the only reference to the storage, for the whole of init.
        let s = unsafe { &mut *STORAGE.0.get() };
        mount_if_missing(c"/proc", c"proc");
        mount_if_missing(c"/dev", c"devtmpfs");
        mount_if_missing(c"/dev/shm", c"tmpfs");

        let timeout_s = args
            .getenv("test_timeout")
            .and_then(|t| t.parse().ok())
            .unwrap_or(DEFAULT_TIMEOUT_S);
        let mut n_env = 0;
        for e in args.env().take(MAX_ENV - 3) {
            s.env[n_env] = e.as_ptr();
            n_env += 1;
        }
        if sys::getpid() == 1 {
            s.env[n_env] = c"BULKHEAD_INIT=1".as_ptr().cast();
            n_env += 1;
        }
        s.env[n_env] = core::ptr::null();

        list_tests(s, &args);
        println!("init: {} test programs in {}", s.count, TESTS_DIR);
        touch_stack();
        touch_storage(s);
        s.meminfo.fill(0);
        let before = mem_free_kb(&mut s.meminfo);
        let mut base = container_counts();

        let (mut passed, mut failed) = (0, 0);
        for i in 0..s.count {
            let name_buf = s.names[i];
            let name = &name_buf[..s.name_lens[i]];
            let shown = core::str::from_utf8(name).unwrap_or("?");
            let start = sys::monotonic_ns();
            let outcome = run_one(s, name, timeout_s);
            let wall = sys::monotonic_ns().saturating_sub(start);
            let left = take_back(s, &mut base);
            if let (Outcome::Exited(0), false) = (&outcome, left.any()) {
                passed += 1;
                print!("ok {} ", shown);
                print_wall(wall);
                println!();
                continue;
            }
            failed += 1;
            print!("FAILED {} ", shown);
            print_wall(wall);
            print!(": ");
            match outcome {
                Outcome::Exited(code) => print!("exit status {}", code),
                Outcome::Signaled(sig) => print!("killed by signal {}", sig),
                Outcome::TimedOut(t) => print!("timed out after {} s", t),
                Outcome::Lost(e) => print!("could not run it (errno {})", e),
            }
            if left.any() {
                print!("; ");
                left.print();
            }
            println!();
        }

        let after = mem_free_kb(&mut s.meminfo);
        if let (Some(before), Some(after)) = (before, after) {
            println!("init: free memory before={} kB after={} kB", before, after);
        } else {
            println!("init: free memory unknown (no MemFree in /proc/meminfo)");
        }
        // Every container freed: each type is back to its root alone.
        print!("init: live containers");
        for (t, c) in CONTAINER_TYPES.iter().zip(container_counts()) {
            match c {
                u32::MAX => print!(" {}=?", t),
                c => print!(" {}={}", t, c),
            }
        }
        println!();
        // Every plimits group removed: only the root's files are left in /proc/plimits.
        match plimits_groups(s, false) {
            Some(n) => println!("init: plimits groups besides the root: {}", n),
            None => println!("init: plimits groups unknown (/proc/plimits unreadable)"),
        }
        println!("{} passed, {} failed", passed, failed);
        if failed == 0 { 0 } else { 1 }
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
