//! A static glibc program runs although `rseq` gives `ENOSYS`: glibc 2.35+ registers rseq
//! at start and for each thread, and goes on without it (`__rseq_size` 0).

mod common;

use common::{TempDir, boot};
use std::path::Path;
use std::process::Command;

#[test]
fn static_glibc_program_runs_without_rseq() {
    let dir = TempDir::new("glibc_static");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/glibc_static.c");
    let out = Command::new("gcc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(dir.0.join("glibc_static"))
        .arg(&src)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc -static failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = boot(&dir, &[], "/glibc_static", &[], 120);
    let lines: Vec<&str> = run
        .lines()
        .filter(|l| l.starts_with("glibc_static:"))
        .collect();
    assert_eq!(
        lines,
        [
            "glibc_static: rseq_size=0 rseq(NULL)=-1 errno=38",
            "glibc_static: thread cpu=0 main cpu=0",
        ],
        "{}",
        run.describe()
    );
    assert_eq!(run.status, Some(0), "exit status\n{}", run.describe());
}
