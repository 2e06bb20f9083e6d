//! The `log` backend: messages go to the serial console. The level comes from
//! `log=LEVEL` on the kernel command line (default `info`).

use crate::arch::x86_64::serial;
use core::fmt::{self, Write};

struct SerialWriter;

impl Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

struct KernelLogger;

impl log::Log for KernelLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let _ = writeln!(SerialWriter, "[{:5}] {}", r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: KernelLogger = KernelLogger;

pub fn init(level: &str) {
    let filter = match level {
        "off" => log::LevelFilter::Off,
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        _ => log::LevelFilter::Info,
    };
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(filter);
}

/// Prints without locks or allocation (panics, fatal faults).
pub fn emergency(args: fmt::Arguments) {
    let _ = SerialWriter.write_fmt(args);
}

/// Writes raw bytes to the console (the `/dev/console` output path).
pub fn console_write(bytes: &[u8]) {
    serial::write_bytes(bytes);
}
