//! The runner's command line: `--add DIR`, `--init PATH [ARGS...]`, `--append ARGS`,
//! `--timeout SECS`, `--icount`, `--memory MiB`, `--kvm`, `--gdb`, `--no-net`, `--help`.

use crate::Error;
use std::ffi::OsString;
use std::path::PathBuf;

/// What `--help` prints.
pub const USAGE: &str = "\
Usage: cargo run -- [OPTIONS]   (or: bulkhead [OPTIONS])

Boots the Bulkhead kernel in QEMU (serial console on this terminal) with an initramfs
holding /init and the test programs /tests/t_*. By default init runs every test program
and prints `N passed, N failed`.

Options:
  --add DIR              copy the host directory DIR's tree into the initramfs root
                         (may be repeated; later copies win)
  --init PATH [ARGS...]  run PATH, a path inside the initramfs, as init with ARGS (each
                         reaches init's argv intact); ARGS end at the next runner option,
                         and everything after `--` is an ARG
  --append ARGS          add ARGS to the kernel command line (default log=info;
                         unknown key=value words become init's environment)
  --timeout SECS         kill QEMU after SECS seconds (exit status 124)
  --icount               run QEMU with -icount shift=0 (repeatable timings)
  --memory MiB           guest memory in MiB (default 512)
  --kvm                  use KVM instead of TCG
  --gdb                  start halted with a gdb server on localhost:1234 (-s -S)
  --gdb-port PORT        the same on another port (several sessions at once)
  --no-net               no NIC (-nic none); default: virtio-net on QEMU's user network
  --bench                build tests/c/nsbench.c (musl-gcc), run it as init with --icount
                         (NSBENCH_SCALE=0.2 unless --append sets it) and print its table
                         beside Linux 6.1's
  --help                 print this help

Exit status: init's exit status (0 = all tests passed), 126 init killed by a signal,
127 kernel panic, 124 timeout, 3 QEMU exited without a verdict, 2 runner error.
";

/// Guest memory when `--memory` is not given.
pub const DEFAULT_MEMORY_MIB: u32 = 512;
/// The gdb server's port without `--gdb-port` (QEMU's `-s`).
pub const DEFAULT_GDB_PORT: u16 = 1234;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Run(Options),
    /// `--bench`: run nsbench with these options and print the table.
    Bench(Options),
}

/// How to boot: what goes into the initramfs, the kernel command line and QEMU's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Host directories copied into the initramfs root, in order.
    pub add: Vec<PathBuf>,
    /// The program to run as init (a path inside the initramfs) instead of `/init`.
    pub init: Option<String>,
    /// init's arguments (argv[1..]), written to `/.bulkhead/argv`.
    pub init_args: Vec<OsString>,
    /// Words added to the kernel command line.
    pub append: Vec<String>,
    /// Kill QEMU after this many seconds.
    pub timeout_secs: Option<u64>,
    pub icount: bool,
    pub memory_mib: u32,
    pub kvm: bool,
    pub gdb: bool,
    /// The gdb server's TCP port (`--gdb-port`, default 1234).
    pub gdb_port: u16,
    /// No NIC (`-nic none`); otherwise a virtio-net NIC on QEMU's user network.
    pub no_net: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            add: Vec::new(),
            init: None,
            init_args: Vec::new(),
            append: Vec::new(),
            timeout_secs: None,
            icount: false,
            memory_mib: DEFAULT_MEMORY_MIB,
            kvm: false,
            gdb: false,
            gdb_port: DEFAULT_GDB_PORT,
            no_net: false,
        }
    }
}

