//! SysV IPC: wrappers for shared memory, message queues and semaphores.
