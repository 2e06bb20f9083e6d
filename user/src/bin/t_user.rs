//! User containers (issue 5): LiteOS-A's It_user_container_001–007, ported as containers.md says
//! (user_002/003 keep their capabilities across `setuid(1001)` with `PR_SET_KEEPCAPS` + `capset`;
//! children cloned without SIGCHLD are reaped with `__WALL`; the over-limit errno is ENOSPC), and
//! the Linux rules of user_namespaces(7): every `uid_map`/`gid_map`/`setgroups` write rule with its
//! errno, unmapped ids reading 65534, id translation across two levels (getuid, `stat` owners,
//! `/proc/[pid]/status`, map read-back), `setns` rules and the capabilities it gives, ownership of
//! UTS containers created with or after a user container, nesting depth, and teardown.
//!
//! The program stays root with every capability; changes happen in children. Linux is the
//! oracle (the program runs unchanged on a Linux host as root). Bulkhead-only expectations,
//! skipped with a note on Linux: `/proc/[pid]/container/user` (Linux: `/proc/[pid]/ns/user`),
//! `/proc/sys/user/max_user_container` (user_006, user_007, teardown counts), and LiteOS-A's
//! depth limit (levels 0..3, level 4 → ENOSPC; Linux allows 32 levels).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::cred::*;
    use ulib::sys::{self, errno::*};
    use ulib::test::{Exit, case_failed, on_bulkhead};
    use ulib::{Args, check, check_eq, check_ne, check_ok, println};

    /// The five extents of LiteOS-A's user_002/003.
    const FIVE: &str = "0 1000 1\n1 1001 1\n2 1002 1\n3 1003 1\n4 1004 1\n";

    fn s(pid: i32) -> String {
        format!("{}", pid)
    }

    /// The user link of `pid`: LiteOS-A's `/proc/[pid]/container/user` on Bulkhead, Linux's
    /// `/proc/[pid]/ns/user` elsewhere.
    fn user_link_path(pid: &str) -> String {
        if on_bulkhead() {
            container_path(pid, "user")
        } else {
            ns_path(pid, "user")
        }
    }

    fn user_link(pid: &str) -> String {
        readlink_text(&user_link_path(pid)).unwrap_or_default()
    }

    /// A child that waits for [`Held::release`] before running its body.
    struct Held {
        pid: i32,
        go_w: i32,
    }

    impl Held {
        /// `clone(flags|SIGCHLD)`; the child blocks until released, then runs `f` and exits
        /// with the code it returns.
        fn spawn(flags: usize, f: impl FnOnce() -> i32) -> SysResultI<Held> {
            let [r, w] = pipe_pair();
            let pid = clone_code(flags | SIGCHLD_EXIT, || {
                let _ = sys::close(w);
                // The read end stays open, so a second "go" never meets a closed pipe.
                wait_go(r);
                f()
            });
            let _ = sys::close(r);
            match pid {
                Ok(pid) => Ok(Held { pid, go_w: w }),
                Err(e) => {
                    let _ = sys::close(w);
                    Err(e)
                }
            }
        }

        /// As [`Held::spawn`] for a body that reports through checks (exit 0 when none failed).
        fn spawn_checks(flags: usize, f: impl FnOnce()) -> SysResultI<Held> {
            Held::spawn(flags, || {
                f();
                if case_failed() { 1 } else { 0 }
            })
        }

        fn p(&self) -> String {
            s(self.pid)
        }

        /// Lets the child run its body and waits for it.
        fn release(self) -> Exit {
            go(self.go_w);
            let _ = sys::close(self.go_w);
            wait_exit(self.pid)
        }
    }

    type SysResultI<T> = Result<T, i32>;

    fn in_child(f: impl FnOnce()) {
        let pid = ulib::test::fork_run(f);
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn write_map(pid: &str, file: &str, text: &str) -> SysResultI<usize> {
        write_proc(pid, file, text)
    }

    /// Writes `0 0 1` into both maps of `pid` (the creator's root ids, mapped to 0).
    fn map_root(pid: &str) -> SysResultI<()> {
        write_map(pid, "uid_map", "0 0 1\n")?;
        write_map(pid, "gid_map", "0 0 1\n")?;
        Ok(())
    }

    fn read_map(pid: &str, file: &str) -> Option<Vec<(u32, u32, u32)>> {
        parse_map(&read_text(&proc_path(pid, file)).ok()?)
    }

    // -----------------------------------------------------------------------------------------
    // LiteOS-A's cases

    // LiteOS-A: It_user_container_001
    /// `clone(CLONE_NEWUSER)` (no SIGCHLD) child returns 2; the parent reaps exit code 2.
    fn user_001_clone_newuser_exit_code() {
        let pid = check_ok!(clone_code(CLONE_NEWUSER, || 2));
        check!(pid > 0);
        let (got, status) = check_ok!(wait_all(pid));
        check_eq!(got, pid);
        check_eq!(Exit::from_status(status), Exit::Code(2));
    }

    // LiteOS-A: It_user_container_002
    /// The test process becomes uid/gid 1001 (port: PR_SET_KEEPCAPS + capset keep its
    /// capabilities, which LiteOS-A never drops; done in a child so the program stays root).
    /// It clones a NEWUSER child and writes the child's uid_map and gid_map with five extents
    /// (the write returns the full length). The child sees uid 1 and gid 1, setuid(4) and
    /// setgid(4) work and read back, it exits 255. The parent stays 1001/1001.
    fn user_002_parent_writes_child_maps() {
        in_child(|| {
            check_eq!(become_user_keeping_caps(1001, 1001), Ok(0));
            let b = check_ok!(Held::spawn(CLONE_NEWUSER, || {
                let mut bad = 0;
                bad |= (sys::getuid() != 1) as i32;
                bad |= (sys::getgid() != 1) as i32;
                bad |= (setuid(4) != Ok(0)) as i32;
                bad |= (sys::getuid() != 4) as i32;
                bad |= (setgid(4) != Ok(0)) as i32;
                bad |= (sys::getgid() != 4) as i32;
                if bad == 0 { 255 } else { 1 }
            }));
            check_eq!(write_map(&b.p(), "uid_map", FIVE), Ok(FIVE.len()));
            check_eq!(write_map(&b.p(), "gid_map", FIVE), Ok(FIVE.len()));
            let want: Vec<_> = (0..5).map(|i| (i, 1000 + i, 1)).collect();
            check_eq!(read_map(&b.p(), "uid_map"), Some(want.clone()));
            check_eq!(read_map(&b.p(), "gid_map"), Some(want));
            check_eq!(b.release(), Exit::Code(255));
            check_eq!((sys::getuid(), sys::getgid()), (1001, 1001));
        });
    }

    // LiteOS-A: It_user_container_003
    /// A plain child becomes uid/gid 1001 (PR_SET_KEEPCAPS + capset), unshares
    /// CLONE_NEWUSER, and its uid_map and gid_map get the five extents; then getuid/getgid read
    /// 1 and setuid/setgid(4) work and read back (exit 255).
    ///
    /// Port changes beyond containers.md's table (which says "open uid_map/gid_map before
    /// unshare"), both Linux rules: a map file opened before the unshare names the container
    /// the process was in *at open time* (the root one, whose map is set: EPERM), and after the
    /// unshare the child no longer holds CAP_SETUID in the parent container, so its own write of
    /// five extents is EPERM (user_namespaces(7) rule 7). So a helper forked before the unshare,
    /// still in the parent container with the capabilities, writes the maps.
    fn user_003_unshare_then_maps() {
        let pid = check_ok!(clone_code(SIGCHLD_EXIT, || {
            if become_user_keeping_caps(1001, 1001) != Ok(0) {
                return 2;
            }
            let me = s(sys::getpid());
            let Ok(early) = open_path(&proc_path(&me, "uid_map"), sys::O_WRONLY) else {
                return 3;
            };
            let [r, w] = pipe_pair();
            let [r2, w2] = pipe_pair();
            let me2 = me.clone();
            let helper = ulib::test::fork_run(|| {
                let _ = sys::close(w);
                let _ = sys::close(r2);
                wait_go(r);
                check_eq!(write_map(&me2, "uid_map", FIVE), Ok(FIVE.len()));
                check_eq!(write_map(&me2, "gid_map", FIVE), Ok(FIVE.len()));
                go(w2);
            });
            close_all(&[r, w2]);
            if unshare(CLONE_NEWUSER) != Ok(0) {
                return 4;
            }
            let early_write = sys::write(early, FIVE.as_bytes());
            let own = write_map("self", "uid_map", FIVE);
            go(w);
            wait_go(r2);
            let helper_ok = wait_exit(helper) == Exit::Code(0);
            let mut bad = 0;
            bad |= (early_write != Err(EPERM)) as i32;
            bad |= (own != Err(EPERM)) as i32;
            bad |= !helper_ok as i32;
            bad |= (sys::getuid() != 1) as i32;
            bad |= (sys::getgid() != 1) as i32;
            bad |= (setuid(4) != Ok(0)) as i32;
            bad |= (sys::getuid() != 4) as i32;
            bad |= (setgid(4) != Ok(0)) as i32;
            bad |= (sys::getgid() != 4) as i32;
            if bad == 0 {
                255
            } else {
                println!(
                    "  user_003 child: write through the fd opened before unshare {:?}, own \
                     write {:?}, helper ok {}, uid {} gid {}",
                    early_write,
                    own,
                    helper_ok,
                    sys::getuid(),
                    sys::getgid()
                );
                5
            }
        }));
        check_eq!(wait_exit(pid), Exit::Code(255));
    }

    // LiteOS-A: It_user_container_004
    /// Child A clones NEWUSER B; A's setns to B's user link works and A's user link changes to
    /// B's; A then holds the full set inside B.
    fn user_004_setns_into_child() {
        in_child(|| {
            let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {}));
            let target = user_link(&b.p());
            let old = user_link("self");
            check_ne!(target, old);
            let fd = check_ok!(open_path(&user_link_path(&b.p()), sys::O_RDONLY));
            check_eq!(setns(fd, CLONE_NEWUSER), Ok(0));
            check_eq!(user_link("self"), target);
            check_eq!(caps(), Caps::ep(full_set()));
            let _ = sys::close(fd);
            check_eq!(b.release(), Exit::Code(0));
        });
    }

    // LiteOS-A: It_user_container_005 (full)
    /// A NEWUSER process makes and reaps 1000 NEWUSER children (each exits 255): containers are
    /// freed (with limit 10 a leak would make a later clone fail). Port: the parent first maps
    /// the process's uid and gid 0 (Linux creates a user container only for a creator whose ids
    /// are mapped in its own).
    fn user_005_thousand_clones() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            for i in 0..1000 {
                let c = clone_code(CLONE_NEWUSER, || 255);
                check!(c.is_ok(), "clone {}: {:?}", i, c);
                let Ok(c) = c else { return };
                check_eq!(wait_exit(c), Exit::Code(255), "child {}", i);
            }
        }));
        check_eq!(map_root(&b.p()), Ok(()));
        check_eq!(b.release(), Exit::Code(0));
    }

    // LiteOS-A: It_user_container_006
    /// Limit test (clone) on max_user_container; `clone(CLONE_NEWUSER)` without SIGCHLD.
    fn user_006_limit_clone() {
        if !on_bulkhead() {
            println!("  (Bulkhead only: max_user_container)");
            return;
        }
        limit_test_clone("user", CLONE_NEWUSER, 0);
    }

    // LiteOS-A: It_user_container_007
    /// Limit test (unshare) on max_user_container (LiteOS-A accepts any failure; Bulkhead
    /// gives ENOSPC).
    fn user_007_limit_unshare() {
        if !on_bulkhead() {
            println!("  (Bulkhead only: max_user_container)");
            return;
        }
        limit_test_unshare("user", CLONE_NEWUSER);
    }

    // -----------------------------------------------------------------------------------------
    // Maps and ids

    /// /proc/sys/kernel/overflowuid and overflowgid read 65534.
    fn overflow_ids_files() {
        check_eq!(
            read_text("/proc/sys/kernel/overflowuid").as_deref(),
            Ok("65534\n")
        );
        check_eq!(
            read_text("/proc/sys/kernel/overflowgid").as_deref(),
            Ok("65534\n")
        );
    }

    /// The root user container's maps are one extent `0 0 4294967295` in Linux's format
    /// (`%10u %10u %10u\n`), setgroups reads "allow", and its maps cannot be written (EPERM).
    fn root_container_maps() {
        let line = map_line(0, 0, u32::MAX);
        check_eq!(read_text("/proc/self/uid_map"), Ok(line.clone()));
        check_eq!(read_text("/proc/self/gid_map"), Ok(line));
        check_eq!(read_text("/proc/self/setgroups").as_deref(), Ok("allow\n"));
        check_eq!(write_map("self", "uid_map", "0 0 1\n"), Err(EPERM));
        check_eq!(write_map("self", "gid_map", "0 0 1\n"), Err(EPERM));
    }

    /// Right after clone(CLONE_NEWUSER), before any map: every id reads 65534 (getuid family,
    /// getresuid/getresgid, fsuid, /proc/self/status, stat owners of root's files); the maps
    /// read empty; the child holds the full capability set; setuid(0) is EINVAL (unmapped).
    fn unmapped_ids_read_overflow() {
        let o = OVERFLOW_ID;
        let pid = check_ok!(clone_run(CLONE_NEWUSER | SIGCHLD_EXIT, || {
            check_eq!(
                (sys::getuid(), sys::geteuid(), sys::getgid(), sys::getegid()),
                (o, o, o, o)
            );
            check_eq!(getresuid(), Ok((o, o, o)));
            check_eq!(getresgid(), Ok((o, o, o)));
            check_eq!(fsuid(), o);
            check_eq!(status_ids("self", "Uid"), Some([o; 4]));
            check_eq!(status_ids("self", "Gid"), Some([o; 4]));
            let st = check_ok!(stat_path("/"));
            check_eq!((st.st_uid, st.st_gid), (o, o));
            check_eq!(read_text("/proc/self/uid_map").as_deref(), Ok(""));
            check_eq!(read_text("/proc/self/gid_map").as_deref(), Ok(""));
            check_eq!(read_text("/proc/self/setgroups").as_deref(), Ok("allow\n"));
            check_eq!(caps(), Caps::ep(full_set()));
            check_eq!(setuid(0), Err(EINVAL));
            check_eq!(setgid(0), Err(EINVAL));
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// A map is written once: the first write works and reads back, a second → EPERM (also for
    /// gid_map). Failed (EINVAL) writes do not use up the one write.
    fn map_written_once() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            check_eq!(sys::getuid(), 0);
            check_eq!(sys::getgid(), 0);
        }));
        let p = b.p();
        check_eq!(write_map(&p, "uid_map", "abc\n"), Err(EINVAL));
        check_eq!(write_map(&p, "uid_map", "0 0 1\n"), Ok(6));
        check_eq!(read_map(&p, "uid_map"), Some(alloc::vec![(0, 0, 1)]));
        check_eq!(read_text(&proc_path(&p, "uid_map")), Ok(map_line(0, 0, 1)));
        check_eq!(write_map(&p, "uid_map", "0 0 1\n"), Err(EPERM));
        check_eq!(write_map(&p, "uid_map", "1 1 1\n"), Err(EPERM));
        check_eq!(write_map(&p, "gid_map", "0 0 1\n"), Ok(6));
        check_eq!(write_map(&p, "gid_map", "5 5 1\n"), Err(EPERM));
        check_eq!(read_map(&p, "gid_map"), Some(alloc::vec![(0, 0, 1)]));
        check_eq!(b.release(), Exit::Code(0));
    }

    /// Text that is not `inside outside count` lines → EINVAL: letters, too few or too many
    /// fields, an empty line, a negative number, count 0, an id of 4294967295, ranges that
    /// wrap, a write at an offset other than 0, a write of a page or more.
    fn map_bad_text_einval() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {}));
        let p = b.p();
        for bad in [
            "abc\n",
            "0 1000\n",
            "0 1000 1 4\n",
            "\n",
            "0 -1 1\n",
            "0 1000 0\n",
            "4294967295 0 1\n",
            "0 4294967295 1\n",
            "4294967290 0 10\n",
            "0 4294967290 10\n",
            "0x10 1000 1\n",
            "0 1000 1\nzz\n",
        ] {
            check_eq!(
                write_map(&p, "uid_map", bad),
                Err(EINVAL),
                "uid_map {:?}",
                bad
            );
            check_eq!(
                write_map(&p, "gid_map", bad),
                Err(EINVAL),
                "gid_map {:?}",
                bad
            );
        }
        let fd = check_ok!(open_path(&proc_path(&p, "uid_map"), sys::O_WRONLY));
        let text = b"0 1000 1\n";
        // SAFETY: a buffer of `text.len()` bytes; pwrite64 (18) at offset 1.
        let r = sys::check(unsafe {
            sys::syscall4(18, fd as usize, text.as_ptr() as usize, text.len(), 1)
        });
        // The map files are not seekable for pwrite (Linux: ESPIPE); after lseek a write
        // at an offset other than 0 is EINVAL.
        check_eq!(r, Err(ESPIPE), "pwrite at offset 1");
        check_eq!(sys::lseek(fd, 1, sys::SEEK_SET), Ok(1));
        check_eq!(sys::write(fd, text), Err(EINVAL), "write at offset 1");
        check_ok!(sys::lseek(fd, 0, sys::SEEK_SET));
        let mut page = alloc::vec![b' '; 4096];
        page[..9].copy_from_slice(text);
        check_eq!(sys::write(fd, &page), Err(EINVAL), "a whole page");
        let _ = sys::close(fd);
        check_eq!(read_text(&proc_path(&p, "uid_map")).as_deref(), Ok(""));
        // Nothing was used up: a good map still goes in.
        check_eq!(write_map(&p, "uid_map", " 0   1000 1 \n"), Ok(13));
        check_eq!(read_map(&p, "uid_map"), Some(alloc::vec![(0, 1000, 1)]));
        check_eq!(b.release(), Exit::Code(0));
    }

    /// Extents may not overlap on either side (EINVAL); adjacent ones are fine.
    fn map_overlapping_extents_einval() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {}));
        let p = b.p();
        for bad in [
            "0 1000 10\n5 2000 1\n",
            "0 1000 10\n20 1005 1\n",
            "0 1000 10\n0 3000 10\n",
            "5 1000 1\n0 2000 10\n",
        ] {
            check_eq!(write_map(&p, "uid_map", bad), Err(EINVAL), "{:?}", bad);
        }
        let good = "0 1000 10\n10 1010 10\n";
        check_eq!(write_map(&p, "uid_map", good), Ok(good.len()));
        check_eq!(
            read_map(&p, "uid_map"),
            Some(alloc::vec![(0, 1000, 10), (10, 1010, 10)])
        );
        check_eq!(b.release(), Exit::Code(0));
    }

    /// Up to 340 extents: 341 lines → EINVAL; 340 work and read back line by line in Linux's
    /// format.
    fn map_340_extents() {
        let lines = |n: u32| {
            let mut t = String::new();
            for i in 0..n {
                t.push_str(&format!("{} {} 1\n", i, 1000 + i));
            }
            t
        };
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            check_eq!(sys::getuid(), OVERFLOW_ID);
            check_eq!(setuid(339), Ok(0));
            check_eq!(sys::getuid(), 339);
        }));
        let p = b.p();
        let t341 = lines(341);
        check!(t341.len() < 4096);
        check_eq!(write_map(&p, "uid_map", &t341), Err(EINVAL));
        let t340 = lines(340);
        check_eq!(write_map(&p, "uid_map", &t340), Ok(t340.len()));
        let text = read_text(&proc_path(&p, "uid_map")).unwrap_or_default();
        let want: String = (0..340).map(|i| map_line(i, 1000 + i, 1)).collect();
        check_eq!(text.len(), want.len());
        check!(text == want, "the read-back differs");
        check_eq!(b.release(), Exit::Code(0));
    }

    /// An unprivileged writer (uid 1000, no capabilities) that created the container may map
    /// only its own id, one line with count 1 (else EPERM); its gid_map needs setgroups
    /// "deny" first (EPERM before); setgroups cannot go back to "allow" (EPERM) and rejects
    /// other text (EINVAL); inside, setgroups(2) is EPERM and unmapped ids EINVAL.
    fn unprivileged_writer_maps_only_its_own_id() {
        in_child(|| {
            check_eq!(become_user(1000), Ok(0));
            check_eq!(caps(), Caps::ep(0));
            let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
                check_eq!((sys::getuid(), sys::getgid()), (0, 0));
                check_eq!(caps(), Caps::ep(full_set()));
                check_eq!(setgroups(&[]), Err(EPERM), "setgroups is denied");
                check_eq!(setuid(1), Err(EINVAL));
                check_eq!(setuid(0), Ok(0));
                check_eq!(setgid(0), Ok(0));
            }));
            let p = b.p();
            check_eq!(write_map(&p, "uid_map", "0 1001 1\n"), Err(EPERM));
            check_eq!(write_map(&p, "uid_map", "0 1000 2\n"), Err(EPERM));
            check_eq!(write_map(&p, "uid_map", "0 1000 1\n1 1001 1\n"), Err(EPERM));
            check_eq!(write_map(&p, "uid_map", "0 1000 1\n"), Ok(9));
            check_eq!(
                write_map(&p, "gid_map", "0 1000 1\n"),
                Err(EPERM),
                "setgroups allowed"
            );
            check_eq!(write_map(&p, "setgroups", "maybe"), Err(EINVAL));
            check_eq!(write_map(&p, "setgroups", "deny"), Ok(4));
            check_eq!(
                read_text(&proc_path(&p, "setgroups")).as_deref(),
                Ok("deny\n")
            );
            check_eq!(write_map(&p, "setgroups", "allow"), Err(EPERM));
            check_eq!(write_map(&p, "gid_map", "0 1001 1\n"), Err(EPERM));
            check_eq!(write_map(&p, "gid_map", "0 1000 2\n"), Err(EPERM));
            check_eq!(write_map(&p, "gid_map", "0 1000 1\n"), Ok(9));
            check_eq!(
                read_text(&proc_path(&p, "setgroups")).as_deref(),
                Ok("deny\n")
            );
            check_eq!(b.release(), Exit::Code(0));
        });
        // The same through unshare, writing its own files.
        in_child(|| {
            check_eq!(become_user(1000), Ok(0));
            check_eq!(unshare(CLONE_NEWUSER), Ok(0));
            check_eq!(sys::getuid(), OVERFLOW_ID);
            check_eq!(write_map("self", "uid_map", "0 1001 1\n"), Err(EPERM));
            check_eq!(write_map("self", "uid_map", "0 1000 1\n"), Ok(9));
            check_eq!(write_map("self", "gid_map", "0 1000 1\n"), Err(EPERM));
            check_eq!(write_map("self", "setgroups", "deny\n"), Ok(5));
            check_eq!(write_map("self", "gid_map", "0 1000 1\n"), Ok(9));
            check_eq!((sys::getuid(), sys::getgid()), (0, 0));
            // gid_map is written: setgroups can no longer change, even to "deny".
            check_eq!(write_map("self", "setgroups", "deny"), Err(EPERM));
        });
        // A privileged writer may not deny setgroups after gid_map is written either.
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            check_eq!(setgroups(&[]), Ok(0), "setgroups is allowed");
        }));
        check_eq!(write_map(&b.p(), "gid_map", "0 0 1\n"), Ok(6));
        check_eq!(write_map(&b.p(), "setgroups", "deny"), Err(EPERM));
        check_eq!(write_map(&b.p(), "uid_map", "0 0 1\n"), Ok(6));
        check_eq!(b.release(), Exit::Code(0));
    }

    /// A writer without CAP_SETUID (CAP_SETGID) in the parent user container may not write
    /// several ids (EPERM); the opener's capabilities count too: a file opened without the
    /// capability cannot be written after regaining it, nor one opened with it by a writer
    /// without it.
    fn writer_without_cap_setuid_eperm() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {}));
        let p = b.p();
        in_child(|| {
            check_eq!(drop_caps(bit(CAP_SETUID) | bit(CAP_SETGID)), Ok(0));
            check_eq!(write_map(&p, "uid_map", "0 1000 5\n"), Err(EPERM));
            check_eq!(write_map(&p, "gid_map", "0 1000 5\n"), Err(EPERM));
        });
        // Opened with the capability, written by a process without it.
        let fd = check_ok!(open_path(&proc_path(&p, "uid_map"), sys::O_WRONLY));
        in_child(|| {
            check_eq!(drop_cap(CAP_SETUID), Ok(0));
            check_eq!(sys::write(fd, b"0 1000 5\n"), Err(EPERM));
        });
        let _ = sys::close(fd);
        // Opened while CAP_SETUID was out of effective, written after raising it again.
        in_child(|| {
            let c = caps();
            check_eq!(
                capset(Caps {
                    effective: c.effective & !bit(CAP_SETUID),
                    ..c
                }),
                Ok(0)
            );
            let fd = check_ok!(open_path(&proc_path(&p, "uid_map"), sys::O_WRONLY));
            check_eq!(raise_effective(), Ok(0));
            check_eq!(sys::write(fd, b"0 1000 5\n"), Err(EPERM));
            let _ = sys::close(fd);
        });
        check_eq!(read_text(&proc_path(&p, "uid_map")).as_deref(), Ok(""));
        check_eq!(write_map(&p, "uid_map", "0 1000 5\n"), Ok(9));
        check_eq!(write_map(&p, "gid_map", "0 1000 5\n"), Ok(9));
        check_eq!(b.release(), Exit::Code(0));
    }

    /// The writer must be in the target's user container or its parent (a grandparent →
    /// EPERM), and the outside ids must be mapped in the parent container (EPERM otherwise).
    fn writer_in_parent_and_ids_mapped_in_parent() {
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let b1 = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            let _ = sys::close(r);
            let _ = sys::close(w2);
            let b2 = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
                check_eq!(sys::getuid(), OVERFLOW_ID, "B1's 0 is not mapped in B2");
                check_eq!(setuid(0), Ok(0));
                check_eq!(sys::getuid(), 0);
            }));
            send(w, b2.pid as i64);
            let _ = sys::close(w);
            // The root has failed on b2's map.
            wait_go(r2);
            let p = b2.p();
            check_eq!(
                write_map(&p, "uid_map", "0 50 1\n"),
                Err(EPERM),
                "50 is unmapped here"
            );
            check_eq!(read_text(&proc_path(&p, "uid_map")).as_deref(), Ok(""));
            check_eq!(write_map(&p, "uid_map", "0 5 2\n"), Ok(6));
            check_eq!(read_map(&p, "uid_map"), Some(alloc::vec![(0, 5, 2)]));
            check_eq!(b2.release(), Exit::Code(0));
        }));
        // B1 maps 0..9 → 0..9, so its process (uid 0) may create B2.
        check_eq!(write_map(&b1.p(), "uid_map", "0 0 10\n"), Ok(7));
        check_eq!(write_map(&b1.p(), "gid_map", "0 0 10\n"), Ok(7));
        go(b1.go_w);
        close_all(&[w, r2]);
        let b2 = recv(r).unwrap_or(0) as i32;
        let _ = sys::close(r);
        check!(b2 > 0);
        check_eq!(
            write_map(&s(b2), "uid_map", "0 5 2\n"),
            Err(EPERM),
            "grandparent"
        );
        go(w2);
        let _ = sys::close(w2);
        check_eq!(b1.release(), Exit::Code(0));
    }

    const TDIR: &str = "/tmp/t_user_dir";

    /// Ids across two levels: B1 maps 0..999 → 100000.. (uid) and 200000.. (gid); B2 inside B1
    /// maps 5..7 → B1's 10..12 (uid) and 20..22 (gid). A process of B2 that set uid 6 / gid 7
    /// sees 6/7; B1 sees it as 11/22 and the root container as 100011/200022 — in getuid,
    /// `stat` of a file it created, `/proc/[pid]/status`; B2's uid_map reads back relative to
    /// each reader; root's files look like 65534 from B2.
    fn ids_translate_across_two_levels() {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let dir = CString::new(TDIR).unwrap();
        let _ = sys::mkdir(&dir, 0o777);
        check_ok!(chmod(TDIR, 0o777));
        let file = format!("{}/f", TDIR);
        let fc = CString::new(file.as_str()).unwrap();
        let _ = sys::unlink(&fc);
        // p2 reports its pid to the root through this pipe, after creating the file.
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let file1 = file.clone();
        let b1 = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
            let _ = sys::close(r);
            let _ = sys::close(w2);
            check_eq!(setresuid(0, 0, 0), Ok(0));
            check_eq!(setresgid(0, 0, 0), Ok(0));
            check_eq!((sys::getuid(), sys::getgid()), (0, 0));
            // Linux: the uid change made this process non-dumpable, which would make its
            // children's /proc files root's (unmapped here, so not writable).
            let _ = set_dumpable();
            let [pr, pw] = pipe_pair();
            let [qr, qw] = pipe_pair();
            let file2 = file1.clone();
            let b2 = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {
                let _ = sys::close(pr);
                let _ = sys::close(qw);
                check_eq!(sys::getuid(), OVERFLOW_ID, "B1's 0 is unmapped in B2");
                check_eq!(setresuid(6, 6, 6), Ok(0));
                check_eq!(setresgid(7, 7, 7), Ok(0));
                check_eq!((sys::getuid(), sys::getgid()), (6, 7));
                check_eq!(getresuid(), Ok((6, 6, 6)));
                let f = CString::new(file2.as_str()).unwrap();
                check_ok!(sys::creat(&f, 0o644).and_then(sys::close));
                let st = check_ok!(stat_path(&file2));
                check_eq!((st.st_uid, st.st_gid), (6, 7));
                let st = check_ok!(stat_path(TDIR));
                check_eq!((st.st_uid, st.st_gid), (OVERFLOW_ID, OVERFLOW_ID));
                check_eq!(status_ids("self", "Uid"), Some([6; 4]));
                check_eq!(status_ids("self", "Gid"), Some([7; 4]));
                check_eq!(read_map("self", "uid_map"), Some(alloc::vec![(5, 10, 3)]));
                go(pw);
                wait_go(qr);
            }));
            check_eq!(write_map(&b2.p(), "uid_map", "5 10 3\n"), Ok(7));
            check_eq!(write_map(&b2.p(), "gid_map", "5 20 3\n"), Ok(7));
            let p2 = b2.pid;
            go(b2.go_w);
            close_all(&[pw, qr]);
            wait_go(pr);
            // Seen from B1.
            let st = check_ok!(stat_path(&file1));
            check_eq!((st.st_uid, st.st_gid), (11, 22));
            check_eq!(status_ids(&s(p2), "Uid"), Some([11; 4]));
            check_eq!(status_ids(&s(p2), "Gid"), Some([22; 4]));
            check_eq!(read_map(&s(p2), "uid_map"), Some(alloc::vec![(5, 10, 3)]));
            check_eq!(read_map(&s(p2), "gid_map"), Some(alloc::vec![(5, 20, 3)]));
            send(w, p2 as i64);
            wait_go(r2);
            go(qw);
            close_all(&[pr, qw, w, r2]);
            check_eq!(wait_exit(p2), Exit::Code(0));
        }));
        check_eq!(write_map(&b1.p(), "uid_map", "0 100000 1000\n"), Ok(14));
        check_eq!(write_map(&b1.p(), "gid_map", "0 200000 1000\n"), Ok(14));
        go(b1.go_w);
        close_all(&[w, r2]);
        let p2 = recv(r).unwrap_or(0) as i32;
        check!(p2 > 0);
        // Seen from the root container.
        let st = check_ok!(stat_path(&file));
        check_eq!((st.st_uid, st.st_gid), (100011, 200022));
        check_eq!(status_ids(&s(p2), "Uid"), Some([100011; 4]));
        check_eq!(status_ids(&s(p2), "Gid"), Some([200022; 4]));
        check_eq!(
            read_map(&s(p2), "uid_map"),
            Some(alloc::vec![(5, 100010, 3)])
        );
        check_eq!(
            read_map(&s(p2), "gid_map"),
            Some(alloc::vec![(5, 200020, 3)])
        );
        check_eq!(
            read_map(&b1.p(), "uid_map"),
            Some(alloc::vec![(0, 100000, 1000)])
        );
        go(w2);
        close_all(&[r, w2]);
        let _ = sys::close(b1.go_w);
        check_eq!(wait_exit(b1.pid), Exit::Code(0));
        let _ = sys::unlink(&fc);
        let _ = sys::rmdir(&dir);
    }

    // -----------------------------------------------------------------------------------------
    // Depth, setns, ownership

    /// Levels 0..3 exist; creating level 4 (clone or unshare) → ENOSPC on Bulkhead
    /// (LiteOS-A's limit; Linux allows 32 levels, so on Linux it works).
    fn levels_zero_to_three() {
        fn level(n: u32) -> i32 {
            // Runs at level n (1..=3).
            if n == 3 {
                let c = clone_code(CLONE_NEWUSER | SIGCHLD_EXIT, || 0);
                let u = unshare(CLONE_NEWUSER);
                let ok = if on_bulkhead() {
                    c == Err(ENOSPC) && u == Err(ENOSPC)
                } else {
                    let reaped = c.map(wait_exit) == Ok(Exit::Code(0));
                    reaped && u == Ok(0)
                };
                if !ok {
                    println!("  level 4: clone {:?}, unshare {:?}", c, u);
                }
                return if ok { 0 } else { 10 };
            }
            match Held::spawn(CLONE_NEWUSER, || level(n + 1)) {
                Ok(h) => {
                    if let Err(e) = map_root(&h.p()) {
                        println!("  maps at level {}: errno {}", n + 1, e);
                    }
                    match h.release() {
                        Exit::Code(code) => code,
                        _ => 20 + n as i32,
                    }
                }
                Err(e) => {
                    println!("  clone at level {}: errno {}", n, e);
                    30 + n as i32
                }
            }
        }
        // Each level maps its child's root ids (Linux needs the creator's ids mapped).
        let h = check_ok!(Held::spawn(CLONE_NEWUSER, || level(1)));
        check_eq!(map_root(&h.p()), Ok(()));
        check_eq!(h.release(), Exit::Code(0));
    }

    /// setns into a user container: a process with no capability over it → EPERM; another uid
    /// with CAP_SYS_ADMIN in the parent container works, as does the owner; the joiner gets the
    /// full set inside it and its ids as that container maps them. Joining one's own → EINVAL;
    /// a process inside a child container cannot join the root one (EPERM).
    fn setns_user_rules() {
        let b = check_ok!(Held::spawn_checks(CLONE_NEWUSER, || {}));
        check_eq!(write_map(&b.p(), "uid_map", "0 0 1\n"), Ok(6));
        check_eq!(write_map(&b.p(), "gid_map", "0 0 1\n"), Ok(6));
        let fd = check_ok!(open_path(&user_link_path(&b.p()), sys::O_RDONLY));
        let target = user_link(&b.p());
        in_child(|| {
            check_eq!(become_user(1000), Ok(0));
            check_eq!(setns(fd, CLONE_NEWUSER), Err(EPERM));
            check_ne!(user_link("self"), target);
        });
        in_child(|| {
            check_eq!(become_user_keeping_caps(1001, 1001), Ok(0));
            check_eq!(
                setns(fd, CLONE_NEWUSER),
                Ok(0),
                "CAP_SYS_ADMIN in the parent"
            );
            check_eq!(user_link("self"), target);
            check_eq!(caps(), Caps::ep(full_set()));
            check_eq!(sys::getuid(), OVERFLOW_ID, "1001 is not mapped in it");
        });
        in_child(|| {
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            check_eq!(setns(fd, CLONE_NEWUSER), Ok(0), "the owner");
            check_eq!(caps(), Caps::ep(full_set()));
            check_eq!((sys::getuid(), sys::getgid()), (0, 0));
            let own = check_ok!(open_path(&user_link_path("self"), sys::O_RDONLY));
            check_eq!(setns(own, CLONE_NEWUSER), Err(EINVAL), "its own");
        });
        let own = check_ok!(open_path(&user_link_path("self"), sys::O_RDONLY));
        check_eq!(setns(own, CLONE_NEWUSER), Err(EINVAL), "its own");
        let c = check_ok!(clone_run(CLONE_NEWUSER | SIGCHLD_EXIT, || {
            check_eq!(
                setns(own, CLONE_NEWUSER),
                Err(EPERM),
                "the parent container"
            );
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        close_all(&[fd, own]);
        check_eq!(b.release(), Exit::Code(0));
    }

    /// A UTS container belongs to the user container its creator was in (or created in the
    /// same call): root only inside a new user container may sethostname in a UTS container
    /// created with it (clone(NEWUSER|NEWUTS)) or after it (unshare), not in the root one
    /// (EPERM). An unprivileged user cannot create a UTS container alone (EPERM) but can
    /// together with a user container.
    fn uts_owned_by_user_container() {
        let root_name = hostname();
        let c = check_ok!(clone_run(
            CLONE_NEWUSER | CLONE_NEWUTS | SIGCHLD_EXIT,
            || {
                check_eq!(sethostname(b"userns-uts"), Ok(0));
                check_eq!(hostname(), "userns-uts");
            }
        ));
        check_eq!(wait_exit(c), Exit::Code(0));
        let c = check_ok!(clone_run(CLONE_NEWUSER | SIGCHLD_EXIT, || {
            check_eq!(caps(), Caps::ep(full_set()));
            check_eq!(sethostname(b"not-mine"), Err(EPERM));
            check_eq!(setdomainname(b"not-mine"), Err(EPERM));
            check_eq!(unshare(CLONE_NEWUTS), Ok(0));
            check_eq!(sethostname(b"after-user"), Ok(0));
            check_eq!(hostname(), "after-user");
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        in_child(|| {
            check_eq!(become_user(1000), Ok(0));
            check_eq!(
                clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {}).err(),
                Some(EPERM)
            );
            check_eq!(unshare(CLONE_NEWUTS), Err(EPERM));
            let c = check_ok!(clone_run(
                CLONE_NEWUSER | CLONE_NEWUTS | SIGCHLD_EXIT,
                || {
                    check_eq!(sethostname(b"unpriv-uts"), Ok(0));
                    check_eq!(hostname(), "unpriv-uts");
                }
            ));
            check_eq!(wait_exit(c), Exit::Code(0));
            check_eq!(unshare(CLONE_NEWUSER | CLONE_NEWUTS), Ok(0));
            check_eq!(sethostname(b"unpriv-unshare"), Ok(0));
        });
        check_eq!(hostname(), root_name);
    }

    /// The last case: every max_*_container count is back to its start (Bulkhead only).
    fn teardown_counts_back_to_start() {
        if !on_bulkhead() {
            println!("  (Bulkhead only: max_*_container counts)");
            return;
        }
        counts_back_to_start();
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            user_001_clone_newuser_exit_code,
            user_002_parent_writes_child_maps,
            user_003_unshare_then_maps,
            user_004_setns_into_child,
            user_005_thousand_clones,
            user_006_limit_clone,
            user_007_limit_unshare,
            overflow_ids_files,
            root_container_maps,
            unmapped_ids_read_overflow,
            map_written_once,
            map_bad_text_einval,
            map_overlapping_extents_einval,
            map_340_extents,
            unprivileged_writer_maps_only_its_own_id,
            writer_without_cap_setuid_eperm,
            writer_in_parent_and_ids_mapped_in_parent,
            ids_translate_across_two_levels,
            levels_zero_to_three,
            setns_user_rules,
            uts_owned_by_user_container,
            teardown_counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
