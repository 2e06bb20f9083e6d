//! `bulkhead` (what `cargo run` starts): boots the kernel in QEMU with the serial console on this
//! terminal and exits with init's verdict. See `--help` and README.md.

use std::process::ExitCode;

fn main() -> ExitCode {
    let result =
        bulkhead::parse_args(std::env::args_os().skip(1)).and_then(|command| match command {
            bulkhead::Command::Help => {
                print!("{}", bulkhead::USAGE);
                Ok(0)
            }
            bulkhead::Command::Run(opts) => {
                let outcome = bulkhead::run(&opts, false)?;
                if let Some(message) = outcome.verdict.message() {
                    eprintln!("bulkhead: {message}");
                }
                Ok(outcome.verdict.exit_code())
            }
            bulkhead::Command::Bench(opts) => bulkhead::bench(&opts),
        });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("bulkhead: {e}");
            ExitCode::from(bulkhead::EXIT_RUNNER_ERROR)
        }
    }
}
