//! What `statfs(2)`/`fstatfs(2)` report about a file system instance: Linux's type magic
//! numbers (`linux/magic.h`), sizes and mount flags, and the x86_64 `struct statfs` bytes.

/// `linux/magic.h` values of the file system types Bulkhead has.
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
pub const RAMFS_MAGIC: u64 = 0x8584_58f6;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const SYSFS_MAGIC: u64 = 0x6265_6572;
pub const MQUEUE_MAGIC: u64 = 0x1980_0202;
pub const NSFS_MAGIC: u64 = 0x6e73_6673;
pub const PIPEFS_MAGIC: u64 = 0x5049_5045;
pub const ANON_INODE_FS_MAGIC: u64 = 0x0904_1934;
pub const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;
pub const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;
pub const SOCKFS_MAGIC: u64 = 0x534f_434b;

/// `f_flags` bits (`ST_*` of statvfs(3)); `ST_VALID` says the field is filled in.
pub const ST_RDONLY: u64 = 1;
pub const ST_NOSUID: u64 = 2;
pub const ST_NODEV: u64 = 4;
pub const ST_NOEXEC: u64 = 8;
pub const ST_VALID: u64 = 0x20;

/// Longest file name every Bulkhead file system takes (`NAME_MAX`).
pub const NAME_MAX: u64 = 255;
const BLOCK: u64 = 4096;

/// `struct statfs` fields, counts in `bsize` blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    pub magic: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: [u32; 2],
    pub namelen: u64,
    pub flags: u64,
}

/// The magic number of a file system type by its `/proc/filesystems` name. `rootfs` and
/// `devtmpfs` are tmpfs on Linux (shmem); `ramblk` (a RAM disk's file system) is a ramfs.
pub fn magic_of(fstype: &str) -> u64 {
    match fstype {
        "tmpfs" | "rootfs" | "devtmpfs" => TMPFS_MAGIC,
        "ramfs" | "ramblk" => RAMFS_MAGIC,
        "proc" => PROC_SUPER_MAGIC,
        "sysfs" => SYSFS_MAGIC,
        "mqueue" => MQUEUE_MAGIC,
        "nsfs" => NSFS_MAGIC,
        "pipefs" => PIPEFS_MAGIC,
        "cgroup2" => CGROUP2_SUPER_MAGIC,
        "devpts" => DEVPTS_SUPER_MAGIC,
        "sockfs" => SOCKFS_MAGIC,
        _ => ANON_INODE_FS_MAGIC,
    }
}

impl StatFs {
    /// A file system without a size (proc, sysfs, mqueue, pipes): zero blocks and files,
    /// as Linux's `simple_statfs`.
    pub fn of_type(fstype: &str, dev: u64) -> StatFs {
        StatFs {
            magic: magic_of(fstype),
            bsize: BLOCK,
            fsid: [dev as u32, (dev >> 32) as u32],
            namelen: NAME_MAX,
            ..Default::default()
        }
    }

    /// One holding `used` of at most `limit` pages (`None`: no limit, reported as
    /// ramfs does: zero blocks).
    pub fn with_pages(mut self, used: u64, limit: Option<u64>) -> StatFs {
        if let Some(limit) = limit {
            self.blocks = limit;
            self.bfree = limit.saturating_sub(used);
            self.bavail = self.bfree;
        }
        self
    }

    /// The mount's per-mount flags (`MS_RDONLY`... have the `ST_*` values) plus `ST_VALID`.
    pub fn with_mount_flags(mut self, ms_flags: u64) -> StatFs {
        self.flags = ST_VALID | (ms_flags & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC));
        self
    }

    /// The 120 bytes of x86_64 `struct statfs`.
    pub fn to_bytes(&self) -> [u8; 120] {
        let mut b = [0u8; 120];
        let words = [
            self.magic,
            self.bsize,
            self.blocks,
            self.bfree,
            self.bavail,
            self.files,
            self.ffree,
            (self.fsid[0] as u64) | ((self.fsid[1] as u64) << 32),
            self.namelen,
            self.bsize, // f_frsize
            self.flags,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_are_linuxs() {
        assert_eq!(magic_of("tmpfs"), 0x01021994);
        assert_eq!(magic_of("proc"), 0x9fa0);
        assert_eq!(magic_of("mqueue"), 0x19800202);
        assert_eq!(magic_of("devtmpfs"), TMPFS_MAGIC);
    }

    #[test]
    fn layout_matches_struct_statfs() {
        let s = StatFs::of_type("tmpfs", 0x1_0000_0022)
            .with_pages(3, Some(10))
            .with_mount_flags(1 | 8 | (1 << 20));
        let b = s.to_bytes();
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        assert_eq!(word(0), TMPFS_MAGIC);
        assert_eq!(word(1), 4096);
        assert_eq!((word(2), word(3), word(4)), (10, 7, 7));
        assert_eq!(word(7), 0x1_0000_0022, "f_fsid: two ints");
        assert_eq!(word(8), 255);
        assert_eq!(word(9), 4096, "f_frsize");
        assert_eq!(word(10), ST_VALID | ST_RDONLY | ST_NOEXEC);
        assert!(b[88..].iter().all(|&x| x == 0), "f_spare");
    }

    #[test]
    fn unlimited_instances_report_no_blocks() {
        let s = StatFs::of_type("ramfs", 5).with_pages(3, None);
        assert_eq!((s.blocks, s.bfree, s.magic), (0, 0, RAMFS_MAGIC));
    }
}
