//! Machine-wide limits Linux keeps under `/proc/sys` (`fs/nr_open`, `fs/mount-max`,
//! `fs/file-max`, `kernel/threads-max`, `vm/max_map_count`, and the read-only `fs/file-nr`): their values, Linux's defaults and ranges, and the text a read
//! shows and a write parses. The users read the atomics directly.

pub mod kernel;

use crate::errno::Errno;
use core::sync::atomic::{AtomicU64, Ordering};

/// `fs/nr_open`: the highest `RLIMIT_NOFILE` may go (Linux's default, 1024 * 1024).
pub static NR_OPEN: AtomicU64 = AtomicU64::new(1 << 20);
/// `fs/mount-max`: the most mounts one mount tree may hold.
pub static MOUNT_MAX: AtomicU64 = AtomicU64::new(100_000);
/// `kernel/threads-max`: the most threads the machine runs; a fork or thread beyond it
/// gives `EAGAIN`. Set from memory at boot ([`init_threads_max`]).
pub static THREADS_MAX: AtomicU64 = AtomicU64::new(MIN_THREADS);

/// `fs/file-max`: the most open file descriptions the machine holds; an open beyond it
/// gives `ENFILE` without `CAP_SYS_ADMIN`. Set from memory at boot ([`init_file_max`]).
/// `vm/max_map_count`: the most memory areas one address space holds (`mm::vma`).
pub static MAX_MAP_COUNT: AtomicU64 = AtomicU64::new(65_530);

pub static FILE_MAX: AtomicU64 = AtomicU64::new(NR_FILE);
/// Linux's floor for file-max (`NR_FILE`).
const NR_FILE: u64 = 8192;

/// Linux's bounds for threads-max (`MIN_THREADS`, `FUTEX_TID_MASK`).
const MIN_THREADS: u64 = 20;
const MAX_THREADS: u64 = 0x3fff_ffff;
/// Linux's x86_64 `THREAD_SIZE`, which its default for threads-max is derived from.
const LINUX_THREAD_SIZE: u64 = 16 * 1024;
/// Linux's bounds for nr_open (`BITS_PER_LONG`, `sysctl_nr_open_max` on 64-bit).
const NR_OPEN_MIN: u64 = 64;
const NR_OPEN_MAX: u64 = 2_147_483_584;

/// One tunable: where it lives, its value, the range a write must fall in, and the
/// capability a write needs.
pub struct Tunable {
    pub dir: Dir,
    pub name: &'static str,
    value: &'static AtomicU64,
    min: u64,
    max: u64,
    cap: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    Fs,
    Kernel,
    Vm,
}

pub static TUNABLES: [Tunable; 5] = [
    Tunable {
        dir: Dir::Fs,
        name: "file-max",
        value: &FILE_MAX,
        min: 0,
        max: i64::MAX as u64,
        cap: crate::cred::CAP_SYS_ADMIN,
    },
    Tunable {
        dir: Dir::Fs,
        name: "mount-max",
        value: &MOUNT_MAX,
        min: 1,
        max: i32::MAX as u64,
        cap: crate::cred::CAP_SYS_ADMIN,
    },
    Tunable {
        dir: Dir::Fs,
        name: "nr_open",
        value: &NR_OPEN,
        min: NR_OPEN_MIN,
        max: NR_OPEN_MAX,
        cap: crate::cred::CAP_SYS_ADMIN,
    },
    Tunable {
        dir: Dir::Kernel,
        name: "threads-max",
        value: &THREADS_MAX,
        min: MIN_THREADS,
        max: MAX_THREADS,
        cap: crate::cred::CAP_SYS_RESOURCE,
    },
    Tunable {
        dir: Dir::Vm,
        name: "max_map_count",
        value: &MAX_MAP_COUNT,
        min: 0,
        max: i32::MAX as u64,
        cap: crate::cred::CAP_SYS_ADMIN,
    },
];

