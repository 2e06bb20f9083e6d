//! What mounts cost their makers: every mount (made by `mount`, a bind, a copied tree, a
//! propagation copy) holds a charge to the plimits group of the process whose call made
//! it, for its `Mount`, its strings and its slot in the table; a table holds one for
//! itself. A propagation that cannot be charged in full is undone: the mounts the call
//! made leave the table again and nothing is half-built.

use super::{Mount, MountTable};
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// What one mount with these strings takes on the heap.
pub(super) fn mount_cost(path: &str, source: &str, root_path: &str) -> u64 {
    let strings = [path, source, root_path]
        .iter()
        .map(|s| kmem::array_cost::<u8>(s.len()))
        .fold(0u64, u64::saturating_add);
    kmem::arc_cost::<Mount>()
        .saturating_add(kmem::arc_cost::<Charge>())
        .saturating_add(core::mem::size_of::<Arc<Mount>>() as u64)
        .saturating_add(strings)
}

/// The charge of a new mount with these strings, to the caller's group: `ENOMEM` over
/// its limit.
pub(super) fn charge_mount(
    path: &str,
    source: &str,
    root_path: &str,
) -> Result<Arc<Charge>, Errno> {
    Ok(Arc::new(Charge::new(mount_cost(path, source, root_path))?))
}

/// The charge of a table object.
pub(super) fn charge_table() -> Result<Charge, Errno> {
    Charge::arc::<MountTable>()
}

impl MountTable {
    /// Takes back out of the table the mounts holding one of `charges` (the mounts a call
    /// made, whose propagation failed), and puts `restore` back at their indices (what a
    /// move took away), lowest index first.
    pub(super) fn undo(&self, charges: &[Arc<Charge>], restore: Vec<(usize, Arc<Mount>)>) {
        let mut mounts = self.mounts.write();
        mounts.retain(|m| !charges.iter().any(|c| Arc::ptr_eq(c, &m.charge)));
        for (i, m) in restore {
            let i = i.min(mounts.len());
            mounts.insert(i, m);
        }
    }
}

/// The charges of `mounts`, to undo them.
pub(super) fn charges_of(mounts: &[Arc<Mount>]) -> Result<Vec<Arc<Charge>>, Errno> {
    let mut out = Vec::new();
    out.try_reserve_exact(mounts.len())
        .map_err(|_| Errno::ENOMEM)?;
    out.extend(mounts.iter().map(|m| m.charge.clone()));
    Ok(out)
}
