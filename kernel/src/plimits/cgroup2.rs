//! What Linux's cgroup v2 interface (`fs/cgroupfs.rs`) adds to a plimits group: the
//! controllers enabled for its children (`cgroup.subtree_control`), the freezer
//! (`cgroup.freeze`), and the text rules of its files (`max`, `$MAX $PERIOD`, byte
//! suffixes, `+cpu -memory`). The limits themselves are plimits' own: a value written
//! here is the value of the plimits file, in plimits' units.

use super::{Group, glue, root};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use spin::Mutex;

/// Held by the changes whose checks read other groups' state (`subtree_control` writes,
/// `cgroup.procs` moves): each check and its change are one step (Linux's
/// `cgroup_mutex`). Nothing under it sleeps.
static TREE: Mutex<()> = Mutex::new(());

/// The controllers plimits' limiters show through: a bit each.
pub const CPU: u8 = 1;
pub const MEMORY: u8 = 2;
pub const PIDS: u8 = 4;
/// Their names in Linux's order (`cgroup.controllers`).
pub const CONTROLLERS: [(&str, u8); 3] = [("cpu", CPU), ("memory", MEMORY), ("pids", PIDS)];
/// Every controller: what the root offers.
pub const ALL: u8 = CPU | MEMORY | PIDS;

/// Linux's `cpu.max` default period and bounds, in µs.
pub const CPU_PERIOD_DEFAULT: u64 = 100_000;
const CPU_PERIOD_MIN: u64 = 1_000;
const CPU_PERIOD_MAX: u64 = 1_000_000;
const CPU_QUOTA_MIN: u64 = 1_000;

/// A group's cgroup2-only state.
#[derive(Default)]
pub struct State {
    subtree: AtomicU8,
    frozen: AtomicBool,
}

impl State {
    /// The controllers enabled for the children (`cgroup.subtree_control`).
    pub fn subtree(&self) -> u8 {
        self.subtree.load(Ordering::Relaxed)
    }

    pub fn frozen(&self) -> bool {
        self.frozen.load(Ordering::Relaxed)
    }
}

/// The controllers group `g` offers (`cgroup.controllers`): all at the root, what the
/// root enabled for its children in a child.
pub fn controllers(g: &Group) -> u8 {
    if g.is_root() {
        ALL
    } else {
        root().cg2.subtree()
    }
}

/// `cgroup.controllers`/`cgroup.subtree_control` text: names in Linux's order, then a
/// newline.
pub fn render_controllers(mask: u8) -> String {
    let mut s = String::new();
    for (name, bit) in CONTROLLERS {
        if mask & bit != 0 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(name);
        }
    }
    s.push('\n');
    s
}

/// Text written to a cgroup file without the blanks around it (`echo` adds a newline).
pub fn trim(text: &[u8]) -> &[u8] {
    text.trim_ascii()
}

/// A `cgroup.subtree_control` write: `+name` and `-name` words. `(enable, disable)`;
/// `EINVAL` for a malformed word, an unknown name or one named both ways, `ENOENT`
/// for a controller the group does not offer (Linux's errnos).
pub fn parse_subtree(text: &[u8], offered: u8) -> Result<(u8, u8), Errno> {
    let text = core::str::from_utf8(text).map_err(|_| Errno::EINVAL)?;
    let (mut on, mut off) = (0u8, 0u8);
    for word in text.split_ascii_whitespace() {
        let (sign, name) = word.split_at_checked(1).ok_or(Errno::EINVAL)?;
        let bit = CONTROLLERS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or(Errno::EINVAL)?;
        if offered & bit == 0 {
            return Err(Errno::ENOENT);
        }
        match sign {
            "+" => on |= bit,
            "-" => off |= bit,
            _ => return Err(Errno::EINVAL),
        }
    }
    if on & off != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((on, off))
}

/// Writes `cgroup.subtree_control` of `g`. A child with members refuses to enable
/// any (`EBUSY`, Linux's no-internal-process rule); the root refuses to disable one a
/// child still enables (`EBUSY`).
pub fn set_subtree(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    let _tree = TREE.lock();
    let (on, off) = parse_subtree(trim(text), controllers(g))?;
    if !g.is_root() && on != 0 && glue::live_count(g) > 0 {
        return Err(Errno::EBUSY);
    }
    if g.is_root() && super::children().iter().any(|c| c.cg2.subtree() & off != 0) {
        return Err(Errno::EBUSY);
    }
    g.cg2
        .subtree
        .store((g.cg2.subtree() | on) & !off, Ordering::Relaxed);
    Ok(())
}

