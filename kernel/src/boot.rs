//! Bring-up: from the PVH entry to the first user process.

use crate::arch::x86_64::{boot, gdt, timer, trap};
use crate::mm::{self, KERNEL_BASE, PAGE_SIZE, frame};
use alloc::string::String;
use alloc::vec::Vec;

/// Physical memory above 4 GiB is not direct-mapped and not used.
const DIRECT_MAP_LIMIT: u64 = 4 << 30;

#[unsafe(no_mangle)]
extern "C" fn kernel_main(start_info: u32) -> ! {
    crate::arch::x86_64::serial::init();
    let info = boot::parse_start_info(start_info);
    let level = info
        .cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("log="))
        .unwrap_or("info");
    crate::klog::init(level);
    log::info!("Bulkhead kernel, command line: {:?}", info.cmdline);
    gdt::init();
    trap::init_idt();
    init_memory(&info);
    crate::mm::kstack::init(crate::arch::x86_64::context::KERNEL_STACK_SIZE);
    timer::init();
    crate::time::init();

    let initrd: &[u8] = match info.initrd {
        // SAFETY-free: the module is direct-mapped RAM the frame allocator does not own.
        Some((pa, size)) => crate::mm::phys_slice(pa, size),
        None => &[],
    };
    crate::net::inet::init();
    crate::net::netlink::init();
    crate::net::nic::init();
    crate::container::init(info.cmdline);
    crate::fs::init(
        initrd,
        alloc::sync::Arc::new(crate::fs::KernelState::for_caller()),
    );
    if let Some((pa, size)) = info.initrd {
        // The files are now in the ramfs: the archive's memory becomes free frames.
        frame::add_range(pa, pa + size);
    }
    // From all the memory, the initramfs's included (what MemTotal shows).
    crate::fs::sysctl::init_threads_max(mm::memory_pages().1 * PAGE_SIZE);
    let (free, total) = mm::memory_pages();
    crate::fs::sysctl::init_file_max(total, free);
    crate::mm::heapcheck::run(info.cmdline);
    if info.cmdline.split_whitespace().any(|w| w == "test_panic=1") {
        deliberate_panic();
    }
    crate::arch::x86_64::watchdog::init();
    if info.cmdline.split_whitespace().any(|w| w == "test_hang=1") {
        deliberate_hang();
    }
    start_init(info.cmdline);
    // Interrupts stay off in the kernel: the first return to user mode (iretq with
    // IF set in the frame) turns them on. Enabling them here could let the timer
    // interrupt `sched::start` while it holds the scheduler's lock.
    crate::task::sched::start()
}

fn init_memory(info: &boot::BootInfo) {
    unsafe extern "C" {
        static __kernel_end: u8;
    }
    let kernel_end = (&raw const __kernel_end) as u64 - KERNEL_BASE;
    let reserved_initrd = info.initrd.map(|(pa, size)| (pa, pa + size));
    // Only DMA buffers need physically contiguous memory: a small region for them; the
    // heap takes frames (its big blocks in the vmalloc area). No heap before the frames.
    let mut dma_done = false;
    for &(s, e) in &info.ram[..info.ram_count] {
        let s = s.max(kernel_end).max(1 << 20);
        let e = e.min(DIRECT_MAP_LIMIT);
        if s >= e {
            continue;
        }
        // Cut the initramfs out of the range.
        let pieces = match reserved_initrd {
            Some((rs, re)) if rs < e && re > s => [(s, rs.max(s)), (re.min(e), e)],
            _ => [(s, e), (0, 0)],
        };
        for (mut ps, pe) in pieces {
            ps = mm::page_up(ps).unwrap_or(pe);
            if ps >= pe {
                continue;
            }
            if !dma_done && pe - ps >= mm::dma::REGION_BYTES {
                mm::dma::init(ps);
                dma_done = true;
                ps += mm::dma::REGION_BYTES;
            }
            if ps < pe {
                frame::add_range(ps, pe);
            }
        }
    }
    assert!(dma_done, "no RAM range large enough for the DMA region");
    mm::vmalloc::init();
    let (free, total) = frame::counts();
    let (_, vmalloc) = mm::vmalloc::usage();
    log::info!(
        "memory: {} MiB in frames ({} free), DMA region {} KiB, vmalloc area {} MiB ({} KiB of page tables)",
        total * 4 / 1024,
        free,
        mm::dma::REGION_BYTES >> 10,
        vmalloc >> 20,
        mm::vmalloc::table_bytes() >> 10
    );
}

/// `test_panic=1` on the command line: a panic whose backtrace the runner's test
/// symbolizes (it looks for this function's name).
#[inline(never)]
fn deliberate_panic() -> ! {
    panic!("deliberate panic (test_panic=1)");
}

/// `test_hang=1` on the command line: 13 s in the kernel with interrupts off, which the
/// watchdog reports (a runner test looks for this function's name); then boot goes on.
#[inline(never)]
fn deliberate_hang() {
    let end = crate::time::monotonic_ns() + 13_000_000_000;
    while crate::time::monotonic_ns() < end {
        core::hint::spin_loop();
    }
}

/// Creates PID 1 from the command line: `init=PATH` (default `/init`), its arguments
/// from `/.bulkhead/argv` (NUL-separated, written by the runner), and every other
/// `key=value` word as its environment.
fn start_init(cmdline: &str) {
    let mut path = String::from("/init");
    let mut envp: Vec<Vec<u8>> = Vec::new();
    for w in cmdline.split_whitespace() {
        if let Some(p) = w.strip_prefix("init=") {
            path = String::from(p);
        } else if w.starts_with("log=") {
        } else if w.contains('=') {
            envp.push(w.as_bytes().to_vec());
        }
    }
    if !envp.iter().any(|e| e.starts_with(b"PATH=")) {
        envp.insert(0, b"PATH=/bin:/sbin:/usr/bin:/usr/sbin".to_vec());
    }
    let mut argv = alloc::vec![path.as_bytes().to_vec()];
    if let Ok(extra) = crate::fs::read_whole_file("/.bulkhead/argv") {
        let body = extra.strip_suffix(&[0]).unwrap_or(&extra);
        if !body.is_empty() {
            argv.extend(body.split(|&b| b == 0).map(|a| a.to_vec()));
        }
    }
    match crate::task::spawn_init(&path, argv, envp) {
        Ok(()) => log::info!("starting {path} as init"),
        Err(e) => panic!("cannot start init {path}: {e:?}"),
    }
}
