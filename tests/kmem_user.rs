//! `t_kmemns3` on a boot of its own: user containers fill a 32 MiB plimits group to
//! `ENOMEM` (about 87,000 through 29,000 short-lived processes, 2 to 3 minutes under TCG,
//! too long for the suite's shared 600 s, which skips it).

mod common;

use common::bulkhead;
use std::time::Duration;

#[test]
fn user_containers_fill_a_group_to_its_limit_with_enomem() {
    let run = bulkhead(
        &[
            "--timeout",
            "600",
            "--init",
            "/init",
            "t_kmemns3",
            "--append",
            "kmem_slow=1",
            "--append",
            "test_timeout=580",
        ],
        Duration::from_secs(660),
    );
    assert_eq!(run.status, Some(0), "exit status\n{}", run.describe());
    assert!(
        run.lines()
            .any(|l| l.starts_with("  user_containers: ") && l.contains("stopped by errno 12")),
        "the route ran and stopped at ENOMEM\n{}",
        run.describe()
    );
    assert!(
        run.lines().any(|l| l == "ok t_kmemns3"),
        "t_kmemns3 passed\n{}",
        run.describe()
    );
}
