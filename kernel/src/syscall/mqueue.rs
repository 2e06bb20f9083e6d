//! POSIX message-queue system calls (240–245): `mq_open`, `mq_unlink`, `mq_timedsend`,
//! `mq_timedreceive`, `mq_notify`, `mq_getsetattr`.

use crate::errno::SysResult;

pub fn dispatch(nr: usize, _a: [u64; 6]) -> Option<SysResult> {
    let _ = nr;
    None
}
