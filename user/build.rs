//! Link arguments for the ring-3 programs (static, non-PIE, at 0x400000 like a Linux binary).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=user.ld");
    if std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-none") {
        println!("cargo:rustc-link-arg-bins=-T{dir}/user.ld");
        println!("cargo:rustc-link-arg-bins=--no-pie");
        // One RW segment: a separate RELRO split puts .bss in its own PT_LOAD on the same page,
        // and Linux maps that one as anonymous memory over the end of .data.
        println!("cargo:rustc-link-arg-bins=-znorelro");
    }
}
