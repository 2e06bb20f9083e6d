//! Maps the vDSO (`crate::vdso`) into address spaces: the image's frames and the clock
//! page are made once at boot and shared by every process; each TIME container gets its
//! own offsets page (made when a process first maps it: its offsets are frozen by then),
//! so a process in a TIME container reads that container's offsets without a system call.
//! The pages are a shared [`PageSource`]; a process whose TIME container changes
//! (a child entering `time_for_children`, `setns`, `execve`) gets the area remapped.

use super::aspace::{AddressSpace, STACK_TOP};
use super::vma::{Backing, PROT_EXEC, PROT_READ, PageSource, Vma, same_source};
use super::{PAGE_SIZE, frame, phys_to_virt};
use crate::container::time::{Clock, TimeContainer};
use crate::vdso::{
    CLOCK_MULT, CLOCK_REALTIME_OFFSET, CLOCK_TSC_START, DATA_PAGES, TIME_BOOTTIME, TIME_MONOTONIC,
};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// Start of `[vvar]`, right above the stack; `[vdso]` (one page) follows the data pages,
/// ending one page below `USER_END` (the last page stays unmapped, as on Linux).
pub const VVAR_BASE: u64 = STACK_TOP;
const IMAGE_PAGES: usize = 1;

/// `AT_SYSINFO_EHDR`: the image's ELF header.
pub fn ehdr() -> u64 {
    VVAR_BASE + DATA_PAGES as u64 * PAGE_SIZE
}

/// A frame owned for the kernel's lifetime or until its last mapper goes.
struct Frame(u64);

impl Frame {
    fn new() -> Option<Frame> {
        frame::alloc().map(Frame)
    }
    fn word(&self, offset: usize) -> &AtomicU64 {
        assert!(offset + 8 <= PAGE_SIZE as usize && offset.is_multiple_of(8));
        // SAFETY: an aligned u64 inside a frame this object owns, reached through the
        // direct map; the frame lives as long as `self`, and every access is atomic.
        unsafe { &*((phys_to_virt(self.0) as usize + offset) as *const AtomicU64) }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        frame::free(self.0);
    }
}

struct Shared {
    clock: Frame,
    image: Vec<Frame>,
}

static SHARED: spin::Once<Shared> = spin::Once::new();

/// Builds the image and the clock page (once, at boot, after `time::init`).
pub fn init(tsc_start: u64, mult: u64, realtime_offset: i64) {
    SHARED.call_once(|| {
        let arch = crate::arch::x86_64::vdso::code();
        let img = crate::vdso::build(arch, &crate::arch::x86_64::vdso::symbols())
            .expect("the vDSO's tables fit below its code");
        assert!(
            img.len() <= IMAGE_PAGES * PAGE_SIZE as usize,
            "the vDSO image fits its pages"
        );
        let clock = Frame::new().expect("a frame for the vDSO clock page at boot");
        clock
            .word(CLOCK_TSC_START)
            .store(tsc_start, Ordering::Relaxed);
        clock.word(CLOCK_MULT).store(mult, Ordering::Relaxed);
        clock
            .word(CLOCK_REALTIME_OFFSET)
            .store(realtime_offset as u64, Ordering::Relaxed);
        let image = img
            .chunks(PAGE_SIZE as usize)
            .map(|chunk| {
                let f = Frame::new().expect("frames for the vDSO image at boot");
                for (i, w) in chunk.chunks(8).enumerate() {
                    let mut b = [0u8; 8];
                    b[..w.len()].copy_from_slice(w);
                    f.word(i * 8)
                        .store(u64::from_le_bytes(b), Ordering::Relaxed);
                }
                f
            })
            .collect();
        log::info!("vdso: {} bytes of image at {:#x}", img.len(), ehdr());
        Shared { clock, image }
    });
}

/// `clock_settime(CLOCK_REALTIME)`: the new offset, for every process at once.
pub fn set_realtime_offset(off: i64) {
    if let Some(s) = SHARED.get() {
        s.clock
            .word(CLOCK_REALTIME_OFFSET)
            .store(off as u64, Ordering::Release);
    }
}

/// The pages one TIME container's processes map.
struct Pages {
    time: Frame,
}

impl PageSource for Pages {
    fn page_phys(&self, index: u64) -> Option<u64> {
        let s = SHARED.get()?;
        match index {
            0 => Some(s.clock.0),
            1 => Some(self.time.0),
            i => s.image.get(i as usize - DATA_PAGES).map(|f| f.0),
        }
    }
}

/// New pages holding `time`'s offsets as they are now.
fn new_source(time: &TimeContainer) -> Option<Arc<dyn PageSource>> {
    let f = Frame::new()?;
    f.word(TIME_MONOTONIC)
        .store(time.offset(Clock::Monotonic) as u64, Ordering::Relaxed);
    f.word(TIME_BOOTTIME)
        .store(time.offset(Clock::Boottime) as u64, Ordering::Relaxed);
    Some(Arc::new(Pages { time: f }))
}

/// The source for `time`'s processes (`None` without memory). Kept in the container once
/// its offsets are frozen; before that (an `execve` maps the container it is about to
/// enter and freeze, and may still fail) each caller gets pages of its own.
fn source(time: &TimeContainer) -> Option<Arc<dyn PageSource>> {
    SHARED.get()?;
    if !time.is_frozen() {
        return new_source(time);
    }
    time.vdso
        .try_call_once(|| new_source(time).ok_or(()))
        .ok()
        .cloned()
}

/// Maps `[vvar]` and `[vdso]` for a process in `time` (replacing what was there). Without
/// memory for the offsets page, nothing is mapped (false): the C library then makes
/// system calls.
pub fn map(vm: &mut AddressSpace, time: &TimeContainer) -> bool {
    let Some(src) = source(time) else {
        return false;
    };
    let pages = SHARED.get().map_or(0, |s| s.image.len()) as u64;
    let data_end = ehdr();
    vm.map_area(Vma {
        start: VVAR_BASE,
        end: data_end,
        prot: PROT_READ,
        backing: Backing::Shared {
            src: src.clone(),
            pgoff: 0,
        },
        name: String::from("[vvar]"),
        file: None,
    });
    vm.map_area(Vma {
        start: data_end,
        end: data_end + pages * PAGE_SIZE,
        prot: PROT_READ | PROT_EXEC,
        backing: Backing::Shared {
            src,
            pgoff: DATA_PAGES as u64,
        },
        name: String::from("[vdso]"),
        file: None,
    });
    true
}

/// After a process's TIME container changed: remaps the data pages if the process still
/// has them and they are another container's.
pub fn sync(vm: &mut AddressSpace, time: &TimeContainer) {
    let mapped = match vm.vmas.find(VVAR_BASE) {
        Some(Vma {
            backing: Backing::Shared { src, .. },
            name,
            ..
        }) if name == "[vvar]" => src.clone(),
        _ => return,
    };
    if source(time).is_some_and(|s| same_source(&s, &mapped)) {
        return;
    }
    map(vm, time);
}

/// Whether `[start, end)` touches the vDSO's areas (`mprotect` may not make them writable).
pub fn overlaps(vm: &AddressSpace, start: u64, end: u64) -> bool {
    vm.vmas
        .iter()
        .any(|v| (v.name == "[vvar]" || v.name == "[vdso]") && v.start < end && start < v.end)
}
