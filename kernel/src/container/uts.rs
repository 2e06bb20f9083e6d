//! The UTS container: host and domain names (`uname`, `sethostname`, `setdomainname`).
//! A new one starts as a copy of its parent's.

use super::{ContainerCommon, ContainerType, Kind};
use crate::errno::Errno;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

pub const SYSNAME: &str = "Linux";
/// A Linux-style release: glibc refuses to start on a "too old" kernel, LTP gates on it.
pub const RELEASE: &str = "6.1.0-bulkhead";
pub const VERSION: &str = concat!("#1 Bulkhead ", env!("CARGO_PKG_VERSION"));
pub const MACHINE: &str = "x86_64";
/// Longest host or domain name (`__NEW_UTS_LEN`).
pub const NAME_MAX: usize = 64;

pub struct UtsContainer {
    common: ContainerCommon,
    names: Mutex<(Vec<u8>, Vec<u8>)>,
}

impl ContainerType for UtsContainer {
    const KIND: Kind = Kind::Uts;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        UtsContainer {
            common,
            names: Mutex::new((b"bulkhead".to_vec(), b"(none)".to_vec())),
        }
    }

    /// A new container with a copy of the parent's names.
    fn new_child(
        parent: &Arc<Self>,
        owner: &Arc<super::user::UserContainer>,
    ) -> Result<UtsContainer, Errno> {
        let common = ContainerCommon::new(Kind::Uts, owner)?;
        Ok(UtsContainer {
            common,
            names: Mutex::new(parent.names.lock().clone()),
        })
    }
}

impl UtsContainer {
    pub fn hostname(&self) -> Vec<u8> {
        self.names.lock().0.clone()
    }

    pub fn domainname(&self) -> Vec<u8> {
        self.names.lock().1.clone()
    }

    /// `sethostname`: at most 64 bytes (`EINVAL`).
    pub fn set_hostname(&self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::EINVAL);
        }
        self.names.lock().0 = name.to_vec();
        Ok(())
    }

    pub fn set_domainname(&self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::EINVAL);
        }
        self.names.lock().1 = name.to_vec();
        Ok(())
    }

    /// `struct new_utsname`: six fields of 65 bytes.
    pub fn utsname(&self) -> [u8; 65 * 6] {
        let mut u = [0u8; 65 * 6];
        let (host, domain) = self.names.lock().clone();
        let fields: [&[u8]; 6] = [
            SYSNAME.as_bytes(),
            &host,
            RELEASE.as_bytes(),
            VERSION.as_bytes(),
            MACHINE.as_bytes(),
            &domain,
        ];
        for (i, f) in fields.iter().enumerate() {
            let n = f.len().min(64);
            u[i * 65..i * 65 + n].copy_from_slice(&f[..n]);
        }
        u
    }

    pub fn describe(&self) -> String {
        String::from_utf8_lossy(&self.hostname()).into_owned()
    }
}
