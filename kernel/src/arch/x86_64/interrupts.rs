//! Rust side of the trap entry: exceptions, IRQs.
use super::trap::TrapFrame;

pub extern "C" fn trap_handler(frame: &mut TrapFrame) {
    panic!("unexpected trap {} at {:#x}", frame.vector, frame.rip);
}
