//! The devices limiter: which device nodes a group's processes may open. LiteOS-A's
//! (and Linux cgroup v1's) model: a default behaviour (allow or deny every device)
//! and a list of exceptions, written as rules `<a|b|c> <name> <r|w|m...>` to
//! `devices.allow` / `devices.deny`. Names are device paths (`/dev/null`) or `*`.

use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

pub const ACC_READ: u8 = 1;
pub const ACC_WRITE: u8 = 2;
pub const ACC_MKNOD: u8 = 4;
pub const ACC_ALL: u8 = ACC_READ | ACC_WRITE | ACC_MKNOD;
/// The longest device name a rule may carry.
const NAME_MAX: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevType {
    All,
    Char,
    Block,
}

impl DevType {
    fn letter(self) -> char {
        match self {
            DevType::All => 'a',
            DevType::Char => 'c',
            DevType::Block => 'b',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub kind: DevType,
    pub name: String,
    pub access: u8,
}

impl Rule {
    /// Whether this rule covers a device of type `kind` at `path`.
    fn covers(&self, kind: DevType, path: &str) -> bool {
        (self.kind == DevType::All || self.kind == kind) && (self.name == "*" || self.name == path)
    }

    fn same_target(&self, other: &Rule) -> bool {
        self.kind == other.kind && self.name == other.name
    }
}

/// Parses one rule. Type `a` ignores the rest of the line; otherwise a name and 1 to 3
/// access letters follow, separated by blanks, the letters ended by the end of the
/// text, `\n` or `\0`. Anything else: `EINVAL`.
pub fn parse_rule(text: &[u8]) -> Result<Rule, Errno> {
    let kind = match text.first() {
        Some(b'a') => {
            return Ok(Rule {
                kind: DevType::All,
                name: String::from("*"),
                access: ACC_ALL,
            });
        }
        Some(b'c') => DevType::Char,
        Some(b'b') => DevType::Block,
        _ => return Err(Errno::EINVAL),
    };
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let rest = &text[1..];
    let name_start = rest.iter().position(|c| !blank(c)).ok_or(Errno::EINVAL)?;
    if name_start == 0 {
        return Err(Errno::EINVAL);
    }
    let rest = &rest[name_start..];
    let name_len = rest
        .iter()
        .position(|c| blank(c) || *c == b'\n' || *c == 0)
        .unwrap_or(rest.len());
    let name = core::str::from_utf8(&rest[..name_len]).map_err(|_| Errno::EINVAL)?;
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::EINVAL);
    }
    let rest = &rest[name_len..];
    let acc_start = rest.iter().position(|c| !blank(c)).ok_or(Errno::EINVAL)?;
    if acc_start == 0 {
        return Err(Errno::EINVAL);
    }
    let mut access = 0u8;
    let mut letters = 0;
    for &c in &rest[acc_start..] {
        let bit = match c {
            b'\n' | 0 => break,
            b'r' => ACC_READ,
            b'w' => ACC_WRITE,
            b'm' => ACC_MKNOD,
            _ => return Err(Errno::EINVAL),
        };
        letters += 1;
        if letters > 3 {
            return Err(Errno::EINVAL);
        }
        access |= bit;
    }
    if access == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Rule {
        kind,
        name: String::from(name),
        access,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Every device is allowed except what the list denies.
    Allow,
    /// Every device is denied except what the list allows.
    Deny,
}

#[derive(Clone, Debug)]
pub struct Devices {
    pub behaviour: Behaviour,
    /// Deny items in `Allow` behaviour, allow items in `Deny` behaviour.
    pub items: Vec<Rule>,
}

impl Default for Devices {
    fn default() -> Self {
        Devices {
            behaviour: Behaviour::Allow,
            items: Vec::new(),
        }
    }
}

/// Adds `rule`'s access to a matching item, or appends it.
fn add_item(items: &mut Vec<Rule>, rule: Rule) {
    match items.iter_mut().find(|i| i.same_target(&rule)) {
        Some(i) => i.access |= rule.access,
        None => items.push(rule),
    }
}

/// Takes `rule`'s access from a matching item; an item left without access goes.
fn remove_item(items: &mut Vec<Rule>, rule: &Rule) {
    for i in items.iter_mut().filter(|i| i.same_target(rule)) {
        i.access &= !rule.access;
    }
    items.retain(|i| i.access != 0);
}

impl Devices {
    /// Whether this set lets a process open a device of type `kind` at `path` with
    /// `access` (partial-match denial in `Allow`, full-match allowance in `Deny`).
    pub fn permits(&self, kind: DevType, path: &str, access: u8) -> bool {
        let mut matching = self.items.iter().filter(|i| i.covers(kind, path));
        match self.behaviour {
            Behaviour::Allow => !matching.any(|i| i.access & access != 0),
            Behaviour::Deny => matching.any(|i| i.access & access == access),
        }
    }

    /// A write to `devices.allow` of a child group whose parent is `parent`.
    pub fn allow(&mut self, rule: Rule, parent: &Devices) -> Result<(), Errno> {
        if rule.kind == DevType::All {
            // An `a` allow resets to allow-all with the parent's exceptions.
            if parent.behaviour != Behaviour::Allow {
                return Err(Errno::EPERM);
            }
            *self = parent.clone();
            return Ok(());
        }
        if !parent.permits_rule(&rule) {
            return Err(Errno::EPERM);
        }
        match self.behaviour {
            Behaviour::Allow => remove_item(&mut self.items, &rule),
            Behaviour::Deny => add_item(&mut self.items, rule),
        }
        Ok(())
    }