/// Linux's `set_max_threads`: as many threads as would let their stacks take an eighth
/// of memory, within Linux's bounds.
pub fn default_threads_max(total_bytes: u64) -> u64 {
    (total_bytes / (LINUX_THREAD_SIZE * 8)).clamp(MIN_THREADS, MAX_THREADS)
}

/// Sets threads-max from the memory the machine has (once, at boot).
pub fn init_threads_max(total_bytes: u64) {
    THREADS_MAX.store(default_threads_max(total_bytes), Ordering::Relaxed);
}

/// Linux's `files_maxfiles_init`: a tenth of the memory not in use at boot (plus half
/// again of what is), in KiB, at least `NR_FILE`.
pub fn default_file_max(total_pages: u64, free_pages: u64) -> u64 {
    let used = total_pages.saturating_sub(free_pages);
    let reserve = (used * 3 / 2).min(total_pages.saturating_sub(1));
    ((total_pages - reserve) * 4 / 10).max(NR_FILE)
}

/// Sets file-max from the memory the machine has (once, at boot).
pub fn init_file_max(total_pages: u64, free_pages: u64) {
    FILE_MAX.store(default_file_max(total_pages, free_pages), Ordering::Relaxed);
}

/// `fs/file-nr`: open file descriptions, free ones (always 0 since Linux 2.6), file-max.
pub fn render_file_nr(open: u64) -> alloc::string::String {
    alloc::format!("{open}\t0\t{}\n", FILE_MAX.load(Ordering::Relaxed))
}

/// Whether one more file may be opened: `ENFILE` at file-max without `CAP_SYS_ADMIN`.
pub fn check_file_max(open: u64) -> Result<(), Errno> {
    if open >= FILE_MAX.load(Ordering::Relaxed)
        && super::env::require_cap(crate::cred::CAP_SYS_ADMIN).is_err()
    {
        return Err(Errno::ENFILE);
    }
    Ok(())
}

impl Tunable {
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    /// What a read shows: the value and a newline.
    pub fn render(&self) -> alloc::string::String {
        alloc::format!("{}\n", self.get())
    }

    /// A write: `cap` needed (`EPERM`), then one decimal number (surrounding white space
    /// allowed) within the range, else `EINVAL`.
    pub fn write(&self, text: &[u8]) -> Result<(), Errno> {
        super::env::require_cap(self.cap)?;
        let v = parse(text).ok_or(Errno::EINVAL)?;
        if v < self.min || v > self.max {
            return Err(Errno::EINVAL);
        }
        self.value.store(v, Ordering::Relaxed);
        Ok(())
    }
}

fn parse(text: &[u8]) -> Option<u64> {
    let s = core::str::from_utf8(text).ok()?.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The tunable `name` in `dir`, by its index in [`TUNABLES`].
pub fn find(dir: Dir, name: &str) -> Option<usize> {
    TUNABLES.iter().position(|t| t.dir == dir && t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_max_follows_linux_formula() {
        assert_eq!(default_threads_max(512 << 20), 4096);
        assert_eq!(default_threads_max(1 << 20), MIN_THREADS);
    }

    #[test]
    fn file_max_follows_linux_formula() {
        // 512 MiB with 24 MiB in use: (131072 - 9216) * 4 / 10.
        assert_eq!(default_file_max(131_072, 124_928), 48_742);
        assert_eq!(default_file_max(4096, 0), NR_FILE);
        assert_eq!(render_file_nr(3).split('\t').next(), Some("3"));
    }

    #[test]
    fn writes_parse_digits_within_the_range() {
        assert_eq!(parse(b" 42\n"), Some(42));
        assert_eq!(parse(b"-1"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"1 2"), None);
        let t = &TUNABLES[find(Dir::Fs, "nr_open").expect("nr_open")];
        assert_eq!(t.get(), 1 << 20);
        assert_eq!(t.write(b"63"), Err(Errno::EINVAL));
        assert_eq!(t.write(b"2147483585"), Err(Errno::EINVAL));
        assert_eq!(find(Dir::Kernel, "mount-max"), None);
    }
}
