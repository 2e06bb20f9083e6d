//! Issue 16: epoll items, POSIX timers and inotify watches are charged to the plimits
//! group of the process that made them and given back when they go; eventfd, timerfd,
//! signalfd and epoll instances are charged as open files. Each case reads the group's
//! `memory.usage` before, with the objects and after. Filling epoll items (one instance
//! after another watching the same 1,000 eventfds) stops at `ENOMEM` in a 32 MiB group
//! with the usage at the limit (`ulib::kmem::fill_to_limit`). A memfd's (tmpfs) data
//! pages are charged to the group that made it as user memory: writing one fills the
//! group to `ENOMEM` too.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use ulib::kmem::{Route, fill_to_limit, in_fresh_group, read_num, set_nofile};
    use ulib::sys::{self, syscall2, syscall3, syscall4};
    use ulib::test_main;

    const EVENTFD2: usize = 290;
    const EPOLL_CREATE1: usize = 291;
    const EPOLL_CTL: usize = 233;
    const TIMER_CREATE: usize = 222;
    const TIMER_DELETE: usize = 226;
    const INOTIFY_INIT1: usize = 294;
    const INOTIFY_ADD_WATCH: usize = 254;
    const TIMERFD_CREATE: usize = 283;
    const SIGNALFD4: usize = 289;
    const CLOCK_MONOTONIC: usize = 1;
    const IN_MODIFY: usize = 2;

    fn eventfd() -> sys::SysResult {
        // SAFETY: no pointer.
        sys::check(unsafe { syscall2(EVENTFD2, 0, 0) })
    }

    fn epoll_create() -> sys::SysResult {
        // SAFETY: no pointer.
        sys::check(unsafe { syscall2(EPOLL_CREATE1, 0, 0) })
    }

    fn epoll_add(ep: usize, fd: usize) -> sys::SysResult {
        let ev = [0u8; 12];
        // SAFETY: a live 12-byte struct epoll_event (EPOLLIN 0: only errors and hangups).
        sys::check(unsafe { syscall4(EPOLL_CTL, ep, 1, fd, ev.as_ptr() as usize) })
    }

    fn timer_create() -> sys::SysResult<i32> {
        let mut id = 0i32;
        // SAFETY: a NULL sigevent and a live int for the id.
        sys::check(unsafe {
            syscall3(
                TIMER_CREATE,
                CLOCK_MONOTONIC,
                0,
                &mut id as *mut i32 as usize,
            )
        })
        .map(|_| id)
    }

    /// The group's usage.
    fn usage(dir: &str) -> u64 {
        read_num(&format!("{dir}/memory.usage"))
    }

    /// 100 eventfds in one epoll instance: each item charges between 64 bytes and 512;
    /// closing the instance gives them back. Each eventfd, timerfd, signalfd and the
    /// instance charge their open file.
    fn epoll_items(dir: &str) -> bool {
        let u0 = usage(dir);
        let mut fds = [0usize; 100];
        for fd in fds.iter_mut() {
            *fd = eventfd().unwrap_or(usize::MAX);
        }
        let u1 = usage(dir);
        let ep = epoll_create().unwrap_or(usize::MAX);
        let u2 = usage(dir);
        let added = fds.iter().all(|&fd| epoll_add(ep, fd) == Ok(0));
        let u3 = usage(dir);
        let _ = sys::close(ep as i32);
        let u4 = usage(dir);
        for fd in fds {
            let _ = sys::close(fd as i32);
        }
        let u5 = usage(dir);
        // SAFETY: no pointer.
        let tfd = sys::check(unsafe { syscall2(TIMERFD_CREATE, CLOCK_MONOTONIC, 0) });
        let u6 = usage(dir);
        let mask = 1u64 << 9;
        // SAFETY: a live 8-byte signal mask.
        let sfd = sys::check(unsafe {
            syscall4(SIGNALFD4, usize::MAX, &mask as *const u64 as usize, 8, 0)
        });
        let u7 = usage(dir);
        for fd in [tfd, sfd] {
            let _ = sys::close(fd.unwrap_or(usize::MAX) as i32);
        }
        let u8 = usage(dir);
        ulib::println!(
            "  100 eventfds +{}, an epoll instance +{}, 100 items +{} ({} each), closed {u4} {u5}; \
             timerfd +{}, signalfd +{}, closed {u8} (from {u0})",
            u1 - u0,
            u2 - u1,
            u3 - u2,
            (u3 - u2) / 100,
            u6 - u5,
            u7 - u6
        );
        added
            && (100 * 64..=100 * 512).contains(&(u1 - u0))
            && u2 > u1
            && (100 * 64..=100 * 512).contains(&(u3 - u2))
            && u4 == u1
            && u5 == u0
            && tfd.is_ok()
            && sfd.is_ok()
            && u6 > u5
            && u7 > u6
            && u8 == u0
    }

    /// 100 POSIX timers: each charges its place in the kernel's list (between 32 bytes and
    /// 512), `timer_delete` gives it back.
    fn posix_timers(dir: &str) -> bool {
        let u0 = usage(dir);
        let mut ids = [0i32; 100];
        let mut made = true;
        for id in ids.iter_mut() {
            match timer_create() {
                Ok(i) => *id = i,
                Err(_) => made = false,
            }
        }
        let u1 = usage(dir);
        for id in ids {
            // SAFETY: no pointer.
            let _ = unsafe { syscall2(TIMER_DELETE, id as usize, 0) };
        }
        let u2 = usage(dir);
        for _ in 0..10 {
            made &= timer_create().is_ok();
        }
        let u3 = usage(dir);
        ulib::println!(
            "  100 POSIX timers +{} ({} each), deleted {u2} (from {u0}); 10 left to the exit +{}",
            u1 - u0,
            (u1 - u0) / 100,
            u3 - u2
        );
        made && (100 * 32..=100 * 512).contains(&(u1 - u0)) && u2 == u0 && u3 > u2
    }

    /// Watches on the files of /tests: each charges its path and places (between 32 bytes
    /// and 1 KiB); closing the instance gives them back.
    fn inotify_watches(dir: &str) -> bool {
        let names = ulib::container::list_dir("/tests").unwrap_or_default();
        let mut paths = alloc::vec::Vec::new();
        for n in names.iter().take(40) {
            paths.push(alloc::ffi::CString::new(format!("/tests/{n}")).unwrap_or_default());
        }
        let u0 = usage(dir);
        // SAFETY: no pointer.
        let fd = sys::check(unsafe { syscall2(INOTIFY_INIT1, 0, 0) }).unwrap_or(usize::MAX);
        let u1 = usage(dir);
        let mut added = 0u64;
        for p in &paths {
            // SAFETY: a live NUL-terminated path.
            let r = unsafe { syscall3(INOTIFY_ADD_WATCH, fd, p.as_ptr() as usize, IN_MODIFY) };
            if sys::check(r).is_ok() {
                added += 1;
            }
        }
        let u2 = usage(dir);
        // Events queued: 100 files made in a watched directory, then read.
        let _ = sys::mkdir(c"/kmem_inotify", 0o700);
        // SAFETY: a live NUL-terminated path (IN_CREATE).
        let dw = unsafe {
            syscall3(
                INOTIFY_ADD_WATCH,
                fd,
                c"/kmem_inotify".as_ptr() as usize,
                0x100,
            )
        };
        let u3 = usage(dir);
        let mut made = 0u64;
        for i in 0..100 {
            let p = alloc::ffi::CString::new(format!("/kmem_inotify/file_number_{i:03}"))
                .unwrap_or_default();
            if let Ok(f) = sys::open(&p, sys::O_CREAT | sys::O_WRONLY, 0o600) {
                made += 1;
                let _ = sys::close(f);
            }
        }
        let u4 = usage(dir);
        let mut buf = [0u8; 8192];
        let mut read = 0;
        while read < 100 * 32 {
            match sys::read(fd as i32, &mut buf) {
                Ok(n) if n > 0 => read += n,
                _ => break,
            }
        }
        let u5 = usage(dir);
        for i in 0..100 {
            let p = alloc::ffi::CString::new(format!("/kmem_inotify/file_number_{i:03}"))
                .unwrap_or_default();
            let _ = sys::unlink(&p);
        }
        let _ = sys::rmdir(c"/kmem_inotify");
        let _ = sys::close(fd as i32);
        let u6 = usage(dir);
        ulib::println!(
            "  inotify instance +{}, {added} watches +{} ({} each); {made} events queued +{} \
             ({} each), {read} bytes read: {u5} (watched {u3}); closed {u6} (from {u0})",
            u1 - u0,
            u2 - u1,
            (u2 - u1) / added.max(1),
            u4 - u3,
            (u4 - u3) / made.max(1)
        );
        added >= 20
            && (added * 32..=added * 1024).contains(&(u2 - u1))
            && sys::check(dw).is_ok()
            && made == 100
            && (100 * 64..=100 * 512).contains(&(u4 - u3))
            && read == 100 * 32
            && u5 == u3
            && u6 == u0
    }

    fn epoll_items_charge_and_go_back() {
        in_fresh_group("kmem_epoll", 0, epoll_items);
    }

    fn posix_timers_charge_and_go_back() {
        in_fresh_group("kmem_ptimers", 0, posix_timers);
    }

    fn inotify_watches_charge_and_go_back() {
        in_fresh_group("kmem_inotify", 0, inotify_watches);
    }

    /// 1,000 eventfds, then epoll instances each watching all of them until a call fails.
    fn fill_epoll_items() -> (i32, usize) {
        const FDS: usize = 1000;
        if set_nofile(1 << 20).is_err() {
            return (0, 0);
        }
        let mut fds = [0usize; FDS];
        for fd in fds.iter_mut() {
            match eventfd() {
                Ok(f) => *fd = f,
                Err(e) => return (e, 0),
            }
        }
        let mut n = 0;
        loop {
            let ep = match epoll_create() {
                Ok(ep) => ep,
                Err(e) => return (e, n),
            };
            for &fd in fds.iter() {
                match epoll_add(ep, fd) {
                    Ok(_) => n += 1,
                    Err(e) => return (e, n),
                }
            }
        }
    }

    const MEMFD_CREATE: usize = 319;

    fn memfd() -> sys::SysResult {
        // SAFETY: a live NUL-terminated name.
        sys::check(unsafe { syscall2(MEMFD_CREATE, c"kmem".as_ptr() as usize, 0) })
    }

    /// A memfd's data pages: 10 pages written charge 40,960 bytes, a truncate to one page
    /// gives 9 back, the close the last; a tmpfs file's the same.
    fn memfd_pages(dir: &str) -> bool {
        let page = [0x44u8; 4096];
        let u0 = usage(dir);
        let fd = memfd().unwrap_or(usize::MAX) as i32;
        let u1 = usage(dir);
        let mut wrote = true;
        for _ in 0..10 {
            wrote &= sys::write(fd, &page) == Ok(4096);
        }
        let u2 = usage(dir);
        // SAFETY: no pointer.
        let cut = sys::check(unsafe { syscall2(77, fd as usize, 4096) });
        let u3 = usage(dir);
        let _ = sys::close(fd);
        let u4 = usage(dir);
        ulib::println!(
            "  memfd: {u0}; made {u1}, 10 pages written {u2} (+{}), truncated to one {u3}, closed {u4}",
            u2 - u1
        );
        wrote && cut.is_ok() && u2 - u1 == 40960 && u2 - u3 == 36864 && u4 == u0
    }

    fn memfd_pages_charge_and_go_back() {
        in_fresh_group("kmem_memfd", 0, memfd_pages);
    }

    /// Pages written to one memfd, 64 KiB at a time, until a write fails.
    fn fill_memfd() -> (i32, usize) {
        let fd = match memfd() {
            Ok(fd) => fd as i32,
            Err(e) => return (e, 0),
        };
        let chunk = [0x55u8; 16384];
        let mut n = 0;
        loop {
            match sys::write(fd, &chunk) {
                Ok(w) => n += w / 4096,
                Err(e) => return (e, n),
            }
        }
    }

    fn memfd_pages_fill_a_32_mib_group() {
        fill_to_limit(&Route {
            name: "memfd_pages",
            fill: fill_memfd,
        });
    }

    fn epoll_items_fill_a_32_mib_group() {
        fill_to_limit(&Route {
            name: "epoll_items",
            fill: fill_epoll_items,
        });
    }

    test_main!(
        epoll_items_charge_and_go_back,
        posix_timers_charge_and_go_back,
        inotify_watches_charge_and_go_back,
        memfd_pages_charge_and_go_back,
        epoll_items_fill_a_32_mib_group,
        memfd_pages_fill_a_32_mib_group
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