/// `max` (`None`) or a decimal number.
fn parse_max(text: &[u8]) -> Result<Option<u64>, Errno> {
    if text == b"max" {
        return Ok(None);
    }
    super::parse_number(text).map(Some)
}

/// `memory.max`'s value: `max` or bytes with an optional `K`, `M`, `G` or `T`
/// suffix (Linux's `memparse`). `None` for `max`.
pub fn parse_bytes(text: &[u8]) -> Result<Option<u64>, Errno> {
    let text = trim(text);
    let (digits, shift) = match text.last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&text[..text.len() - 1], 10),
        Some(b'M') => (&text[..text.len() - 1], 20),
        Some(b'G') => (&text[..text.len() - 1], 30),
        Some(b'T') => (&text[..text.len() - 1], 40),
        _ => (text, 0),
    };
    match parse_max(digits)? {
        None if shift == 0 => Ok(None),
        None => Err(Errno::EINVAL),
        Some(v) => v.checked_mul(1 << shift).map(Some).ok_or(Errno::EINVAL),
    }
}

/// `pids.max`'s value: `max` (`None`) or a number.
pub fn parse_pids(text: &[u8]) -> Result<Option<u64>, Errno> {
    parse_max(trim(text))
}

/// A number, or `max` when it is `unlimited`, and a newline.
pub fn render_max(v: u64, unlimited: bool) -> String {
    let mut s = String::new();
    if unlimited {
        s.push_str("max\n");
    } else {
        let _ = writeln!(s, "{v}");
    }
    s
}

/// `cpu.max` of plimits' `sched.quota`/`sched.period` (µs; quota 0 is no limit, a
/// period 0 reads as Linux's default).
pub fn render_cpu_max(quota_us: u64, period_us: u64) -> String {
    let period = if period_us == 0 {
        CPU_PERIOD_DEFAULT
    } else {
        period_us
    };
    let mut s = String::new();
    if quota_us == 0 {
        let _ = writeln!(s, "max {period}");
    } else {
        let _ = writeln!(s, "{quota_us} {period}");
    }
    s
}

/// A `cpu.max` write (`$MAX [$PERIOD]`, `$MAX` a number of µs or `max`) given the
/// current period: the new `(quota, period)` in plimits' terms (quota 0: no limit).
/// Linux's bounds: period 1 ms..1 s, quota at least 1 ms (`EINVAL`). One CPU: a quota
/// above the period is `EINVAL` (plimits' rule).
pub fn parse_cpu_max(text: &[u8], period_us: u64) -> Result<(u64, u64), Errno> {
    let text = core::str::from_utf8(trim(text)).map_err(|_| Errno::EINVAL)?;
    let mut words = text.split_ascii_whitespace();
    let max = parse_max(words.next().ok_or(Errno::EINVAL)?.as_bytes())?;
    let period = match words.next() {
        Some(w) => super::parse_number(w.as_bytes())?,
        None if period_us == 0 => CPU_PERIOD_DEFAULT,
        None => period_us,
    };
    if words.next().is_some() || !(CPU_PERIOD_MIN..=CPU_PERIOD_MAX).contains(&period) {
        return Err(Errno::EINVAL);
    }
    let quota = max.unwrap_or(0);
    if max.is_some() && (quota < CPU_QUOTA_MIN || quota > period) {
        return Err(Errno::EINVAL);
    }
    Ok((quota, period))
}

/// Whether `g` has live members (`cgroup.events` `populated`; zombies do not count).
pub fn populated(g: &Arc<Group>) -> bool {
    glue::live_count(g) > 0
}

/// `cgroup.freeze` of a child: `0` or `1` (`EINVAL` otherwise). Frozen members are
/// passed over by the scheduler (a member with SIGKILL pending still runs, to die).
pub fn set_frozen(g: &Group, text: &[u8]) -> Result<(), Errno> {
    let v = match trim(text) {
        b"0" => false,
        b"1" => true,
        _ => return Err(Errno::EINVAL),
    };
    g.cg2.frozen.store(v, Ordering::Relaxed);
    Ok(())
}

/// `cgroup.kill` of a child: `1` sends SIGKILL to every member (`EINVAL` otherwise).
pub fn kill(g: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    if trim(text) != b"1" {
        return Err(Errno::EINVAL);
    }
    glue::kill_members(g);
    Ok(())
}

/// A `cgroup.procs` write: process `pid` (the writer's view; 0 is the writer) joins
/// `to`, the root included (unlike `plimits.procs`). `ESRCH` for no such live
/// process, `EBUSY` into a child that enables controllers for children, plimits'
/// `EACCES` when it does not fit a child's limits.
pub fn move_pid(to: &Arc<Group>, text: &[u8]) -> Result<(), Errno> {
    let pid = super::parse_number(trim(text))?;
    let pid = u32::try_from(pid).map_err(|_| Errno::EINVAL)?;
    let _tree = TREE.lock();
    if !to.is_root() && to.cg2.subtree() != 0 {
        return Err(Errno::EBUSY);
    }
    glue::move_pid(to, pid)
}

