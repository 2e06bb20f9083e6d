//! POSIX message queues (mq_overview(7)): the per-container name space.

/// The message queues of one IPC container.
#[derive(Default)]
pub struct Space {}
