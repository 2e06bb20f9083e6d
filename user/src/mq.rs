//! POSIX message queues: wrappers for `mq_open` … `mq_getsetattr` (syscalls 240–245).
