//! plimits (`/proc/plimits`): LiteOS-A's one-level, cgroup-like process limits. The
//! root group holds every process at boot; `mkdir /proc/plimits/<name>` makes a child
//! group and moves the caller into it, children inherit their parent's group at fork,
//! `rmdir` moves the members back to the root. Each group has one limiter per file
//! here: pids, memory, ipc, devices, sched. The text and write rules of the files are
//! in this file; what touches processes is in `glue` (host tests get stand-ins);
//! `cgroup2` has what Linux's cgroup v2 interface to the same groups adds.
#![deny(unsafe_code)]

pub mod cgroup2;
pub mod devices;
pub mod glue;
pub mod ipc;
pub mod kmem;
pub mod memory;
pub mod pids;
pub mod sched;

use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::{Mutex, Once};

pub use glue::{Member, current_group};

/// One group: the root (id 0) or a child.
pub struct Group {
    id: u32,
    name: String,
    /// Set by `rmdir`: what is still charged here (a queue, a segment) is the root's.
    removed: AtomicBool,
    pub pids: pids::Pids,
    pub mem: memory::Memory,
    pub ipc: ipc::Ipc,
    pub dev: Mutex<devices::Devices>,
    pub sched: sched::Sched,
    /// What only the cgroup2 interface has (subtree controllers, the freezer).
    pub cg2: cgroup2::State,
}

impl Group {
    fn new(id: u32, name: &str, mem_limit: u64) -> Group {
        Group {
            id,
            name: String::from(name),
            removed: AtomicBool::new(false),
            pids: pids::Pids::default(),
            mem: memory::Memory::new(mem_limit),
            ipc: ipc::Ipc::default(),
            dev: Mutex::new(devices::Devices::default()),
            sched: sched::Sched::default(),
            cg2: cgroup2::State::default(),
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_root(&self) -> bool {
        self.id == 0
    }

    /// The group charges go to: this one, or the root once this one is removed.
    pub fn effective(self: &Arc<Self>) -> Arc<Group> {
        if self.removed.load(Ordering::Acquire) {
            root()
        } else {
            self.clone()
        }
    }

    /// [`Group::effective`] of a reference the caller gives up (no count taken).
    pub fn into_effective(self: Arc<Self>) -> Arc<Group> {
        if self.removed.load(Ordering::Acquire) {
            root()
        } else {
            self
        }
    }
}

struct Registry {
    next_id: u32,
    children: Vec<Arc<Group>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 1,
    children: Vec::new(),
});
static ROOT: Once<Arc<Group>> = Once::new();

/// The root group (its memory limit shows the machine's memory and is not enforced).
pub fn root() -> Arc<Group> {
    ROOT.call_once(|| {
        let mut g = Group::new(0, "", glue::total_memory());
        g.mem = memory::Memory::unlimited(glue::total_memory());
        Arc::new(g)
    })
    .clone()
}

/// The group with number `id` (0: the root), if it exists.
pub fn find(id: u32) -> Option<Arc<Group>> {
    if id == 0 {
        return Some(root());
    }
    REGISTRY
        .lock()
        .children
        .iter()
        .find(|g| g.id == id)
        .cloned()
}

/// A group outside the registry, for host tests of code that reads groups.
#[cfg(test)]
pub(crate) fn test_group(id: u32, name: &str) -> Arc<Group> {
    Arc::new(Group::new(id, name, 1 << 20))
}

/// The child groups, in creation order.
pub fn children() -> Vec<Arc<Group>> {
    REGISTRY.lock().children.clone()
}

fn find_name(name: &str) -> Option<Arc<Group>> {
    REGISTRY
        .lock()
        .children
        .iter()
        .find(|g| g.name == name)
        .cloned()
}

/// The files of a group directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum File {
    Limiters,
    Procs,
    PidsMax,
    PidsPriority,
    MemLimit,
    MemUsage,
    MemPeak,
    MemFailcnt,
    MemStat,
    MqLimit,
    ShmLimit,
    IpcStat,
    DevAllow,
    DevDeny,
    DevList,
    SchedPeriod,
    SchedQuota,
    SchedStat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
    WriteOnly,
}

