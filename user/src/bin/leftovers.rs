//! Programs that leave things behind on purpose, for the suite's init to take back
//! (`tests/leftovers.rs` copies this binary into /tests under three names; argv[0] picks the
//! part it plays, and init runs them in name order):
//! - `*hang`: moves into a plimits group of its own, starts a process in new UTS, IPC, mount,
//!   network and PID containers (whose init has a child), and one that forks a sleeping child
//!   every 20 ms; then never ends, ignoring `SIGTERM`: init's timeout must end it.
//! - `*leave`: makes a plimits group, starts a process in new UTS and PID containers and exits 0
//!   at once: init must report what it left.
//! - `*check`: the cases below, run after the other two: nothing of theirs is left.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use ulib::container::{
        CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, list_dir, list_pids,
        read_text, sleep_forever, stat_path, unshare, write_text,
    };
    use ulib::rt::set_disposition;
    use ulib::sys;
    use ulib::{Args, cases, check_eq, println};

    /// Forks a child that runs `f` and never returns from it.
    fn spawn(f: impl FnOnce()) {
        match sys::fork() {
            Ok(0) => {
                f();
                sleep_forever()
            }
            Ok(_) => {}
            Err(e) => println!("leftovers: fork: errno {}", e),
        }
    }

    fn report<T>(what: &str, r: sys::SysResult<T>) {
        if let Err(e) = r {
            println!("leftovers: {}: errno {}", what, e);
        }
    }

    fn make_group(name: &str, join: bool) {
        let dir = format!("/proc/plimits/{name}");
        let path = alloc::ffi::CString::new(dir.as_str()).expect("no NUL in a group's path");
        report("mkdir group", sys::mkdir(&path, 0o755));
        if join {
            let me = format!("{}", sys::getpid());
            report(
                "join group",
                write_text(&format!("{dir}/plimits.procs"), me.as_bytes()),
            );
        }
    }

    fn hang() -> ! {
        let _ = set_disposition(sys::SIGTERM, sys::SIG_IGN);
        make_group("leftovers_hang", true);
        spawn(|| {
            report(
                "unshare",
                unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID),
            );
            // PID 1 of the new PID container, with a child of its own.
            spawn(|| spawn(|| {}));
        });
        spawn(|| {
            for _ in 0..500 {
                spawn(|| {});
                let _ = sys::sleep_ms(20);
            }
        });
        println!("leftovers: hanging");
        sleep_forever()
    }

    fn leave() -> i32 {
        make_group("leftovers_leave", false);
        spawn(|| {
            report("unshare", unshare(CLONE_NEWUTS | CLONE_NEWPID));
            spawn(|| {});
        });
        println!("leftovers: leaving");
        0
    }

    /// Only init and this program are left.
    fn no_process_is_left_but_init_and_me() {
        let me = sys::getpid();
        let mut pids = list_pids().unwrap_or_default();
        pids.retain(|&p| p != 1 && p != me);
        check_eq!(pids, [], "processes besides init (1) and me ({})", me);
    }

    /// Every container type is back to its root alone (`count:` of
    /// /proc/sys/user/max_<type>_container).
    fn every_container_type_is_back_to_its_root() {
        for t in ["user", "pid", "uts", "mnt", "ipc", "time", "net", "cgroup"] {
            let text = read_text(&format!("/proc/sys/user/max_{t}_container")).unwrap_or_default();
            let count = text
                .lines()
                .find_map(|l| l.strip_prefix("count: "))
                .and_then(|c| c.trim().parse::<u32>().ok());
            check_eq!(count, Some(1), "live {} containers", t);
        }
    }

    /// The groups the others made are gone: /proc/plimits holds the root's files alone.
    fn no_plimits_group_is_left() {
        let names = list_dir("/proc/plimits").unwrap_or_default();
        let groups: alloc::vec::Vec<_> = names
            .into_iter()
            .filter(|n| {
                stat_path(&format!("/proc/plimits/{n}"))
                    .is_ok_and(|st| st.st_mode & 0o170000 == 0o040000)
            })
            .collect();
        check_eq!(groups.len(), 0, "groups {:?}", groups);
    }

    fn main(args: Args) -> i32 {
        let me = args.arg_str(0).unwrap_or("");
        if me.ends_with("hang") {
            hang()
        } else if me.ends_with("leave") {
            leave()
        } else {
            ulib::test::run(cases![
                no_process_is_left_but_init_and_me,
                every_container_type_is_back_to_its_root,
                no_plimits_group_is_left,
            ])
        }
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
