//! Boots QEMU with the kernel and an initramfs written to a per-run temp file, bounds the run with
//! `--timeout`, and maps QEMU's exit status to a [`Verdict`].
//!
//! The kernel ends QEMU through `isa-debug-exit` (port 0xf4) with a value v, and QEMU exits with
//! `(v << 1) | 1`: v is init's exit status (0..=125), 126 when init was killed by a signal, 127 on
//! a kernel panic. Any even status means the guest never gave a verdict.

use crate::{Error, KERNEL_ELF, Options, USER_BIN_DIR, build_initramfs};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const QEMU: &str = "qemu-system-x86_64";
const INITRD_PREFIX: &str = "bulkhead-initrd-";

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// PID 1 exited with this status (0 = all tests passed).
    InitExited(u8),
    /// PID 1 was killed by a signal.
    InitKilled,
    KernelPanic,
    /// QEMU ended without going through `isa-debug-exit` (e.g. a triple fault with `-no-reboot`).
    NoVerdict(String),
    /// QEMU reported an error on stderr and exited with status 1 before the guest ran.
    QemuFailed(String),
    /// `--timeout` expired and QEMU was killed.
    TimedOut(u64),
}

impl Verdict {
    /// Maps QEMU's exit (`code`, or the `signal` that killed it) to a verdict. Status 1 is both
    /// "init exited 0" and QEMU's own error exit: `qemu_error`, the first error line QEMU printed
    /// on stderr, tells them apart.
    pub fn from_qemu_exit(
        code: Option<i32>,
        signal: Option<i32>,
        qemu_error: Option<&str>,
    ) -> Verdict {
        match (code, signal, qemu_error) {
            (Some(1), _, Some(line)) => Verdict::QemuFailed(line.to_string()),
            (Some(c @ 1..=255), _, _) if c & 1 == 1 => match c >> 1 {
                126 => Verdict::InitKilled,
                127 => Verdict::KernelPanic,
                v => Verdict::InitExited(v as u8),
            },
            (Some(c), _, _) => Verdict::NoVerdict(format!("status {c}")),
            (None, Some(s), _) => Verdict::NoVerdict(format!("killed by signal {s}")),
            (None, None, _) => Verdict::NoVerdict("unknown status".into()),
        }
    }

    fn from_status(status: ExitStatus, qemu_error: Option<&str>) -> Verdict {
        Verdict::from_qemu_exit(status.code(), status.signal(), qemu_error)
    }

    /// The runner's exit status for this verdict.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::InitExited(v) => *v,
            Verdict::InitKilled => 126,
            Verdict::KernelPanic => 127,
            Verdict::NoVerdict(_) => 3,
            Verdict::QemuFailed(_) => crate::EXIT_RUNNER_ERROR,
            Verdict::TimedOut(_) => 124,
        }
    }

    /// The line (without the `bulkhead: ` prefix) the runner prints on stderr, if any.
    pub fn message(&self) -> Option<String> {
        match self {
            Verdict::InitExited(_) => None,
            Verdict::InitKilled => Some("init was killed by a signal".into()),
            Verdict::KernelPanic => Some("kernel panic".into()),
            Verdict::NoVerdict(how) => Some(format!("QEMU exited without a verdict ({how})")),
            Verdict::QemuFailed(line) => Some(format!("QEMU failed: {line}")),
            Verdict::TimedOut(secs) => Some(format!("timed out after {secs} s")),
        }
    }
}

/// The result of [`run`]: the verdict and, when captured, the serial console output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub output: Vec<u8>,
}