/// cgroup2's `mkdir`: a new group, nobody moved into it (Linux). plimits' rules for
/// names and privilege.
pub fn create(name: &str) -> Result<Arc<Group>, Errno> {
    super::make(name)
}

/// cgroup2's `rmdir`: `EBUSY` while the group has live members, else plimits' `rmdir`
/// (zombies not yet reaped go to the root with their count).
pub fn remove(name: &str) -> Result<(), Errno> {
    let g = super::find_name(name).ok_or(Errno::ENOENT)?;
    crate::fs::env::require_cap(crate::cred::CAP_SYS_ADMIN)?;
    if glue::live_count(&g) > 0 {
        return Err(Errno::EBUSY);
    }
    super::remove(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_words_follow_linux() {
        assert_eq!(parse_subtree(b"+memory +pids +cpu", ALL), Ok((ALL, 0)));
        assert_eq!(parse_subtree(b"-cpu", ALL), Ok((0, CPU)));
        assert_eq!(parse_subtree(b"", ALL), Ok((0, 0)));
        assert_eq!(parse_subtree(b"memory", ALL), Err(Errno::EINVAL));
        assert_eq!(parse_subtree(b"+io", ALL), Err(Errno::EINVAL));
        assert_eq!(parse_subtree(b"+cpu -cpu", ALL), Err(Errno::EINVAL));
        assert_eq!(parse_subtree(b"+cpu", MEMORY), Err(Errno::ENOENT));
        assert_eq!(render_controllers(ALL), "cpu memory pids\n");
        assert_eq!(render_controllers(PIDS | CPU), "cpu pids\n");
        assert_eq!(render_controllers(0), "\n");
    }

    #[test]
    fn max_values_and_suffixes() {
        assert_eq!(parse_bytes(b"max\n"), Ok(None));
        assert_eq!(parse_bytes(b"16M"), Ok(Some(16 << 20)));
        assert_eq!(parse_bytes(b"2k"), Ok(Some(2048)));
        assert_eq!(parse_bytes(b"4096"), Ok(Some(4096)));
        assert_eq!(parse_bytes(b"maxK"), Err(Errno::EINVAL));
        assert_eq!(parse_bytes(b"-1"), Err(Errno::EINVAL));
        assert_eq!(parse_bytes(b"99999999999T"), Err(Errno::EINVAL));
        assert_eq!(parse_pids(b" 12\n"), Ok(Some(12)));
        assert_eq!(parse_pids(b"max"), Ok(None));
        assert_eq!(parse_pids(b"1 2"), Err(Errno::EINVAL));
        assert_eq!(render_max(7, false), "7\n");
        assert_eq!(render_max(7, true), "max\n");
    }

    #[test]
    fn cpu_max_converts_to_quota_and_period() {
        assert_eq!(render_cpu_max(0, 0), "max 100000\n");
        assert_eq!(render_cpu_max(20_000, 100_000), "20000 100000\n");
        assert_eq!(render_cpu_max(0, 50_000), "max 50000\n");
        assert_eq!(parse_cpu_max(b"20000 100000\n", 0), Ok((20_000, 100_000)));
        assert_eq!(parse_cpu_max(b"30000", 0), Ok((30_000, 100_000)));
        assert_eq!(parse_cpu_max(b"30000", 50_000), Ok((30_000, 50_000)));
        assert_eq!(parse_cpu_max(b"max", 50_000), Ok((0, 50_000)));
        assert_eq!(parse_cpu_max(b"max 200000", 0), Ok((0, 200_000)));
        for bad in [
            &b""[..],
            b"abc",
            b"500 100000",
            b"20000 999",
            b"20000 2000000",
            b"200000 100000",
            b"1000 100000 7",
        ] {
            assert_eq!(parse_cpu_max(bad, 0), Err(Errno::EINVAL), "{bad:?}");
        }
    }

    #[test]
    fn freeze_takes_zero_or_one() {
        let g = Group::new(77, "f", 1 << 20);
        assert!(!g.cg2.frozen());
        assert_eq!(set_frozen(&g, b"1\n"), Ok(()));
        assert!(g.cg2.frozen());
        assert_eq!(set_frozen(&g, b"2"), Err(Errno::EINVAL));
        assert_eq!(set_frozen(&g, b"0"), Ok(()));
        assert!(!g.cg2.frozen());
    }
}
