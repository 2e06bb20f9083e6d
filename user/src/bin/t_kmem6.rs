//! Issue 16: what a user can multiply in poll and in `RTM_NEWLINK` is charged to its
//! plimits group. A thread blocked in `poll` holds its copied records, its file
//! references and a registration per watched file: threads each polling 1,024 files fill
//! a 32 MiB group to `ENOMEM` long before threads alone would (1,822 in `t_kmem`). veth
//! links made over rtnetlink are charged to the group of the stack they are in (its
//! maker's) and given back when deleted; in a full group `RTM_NEWLINK` fails and makes
//! nothing. A tmpfs page is charged to the group of the process that writes it, not to
//! the file's maker.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use core::sync::atomic::{AtomicI64, Ordering};
    use ulib::container::{CLONE_NEWNET, read_text};
    use ulib::kmem::{Route, fill_to_limit, in_fresh_group, read_num, set_nofile};
    use ulib::sys::{self, errno::ENOMEM, syscall2, syscall6};
    use ulib::test_main;

    /// Files each poller watches (the kernel's most per call).
    const NFDS: usize = 1024;
    /// The pollers' `struct pollfd` array: the read end of a pipe nobody writes, 1,024
    /// times, `POLLIN`.
    static mut POLLFDS: [u64; NFDS] = [0; NFDS];
    /// What the last poller's `poll` returned (0 while it sleeps: it never returns
    /// otherwise).
    static POLL_RESULT: AtomicI64 = AtomicI64::new(0);
    /// A stack for the pollers, which never touch it (they only make system calls).
    static mut THREAD_STACK: [u64; 64] = [0; 64];

    /// `clone(flags, stack)`: the new thread calls `poll(fds, 1024, -1)`, stores what it
    /// returned at `result` and exits, without touching its stack.
    #[unsafe(naked)]
    unsafe extern "C" fn clone_poller(
        flags: usize,
        stack: usize,
        fds: usize,
        result: usize,
    ) -> isize {
        core::arch::naked_asm!(
            "mov r9, rdx",
            "mov r8, rcx",
            "xor edx, edx",
            "xor r10d, r10d",
            "mov eax, 56",
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r9",
            "mov esi, 1024",
            "mov rdx, -1",
            "mov eax, 7",
            "syscall",
            "mov [r8], rax",
            "xor edi, edi",
            "mov eax, 60",
            "syscall",
            "2:",
            "ret",
        )
    }

    /// Threads each blocked in `poll` on 1,024 files until a `clone` or a `poll` fails.
    fn fill_pollers() -> (i32, usize) {
        let Ok([r, _w]) = sys::pipe() else {
            return (0, 0);
        };
        let rec = (r as u32 as u64) | (1 << 32);
        // SAFETY: no thread runs yet; the array lives as long as the process.
        unsafe { core::ptr::write(&raw mut POLLFDS, [rec; NFDS]) };
        let flags = sys::CLONE_VM
            | sys::CLONE_FS
            | sys::CLONE_FILES
            | sys::CLONE_SIGHAND
            | sys::CLONE_THREAD
            | sys::CLONE_SYSVSEM;
        let stack = (&raw mut THREAD_STACK) as usize + 256;
        let fds = (&raw mut POLLFDS) as usize;
        let mut n = 0;
        loop {
            // SAFETY: the thread shares the address space and touches only POLL_RESULT
            // (and the records, as the kernel reads them), which live as long as the
            // process.
            let c = unsafe { clone_poller(flags, stack, fds, POLL_RESULT.as_ptr() as usize) };
            if let Err(e) = sys::check(c) {
                ulib::println!("  pollers: clone failed ({e})");
                return (e, n);
            }
            // Long enough for the thread to be asleep in poll or to have failed.
            let _ = sys::sleep_ms(2);
            let p = POLL_RESULT.load(Ordering::Relaxed);
            if p != 0 {
                ulib::println!("  pollers: poll returned {p}");
                return ((-p) as i32, n);
            }
            n += 1;
            if n >= 400 {
                ulib::println!("  pollers: 400 made, poll is not charged as it should be");
                return (-1, n);
            }
        }
    }

    /// Threads blocked in poll fill the group: each holds over 80 KiB charged, so the
    /// group stops at fewer than 400 of them.
    fn pollers_fill_a_32_mib_group() {
        fill_to_limit(&Route {
            name: "pollers",
            fill: fill_pollers,
        });
    }

    const AF_NETLINK: usize = 16;
    const SOCK_RAW: usize = 3;
    const RTM_NEWLINK: u16 = 16;
    const RTM_DELLINK: u16 = 17;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;
    const NLM_F_EXCL: u16 = 0x200;
    const NLM_F_CREATE: u16 = 0x400;
    const MSG_DONTWAIT: usize = 0x40;
    const ENOBUFS: i32 = 105;

    /// Sends one rtnetlink request of type `ty` for link `index` (kind "veth" for
    /// `RTM_NEWLINK`) and reads its acknowledgement: the errno it carries (0: done), or
    /// the errno of `sendto`/`recvfrom`.
    fn rtnl(fd: i32, ty: u16, index: i32) -> i32 {
        let mut m = [0u8; 48];
        let len: u32 = if ty == RTM_NEWLINK { 48 } else { 32 };
        let flags = if ty == RTM_NEWLINK {
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        };
        m[0..4].copy_from_slice(&len.to_le_bytes());
        m[4..6].copy_from_slice(&ty.to_le_bytes());
        m[6..8].copy_from_slice(&flags.to_le_bytes());
        m[8..12].copy_from_slice(&1u32.to_le_bytes());
        // ifinfomsg: family 0, type 0, index, flags 0, change 0.
        m[20..24].copy_from_slice(&index.to_le_bytes());
        // IFLA_LINKINFO { IFLA_INFO_KIND "veth" }.
        m[32..34].copy_from_slice(&16u16.to_le_bytes());
        m[34..36].copy_from_slice(&18u16.to_le_bytes());
        m[36..38].copy_from_slice(&9u16.to_le_bytes());
        m[38..40].copy_from_slice(&1u16.to_le_bytes());
        m[40..44].copy_from_slice(b"veth");
        // SAFETY: a live buffer of `len` bytes, no address.
        let s = unsafe {
            syscall6(
                ulib::net::SENDTO,
                fd as usize,
                m.as_ptr() as usize,
                len as usize,
                0,
                0,
                0,
            )
        };
        if let Err(e) = sys::check(s) {
            return e;
        }
        let mut ack = [0u8; 256];
        // SAFETY: a live buffer, no address.
        let r = unsafe {
            syscall6(
                ulib::net::RECVFROM,
                fd as usize,
                ack.as_mut_ptr() as usize,
                ack.len(),
                MSG_DONTWAIT,
                0,
                0,
            )
        };
        match sys::check(r) {
            Ok(n) if n >= 20 && ack[4] == 2 => {
                -i32::from_le_bytes([ack[16], ack[17], ack[18], ack[19]])
            }
            Ok(_) => -1,
            Err(e) => e,
        }
    }

    fn rtnl_socket() -> sys::SysResult<i32> {
        ulib::net::socket(AF_NETLINK, SOCK_RAW, 0)
    }

    /// The links of the caller's container named veth* (`/proc/net/dev`).
    fn veths() -> usize {
        read_text("/proc/net/dev")
            .map(|t| {
                t.lines()
                    .filter(|l| l.trim_start().starts_with("veth"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// The kernel part of group `dir`'s usage (`memory.stat`'s `Mem kernel`): the
    /// process's own user pages (its heap, its stack) do not move it.
    fn kernel_usage(dir: &str) -> u64 {
        read_text(&format!("{dir}/memory.stat"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Mem kernel: "))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// 50 veth pairs in the child's own container: each end charges between 128 bytes
    /// and 1 KiB of kernel memory; deleting them gives it all back. Measured on a second
    /// round: the first warms what the process itself grows once (its heap's mappings).
    fn veth_pairs(dir: &str) -> bool {
        let usage = || kernel_usage(dir);
        let Ok(fd) = rtnl_socket() else {
            return false;
        };
        let mut ok = false;
        for round in 1..=2 {
            let v0 = veths();
            let u0 = usage();
            let mut made = 0;
            for _ in 0..50 {
                if rtnl(fd, RTM_NEWLINK, 0) == 0 {
                    made += 1;
                }
            }
            let u1 = usage();
            let v1 = veths();
            // lo is 1 and veth0 2: the pairs took 3 to 102; deleting an end deletes both.
            let mut deleted = 0;
            for index in (3..103).step_by(2) {
                if rtnl(fd, RTM_DELLINK, index) == 0 {
                    deleted += 1;
                }
            }
            let u2 = usage();
            let v2 = veths();
            ulib::println!(
                "  round {round}: {made} veth pairs: kernel usage {u0} -> {u1} (+{}, {} per \
                 link), {v0} -> {v1} veth links; {deleted} deleted: {u2}, {v2} links",
                u1 - u0,
                (u1 - u0) / 100
            );
            ok = made == 50
                && v1 == v0 + 100
                && (100 * 128..=100 * 1024).contains(&(u1 - u0))
                && deleted == 50
                && v2 == v0
                && u2 == u0;
        }
        let _ = sys::close(fd);
        ok
    }

    fn veth_links_charge_and_go_back() {
        in_fresh_group("kmem_veth", CLONE_NEWNET, veth_pairs);
    }

    const EVENTFD2: usize = 290;

    /// The group filled with eventfds (open files) to `ENOMEM`; then `RTM_NEWLINK` is
    /// `ENOMEM` (or, when the group has no room left for the answer either, `sendto`
    /// `ENOBUFS`, as Linux's ack that cannot be allocated) and makes no link (counted once there is room again: only the second
    /// request's pair is there). With the eventfds closed the same request works.
    fn veth_in_a_full_group(dir: &str) -> bool {
        if set_nofile(1 << 20).is_err() {
            return false;
        }
        let Ok(fd) = rtnl_socket() else {
            return false;
        };
        let v0 = veths();
        let mut first = None;
        let mut n = 0;
        let stop = loop {
            // SAFETY: no pointer.
            match sys::check(unsafe { syscall2(EVENTFD2, 0, 0) }) {
                Ok(f) => {
                    first.get_or_insert(f);
                    n += 1;
                }
                Err(e) => break e,
            }
        };
        let full = rtnl(fd, RTM_NEWLINK, 0);
        if let Some(f) = first {
            for x in f..f + n {
                let _ = sys::close(x as i32);
            }
        }
        let room = rtnl(fd, RTM_NEWLINK, 0);
        let v2 = veths();
        let usage = read_num(&format!("{dir}/memory.usage"));
        let _ = sys::close(fd);
        ulib::println!(
            "  {n} eventfds (stop {stop}): RTM_NEWLINK gave {full}; with them closed {room}, \
             veth links {v0} -> {v2}, usage {usage}"
        );
        stop == ENOMEM && (full == ENOMEM || full == ENOBUFS) && room == 0 && v2 == v0 + 2
    }

    fn veth_in_a_full_group_is_refused_and_makes_nothing() {
        in_fresh_group("kmem_vethfull", CLONE_NEWNET, veth_in_a_full_group);
    }

    /// A tmpfs holding a file root made, world-writable, for the writer in a group.
    const TMPFS: &str = "/kmem6_tmpfs";
    const SHARED: &str = "/kmem6_tmpfs/root_made";
    const CHUNK: usize = 16 << 10;

    /// In a fresh 32 MiB group: appends to root's file until `ENOMEM`; the group's usage
    /// reaches the limit and grew by about what was written; truncating the file gives
    /// the pages back to this group.
    fn fill_roots_file(dir: &str) -> bool {
        let usage = || read_num(&format!("{dir}/memory.usage"));
        let path = alloc::ffi::CString::new(SHARED).unwrap_or_default();
        let Ok(fd) = sys::open(&path, sys::O_WRONLY | sys::O_APPEND, 0) else {
            return false;
        };
        let before = usage();
        let buf = [7u8; CHUNK];
        let mut written = 0u64;
        let mut err = 0;
        for len in [CHUNK, 4096] {
            loop {
                match sys::write(fd, &buf[..len]) {
                    Ok(n) if n > 0 => written += n as u64,
                    Ok(_) => break,
                    Err(e) => {
                        err = e;
                        break;
                    }
                }
            }
        }
        let full = usage();
        let _ = sys::close(fd);
        let truncated = sys::truncate(&path, 4096);
        let after = usage();
        ulib::println!(
            "  tmpfs writer: {written} bytes written, usage {before} -> {full} (limit {}), \
             {after} after the truncate to one page",
            ulib::kmem::LIMIT
        );
        err == ENOMEM
            && full + 4096 > ulib::kmem::LIMIT
            && full >= before + written
            && full - before <= written + CHUNK as u64
            && truncated.is_ok()
            && after <= before + 4096
    }

    fn tmpfs_pages_charge_their_writer() {
        let dir = alloc::ffi::CString::new(TMPFS).unwrap_or_default();
        let _ = sys::mkdir(&dir, 0o755);
        ulib::check_ok!(ulib::cred::mount("tmpfs", TMPFS, "tmpfs", 0));
        let path = alloc::ffi::CString::new(SHARED).unwrap_or_default();
        let fd = ulib::check_ok!(sys::open(&path, sys::O_WRONLY | sys::O_CREAT, 0o666));
        ulib::check_ok!(sys::write(fd, &[1u8; 4096]));
        let _ = sys::close(fd);
        in_fresh_group("kmem_tmpfs", 0, fill_roots_file);
        ulib::check_ok!(sys::unlink(&path));
        ulib::check_ok!(ulib::cred::umount2(TMPFS, 0));
        let _ = sys::rmdir(&dir);
    }

    test_main!(
        tmpfs_pages_charge_their_writer,
        veth_links_charge_and_go_back,
        veth_in_a_full_group_is_refused_and_makes_nothing,
        pollers_fill_a_32_mib_group
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
