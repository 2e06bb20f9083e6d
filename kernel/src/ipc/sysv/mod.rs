//! SysV IPC (svipc(7)): shared memory, message queues and semaphores, per IPC container.

/// The SysV objects of one IPC container.
#[derive(Default)]
pub struct Space {}
