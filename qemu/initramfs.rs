//! The initramfs the kernel unpacks into its root: a tree of directories, files and symlinks,
//! written as an uncompressed cpio "newc" archive.
//!
//! Layout: `/init`, `/tests/t_*` (every user binary whose name starts with `t_`), then each
//! `--add DIR` tree, then `/.bulkhead/argv` (init's arguments, NUL-terminated) with `--init`.
//! Archive names carry no leading `/` (as Linux's `gen_init_cpio` writes them) and every directory
//! comes before its contents.

use crate::{Error, Options};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Where `--init`'s arguments go, one NUL-terminated string each.
pub const ARGV_FILE: &str = "/.bulkhead/argv";

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const DIR_MODE: u32 = 0o755;
const TRAILER: &str = "TRAILER!!!";

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory; always written with mode 0755.
    Dir,
    /// A regular file with its permission bits (`0o7777` part of the mode).
    File { data: Vec<u8>, perm: u32 },
    /// A symbolic link and its target, as stored on the host.
    Symlink(Vec<u8>),
}

impl Node {
    fn mode(&self) -> u32 {
        match self {
            Node::Dir => S_IFDIR | DIR_MODE,
            Node::File { perm, .. } => S_IFREG | (perm & 0o7777),
            Node::Symlink(_) => S_IFLNK | 0o777,
        }
    }

    fn data(&self) -> &[u8] {
        match self {
            Node::Dir => &[],
            Node::File { data, .. } => data,
            Node::Symlink(target) => target,
        }
    }
}

/// A file tree keyed by path without the leading `/`. The map's order puts every directory
/// before its contents, because a parent's path is a prefix of its children's.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Initramfs {
    nodes: BTreeMap<String, Node>,
}

impl Initramfs {
    pub fn new() -> Self {
        Self::default()
    }

    /// The node at `path` (`/a/b` or `a/b`), if any.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    /// Every path in archive order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// Puts `node` at `path`, creating missing parent directories. A later node replaces an
    /// earlier one (a directory replaced by a file loses its contents).
    pub fn insert(&mut self, path: &str, node: Node) -> Result<(), Error> {
        let path = normalize(path)?;
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            let parent = &path[..end + i];
            match self.nodes.get(parent) {
                None => {
                    self.nodes.insert(parent.to_string(), Node::Dir);
                }
                Some(Node::Dir) => {}
                Some(_) => {
                    return Err(Error(format!(
                        "initramfs: /{path}: /{parent} is not a directory"
                    )));
                }
            }
            end += i + 1;
        }
        if node != Node::Dir && self.nodes.get(&path) == Some(&Node::Dir) {
            let prefix = format!("{path}/");
            self.nodes.retain(|k, _| !k.starts_with(&prefix));
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Copies the host directory `dir`'s whole tree into the root: files keep their permission
    /// bits, symlinks stay symlinks, directories get mode 0755.
    pub fn add_host_dir(&mut self, dir: &Path) -> Result<(), Error> {
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => self.copy_tree(dir, ""),
            Ok(_) => Err(Error(format!("--add {}: not a directory", dir.display()))),
            Err(e) => Err(Error(format!("--add {}: {e}", dir.display()))),
        }
    }

