//! A static-PIE program (ET_DYN without an interpreter) runs as init. Debian's
//! `musl-gcc -static-pie` links a dynamic loader in, so the test links musl's `rcrt1.o`
//! by hand (`--no-dynamic-linker`) to get a real static-PIE.

mod common;

use common::{TempDir, boot};
use std::path::Path;
use std::process::Command;

fn gcc_file(name: &str) -> String {
    let out = Command::new("gcc")
        .arg(format!("-print-file-name={name}"))
        .output()
        .expect("gcc runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn static_pie_program_runs_as_init() {
    let dir = TempDir::new("static-pie");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/pie.c");
    let lib = "/usr/lib/x86_64-linux-musl";
    let out = dir.0.join("pie");
    let status = Command::new("musl-gcc")
        .args([
            "-fPIE",
            "-O2",
            "-static-pie",
            "-nostartfiles",
            "-Wl,--no-dynamic-linker",
        ])
        .arg(format!("{lib}/rcrt1.o"))
        .arg(format!("{lib}/crti.o"))
        .arg(gcc_file("crtbeginS.o"))
        .arg(&src)
        .args(["-Wl,-Bstatic", "-lc"])
        .arg(gcc_file("crtendS.o"))
        .arg(format!("{lib}/crtn.o"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("musl-gcc runs (apt-get install musl-tools, as .ci/run does)");
    assert!(status.success(), "building the static-PIE program");
    let elf = std::fs::read(&out).expect("the program was built");
    assert_eq!(
        u16::from_le_bytes([elf[16], elf[17]]),
        3,
        "ET_DYN: position independent"
    );

    let run = boot(&dir, &[], "/pie", &[], 120);
    assert!(
        run.lines().any(|l| l == "pie: main above 0x10000: 1"),
        "the static-PIE program ran\n{}",
        run.describe()
    );
    assert_eq!(run.status, Some(0), "its exit status\n{}", run.describe());
}
