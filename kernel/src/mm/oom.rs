//! The OOM killer's policy, as Linux's `mm/oom_kill.c` and `fs/proc/base.c` define it:
//! a process's badness (its charged pages plus `oom_score_adj` thousandths of memory), the
//! victim (the largest badness), `/proc/[pid]/oom_score` and the legacy `oom_adj` mapping.
//! Pure arithmetic, host-tested; `task::oom` applies it to the processes.

use crate::errno::Errno;

/// `OOM_SCORE_ADJ_MIN`/`MAX`: -1000 means never kill, 1000 always first.
pub const OOM_SCORE_ADJ_MIN: i32 = -1000;
pub const OOM_SCORE_ADJ_MAX: i32 = 1000;
/// The legacy `oom_adj` range (`OOM_DISABLE` .. `OOM_ADJUST_MAX`).
pub const OOM_DISABLE: i32 = -17;
pub const OOM_ADJUST_MAX: i32 = 15;

/// What the killer knows of one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Pages charged to the process: its private pages, page tables and kernel stacks.
    pub pages: u64,
    pub adj: i32,
    /// PID 1 of the root container, or a process without an address space (a kernel
    /// thread, or one that has already given its memory back).
    pub unkillable: bool,
}

/// Linux's `oom_badness`: `None` for a process never chosen (unkillable, or
/// `oom_score_adj` -1000), else its pages plus `adj` × `total_pages` / 1000.
pub fn badness(c: &Candidate, total_pages: u64) -> Option<i64> {
    if c.unkillable || c.adj <= OOM_SCORE_ADJ_MIN {
        return None;
    }
    let unit = (total_pages / 1000) as i64;
    Some(c.pages as i64 + c.adj as i64 * unit)
}

/// Linux's `select_bad_process`: the index of the candidate with the largest badness (a
/// later one wins a tie, as Linux's walk), `None` when none may be chosen.
pub fn pick(cands: &[Candidate], total_pages: u64) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    for (i, c) in cands.iter().enumerate() {
        if let Some(b) = badness(c, total_pages)
            && best.is_none_or(|(_, top)| b >= top)
        {
            best = Some((i, b));
        }
    }
    best.map(|(i, _)| i)
}

/// `/proc/[pid]/oom_score` (Linux 6.1's `proc_oom_score`): 0 for a process never chosen,
/// else `(1000 + badness × 1000 / total) × 2 / 3`.
pub fn oom_score(c: &Candidate, total_pages: u64) -> u64 {
    let Some(b) = badness(c, total_pages) else {
        return 0;
    };
    let total = total_pages.max(1) as i64;
    ((1000 + b * 1000 / total) * 2 / 3).max(0) as u64
}

/// `/proc/[pid]/oom_adj` read: Linux's scaling of `oom_score_adj` to -17..15.
pub fn adj_to_legacy(adj: i32) -> i32 {
    if adj == OOM_SCORE_ADJ_MAX {
        OOM_ADJUST_MAX
    } else {
        adj * -OOM_DISABLE / OOM_SCORE_ADJ_MAX
    }
}

/// `/proc/[pid]/oom_adj` write: -17..15 (`EINVAL` outside) scaled to `oom_score_adj`.
pub fn legacy_to_adj(legacy: i32) -> Result<i32, Errno> {
    if !(OOM_DISABLE..=OOM_ADJUST_MAX).contains(&legacy) {
        return Err(Errno::EINVAL);
    }
    Ok(if legacy == OOM_ADJUST_MAX {
        OOM_SCORE_ADJ_MAX
    } else {
        legacy * OOM_SCORE_ADJ_MAX / -OOM_DISABLE
    })
}

/// A process's `oom_score_adj` and the lowest value it may set without
/// `CAP_SYS_RESOURCE` (Linux's `signal->oom_score_adj_min`); both inherited at fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OomAdj {
    pub adj: i16,
    pub min: i16,
}

impl OomAdj {
    /// Linux's `__set_oom_adj`: below `min` needs `CAP_SYS_RESOURCE` (`EACCES`); a
    /// privileged write through `oom_score_adj` (not the legacy file) also moves `min`.
    pub fn set(&mut self, adj: i32, privileged: bool, legacy: bool) -> Result<(), Errno> {
        if !(OOM_SCORE_ADJ_MIN..=OOM_SCORE_ADJ_MAX).contains(&adj) {
            return Err(Errno::EINVAL);
        }
        if adj < self.min as i32 && !privileged {
            return Err(Errno::EACCES);
        }
        self.adj = adj as i16;
        if privileged && !legacy {
            self.min = adj as i16;
        }
        Ok(())
    }
}