    /// A write to `devices.deny`.
    pub fn deny(&mut self, rule: Rule) {
        if rule.kind == DevType::All {
            self.behaviour = Behaviour::Deny;
            self.items.clear();
            return;
        }
        match self.behaviour {
            Behaviour::Allow => add_item(&mut self.items, rule),
            Behaviour::Deny => remove_item(&mut self.items, &rule),
        }
    }

    /// Whether a child of this set may allow what `rule` names.
    fn permits_rule(&self, rule: &Rule) -> bool {
        match self.behaviour {
            Behaviour::Allow => !self
                .items
                .iter()
                .any(|i| i.same_target(rule) && i.access & rule.access != 0),
            Behaviour::Deny => self
                .items
                .iter()
                .any(|i| i.same_target(rule) && i.access & rule.access == rule.access),
        }
    }

    /// `devices.list`.
    pub fn render(&self) -> String {
        if self.behaviour == Behaviour::Allow {
            return String::from("a * rwm\n");
        }
        let mut s = String::new();
        for i in &self.items {
            let acc: String = [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')]
                .iter()
                .filter(|(b, _)| i.access & b != 0)
                .map(|(_, c)| *c)
                .collect();
            let _ = writeln!(s, "{} {} {}", i.kind.letter(), i.name, acc);
        }
        s
    }
}

/// The access an `open(2)` with `flags` asks for: r, w or rw by the access mode,
/// m with `O_CREAT`.
pub fn open_access(flags: u32) -> u8 {
    const O_ACCMODE: u32 = 3;
    const O_CREAT: u32 = 0o100;
    let mut a = match flags & O_ACCMODE {
        0 => ACC_READ,
        1 => ACC_WRITE,
        _ => ACC_READ | ACC_WRITE,
    };
    if flags & O_CREAT != 0 {
        a |= ACC_MKNOD;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Rule {
        parse_rule(s.as_bytes()).expect(s)
    }

    #[test]
    fn grammar_follows_liteos() {
        assert_eq!(
            rule("c /dev/null rw"),
            Rule {
                kind: DevType::Char,
                name: "/dev/null".into(),
                access: ACC_READ | ACC_WRITE
            }
        );
        assert_eq!(rule("b\t*\tm\n").access, ACC_MKNOD);
        assert_eq!(rule("c * r\0junk").access, ACC_READ);
        assert_eq!(rule("a whatever follows").kind, DevType::All);
        for bad in [
            "", "x * r", "c", "c ", "c *", "c * ", "c * q", "c * rwmr", "c*r", "c * r x",
        ] {
            assert_eq!(parse_rule(bad.as_bytes()), Err(Errno::EINVAL), "{bad:?}");
        }
    }

    #[test]
    fn default_allows_everything_and_lists_a_star() {
        let d = Devices::default();
        assert!(d.permits(DevType::Char, "/dev/zero", ACC_ALL));
        assert_eq!(d.render(), "a * rwm\n");
    }

    #[test]
    fn deny_all_then_an_a_allow_resets_to_allow_all() {
        // LiteOS-A devices_002..004.
        let root = Devices::default();
        let mut d = Devices::default();
        d.deny(rule("a"));
        assert!(!d.permits(DevType::Char, "/dev/null", ACC_READ));
        assert_eq!(d.render(), "");
        d.allow(rule("a * r"), &root).expect("root allows");
        assert!(d.permits(DevType::Char, "/dev/null", ACC_ALL));
    }

    #[test]
    fn deny_mode_needs_a_full_match() {
        // LiteOS-A devices_005..008.
        let root = Devices::default();
        let mut d = Devices::default();
        d.deny(rule("a"));
        d.allow(rule("c * rm"), &root).expect("root allows");
        assert!(d.permits(DevType::Char, "/dev/zero", ACC_READ | ACC_MKNOD));
        assert!(!d.permits(DevType::Char, "/dev/zero", ACC_READ | ACC_WRITE));
        assert!(!d.permits(DevType::Block, "/dev/ram0", ACC_READ));
        d.allow(rule("c /dev/null w"), &root).expect("root allows");
        assert!(d.permits(DevType::Char, "/dev/null", ACC_WRITE));
        assert_eq!(d.render(), "c * rm\nc /dev/null w\n");
        d.deny(rule("c * m"));
        assert_eq!(d.render(), "c * r\nc /dev/null w\n", "deny removes access");
        d.deny(rule("c * r"));
        assert_eq!(d.render(), "c /dev/null w\n", "an item without access goes");
    }

    #[test]
    fn allow_mode_denies_on_a_partial_match() {
        let root = Devices::default();
        let mut d = Devices::default();
        d.deny(rule("c /dev/zero w"));
        assert!(!d.permits(DevType::Char, "/dev/zero", ACC_READ | ACC_WRITE));
        assert!(d.permits(DevType::Char, "/dev/zero", ACC_READ));
        assert!(d.permits(DevType::Char, "/dev/null", ACC_WRITE));
        assert_eq!(d.render(), "a * rwm\n");
        d.allow(rule("c /dev/zero w"), &root).expect("root allows");
        assert!(d.permits(DevType::Char, "/dev/zero", ACC_WRITE), "removed");
    }

    #[test]
    fn a_child_cannot_allow_what_its_parent_denies() {
        let mut parent = Devices::default();
        parent.deny(rule("a"));
        let mut d = parent.clone();
        assert_eq!(d.allow(rule("a"), &parent), Err(Errno::EPERM));
        assert_eq!(d.allow(rule("c * r"), &parent), Err(Errno::EPERM));
    }

    #[test]
    fn open_flags_map_to_access() {
        assert_eq!(open_access(0), ACC_READ);
        assert_eq!(open_access(1), ACC_WRITE);
        assert_eq!(open_access(2 | 0o100), ACC_ALL);
        assert_eq!(open_access(0o100), ACC_READ | ACC_MKNOD);
    }
}
