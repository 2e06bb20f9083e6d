//! Files: regular file I/O, directories, stat, fd duplication and flags, pipes, devfs
//! (/dev/null, /dev/zero), procfs (/proc/self, /proc/meminfo, /proc/mounts), cwd, access and
//! the usual errno cases. Scratch files live under /tmp/t_fs.PID (on Bulkhead /tmp is made
//! in the writable ramfs root if missing) and are removed at the end of each case.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::string::String;
    use alloc::vec::Vec;
    use alloc::{format, vec};
    use ulib::rt::set_disposition;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check, check_eq, check_ok};

    fn c(s: &str) -> CString {
        CString::new(s).expect("no NUL in test paths")
    }

    /// A fresh scratch directory for one case; removed (recursively, one level) by `done`.
    struct Scratch(String);

    impl Scratch {
        fn new(case: &str) -> Scratch {
            let _ = mkdir(c"/tmp", 0o1777);
            let dir = format!("/tmp/t_fs.{}.{}", getpid(), case);
            let _ = mkdir(&c(&dir), 0o755);
            Scratch(dir)
        }
        fn path(&self, name: &str) -> CString {
            c(&format!("{}/{}", self.0, name))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            for name in list_dir(&self.0) {
                if name == "." || name == ".." {
                    continue;
                }
                let p = self.path(&name);
                if unlink(&p).is_err() {
                    let _ = rmdir(&p);
                }
            }
            let _ = rmdir(&c(&self.0));
        }
    }

    /// `(name, d_type)` of each entry of the directory at `path`, via getdents64.
    fn read_dir(path: &str) -> Vec<(String, u8)> {
        let mut out = Vec::new();
        let Ok(fd) = open(&c(path), O_RDONLY | O_DIRECTORY, 0) else {
            return out;
        };
        let mut buf = vec![0u8; 512]; // small, so a listing takes several calls
        while let Ok(n) = getdents64(fd, &mut buf) {
            if n == 0 {
                break;
            }
            let mut off = 0;
            while off < n {
                let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let name = &buf[off + 19..off + reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                out.push((String::from_utf8_lossy(name).into_owned(), buf[off + 18]));
                off += reclen;
            }
        }
        let _ = close(fd);
        out
    }

    fn list_dir(path: &str) -> Vec<String> {
        read_dir(path).into_iter().map(|(n, _)| n).collect()
    }

    /// The whole content of a file (procfs files report size 0, so read until EOF).
    fn read_file(path: &str) -> Option<String> {
        let fd = open(&c(path), O_RDONLY, 0).ok()?;
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match read(fd, &mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {
                    let _ = close(fd);
                    return None;
                }
            }
        }
        let _ = close(fd);
        String::from_utf8(out).ok()
    }

    fn read_n(fd: i32, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        let got = read(fd, &mut buf).unwrap_or(0);
        buf.truncate(got);
        buf
    }

    /// write/read/lseek on a regular file; O_APPEND appends, O_TRUNC truncates.
    fn file_write_read_lseek() {
        let s = Scratch::new("rw");
        let f = s.path("f");
        let fd = check_ok!(creat(&f, 0o644));
        check_eq!(write(fd, b"hello world"), Ok(11));
        check_eq!(lseek(fd, 0, SEEK_CUR), Ok(11));
        check_eq!(
            read(fd, &mut [0u8; 4]),
            Err(EBADF),
            "creat opens write-only"
        );
        check_ok!(close(fd));
        let fd = check_ok!(open(&f, O_RDWR, 0));
        check_eq!(read_n(fd, 5), b"hello");
        check_eq!(lseek(fd, 1, SEEK_CUR), Ok(6));
        check_eq!(read_n(fd, 100), b"world");
        check_eq!(read_n(fd, 100), b"", "read at EOF returns 0");
        check_eq!(lseek(fd, -5, SEEK_END), Ok(6));
        check_eq!(lseek(fd, -1, SEEK_SET), Err(EINVAL));
        check_eq!(lseek(fd, 20, SEEK_SET), Ok(20));
        check_eq!(write(fd, b"!"), Ok(1));
        check_eq!(
            check_ok!(fstat(fd)).st_size,
            21,
            "a write past EOF extends the file"
        );
        check_eq!(pread(fd, &mut [9u8; 1], 15).ok(), Some(1));
        let mut hole = [9u8; 9];
        check_eq!(pread(fd, &mut hole, 11), Ok(9));
        check_eq!(hole, [0u8; 9], "the gap reads as zeros");
        check_ok!(close(fd));
        let fd = check_ok!(open(&f, O_WRONLY | O_APPEND, 0));
        check_ok!(lseek(fd, 0, SEEK_SET));
        check_eq!(write(fd, b"++"), Ok(2));
        check_ok!(close(fd));
        check_eq!(check_ok!(stat(&f)).st_size, 23);
        let fd = check_ok!(open(&f, O_RDWR | O_TRUNC, 0));
        check_eq!(check_ok!(fstat(fd)).st_size, 0);
        check_ok!(close(fd));
    }

    /// pread64 reads at an offset without moving the file offset.
    fn pread_keeps_offset() {
        let s = Scratch::new("pread");
        let fd = check_ok!(open(&s.path("f"), O_RDWR | O_CREAT, 0o644));
        check_ok!(write_all(fd, b"0123456789"));
        check_ok!(lseek(fd, 2, SEEK_SET));
        let mut buf = [0u8; 3];
        check_eq!(pread(fd, &mut buf, 6), Ok(3));
        check_eq!(&buf, b"678");
        check_eq!(lseek(fd, 0, SEEK_CUR), Ok(2));
        check_eq!(pread(fd, &mut buf, 100), Ok(0));
        check_ok!(close(fd));
    }

    /// readv/writev gather and scatter across several buffers in order.
    fn readv_writev_scatter_gather() {
        let s = Scratch::new("iov");
        let fd = check_ok!(open(&s.path("f"), O_RDWR | O_CREAT, 0o644));
        let (a, b, e) = (b"abc", b"defgh", b"");
        let iov = [
            IoVec {
                base: a.as_ptr() as usize,
                len: 3,
            },
            IoVec {
                base: e.as_ptr() as usize,
                len: 0,
            },
            IoVec {
                base: b.as_ptr() as usize,
                len: 5,
            },
        ];
        check_eq!(writev(fd, &iov), Ok(8));
        check_ok!(lseek(fd, 0, SEEK_SET));
        let (mut x, mut y) = ([0u8; 2], [0u8; 10]);
        let iov = [
            IoVec {
                base: x.as_mut_ptr() as usize,
                len: 2,
            },
            IoVec {
                base: y.as_mut_ptr() as usize,
                len: 10,
            },
        ];
        check_eq!(readv(fd, &iov), Ok(8));
        check_eq!(&x, b"ab");
        check_eq!(&y[..6], b"cdefgh");
        check_ok!(close(fd));
    }

    /// mkdir/rename/unlink/rmdir change what stat and getdents64 see.
    fn mkdir_rename_unlink_rmdir() {
        let s = Scratch::new("dirs");
        check_ok!(mkdir(&s.path("d"), 0o755));
        check_eq!(check_ok!(stat(&s.path("d"))).st_mode & S_IFMT, S_IFDIR);
        let fd = check_ok!(creat(&s.path("f"), 0o644));
        check_ok!(write_all(fd, b"data"));
        check_ok!(close(fd));
        check_ok!(rename(&s.path("f"), &s.path("d/g")));
        check_eq!(stat(&s.path("f")).err(), Some(ENOENT));
        check_eq!(check_ok!(stat(&s.path("d/g"))).st_size, 4);
        // rename over an existing file replaces it.
        let fd = check_ok!(creat(&s.path("h"), 0o644));
        check_ok!(close(fd));
        check_ok!(rename(&s.path("d/g"), &s.path("h")));
        check_eq!(check_ok!(stat(&s.path("h"))).st_size, 4);
        check_eq!(stat(&s.path("d/g")).err(), Some(ENOENT));
        check_ok!(rename(&s.path("d"), &s.path("e")));
        check_ok!(rmdir(&s.path("e")));
        check_ok!(unlink(&s.path("h")));
        let mut names = list_dir(&s.0);
        names.sort();
        check_eq!(names, [".", ".."]);
    }

    /// getdents64 lists every entry once, with "." and "..", and d_type for files and dirs.
    fn getdents64_lists_entries() {
        let s = Scratch::new("dents");
        let mut want = vec![String::from("."), String::from("..")];
        for i in 0..20 {
            let name = format!("file-with-a-longish-name-{:02}", i);
            let fd = check_ok!(creat(&s.path(&name), 0o644));
            check_ok!(close(fd));
            want.push(name);
        }
        check_ok!(mkdir(&s.path("sub"), 0o755));
        want.push(String::from("sub"));
        let entries = read_dir(&s.0);
        let mut names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        want.sort();
        check_eq!(names, want);
        const DT_DIR: u8 = 4;
        const DT_REG: u8 = 8;
        for (name, t) in &entries {
            let expect = if name.starts_with('.') || name == "sub" {
                DT_DIR
            } else {
                DT_REG
            };
            check_eq!(*t, expect, "d_type of {}", name);
        }
        let fd = check_ok!(open(&s.path("sub"), O_RDONLY | O_DIRECTORY, 0));
        check_eq!(
            getdents64(fd, &mut [0u8; 8]),
            Err(EINVAL),
            "buffer too small for one entry"
        );
        check_ok!(close(fd));
        let fd = check_ok!(open(&s.path("file-with-a-longish-name-00"), O_RDONLY, 0));
        check_eq!(getdents64(fd, &mut [0u8; 512]), Err(ENOTDIR));
        check_ok!(close(fd));
    }

    /// stat/fstat/lstat/newfstatat agree on type bits, size, inode and link count.
    fn stat_fields() {
        let s = Scratch::new("stat");
        let f = s.path("f");
        let fd = check_ok!(open(&f, O_RDWR | O_CREAT, 0o640));
        check_ok!(write_all(fd, &[1u8; 1000]));
        let st = check_ok!(stat(&f));
        let fst = check_ok!(fstat(fd));
        check_eq!(st.st_mode & S_IFMT, S_IFREG);
        check_eq!(st.st_mode & 0o777, 0o640 & !0o022);
        check_eq!(st.st_size, 1000);
        check!(st.st_nlink >= 1);
        check_eq!(st.st_ino, fst.st_ino);
        check_eq!(st.st_size, fst.st_size);
        check_eq!(check_ok!(lstat(&f)).st_ino, st.st_ino);
        check_eq!(check_ok!(newfstatat(AT_FDCWD, &f, 0)).st_ino, st.st_ino);
        let dirfd = check_ok!(open(&c(&s.0), O_RDONLY | O_DIRECTORY, 0));
        check_eq!(check_ok!(newfstatat(dirfd as isize, c"f", 0)).st_size, 1000);
        check_eq!(check_ok!(fstat(dirfd)).st_mode & S_IFMT, S_IFDIR);
        check_eq!(
            newfstatat(dirfd as isize, c"missing", 0).err(),
            Some(ENOENT)
        );
        check_ok!(close(dirfd));
        check_eq!(check_ok!(stat(c"/dev/null")).st_mode & S_IFMT, S_IFCHR);
        check_eq!(check_ok!(stat(c"/")).st_mode & S_IFMT, S_IFDIR);
        check_eq!(check_ok!(lstat(c"/proc/self")).st_mode & S_IFMT, S_IFLNK);
        check_eq!(check_ok!(stat(c"/proc/self")).st_mode & S_IFMT, S_IFDIR);
        check_ok!(close(fd));
    }

    /// dup takes the lowest free fd and shares the offset; dup2/dup3/fcntl(F_DUPFD) pick the
    /// number; FD_CLOEXEC is per descriptor; F_GETFL reports the access mode and O_APPEND.
    fn dup_family_and_fcntl() {
        let s = Scratch::new("dup");
        let fd = check_ok!(open(&s.path("f"), O_RDWR | O_CREAT | O_APPEND, 0o644));
        let d = check_ok!(dup(fd));
        check!(d > fd);
        check_ok!(write_all(d, b"abc"));
        check_eq!(lseek(fd, 0, SEEK_CUR), Ok(3), "dup shares the file offset");
        check_eq!(dup2(fd, 50), Ok(50));
        check_eq!(dup2(fd, fd), Ok(fd));
        check_eq!(dup3(fd, fd, 0), Err(EINVAL));
        check_eq!(dup3(fd, 51, O_CLOEXEC), Ok(51));
        check_eq!(fcntl(51, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(fcntl(50, F_GETFD, 0), Ok(0));
        check_ok!(fcntl(50, F_SETFD, FD_CLOEXEC));
        check_eq!(fcntl(50, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(
            fcntl(fd, F_GETFD, 0),
            Ok(0),
            "FD_CLOEXEC belongs to one descriptor"
        );
        let fl = check_ok!(fcntl(fd, F_GETFL, 0));
        check_eq!(fl & 3, O_RDWR);
        check_eq!(fl & O_APPEND, O_APPEND);
        let low = check_ok!(fcntl(fd, F_DUPFD, 60));
        check!(low >= 60);
        check_ok!(close(d));
        check_eq!(dup(fd), Ok(d), "the lowest free number is reused");
        for x in [d, 50, 51, low as i32, fd] {
            check_ok!(close(x));
        }
        check_eq!(dup(fd), Err(EBADF));
        check_eq!(dup2(fd, 52), Err(EBADF));
        check_eq!(fcntl(fd, F_GETFD, 0), Err(EBADF));
    }

    /// Data written into a pipe by a child arrives in order; read returns 0 (EOF) once every
    /// write end is closed.
    fn pipe_across_fork_and_eof() {
        let [r, w] = check_ok!(pipe());
        check_eq!(check_ok!(fstat(r)).st_mode & S_IFMT, S_IFIFO);
        let pid = fork_run(|| {
            let _ = close(r);
            for i in 0..100u8 {
                let _ = write_all(w, &[i; 100]);
            }
        });
        check_ok!(close(w));
        let mut got = Vec::new();
        let mut buf = [0u8; 333];
        loop {
            match read(r, &mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => {
                    check!(false, "read: errno {}", e);
                    break;
                }
            }
        }
        check_eq!(got.len(), 10000);
        check!(
            got.chunks(100)
                .enumerate()
                .all(|(i, ch)| ch.iter().all(|&b| b as usize == i))
        );
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_ok!(close(r));
        check_eq!(lseek(r, 0, SEEK_SET), Err(EBADF));
    }

    /// Writing to a pipe with no reader raises SIGPIPE (default: death) or, if ignored, EPIPE.
    fn pipe_without_reader_epipe_sigpipe() {
        let [r, w] = check_ok!(pipe());
        check_ok!(close(r));
        let pid = fork_run(|| {
            let _ = write(w, b"x");
        });
        check_eq!(wait_exit(pid), Exit::Signal(SIGPIPE));
        check_ok!(set_disposition(SIGPIPE, SIG_IGN));
        check_eq!(write(w, b"x"), Err(EPIPE));
        check_ok!(set_disposition(SIGPIPE, SIG_DFL));
        check_eq!(lseek(w, 0, SEEK_CUR), Err(ESPIPE));
        check_ok!(close(w));
    }

    /// pipe2 flags: O_CLOEXEC sets FD_CLOEXEC on both ends, O_NONBLOCK makes an empty read EAGAIN.
    fn pipe2_flags() {
        let [r, w] = check_ok!(pipe2(O_CLOEXEC | O_NONBLOCK));
        check_eq!(fcntl(r, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(fcntl(w, F_GETFD, 0), Ok(FD_CLOEXEC));
        check_eq!(check_ok!(fcntl(r, F_GETFL, 0)) & O_NONBLOCK, O_NONBLOCK);
        check_eq!(read(r, &mut [0u8; 4]), Err(EAGAIN));
        check_eq!(write(w, b"hi"), Ok(2));
        check_eq!(read_n(r, 4), b"hi");
        check_ok!(close(r));
        check_ok!(close(w));
        check_eq!(pipe2(0x1234_0000).err(), Some(EINVAL));
    }

    /// /dev/null swallows writes and reads EOF; /dev/zero reads zeros and swallows writes;
    /// /dev/full reads zeros and refuses writes.
    fn dev_null_and_zero() {
        let fd = check_ok!(open(c"/dev/null", O_RDWR, 0));
        check_eq!(write(fd, b"discard me"), Ok(10));
        check_eq!(read(fd, &mut [1u8; 10]), Ok(0));
        check_ok!(close(fd));
        let fd = check_ok!(open(c"/dev/zero", O_RDWR, 0));
        let mut buf = [0xaau8; 5000];
        check_eq!(read(fd, &mut buf), Ok(5000));
        check!(buf.iter().all(|&b| b == 0));
        check_eq!(write(fd, b"x"), Ok(1));
        check_ok!(close(fd));
        // /dev/full: zeros to read, no space to write (null(4)).
        let fd = check_ok!(open(c"/dev/full", O_RDWR, 0));
        let mut buf = [0xaau8; 100];
        check_eq!(read(fd, &mut buf), Ok(100));
        check!(buf.iter().all(|&b| b == 0));
        check_eq!(write(fd, b"x"), Err(ulib::container::ENOSPC));
        check_ok!(close(fd));
    }

    /// /proc/self/status has "Pid:" equal to getpid() (also in a child) and the PPid.
    fn proc_self_status_pid() {
        let field = |text: &str, key: &str| -> Option<i32> {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse().ok())
        };
        let text = check_ok!(read_file("/proc/self/status").ok_or("unreadable"));
        check_eq!(field(&text, "Pid:"), Some(getpid()));
        check_eq!(field(&text, "PPid:"), Some(getppid()));
        let me = getpid();
        let pid = fork_run(move || {
            let text = read_file("/proc/self/status").unwrap_or_default();
            check_eq!(field(&text, "Pid:"), Some(getpid()));
            check_eq!(field(&text, "PPid:"), Some(me));
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        let text = check_ok!(read_file(&format!("/proc/{}/status", me)).ok_or("unreadable"));
        check_eq!(field(&text, "Pid:"), Some(me));
    }

    /// /proc/self/cmdline is argv, each argument NUL-terminated.
    fn proc_self_cmdline() {
        let args = Args::get();
        let mut want = Vec::new();
        for i in 0..args.argc() {
            want.extend_from_slice(args.arg(i).unwrap_or_default());
            want.push(0);
        }
        let text = check_ok!(read_file("/proc/self/cmdline").ok_or("unreadable"));
        check_eq!(text.as_bytes(), &want[..]);
    }

    /// /proc/meminfo has MemTotal, MemFree and MemAvailable in kB, with Free <= Total.
    fn proc_meminfo_fields() {
        let text = check_ok!(read_file("/proc/meminfo").ok_or("unreadable"));
        let kb = |key: &str| -> Option<u64> {
            let v = text.lines().find_map(|l| l.strip_prefix(key))?;
            v.trim().strip_suffix("kB")?.trim().parse().ok()
        };
        let (total, free, avail) = (kb("MemTotal:"), kb("MemFree:"), kb("MemAvailable:"));
        check!(total.is_some_and(|t| t > 0), "MemTotal: {:?}", total);
        check!(free.is_some(), "MemFree: {:?}", free);
        check!(avail.is_some(), "MemAvailable: {:?}", avail);
        check!(
            free <= total && avail <= total,
            "{:?} {:?} {:?}",
            total,
            free,
            avail
        );
    }

    /// /proc/mounts lists the proc file system mounted on /proc.
    fn proc_mounts_has_proc() {
        let text = check_ok!(read_file("/proc/mounts").ok_or("unreadable"));
        let found = text.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.len() >= 3 && f[1] == "/proc" && f[2] == "proc"
        });
        check!(found, "no proc on /proc in:\n{}", text);
    }

    /// readlink("/proc/self") is the pid; readlink of a non-link is EINVAL.
    fn readlink_proc_self() {
        let mut buf = [0u8; 32];
        let n = check_ok!(readlink(c"/proc/self", &mut buf));
        check_eq!(
            core::str::from_utf8(&buf[..n]).ok(),
            Some(format!("{}", getpid()).as_str())
        );
        let mut tiny = [0u8; 1];
        check_eq!(
            readlink(c"/proc/self", &mut tiny),
            Ok(1),
            "readlink truncates silently"
        );
        check_eq!(readlink(c"/", &mut buf), Err(EINVAL));
        check_eq!(readlink(c"/no/such/link", &mut buf), Err(ENOENT));
    }

    /// chdir changes where relative paths resolve and what getcwd returns.
    fn getcwd_and_chdir() {
        let s = Scratch::new("cwd");
        let mut old = [0u8; 256];
        let n = check_ok!(getcwd(&mut old));
        check_eq!(old[n - 1], 0, "getcwd returns the length with the NUL");
        let old = CString::new(&old[..n - 1]).unwrap();
        check_ok!(chdir(&c(&s.0)));
        let mut buf = [0u8; 256];
        let n = check_ok!(getcwd(&mut buf));
        check_eq!(&buf[..n - 1], s.0.as_bytes());
        let fd = check_ok!(creat(c"rel", 0o644));
        check_ok!(close(fd));
        check!(stat(&s.path("rel")).is_ok());
        check_eq!(getcwd(&mut [0u8; 2]), Err(ERANGE));
        check_ok!(chdir(c".."));
        check_eq!(chdir(&s.path("rel")), Err(ENOTDIR));
        check_eq!(chdir(c"/no/such/dir"), Err(ENOENT));
        check_ok!(chdir(&old));
    }

    /// access(): F_OK on existing/missing paths; root may read and write anything but execute
    /// only files with an x bit.
    fn access_modes() {
        let s = Scratch::new("access");
        let f = s.path("f");
        let fd = check_ok!(creat(&f, 0o644));
        check_ok!(close(fd));
        check_eq!(access(&f, F_OK), Ok(0));
        check_eq!(access(&s.path("missing"), F_OK), Err(ENOENT));
        if getuid() == 0 {
            check_eq!(access(&f, R_OK | W_OK), Ok(0));
            check_eq!(access(&f, X_OK), Err(EACCES));
            check_eq!(access(c"/", X_OK), Ok(0));
        }
        check_eq!(access(&s.path("f/x"), F_OK), Err(ENOTDIR));
    }

    /// The classic errno cases of the file calls.
    fn errno_cases() {
        let s = Scratch::new("errno");
        let (f, d) = (s.path("f"), s.path("d"));
        let fd = check_ok!(creat(&f, 0o644));
        check_ok!(close(fd));
        check_ok!(mkdir(&d, 0o755));
        let fd = check_ok!(creat(&s.path("d/inner"), 0o644));
        check_ok!(close(fd));
        check_eq!(open(&s.path("missing"), O_RDONLY, 0), Err(ENOENT));
        check_eq!(
            open(&s.path("missing/x"), O_RDONLY | O_CREAT, 0o644),
            Err(ENOENT)
        );
        check_eq!(open(&f, O_RDWR | O_CREAT | O_EXCL, 0o644), Err(EEXIST));
        check_eq!(mkdir(&d, 0o755), Err(EEXIST));
        check_eq!(mkdir(&f, 0o755), Err(EEXIST));
        check_eq!(open(&s.path("f/x"), O_RDONLY, 0), Err(ENOTDIR));
        check_eq!(open(&f, O_RDONLY | O_DIRECTORY, 0), Err(ENOTDIR));
        check_eq!(open(&d, O_WRONLY, 0), Err(EISDIR));
        check_eq!(open(&d, O_RDWR, 0), Err(EISDIR));
        check_eq!(rmdir(&d), Err(ENOTEMPTY));
        check_eq!(rmdir(&f), Err(ENOTDIR));
        check_eq!(unlink(&d), Err(EISDIR));
        check_eq!(unlink(&s.path("missing")), Err(ENOENT));
        check_eq!(rename(&s.path("missing"), &s.path("x")), Err(ENOENT));
        check_eq!(rename(&f, &d), Err(EISDIR));
        check_eq!(close(999), Err(EBADF));
        check_eq!(close(-1), Err(EBADF));
        check_eq!(read(999, &mut [0u8; 1]), Err(EBADF));
        check_eq!(write(999, b"x"), Err(EBADF));
        check_eq!(fstat(999).err(), Some(EBADF));
        let ro = check_ok!(open(&f, O_RDONLY, 0));
        check_eq!(write(ro, b"x"), Err(EBADF));
        check_ok!(close(ro));
        let wo = check_ok!(open(&f, O_WRONLY, 0));
        check_eq!(read(wo, &mut [0u8; 1]), Err(EBADF));
        check_ok!(close(wo));
        let dfd = check_ok!(open(&d, O_RDONLY, 0));
        check_eq!(read(dfd, &mut [0u8; 1]), Err(EISDIR));
        check_ok!(close(dfd));
        check_ok!(unlink(&s.path("d/inner")));
    }

    /// A forked child shares open file descriptions: its writes move the parent's offset.
    fn fork_shares_file_offset() {
        let s = Scratch::new("forkfd");
        let fd = check_ok!(open(&s.path("f"), O_RDWR | O_CREAT, 0o644));
        let pid = fork_run(|| {
            let _ = write_all(fd, b"child");
        });
        check_eq!(wait_exit(pid), Exit::Code(0));
        check_eq!(lseek(fd, 0, SEEK_CUR), Ok(5));
        check_ok!(write_all(fd, b"+parent"));
        check_eq!(pread(fd, &mut [0u8; 64], 0), Ok(12));
        check_ok!(close(fd));
    }

    fn main(_: Args) -> i32 {
        ulib::test::run(ulib::cases![
            file_write_read_lseek,
            pread_keeps_offset,
            readv_writev_scatter_gather,
            mkdir_rename_unlink_rmdir,
            getdents64_lists_entries,
            stat_fields,
            dup_family_and_fcntl,
            pipe_across_fork_and_eof,
            pipe_without_reader_epipe_sigpipe,
            pipe2_flags,
            dev_null_and_zero,
            proc_self_status_pid,
            proc_self_cmdline,
            proc_meminfo_fields,
            proc_mounts_has_proc,
            readlink_proc_self,
            getcwd_and_chdir,
            access_modes,
            errno_cases,
            fork_shares_file_offset,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
