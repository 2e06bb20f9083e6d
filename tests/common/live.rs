//! The live counts `tests/c/fuzz_live.h` prints (`<tag>: live before: procs=1 pid=1 ...` and
//! `after`), compared: every count back to its start, free memory and the kernel heap within
//! [`MEMORY_SLACK_KB`].

use std::collections::BTreeMap;

/// Free memory and kernel heap may differ by this much between the start and the end (KiB):
/// tables that grew stay grown (hash maps, id allocators); a leak of one object per round or
/// operation (hundreds to hundreds of thousands) goes past it.
pub const MEMORY_SLACK_KB: i64 = 512;

/// `key=value` pairs of the `<tag>: live <when>:` line in `out`.
pub fn live(out: &str, tag: &str, when: &str) -> Option<BTreeMap<String, i64>> {
    let tag = format!("{tag}: live {when}: ");
    let line = out
        .lines()
        .find_map(|l| l.find(&tag).map(|i| &l[i + tag.len()..]))?;
    Some(
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
            .collect(),
    )
}

/// The counts before and after, or the ones that did not come back.
pub type Counts = (BTreeMap<String, i64>, BTreeMap<String, i64>);

pub fn counts_back(out: &str, tag: &str) -> Result<Counts, String> {
    let (Some(before), Some(after)) = (live(out, tag, "before"), live(out, tag, "after")) else {
        return Err("no live counts".into());
    };
    let mut wrong = Vec::new();
    for (k, b) in &before {
        let a = after.get(k).copied().unwrap_or(-1);
        let ok = match k.as_str() {
            "memfree_kb" => b - a <= MEMORY_SLACK_KB,
            "slab_kb" => a - b <= MEMORY_SLACK_KB,
            _ => a == *b && a >= 0,
        };
        if !ok {
            wrong.push(format!("{k}: {b} at the start, {a} at the end"));
        }
    }
    if wrong.is_empty() {
        Ok((before, after))
    } else {
        Err(format!("counts not back: {}", wrong.join(", ")))
    }
}
