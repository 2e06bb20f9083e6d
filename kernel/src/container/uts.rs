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

/// `struct new_utsname`: six NUL-padded fields of 65 bytes.
pub const UTSNAME_LEN: usize = 65 * 6;
const HOST: usize = 1;
const DOMAIN: usize = 5;

pub struct UtsContainer {
    common: ContainerCommon,
    /// The `uname` image itself (names changed in place): `uname` copies it whole, with no
    /// allocation.
    image: Mutex<[u8; UTSNAME_LEN]>,
}

fn field(image: &[u8; UTSNAME_LEN], i: usize) -> &[u8] {
    let f = &image[i * 65..i * 65 + 65];
    &f[..f.iter().position(|&b| b == 0).unwrap_or(NAME_MAX)]
}

fn set_field(image: &mut [u8; UTSNAME_LEN], i: usize, name: &[u8]) {
    let n = name.len().min(NAME_MAX);
    let f = &mut image[i * 65..i * 65 + 65];
    f.fill(0);
    f[..n].copy_from_slice(&name[..n]);
}

impl ContainerType for UtsContainer {
    const KIND: Kind = Kind::Uts;

    fn common(&self) -> &ContainerCommon {
        &self.common
    }

    fn root(common: ContainerCommon) -> Self {
        let mut image = [0u8; UTSNAME_LEN];
        for (i, name) in [
            SYSNAME.as_bytes(),
            b"bulkhead",
            RELEASE.as_bytes(),
            VERSION.as_bytes(),
            MACHINE.as_bytes(),
            b"(none)",
        ]
        .iter()
        .enumerate()
        {
            set_field(&mut image, i, name);
        }
        UtsContainer {
            common,
            image: Mutex::new(image),
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
            image: Mutex::new(*parent.image.lock()),
        })
    }
}

impl UtsContainer {
    pub fn hostname(&self) -> Vec<u8> {
        field(&self.image.lock(), HOST).to_vec()
    }

    pub fn domainname(&self) -> Vec<u8> {
        field(&self.image.lock(), DOMAIN).to_vec()
    }

    /// `sethostname`: at most 64 bytes (`EINVAL`).
    pub fn set_hostname(&self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::EINVAL);
        }
        set_field(&mut self.image.lock(), HOST, name);
        Ok(())
    }

    pub fn set_domainname(&self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > NAME_MAX {
            return Err(Errno::EINVAL);
        }
        set_field(&mut self.image.lock(), DOMAIN, name);
        Ok(())
    }

    /// `struct new_utsname`: six fields of 65 bytes.
    pub fn utsname(&self) -> [u8; UTSNAME_LEN] {
        *self.image.lock()
    }

    pub fn describe(&self) -> String {
        String::from_utf8_lossy(&self.hostname()).into_owned()
    }
}
