//! `bkrun` with Debian's busybox inside (the host's static `/bin/busybox`): one boot whose
//! init is busybox `sh` running bkrun several times. The host name is the container's, `ps`
//! shows CMD as PID 1 and nothing of the host, `/proc/meminfo` shows `--memory`, with
//! `--cap-add ALL` the default seccomp profile makes `mount`, `unshare`, `nsenter` and
//! `reboot` fail with EPERM while `--seccomp unconfined` lets them work, CMD's status comes
//! back, and `/proc/self/status` shows the bounding set, `NoNewPrivs: 1` and `Seccomp: 2`;
//! `/proc/self/cgroup` is `0::/` and `/sys/fs/cgroup` is there; with `--net` only `lo` and
//! `veth0` are inside, and the root's links are the same before and after.
//! (The in-guest `t_bkrun` covers the rest.)

mod common;

use common::{boot, busybox_dir};

const SCRIPT: &str = r#"/bb/busybox mount -t proc proc /proc
/bin/bkrun --hostname box -- /bb/busybox hostname
/bin/bkrun -- /bb/busybox ps
/bin/bkrun --memory 32m -- /bb/busybox grep MemTotal /proc/meminfo
/bin/bkrun --cap-add ALL -- /bb/busybox mount -t tmpfs none /mnt; echo "mount=$?"
/bin/bkrun --cap-add ALL --seccomp unconfined -- /bb/busybox mount -t tmpfs none /tmp; echo "mount_unconfined=$?"
/bin/bkrun --cap-add ALL -- /bb/busybox unshare -u /bb/busybox true; echo "unshare=$?"
/bin/bkrun --cap-add ALL --seccomp unconfined -- /bb/busybox unshare -u /bb/busybox true; echo "unshare_unconfined=$?"
/bin/bkrun --cap-add ALL -- /bb/busybox nsenter -t 1 -u /bb/busybox true; echo "nsenter=$?"
/bin/bkrun --cap-add ALL --seccomp unconfined -- /bb/busybox nsenter -t 1 -u /bb/busybox true; echo "nsenter_unconfined=$?"
/bin/bkrun --cap-add ALL -- /bb/busybox reboot -f; echo "reboot=$?"
/bin/bkrun -- /bb/busybox sh -c 'exit 7'; echo "status=$?"
/bin/bkrun -- /bb/busybox grep -E '^(NoNewPrivs|Seccomp|CapBnd)' /proc/self/status
/bin/bkrun --memory 32m -- /bb/busybox cat /proc/self/cgroup /sys/fs/cgroup/cgroup.type
links() { /bb/busybox tail -n +3 /proc/net/dev | /bb/busybox cut -d: -f1 | /bb/busybox tr -d ' ' | /bb/busybox tr '\n' ,; }
echo "before=$(links)"
/bin/bkrun --net -- /bb/busybox sh -c 'echo "inside=$(/bb/busybox tail -n +3 /proc/net/dev | /bb/busybox cut -d: -f1 | /bb/busybox tr -d " " | /bb/busybox tr "\n" ,)"'
echo "after=$(links)"
echo "host=$(/bb/busybox hostname)"
[ -e /dev/ptmx ] || /bb/busybox mount -t devtmpfs devtmpfs /dev
/bb/busybox mkdir -p /dev/pts; /bb/busybox mount -t devpts devpts /dev/pts
echo | /bin/bkrun -t -- /bb/busybox test -t 0 -a -t 1 -a -t 2; echo "tty_s=$?"
echo | /bin/bkrun -- /bb/busybox test -t 0; echo "notty_s=$?"
echo done"#;

#[test]
fn bkrun_runs_busybox_in_a_container() {
    let dir = busybox_dir("bkrun", "bb/busybox");
    let run = boot(&dir, &[], "/bb/busybox", &["sh", "-c", SCRIPT], 300);
    let lines: Vec<&str> = run.lines().map(str::trim_end).collect();
    let has = |l: &str| lines.contains(&l);
    assert!(has("done"), "the script should finish\n{}", run.describe());
    assert!(has("box"), "hostname inside\n{}", run.describe());
    assert!(
        !has("host=box"),
        "the host's name is untouched\n{}",
        run.describe()
    );
    // ps: the header and one process, PID 1, which is ps itself.
    let ps: Vec<&&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("PID"))
        .skip(1)
        .take_while(|l| !l.starts_with("MemTotal"))
        .collect();
    assert_eq!(ps.len(), 1, "ps lists one process\n{}", run.describe());
    assert!(
        ps[0].trim_start().starts_with("1 ") && ps[0].ends_with("ps"),
        "ps is PID 1: {:?}\n{}",
        ps[0],
        run.describe()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("MemTotal:") && l.ends_with(" 32768 kB")),
        "meminfo shows --memory 32m\n{}",
        run.describe()
    );
    for (denied, allowed) in [
        ("mount=1", "mount_unconfined=0"),
        ("unshare=1", "unshare_unconfined=0"),
        ("nsenter=1", "nsenter_unconfined=0"),
    ] {
        assert!(
            has(denied) && has(allowed),
            "{denied}, {allowed}\n{}",
            run.describe()
        );
    }
    assert!(has("reboot=1"), "reboot fails\n{}", run.describe());
    // -t: busybox `test -t` (isatty) sees a terminal on 0, 1, 2; without -t stdin is the
    // pipe. (`tty` itself needs ttyname, which reads /proc/self/fd: not there yet.)
    assert!(
        has("tty_s=0") && has("notty_s=1"),
        "test -t under -t and without\n{}",
        run.describe()
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("Operation not permitted"))
            .count()
            >= 3,
        "EPERM from the filter\n{}",
        run.describe()
    );
    assert!(
        has("status=7"),
        "CMD's status comes back\n{}",
        run.describe()
    );
    for l in ["CapBnd:\t00000000a80425fb", "NoNewPrivs:\t1", "Seccomp:\t2"] {
        assert!(has(l), "{l:?} in /proc/self/status\n{}", run.describe());
    }
    assert!(
        has("0::/") && has("domain"),
        "/proc/self/cgroup and /sys/fs/cgroup inside\n{}",
        run.describe()
    );
    assert!(
        has("inside=lo,veth0,"),
        "--net: lo and veth0 inside\n{}",
        run.describe()
    );
    let field = |k: &str| lines.iter().find_map(|l| l.strip_prefix(k));
    assert!(
        field("before=").is_some_and(|b| b.contains("lo,")) && field("before=") == field("after="),
        "the root's links are back after --net\n{}",
        run.describe()
    );
    assert_eq!(run.status, Some(0), "{}", run.describe());
}
