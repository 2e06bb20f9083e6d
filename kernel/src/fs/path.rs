//! Path strings: length limits, component splitting and joining of canonical paths.
//! Resolution against the mount tree (symlinks, `..` across mounts) is in `walk.rs`.

use crate::errno::Errno;
use alloc::string::String;

/// Linux's `PATH_MAX` (including the NUL byte).
pub const PATH_MAX: usize = 4096;
/// Linux's `NAME_MAX`.
pub const NAME_MAX: usize = 255;

/// Checks the limits a path given to a system call must meet: not empty, shorter than
/// `PATH_MAX`, no component longer than `NAME_MAX`.
pub fn check(path: &str) -> Result<(), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.len() <= NAME_MAX {
        return Ok(());
    }
    // A byte scan: this runs on every path a system call gets.
    let mut run = 0;
    for &b in path.as_bytes() {
        run = if b == b'/' { 0 } else { run + 1 };
        if run > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
    }
    Ok(())
}

/// The non-empty components of `path`, `.` and `..` included (the walk interprets them).
pub fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

pub fn is_absolute(path: &str) -> bool {
    path.starts_with('/')
}

/// True when the last component is followed by a `/` (`"a/"`, `"a/."` is not): such a
/// path must name a directory, and a symlink in last position is followed.
pub fn has_trailing_slash(path: &str) -> bool {
    path.len() > 1 && path.ends_with('/')
}

/// Splits a path into the part before the last component and the last component
/// (`"a/b/c"` → `("a/b", "c")`, `"/c/"` → `("/", "c")`, `"c"` → `("", "c")`,
/// `"/"` → `("/", "")`).
pub fn split_last(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return (if path.is_empty() { "" } else { "/" }, "");
    }
    match trimmed.rfind('/') {
        Some(i) => {
            let dir = trimmed[..i].trim_end_matches('/');
            (if dir.is_empty() { "/" } else { dir }, &trimmed[i + 1..])
        }
        None => ("", trimmed),
    }
}

/// Appends a component to a canonical absolute path.
pub fn join(dir: &str, name: &str) -> String {
    let mut s = String::with_capacity(dir.len() + 1 + name.len());
    s.push_str(dir);
    if !dir.ends_with('/') {
        s.push('/');
    }
    s.push_str(name);
    s
}

/// Canonical absolute `rest` placed under canonical `dir` (`"/"` gives `dir`).
pub fn join_under(dir: &str, rest: &str) -> String {
    match (dir, rest) {
        (_, "/") => String::from(dir),
        ("/", _) => String::from(rest),
        _ => {
            let mut s = String::from(dir);
            s.push_str(rest);
            s
        }
    }
}

/// The parent of a canonical absolute path (`"/"` is its own parent).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// True when canonical `path` is `dir` or lies below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return true;
    }
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// Canonical `path` as seen from a root directory at canonical `root`: `None` when
/// it lies outside.
pub fn strip_root<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root == "/" {
        return Some(path);
    }
    if !is_within(path, root) {
        return None;
    }
    Some(if path.len() == root.len() {
        "/"
    } else {
        &path[root.len()..]
    })
}

/// `a == b` by a byte loop: the paths compared on a walk are short, and the call to
/// `memcmp` (a byte loop of its own in this build) cost a 5-byte compare about 60
/// instructions.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_is_string_equality() {
        for (a, b) in [
            ("", ""),
            ("/proc", "/proc"),
            ("/proc", "/proC"),
            ("/proc", "/pro"),
            ("/a", "/b"),
        ] {
            assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
        }
    }
    use alloc::vec::Vec;

    #[test]
    fn join_under_places_a_path_below_a_directory() {
        assert_eq!(join_under("/", "/a"), "/a");
        assert_eq!(join_under("/old", "/"), "/old");
        assert_eq!(join_under("/old", "/a/b"), "/old/a/b");
    }

    #[test]
    fn components_skip_empty_and_keep_dots() {
        let c: Vec<&str> = components("//a/./b//../c/").collect();
        assert_eq!(c, ["a", ".", "b", "..", "c"]);
        assert_eq!(components("/").count(), 0);
    }

    #[test]
    fn check_enforces_path_max_and_name_max() {
        assert_eq!(check(""), Err(Errno::ENOENT));
        assert_eq!(check(&"a".repeat(255)), Ok(()));
        assert_eq!(check(&"a".repeat(256)), Err(Errno::ENAMETOOLONG));
        let long = "a/".repeat(2048);
        assert_eq!(long.len(), 4096);
        assert_eq!(check(&long), Err(Errno::ENAMETOOLONG));
        assert_eq!(check(&long[..4095]), Ok(()));
    }

    #[test]
    fn split_last_handles_roots_and_trailing_slashes() {
        assert_eq!(split_last("a/b/c"), ("a/b", "c"));
        assert_eq!(split_last("/c/"), ("/", "c"));
        assert_eq!(split_last("//x//y//"), ("//x", "y"));
        assert_eq!(split_last("c"), ("", "c"));
        assert_eq!(split_last("/"), ("/", ""));
        assert_eq!(split_last("///"), ("/", ""));
    }

    #[test]
    fn trailing_slash_is_detected_but_root_is_not_one() {
        assert!(has_trailing_slash("a/"));
        assert!(!has_trailing_slash("a"));
        assert!(!has_trailing_slash("/"));
    }

    #[test]
    fn join_parent_and_within_work_on_canonical_paths() {
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/"), "/");
        assert!(is_within("/a/b", "/a"));
        assert!(is_within("/a", "/a"));
        assert!(!is_within("/ab", "/a"));
        assert!(is_within("/x", "/"));
    }
}
