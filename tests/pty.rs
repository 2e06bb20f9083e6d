//! Job control through a pseudo-terminal with a real shell: Debian's busybox-static
//! (`/bin/busybox`, added with `--add`) runs `sh -i` on a pty slave inside the guest and
//! `t_pty` drives it through the master (`sleep 100 &`, `jobs`, `fg`, ^Z, `bg`, ^C).

mod common;

use common::{TempDir, bulkhead};
use std::time::Duration;

#[test]
fn busybox_sh_job_control_through_a_pty() {
    let busybox = std::path::Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: install Debian's busybox-static (.ci/run does)"
    );
    let dir = TempDir::new("pty-busybox");
    std::fs::create_dir_all(dir.0.join("bin")).expect("bin dir");
    std::fs::copy(busybox, dir.0.join("bin/busybox")).expect("copying busybox");
    let args = [
        "--timeout",
        "300",
        "--add",
        dir.path(),
        "--init",
        "/tests/t_pty",
    ];
    let run = bulkhead(&args, Duration::from_secs(360));
    for case in [
        "PASS ptmx_numbering_and_lock",
        "PASS devpts_mounts_number_separately",
        "PASS line_discipline_and_poll_through_a_pair",
        "PASS ctrl_c_and_ctrl_z_reach_the_foreground_group",
        "PASS session_leader_exit_hangs_up_the_terminal",
        "PASS busybox_sh_job_control",
    ] {
        assert!(
            run.lines().any(|l| l == case),
            "{case} missing\n{}",
            run.describe()
        );
    }
    assert_eq!(run.status, Some(0), "t_pty passes\n{}", run.describe());
}
