#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::arch::asm;
    fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
        let r: isize;
        // SAFETY: Linux syscall ABI.
        unsafe { asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c, out("rcx") _, out("r11") _) }
        r
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn _start() -> ! {
        let msg = b"init: hello\n";
        syscall3(1, 1, msg.as_ptr() as usize, msg.len());
        loop {
            syscall3(231, 0, 0, 0);
        }
    }
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        loop {
            syscall3(231, 1, 0, 0);
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {}
