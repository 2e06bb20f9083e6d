//! PID 1 for the test suite: mounts /proc, /dev and /dev/shm, runs every program in /tests in
//! name order, each in its own process with a timeout, prints `ok NAME` or `FAILED NAME: reason`
//! per program, the free memory before and after, and `N passed, N failed`; exits 0 if none
//! failed, else 1 (the kernel turns PID 1's exit status into QEMU's).
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
    extern crate alloc;
    use core::cell::UnsafeCell;
    use ulib::sys::{self, errno};
    use ulib::{Args, print, println};

    const TESTS_DIR: &str = "/tests";
    const MAX_TESTS: usize = 128;
    const MAX_NAME: usize = 64;
    const MAX_ENV: usize = 64;
    const DEFAULT_TIMEOUT_S: u64 = 300;
    const POLL_MS: u64 = 10;

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
        let Ok(fd) = sys::open(
            c"/tests",
            sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC,
            0,
        ) else {
            return;
        };
        loop {
            let n = match sys::getdents64(fd, &mut s.dents) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut off = 0;
            while off < n {
                // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name...
                let d = &s.dents[off..n];
                let reclen = u16::from_ne_bytes([d[16], d[17]]) as usize;
                let dtype = d[18];
                let name = &d[19..reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                off += reclen;
                const DT_UNKNOWN: u8 = 0;
                const DT_REG: u8 = 8;
                let is_file = dtype == DT_REG || dtype == DT_UNKNOWN;
                let wanted =
                    args.argc() <= 1 || (1..args.argc()).any(|i| args.arg(i) == Some(name));
                if name.starts_with(b".")
                    || !wanted
                    || !is_file
                    || name.len() >= MAX_NAME
                    || s.count == MAX_TESTS
                {
                    continue;
                }
                s.names[s.count][..name.len()].copy_from_slice(name);
                s.name_lens[s.count] = name.len();
                s.count += 1;
            }
        }
        let _ = sys::close(fd);
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
                let _ = sys::kill(pid, sys::SIGKILL);
                let _ = sys::waitpid(pid);
                return Outcome::TimedOut(timeout_s);
            }
            let _ = sys::sleep_ms(POLL_MS);
        }
    }

    /// Reaps every child that has already exited (orphans left behind by a test).
    fn reap_zombies() {
        while let Ok((p, _)) = sys::wait4(-1, sys::WNOHANG) {
            if p == 0 {
                break;
            }
        }
    }

    /// Waits up to `ms` for remaining children (orphans still running) to exit and reaps them.
    fn reap_all(ms: u64) {
        let deadline = sys::monotonic_ns() + ms * 1_000_000;
        loop {
            match sys::wait4(-1, sys::WNOHANG) {
                Ok((0, _)) if sys::monotonic_ns() < deadline => {
                    let _ = sys::sleep_ms(POLL_MS);
                }
                Ok((p, _)) if p > 0 => {}
                Err(errno::EINTR) => {}
                _ => return,
            }
        }
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

        let (mut passed, mut failed) = (0, 0);
        for i in 0..s.count {
            let name_buf = s.names[i];
            let name = &name_buf[..s.name_lens[i]];
            let shown = core::str::from_utf8(name).unwrap_or("?");
            match run_one(s, name, timeout_s) {
                Outcome::Exited(0) => {
                    passed += 1;
                    println!("ok {}", shown);
                }
                outcome => {
                    failed += 1;
                    match outcome {
                        Outcome::Exited(code) => println!("FAILED {}: exit status {}", shown, code),
                        Outcome::Signaled(sig) => {
                            println!("FAILED {}: killed by signal {}", shown, sig)
                        }
                        Outcome::TimedOut(t) => {
                            println!("FAILED {}: timed out after {} s", shown, t)
                        }
                        Outcome::Lost(e) => {
                            println!("FAILED {}: could not run it (errno {})", shown, e)
                        }
                    }
                }
            }
            reap_zombies();
        }
        reap_all(2000);

        let after = mem_free_kb(&mut s.meminfo);
        if let (Some(before), Some(after)) = (before, after) {
            println!("init: free memory before={} kB after={} kB", before, after);
        } else {
            println!("init: free memory unknown (no MemFree in /proc/meminfo)");
        }
        // Every container freed: each type is back to its root alone.
        print!("init: live containers");
        for t in ["user", "pid", "uts", "mnt", "ipc", "time", "net", "cgroup"] {
            match container_count(t) {
                Some(c) => print!(" {}={}", t, c),
                None => print!(" {}=?", t),
            }
        }
        println!();
        // Every plimits group removed: only the root's files are left in /proc/plimits.
        match ulib::container::list_dir("/proc/plimits") {
            Ok(names) => {
                let groups = names
                    .iter()
                    .filter(|n| {
                        ulib::container::stat_path(&alloc::format!("/proc/plimits/{}", n))
                            .is_ok_and(|st| st.st_mode & 0o170000 == 0o040000)
                    })
                    .count();
                println!("init: plimits groups besides the root: {}", groups);
            }
            Err(e) => println!("init: plimits groups unknown (/proc/plimits: errno {})", e),
        }
        println!("{} passed, {} failed", passed, failed);
        if failed == 0 { 0 } else { 1 }
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
