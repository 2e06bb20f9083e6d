//! SysV IPC system calls: shared memory (`shmget` 29, `shmat` 30, `shmctl` 31, `shmdt` 67),
//! semaphores (`semget` 64, `semop` 65, `semctl` 66, `semtimedop` 220) and message queues
//! (`msgget` 68, `msgsnd` 69, `msgrcv` 70, `msgctl` 71).

use crate::errno::SysResult;

pub fn dispatch(nr: usize, _a: [u64; 6]) -> Option<SysResult> {
    let _ = nr;
    None
}