/// Every file, in directory order.
pub const FILES: [(&str, File); 18] = [
    ("plimits.limiters", File::Limiters),
    ("plimits.procs", File::Procs),
    ("pids.max", File::PidsMax),
    ("pids.priority", File::PidsPriority),
    ("memory.limit", File::MemLimit),
    ("memory.usage", File::MemUsage),
    ("memory.peak", File::MemPeak),
    ("memory.failcnt", File::MemFailcnt),
    ("memory.stat", File::MemStat),
    ("ipc.mq_limit", File::MqLimit),
    ("ipc.shm_limit", File::ShmLimit),
    ("ipc.stat", File::IpcStat),
    ("devices.allow", File::DevAllow),
    ("devices.deny", File::DevDeny),
    ("devices.list", File::DevList),
    ("sched.period", File::SchedPeriod),
    ("sched.quota", File::SchedQuota),
    ("sched.stat", File::SchedStat),
];

/// The text of `plimits.limiters` (LiteOS-A's order, a space after each, no newline).
pub const LIMITERS: &str = "pids memory ipc devices sched ";

impl File {
    pub fn index(self) -> usize {
        FILES.iter().position(|(_, f)| *f == self).unwrap_or(0)
    }

    pub fn from_index(i: usize) -> Option<File> {
        FILES.get(i).map(|(_, f)| *f)
    }

    pub fn by_name(name: &str) -> Option<File> {
        FILES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    fn access(self) -> Access {
        use File::*;
        match self {
            Procs | PidsMax | PidsPriority | MemLimit | MqLimit | ShmLimit | SchedPeriod
            | SchedQuota => Access::ReadWrite,
            DevAllow | DevDeny => Access::WriteOnly,
            _ => Access::ReadOnly,
        }
    }

    /// Permission bits: 0644, 0444 or 0200 in a child; the root's files lose the
    /// owner's write bit (LiteOS-A: `mode & ~S_IWUSR`), so its read-write files are
    /// 0444 and `devices.allow`/`deny` 0.
    pub fn mode(self, root: bool) -> u32 {
        let m = match self.access() {
            Access::ReadWrite => 0o644,
            Access::ReadOnly => 0o444,
            Access::WriteOnly => 0o200,
        };
        if root { m & !0o200 } else { m }
    }

    /// Whether writes mean anything (`EACCES` for the others, as procfs's read-only files).
    pub fn writable(self) -> bool {
        self.access() != Access::ReadOnly
    }
}

/// Adds to `count` when `next` gives its new value; when it refuses (`None`: over the
/// limit), `failed` + 1. The old value on success.
fn charge_counter(
    count: &AtomicU64,
    failed: &AtomicU64,
    next: impl FnMut(u64) -> Option<u64>,
) -> Option<u64> {
    let old = count
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, next)
        .ok();
    if old.is_none() {
        failed.fetch_add(1, Ordering::Relaxed);
    }
    old
}

/// Takes `n` from `count`, never below 0.
fn uncharge_counter(count: &AtomicU64, n: u64) {
    let _ = count.fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
        Some(c.saturating_sub(n))
    });
}

/// LiteOS-A's numeric write rule: decimal digits only (no sign, blank or newline),
/// `strtoll`'s value. A value past `i64::MAX` (which `strtoll` saturates) is refused
/// here: no limit accepts it usefully. `EINVAL` otherwise.
pub fn parse_number(text: &[u8]) -> Result<u64, Errno> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return Err(Errno::EINVAL);
    }
    let mut v: u64 = 0;
    for &d in text {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or(Errno::EINVAL)?;
    }
    Ok(v)
}

/// `pids.priority`'s rule: the numeric rule with an optional leading `-` (nice values
/// are negative).
fn parse_nice(text: &[u8]) -> Result<i64, Errno> {
    match text.split_first() {
        Some((b'-', rest)) => parse_number(rest).map(|v| -(v as i64)),
        _ => parse_number(text).map(|v| v as i64),
    }
}

