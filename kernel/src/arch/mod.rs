//! Architecture support. Only x86_64 exists; all inline assembly lives below here.
pub mod x86_64;

/// `isa-debug-exit` value for a kernel panic (QEMU exit status 255).
pub const EXIT_PANIC: u32 = 0x7f;
