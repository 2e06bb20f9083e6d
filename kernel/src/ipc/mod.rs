//! Inter-process communication objects that live in an IPC container: POSIX message
//! queues ([`mqueue`]) and SysV shared memory, message queues and semaphores ([`sysv`]).
//! Each IPC container owns one [`mqueue::Space`] and one [`sysv::Space`]; dropping the
//! container drops them, and with them every queue and segment nobody still holds.

pub mod mqueue;
pub mod sysv;
