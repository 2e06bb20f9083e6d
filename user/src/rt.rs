//! Process start and end: the [`entry!`](crate::entry) macro that defines `_start`, the
//! arguments from the Linux initial stack, the panic handler and the signal restorer.

use crate::sys;
use core::sync::atomic::{AtomicUsize, Ordering};

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicUsize = AtomicUsize::new(0);
static ENVP: AtomicUsize = AtomicUsize::new(0);

/// The program's arguments and environment, as the kernel laid them out on the initial stack:
/// `argc`, `argv[0..argc]`, NULL, `envp[..]`, NULL, auxv.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
    envp: *const *const u8,
}

impl Args {
    /// The arguments of the running program (saved by `_start`).
    pub fn get() -> Args {
        Args {
            argc: ARGC.load(Ordering::Relaxed),
            argv: ARGV.load(Ordering::Relaxed) as *const *const u8,
            envp: ENVP.load(Ordering::Relaxed) as *const *const u8,
        }
    }

    pub fn argc(&self) -> usize {
        self.argc
    }

    /// The raw `argv` array (NULL-terminated), e.g. to pass on to `execve`.
    pub fn argv_ptr(&self) -> *const *const u8 {
        self.argv
    }

    /// `argv[i]` as bytes, or `None` past the end.
    pub fn arg(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the kernel put `argc` valid string pointers at `argv`; they live forever.
        Some(unsafe { sys::cstr_bytes(*self.argv.add(i)) })
    }

    /// `argv[i]` as a string (`None` past the end or if it is not UTF-8).
    pub fn arg_str(&self, i: usize) -> Option<&'static str> {
        self.arg(i).and_then(|a| core::str::from_utf8(a).ok())
    }

    /// The environment entries (`KEY=value`).
    pub fn env(&self) -> impl Iterator<Item = &'static [u8]> {
        let envp = self.envp;
        (0..)
            // SAFETY: `envp` is NULL-terminated; we stop at the NULL.
            .map(move |i| unsafe { *envp.add(i) })
            .take_while(|p| !p.is_null())
            // SAFETY: non-NULL entries are valid C strings for the program's life.
            .map(|p| unsafe { sys::cstr_bytes(p) })
    }

    /// The value of environment variable `key`.
    pub fn getenv(&self, key: &str) -> Option<&'static str> {
        self.env().find_map(|e| {
            let rest = e.strip_prefix(key.as_bytes())?.strip_prefix(b"=")?;
            core::str::from_utf8(rest).ok()
        })
    }
}

/// Called by `_start` with the initial stack pointer; runs `main` and exits with its status.
///
/// # Safety
/// `sp` must be the stack pointer the kernel started the program with.
pub unsafe fn start(sp: *const usize, main: fn(Args) -> i32) -> ! {
    // SAFETY: the Linux initial stack layout: argc, then argc+1 argv slots, then envp.
    let (argc, argv, envp) = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        (argc, argv, argv.add(argc + 1))
    };
    ARGC.store(argc, Ordering::Relaxed);
    ARGV.store(argv as usize, Ordering::Relaxed);
    ENVP.store(envp as usize, Ordering::Relaxed);
    sys::exit(main(Args { argc, argv, envp }))
}

/// Defines `_start` for a program whose entry is `fn main(ulib::Args) -> i32`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        #[unsafe(naked)]
        extern "C" fn _start() -> ! {
            // rsp points at argc; align it for the call as the SysV ABI wants.
            core::arch::naked_asm!(
                "xor ebp, ebp",
                "mov rdi, rsp",
                "and rsp, -16",
                "call {start}",
                "ud2",
                start = sym __ulib_start,
            )
        }

        extern "C" fn __ulib_start(sp: *const usize) -> ! {
            // SAFETY: called only from `_start` with the initial stack pointer.
            unsafe { $crate::rt::start(sp, $main) }
        }
    };
}

/// The signal trampoline for `SA_RESTORER`: handlers return here and it calls `rt_sigreturn`.
#[unsafe(naked)]
pub extern "C" fn sigreturn_restorer() -> ! {
    core::arch::naked_asm!("mov eax, 15", "syscall", "ud2")
}

/// Installs `handler` for `sig` with `SA_RESTORER` (and `flags`), blocking `mask` while it runs.
pub fn set_handler(sig: i32, handler: extern "C" fn(i32), flags: u64, mask: u64) -> sys::SysResult {
    let act = sys::SigAction {
        handler: handler as *const () as usize,
        flags: flags | sys::SA_RESTORER,
        restorer: sigreturn_restorer as *const () as usize,
        mask,
    };
    sys::sigaction(sig, Some(&act), None)
}

/// Sets `sig` to `SIG_DFL` or `SIG_IGN`.
pub fn set_disposition(sig: i32, disposition: usize) -> sys::SysResult {
    let act = sys::SigAction {
        handler: disposition,
        ..Default::default()
    };
    sys::sigaction(sig, Some(&act), None)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::eprintln!("panic: {}", info);
    crate::test::report_panic();
    sys::exit(101)
}