    fn copy_tree(&mut self, dir: &Path, prefix: &str) -> Result<(), Error> {
        let io = |p: &Path, e: std::io::Error| Error(format!("--add: {}: {e}", p.display()));
        for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let host = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                return Err(Error(format!(
                    "--add: {}: file name is not UTF-8",
                    host.display()
                )));
            };
            let path = format!("{prefix}/{name}");
            let meta = fs::symlink_metadata(&host).map_err(|e| io(&host, e))?;
            let kind = meta.file_type();
            if kind.is_dir() {
                self.insert(&path, Node::Dir)?;
                self.copy_tree(&host, &path)?;
            } else if kind.is_symlink() {
                let target = fs::read_link(&host).map_err(|e| io(&host, e))?;
                self.insert(&path, Node::Symlink(target.into_os_string().into_vec()))?;
            } else if kind.is_file() {
                let data = fs::read(&host).map_err(|e| io(&host, e))?;
                self.insert(
                    &path,
                    Node::File {
                        data,
                        perm: meta.permissions().mode() & 0o7777,
                    },
                )?;
            } else {
                return Err(Error(format!(
                    "--add: {}: not a regular file, directory or symlink",
                    host.display()
                )));
            }
        }
        Ok(())
    }

    /// The tree as a cpio newc archive ending with the `TRAILER!!!` entry.
    pub fn to_cpio(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (path, node)) in (1..).zip(&self.nodes) {
            let nlink = if *node == Node::Dir { 2 } else { 1 };
            write_entry(&mut out, ino, node.mode(), nlink, path, node.data());
        }
        write_entry(&mut out, 0, 0, 1, TRAILER, &[]);
        out
    }
}

/// `/a//b/` → `a/b`; rejects empty paths and `.`/`..` components.
fn normalize(path: &str) -> Result<String, Error> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(Error(format!("initramfs: bad path {path:?}")));
    }
    Ok(parts.join("/"))
}

