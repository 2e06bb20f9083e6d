//! Credentials and capabilities (issue 5): the uid/gid getters, the setuid family for root and
//! non-root with capabilities(7)'s transitions (setuid from root clears permitted and effective
//! unless `PR_SET_KEEPCAPS`, which keeps permitted; euid 0 <-> non-zero toggles effective; fsuid
//! clears the file-system capabilities), groups, `capget`/`capset` v3 (header, version probe,
//! subset rules), the capability `prctl`s (bounding set, keepcaps, no_new_privs, ambient),
//! `execve`'s transformation of the sets, and for every privileged path a child without the
//! capability (`EPERM`) beside a child with it (success). Ends with "a dropped capability cannot
//! be regained" (capset, setuid, execve, setns).
//!
//! Changes happen in forked children; the program itself stays root with every capability.
//! Linux is the oracle: the program runs unchanged on a Linux host as root. Bulkhead-only
//! expectations: the full set is exactly bits 0..=40 and the bounding set is full at start;
//! `/proc/sys/user/max_uts_container` (on Linux that case checks nothing but says so).
//! Where Linux's errno is not EPERM it is the expectation, with a comment (raising priority
//! without `CAP_SYS_NICE` is EACCES; `reboot` with the capability and an unknown command is
//! EINVAL).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use alloc::vec::Vec;
    use ulib::container::{
        CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, SIGCHLD_EXIT, clone_run, close_all, domainname,
        go, hostname, open_path, pipe_pair, read_limit, recv, send, setdomainname, sethostname,
        setns, unshare, wait_go, write_limit,
    };
    use ulib::cred::*;
    use ulib::sys::{self, errno::*};
    use ulib::test::{Exit, case_failed, fork_run, on_bulkhead, wait_exit};
    use ulib::{Args, check, check_eq, check_ok, println};

    const REPORT_FLAG: &str = "--caps-report";
    const U: u32 = 1000;

    /// The set a root process holds: its bounding set (full on Bulkhead; a Linux host may
    /// lack some).
    fn root_set() -> u64 {
        bset()
    }

    /// Runs `f` in a forked child and checks that none of its checks failed.
    fn in_child(f: impl FnOnce()) {
        let pid = fork_run(f);
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// The privileged-path pattern: one child keeps every capability, one drops `cap` (from
    /// effective, permitted and inheritable) after `setup`; `f(has_cap)` checks each side.
    fn both_sides(cap: u32, setup: impl Fn(), f: impl Fn(bool)) {
        for has in [true, false] {
            let pid = fork_run(|| {
                setup();
                if !has {
                    check_eq!(drop_cap(cap), Ok(0));
                    check_eq!(caps().effective & bit(cap), 0);
                }
                f(has);
            });
            check_eq!(wait_exit(pid), Exit::Code(0), "cap {} kept: {}", cap, has);
        }
    }

    fn expect(has: bool, ok: SysResultLike) -> SysResultLike {
        if has { ok } else { Err(EPERM) }
    }

    type SysResultLike = Result<usize, i32>;

    // -----------------------------------------------------------------------------------------
    // The sets after execve

    /// What the exec'd program reports about itself.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Report {
        effective: u64,
        permitted: u64,
        inheritable: u64,
        bounding: u64,
        ambient: u64,
        keepcaps: i64,
        no_new_privs: i64,
        ids: (u32, u32, u32),
    }

    /// In the exec'd program: writes the report to fd `argv[2]`.
    fn report_main(args: Args) -> i32 {
        let Some(fd) = args.arg_str(2).and_then(|s| s.parse::<i32>().ok()) else {
            return 2;
        };
        let c = caps();
        let (r, e, s) = getresuid().unwrap_or((KEEP, KEEP, KEEP));
        for v in [
            c.effective as i64,
            c.permitted as i64,
            c.inheritable as i64,
            bset() as i64,
            ambient_set() as i64,
            get_keepcaps().map_or(-1, |v| v as i64),
            get_no_new_privs().map_or(-1, |v| v as i64),
            r as i64,
            e as i64,
            s as i64,
        ] {
            send(fd, v);
        }
        0
    }

    /// Forks a child that runs `prep` and then execs this program, which reports its sets.
    fn exec_report(prep: impl FnOnce()) -> Option<Report> {
        let me = CString::new(Args::get().arg(0)?).ok()?;
        let [r, w] = pipe_pair();
        let pid = match sys::fork() {
            Ok(0) => {
                let _ = sys::close(r);
                prep();
                if case_failed() {
                    sys::exit(1);
                }
                let fd = CString::new(format!("{}", w)).unwrap();
                let argv = [
                    me.as_ptr().cast(),
                    c"--caps-report".as_ptr().cast(),
                    fd.as_ptr().cast(),
                    core::ptr::null(),
                ];
                let e = sys::execve(&me, &argv, &[core::ptr::null()]);
                println!("  execve: {:?}", e);
                sys::exit(3)
            }
            Ok(p) => p,
            Err(e) => {
                check!(false, "fork: {}", e);
                return None;
            }
        };
        let _ = sys::close(w);
        let mut v = Vec::new();
        while let Some(x) = recv(r) {
            v.push(x);
        }
        let _ = sys::close(r);
        check_eq!(wait_exit(pid), Exit::Code(0), "the exec'd reporter");
        if v.len() != 10 {
            check!(false, "report has {} values", v.len());
            return None;
        }
        Some(Report {
            effective: v[0] as u64,
            permitted: v[1] as u64,
            inheritable: v[2] as u64,
            bounding: v[3] as u64,
            ambient: v[4] as u64,
            keepcaps: v[5],
            no_new_privs: v[6],
            ids: (v[7] as u32, v[8] as u32, v[9] as u32),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Ids and the setuid family

    /// The program starts as root with every capability: all ids 0, permitted = effective =
    /// bounding, inheritable and ambient empty, keepcaps and no_new_privs off.
    fn root_ids_and_full_sets() {
        check_eq!(sys::getuid(), 0);
        check_eq!(sys::geteuid(), 0);
        check_eq!(sys::getgid(), 0);
        check_eq!(sys::getegid(), 0);
        check_eq!(getresuid(), Ok((0, 0, 0)));
        check_eq!(getresgid(), Ok((0, 0, 0)));
        check_eq!(fsuid(), 0);
        check_eq!(fsgid(), 0);
        let c = check_ok!(capget(0));
        let b = root_set();
        check!(b & bit(CAP_SYS_ADMIN) != 0, "bounding {:#x}", b);
        check_eq!(c.permitted, b);
        check_eq!(c.effective, b);
        check_eq!(c.inheritable, 0);
        check_eq!(ambient_set(), 0);
        check_eq!(get_keepcaps(), Ok(0));
        check_eq!(get_no_new_privs(), Ok(0));
        if on_bulkhead() {
            // Bulkhead: the root process holds all of 0..=CAP_LAST_CAP (40).
            check_eq!(b, (1u64 << 41) - 1);
            check_eq!(full_set(), (1u64 << 41) - 1);
        }
    }

    /// `/proc/[pid]/status` shows the four uids and gids and the five sets, in hex as Linux
    /// prints them; a child that became uid 1000 shows its new ids and empty sets.
    fn proc_status_ids_and_caps() {
        let c = caps();
        check_eq!(status_ids("self", "Uid"), Some([0, 0, 0, 0]));
        check_eq!(status_ids("self", "Gid"), Some([0, 0, 0, 0]));
        check_eq!(status_caps("self", "CapInh"), Some(c.inheritable));
        check_eq!(status_caps("self", "CapPrm"), Some(c.permitted));
        check_eq!(status_caps("self", "CapEff"), Some(c.effective));
        check_eq!(status_caps("self", "CapBnd"), Some(root_set()));
        check_eq!(status_caps("self", "CapAmb"), Some(0));
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let pid = fork_run(|| {
            let _ = sys::close(r);
            let _ = sys::close(w2);
            check_eq!(setresgid(U, U + 1, U + 2), Ok(0));
            check_eq!(setresuid(U, U + 1, U + 2), Ok(0));
            go(w);
            wait_go(r2);
        });
        close_all(&[w, r2]);
        wait_go(r);
        let p = format!("{}", pid);
        check_eq!(status_ids(&p, "Uid"), Some([U, U + 1, U + 2, U + 1]));
        check_eq!(status_ids(&p, "Gid"), Some([U, U + 1, U + 2, U + 1]));
        check_eq!(status_caps(&p, "CapPrm"), Some(0));
        check_eq!(status_caps(&p, "CapEff"), Some(0));
        check_eq!(status_caps(&p, "CapBnd"), Some(root_set()));
        go(w2);
        close_all(&[r, w2]);
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    /// setuid(1000) as root sets all four uids and clears permitted, effective and ambient
    /// (inheritable stays); afterwards setuid(0) and setresuid(0,0,0) give EPERM and
    /// setuid(own uid) works.
    fn setuid_root_to_user_clears_caps() {
        in_child(|| {
            let inh = bit(CAP_NET_BIND_SERVICE);
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: inh,
                    ..c
                }),
                Ok(0)
            );
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(ambient_set(), inh);
            check_eq!(setuid(U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U)));
            check_eq!(fsuid(), U);
            check_eq!((sys::getuid(), sys::geteuid()), (U, U));
            check_eq!(
                caps(),
                Caps {
                    effective: 0,
                    permitted: 0,
                    inheritable: inh
                }
            );
            check_eq!(ambient_set(), 0);
            check_eq!(setuid(0), Err(EPERM));
            check_eq!(setresuid(0, 0, 0), Err(EPERM));
            check_eq!(setreuid(0, KEEP), Err(EPERM));
            check_eq!(setuid(U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U)));
            // The bounding set is not touched by a uid change.
            check_eq!(bset(), root_set());
        });
    }

    /// PR_SET_KEEPCAPS (8) / PR_GET_KEEPCAPS (7): off by default, 2 → EINVAL; with it on,
    /// setuid(1000) keeps permitted but clears effective; keepcaps survives the setuid and a
    /// fork. capset can raise effective again, and then setuid(0) works and (euid 0 again)
    /// effective = permitted.
    fn setuid_with_keepcaps_keeps_permitted() {
        in_child(|| {
            let full = root_set();
            check_eq!(get_keepcaps(), Ok(0));
            check_eq!(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), Err(EINVAL));
            check_eq!(set_keepcaps(true), Ok(0));
            check_eq!(get_keepcaps(), Ok(1));
            check_eq!(setuid(U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U)));
            check_eq!(
                caps(),
                Caps {
                    effective: 0,
                    permitted: full,
                    inheritable: 0
                }
            );
            check_eq!(get_keepcaps(), Ok(1));
            in_child(|| check_eq!(get_keepcaps(), Ok(1)));
            // Without CAP_SETUID in effective, 0 is none of the caller's uids.
            check_eq!(setuid(0), Err(EPERM));
            check_eq!(raise_effective(), Ok(0));
            check_eq!(caps().effective, full);
            check_eq!(setuid(0), Ok(0));
            check_eq!(getresuid(), Ok((0, 0, 0)));
            check_eq!(caps(), Caps::ep(full));
            check_eq!(set_keepcaps(false), Ok(0));
            check_eq!(get_keepcaps(), Ok(0));
        });
    }

    /// Changing only the euid: 0 → 1000 clears effective (permitted stays, ruid/suid are still
    /// 0); 1000 → 0 copies permitted into effective. setreuid sets suid to the new euid when
    /// the euid differs from the old ruid.
    fn euid_changes_toggle_effective() {
        in_child(|| {
            let full = root_set();
            check_eq!(setresuid(KEEP, U, KEEP), Ok(0));
            check_eq!(getresuid(), Ok((0, U, 0)));
            check_eq!(fsuid(), U, "fsuid follows euid");
            check_eq!(
                caps(),
                Caps {
                    effective: 0,
                    permitted: full,
                    inheritable: 0
                }
            );
            check_eq!(setresuid(KEEP, 0, KEEP), Ok(0), "0 is the ruid");
            check_eq!(caps(), Caps::ep(full));
            check_eq!(setreuid(KEEP, U), Ok(0));
            check_eq!(getresuid(), Ok((0, U, U)));
            check_eq!(caps().effective, 0);
            check_eq!(caps().permitted, full);
            check_eq!(setreuid(KEEP, 0), Ok(0), "0 is the ruid");
            check_eq!(getresuid(), Ok((0, 0, U)));
            check_eq!(caps(), Caps::ep(full));
            // Giving up the last root id clears permitted (no keepcaps).
            check_eq!(setresuid(U, U, U), Ok(0));
            check_eq!(caps(), Caps::ep(0));
        });
    }

    /// setfsuid returns the old fsuid; 0 → 1000 clears CAP_FS_MASK from effective only,
    /// 1000 → 0 restores it from permitted; a non-root caller cannot switch to 0 (the call
    /// still returns the old value). setfsgid likewise, without touching capabilities.
    fn setfsuid_and_fs_capabilities() {
        in_child(|| {
            let full = root_set();
            check_eq!(setfsuid(U), 0);
            check_eq!(fsuid(), U);
            check_eq!(getresuid(), Ok((0, 0, 0)));
            check_eq!(
                caps(),
                Caps {
                    effective: full & !CAP_FS_MASK,
                    permitted: full,
                    inheritable: 0
                }
            );
            check_eq!(setfsuid(0), U);
            check_eq!(fsuid(), 0);
            check_eq!(caps(), Caps::ep(full));
            check_eq!(setfsgid(U), 0);
            check_eq!(fsgid(), U);
            check_eq!(caps(), Caps::ep(full));
            check_eq!(setfsgid(0), U);
            check_eq!(fsgid(), 0);
            check_eq!(become_user(U), Ok(0));
            check_eq!(setfsuid(0), U, "returns the old fsuid");
            check_eq!(fsuid(), U, "but does not change it");
            check_eq!(setfsgid(0), U);
            check_eq!(fsgid(), U);
            check_eq!(setfsuid(U), U);
        });
    }

    /// Non-root setresuid: each id must be one of the current real, effective, saved ids;
    /// setreuid: the new ruid must be the ruid or euid, the new euid one of the three; setuid
    /// only to the ruid or suid.
    fn setuid_family_unprivileged_rules() {
        in_child(|| {
            check_eq!(setresuid(U, U + 1, U + 2), Ok(0));
            check_eq!(getresuid(), Ok((U, U + 1, U + 2)));
            check_eq!(caps(), Caps::ep(0));
            check_eq!(setresuid(U + 3, KEEP, KEEP), Err(EPERM));
            check_eq!(setresuid(KEEP, 0, KEEP), Err(EPERM));
            check_eq!(setresuid(KEEP, KEEP, KEEP), Ok(0));
            check_eq!(setresuid(U + 2, U, U + 1), Ok(0));
            check_eq!(getresuid(), Ok((U + 2, U, U + 1)));
            check_eq!(
                setreuid(U + 1, KEEP),
                Err(EPERM),
                "suid is not allowed for ruid"
            );
            check_eq!(setreuid(U, KEEP), Ok(0), "the euid may become the ruid");
            // The ruid was set, so the suid becomes the euid.
            check_eq!(getresuid(), Ok((U, U, U)));
            check_eq!(setreuid(KEEP, U + 2), Err(EPERM));
            check_eq!(setuid(U + 1), Err(EPERM));
            check_eq!(setuid(U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U)));
        });
        in_child(|| {
            check_eq!(setresuid(U, U + 1, U + 2), Ok(0));
            // Non-root setuid sets only the euid (to the ruid or suid).
            check_eq!(setuid(U + 2), Ok(0));
            check_eq!(getresuid(), Ok((U, U + 2, U + 2)));
            check_eq!(setuid(U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U + 2)));
        });
    }

    /// The gid calls: root's setgid sets all gids (capabilities untouched); setresgid and
    /// setregid; fsgid follows egid; without CAP_SETGID only the caller's own gids; with it
    /// (keepcaps) a non-root uid may set any gid.
    fn setgid_family() {
        in_child(|| {
            let full = root_set();
            check_eq!(setgid(U), Ok(0));
            check_eq!(getresgid(), Ok((U, U, U)));
            check_eq!((sys::getgid(), sys::getegid()), (U, U));
            check_eq!(fsgid(), U);
            check_eq!(caps(), Caps::ep(full));
            check_eq!(setresgid(1, 2, 3), Ok(0));
            check_eq!(getresgid(), Ok((1, 2, 3)));
            check_eq!(fsgid(), 2);
            check_eq!(setregid(4, 5), Ok(0));
            check_eq!(getresgid(), Ok((4, 5, 5)));
            check_eq!(setregid(KEEP, 6), Ok(0));
            check_eq!(getresgid(), Ok((4, 6, 6)));
            check_eq!(become_user(U), Ok(0));
            check_eq!(getresgid(), Ok((U, U, U)));
            check_eq!(setgid(0), Err(EPERM));
            check_eq!(setresgid(KEEP, 0, KEEP), Err(EPERM));
            check_eq!(setregid(KEEP, 0), Err(EPERM));
            check_eq!(setregid(0, KEEP), Err(EPERM));
            check_eq!(setresgid(U, U, U), Ok(0));
            check_eq!(setgid(U), Ok(0));
        });
        in_child(|| {
            check_eq!(become_user_keeping_caps(U, U), Ok(0));
            check_eq!(getresuid(), Ok((U, U, U)));
            check_eq!(setgid(5), Ok(0));
            check_eq!(getresgid(), Ok((5, 5, 5)));
            check_eq!(setresgid(7, 8, 9), Ok(0));
            check_eq!(getresgid(), Ok((7, 8, 9)));
            check_eq!(drop_cap(CAP_SETGID), Ok(0));
            check_eq!(setgid(6), Err(EPERM));
            check_eq!(setgid(9), Ok(0), "the saved gid is allowed");
            check_eq!(getresgid(), Ok((7, 9, 9)));
        });
    }

    /// getgroups/setgroups: set and read back, count with size 0, EINVAL for a short buffer,
    /// more than NGROUPS_MAX (65536) → EINVAL, a bad pointer → EFAULT, the empty list, and
    /// EPERM without CAP_SETGID.
    fn groups() {
        in_child(|| {
            check_eq!(setgroups(&[1, 2, 3]), Ok(0));
            check_eq!(getgroups(), Ok(alloc::vec![1, 2, 3]));
            check_eq!(getgroups_raw(0, 0), Ok(3));
            let mut one = [0u32; 1];
            check_eq!(getgroups_raw(1, one.as_mut_ptr() as usize), Err(EINVAL));
            check_eq!(setgroups_raw(65537, one.as_ptr() as usize), Err(EINVAL));
            check_eq!(setgroups_raw(2, 8), Err(EFAULT));
            check_eq!(
                getgroups(),
                Ok(alloc::vec![1, 2, 3]),
                "failed calls changed nothing"
            );
            check_eq!(setgroups(&[]), Ok(0));
            check_eq!(getgroups(), Ok(Vec::new()));
            check_eq!(setgroups(&[7]), Ok(0));
            check_eq!(become_user(U), Ok(0));
            check_eq!(getgroups(), Ok(Vec::new()));
            check_eq!(setgroups(&[7]), Err(EPERM));
            check_eq!(setgroups(&[]), Err(EPERM));
        });
    }

    // -----------------------------------------------------------------------------------------
    // capget / capset

    /// capget (125) with the v3 header {0x20080522, pid}: pid 0 and the caller's pid read the
    /// caller; another process's pid reads that process; an unknown pid → ESRCH; pid < 0 →
    /// EINVAL; a bad version → EINVAL with 0x20080522 written back into the header; a NULL
    /// data pointer with a bad version is the probe (returns 0, version written).
    fn capget_header_and_versions() {
        let me = caps();
        check_eq!(capget(sys::getpid()), Ok(me));
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let pid = fork_run(|| {
            let _ = sys::close(r);
            let _ = sys::close(w2);
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            go(w);
            wait_go(r2);
        });
        close_all(&[w, r2]);
        wait_go(r);
        let b = root_set();
        check_eq!(capget(pid), Ok(Caps::ep(b & !bit(CAP_SYS_ADMIN))));
        go(w2);
        close_all(&[r, w2]);
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(capget(0x3fff_fff0), Err(ESRCH));
        check_eq!(capget(-1), Err(EINVAL));

        let mut hdr = CapHeader {
            version: 0x1234_5678,
            pid: 0,
        };
        let mut data = [CapData::default(); 2];
        check_eq!(capget_raw(&mut hdr, Some(&mut data)), Err(EINVAL));
        check_eq!(hdr.version, CAP_V3);
        let mut hdr = CapHeader { version: 0, pid: 0 };
        check_eq!(capget_raw(&mut hdr, None), Ok(0), "the version probe");
        check_eq!(hdr.version, CAP_V3);
        let mut hdr = CapHeader {
            version: CAP_V3,
            pid: 0,
        };
        check_eq!(capget_raw(&mut hdr, None), Ok(0));
        check_eq!(capget_raw(&mut hdr, Some(&mut data)), Ok(0));
        check_eq!(hdr.version, CAP_V3);
        check_eq!(Caps::from_data(&data), me);
        // The upper struct holds bits 32..63.
        check_eq!(data[1].permitted as u64, me.permitted >> 32);
    }

    /// capset (126) rules: new permitted ⊆ old permitted, effective ⊆ new permitted, new
    /// inheritable ⊆ old inheritable ∪ old permitted (without CAP_SETPCAP) or ⊆ old inheritable
    /// ∪ bounding (with it); another pid → EPERM; a bad version → EINVAL with the version
    /// written back; a failed call changes nothing.
    fn capset_rules() {
        in_child(|| {
            let full = root_set();
            let admin = bit(CAP_SYS_ADMIN);
            check_eq!(capset(caps()), Ok(0), "no change");
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            check_eq!(caps(), Caps::ep(full & !admin));
            check_eq!(capset(Caps::ep(full)), Err(EPERM), "raising permitted");
            check_eq!(
                capset(Caps {
                    effective: full,
                    permitted: full & !admin,
                    inheritable: 0
                }),
                Err(EPERM),
                "effective beyond permitted"
            );
            check_eq!(
                caps(),
                Caps::ep(full & !admin),
                "failed calls changed nothing"
            );
            // Inheritable without CAP_SETPCAP in effective: only from permitted.
            let no_setpcap = Caps {
                effective: full & !admin & !bit(CAP_SETPCAP),
                permitted: full & !admin,
                inheritable: 0,
            };
            check_eq!(capset(no_setpcap), Ok(0));
            check_eq!(
                capset(Caps {
                    inheritable: admin,
                    ..no_setpcap
                }),
                Err(EPERM)
            );
            check_eq!(
                capset(Caps {
                    inheritable: bit(CAP_KILL),
                    ..no_setpcap
                }),
                Ok(0)
            );
            // With CAP_SETPCAP: anything in the bounding set.
            check_eq!(raise_effective(), Ok(0));
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: admin | bit(CAP_KILL),
                    ..c
                }),
                Ok(0)
            );
            check_eq!(caps().inheritable, admin | bit(CAP_KILL));
            // Not beyond the bounding set, even with CAP_SETPCAP.
            check_eq!(bset_drop(CAP_SYS_NICE), Ok(0));
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: c.inheritable | bit(CAP_SYS_NICE),
                    ..c
                }),
                Err(EPERM)
            );
            // Only the caller: pid 0 or its own pid.
            let mut hdr = CapHeader {
                version: CAP_V3,
                pid: sys::getppid(),
            };
            check_eq!(capset_raw(&mut hdr, &c.to_data()), Err(EPERM));
            let mut hdr = CapHeader {
                version: CAP_V3,
                pid: sys::getpid(),
            };
            check_eq!(capset_raw(&mut hdr, &c.to_data()), Ok(0));
            let mut hdr = CapHeader {
                version: 0x1234_5678,
                pid: 0,
            };
            check_eq!(capset_raw(&mut hdr, &c.to_data()), Err(EINVAL));
            check_eq!(hdr.version, CAP_V3);
            // Dropping everything is final.
            check_eq!(capset(Caps::default()), Ok(0));
            check_eq!(caps(), Caps::default());
            check_eq!(capset(Caps::ep(bit(CAP_KILL))), Err(EPERM));
        });
    }

    // -----------------------------------------------------------------------------------------
    // prctl

    /// PR_CAPBSET_READ (23): 1 for a capability in the set, EINVAL past the last one;
    /// PR_CAPBSET_DROP (24): EPERM without CAP_SETPCAP, then the bit reads 0 (permitted is not
    /// touched), dropping again works, a fork inherits the smaller set.
    fn capbset_read_and_drop() {
        let last = 63 - full_set().leading_zeros();
        check_eq!(bset_read(CAP_SYS_ADMIN), Ok(1));
        check_eq!(bset_read(last), Ok(1));
        check_eq!(bset_read(last + 1), Err(EINVAL));
        check_eq!(bset_read(64), Err(EINVAL));
        check_eq!(prctl(PR_CAPBSET_READ, usize::MAX, 0, 0, 0), Err(EINVAL));
        in_child(|| {
            let c = caps();
            check_eq!(
                capset(Caps {
                    effective: c.effective & !bit(CAP_SETPCAP),
                    ..c
                }),
                Ok(0)
            );
            check_eq!(bset_drop(CAP_SYS_ADMIN), Err(EPERM));
            check_eq!(bset_read(CAP_SYS_ADMIN), Ok(1));
            check_eq!(raise_effective(), Ok(0));
            check_eq!(bset_drop(CAP_SYS_ADMIN), Ok(0));
            check_eq!(bset_read(CAP_SYS_ADMIN), Ok(0));
            check_eq!(bset(), root_set() & !bit(CAP_SYS_ADMIN));
            check_eq!(caps().permitted & bit(CAP_SYS_ADMIN), bit(CAP_SYS_ADMIN));
            check_eq!(bset_drop(CAP_SYS_ADMIN), Ok(0));
            check_eq!(bset_drop(last + 1), Err(EINVAL));
            in_child(|| check_eq!(bset_read(CAP_SYS_ADMIN), Ok(0)));
        });
        check_eq!(
            bset_read(CAP_SYS_ADMIN),
            Ok(1),
            "the parent's set is its own"
        );
    }

    /// PR_SET_NO_NEW_PRIVS (38) / PR_GET_NO_NEW_PRIVS (39): only 1 with zero extra arguments
    /// (else EINVAL); once set it stays set and a fork inherits it.
    fn no_new_privs() {
        check_eq!(get_no_new_privs(), Ok(0));
        in_child(|| {
            check_eq!(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), Err(EINVAL));
            check_eq!(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), Err(EINVAL));
            check_eq!(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0), Err(EINVAL));
            check_eq!(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), Err(EINVAL));
            check_eq!(get_no_new_privs(), Ok(0));
            check_eq!(set_no_new_privs(), Ok(0));
            check_eq!(get_no_new_privs(), Ok(1));
            check_eq!(set_no_new_privs(), Ok(0));
            in_child(|| check_eq!(get_no_new_privs(), Ok(1)));
        });
        check_eq!(get_no_new_privs(), Ok(0));
    }

    /// PR_CAP_AMBIENT (47): IS_SET 1, RAISE 2 (needs the capability in permitted and
    /// inheritable, else EPERM), LOWER 3, CLEAR_ALL 4; unused arguments must be 0 and the
    /// capability valid (EINVAL); capset removing a capability from inheritable or permitted
    /// removes it from ambient.
    fn ambient_capabilities() {
        in_child(|| {
            let nb = bit(CAP_NET_BIND_SERVICE);
            let nice = bit(CAP_SYS_NICE);
            check_eq!(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(
                ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE),
                Err(EPERM),
                "not inheritable"
            );
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: nb | nice,
                    ..c
                }),
                Ok(0)
            );
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), Ok(1));
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_SYS_NICE), Ok(0));
            check_eq!(ambient_set(), nb | nice);
            check_eq!(ambient(PR_CAP_AMBIENT_LOWER, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 10, 1, 0),
                Err(EINVAL)
            );
            check_eq!(
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0),
                Err(EINVAL)
            );
            check_eq!(prctl(PR_CAP_AMBIENT, 5, 0, 0, 0), Err(EINVAL));
            check_eq!(ambient(PR_CAP_AMBIENT_IS_SET, 64), Err(EINVAL));
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, 64), Err(EINVAL));
            check_eq!(ambient_set(), nb | nice, "failed calls changed nothing");
            in_child(|| check_eq!(ambient_set(), nb | nice, "a fork inherits ambient"));
            // capset: out of inheritable → out of ambient.
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: nb,
                    ..c
                }),
                Ok(0)
            );
            check_eq!(ambient_set(), nb);
            check_eq!(
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
                Ok(0)
            );
            check_eq!(ambient_set(), 0);
            // Out of permitted → out of ambient, and no raising it again.
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), Ok(0));
            let c = caps();
            check_eq!(
                capset(Caps {
                    effective: c.effective & !nb,
                    permitted: c.permitted & !nb,
                    inheritable: nb,
                }),
                Ok(0)
            );
            check_eq!(ambient_set(), 0);
            check_eq!(
                ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE),
                Err(EPERM)
            );
        });
    }

    // -----------------------------------------------------------------------------------------
    // execve

    /// A root program after execve: permitted = effective = bounding set, even after it
    /// dropped a capability from permitted; inheritable kept; keepcaps cleared.
    fn exec_root_gets_bounding_set() {
        let full = root_set();
        let rep = exec_report(|| {
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: bit(CAP_KILL),
                    ..c
                }),
                Ok(0)
            );
            check_eq!(set_keepcaps(true), Ok(0));
        });
        check_eq!(
            rep,
            Some(Report {
                effective: full,
                permitted: full,
                inheritable: bit(CAP_KILL),
                bounding: full,
                ambient: 0,
                keepcaps: 0,
                no_new_privs: 0,
                ids: (0, 0, 0),
            })
        );
    }

    /// With no_new_privs set, execve never grants more than the old permitted set: a root
    /// program that dropped CAP_SYS_ADMIN does not get it back; no_new_privs stays set.
    fn exec_with_no_new_privs_gains_nothing() {
        let less = root_set() & !bit(CAP_SYS_ADMIN);
        let rep = exec_report(|| {
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
            check_eq!(set_no_new_privs(), Ok(0));
        });
        check_eq!(
            rep,
            Some(Report {
                effective: less,
                permitted: less,
                inheritable: 0,
                bounding: root_set(),
                ambient: 0,
                keepcaps: 0,
                no_new_privs: 1,
                ids: (0, 0, 0),
            })
        );
    }

    /// A root program whose bounding set lost CAP_SYS_ADMIN does not get it back at execve.
    fn exec_root_respects_bounding_set() {
        let full = root_set();
        let rep = exec_report(|| {
            check_eq!(bset_drop(CAP_SYS_ADMIN), Ok(0));
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
        });
        let less = full & !bit(CAP_SYS_ADMIN);
        check_eq!(
            rep,
            Some(Report {
                effective: less,
                permitted: less,
                inheritable: 0,
                bounding: less,
                ambient: 0,
                keepcaps: 0,
                no_new_privs: 0,
                ids: (0, 0, 0),
            })
        );
    }

    /// A non-root program after execve has empty permitted and effective sets: after a plain
    /// setuid(1000), and after keepcaps + setuid + capset (the kept capabilities end at exec).
    fn exec_nonroot_has_no_caps() {
        let full = root_set();
        let want = Some(Report {
            effective: 0,
            permitted: 0,
            inheritable: 0,
            bounding: full,
            ambient: 0,
            keepcaps: 0,
            no_new_privs: 0,
            ids: (U, U, U),
        });
        let rep = exec_report(|| check_eq!(become_user(U), Ok(0)));
        check_eq!(rep, want);
        let rep = exec_report(|| {
            check_eq!(become_user_keeping_caps(U, U), Ok(0));
            check_eq!(caps(), Caps::ep(full));
        });
        check_eq!(rep, want);
    }

    /// Ambient capabilities survive execve for a non-root program: permitted = effective =
    /// ambient; inheritable kept.
    fn exec_nonroot_keeps_ambient() {
        let full = root_set();
        let amb = bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_NICE);
        let rep = exec_report(|| {
            check_eq!(become_user_keeping_caps(U, U), Ok(0));
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: amb,
                    ..c
                }),
                Ok(0)
            );
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), Ok(0));
            check_eq!(ambient(PR_CAP_AMBIENT_RAISE, CAP_SYS_NICE), Ok(0));
        });
        check_eq!(
            rep,
            Some(Report {
                effective: amb,
                permitted: amb,
                inheritable: amb,
                bounding: full,
                ambient: amb,
                keepcaps: 0,
                no_new_privs: 0,
                ids: (U, U, U),
            })
        );
    }

    // -----------------------------------------------------------------------------------------
    // Privileged paths: EPERM without the capability, success with it

    /// sethostname (170) / setdomainname (171) need CAP_SYS_ADMIN over the UTS container (a new
    /// one, made while the child still had it).
    fn sethostname_needs_sys_admin() {
        both_sides(
            CAP_SYS_ADMIN,
            || check_eq!(unshare(CLONE_NEWUTS), Ok(0)),
            |has| {
                let (h, d) = (hostname(), domainname());
                check_eq!(sethostname(b"caps-host"), expect(has, Ok(0)));
                check_eq!(setdomainname(b"caps-dom"), expect(has, Ok(0)));
                if has {
                    check_eq!(hostname(), "caps-host");
                    check_eq!(domainname(), "caps-dom");
                } else {
                    check_eq!(hostname(), h);
                    check_eq!(domainname(), d);
                }
            },
        );
    }

    const MNT_DIR: &str = "/tmp/t_caps_mnt";
    const ROOT_DIR: &str = "/tmp/t_caps_root";

    fn mkdir_p(path: &str) {
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let p = CString::new(path).unwrap();
        let _ = sys::mkdir(&p, 0o755);
    }

    /// mount (165) and umount2 (166) of a tmpfs need CAP_SYS_ADMIN (in a mount container of
    /// the child's own, made while it had the capability; a tmpfs is mounted there first).
    /// Until Bulkhead has mount containers (`unshare(CLONE_NEWNS)` → EINVAL) the children use
    /// the shared mount table and the parent unmounts what the child without the capability
    /// could not.
    fn mount_umount_need_sys_admin() {
        mkdir_p(MNT_DIR);
        let inner = format!("{}/inner", MNT_DIR);
        both_sides(
            CAP_SYS_ADMIN,
            || {
                match unshare(ulib::container::CLONE_NEWNS) {
                    // A Linux host's / is shared; Bulkhead's is private already.
                    Ok(_) => check_eq!(make_root_private(), Ok(0)),
                    Err(EINVAL) if on_bulkhead() => {}
                    Err(e) => check!(false, "unshare(CLONE_NEWNS): errno {}", e),
                }
                check_eq!(mount("tmpfs", MNT_DIR, "tmpfs", 0), Ok(0));
                mkdir_p(&inner);
            },
            |has| {
                check_eq!(mount("tmpfs", &inner, "tmpfs", 0), expect(has, Ok(0)));
                if has {
                    check_eq!(umount2(&inner, 0), Ok(0));
                }
                check_eq!(umount2(MNT_DIR, 0), expect(has, Ok(0)));
                let still = sys::access(&CString::new(inner.as_str()).unwrap(), sys::F_OK);
                check_eq!(
                    still.is_ok(),
                    !has,
                    "the tmpfs is {}",
                    if has { "gone" } else { "kept" }
                );
            },
        );
        // Only where the mount stayed in this mount table (no mount container).
        let _ = umount2(MNT_DIR, 0);
        check_eq!(sys::rmdir(&CString::new(MNT_DIR).unwrap()), Ok(0));
    }

    /// chroot (161) needs CAP_SYS_CHROOT; with it the new root shows the directory's file.
    fn chroot_needs_sys_chroot() {
        mkdir_p(ROOT_DIR);
        let marker = format!("{}/marker", ROOT_DIR);
        let m = CString::new(marker.as_str()).unwrap();
        check_ok!(sys::creat(&m, 0o644).and_then(sys::close));
        both_sides(
            CAP_SYS_CHROOT,
            || {},
            |has| {
                check_eq!(chroot(ROOT_DIR), expect(has, Ok(0)));
                check_eq!(sys::access(c"/marker", sys::F_OK).is_ok(), has);
            },
        );
        let _ = sys::unlink(&m);
        let _ = sys::rmdir(&CString::new(ROOT_DIR).unwrap());
    }

    /// kill (62) of another user's process needs CAP_KILL; the same uid may signal it. Probed
    /// with signal 0, then a real SIGKILL from a sender without the capability fails and the
    /// target lives on.
    fn kill_other_user_needs_cap_kill() {
        let [r, w] = pipe_pair();
        let target = fork_run(|| {
            let _ = sys::close(r);
            check_eq!(become_user(U), Ok(0));
            go(w);
            ulib::container::sleep_forever()
        });
        let _ = sys::close(w);
        wait_go(r);
        let _ = sys::close(r);
        both_sides(
            CAP_KILL,
            || {},
            |has| check_eq!(sys::kill(target, 0), expect(has, Ok(0))),
        );
        in_child(|| {
            check_eq!(become_user(U), Ok(0));
            check_eq!(sys::kill(target, 0), Ok(0), "same uid");
        });
        in_child(|| {
            check_eq!(become_user(U + 1), Ok(0));
            check_eq!(sys::kill(target, 0), Err(EPERM));
            check_eq!(sys::kill(target, sys::SIGKILL), Err(EPERM));
        });
        in_child(|| {
            check_eq!(become_user_keeping_caps(U + 1, U + 1), Ok(0));
            check_eq!(sys::kill(target, 0), Ok(0), "another uid with CAP_KILL");
        });
        check_eq!(sys::kill(target, 0), Ok(0), "the target is alive");
        check_ok!(sys::kill(target, sys::SIGKILL));
        check_eq!(wait_exit(target), Exit::Signal(sys::SIGKILL));
    }

    /// The setuid family needs CAP_SETUID for ids that are not the caller's (root without it
    /// is an ordinary uid 0); the setgid family and setgroups need CAP_SETGID.
    fn setuid_setgid_need_caps() {
        both_sides(
            CAP_SETUID,
            || {},
            |has| {
                check_eq!(setfsuid(U + 1), 0);
                check_eq!(fsuid(), if has { U + 1 } else { 0 });
                check_eq!(setfsuid(0), if has { U + 1 } else { 0 });
                check_eq!(setresuid(KEEP, KEEP, U), expect(has, Ok(0)));
                // The euid stays 0, so the effective set (and CAP_SETUID) stays.
                check_eq!(setreuid(U, KEEP), expect(has, Ok(0)));
                let want = if has { (U, 0, 0) } else { (0, 0, 0) };
                check_eq!(getresuid(), Ok(want), "setreuid sets the suid to the euid");
                check_eq!(setuid(U), expect(has, Ok(0)));
                let want = if has { (U, U, U) } else { (0, 0, 0) };
                check_eq!(getresuid(), Ok(want));
            },
        );
        both_sides(
            CAP_SETGID,
            || {},
            |has| {
                check_eq!(setgroups(&[3]), expect(has, Ok(0)));
                check_eq!(setresgid(KEEP, KEEP, U), expect(has, Ok(0)));
                check_eq!(setregid(KEEP, U), expect(has, Ok(0)));
                check_eq!(setfsgid(U + 1), if has { U } else { 0 });
                check_eq!(setgid(U), expect(has, Ok(0)));
                let want = if has { (U, U, U) } else { (0, 0, 0) };
                check_eq!(getresgid(), Ok(want));
            },
        );
    }

    /// clock_settime (227) and settimeofday (164) need CAP_SYS_TIME; with it the clock is set
    /// to the time just read (so it is back where it was).
    fn set_time_needs_sys_time() {
        both_sides(
            CAP_SYS_TIME,
            || {},
            |has| {
                let now = check_ok!(sys::clock_gettime(sys::CLOCK_REALTIME));
                check_eq!(clock_settime(sys::CLOCK_REALTIME, &now), expect(has, Ok(0)));
                let now = check_ok!(sys::clock_gettime(sys::CLOCK_REALTIME));
                let tv = Timeval {
                    tv_sec: now.tv_sec,
                    tv_usec: now.tv_nsec / 1000,
                };
                check_eq!(settimeofday(&tv), expect(has, Ok(0)));
                let after = check_ok!(sys::clock_gettime(sys::CLOCK_REALTIME));
                check!(
                    (after.tv_sec - now.tv_sec).abs() <= 1,
                    "the clock moved: {:?} -> {:?}",
                    now,
                    after
                );
            },
        );
    }

    /// reboot (169) needs CAP_SYS_BOOT, checked before the magic numbers: without it EPERM;
    /// with it an unknown command (valid magic) or bad magic is EINVAL and nothing happens.
    fn reboot_needs_sys_boot() {
        both_sides(
            CAP_SYS_BOOT,
            || {},
            |has| {
                check_eq!(
                    reboot_invalid_cmd(),
                    if has { Err(EINVAL) } else { Err(EPERM) }
                );
                // SAFETY: no pointer; the magic is wrong, so nothing can happen.
                let bad_magic =
                    sys::check(unsafe { sys::syscall3(nr::REBOOT, 1, 2, REBOOT_CMD_INVALID) });
                check_eq!(bad_magic, if has { Err(EINVAL) } else { Err(EPERM) });
            },
        );
    }

    /// setpriority (141) to a lower nice value than the current one needs CAP_SYS_NICE: without
    /// it EACCES (Linux's errno for this case; RLIMIT_NICE is 0); raising the nice value needs
    /// nothing. Changing another user's process needs CAP_SYS_NICE (EPERM without).
    fn raising_priority_needs_sys_nice() {
        let [r, w] = pipe_pair();
        let target = fork_run(|| {
            let _ = sys::close(r);
            check_eq!(become_user(U), Ok(0));
            go(w);
            ulib::container::sleep_forever()
        });
        let _ = sys::close(w);
        wait_go(r);
        let _ = sys::close(r);
        both_sides(
            CAP_SYS_NICE,
            || {},
            |has| {
                check_eq!(setpriority(0, 5), Ok(0));
                check_eq!(getnice(0), Ok(5));
                check_eq!(setpriority(0, 0), if has { Ok(0) } else { Err(EACCES) });
                check_eq!(getnice(0), Ok(if has { 0 } else { 5 }));
                check_eq!(setpriority(target, 3), expect(has, Ok(0)));
                check_eq!(getnice(target), Ok(if has { 3 } else { 0 }));
                if has {
                    check_eq!(setpriority(target, 0), Ok(0));
                }
            },
        );
        check_ok!(sys::kill(target, sys::SIGKILL));
        check_eq!(wait_exit(target), Exit::Signal(sys::SIGKILL));
    }

    /// Writing /proc/sys/user/max_uts_container needs CAP_SYS_ADMIN (containers.md). Bulkhead
    /// only (Linux's max_*_namespaces files follow other rules).
    fn max_container_write_needs_sys_admin() {
        if !on_bulkhead() {
            println!("  (Bulkhead only: /proc/sys/user/max_uts_container)");
            return;
        }
        both_sides(
            CAP_SYS_ADMIN,
            || {},
            |has| {
                check_eq!(write_limit("uts", 10), expect(has, Ok(2)));
                check_eq!(read_limit("uts").map(|(l, _)| l), Ok(10));
            },
        );
    }

    /// clone and unshare of a non-user container (UTS, PID) need CAP_SYS_ADMIN.
    fn new_container_needs_sys_admin() {
        both_sides(
            CAP_SYS_ADMIN,
            || {},
            |has| {
                for flag in [CLONE_NEWUTS, CLONE_NEWPID] {
                    let c = clone_run(flag | SIGCHLD_EXIT, || {});
                    match c {
                        Ok(p) => {
                            check!(has, "clone({:#x}) without CAP_SYS_ADMIN worked", flag);
                            check_eq!(wait_exit(p), Exit::Code(0));
                        }
                        Err(e) => check_eq!(Err::<usize, i32>(e), expect(has, Ok(0))),
                    }
                }
                check_eq!(unshare(CLONE_NEWUTS), expect(has, Ok(0)));
            },
        );
    }

    /// setns (308) into another UTS container needs CAP_SYS_ADMIN.
    fn setns_needs_sys_admin() {
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let target = check_ok!(clone_run(CLONE_NEWUTS | SIGCHLD_EXIT, || {
            let _ = sys::close(r);
            let _ = sys::close(w2);
            check_eq!(sethostname(b"setns-target"), Ok(0));
            go(w);
            wait_go(r2);
        }));
        close_all(&[w, r2]);
        wait_go(r);
        let path = format!("/proc/{}/ns/uts", target);
        both_sides(
            CAP_SYS_ADMIN,
            || {},
            |has| {
                let fd = check_ok!(open_path(&path, sys::O_RDONLY));
                check_eq!(setns(fd, CLONE_NEWUTS), expect(has, Ok(0)));
                check_eq!(hostname() == "setns-target", has);
            },
        );
        go(w2);
        close_all(&[r, w2]);
        check_eq!(wait_exit(target), Exit::Code(0));
    }

    /// A root process that dropped CAP_SYS_ADMIN from every set (bounding included) cannot get
    /// it back: not by capset, not by setuid(0)/setresuid, not by execve, and setns into a
    /// user container it owns gives it capabilities only inside that container (the root UTS
    /// container still refuses sethostname).
    fn dropped_cap_cannot_be_regained() {
        let full = root_set();
        let admin = bit(CAP_SYS_ADMIN);
        let drop_all = || {
            check_eq!(bset_drop(CAP_SYS_ADMIN), Ok(0));
            check_eq!(drop_cap(CAP_SYS_ADMIN), Ok(0));
        };
        in_child(|| {
            drop_all();
            check_eq!(capset(Caps::ep(full)), Err(EPERM));
            let c = caps();
            check_eq!(
                capset(Caps {
                    inheritable: admin,
                    ..c
                }),
                Err(EPERM)
            );
            check_eq!(setuid(0), Ok(0));
            check_eq!(setresuid(0, 0, 0), Ok(0));
            check_eq!(caps(), Caps::ep(full & !admin));
            check_eq!(
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 21, 0, 0),
                Err(EPERM)
            );
            let h = hostname();
            check_eq!(sethostname(b"regained"), Err(EPERM));
            // A user container of its own: full set inside it, nothing more outside.
            let [r, w] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWUSER | SIGCHLD_EXIT, || {
                let _ = sys::close(w);
                wait_go(r);
            }));
            let _ = sys::close(r);
            let fd = check_ok!(open_path(&format!("/proc/{}/ns/user", b), sys::O_RDONLY));
            check_eq!(setns(fd, CLONE_NEWUSER), Ok(0));
            check_eq!(
                caps(),
                Caps::ep(full_set()),
                "full inside the new container"
            );
            check_eq!(sethostname(b"regained"), Err(EPERM));
            check_eq!(hostname(), h);
            go(w);
            let _ = sys::close(w);
            check_eq!(wait_exit(b), Exit::Code(0));
        });
        let rep = exec_report(drop_all);
        let less = full & !admin;
        check_eq!(rep.as_ref().map(|r| r.permitted), Some(less));
        check_eq!(rep.as_ref().map(|r| r.effective), Some(less));
        check_eq!(rep.as_ref().map(|r| r.bounding), Some(less));
    }

    fn main(args: Args) -> i32 {
        if args.arg_str(1) == Some(REPORT_FLAG) {
            return report_main(args);
        }
        ulib::test::run(ulib::cases![
            root_ids_and_full_sets,
            proc_status_ids_and_caps,
            setuid_root_to_user_clears_caps,
            setuid_with_keepcaps_keeps_permitted,
            euid_changes_toggle_effective,
            setfsuid_and_fs_capabilities,
            setuid_family_unprivileged_rules,
            setgid_family,
            groups,
            capget_header_and_versions,
            capset_rules,
            capbset_read_and_drop,
            no_new_privs,
            ambient_capabilities,
            exec_root_gets_bounding_set,
            exec_with_no_new_privs_gains_nothing,
            exec_root_respects_bounding_set,
            exec_nonroot_has_no_caps,
            exec_nonroot_keeps_ambient,
            sethostname_needs_sys_admin,
            mount_umount_need_sys_admin,
            chroot_needs_sys_chroot,
            kill_other_user_needs_cap_kill,
            setuid_setgid_need_caps,
            set_time_needs_sys_time,
            reboot_needs_sys_boot,
            raising_priority_needs_sys_nice,
            max_container_write_needs_sys_admin,
            new_container_needs_sys_admin,
            setns_needs_sys_admin,
            dropped_cap_cannot_be_regained,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