/// The QEMU command line for `opts` with the initramfs at `initrd`.
pub fn qemu_command(opts: &Options, initrd: &Path) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-accel",
        if opts.kvm { "kvm" } else { "tcg" },
        "-kernel",
        KERNEL_ELF,
        "-initrd",
    ])
    .arg(initrd)
    // signal=off: Ctrl-C/Ctrl-Z typed at the terminal reach the guest's foreground
    // process group instead of killing QEMU.
    .args([
        "-display",
        "none",
        "-chardev",
        "stdio,id=con0,signal=off",
        "-serial",
        "chardev:con0",
        "-no-reboot",
        "-m",
    ])
    .arg(opts.memory_mib.to_string())
    .args([
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-nic",
        if opts.no_net {
            "none"
        } else {
            "user,model=virtio-net-pci"
        },
        // The HPET's MSI, which the kernel's watchdog sends as an NMI.
        "-global",
        "hpet.msi=on",
        "-append",
    ])
    .arg(opts.kernel_cmdline());
    if opts.icount {
        cmd.args(["-icount", "shift=0"]);
    }
    if opts.gdb {
        cmd.arg("-gdb")
            .arg(format!("tcp::{}", opts.gdb_port))
            .arg("-S");
    }
    cmd
}

/// Packs the initramfs and boots QEMU. With `capture`, QEMU's stdin is null and the serial output
/// is returned in [`Outcome::output`]; without it, QEMU uses the terminal (interactive console).
/// QEMU's stderr is passed through either way.
pub fn run(opts: &Options, capture: bool) -> Result<Outcome, Error> {
    let initrd = TempInitrd::write(&build_initramfs(opts, Path::new(USER_BIN_DIR))?.to_cpio())?;
    let mut cmd = qemu_command(opts, &initrd.0);
    // The debug console (port 0xe9) carries a panic's backtrace addresses to symbolize.
    let debugcon = TempPath(initrd.0.with_extension("debugcon"));
    cmd.arg("-debugcon")
        .arg(format!("file:{}", debugcon.0.display()));
    cmd.stderr(Stdio::piped());
    if capture {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error(format!(
            "{QEMU} not found (install it: apt-get install qemu-system-x86)"
        )),
        _ => Error(format!("cannot start {QEMU}: {e}")),
    })?;
    if opts.gdb {
        eprintln!(
            "bulkhead: QEMU is halted for gdb: gdb {KERNEL_ELF} -ex 'target remote :{}'",
            opts.gdb_port
        );
    }
    let stderr = child
        .stderr
        .take()
        .map(|s| thread::spawn(move || forward_stderr(s, std::io::stderr())));
    let stdout = child.stdout.take().map(|mut s| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let status = wait(&mut child, opts.timeout_secs.map(Duration::from_secs))
        .map_err(|e| Error(format!("waiting for {QEMU}: {e}")))?;
    let output = stdout
        .map(|t| t.join().unwrap_or_default())
        .unwrap_or_default();
    let qemu_error = stderr.and_then(|t| t.join().ok().flatten());
    // Captured, an exit 1 with no serial output at all cannot be init's: the kernel logs first.
    let qemu_error = qemu_error.or_else(|| {
        (capture && output.is_empty() && status.is_some_and(|s| s.code() == Some(1)))
            .then(|| format!("{QEMU} exited with status 1 before the guest wrote anything"))
    });
    let verdict = match status {
        Some(status) => Verdict::from_status(status, qemu_error.as_deref()),
        None => Verdict::TimedOut(opts.timeout_secs.unwrap_or_default()),
    };
    let addrs = fs::read_to_string(&debugcon.0)
        .map(|t| crate::backtrace_addresses(&t))
        .unwrap_or_default();
    if !addrs.is_empty() {
        eprintln!("bulkhead: backtrace (symbolized with {KERNEL_ELF}):");
        for line in crate::symbolize(Path::new(KERNEL_ELF), &addrs) {
            eprintln!("  {line}");
        }
    }
    Ok(Outcome { verdict, output })
}