impl Options {
    /// The kernel command line: `log=info` unless `--append` sets `log=`, then `init=PATH`,
    /// then the `--append` words.
    pub fn kernel_cmdline(&self) -> String {
        let mut words = Vec::new();
        let sets_log = self
            .append
            .iter()
            .flat_map(|a| a.split_whitespace())
            .any(|w| w.starts_with("log="));
        if !sets_log {
            words.push("log=info".to_string());
        }
        if let Some(init) = &self.init {
            words.push(format!("init={init}"));
        }
        words.extend(self.append.iter().filter(|a| !a.trim().is_empty()).cloned());
        words.join(" ")
    }
}

/// Parses the runner's arguments (without the program name).
pub fn parse_args<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, Error> {
    let mut opts = Options::default();
    let mut bench = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let name = arg.to_string_lossy().into_owned();
        let name = name.as_str();
        match name {
            "--help" | "-h" => return Ok(Command::Help),
            "--add" => opts.add.push(PathBuf::from(value(&mut args, name)?)),
            "--init" if opts.init.is_some() => return Err(Error("--init given twice".into())),
            "--init" => {
                let path = utf8(value(&mut args, name)?, name)?;
                if !path.starts_with('/') || path.contains(char::is_whitespace) {
                    return Err(Error(format!(
                        "--init {path:?}: expected an absolute path inside the initramfs, without spaces"
                    )));
                }
                opts.init = Some(path);
            }
            "--append" => opts.append.push(utf8(value(&mut args, name)?, name)?),
            "--timeout" => opts.timeout_secs = Some(positive(value(&mut args, name)?, name)?),
            "--memory" => {
                let mib = positive(value(&mut args, name)?, name)?;
                opts.memory_mib =
                    u32::try_from(mib).map_err(|_| Error(format!("--memory {mib}: too large")))?;
            }
            "--icount" => opts.icount = true,
            "--kvm" => opts.kvm = true,
            "--gdb" => opts.gdb = true,
            "--gdb-port" => {
                let port = positive(value(&mut args, name)?, name)?;
                opts.gdb_port = u16::try_from(port)
                    .map_err(|_| Error(format!("--gdb-port {port}: not a TCP port")))?;
                opts.gdb = true;
            }
            "--no-net" => opts.no_net = true,
            "--bench" => bench = true,
            // After `--init PATH`, anything that is not a runner option is one of init's
            // arguments, and everything after `--` is.
            "--" if opts.init.is_some() => opts.init_args.extend(args.by_ref()),
            _ if opts.init.is_some() => opts.init_args.push(arg),
            _ if name.starts_with('-') => {
                return Err(Error(format!("unknown option {name} (see --help)")));
            }
            _ => return Err(Error(format!("unexpected argument {name:?} (see --help)"))),
        }
    }
    if opts.kvm && opts.icount {
        return Err(Error(
            "--icount needs TCG and cannot be used with --kvm".into(),
        ));
    }
    if bench {
        if opts.init.is_some() || opts.kvm {
            return Err(Error("--bench runs its own init under --icount".into()));
        }
        return Ok(Command::Bench(opts));
    }
    Ok(Command::Run(opts))
}

fn value(args: &mut impl Iterator<Item = OsString>, name: &str) -> Result<OsString, Error> {
    args.next()
        .ok_or_else(|| Error(format!("{name} needs a value (see --help)")))
}

fn utf8(value: OsString, name: &str) -> Result<String, Error> {
    value
        .into_string()
        .map_err(|v| Error(format!("{name} {v:?}: not valid UTF-8")))
}

