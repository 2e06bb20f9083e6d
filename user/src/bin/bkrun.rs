//! `bkrun`: runs a command in a new container, the classic runtime sequence (issue 14).
//! `bkrun --help` prints the options; `--verbose` prints each step on stderr.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use super::tty;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use ulib::container::{
        CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER,
        CLONE_NEWUTS, go, pipe_pair, sethostname, unshare, wait_go, write_text,
    };
    use ulib::cred::{
        self, MS_REC, PR_CAP_AMBIENT_RAISE, ambient, bit, bset_drop, capget, capset,
        make_root_private, mount, set_keepcaps, set_no_new_privs, setgroups,
    };
    use ulib::mnt::{MNT_DETACH, MS_BIND, MS_RDONLY, mkdir_p, rmdir, touch};
    use ulib::sys::{self, errno::*};
    use ulib::{Args, eprintln, println};

    const USAGE: &str = "\
Usage: bkrun [OPTIONS] [--] CMD [ARG...]

Runs CMD as PID 1 of new mount, UTS, IPC, PID and cgroup containers (the cgroup one rooted
at the limits group): / made recursively private, the rootfs bound and pivot_root'ed into
(the old root detached), a fresh /proc, /sys with /sys/fs/cgroup (cgroup2, CMD's group as
its root), /dev (null zero random urandom tty console, /dev/shm, a devpts instance on
/dev/pts with /dev/ptmx -> pts/ptmx), /tmp; capabilities
limited, no_new_privs and a seccomp filter set; then execve(CMD). bkrun waits and exits
with CMD's status (128+N when killed by signal N), 125 for its own errors, 126 when CMD
cannot be executed, 127 when it is not found.

Options:
  --rootfs DIR          root of the container (default: a recursive bind of /)
  --hostname NAME       host name inside (default: bkrun)
  --workdir DIR         working directory of CMD (created if missing; default /)
  --env K=V             add to CMD's environment (repeatable)
  --memory BYTES        memory limit (k, m, g suffixes)
  --pids N              at most N processes
  --cpus FRACTION       CPU share, 0.01 to 1 (0.5 = half a CPU)
  --net                 new network container: lo and veth0 inside, its peer veth<N>
                        in the root container (gone with the container)
  --userns              new user container: root inside is the caller outside
                        (the only id mapped; not with --memory, --pids, --cpus)
  -u, --user UID[:GID]  the ids CMD runs as (default 0:0)
  --volume HOST:DEST[:ro]  bind HOST at DEST inside (repeatable)
  --cap-add CAP         add a capability (CAP_X or X; ALL) to Docker's default set
  --cap-drop CAP        remove one (or ALL)
  --seccomp PROFILE     default (Docker's: mount, umount2, pivot_root, chroot, reboot,
                        kexec_load, init_module, finit_module, delete_module, ptrace, setns,
                        unshare, swapon, swapoff, acct, settimeofday, clock_settime and clone
                        with CLONE_NEW* fail with EPERM, clone3 with ENOSYS) or unconfined
  -t, --tty             a pseudo-terminal for CMD: bkrun opens /dev/ptmx (which needs
                        devpts on /dev/pts), CMD is a session leader with the slave as its
                        controlling terminal on fds 0, 1 and 2; bkrun relays its stdin to
                        the master (its end as the EOF character, ^D) and the master's
                        output to its stdout until CMD exits
  --verbose             print each step
  --help                this text
