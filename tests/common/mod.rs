//! Shared by the integration tests: run the real `bulkhead` binary with a bounded wait, make
//! temp directories, build C programs with `musl-gcc -static`.
//!
//! Every test binary uses only some of these helpers.
#![allow(dead_code)]

pub mod live;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What one `bulkhead` run left behind.
pub struct Run {
    /// The runner's exit status (`None` if a signal ended it).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Lines of the serial output, without the `\r` of CRLF line ends.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.stdout.lines().map(|l| l.trim_end_matches('\r'))
    }

    /// The status and both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit status {:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.status, self.stderr, self.stdout
        )
    }
}

/// Runs `bulkhead ARGS` with stdin closed, reading both streams in threads. The runner is
/// expected to bound QEMU itself (`--timeout`); `bound` is a backstop after which the runner is
/// killed and the test fails.
pub fn bulkhead(args: &[&str], bound: Duration) -> Run {
    bulkhead_with(
        Command::new(env!("CARGO_BIN_EXE_bulkhead")).args(args),
        bound,
    )
}

/// Like [`bulkhead`], for a command the caller has set up further (e.g. its environment).
pub fn bulkhead_with(cmd: &mut Command, bound: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bulkhead binary starts");
    let stdout = collect(child.stdout.take().expect("stdout is piped"));
    let stderr = collect(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + bound;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for bulkhead") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let text =
                |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap()).into_owned();
            panic!(
                "bulkhead did not finish within {} s; killed it\n--- stderr ---\n{}\n--- stdout ---\n{}",
                bound.as_secs(),
                text(&stderr.0),
                text(&stdout.0)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        status: status.code(),
        stdout: stdout.finish(),
        stderr: stderr.finish(),
    }
}

/// A stream being read into a shared buffer by a thread.
struct Collector(Arc<Mutex<Vec<u8>>>, thread::JoinHandle<()>);

impl Collector {
    fn finish(self) -> String {
        let _ = self.1.join();
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn collect(mut stream: impl Read + Send + 'static) -> Collector {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buf);
    let reader = thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    Collector(buf, reader)
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "bulkhead-test-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("temp dir path is UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds `tests/c/SOURCE` with `musl-gcc -static -O2` into `out_dir/name`. Fails the test with
/// a clear message when `musl-gcc` is missing (`.ci/run` installs Debian's `musl-tools`).
pub fn musl_build(source: &str, out_dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(source);
    let out = out_dir.join(name);
    let result = Command::new("musl-gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .output();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!(
                "musl-gcc not found: install musl-tools (apt-get install musl-tools), as .ci/run does"
            )
        }
        Err(e) => panic!("cannot run musl-gcc: {e}"),
        Ok(o) if !o.status.success() => {
            panic!(
                "musl-gcc failed on {}:\n{}",
                src.display(),
                String::from_utf8_lossy(&o.stderr)
            )
        }
        Ok(_) => out,
    }
}

/// Boots `init`, a path inside `dir` (which the runner adds to the initramfs), with the init
/// arguments `args` and the runner options `opts` (`--memory`, `--append`, `--icount` ...):
/// QEMU is bounded by `--timeout seconds`, the whole run by a minute more.
pub fn boot(dir: &TempDir, opts: &[&str], init: &str, args: &[&str], seconds: u64) -> Run {
    let timeout = seconds.to_string();
    let mut all = vec!["--timeout", &timeout, "--add", dir.path()];
    all.extend_from_slice(opts);
    all.extend(["--init", init, "--"]);
    all.extend_from_slice(args);
    bulkhead(&all, Duration::from_secs(seconds + 60))
}

/// Builds `tests/c/<name>.c` with musl and boots it as init `/<name>` (see [`boot`]).
pub fn boot_musl(name: &str, opts: &[&str], args: &[&str], seconds: u64) -> Run {
    let dir = TempDir::new(name);
    musl_build(&format!("{name}.c"), &dir.0, name);
    boot(&dir, opts, &format!("/{name}"), args, seconds)
}

/// Builds `tests/c/<name>.c` with musl and boots it as init for a run of `seconds` (the
/// program reads them from `append`, its environment): 170 s of slack for the boot and the
/// clean-up inside the guest, 60 s more outside.
pub fn run_musl_init(name: &str, append: &str, seconds: u64) -> Run {
    boot_musl(name, &["--append", append], &[], seconds + 170)
}

/// A fresh temp dir holding Debian's `busybox-static` at `DIR/<rel>`; fails the test with a
/// clear message when it is not installed (README's install line and `.ci/run` install it).
pub fn busybox_dir(tag: &str, rel: &str) -> TempDir {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.is_file(),
        "/bin/busybox is missing: install Debian's busybox-static (apt-get install busybox-static), as .ci/run does"
    );
    let dir = TempDir::new(tag);
    let to = dir.0.join(rel);
    std::fs::create_dir_all(to.parent().expect("a path inside the dir")).expect("busybox's dir");
    std::fs::copy(busybox, &to)
        .unwrap_or_else(|e| panic!("copying busybox to {}: {e}", to.display()));
    dir
}