fn write_entry(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, name: &str, data: &[u8]) {
    // Fields in order: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
    // rdevminor namesize check. mtime 0 keeps the archive reproducible.
    let fields = [
        ino,
        mode,
        0,
        0,
        nlink,
        0,
        data.len() as u32,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The initramfs for `opts`: `/init`, `/bin/bkrun` and `/tests/t_*` from `user_bin_dir`, the `--add` trees,
/// and with `--init`, `/.bulkhead/argv`.
pub fn build_initramfs(opts: &Options, user_bin_dir: &Path) -> Result<Initramfs, Error> {
    let mut fs = Initramfs::new();
    let read_bin = |name: &str| -> Result<Node, Error> {
        let path = user_bin_dir.join(name);
        let data =
            fs::read(&path).map_err(|e| Error(format!("user program {}: {e}", path.display())))?;
        Ok(Node::File { data, perm: 0o755 })
    };
    fs.insert("/init", read_bin("init")?)?;
    // The container runtime, in every initramfs (when the user build made it).
    if user_bin_dir.join("bkrun").is_file() {
        fs.insert("/bin/bkrun", read_bin("bkrun")?)?;
    }
    fs.insert("/tests", Node::Dir)?;
    let entries = fs::read_dir(user_bin_dir)
        .map_err(|e| Error(format!("{}: {e}", user_bin_dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Skip cargo's by-products (`t_fs.d`) and directories.
        if name.starts_with("t_")
            && !name.contains('.')
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            fs.insert(&format!("/tests/{name}"), read_bin(name)?)?;
        }
    }
    for dir in &opts.add {
        fs.add_host_dir(dir)?;
    }
    if let Some(init) = &opts.init {
        match fs.get(init) {
            Some(Node::File { .. } | Node::Symlink(_)) => {}
            Some(Node::Dir) => {
                return Err(Error(format!(
                    "--init {init}: is a directory in the initramfs"
                )));
            }
            None => {
                return Err(Error(format!(
                    "--init {init}: no such file in the initramfs (add it with --add DIR)"
                )));
            }
        }
        let mut argv = Vec::new();
        for arg in &opts.init_args {
            argv.extend_from_slice(arg.as_bytes());
            argv.push(0);
        }
        fs.insert(
            ARGV_FILE,
            Node::File {
                data: argv,
                perm: 0o644,
            },
        )?;
    }
    Ok(fs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::PathBuf;

    /// One parsed cpio newc entry: (name, mode, nlink, data).
    type Entry = (String, u32, u32, Vec<u8>);

    /// An independent newc reader: checks magic and 4-byte alignment, stops at the trailer.
    fn parse_cpio(mut buf: &[u8]) -> Vec<Entry> {
        let total = buf.len();
        let mut entries = Vec::new();
        loop {
            assert_eq!((total - buf.len()) % 4, 0, "entry starts unaligned");
            assert_eq!(&buf[..6], b"070701", "bad magic");
            let field = |i: usize| {
                u32::from_str_radix(
                    std::str::from_utf8(&buf[6 + 8 * i..14 + 8 * i]).unwrap(),
                    16,
                )
                .unwrap()
            };
            let (mode, nlink, size, namesize) =
                (field(1), field(4), field(6) as usize, field(11) as usize);
            let name_end = 110 + namesize;
            assert_eq!(buf[name_end - 1], 0, "name not NUL-terminated");
            let name = String::from_utf8(buf[110..name_end - 1].to_vec()).unwrap();
            let data_start = name_end.next_multiple_of(4);
            let data = buf[data_start..data_start + size].to_vec();
            buf = &buf[(data_start + size).next_multiple_of(4)..];
            if name == TRAILER {
                assert!(buf.is_empty(), "bytes after the trailer");
                return entries;
            }
            entries.push((name, mode, nlink, data));
        }
    }

    fn file(data: &[u8], perm: u32) -> Node {
        Node::File {
            data: data.to_vec(),
            perm,
        }
    }

    /// A fresh host directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "bulkhead-unit-{tag}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn cpio_round_trips_dirs_files_and_symlinks_with_parents_first() {
        let mut fs = Initramfs::new();
        fs.insert("/tests/t_a", file(b"abc", 0o755)).unwrap();
        fs.insert("/init", file(b"12345", 0o700)).unwrap();
        fs.insert("/bin/sh", Node::Symlink(b"/init".to_vec()))
            .unwrap();
        fs.insert("/empty", file(b"", 0o644)).unwrap();
        let entries = parse_cpio(&fs.to_cpio());
        let expected: Vec<Entry> = vec![
            ("bin".into(), 0o040755, 2, vec![]),
            ("bin/sh".into(), 0o120777, 1, b"/init".to_vec()),
            ("empty".into(), 0o100644, 1, vec![]),
            ("init".into(), 0o100700, 1, b"12345".to_vec()),
            ("tests".into(), 0o040755, 2, vec![]),
            ("tests/t_a".into(), 0o100755, 1, b"abc".to_vec()),
        ];
        assert_eq!(entries, expected);
    }

    #[test]
    fn empty_tree_is_just_the_trailer() {
        let cpio = Initramfs::new().to_cpio();
        assert!(parse_cpio(&cpio).is_empty());
        assert_eq!(
            cpio.len() % 4,
            0,
            "archive length {} not a multiple of 4",
            cpio.len()
        );
    }

    #[test]
    fn later_insert_replaces_and_file_over_dir_drops_contents() {
        let mut fs = Initramfs::new();
        fs.insert("a/b/c", file(b"1", 0o644)).unwrap();
        fs.insert("a/b/c", file(b"2", 0o600)).unwrap();
        assert_eq!(fs.get("/a/b/c"), Some(&file(b"2", 0o600)));
        fs.insert("a/b", file(b"x", 0o644)).unwrap();
        assert_eq!(fs.paths().collect::<Vec<_>>(), ["a", "a/b"]);
        let err = fs.insert("a/b/d", file(b"", 0o644)).unwrap_err();
        assert!(err.0.contains("not a directory"), "{err}");
    }

    #[test]
    fn bad_paths_are_rejected() {
        for p in ["", "/", "a/../b", "./a"] {
            assert!(
                Initramfs::new().insert(p, Node::Dir).is_err(),
                "{p:?} should be rejected"
            );
        }
    }

    #[test]
    fn add_host_dir_copies_tree_with_modes_and_symlinks() {
        let tmp = TempDir::new("add");
        fs::create_dir_all(tmp.0.join("sub/deeper")).unwrap();
        fs::write(tmp.0.join("prog"), b"elf").unwrap();
        fs::set_permissions(tmp.0.join("prog"), fs::Permissions::from_mode(0o751)).unwrap();
        fs::write(tmp.0.join("sub/deeper/data"), b"d").unwrap();
        fs::set_permissions(
            tmp.0.join("sub/deeper/data"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        std::os::unix::fs::symlink("../prog", tmp.0.join("sub/link")).unwrap();
        let mut fs = Initramfs::new();
        fs.add_host_dir(&tmp.0).unwrap();
        let entries = parse_cpio(&fs.to_cpio());
        let expected: Vec<Entry> = vec![
            ("prog".into(), 0o100751, 1, b"elf".to_vec()),
            ("sub".into(), 0o040755, 2, vec![]),
            ("sub/deeper".into(), 0o040755, 2, vec![]),
            ("sub/deeper/data".into(), 0o100640, 1, b"d".to_vec()),
            ("sub/link".into(), 0o120777, 1, b"../prog".to_vec()),
        ];
        assert_eq!(entries, expected);
    }

    #[test]
    fn add_missing_or_non_dir_is_an_error() {
        let err = Initramfs::new()
            .add_host_dir(Path::new("/nonexistent/bulkhead"))
            .unwrap_err();
        assert!(err.0.starts_with("--add /nonexistent/bulkhead: "), "{err}");
        let err = Initramfs::new()
            .add_host_dir(Path::new("/etc/hostname"))
            .unwrap_err();
        assert!(err.0.contains("not a directory"), "{err}");
    }

    #[test]
    fn build_has_init_tests_added_tree_and_argv() {
        let bins = TempDir::new("bins");
        for name in ["init", "bkrun", "t_one", "t_one.d", "fail_demo", "kernel"] {
            fs::write(bins.0.join(name), name).unwrap();
        }
        fs::create_dir(bins.0.join("t_dir")).unwrap();
        let extra = TempDir::new("extra");
        fs::write(extra.0.join("hello"), b"hi").unwrap();
        let opts = Options {
            add: vec![extra.0.clone()],
            init: Some("/hello".into()),
            init_args: vec![
                OsString::from("a b"),
                OsString::from(""),
                OsString::from("c"),
            ],
            ..Options::default()
        };
        let fs = build_initramfs(&opts, &bins.0).unwrap();
        assert_eq!(
            fs.paths().collect::<Vec<_>>(),
            [
                ".bulkhead",
                ".bulkhead/argv",
                "bin",
                "bin/bkrun",
                "hello",
                "init",
                "tests",
                "tests/t_one"
            ]
        );
        assert_eq!(fs.get("/init"), Some(&file(b"init", 0o755)));
        assert_eq!(fs.get("/tests/t_one"), Some(&file(b"t_one", 0o755)));
        assert_eq!(fs.get(ARGV_FILE), Some(&file(b"a b\0\0c\0", 0o644)));

        let without_init = build_initramfs(&Options::default(), &bins.0).unwrap();
        assert_eq!(
            without_init.get(ARGV_FILE),
            None,
            "argv file only with --init"
        );
    }

    #[test]
    fn build_rejects_init_missing_from_initramfs() {
        let bins = TempDir::new("bins-missing");
        fs::write(bins.0.join("init"), b"").unwrap();
        let opts = Options {
            init: Some("/nsbench".into()),
            ..Options::default()
        };
        let err = build_initramfs(&opts, &bins.0).unwrap_err();
        assert!(err.0.contains("--init /nsbench: no such file"), "{err}");
        let opts = Options {
            init: Some("/tests".into()),
            ..Options::default()
        };
        assert!(
            build_initramfs(&opts, &bins.0)
                .unwrap_err()
                .0
                .contains("is a directory")
        );
    }
}