";

    const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const MS_NOSUID: usize = 2;
    const MS_NODEV: usize = 4;
    const MS_NOEXEC: usize = 8;
    const MS_REMOUNT: usize = 32;
    const NR_PIVOT_ROOT: usize = 155;
    const NR_MKNOD: usize = 133;
    const S_IFCHR: usize = 0o020000;

    /// Capability names, by number (capabilities(7)).
    const CAPS: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    const ALL_CAPS: u64 = (1 << CAPS.len()) - 1;

    /// Docker's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
    /// SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
    const DOCKER_CAPS: u64 = (1 << 0)
        | (1 << 1)
        | (1 << 3)
        | (1 << 4)
        | (1 << 5)
        | (1 << 6)
        | (1 << 7)
        | (1 << 8)
        | (1 << 10)
        | (1 << 13)
        | (1 << 18)
        | (1 << 27)
        | (1 << 29)
        | (1 << 31);

    #[derive(Default)]
    struct Opts {
        rootfs: Option<String>,
        hostname: String,
        workdir: String,
        env: Vec<String>,
        memory: Option<u64>,
        pids: Option<u64>,
        /// CPU quota in µs per 100,000 µs period.
        cpus: Option<u64>,
        userns: bool,
        net: bool,
        user: Option<(u32, u32)>,
        volumes: Vec<(String, String, bool)>,
        caps: u64,
        seccomp: bool,
        tty: bool,
        verbose: bool,
        help: bool,
        cmd: Vec<String>,
    }

    fn parse_size(s: &str) -> Option<u64> {
        let (num, mul) = match s.as_bytes().last()? {
            b'k' | b'K' => (&s[..s.len() - 1], 1 << 10),
            b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
            b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
            b'b' | b'B' => (&s[..s.len() - 1], 1),
            _ => (s, 1),
        };
        num.parse::<u64>().ok()?.checked_mul(mul).filter(|&v| v > 0)
    }

    /// "0.5" → 50,000 µs of every 100,000.
    fn parse_cpus(s: &str) -> Option<u64> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 5 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut v = int.parse::<u64>().ok()?.checked_mul(100_000)?;
        let mut scale = 10_000;
        for b in frac.bytes() {
            v += (b - b'0') as u64 * scale;
            scale /= 10;
        }
        (1_000..=100_000).contains(&v).then_some(v)
    }

    fn parse_cap(s: &str) -> Option<u64> {
        let up = s.to_ascii_uppercase();
        let name = up.strip_prefix("CAP_").unwrap_or(&up);
        if name == "ALL" {
            return Some(ALL_CAPS);
        }
        CAPS.iter().position(|c| *c == name).map(|i| 1 << i)
    }

    fn parse(args: &Args) -> Result<Opts, String> {
        let mut o = Opts {
            hostname: "bkrun".into(),
            workdir: "/".into(),
            seccomp: true,
            ..Opts::default()
        };
        let (mut add, mut drop) = (0u64, 0u64);
        let mut i = 1;
        let arg = |i: usize| args.arg_str(i).map(String::from);
        while let Some(a) = arg(i) {
            i += 1;
            if !a.starts_with('-') {
                o.cmd.push(a);
                break;
            }
            if a == "--" {
                break;
            }
            let flag_only = matches!(
                a.as_str(),
                "--userns" | "--net" | "-t" | "--tty" | "--verbose" | "--help" | "-h"
            );
            let val = if flag_only {
                String::new()
            } else {
                let v = arg(i).ok_or_else(|| format!("{a} needs a value"))?;
                i += 1;
                v
            };
            let bad = || format!("bad value for {a}: {val}");
            match a.as_str() {
                "--rootfs" => o.rootfs = Some(val.clone()),
                "--hostname" => o.hostname = val.clone(),
                "--workdir" => o.workdir = val.clone(),
                "--env" => {
                    if !val.contains('=') {
                        return Err(bad());
                    }
                    o.env.push(val.clone());
                }
                "--memory" => o.memory = Some(parse_size(&val).ok_or_else(bad)?),
                "--pids" => o.pids = Some(val.parse().ok().filter(|&n| n > 0).ok_or_else(bad)?),
                "--cpus" => o.cpus = Some(parse_cpus(&val).ok_or_else(bad)?),
                "--userns" => o.userns = true,
                "--net" => o.net = true,
                "-u" | "--user" => {
                    let (u, g) = val.split_once(':').unwrap_or((&val, "0"));
                    o.user = Some((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?));
                }
                "--volume" => {
                    let mut parts = val.split(':');
                    let (h, d) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let ro = match parts.next() {
                        None => false,
                        Some("ro") => true,
                        Some("rw") => false,
                        Some(_) => return Err(bad()),
                    };
                    if !h.starts_with('/') || !d.starts_with('/') || parts.next().is_some() {
                        return Err(bad());
                    }
                    o.volumes.push((h.into(), d.into(), ro));
                }
                "--cap-add" => add |= parse_cap(&val).ok_or_else(bad)?,
                "--cap-drop" => drop |= parse_cap(&val).ok_or_else(bad)?,
                "--seccomp" => {
                    o.seccomp = match val.as_str() {
                        "default" => true,
                        "unconfined" => false,
                        _ => return Err(bad()),
                    }
                }
                "-t" | "--tty" => o.tty = true,
                "--verbose" => o.verbose = true,
                "--help" | "-h" => o.help = true,
                _ => return Err(format!("unknown option {a}")),
            }
        }
        while let Some(a) = arg(i) {
            o.cmd.push(a);
            i += 1;
        }
        o.caps = (DOCKER_CAPS & !drop) | add;
        if o.userns && (o.memory.is_some() || o.pids.is_some() || o.cpus.is_some()) {
            return Err("--userns with --memory, --pids or --cpus is not supported".into());
        }
        if o.userns && o.user.is_some_and(|ids| ids != (0, 0)) {
            return Err("--user with --userns: only root (0:0) is mapped inside".into());
        }
        if o.cmd.is_empty() && !o.help {
            return Err("no command".into());
        }
        Ok(o)
    }

    fn errno_name(e: i32) -> &'static str {
        match e {
            EPERM => "EPERM",
            ENOENT => "ENOENT",
            EACCES => "EACCES",
            EBUSY => "EBUSY",
            EEXIST => "EEXIST",
            EINVAL => "EINVAL",
            ENOMEM => "ENOMEM",
            28 => "ENOSPC",
            20 => "ENOTDIR",
            38 => "ENOSYS",
            30 => "EROFS",
            8 => "ENOEXEC",
            _ => "error",
        }
    }

    /// The error exit of a setup step: one line naming the step and the errno.
    fn fail(step: &str, e: i32) -> ! {
        eprintln!("bkrun: {step}: {} ({e})", errno_name(e));
        sys::exit(125)
    }

    fn cstr(s: &str) -> CString {
        CString::new(s).unwrap_or_default()
    }

    fn step(o: &Opts, what: &str) {
        if o.verbose {
            eprintln!("bkrun: {what}");
        }
    }

    fn plimits_group() -> String {
        format!("/proc/plimits/bkrun.{}", sys::getpid())
    }

    fn main(args: Args) -> i32 {
        let o = match parse(&args) {
            Ok(o) => o,
            Err(m) => {
                eprintln!("bkrun: {m} (bkrun --help lists the options)");
                return 125;
            }
        };
        if o.help {
            println!("{}", USAGE);
            return 0;
        }
        let me = sys::getpid();
        let group = plimits_group();
        let limits = o.memory.is_some() || o.pids.is_some() || o.cpus.is_some();
        // The default rootfs: / bound recursively on a directory of its own.
        let mount_dir = format!("/.bkrun.{me}");
        if o.rootfs.is_none() {
            step(&o, &format!("mkdir {mount_dir}"));
            if let Err(e) = mkdir_p(&mount_dir, 0o700) {
                fail("mkdir for the rootfs", e);
            }
        }
        let pty = if o.tty {
            step(&o, "open /dev/ptmx");
            match tty::open_pair() {
                Ok(p) => Some(p),
                Err(e) => {
                    let _ = rmdir(&mount_dir);
                    fail("pseudo-terminal", e)
                }
            }
        } else {
            None
        };
        let [r, w] = pipe_pair();
        let mut flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | 17;
        let mut names = String::from("CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID");
        if o.userns {
            flags |= CLONE_NEWUSER;
            names.push_str("|CLONE_NEWUSER");
        }
        if o.net {
            flags |= CLONE_NEWNET;
            names.push_str("|CLONE_NEWNET");
        }
        step(&o, &format!("clone({names})"));
        let pid = match ulib::container::clone(flags) {
            Ok(0) => {
                let _ = sys::close(w);
                // Wait until the parent has written the id maps (or closed the pipe).
                wait_go(r);
                let _ = sys::close(r);
                if let Some((master, slave)) = pty {
                    step(&o, "setsid, TIOCSCTTY, the slave on 0 1 2");
                    let _ = sys::close(master);
                    if let Err(e) = tty::become_controlled(slave) {
                        fail("controlling terminal", e);
                    }
                }
                child(&o, me, &mount_dir, limits.then_some(group.as_str()))
            }
            Ok(pid) => pid,
            Err(e) => {
                let _ = rmdir(&mount_dir);
                fail("clone", e)
            }
        };
        let _ = sys::close(r);
        if o.userns {
            step(&o, "uid_map, gid_map");
            let (uid, gid) = (sys::geteuid(), sys::getegid());
            let base = format!("/proc/{pid}");
            let ok = write_text(&format!("{base}/uid_map"), format!("0 {uid} 1").as_bytes())
                .and_then(|_| write_text(&format!("{base}/setgroups"), b"deny"))
                .and_then(|_| {
                    write_text(&format!("{base}/gid_map"), format!("0 {gid} 1").as_bytes())
                });
            if let Err(e) = ok {
                let _ = sys::kill(pid, sys::SIGKILL);
                eprintln!("bkrun: uid_map: {} ({e})", errno_name(e));
            }
        }
        go(w);
        let _ = sys::close(w);
        let status = if let Some((master, slave)) = pty {
            let _ = sys::close(slave);
            let st = tty::relay(master, pid);
            let _ = sys::close(master);
            match st {
                Ok(st) => st,
                Err(e) => fail("wait4", e),
            }
        } else {
            loop {
                match sys::wait4(pid, 0) {
                    Ok((_, st)) => break st,
                    Err(EINTR) => continue,
                    Err(e) => fail("wait4", e),
                }
            }
        };
        step(&o, "cleanup");
        if limits {
            let _ = rmdir(&group);
        }
        // put_old, left in the rootfs when the child failed between making it and
        // pivot_root (the default rootfs shows the host's /).
        let _ = rmdir(&format!(
            "{}/.bkrun-old.{me}",
            o.rootfs.as_deref().unwrap_or("")
        ));
        if o.rootfs.is_none() {
            let _ = rmdir(&mount_dir);
        }
        if sys::wifexited(status) {
            sys::wexitstatus(status)
        } else {
            128 + sys::wtermsig(status)
        }
    }

    /// The container's init: builds its world, then becomes CMD.
    fn child(o: &Opts, host_pid: i32, mount_dir: &str, group: Option<&str>) -> ! {
        if let Some(g) = group {
            step(o, &format!("plimits group {g}"));
            // Only in a mounted /proc: elsewhere mkdir would make a plain directory.
            if let Err(e) = sys::access(c"/proc/plimits/plimits.procs", 0) {
                fail("/proc/plimits (is /proc mounted?)", e);
            }
            if let Err(e) = sys::mkdir(&cstr(g), 0o755) {
                fail("mkdir in /proc/plimits", e);
            }
            let set = |file: &str, v: u64| {
                if let Err(e) = write_text(&format!("{g}/{file}"), v.to_string().as_bytes()) {
                    fail(&format!("write {file}"), e);
                }
            };
            if let Some(m) = o.memory {
                set("memory.limit", m);
            }
            if let Some(n) = o.pids {
                set("pids.max", n);
            }
            if let Some(q) = o.cpus {
                set("sched.period", 100_000);
                set("sched.quota", q);
            }
        }
        // After joining the limits group, so that it is the new container's root: CMD's
        // /proc/self/cgroup reads 0::/ and /sys/fs/cgroup shows its group.
        step(o, "unshare(CLONE_NEWCGROUP)");
        if let Err(e) = unshare(CLONE_NEWCGROUP) {
            fail("unshare(CLONE_NEWCGROUP)", e);
        }
        step(o, "sethostname");
        if let Err(e) = sethostname(o.hostname.as_bytes()) {
            fail("sethostname", e);
        }
        step(o, "mount / rprivate");
        if let Err(e) = make_root_private() {
            fail("make / private", e);
        }
        let root = o.rootfs.clone().unwrap_or_else(|| mount_dir.into());
        let src = o.rootfs.as_deref().unwrap_or("/");
        step(o, &format!("bind {src} on {root}"));
        if let Err(e) = mount(src, &root, "", MS_BIND | MS_REC) {
            fail("bind the rootfs", e);
        }
        for (h, d, ro) in &o.volumes {
            let target = format!("{root}{d}");
            step(
                o,
                &format!("volume {h} on {d}{}", if *ro { " (ro)" } else { "" }),
            );
            if let Err(e) = mkdir_p(&target, 0o755) {
                fail(&format!("mkdir volume {d}"), e);
            }
            if let Err(e) = mount(h, &target, "", MS_BIND | MS_REC) {
                fail(&format!("bind volume {h}"), e);
            }
            if *ro && let Err(e) = mount("", &target, "", MS_BIND | MS_REMOUNT | MS_RDONLY) {
                fail(&format!("read-only volume {d}"), e);
            }
        }
        mount_fs(
            o,
            &format!("{root}/proc"),
            "proc",
            MS_NOSUID | MS_NODEV | MS_NOEXEC,
        );
        let sys_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        mount_fs(o, &format!("{root}/sys"), "sysfs", sys_flags);
        // sysfs has the directory fs/cgroup: the mount's root is the cgroup container's.
        let cg = format!("{root}/sys/fs/cgroup");
        step(o, &format!("mount cgroup2 on {cg}"));
        if let Err(e) = mount("cgroup2", &cg, "cgroup2", sys_flags) {
            fail("mount cgroup2", e);
        }
        mount_fs(o, &format!("{root}/dev"), "tmpfs", MS_NOSUID);
        for (name, major, minor) in [
            ("null", 1, 3),
            ("zero", 1, 5),
            ("full", 1, 7),
            ("random", 1, 8),
            ("urandom", 1, 9),
            ("tty", 5, 0),
            ("console", 5, 1),
        ] {
            let node = format!("{root}/dev/{name}");
            let p = cstr(&node);
            let dev = (major << 8) | minor;
            // SAFETY: a NUL-terminated path.
            let made = sys::check(unsafe {
                sys::syscall3(NR_MKNOD, p.as_ptr() as usize, S_IFCHR | 0o666, dev)
            });
            // In a user container mknod is refused: bind the host's node instead.
            if made == Err(EPERM) {
                let host = format!("/dev/{name}");
                let r = touch(&node).and_then(|_| mount(&host, &node, "", MS_BIND));
                if let Err(e) = r {
                    fail(&format!("bind {host}"), e);
                }
            } else if let Err(e) = made {
                fail(&format!("mknod /dev/{name}"), e);
            }
        }
        mount_fs(o, &format!("{root}/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV);
        // Docker's: the container's own devpts instance, /dev/ptmx a link into it.
        mount_fs(
            o,
            &format!("{root}/dev/pts"),
            "devpts",
            MS_NOSUID | MS_NOEXEC,
        );
        if let Err(e) = tty::symlink("pts/ptmx", &format!("{root}/dev/ptmx")) {
            fail("symlink /dev/ptmx", e);
        }
        mount_fs(o, &format!("{root}/tmp"), "tmpfs", MS_NOSUID | MS_NODEV);
        let old = format!("/.bkrun-old.{host_pid}");
        step(o, &format!("pivot_root {root} {root}{old}"));
        if let Err(e) = mkdir_p(&format!("{root}{old}"), 0o700) {
            fail("mkdir put_old", e);
        }
        let (n, p) = (cstr(&root), cstr(&format!("{root}{old}")));
        // SAFETY: two NUL-terminated paths.
        let r = sys::check(unsafe {
            sys::syscall2(NR_PIVOT_ROOT, n.as_ptr() as usize, p.as_ptr() as usize)
        });
        if let Err(e) = r {
            fail("pivot_root", e);
        }
        if let Err(e) = sys::chdir(c"/") {
            fail("chdir /", e);
        }
        step(o, "detach the old root");
        if let Err(e) = cred::umount2(&old, MNT_DETACH) {
            fail("umount2 the old root", e);
        }
        if let Err(e) = rmdir(&old) {
            fail("rmdir the old root", e);
        }
        step(o, &format!("workdir {}", o.workdir));
        if let Err(e) = mkdir_p(&o.workdir, 0o755).and_then(|_| sys::chdir(&cstr(&o.workdir))) {
            fail("workdir", e);
        }
        set_identity(o);
        step(o, "no_new_privs");
        if let Err(e) = set_no_new_privs() {
            fail("no_new_privs", e);
        }
        if o.seccomp {
            step(o, "seccomp default profile");
            if let Err(e) = ulib::seccomp::install(&ulib::seccomp::default_profile(), 0) {
                fail("seccomp", e);
            }
        }
        exec(o)
    }

    fn mount_fs(o: &Opts, target: &str, fstype: &str, flags: usize) {
        step(o, &format!("mount {fstype} on {target}"));
        if let Err(e) = mkdir_p(target, 0o755) {
            fail(&format!("mkdir {target}"), e);
        }
        if let Err(e) = mount(fstype, target, fstype, flags) {
            fail(&format!("mount {fstype}"), e);
        }
    }

    /// The bounding set (while still root: dropping needs CAP_SETPCAP), the user and group
    /// (keeping the permitted set), then permitted, effective and inheritable, then ambient
    /// (so a non-root CMD keeps them across execve).
    fn set_identity(o: &Opts) {
        step(o, &format!("capabilities {:#x}", o.caps));
        for cap in 0..CAPS.len() as u32 {
            if o.caps & bit(cap) == 0
                && let Err(e) = bset_drop(cap)
            {
                fail("drop from the bounding set", e);
            }
        }
        if let Some((uid, gid)) = o.user {
            step(o, &format!("user {uid}:{gid}"));
            let r = set_keepcaps(true)
                .and_then(|_| setgroups(&[]))
                .and_then(|_| cred::setresgid(gid, gid, gid))
                .and_then(|_| cred::setresuid(uid, uid, uid));
            if let Err(e) = r {
                fail("set user", e);
            }
        }
        let have = capget(0).map(|c| c.permitted).unwrap_or(0);
        let set = o.caps & have;
        let r = capset(cred::Caps {
            effective: set,
            permitted: set,
            inheritable: set,
        });
        if let Err(e) = r {
            fail("capset", e);
        }
        for cap in 0..CAPS.len() as u32 {
            if set & bit(cap) != 0
                && let Err(e) = ambient(PR_CAP_AMBIENT_RAISE, cap)
            {
                fail("raise an ambient capability", e);
            }
        }
    }

    /// execve(CMD), looked up in PATH when it has no `/`: 127 when not found, 126 when it
    /// cannot be executed.
    fn exec(o: &Opts) -> ! {
        let mut env: Vec<String> = Vec::new();
        env.push(format!("PATH={PATH}"));
        env.push(format!("HOSTNAME={}", o.hostname));
        for e in &o.env {
            let key = e.split('=').next().unwrap_or("");
            env.retain(|x| x.split('=').next() != Some(key));
            env.push(e.clone());
        }
        let argv_c: Vec<CString> = o.cmd.iter().map(|a| cstr(a)).collect();
        let env_c: Vec<CString> = env.iter().map(|a| cstr(a)).collect();
        let mut argv: Vec<*const u8> = argv_c.iter().map(|c| c.as_ptr().cast()).collect();
        argv.push(core::ptr::null());
        let mut envp: Vec<*const u8> = env_c.iter().map(|c| c.as_ptr().cast()).collect();
        envp.push(core::ptr::null());
        let cmd = &o.cmd[0];
        let candidates: Vec<String> = if cmd.contains('/') {
            alloc::vec![cmd.clone()]
        } else {
            PATH.split(':').map(|d| format!("{d}/{cmd}")).collect()
        };
        step(o, &format!("execve {cmd}"));
        let mut err = ENOENT;
        for c in &candidates {
            match sys::execve(&cstr(c), &argv, &envp) {
                Err(ENOENT) | Err(20) => {}
                Err(e) => err = e,
                Ok(_) => {}
            }
        }
        eprintln!("bkrun: execve {cmd}: {} ({err})", errno_name(err));
        sys::exit(if err == ENOENT { 127 } else { 126 })
    }

    ulib::entry!(main);
}

#[cfg(target_os = "none")]
#[path = "bkrun/tty.rs"]
mod tty;

#[cfg(not(target_os = "none"))]
fn main() {}