/// The text of `file` of group `g`, as the calling process reads it.
pub fn read(g: &Arc<Group>, file: File) -> Result<String, Errno> {
    let mut s = String::new();
    match file {
        File::Limiters => s.push_str(LIMITERS),
        File::Procs => {
            let members = glue::members(g);
            if members.is_empty() {
                return Err(Errno::EINVAL);
            }
            s.push('\n');
            for m in members {
                let _ = write!(s, "{}  ", m.pid);
            }
        }
        File::PidsMax => {
            let _ = writeln!(s, "{}", g.pids.max());
        }
        File::PidsPriority => {
            let _ = writeln!(s, "{}", g.pids.priority());
        }
        File::MemLimit => {
            let _ = writeln!(s, "{}", g.mem.limit());
        }
        File::MemUsage => {
            let _ = writeln!(s, "{}", g.mem.usage());
        }
        File::MemPeak => {
            let _ = writeln!(s, "{}", g.mem.peak());
        }
        File::MemFailcnt => {
            let _ = writeln!(s, "{}", g.mem.failcnt());
        }
        File::MemStat => {
            let members = glue::members(g);
            if members.is_empty() {
                return Err(Errno::EINVAL);
            }
            let _ = write!(
                s,
                "\nMem used: {}\nMem peak: {}\nMem failed count: {}\nMem kernel: {}\n",
                g.mem.usage(),
                g.mem.peak(),
                g.mem.failcnt(),
                g.mem.kernel()
            );
            for m in members.iter().filter(|m| m.mem_bytes != 0) {
                let _ = writeln!(s, "PID: {}  mem used: {} ", m.pid, m.mem_bytes);
            }
        }
        File::MqLimit => {
            let _ = writeln!(s, "{}", g.ipc.mq_limit());
        }
        File::ShmLimit => {
            let _ = writeln!(s, "{}", g.ipc.shm_limit());
        }
        File::IpcStat => s = g.ipc.render_stat(),
        File::DevAllow | File::DevDeny => return Err(Errno::EINVAL),
        File::DevList => s = g.dev.lock().render(),
        File::SchedPeriod => {
            let _ = writeln!(s, "{}", g.sched.period());
        }
        File::SchedQuota => {
            let _ = writeln!(s, "{}", g.sched.quota());
        }
        File::SchedStat => {
            let members = glue::members(g);
            if members.is_empty() {
                return Err(Errno::EINVAL);
            }
            for m in members {
                let _ = writeln!(s, "PID: {}  runTime: {} us", m.pid, m.runtime_us);
            }
        }
    }
    Ok(s)
}

/// A write of `text` (one whole write) to `file` of group `g`. Any limit of the root
/// is `EPERM`; bad text `EINVAL`; each file's range rules in its limiter.
pub fn write(g: &Arc<Group>, file: File, text: &[u8]) -> Result<(), Errno> {
    match file {
        File::Procs => {
            let pid = parse_number(text)?;
            let pid = u32::try_from(pid).map_err(|_| Errno::EINVAL)?;
            if pid == 0 {
                return Err(Errno::EINVAL);
            }
            if g.is_root() {
                return Err(Errno::EPERM);
            }
            return glue::add_pid(g, pid);
        }
        File::DevAllow | File::DevDeny => {
            let rule = devices::parse_rule(text)?;
            if g.is_root() {
                return Err(Errno::EPERM);
            }
            let parent = root().dev.lock().clone();
            let mut d = g.dev.lock();
            if file == File::DevAllow {
                return d.allow(rule, &parent);
            }
            d.deny(rule);
            return Ok(());
        }
        File::PidsPriority => {
            let v = parse_nice(text)?;
            if g.is_root() {
                return Err(Errno::EPERM);
            }
            return g.pids.set_priority(v);
        }
        f if !f.writable() => return Err(Errno::EACCES),
        _ => {}
    }
    let v = parse_number(text)?;
    if g.is_root() {
        return Err(Errno::EPERM);
    }
    match file {
        File::PidsMax => g.pids.set_max(v),
        File::MemLimit => g.mem.set_limit(v),
        File::MqLimit => g.ipc.set_mq_limit(v),
        File::ShmLimit => g.ipc.set_shm_limit(v),
        File::SchedPeriod => g.sched.set_period(v),
        File::SchedQuota => g.sched.set_quota(v),
        _ => Err(Errno::EACCES),
    }
}

/// One process counted in a group at fork. Dropped without [`ProcessCharge::keep`]
/// (the fork failed later), it gives the count back.
pub struct ProcessCharge {
    group: Arc<Group>,
    kept: bool,
}

impl ProcessCharge {
    /// Counts a new process of `g`: `EACCES` at `pids.max` (LiteOS-A's fork errno).
    pub fn take(g: &Arc<Group>) -> Result<ProcessCharge, Errno> {
        g.pids.charge()?;
        Ok(ProcessCharge {
            group: g.clone(),
            kept: false,
        })
    }

