//! System call dispatch (Linux x86_64 numbers).
use crate::arch::x86_64::trap::TrapFrame;

pub extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    frame.rax = crate::errno::Errno::ENOSYS.as_ret() as u64;
}
