//! Process file descriptors (`pidfd_open`): readable (POLLIN) once the process has
//! exited, and usable with `setns` to join several of its containers at once.

use super::Process;
use crate::errno::Errno;
use crate::fs::file::{FileOps, OpenFile, POLLIN};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

pub struct PidFd {
    process: Arc<Process>,
}

/// Open pidfds by the address of their file object, to recognise one in `setns`.
static PIDFDS: Mutex<BTreeMap<usize, Weak<Process>>> = Mutex::new(BTreeMap::new());

impl FileOps for PidFd {
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn poll(&self) -> u16 {
        if self.process.inner.lock().zombie.is_some() {
            POLLIN
        } else {
            0
        }
    }
}

impl Drop for PidFd {
    fn drop(&mut self) {
        PIDFDS.lock().remove(&(self as *const PidFd as usize));
    }
}

/// A new open file referring to `p`.
pub fn open(p: Arc<Process>, flags: u32) -> Arc<OpenFile> {
    let fd = Arc::new(PidFd { process: p.clone() });
    PIDFDS
        .lock()
        .insert(Arc::as_ptr(&fd) as usize, Arc::downgrade(&p));
    OpenFile::new(
        fd,
        None,
        String::from("anon_inode:[pidfd]"),
        crate::fs::file::O_RDWR | flags,
    )
}

/// The process a pidfd refers to, if `file` is one.
pub fn process_of(file: &OpenFile) -> Option<Arc<Process>> {
    let key = Arc::as_ptr(file.ops()) as *const () as usize;
    PIDFDS.lock().get(&key).and_then(Weak::upgrade)
}
