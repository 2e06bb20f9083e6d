//! Job control through a pseudo-terminal with a real shell: Debian's busybox-static
//! (`/bin/busybox`, added with `--add`) runs `sh -i` on a pty slave inside the guest and
//! `t_pty` drives it through the master (`sleep 100 &`, `jobs`, `fg`, ^Z, `bg`, ^C).

mod common;

use common::{boot, busybox_dir};

#[test]
fn busybox_sh_job_control_through_a_pty() {
    let dir = busybox_dir("pty-busybox", "bin/busybox");
    let run = boot(&dir, &[], "/tests/t_pty", &[], 300);
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