fn positive(value: OsString, name: &str) -> Result<u64, Error> {
    let text = utf8(value, name)?;
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error(format!(
            "{name} {text:?}: expected a positive whole number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, Error> {
        parse_args(args.iter().map(OsString::from))
    }

    fn opts(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Run(o)) => o,
            other => panic!("{args:?} should parse to Run, got {other:?}"),
        }
    }

    fn error(args: &[&str]) -> String {
        match parse(args) {
            Err(Error(msg)) => msg,
            other => panic!("{args:?} should be an error, got {other:?}"),
        }
    }

    #[test]
    fn no_arguments_boot_with_defaults() {
        assert_eq!(opts(&[]), Options::default());
        assert_eq!(Options::default().memory_mib, 512);
        assert_eq!(Options::default().kernel_cmdline(), "log=info");
    }

    #[test]
    fn help_wins_and_lists_every_option() {
        assert_eq!(parse(&["--kvm", "--help"]), Ok(Command::Help));
        for o in [
            "--add DIR",
            "--init PATH [ARGS...]",
            "--append ARGS",
            "--timeout SECS",
            "--icount",
            "--memory MiB",
        ] {
            assert!(USAGE.contains(o), "usage lacks {o}");
        }
        for o in ["--kvm", "--gdb", "--gdb-port PORT", "--no-net", "--help"] {
            assert!(USAGE.contains(o), "usage lacks {o}");
        }
    }

    #[test]
    fn every_option_sets_its_field() {
        let o = opts(&[
            "--add",
            "a",
            "--add",
            "b",
            "--append",
            "x=1",
            "--timeout",
            "30",
            "--icount",
            "--memory",
            "256",
            "--gdb",
            "--no-net",
        ]);
        assert!(o.no_net);
        assert_eq!(o.gdb_port, 1234);
        let g = opts(&["--gdb-port", "4321"]);
        assert!(g.gdb && g.gdb_port == 4321);
        assert_eq!(o.add, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(o.append, ["x=1"]);
        assert_eq!(o.timeout_secs, Some(30));
        assert!(o.icount && o.gdb && !o.kvm);
        assert_eq!(o.memory_mib, 256);
        assert!(opts(&["--kvm"]).kvm);
    }

    #[test]
    fn init_args_are_verbatim_up_to_the_next_runner_option() {
        let o = opts(&[
            "--add", "d", "--init", "/hello", "a b", "", "-x", "--append", "G=hi", "c",
        ]);
        assert_eq!(o.init.as_deref(), Some("/hello"));
        assert_eq!(o.init_args, ["a b", "", "-x", "c"].map(OsString::from));
        assert_eq!(o.append, ["G=hi"]);
    }

    #[test]
    fn init_args_after_double_dash_are_all_init_args() {
        let o = opts(&["--init", "/prog", "a", "--", "--kvm", "--", "--help"]);
        assert_eq!(
            o.init_args,
            ["a", "--kvm", "--", "--help"].map(OsString::from)
        );
        assert!(!o.kvm, "--kvm after -- belongs to init");
    }

    #[test]
    fn cmdline_has_log_init_and_appended_words() {
        let o = opts(&["--append", "GREETING=hi", "--init", "/hello", "x"]);
        assert_eq!(o.kernel_cmdline(), "log=info init=/hello GREETING=hi");
        let o = opts(&["--append", "a=1 log=debug", "--append", "b=2"]);
        assert_eq!(o.kernel_cmdline(), "a=1 log=debug b=2");
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["--bogus"], "unknown option --bogus"),
            (&["stray"], "unexpected argument"),
            (&["--add"], "--add needs a value"),
            (&["--init"], "--init needs a value"),
            (&["--init", "hello"], "absolute path"),
            (&["--init", "/a b"], "absolute path"),
            (&["--init", "/a", "--init", "/b"], "--init given twice"),
            (&["--", "x"], "unknown option --"),
            (&["--timeout", "0"], "positive whole number"),
            (&["--timeout", "soon"], "positive whole number"),
            (&["--memory", "-5"], "positive whole number"),
            (&["--memory", "99999999999"], "too large"),
            (&["--kvm", "--icount"], "cannot be used with --kvm"),
        ];
        for (args, expected) in cases {
            let msg = error(args);
            assert!(
                msg.contains(expected),
                "{args:?}: error {msg:?} should contain {expected:?}"
            );
            assert!(
                !msg.contains('\n'),
                "{args:?}: error {msg:?} should be one line"
            );
        }
    }
}