    /// The process exists: it is uncharged when reaped ([`release_process`]).
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for ProcessCharge {
    fn drop(&mut self) {
        if !self.kept {
            self.group.effective().pids.uncharge(1);
        }
    }
}

/// A reaped process leaves its group.
pub fn release_process(g: &Arc<Group>) {
    g.effective().pids.uncharge(1);
}

/// Whether a process using `mem_bytes` may join `g` by a `plimits.procs` write
/// (`EACCES` otherwise).
pub fn add_check(g: &Group, mem_bytes: u64) -> Result<(), Errno> {
    if g.pids.count() >= g.pids.max() || !g.mem.fits(mem_bytes) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// Whether the members and charges of `g` fit in `parent` (rmdir; `EPERM` otherwise),
/// with LiteOS-A's comparisons.
pub fn migrate_check(g: &Group, parent: &Group) -> Result<(), Errno> {
    let pids = g.pids.count() as u64 + parent.pids.count() as u64 >= parent.pids.max() as u64;
    let mem = g.mem.usage().saturating_add(parent.mem.usage()) > parent.mem.limit();
    let mq =
        g.ipc.mq_count() > 0 && g.ipc.mq_count() + parent.ipc.mq_count() >= parent.ipc.mq_limit();
    let shm = g.ipc.shm_size() > 0
        && g.ipc.shm_size().saturating_add(parent.ipc.shm_size()) >= parent.ipc.shm_limit();
    if pids || mem || mq || shm {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// `mkdir /proc/plimits/<name>`: a new group (the root's devices rules copied) with the
/// caller moved into it. `EEXIST` for a taken name, `EPERM` without `CAP_SYS_ADMIN` in
/// the root user container, `EINVAL` for a name procfs cannot show.
pub fn create(name: &str) -> Result<Arc<Group>, Errno> {
    let g = make(name)?;
    glue::move_current(&g);
    Ok(g)
}

/// A new group, nobody in it yet (the rules of [`create`]; a name of a file of either
/// interface is taken).
fn make(name: &str) -> Result<Arc<Group>, Errno> {
    if File::by_name(name).is_some()
        || crate::fs::cgroupfs::is_file_name(name)
        || find_name(name).is_some()
    {
        return Err(Errno::EEXIST);
    }
    crate::fs::env::require_cap(crate::cred::CAP_SYS_ADMIN)?;
    if name.is_empty() || name.len() > 255 || name.contains('/') || name == "." || name == ".." {
        return Err(Errno::EINVAL);
    }
    let r = root();
    let g = {
        let mut reg = REGISTRY.lock();
        // Looked for again under the lock: two racing mkdirs make one group.
        if reg.children.iter().any(|c| c.name == name) {
            return Err(Errno::EEXIST);
        }
        let g = Arc::new(Group::new(reg.next_id, name, r.mem.limit()));
        reg.next_id += 1;
        *g.dev.lock() = r.dev.lock().clone();
        reg.children.push(g.clone());
        g
    };
    Ok(g)
}

/// `rmdir /proc/plimits/<name>`: the members go back to the root (if they fit there:
/// `EPERM` otherwise) with what they have charged, and the group goes.
pub fn remove(name: &str) -> Result<(), Errno> {
    let g = find_name(name).ok_or(if File::by_name(name).is_some() {
        Errno::ENOTDIR
    } else {
        Errno::ENOENT
    })?;
    crate::fs::env::require_cap(crate::cred::CAP_SYS_ADMIN)?;
    let r = root();
    migrate_check(&g, &r)?;
    glue::move_all(&g, &r);
    g.removed.store(true, Ordering::Release);
    r.pids.add(g.pids.count());
    g.pids.uncharge(g.pids.count());
    r.mem.absorb(&g.mem);
    r.ipc.absorb(&g.ipc);
    REGISTRY.lock().children.retain(|c| !Arc::ptr_eq(c, &g));
    Ok(())
}

/// What `/proc/meminfo` shows a process in a group with a memory limit below the
/// machine's: `(limit, usage)` in bytes; `None` outside such a group.
pub fn meminfo_limit() -> Option<(u64, u64)> {
    let g = current_group();
    if g.is_root() || g.mem.limit() >= root().mem.limit() {
        return None;
    }
    Some((g.mem.limit(), g.mem.usage()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(parse_number(b"0123"), Ok(123));
        assert_eq!(parse_number(b"10"), Ok(10));
        for bad in [
            &b""[..],
            b"111*",
            b"123abc",
            b"\"123    456\"",
            b"\\123",
            b"\x01\x02\x03",
            b"12\n",
            b"-1",
            b" 1",
            b"99999999999999999999999999999999999",
        ] {
            assert_eq!(parse_number(bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(parse_nice(b"-20"), Ok(-20));
        assert_eq!(parse_nice(b"-"), Err(Errno::EINVAL));
    }

    #[test]
    fn modes_follow_liteos() {
        assert_eq!(File::PidsMax.mode(false), 0o644);
        assert_eq!(File::PidsMax.mode(true), 0o444);
        assert_eq!(File::Procs.mode(true), 0o444);
        assert_eq!(File::MemStat.mode(false), 0o444);
        assert_eq!(File::MemFailcnt.mode(false), 0o444);
        assert_eq!(File::DevAllow.mode(false), 0o200);
        assert_eq!(File::DevDeny.mode(true), 0);
        for (i, (name, f)) in FILES.iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(File::by_name(name), Some(*f));
        }
    }

    #[test]
    fn the_root_reads_defaults_and_refuses_every_limit() {
        let r = root();
        assert_eq!(read(&r, File::Limiters).as_deref(), Ok(LIMITERS));
        assert_eq!(read(&r, File::PidsMax).as_deref(), Ok("32768\n"));
        assert_eq!(read(&r, File::PidsPriority).as_deref(), Ok("-20\n"));
        assert_eq!(read(&r, File::MqLimit).as_deref(), Ok("1024\n"));
        assert_eq!(read(&r, File::ShmLimit).as_deref(), Ok("4294967295\n"));
        assert_eq!(read(&r, File::SchedPeriod).as_deref(), Ok("0\n"));
        assert_eq!(read(&r, File::DevList).as_deref(), Ok("a * rwm\n"));
        for f in [
            File::PidsMax,
            File::MemLimit,
            File::MqLimit,
            File::ShmLimit,
            File::SchedPeriod,
            File::SchedQuota,
            File::Procs,
        ] {
            assert_eq!(write(&r, f, b"10"), Err(Errno::EPERM), "{f:?}");
        }
        assert_eq!(write(&r, File::PidsPriority, b"0"), Err(Errno::EPERM));
        assert_eq!(write(&r, File::DevDeny, b"a"), Err(Errno::EPERM));
        assert_eq!(write(&r, File::MemStat, b"1"), Err(Errno::EACCES));
    }

    #[test]
    fn a_child_takes_its_limits_and_goes_away() {
        let g = create("host-test-child").expect("mkdir");
        assert_eq!(create("host-test-child").err(), Some(Errno::EEXIST));
        assert_eq!(create("pids.max").err(), Some(Errno::EEXIST));
        assert!(find(g.id()).is_some());
        assert_eq!(write(&g, File::MqLimit, b"0123"), Ok(()));
        assert_eq!(read(&g, File::MqLimit).as_deref(), Ok("123\n"));
        for bad in [&b"111*"[..], b"123abc", b"0", b"1025"] {
            assert_eq!(write(&g, File::MqLimit, bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(write(&g, File::SchedPeriod, b"100000"), Ok(()));
        assert_eq!(write(&g, File::SchedQuota, b"100001"), Err(Errno::EINVAL));
        assert_eq!(write(&g, File::PidsPriority, b"-5"), Ok(()));
        assert_eq!(read(&g, File::PidsPriority).as_deref(), Ok("-5\n"));
        assert_eq!(write(&g, File::PidsMax, b"32769"), Err(Errno::EINVAL));
        assert_eq!(write(&g, File::DevDeny, b"a"), Ok(()));
        assert_eq!(write(&g, File::DevAllow, b"c * r"), Ok(()));
        assert_eq!(read(&g, File::DevList).as_deref(), Ok("c * r\n"));
        assert_eq!(read(&g, File::Procs), Err(Errno::EINVAL), "no members");
        assert_eq!(read(&g, File::MemStat), Err(Errno::EINVAL));
        let q = ipc::MqCharge::take(&g).expect("below the limit");
        remove("host-test-child").expect("rmdir");
        assert!(find(g.id()).is_none());
        assert_eq!(remove("host-test-child"), Err(Errno::ENOENT));
        let before = root().ipc.mq_count();
        drop(q);
        assert_eq!(
            root().ipc.mq_count(),
            before - 1,
            "the root took the charge"
        );
    }

    #[test]
    fn checks_use_liteos_comparisons() {
        let g = Group::new(99, "x", 1 << 20);
        let parent = Group::new(98, "p", 1 << 20);
        g.pids.add(2);
        assert_eq!(add_check(&g, 0), Ok(()));
        g.pids.set_max(3).expect("3 > 2");
        g.pids.add(1);
        assert_eq!(add_check(&g, 0), Err(Errno::EACCES), "at the pid limit");
        assert_eq!(add_check(&parent, 2 << 20), Err(Errno::EACCES), "memory");
        assert_eq!(migrate_check(&g, &parent), Ok(()));
        g.mem.add(1 << 20);
        parent.mem.add(1);
        assert_eq!(migrate_check(&g, &parent), Err(Errno::EPERM));
    }
}
