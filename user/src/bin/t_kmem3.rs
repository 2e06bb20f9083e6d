//! More of issue 16's routes through `ulib::kmem::fill_to_limit`: memory areas
//! (one-page mappings), SysV semaphore sets (of 64 and of 250 semaphores) and POSIX
//! message queues (of 4 KiB and of 8 KiB messages: blocks over a page, from the heap's
//! vmalloc area) (containers are in `t_kmemns`). Each fills a fresh plimits group with a 32 MiB
//! `memory.limit` until a call gives `ENOMEM`, the usage at the limit, the machine's
//! `MemFree` down by at most 34 MiB, the root still forking; all back after the child.
//! The limit that would stop mappings first (`vm.max_map_count`) is raised and put back.
//!
//! Also Linux's `vm.max_map_count` itself: at the count a new mapping, an `munmap` that
//! would cut an area in two and an `mprotect` that would split one give `ENOMEM`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use ulib::container::{unshare, write_text};
    use ulib::kmem::{Route, fill_with_raised, read_num, set_nofile};
    use ulib::sys::{self, errno::*};
    use ulib::test::{Exit, wait_exit};
    use ulib::{check_eq, test_main};

    const PAGE: usize = 4096;
    const MAX_MAP_COUNT: &str = "/proc/sys/vm/max_map_count";

    /// One-page anonymous mappings, protections alternating so that no two merge, never
    /// touched: each is one memory area and nothing else.
    fn fill_mappings() -> (i32, usize) {
        let mut n = 0;
        loop {
            let prot = if n % 2 == 0 {
                sys::PROT_READ
            } else {
                sys::PROT_NONE
            };
            // SAFETY: no MAP_FIXED: the kernel picks a free page.
            let r =
                unsafe { sys::mmap(0, PAGE, prot, sys::MAP_PRIVATE | sys::MAP_ANONYMOUS, -1, 0) };
            match r {
                Ok(_) => n += 1,
                Err(e) => return (e, n),
            }
        }
    }

    /// SysV semaphore sets of `nsems` semaphores in fresh IPC containers: at a
    /// container's `SEMMNI` (`ENOSPC`) the container is held by an fd on
    /// `/proc/self/ns/ipc` and the next one made.
    fn fill_semaphores_of(nsems: i32) -> (i32, usize) {
        use ulib::sysv::{IPC_PRIVATE, semget};
        if let Err(e) = unshare(ulib::container::CLONE_NEWIPC) {
            return (e, 0);
        }
        let (mut n, mut fresh) = (0, true);
        loop {
            match semget(IPC_PRIVATE, nsems, 0o600) {
                Ok(_) => {
                    n += 1;
                    fresh = false;
                }
                Err(ulib::container::ENOSPC) if !fresh => {
                    fresh = true;
                    let held = sys::open(c"/proc/self/ns/ipc", sys::O_RDONLY, 0);
                    if let Err(e) = held.and_then(|_| unshare(ulib::container::CLONE_NEWIPC)) {
                        return (e, n);
                    }
                }
                Err(e) => return (e, n),
            }
        }
    }

    /// Sets of 64 semaphores (an array under 2 KiB: a size-class block).
    fn fill_semaphores() -> (i32, usize) {
        fill_semaphores_of(64)
    }

    /// Sets of 250 semaphores (an array over a page: a block of the vmalloc area).
    fn fill_semaphores_250() -> (i32, usize) {
        fill_semaphores_of(250)
    }

    /// POSIX message queues of 10 messages of 4 KiB (each a frame of the heap).
    fn fill_mqueues() -> (i32, usize) {
        fill_mqueues_of::<4096>()
    }

    /// POSIX message queues of 10 messages of 8 KiB (Linux's default `msgsize_max`; each
    /// a two-page block of the vmalloc area).
    fn fill_mqueues_8k() -> (i32, usize) {
        fill_mqueues_of::<8192>()
    }

    /// POSIX message queues of 10 messages of `SIZE` bytes, each filled, in a fresh IPC
    /// container, held open (root passes `queues_max`; the group's `ipc.mq_limit` of
    /// 1,024 queues is more than 32 MiB holds).
    fn fill_mqueues_of<const SIZE: usize>() -> (i32, usize) {
        use ulib::mq;
        if let Err(e) = unshare(ulib::container::CLONE_NEWIPC) {
            return (e, 0);
        }
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let msg = [0x71u8; SIZE];
        let attr = mq::MqAttr {
            flags: 0,
            maxmsg: 10,
            msgsize: SIZE as i64,
            curmsgs: 0,
            reserved: [0; 4],
        };
        let mut name = *b"/k000000\0";
        let mut n = 0usize;
        loop {
            let mut v = n;
            for b in name[2..8].iter_mut().rev() {
                *b = b'0' + (v % 10) as u8;
                v /= 10;
            }
            let text = core::str::from_utf8(&name[..8]).unwrap_or("/k");
            let fd = match mq::open(text, sys::O_RDWR | sys::O_CREAT, 0o600, Some(&attr)) {
                Ok(fd) => fd,
                Err(e) => return (e, n),
            };
            n += 1;
            for _ in 0..10 {
                if let Err(e) = mq::timedsend(fd, &msg, 0, None) {
                    return (e, n);
                }
            }
        }
    }

    const ROUTES: &[(Route, &[(&str, &str)])] = &[
        (
            Route {
                name: "mappings",
                fill: fill_mappings,
            },
            &[(MAX_MAP_COUNT, "100000000")],
        ),
        (
            Route {
                name: "sysv_semaphores",
                fill: fill_semaphores,
            },
            &[("/proc/sys/user/max_ipc_container", "1000000")],
        ),
        (
            Route {
                name: "sysv_semaphores_250",
                fill: fill_semaphores_250,
            },
            &[("/proc/sys/user/max_ipc_container", "1000000")],
        ),
        (
            Route {
                name: "posix_mqueues",
                fill: fill_mqueues,
            },
            &[],
        ),
        (
            Route {
                name: "posix_mqueues_8k",
                fill: fill_mqueues_8k,
            },
            &[],
        ),
    ];

    fn each_route_stops_at_the_group_limit_with_enomem() {
        for (route, raise) in ROUTES {
            fill_with_raised(route, raise);
        }
    }

    /// Lines of `/proc/self/maps`: the process's memory areas. Read into the stack: at
    /// `max_map_count` the program's allocator cannot map more.
    fn areas() -> usize {
        let Ok(fd) = sys::open(c"/proc/self/maps", sys::O_RDONLY, 0) else {
            return 0;
        };
        let mut buf = [0u8; 4096];
        let mut lines = 0;
        while let Ok(n) = sys::read(fd, &mut buf) {
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        }
        let _ = sys::close(fd);
        lines
    }

    fn map_page(prot: usize, pages: usize) -> SysResult {
        // SAFETY: no MAP_FIXED: the kernel picks free pages.
        unsafe {
            sys::mmap(
                0,
                pages * PAGE,
                prot,
                sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
                -1,
                0,
            )
        }
    }

    use ulib::sys::SysResult;

    fn max_map_count_stops_mmap_munmap_and_mprotect() {
        check_eq!(
            read_num(MAX_MAP_COUNT),
            65530,
            "Linux's default max_map_count"
        );
        let child = ulib::test::fork_run(|| {
            // A three-page area to cut later, then areas up to the limit.
            let three = map_page(sys::PROT_READ, 3).unwrap_or(0);
            let max = areas() + 200;
            if write_text(MAX_MAP_COUNT, format!("{max}").as_bytes()).is_err() {
                sys::exit(10);
            }
            let mut made = 0;
            let stop = loop {
                let prot = if made % 2 == 0 {
                    sys::PROT_NONE
                } else {
                    sys::PROT_READ
                };
                match map_page(prot, 1) {
                    Ok(_) => made += 1,
                    Err(e) => break e,
                }
                if made > 1000 {
                    break 0;
                }
            };
            let count = areas();
            // SAFETY: the middle page of a mapping nothing uses.
            let hole = unsafe { sys::munmap(three + PAGE, PAGE) };
            // SAFETY: as above; read-only to none.
            let split = unsafe { sys::mprotect(three + PAGE, PAGE, sys::PROT_NONE) };
            // SAFETY: the whole of it: no split, one area fewer.
            let whole = unsafe { sys::munmap(three, 3 * PAGE) };
            let again = map_page(sys::PROT_READ, 1).map(|_| 0);
            // Back to the default without allocating, so the report below can.
            if let Ok(fd) = sys::open(c"/proc/sys/vm/max_map_count", sys::O_WRONLY, 0) {
                let _ = sys::write(fd, b"65530");
                let _ = sys::close(fd);
            }
            ulib::println!(
                "  max_map_count {max}: {made} made, then errno {stop}; {count} areas; \
                 munmap hole {hole:?}, mprotect split {split:?}, whole munmap {whole:?}, \
                 a map after it {again:?}"
            );
            let ok = stop == ENOMEM
                // Linux refuses once the count has passed the limit: it reaches max + 1.
                && count == max + 1
                && hole == Err(ENOMEM)
                && split == Err(ENOMEM)
                && whole == Ok(0)
                && again == Ok(0);
            sys::exit(if ok { 0 } else { 1 });
        });
        check_eq!(wait_exit(child), Exit::Code(0), "the child's checks");
        check_eq!(
            write_text(MAX_MAP_COUNT, b"65530").map(|_| ()),
            Ok(()),
            "max_map_count back"
        );
        check_eq!(
            write_text(MAX_MAP_COUNT, b"-1").map(|_| ()),
            Err(EINVAL),
            "a negative count"
        );
    }

    test_main!(
        max_map_count_stops_mmap_munmap_and_mprotect,
        each_route_stops_at_the_group_limit_with_enomem
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