/// Waits for `child`, killing it once `timeout` has passed; `None` means it was killed.
fn wait(child: &mut Child, timeout: Option<Duration>) -> std::io::Result<Option<ExitStatus>> {
    let Some(timeout) = timeout else {
        return child.wait().map(Some);
    };
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Copies QEMU's stderr to `sink` (ours) and returns QEMU's first error line (not a warning).
fn forward_stderr(stream: impl Read, mut sink: impl Write) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut first_error = None;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let _ = sink.write_all(&line);
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if first_error.is_none() && is_qemu_error(text) {
            first_error = Some(text.to_string());
        }
        line.clear();
    }
    first_error
}

/// A line QEMU prints before exiting with status 1 on its own error: `qemu-system-x86_64: ...`
/// (its `error_report`) or `qemu: ...` (older board code, e.g. `qemu: initrd is too large`),
/// warnings excluded.
fn is_qemu_error(line: &str) -> bool {
    let rest = line
        .strip_prefix(QEMU)
        .or_else(|| line.strip_prefix("qemu"))
        .and_then(|r| r.strip_prefix(": "));
    rest.is_some_and(|r| !r.starts_with("warning:") && !line.contains(": warning:"))
}

/// The initramfs as a temp file unique to this run (tests boot in parallel), removed on drop.
struct TempInitrd(PathBuf);

