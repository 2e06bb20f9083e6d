//! `/proc/[pid]/fd` and `/proc/[pid]/fdinfo` as Linux has them: the links' text for a
//! file, a pipe, a socket, an eventfd, a container link and a pty slave, reopening through a link (a new
//! description of the same file; the same pipe), `fdinfo` positions and flags, and the
//! ptrace read rule for another user's descriptors.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::string::String;
    use ulib::container::{ioctl, list_dir, lstat_path, open_path, read_text, readlink_text};
    use ulib::mnt::mount_dev_pts;
    use ulib::sys::{self, errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check, check_eq, check_ok};

    const NR_EVENTFD2: usize = 290;
    const TIOCGPTN: usize = 0x8004_5430;
    const TIOCSPTLCK: usize = 0x4004_5431;
    const ENXIO: i32 = 6;
    const O_NOCTTY: usize = 0o400;

    fn eventfd(init: usize) -> SysResult<i32> {
        // SAFETY: no pointer.
        sys::check(unsafe { syscall2(NR_EVENTFD2, init, O_CLOEXEC) }).map(|fd| fd as i32)
    }

    /// A file in /tmp holding `data`, opened read-write (kept: a removed file's link
    /// text gains ` (deleted)`).
    fn scratch(name: &str, data: &[u8]) -> (i32, String) {
        let _ = mkdir(c"/tmp", 0o1777);
        let path = format!("/tmp/t_procfd.{name}");
        let fd = open_path(&path, O_CREAT | O_RDWR | O_TRUNC).expect("create a scratch file");
        write_all(fd, data).expect("fill it");
        (fd, path)
    }

    fn link(fd: i32) -> SysResult<String> {
        readlink_text(&format!("/proc/self/fd/{fd}"))
    }

    /// The value of `key:` in `/proc/self/fdinfo/<fd>`.
    fn fdinfo(fd: i32, key: &str) -> Option<String> {
        let text = read_text(&format!("/proc/self/fdinfo/{fd}")).ok()?;
        let line = text.lines().find(|l| l.starts_with(key))?;
        Some(String::from(line[key.len()..].trim()))
    }

    fn fd_dir_lists_the_open_descriptors() {
        // Descriptor 40: listing the directory opens a low one of its own.
        let (low, _) = scratch("list", b"x");
        let fd = check_ok!(dup2(low, 40));
        check_ok!(close(low));
        let names = check_ok!(list_dir("/proc/self/fd"));
        check!(names.iter().any(|n| n == "40"), "{:?}", names);
        let infos = check_ok!(list_dir("/proc/self/fdinfo"));
        check_eq!(infos, names);
        check_ok!(close(fd));
        let names = check_ok!(list_dir("/proc/self/fd"));
        check!(!names.iter().any(|n| n == "40"), "{:?}", names);
        check_eq!(link(fd), Err(ENOENT));
        let st = check_ok!(stat_dir("/proc/self/fd"));
        check_eq!(st & 0o7777, 0o500);
    }

    fn stat_dir(path: &str) -> SysResult<u32> {
        lstat_path(path).map(|s| s.st_mode)
    }

    fn file_link_names_its_path_and_reopens_the_file() {
        let (fd, path) = scratch("file", b"hello world");
        check_eq!(link(fd), Ok(path.clone()));
        let st = check_ok!(lstat_path(&format!("/proc/self/fd/{fd}")));
        check_eq!(st.st_mode & S_IFMT, 0o120000, "fd/N is a symlink");
        check_eq!(st.st_mode & 0o777, 0o700, "lrwx for O_RDWR");
        // A new description of the same file: its own offset from 0.
        let again = check_ok!(open_path(&format!("/proc/self/fd/{fd}"), O_RDONLY));
        let mut buf = [0u8; 16];
        check_eq!(read(again, &mut buf), Ok(11));
        check_eq!(&buf[..11], b"hello world");
        let (a, b) = (check_ok!(fstat(fd)), check_ok!(fstat(again)));
        check_eq!((a.st_dev, a.st_ino), (b.st_dev, b.st_ino));
        check_eq!(lseek(fd, 0, SEEK_CUR), Ok(11), "the first keeps its offset");
        check_eq!(link(again), Ok(path));
        check_ok!(close(again));
        check_ok!(close(fd));
    }

    fn pipe_link_is_pipe_ino_and_reopens_the_same_pipe() {
        let [r, w] = check_ok!(pipe2(O_CLOEXEC));
        let ino = check_ok!(fstat(r)).st_ino;
        check_eq!(link(r), Ok(format!("pipe:[{ino}]")));
        check_eq!(link(w), Ok(format!("pipe:[{ino}]")));
        let w2 = check_ok!(open_path(&format!("/proc/self/fd/{w}"), O_WRONLY));
        check_eq!(link(w2), Ok(format!("pipe:[{ino}]")));
        check_eq!(write(w2, b"via proc"), Ok(8));
        let mut buf = [0u8; 16];
        check_eq!(read(r, &mut buf), Ok(8));
        check_eq!(&buf[..8], b"via proc");
        // The reopened end is a writer of its own: the reader sees EOF only after both go.
        check_ok!(close(w));
        check_eq!(write(w2, b"!"), Ok(1));
        check_eq!(read(r, &mut buf), Ok(1));
        check_ok!(close(w2));
        check_eq!(read(r, &mut buf), Ok(0));
        check_ok!(close(r));
    }

    fn socket_and_eventfd_links_name_the_object() {
        let s = check_ok!(ulib::net::socket(
            ulib::net::AF_UNIX,
            ulib::net::SOCK_STREAM,
            0
        ));
        let ino = check_ok!(fstat(s)).st_ino;
        check_eq!(link(s), Ok(format!("socket:[{ino}]")));
        check_eq!(
            open_path(&format!("/proc/self/fd/{s}"), O_RDWR),
            Err(ENXIO),
            "a socket does not reopen"
        );
        let e = check_ok!(eventfd(5));
        check_eq!(link(e), Ok(String::from("anon_inode:[eventfd]")));
        check_eq!(fdinfo(e, "eventfd-count:"), Some(String::from("5")));
        check_eq!(fdinfo(e, "flags:"), Some(String::from("02000002")));
        close_all(&[s, e]);
    }

    /// Linux names an open container link by its container (`uts:[4026531838]`), not by
    /// the path it was opened through; reopening it gives the same container.
    fn container_link_fd_is_named_by_its_container() {
        let want = check_ok!(readlink_text("/proc/self/ns/uts"));
        check!(want.starts_with("uts:[") && want.ends_with(']'), "{}", want);
        let fd = check_ok!(open_path("/proc/self/ns/uts", O_RDONLY));
        check_eq!(link(fd), Ok(want.clone()));
        let again = check_ok!(open_path(&format!("/proc/self/fd/{fd}"), O_RDONLY));
        check_eq!(
            fstat(again).map(|s| s.st_ino),
            fstat(fd).map(|s| s.st_ino),
            "the same container"
        );
        check_eq!(link(again), Ok(want));
        close_all(&[fd, again]);
    }

    fn close_all(fds: &[i32]) {
        for &fd in fds {
            let _ = close(fd);
        }
    }

    fn pty_slave_link_is_dev_pts_n() {
        check_ok!(mount_dev_pts());
        let m = check_ok!(open_path("/dev/ptmx", O_RDWR | O_NOCTTY));
        let mut n = 0u32;
        check_ok!(ioctl(m, TIOCGPTN, &mut n as *mut u32 as usize));
        let mut zero = 0i32;
        check_ok!(ioctl(m, TIOCSPTLCK, &mut zero as *mut i32 as usize));
        let s = check_ok!(open_path(&format!("/dev/pts/{n}"), O_RDWR | O_NOCTTY));
        check_eq!(link(s), Ok(format!("/dev/pts/{n}")));
        // What ttyname does: the link's target is the same device as the descriptor.
        let (a, b) = (
            check_ok!(fstat(s)),
            check_ok!(stat_path_of(&format!("/dev/pts/{n}"))),
        );
        check_eq!((a.st_rdev, a.st_ino), (b.st_rdev, b.st_ino));
        close_all(&[s, m]);
    }

    fn stat_path_of(p: &str) -> SysResult<Stat> {
        ulib::container::stat_path(p)
    }

    fn fdinfo_shows_position_flags_and_mount() {
        let (fd, path) = scratch("info", b"0123456789");
        check_ok!(close(fd));
        let fd = check_ok!(open_path(&path, O_RDONLY));
        check_eq!(fdinfo(fd, "pos:"), Some(String::from("0")));
        let mut buf = [0u8; 3];
        check_eq!(read(fd, &mut buf), Ok(3));
        check_eq!(fdinfo(fd, "pos:"), Some(String::from("3")));
        check_eq!(
            fdinfo(fd, "flags:"),
            Some(String::from("02000000")),
            "O_CLOEXEC shown"
        );
        let ino = check_ok!(fstat(fd)).st_ino;
        check_eq!(fdinfo(fd, "ino:"), Some(format!("{ino}")));
        // mnt_id is the id of the mount holding the file in /proc/self/mountinfo.
        let id = fdinfo(fd, "mnt_id:").unwrap_or_default();
        let info = check_ok!(read_text("/proc/self/mountinfo"));
        check!(
            info.lines()
                .any(|l| l.split(' ').next() == Some(id.as_str())),
            "mnt_id {} not in mountinfo:\n{}",
            id,
            info
        );
        check_ok!(close(fd));
    }

    /// The dev and inode columns of /proc/self/maps: `fstat`'s `st_dev` (major:minor in
    /// hex) and `st_ino` for a file mapping and for the program itself; 00:00 0 for
    /// anonymous memory.
    fn maps_show_the_files_device_and_inode() {
        let (fd, path) = scratch("maps", &[7u8; 8192]);
        let st = check_ok!(fstat(fd));
        // SAFETY: no MAP_FIXED: the kernel picks free addresses.
        let addr = check_ok!(unsafe { mmap(0, 8192, PROT_READ, MAP_SHARED, fd, 4096) });
        let anon = check_ok!(mmap_anon(4096));
        let maps = check_ok!(read_text("/proc/self/maps"));
        let fields = |start: usize| -> Option<(String, String, String)> {
            let line = maps
                .lines()
                .find(|l| l.starts_with(&format!("{start:08x}-")))?;
            let f: alloc::vec::Vec<&str> = line.split_whitespace().collect();
            Some((f[2].into(), f[3].into(), f[4].into()))
        };
        let dev = st.st_dev;
        let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
        let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
        check_eq!(
            fields(addr),
            Some((
                String::from("00001000"),
                format!("{major:02x}:{minor:02x}"),
                format!("{}", st.st_ino)
            )),
            "{}",
            maps
        );
        check!(maps.contains(&path), "{}", maps);
        check_eq!(
            fields(anon),
            Some((String::from("00000000"), "00:00".into(), "0".into()))
        );
        // The program's own segments name its file.
        let exe = check_ok!(ulib::container::stat_path("/proc/self/exe"));
        let prog = maps.lines().find(|l| l.ends_with("/tests/t_procfd"));
        let ino = prog.and_then(|l| l.split_whitespace().nth(4)).unwrap_or("");
        check_eq!(ino, format!("{}", exe.st_ino).as_str(), "{}", maps);
        // SAFETY: the mappings are this case's own.
        unsafe {
            let _ = munmap(addr, 8192);
            let _ = munmap(anon, 4096);
        }
        check_ok!(close(fd));
    }

    /// A number field (`key:` then a value, maybe with ` kB`) of a /proc text.
    fn field(text: &str, key: &str) -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// /proc/self/io counts the read and write family: bytes and calls.
    fn io_counts_bytes_and_calls() {
        let (fd, path) = scratch("io", &[1u8; 3000]);
        check_ok!(close(fd));
        let fd = check_ok!(open_path(&path, O_RDWR));
        let before = check_ok!(read_text("/proc/self/io"));
        let mut buf = [0u8; 1000];
        check_eq!(read(fd, &mut buf), Ok(1000));
        check_eq!(write(fd, &buf[..500]), Ok(500));
        let after = check_ok!(read_text("/proc/self/io"));
        let delta = |k: &str| field(&after, k).unwrap_or(0) - field(&before, k).unwrap_or(0);
        // read_text: one read of the text, one of EOF; then ours.
        check_eq!(
            delta("rchar:"),
            before.len() as u64 + 1000,
            "{}{}",
            before,
            after
        );
        check_eq!(delta("syscr:"), 3);
        check_eq!(delta("wchar:"), 500);
        check_eq!(delta("syscw:"), 1);
        for k in ["read_bytes:", "write_bytes:", "cancelled_write_bytes:"] {
            check_eq!(field(&after, k), Some(0), "{}", k);
        }
        check_ok!(close(fd));
    }

    /// smaps_rollup: Rss and Anonymous grow by 4 KiB per page touched.
    fn smaps_rollup_counts_touched_pages() {
        const PAGES: usize = 5;
        let area = check_ok!(mmap_anon(16 * 4096));
        let _ = read_text("/proc/self/smaps_rollup");
        let before = check_ok!(read_text("/proc/self/smaps_rollup"));
        for i in 0..PAGES {
            let p = (area + i * 3 * 4096) as *mut u8;
            // SAFETY: inside the fresh mapping.
            unsafe { p.write_volatile(1) };
        }
        let after = check_ok!(read_text("/proc/self/smaps_rollup"));
        check!(
            after
                .lines()
                .next()
                .is_some_and(|l| l.ends_with("[rollup]")),
            "{}",
            after
        );
        let delta =
            |k: &str| field(&after, k).unwrap_or(0) as i64 - field(&before, k).unwrap_or(0) as i64;
        check_eq!(delta("Rss:"), 4 * PAGES as i64, "{}{}", before, after);
        check_eq!(delta("Anonymous:"), 4 * PAGES as i64);
        check_eq!(delta("Private_Dirty:"), 4 * PAGES as i64);
        check!(field(&after, "Pss:").unwrap_or(0) <= field(&after, "Rss:").unwrap_or(0));
        check_eq!(field(&after, "Swap:"), Some(0));
        // SAFETY: the mapping is this case's own.
        let _ = unsafe { munmap(area, 16 * 4096) };
    }

    /// Another user's descriptors need ptrace read access: EACCES.
    fn another_users_fds_are_refused() {
        let (fd, _) = scratch("perm", b"x");
        let parent = getpid();
        let kid = fork_run(move || {
            check_ok!(ulib::cred::setresuid(1000, 1000, 1000));
            check_eq!(
                readlink_text(&format!("/proc/{parent}/fd/{fd}")),
                Err(EACCES)
            );
            check_eq!(
                read_text(&format!("/proc/{parent}/fdinfo/{fd}")),
                Err(EACCES)
            );
            check_eq!(list_dir(&format!("/proc/{parent}/fd")).err(), Some(EACCES));
            check_eq!(
                open_path(&format!("/proc/{parent}/io"), O_RDONLY),
                Err(EACCES)
            );
            check_eq!(
                read_text(&format!("/proc/{parent}/smaps_rollup")),
                Err(EACCES)
            );
            // Its own stay readable.
            check_eq!(
                readlink_text(&format!("/proc/self/fd/{fd}")),
                Ok(String::from("/tmp/t_procfd.perm"))
            );
        });
        check_eq!(wait_exit(kid), Exit::Code(0));
        check_ok!(close(fd));
    }

    fn main(_args: Args) -> i32 {
        // Run alone as init, /proc is not mounted yet; under the suite it is (EBUSY).
        let _ = mkdir(c"/proc", 0o755);
        let _ = mount(c"proc", c"/proc", c"proc", 0);
        ulib::test::run(ulib::cases![
            fd_dir_lists_the_open_descriptors,
            file_link_names_its_path_and_reopens_the_file,
            pipe_link_is_pipe_ino_and_reopens_the_same_pipe,
            socket_and_eventfd_links_name_the_object,
            container_link_fd_is_named_by_its_container,
            pty_slave_link_is_dev_pts_n,
            fdinfo_shows_position_flags_and_mount,
            maps_show_the_files_device_and_inode,
            io_counts_bytes_and_calls,
            smaps_rollup_counts_touched_pages,
            another_users_fds_are_refused,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