/// Parses what a write to `oom_score_adj` or `oom_adj` holds: one decimal number, signed,
/// surrounding white space allowed (Linux's `kstrtoint` after `strstrip`); else `EINVAL`.
pub fn parse_adj(text: &[u8]) -> Result<i32, Errno> {
    let s = core::str::from_utf8(text)
        .map_err(|_| Errno::EINVAL)?
        .trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
    s.parse::<i32>().map_err(|_| Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOTAL: u64 = 131_072; // 512 MiB

    fn c(pages: u64, adj: i32) -> Candidate {
        Candidate {
            pages,
            adj,
            unkillable: false,
        }
    }

    #[test]
    fn the_largest_charge_is_chosen() {
        assert_eq!(pick(&[c(10, 0), c(5000, 0), c(300, 0)], TOTAL), Some(1));
    }

    #[test]
    fn adj_1000_beats_a_bigger_process_and_minus_1000_is_never_chosen() {
        // 1000 adds all of memory: a small process at 1000 goes before a big one at 0.
        assert_eq!(pick(&[c(60_000, 0), c(100, 1000)], TOTAL), Some(1));
        assert_eq!(pick(&[c(60_000, -1000)], TOTAL), None);
        assert_eq!(pick(&[c(60_000, -1000), c(1, 0)], TOTAL), Some(1));
    }

    #[test]
    fn init_and_memoryless_processes_are_never_chosen() {
        let init = Candidate {
            pages: 99_999,
            adj: 0,
            unkillable: true,
        };
        assert_eq!(pick(&[init, c(3, 0)], TOTAL), Some(1));
        assert_eq!(pick(&[init], TOTAL), None);
        assert_eq!(oom_score(&init, TOTAL), 0);
    }

    #[test]
    fn oom_score_uses_linux_scale() {
        assert_eq!(oom_score(&c(0, 0), TOTAL), 666);
        assert_eq!(oom_score(&c(TOTAL, 0), TOTAL), 1333);
        assert_eq!(oom_score(&c(0, 1000), TOTAL), 1332);
        assert_eq!(oom_score(&c(0, -1000), TOTAL), 0);
        assert_eq!(oom_score(&c(10, -999), TOTAL), 1);
    }

    #[test]
    fn legacy_oom_adj_maps_as_linux() {
        assert_eq!(legacy_to_adj(15), Ok(1000));
        assert_eq!(legacy_to_adj(-17), Ok(-1000));
        assert_eq!(legacy_to_adj(8), Ok(470));
        assert_eq!(legacy_to_adj(16), Err(Errno::EINVAL));
        assert_eq!(legacy_to_adj(-18), Err(Errno::EINVAL));
        assert_eq!(adj_to_legacy(1000), 15);
        assert_eq!(adj_to_legacy(-1000), -17);
        assert_eq!(adj_to_legacy(470), 7);
        assert_eq!(adj_to_legacy(0), 0);
    }

    #[test]
    fn lowering_below_the_minimum_needs_the_capability() {
        let mut a = OomAdj::default();
        assert_eq!(a.set(1001, true, false), Err(Errno::EINVAL));
        assert_eq!(a.set(-1, false, false), Err(Errno::EACCES));
        assert_eq!(a.set(500, false, false), Ok(()));
        assert_eq!(a.set(100, false, false), Ok(()), "back down to the minimum");
        assert_eq!(a.set(-500, true, false), Ok(()));
        assert_eq!(
            a,
            OomAdj {
                adj: -500,
                min: -500
            }
        );
        assert_eq!(a.set(-600, false, false), Err(Errno::EACCES));
    }

    #[test]
    fn writes_parse_one_signed_number() {
        assert_eq!(parse_adj(b"-1000\n"), Ok(-1000));
        assert_eq!(parse_adj(b" 15 "), Ok(15));
        assert_eq!(parse_adj(b"1x"), Err(Errno::EINVAL));
        assert_eq!(parse_adj(b""), Err(Errno::EINVAL));
    }
}
