//! Capability numbers (Linux's), the sets' masks, securebits, and the rules of
//! `capset` (capabilities(7)). LiteOS-A's capability names map onto these numbers
//! (README keeps the table).

use crate::errno::Errno;

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_BROADCAST: u32 = 11;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_PACCT: u32 = 20;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_SYS_TTY_CONFIG: u32 = 26;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_LEASE: u32 = 28;
pub const CAP_AUDIT_WRITE: u32 = 29;
pub const CAP_AUDIT_CONTROL: u32 = 30;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_MAC_OVERRIDE: u32 = 32;
pub const CAP_MAC_ADMIN: u32 = 33;
pub const CAP_SYSLOG: u32 = 34;
pub const CAP_WAKE_ALARM: u32 = 35;
pub const CAP_BLOCK_SUSPEND: u32 = 36;
pub const CAP_AUDIT_READ: u32 = 37;
pub const CAP_PERFMON: u32 = 38;
pub const CAP_BPF: u32 = 39;
pub const CAP_CHECKPOINT_RESTORE: u32 = 40;
pub const CAP_LAST_CAP: u32 = 40;

/// Every capability this kernel knows.
pub const CAP_FULL: u64 = (1u64 << (CAP_LAST_CAP + 1)) - 1;

pub const fn cap_bit(cap: u32) -> u64 {
    1u64 << cap
}

/// Capabilities tied to the filesystem uid (cleared/raised when fsuid leaves/becomes root).
pub const CAP_FS_MASK: u64 = cap_bit(CAP_CHOWN)
    | cap_bit(CAP_DAC_OVERRIDE)
    | cap_bit(CAP_DAC_READ_SEARCH)
    | cap_bit(CAP_FOWNER)
    | cap_bit(CAP_FSETID)
    | cap_bit(CAP_LINUX_IMMUTABLE)
    | cap_bit(CAP_MAC_OVERRIDE)
    | cap_bit(CAP_MKNOD);

pub const SECBIT_NOROOT: u32 = 1 << 0;
pub const SECBIT_NOROOT_LOCKED: u32 = 1 << 1;
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
pub const SECBIT_NO_SETUID_FIXUP_LOCKED: u32 = 1 << 3;
pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << 5;
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;
pub const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 1 << 7;

pub const LINUX_CAPABILITY_VERSION_1: u32 = 0x1998_0330;
pub const LINUX_CAPABILITY_VERSION_2: u32 = 0x2007_1026;
pub const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The `capset` rules: returns the new (permitted, effective, inheritable).
pub fn check_capset(
    old: (u64, u64, u64),
    new: (u64, u64, u64),
    bounding: u64,
    has_setpcap: bool,
) -> Result<(), Errno> {
    let (op, _oe, oi) = old;
    let (np, ne, ni) = new;
    let inheritable_limit = if has_setpcap { oi | bounding } else { oi | op };
    if ni & !inheritable_limit != 0 || ni & !(oi | bounding) != 0 {
        return Err(Errno::EPERM);
    }
    if np & !op != 0 || ne & !np != 0 {
        return Err(Errno::EPERM);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capset_can_only_drop_permitted_and_effective_stays_within_it() {
        let all = (CAP_FULL, CAP_FULL, 0);
        assert_eq!(
            check_capset(
                all,
                (cap_bit(CAP_KILL), cap_bit(CAP_KILL), 0),
                CAP_FULL,
                true
            ),
            Ok(())
        );
        let small = (cap_bit(CAP_KILL), cap_bit(CAP_KILL), 0);
        assert_eq!(
            check_capset(small, (CAP_FULL, 0, 0), CAP_FULL, false),
            Err(Errno::EPERM)
        );
        assert_eq!(
            check_capset(
                small,
                (cap_bit(CAP_KILL), cap_bit(CAP_CHOWN), 0),
                CAP_FULL,
                false
            ),
            Err(Errno::EPERM)
        );
        assert_eq!(
            check_capset(
                small,
                (cap_bit(CAP_KILL), 0, cap_bit(CAP_KILL)),
                CAP_FULL,
                false
            ),
            Ok(())
        );
        assert_eq!(
            check_capset(
                small,
                (cap_bit(CAP_KILL), 0, cap_bit(CAP_CHOWN)),
                CAP_FULL,
                false
            ),
            Err(Errno::EPERM),
            "inheritable only from permitted without CAP_SETPCAP"
        );
    }
}
