//! Builds the bare-metal crates (`user`, then `kernel`) with a nested cargo for
//! `x86_64-unknown-none` and hands their paths to the runner through `env!`.
//!
//! The nested cargo uses its own target dir (`target/kernel`): the outer cargo
//! holds the lock on `target/`, and sharing it deadlocks silently.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const TARGET: &str = "x86_64-unknown-none";

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let profile = env::var("PROFILE").unwrap_or_else(|_| "debug".into());
    let target_dir = root.join("target").join("kernel");
    for dir in ["kernel", "user", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    for pkg in ["user", "kernel"] {
        let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .args(["build", "-p", pkg, "--target", TARGET, "--target-dir"])
            .arg(&target_dir);
        if profile == "release" {
            cmd.arg("--release");
        }
        if env::var_os("CARGO_NET_OFFLINE").is_some() {
            cmd.arg("--offline");
        }
        for v in [
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTC_WRAPPER",
            "CARGO_BUILD_RUSTC_WRAPPER",
            "CARGO_MAKEFLAGS",
        ] {
            cmd.env_remove(v);
        }
        // Frame pointers, for the backtraces a panic or the watchdog prints.
        cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Cforce-frame-pointers=yes");
        // A build script's stdout is parsed by cargo: send the nested output to stderr.
        cmd.stdout(Stdio::from(std::io::stderr()));
        let status = cmd.status().expect("could not start the nested cargo");
        if !status.success() {
            panic!("building `{pkg}` for {TARGET} failed (see the errors above)");
        }
    }
    let out = target_dir.join(TARGET).join(&profile);
    println!(
        "cargo:rustc-env=KERNEL_ELF={}",
        out.join("kernel").display()
    );
    println!("cargo:rustc-env=USER_BIN_DIR={}", out.display());
}