/// A file removed when the run ends.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl TempInitrd {
    fn write(cpio: &[u8]) -> Result<TempInitrd, Error> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir();
        remove_stale_initrds(&dir);
        let path = dir.join(format!(
            "{INITRD_PREFIX}{}-{}.cpio",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let io =
            |e: std::io::Error| Error(format!("writing the initramfs {}: {e}", path.display()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        let guard = TempInitrd(path.clone());
        file.write_all(cpio).map_err(io)?;
        Ok(guard)
    }
}

impl Drop for TempInitrd {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Removes initramfs files left behind by runs that were interrupted (Ctrl-C kills the runner
/// before it can clean up): those whose runner process no longer exists.
fn remove_stale_initrds(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(INITRD_PREFIX))
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_code(c: i32) -> Verdict {
        Verdict::from_qemu_exit(Some(c), None, None)
    }

    #[test]
    fn odd_status_carries_init_exit_status() {
        assert_eq!(from_code(1), Verdict::InitExited(0));
        assert_eq!(from_code(3), Verdict::InitExited(1));
        assert_eq!(from_code((42 << 1) | 1), Verdict::InitExited(42));
        assert_eq!(from_code((125 << 1) | 1), Verdict::InitExited(125));
        assert_eq!(from_code(1).exit_code(), 0);
        assert_eq!(from_code((42 << 1) | 1).exit_code(), 42);
        assert_eq!(from_code(1).message(), None);
    }

    #[test]
    fn init_killed_and_kernel_panic_have_their_own_codes() {
        let killed = from_code((126 << 1) | 1);
        assert_eq!(killed, Verdict::InitKilled);
        assert_eq!(killed.exit_code(), 126);
        let panic = from_code(255);
        assert_eq!(panic, Verdict::KernelPanic);
        assert_eq!(panic.exit_code(), 127);
        assert_eq!(panic.message().as_deref(), Some("kernel panic"));
    }

    #[test]
    fn even_status_or_signal_is_no_verdict() {
        for (v, how) in [
            (from_code(0), "status 0"),
            (from_code(2), "status 2"),
            (
                Verdict::from_qemu_exit(None, Some(9), None),
                "killed by signal 9",
            ),
        ] {
            assert_eq!(v, Verdict::NoVerdict(how.into()));
            assert_eq!(v.exit_code(), 3);
            assert_eq!(
                v.message(),
                Some(format!("QEMU exited without a verdict ({how})"))
            );
        }
    }

    #[test]
    fn status_one_with_a_qemu_error_is_a_runner_error() {
        let line = "qemu-system-x86_64: -accel kvm: failed to initialize kvm";
        let v = Verdict::from_qemu_exit(Some(1), None, Some(line));
        assert_eq!(v, Verdict::QemuFailed(line.into()));
        assert_eq!(v.exit_code(), 2);
        assert_eq!(
            Verdict::from_qemu_exit(Some(3), None, Some(line)),
            Verdict::InitExited(1)
        );
    }

    #[test]
    fn timeout_exits_124_with_a_message() {
        let v = Verdict::TimedOut(5);
        assert_eq!(v.exit_code(), 124);
        assert_eq!(v.message().as_deref(), Some("timed out after 5 s"));
    }

    #[test]
    fn forward_stderr_finds_first_error_not_warning() {
        let text = "qemu-system-x86_64: warning: host doesn't support x\nnoise\nqemu-system-x86_64: bad thing\nqemu-system-x86_64: second\n";
        let mut copy = Vec::new();
        let first = forward_stderr(text.as_bytes(), &mut copy);
        assert_eq!(first.as_deref(), Some("qemu-system-x86_64: bad thing"));
        assert_eq!(copy, text.as_bytes(), "stderr is passed through unchanged");
        let warning_only =
            forward_stderr("qemu-system-x86_64: warning: w\n".as_bytes(), Vec::new());
        assert_eq!(warning_only, None);
    }

    #[test]
    fn qemu_board_errors_count_too() {
        // QEMU 7.2's x86 loader with `-m 128` and a 150 MB initramfs.
        let line = "qemu: initrd is too large, cannot support.(max: 134053887, need 153655472)";
        let first = forward_stderr(format!("{line}\n").as_bytes(), Vec::new());
        assert_eq!(first.as_deref(), Some(line));
        let v = Verdict::from_qemu_exit(Some(1), None, first.as_deref());
        assert_eq!(v.exit_code(), 2);
        assert_eq!(v.message(), Some(format!("QEMU failed: {line}")));
        assert!(!is_qemu_error("qemu: warning: x"));
        assert!(!is_qemu_error("qemu-system-x86_64: warning: x"));
        assert!(!is_qemu_error("qemurc: x"));
        assert!(!is_qemu_error("the guest said qemu: x"));
    }

    #[test]
    fn qemu_command_follows_the_protocol() {
        let opts = Options {
            icount: true,
            gdb: true,
            memory_mib: 256,
            ..Options::default()
        };
        let cmd = qemu_command(&opts, Path::new("/tmp/x.cpio"));
        let args: Vec<_> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        let expected = [
            "-accel",
            "tcg",
            "-kernel",
            KERNEL_ELF,
            "-initrd",
            "/tmp/x.cpio",
            "-display",
            "none",
            "-chardev",
            "stdio,id=con0,signal=off",
            "-serial",
            "chardev:con0",
            "-no-reboot",
            "-m",
            "256",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-nic",
            "user,model=virtio-net-pci",
            "-global",
            "hpet.msi=on",
            "-append",
            "log=info",
            "-icount",
            "shift=0",
            "-gdb",
            "tcp::1234",
            "-S",
        ];
        assert_eq!(args, expected);
        let kvm = qemu_command(
            &Options {
                kvm: true,
                ..Options::default()
            },
            Path::new("x"),
        );
        assert_eq!(kvm.get_args().nth(1).and_then(|a| a.to_str()), Some("kvm"));
        let no_net = qemu_command(
            &Options {
                no_net: true,
                ..Options::default()
            },
            Path::new("x"),
        );
        let args: Vec<_> = no_net.get_args().map(|a| a.to_str().unwrap()).collect();
        let i = args
            .iter()
            .position(|&a| a == "-nic")
            .expect("a -nic argument");
        assert_eq!(args[i + 1], "none", "--no-net gives -nic none");
    }

    #[test]
    fn temp_initrd_is_unique_and_removed_on_drop() {
        let a = TempInitrd::write(b"a").unwrap();
        let b = TempInitrd::write(b"b").unwrap();
        assert_ne!(a.0, b.0);
        assert_eq!(fs::read(&a.0).unwrap(), b"a");
        let path = a.0.clone();
        drop(a);
        assert!(!path.exists(), "{} should be removed", path.display());
    }
}
