//! Dynamically linked programs: a C program built with `gcc` against glibc (position
//! independent, and with `-no-pie` an `ET_EXEC`) and with `musl-gcc` against musl (none
//! with `-static`), and Debian's own `/bin/ls`, each with
//! its interpreter and libraries copied from the host into an `--add` tree, run under a
//! small static init that execs them one after another.

mod common;

use common::{TempDir, boot, musl_build};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`, failing the test with its stderr when it does not succeed.
fn run_ok(cmd: &mut Command) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Copies the host file `host` (following symlinks) to the same path under `root`.
fn copy_in(root: &Path, host: &Path) {
    let dest = root.join(host.strip_prefix("/").expect("an absolute path"));
    std::fs::create_dir_all(dest.parent().expect("a file in a directory"))
        .unwrap_or_else(|e| panic!("creating the parent of {}: {e}", dest.display()));
    std::fs::copy(host, &dest)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", host.display(), dest.display()));
}

/// The interpreter and libraries `ldd` lists for `program` (the vDSO has no file).
fn glibc_deps(program: &Path) -> Vec<PathBuf> {
    run_ok(Command::new("ldd").arg(program))
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next(),
                None => l.split_whitespace().next(),
            }?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

#[test]
fn glibc_musl_and_debian_ls_run_dynamically_linked() {
    let dir = TempDir::new("dynamic");
    let root = &dir.0;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/dyn.c");
    let glibc = root.join("dyn_glibc");
    run_ok(
        Command::new("gcc")
            .args(["-O2", "-pthread", "-o"])
            .arg(&glibc)
            .arg(&src),
    );
    run_ok(
        Command::new("gcc")
            .args(["-O2", "-no-pie", "-pthread", "-o"])
            .arg(root.join("dyn_nopie"))
            .arg(&src),
    );
    let musl = root.join("dyn_musl");
    run_ok(
        Command::new("musl-gcc")
            .args(["-O2", "-o"])
            .arg(&musl)
            .arg(&src),
    );
    musl_build("dynrun.c", root, "dynrun");
    copy_in(root, Path::new("/bin/ls"));
    let mut deps = glibc_deps(&glibc);
    deps.extend(glibc_deps(Path::new("/bin/ls")));
    let names: Vec<String> = deps
        .iter()
        .filter_map(|d| Some(d.file_name()?.to_str()?.to_owned()))
        .collect();
    for lib in [
        "libc.so.6",
        "libselinux.so.1",
        "libpcre2-8.so.0",
        "ld-linux-x86-64.so.2",
    ] {
        assert!(names.iter().any(|n| n == lib), "ldd lists {lib}: {names:?}");
    }
    for d in &deps {
        copy_in(root, d);
    }
    // musl's interpreter is its libc (a symlink on Debian, copied as the file).
    copy_in(root, Path::new("/lib/ld-musl-x86_64.so.1"));

    let run = boot(&dir, &[], "/dynrun", &[], 300);
    let lines: Vec<&str> = run
        .lines()
        .filter(|l| l.starts_with("dyn") || !l.contains(' ') && !l.is_empty())
        .collect();
    let mut expected = Vec::new();
    for libc in ["glibc", "nopie", "musl"] {
        expected.push(format!("dyn: argc=2 argv[1]={libc}"));
        for l in [
            "dyn: malloc heap",
            "dyn: thread 42",
            "dyn: child exited 7",
            "dyn: printf in a shared object: yes",
            "dyn: auxv base=ld.so entry=_start pagesz=4096 phent=56 ids=0/0/0/0 execfn=argv[0] minsigstksz=yes",
        ] {
            expected.push(l.to_owned());
        }
        expected.push(format!("dynrun: /dyn_{libc} exited 0"));
    }
    let ls_root = [
        "bin",
        "dev",
        "dyn_glibc",
        "dyn_musl",
        "dynrun",
        "init",
        "lib",
        "lib64",
    ];
    let ls_line = run
        .lines()
        .find(|l| l.starts_with("bin "))
        .unwrap_or_default();
    let listed: Vec<&str> = ls_line.split_whitespace().collect();
    for entry in ls_root {
        assert!(
            listed.contains(&entry),
            "`ls /` lists {entry}: {ls_line:?}\n{}",
            run.describe()
        );
    }
    expected.push("dynrun: /bin/ls exited 0".to_owned());
    expected.push("ld-linux-x86-64.so.2".to_owned());
    expected.push("dynrun: /bin/ls exited 0".to_owned());
    assert_eq!(lines, expected, "the programs' output\n{}", run.describe());
    assert_eq!(run.status, Some(0), "dynrun exits 0\n{}", run.describe());
}
