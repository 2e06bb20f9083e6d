//! Per-type container counts and limits (`/proc/sys/user/max_<type>_container`).
//! A [`Slot`] is one counted container: taking it checks the limit, dropping it gives
//! it back, so teardown cannot forget.

use super::Kind;
use crate::errno::Errno;
use spin::Mutex;

/// LiteOS-A's default limit (`LOSCFG_KERNEL_CONTAINER_DEFAULT_LIMIT`).
pub const DEFAULT_LIMIT: u32 = 10;
/// The largest value a write accepts (so scale tests can raise it).
pub const MAX_LIMIT: u32 = 1_000_000;

struct Table {
    limit: [u32; Kind::COUNT],
    count: [u32; Kind::COUNT],
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    limit: [DEFAULT_LIMIT; Kind::COUNT],
    count: [0; Kind::COUNT],
});

/// One live container of a kind, counted against its limit.
#[derive(Debug)]
pub struct Slot {
    kind: Kind,
}

impl Slot {
    /// Takes a slot; `ENOSPC` when the count has reached the limit (the count includes
    /// the root container).
    pub fn acquire(kind: Kind) -> Result<Slot, Errno> {
        let mut t = TABLE.lock();
        let i = kind.index();
        if t.count[i] >= t.limit[i] {
            return Err(Errno::ENOSPC);
        }
        t.count[i] += 1;
        Ok(Slot { kind })
    }

    /// The root container's slot: always granted.
    pub fn root(kind: Kind) -> Slot {
        TABLE.lock().count[kind.index()] += 1;
        Slot { kind }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        TABLE.lock().count[self.kind.index()] -= 1;
    }
}

/// `(limit, count)` of a kind.
pub fn get(kind: Kind) -> (u32, u32) {
    let t = TABLE.lock();
    (t.limit[kind.index()], t.count[kind.index()])
}

/// The text of `/proc/sys/user/max_<kind>_container` (LiteOS-A's format, leading newline kept).
pub fn render(kind: Kind) -> alloc::string::String {
    let (limit, count) = get(kind);
    alloc::format!("\nlimit: {limit}\ncount: {count}\n")
}

/// A write to `max_<kind>_container`: decimal digits only (no newline), at most
/// [`MAX_LIMIT`]; otherwise `EINVAL`.
pub fn write(kind: Kind, text: &[u8]) -> Result<(), Errno> {
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) {
        return Err(Errno::EINVAL);
    }
    let v = text.iter().fold(0u64, |a, &d| a * 10 + (d - b'0') as u64);
    if v > MAX_LIMIT as u64 {
        return Err(Errno::EINVAL);
    }
    TABLE.lock().limit[kind.index()] = v as u32;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table is global: each test uses its own kind so parallel tests do not interfere.

    #[test]
    fn slots_count_up_to_the_limit_then_enospc_and_come_back_on_drop() {
        let k = Kind::Net;
        let base = get(k).1;
        write(k, format!("{}", base + 2).as_bytes()).expect("valid limit");
        let a = Slot::acquire(k).expect("below the limit");
        let b = Slot::acquire(k).expect("at limit - 1");
        assert_eq!(Slot::acquire(k).unwrap_err(), Errno::ENOSPC);
        assert_eq!(get(k).1, base + 2);
        drop(a);
        drop(b);
        assert_eq!(get(k).1, base);
        write(k, b"10").expect("valid limit");
    }

    #[test]
    fn writes_accept_digits_only_up_to_a_million() {
        let k = Kind::Time;
        assert_eq!(write(k, b"12\n"), Err(Errno::EINVAL));
        assert_eq!(write(k, b""), Err(Errno::EINVAL));
        assert_eq!(write(k, b"-1"), Err(Errno::EINVAL));
        assert_eq!(write(k, b"1000001"), Err(Errno::EINVAL));
        assert_eq!(write(k, b"1000000"), Ok(()));
        assert_eq!(get(k).0, 1_000_000);
        write(k, b"10").expect("valid limit");
    }

    #[test]
    fn render_keeps_liteos_format() {
        let k = Kind::Ipc;
        let (l, c) = get(k);
        assert_eq!(render(k), format!("\nlimit: {l}\ncount: {c}\n"));
    }
}
