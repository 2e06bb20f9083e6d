//! What the socket layer needs from the rest of the kernel (the caller's net container,
//! identity and file-system names), in one place. On the host (unit tests) these are
//! stand-ins: the root containers, uid 0, no file system.

use super::Creds;
use crate::container::net::NetContainer;
use crate::errno::Errno;
use crate::fs::vfs::InodeRef;
use alloc::sync::Arc;

#[cfg(target_os = "none")]
mod imp {
    use super::*;
    use crate::cred::{CAP_NET_ADMIN, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};
    use crate::task;

    /// The caller's net container (the root one before the first process).
    pub fn current_net() -> Arc<NetContainer> {
        match task::sched::try_current() {
            Some(t) => t.process().containers().net.clone(),
            None => crate::container::root().net.clone(),
        }
    }

    /// CAP_NET_ADMIN over the caller's net container.
    pub fn net_admin() -> bool {
        net_capable(&current_net(), CAP_NET_ADMIN)
    }

    /// Capability `cap` in the user container that owns `net`.
    pub fn net_capable(net: &NetContainer, cap: u32) -> bool {
        let c = task::current_cred();
        match crate::container::ContainerType::common(net).owner() {
            Some(owner) => c.capable_in(owner, cap),
            None => c.capable(cap),
        }
    }

    /// The net container of process `pid` in the caller's PID container
    /// (`IFLA_NET_NS_PID`): `ESRCH` when there is none.
    pub fn net_of_pid(pid: i32) -> Result<Arc<NetContainer>, Errno> {
        let p = u32::try_from(pid)
            .ok()
            .filter(|&n| n != 0)
            .and_then(task::find_process)
            .ok_or(Errno::ESRCH)?;
        Ok(p.containers().net.clone())
    }

    /// The net container an nsfs file names (`IFLA_NET_NS_FD`): `EBADF` for no file,
    /// `EINVAL` for any other file.
    pub fn net_of_fd(fd: i32) -> Result<Arc<NetContainer>, Errno> {
        let file = task::current_process().files().get(fd)?;
        crate::fs::container_of_file(&file)
            .and_then(|c| c.downcast::<NetContainer>())
            .ok_or(Errno::EINVAL)
    }

    /// The caller as a sender: its process, and its real (`effective` false:
    /// SCM_CREDENTIALS) or effective (SO_PEERCRED) ids.
    pub fn current_creds(effective: bool) -> Creds {
        let Some(t) = task::sched::try_current() else {
            return Creds {
                pid: None,
                uid: 0,
                gid: 0,
            };
        };
        let p = t.process();
        let c = p.cred();
        Creds {
            pid: Some(p.pid_ref().clone()),
            uid: if effective { c.euid } else { c.uid },
            gid: if effective { c.egid } else { c.gid },
        }
    }

    /// `creds` as the caller sees them: (pid, uid, gid); pid 0 when the process is
    /// not in the caller's PID container, 65534 for unmapped ids.
    pub fn view_creds(creds: &Creds) -> (i32, u32, u32) {
        let pid = creds.pid.as_ref().map_or(0, |p| task::view_nr(p));
        if creds.pid.is_none() && creds.uid == u32::MAX {
            return (0, u32::MAX, u32::MAX);
        }
        let c = task::current_cred();
        (pid as i32, c.view_uid(creds.uid), c.view_gid(creds.gid))
    }

    /// A `struct ucred` a sender passed with SCM_CREDENTIALS, checked as Linux's
    /// `scm_check_creds`: its own pid (or CAP_SYS_ADMIN), one of its uids (or
    /// CAP_SETUID) and gids (or CAP_SETGID), else `EPERM`.
    pub fn creds_from_user(pid: i32, uid: u32, gid: u32) -> Result<Creds, Errno> {
        let p = task::current_process();
        let c = p.cred();
        let pid_ref = if pid as u32 == p.pid_ref().vnr() {
            p.pid_ref().clone()
        } else if c.capable(CAP_SYS_ADMIN) {
            let other = task::find_process(pid as u32).ok_or(Errno::ESRCH)?;
            other.pid_ref().clone()
        } else {
            return Err(Errno::EPERM);
        };
        let kuid = c.user.uid_to_kernel(uid).ok_or(Errno::EINVAL)?;
        let kgid = c.user.gid_to_kernel(gid).ok_or(Errno::EINVAL)?;
        if ![c.uid, c.euid, c.suid].contains(&kuid) && !c.capable(CAP_SETUID) {
            return Err(Errno::EPERM);
        }
        if ![c.gid, c.egid, c.sgid].contains(&kgid) && !c.capable(CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        Ok(Creds {
            pid: Some(pid_ref),
            uid: kuid,
            gid: kgid,
        })
    }

    /// Creates the socket inode of an AF_UNIX path name (`EADDRINUSE` if it exists).
    pub fn make_socket_inode(path: &str) -> Result<InodeRef, Errno> {
        crate::syscall::fs::make_socket_inode(path)
    }

    /// The inode an AF_UNIX path name names, if the caller may write it.
    pub fn socket_inode_at(path: &str) -> Result<InodeRef, Errno> {
        crate::syscall::fs::socket_inode_at(path)
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    use super::*;

    pub fn current_net() -> Arc<NetContainer> {
        crate::container::init("");
        crate::container::root().net.clone()
    }

    pub fn net_admin() -> bool {
        true
    }

    pub fn net_capable(_net: &NetContainer, _cap: u32) -> bool {
        true
    }

    /// No processes on the host.
    pub fn net_of_pid(_pid: i32) -> Result<Arc<NetContainer>, Errno> {
        Err(Errno::ESRCH)
    }

    pub fn net_of_fd(_fd: i32) -> Result<Arc<NetContainer>, Errno> {
        Err(Errno::EBADF)
    }

    pub fn current_creds(_effective: bool) -> Creds {
        Creds {
            pid: None,
            uid: 0,
            gid: 0,
        }
    }

    pub fn view_creds(creds: &Creds) -> (i32, u32, u32) {
        (0, creds.uid, creds.gid)
    }

    pub fn creds_from_user(_pid: i32, uid: u32, gid: u32) -> Result<Creds, Errno> {
        Ok(Creds {
            pid: None,
            uid,
            gid,
        })
    }

    /// There is no file system to name sockets in on the host.
    pub fn make_socket_inode(_path: &str) -> Result<InodeRef, Errno> {
        Err(Errno::EROFS)
    }

    pub fn socket_inode_at(_path: &str) -> Result<InodeRef, Errno> {
        Err(Errno::ENOENT)
    }
}

pub use imp::*;
