//! Fill routes that need a kernel command line of their own (the suite's are in-guest
//! `t_kmem*` programs run by `tests/boot.rs`).

mod common;

use common::bulkhead;
use std::time::Duration;

/// `t_kmemns3`'s user-container route at Linux's depth (32 levels per clone, so the fill
/// takes seconds instead of minutes): `ENOMEM` at a 32 MiB group's limit, `MemFree` at
/// most 34 MiB lower, everything back after (the program's own checks).
#[test]
fn user_containers_fill_a_32_mib_group() {
    let run = bulkhead(
        &[
            "--timeout",
            "300",
            "--append",
            "user_container.max_level=32",
            "--append",
            "kmem_user_levels=32",
            "--init",
            "/tests/t_kmemns3",
        ],
        Duration::from_secs(360),
    );
    assert!(
        run.lines()
            .any(|l| l == "PASS user_containers_stop_at_the_group_limit_with_enomem"),
        "the route passes\n{}",
        run.describe()
    );
    let route = run
        .lines()
        .find(|l| l.trim_start().starts_with("user_containers: "))
        .unwrap_or_else(|| panic!("no route line\n{}", run.describe()));
    assert!(route.contains("stopped by errno 12"), "{route}");
    assert_eq!(run.status, Some(0), "exit status\n{}", run.describe());
}
