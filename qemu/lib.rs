//! Bulkhead's host runner (minimal bring-up version).
use std::path::PathBuf;
use std::process::Command;

pub const KERNEL_ELF: &str = env!("KERNEL_ELF");
pub const USER_BIN_DIR: &str = env!("USER_BIN_DIR");

/// Packs `(path in archive, contents)` entries as a cpio newc archive.
pub fn cpio_newc(entries: &[(String, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ino = 1;
    let mut push = |name: &str, mode: u32, data: &[u8], out: &mut Vec<u8>| {
        let hdr = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            ino, mode, 0, 0, 1, 0, data.len(), 0, 0, 0, 0, name.len() + 1, 0
        );
        ino += 1;
        out.extend_from_slice(hdr.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (name, mode, data) in entries {
        push(name, *mode, data, &mut out);
    }
    push("TRAILER!!!", 0, &[], &mut out);
    out
}

pub fn qemu_command(initrd: &PathBuf) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    c.args(["-accel", "tcg", "-kernel", KERNEL_ELF, "-initrd"])
        .arg(initrd)
        .args(["-display", "none", "-serial", "stdio", "-no-reboot", "-m", "512"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    c
}
