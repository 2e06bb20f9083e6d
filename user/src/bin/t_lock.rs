//! Advisory locks between processes: fcntl record locks (F_SETLK/F_SETLKW/F_GETLK: ranges,
//! conflicts, the holder's pid, release at close and exit, EDEADLK, EINTR), the OFD forms
//! and flock(2). Scratch files live in /tmp and are removed by each case.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::ffi::CString;
    use alloc::format;
    use core::sync::atomic::{AtomicU32, Ordering};
    use ulib::container::{CLONE_NEWPID, clone_run, unshare};
    use ulib::rt::set_handler;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, wait_exit};
    use ulib::{Args, check_eq};

    const F_GETLK: usize = 5;
    const F_SETLK: usize = 6;
    const F_SETLKW: usize = 7;
    const F_OFD_GETLK: usize = 36;
    const F_OFD_SETLK: usize = 37;
    const F_RDLCK: i16 = 0;
    const F_WRLCK: i16 = 1;
    const F_UNLCK: i16 = 2;
    const LOCK_SH: usize = 1;
    const LOCK_EX: usize = 2;
    const LOCK_NB: usize = 4;
    const LOCK_UN: usize = 8;
    const EDEADLK: i32 = 35;
    const FLOCK_NR: usize = 73;

    /// Linux's `struct flock` (x86_64).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    struct Flock {
        l_type: i16,
        l_whence: i16,
        l_start: i64,
        l_len: i64,
        l_pid: i32,
    }

    fn lk(fd: i32, cmd: usize, ty: i16, start: i64, len: i64) -> SysResult<Flock> {
        let mut f = Flock {
            l_type: ty,
            l_start: start,
            l_len: len,
            ..Flock::default()
        };
        // SAFETY: `f` is a live struct flock the kernel reads and (F_GETLK) writes.
        check(unsafe { syscall3(nr::FCNTL, fd as usize, cmd, &mut f as *mut Flock as usize) })?;
        Ok(f)
    }

    fn flock(fd: i32, op: usize) -> SysResult {
        // SAFETY: no pointer.
        check(unsafe { syscall2(FLOCK_NR, fd as usize, op) })
    }

    /// A scratch file, removed on drop.
    struct Scratch(CString);

    impl Scratch {
        fn new(case: &str) -> Scratch {
            let _ = mkdir(c"/tmp", 0o1777);
            let p = CString::new(format!("/tmp/t_lock.{}.{}", getpid(), case)).expect("no NUL");
            let fd = open(&p, O_RDWR | O_CREAT | O_TRUNC, 0o644).expect("create scratch file");
            close(fd).expect("close");
            Scratch(p)
        }
        fn open(&self) -> i32 {
            open(&self.0, O_RDWR, 0).expect("open scratch file")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = unlink(&self.0);
        }
    }

    /// A one-byte message through a pipe, to order parent and child.
    fn send(fd: i32) {
        write(fd, b"x").expect("pipe write");
    }
    fn recv(fd: i32) {
        let mut b = [0u8; 1];
        check_eq!(read(fd, &mut b), Ok(1));
    }

    fn posix_conflict_gives_eagain_and_getlk_reports_the_holder() {
        let s = Scratch::new("conflict");
        let fd = s.open();
        check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 10).map(|_| ()), Ok(()));
        let me = getpid();
        let child = fork_run(|| {
            let fd = s.open();
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 5, 10).err(), Some(EAGAIN));
            check_eq!(lk(fd, F_SETLK, F_RDLCK, 9, 1).err(), Some(EAGAIN));
            check_eq!(lk(fd, F_SETLK, F_RDLCK, 10, 10).map(|_| ()), Ok(()));
            let f = lk(fd, F_GETLK, F_RDLCK, 0, 0).expect("F_GETLK");
            check_eq!(
                (f.l_type, f.l_whence, f.l_start, f.l_len, f.l_pid),
                (F_WRLCK, 0, 0, 10, me)
            );
            // The parent's own locks never block the parent: asked from here, yes.
            let f = lk(fd, F_GETLK, F_WRLCK, 20, 5).expect("F_GETLK");
            check_eq!(f.l_type, F_UNLCK);
        });
        check_eq!(wait_exit(child), Exit::Code(0));
        // The child's read lock went with it; the parent's own range is free to it.
        check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 100).map(|_| ()), Ok(()));
        let _ = close(fd);
    }

    fn len_zero_reaches_eof_and_unlock_splits() {
        let s = Scratch::new("ranges");
        let fd = s.open();
        check_eq!(lk(fd, F_SETLK, F_RDLCK, 100, 0).map(|_| ()), Ok(()));
        check_eq!(lk(fd, F_SETLK, F_UNLCK, 200, 100).map(|_| ()), Ok(()));
        let child = fork_run(|| {
            let fd = s.open();
            let probe =
                |at: i64| lk(fd, F_GETLK, F_WRLCK, at, 1).map(|f| (f.l_type, f.l_start, f.l_len));
            check_eq!(probe(50), Ok((F_UNLCK, 50, 1)));
            check_eq!(probe(150), Ok((F_RDLCK, 100, 100)));
            check_eq!(probe(250), Ok((F_UNLCK, 250, 1)));
            check_eq!(probe(1 << 40), Ok((F_RDLCK, 300, 0)));
            // A negative length covers the bytes before l_start.
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 300, -100).map(|_| ()), Ok(()));
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 300, -101).err(), Some(EAGAIN));
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 10, -11).err(), Some(EINVAL));
        });
        check_eq!(wait_exit(child), Exit::Code(0));
        let _ = close(fd);
    }

    fn bad_requests_get_linux_errnos() {
        let s = Scratch::new("bad");
        let ro = open(&s.0, O_RDONLY, 0).expect("open");
        check_eq!(lk(ro, F_SETLK, F_WRLCK, 0, 1).err(), Some(EBADF));
        check_eq!(lk(ro, F_SETLK, F_RDLCK, 0, 1).map(|_| ()), Ok(()));
        check_eq!(lk(ro, F_SETLK, 7, 0, 1).err(), Some(EINVAL));
        check_eq!(lk(ro, F_GETLK, F_UNLCK, 0, 1).err(), Some(EINVAL));
        let mut f = Flock {
            l_type: F_RDLCK,
            l_whence: 9,
            ..Flock::default()
        };
        // SAFETY: `f` is a live struct flock.
        let r = check(unsafe {
            syscall3(
                nr::FCNTL,
                ro as usize,
                F_SETLK,
                &mut f as *mut Flock as usize,
            )
        });
        check_eq!(r.err(), Some(EINVAL));
        // SAFETY: a bad pointer on purpose; the kernel must give EFAULT.
        let r = check(unsafe { syscall3(nr::FCNTL, ro as usize, F_SETLK, 16) });
        check_eq!(r.err(), Some(EFAULT));
        let _ = close(ro);
    }

    fn closing_any_descriptor_of_the_file_releases_posix_locks() {
        let s = Scratch::new("close");
        let fd1 = s.open();
        let fd2 = s.open();
        check_eq!(lk(fd1, F_SETLK, F_WRLCK, 0, 0).map(|_| ()), Ok(()));
        let try_lock = |expect: Option<i32>| {
            let child = fork_run(|| {
                let fd = s.open();
                check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 1).err(), expect);
            });
            check_eq!(wait_exit(child), Exit::Code(0));
        };
        try_lock(Some(EAGAIN));
        close(fd2).expect("close");
        try_lock(None);
        let _ = close(fd1);
    }

    fn locks_go_when_the_holder_exits() {
        let s = Scratch::new("exit");
        let [r1, w1] = pipe().expect("pipe");
        let [r2, w2] = pipe().expect("pipe");
        let child = fork_run(|| {
            let fd = s.open();
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 0).map(|_| ()), Ok(()));
            send(w1);
            recv(r2);
        });
        recv(r1);
        let fd = s.open();
        check_eq!(lk(fd, F_SETLK, F_RDLCK, 0, 1).err(), Some(EAGAIN));
        check_eq!(lk(fd, F_GETLK, F_RDLCK, 0, 1).map(|f| f.l_pid), Ok(child));
        send(w2);
        check_eq!(wait_exit(child), Exit::Code(0));
        check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 0).map(|_| ()), Ok(()));
        for f in [r1, w1, r2, w2, fd] {
            let _ = close(f);
        }
    }

    fn setlkw_waits_for_the_release() {
        let s = Scratch::new("wait");
        let [r1, w1] = pipe().expect("pipe");
        let child = fork_run(|| {
            let fd = s.open();
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 10).map(|_| ()), Ok(()));
            send(w1);
            let _ = sleep_ms(100);
            check_eq!(lk(fd, F_SETLK, F_UNLCK, 0, 10).map(|_| ()), Ok(()));
            let _ = sleep_ms(200);
        });
        recv(r1);
        let fd = s.open();
        let t0 = monotonic_ns();
        check_eq!(lk(fd, F_SETLKW, F_WRLCK, 5, 1).map(|_| ()), Ok(()));
        let waited = monotonic_ns() - t0;
        check_eq!((50_000_000..5_000_000_000).contains(&waited), true);
        check_eq!(wait_exit(child), Exit::Code(0));
        for f in [r1, w1, fd] {
            let _ = close(f);
        }
    }

    static SIGNALS: AtomicU32 = AtomicU32::new(0);
    extern "C" fn on_usr1(_: i32) {
        SIGNALS.fetch_add(1, Ordering::Relaxed);
    }

    fn setlkw_is_interrupted_by_a_signal() {
        let s = Scratch::new("eintr");
        let [r1, w1] = pipe().expect("pipe");
        let [r2, w2] = pipe().expect("pipe");
        let holder = fork_run(|| {
            let fd = s.open();
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 0).map(|_| ()), Ok(()));
            send(w1);
            recv(r2);
        });
        recv(r1);
        set_handler(SIGUSR1, on_usr1, 0, 0).expect("sigaction");
        let me = getpid();
        let killer = fork_run(move || {
            let _ = sleep_ms(100);
            check_eq!(kill(me, SIGUSR1), Ok(0));
        });
        let fd = s.open();
        check_eq!(lk(fd, F_SETLKW, F_WRLCK, 0, 1).err(), Some(EINTR));
        check_eq!(SIGNALS.load(Ordering::Relaxed), 1);
        send(w2);
        check_eq!(wait_exit(holder), Exit::Code(0));
        check_eq!(wait_exit(killer), Exit::Code(0));
        check_eq!(lk(fd, F_SETLKW, F_WRLCK, 0, 1).map(|_| ()), Ok(()));
        for f in [r1, w1, r2, w2, fd] {
            let _ = close(f);
        }
    }

    fn a_wait_cycle_gives_edeadlk() {
        let s = Scratch::new("deadlock");
        let fd = s.open();
        check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 1).map(|_| ()), Ok(()));
        let [r1, w1] = pipe().expect("pipe");
        let child = fork_run(|| {
            let fd = s.open();
            check_eq!(lk(fd, F_SETLK, F_WRLCK, 1, 1).map(|_| ()), Ok(()));
            send(w1);
            // Blocks on the parent's byte 0 until the parent lets it go.
            check_eq!(lk(fd, F_SETLKW, F_WRLCK, 0, 1).map(|_| ()), Ok(()));
        });
        recv(r1);
        let _ = sleep_ms(100);
        check_eq!(lk(fd, F_SETLKW, F_WRLCK, 1, 1).err(), Some(EDEADLK));
        check_eq!(lk(fd, F_SETLK, F_UNLCK, 0, 1).map(|_| ()), Ok(()));
        check_eq!(wait_exit(child), Exit::Code(0));
        for f in [r1, w1, fd] {
            let _ = close(f);
        }
    }

    fn ofd_locks_belong_to_the_open_file_description() {
        let s = Scratch::new("ofd");
        let a = s.open();
        let b = s.open();
        // POSIX locks of one process through two descriptions never conflict.
        check_eq!(lk(a, F_SETLK, F_WRLCK, 0, 10).map(|_| ()), Ok(()));
        check_eq!(lk(b, F_SETLK, F_WRLCK, 0, 10).map(|_| ()), Ok(()));
        check_eq!(lk(a, F_SETLK, F_UNLCK, 0, 0).map(|_| ()), Ok(()));
        // OFD locks of two descriptions do, in one process.
        check_eq!(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10).map(|_| ()), Ok(()));
        check_eq!(lk(b, F_OFD_SETLK, F_WRLCK, 5, 1).err(), Some(EAGAIN));
        let f = lk(b, F_OFD_GETLK, F_RDLCK, 0, 0).expect("F_OFD_GETLK");
        check_eq!(
            (f.l_type, f.l_start, f.l_len, f.l_pid),
            (F_WRLCK, 0, 10, -1)
        );
        // And with POSIX locks.
        check_eq!(lk(b, F_SETLK, F_RDLCK, 0, 1).err(), Some(EAGAIN));
        // l_pid must be 0 for the OFD commands.
        let mut bad = Flock {
            l_type: F_RDLCK,
            l_pid: 1,
            ..Flock::default()
        };
        // SAFETY: `bad` is a live struct flock.
        let r = check(unsafe {
            syscall3(
                nr::FCNTL,
                b as usize,
                F_OFD_SETLK,
                &mut bad as *mut Flock as usize,
            )
        });
        check_eq!(r.err(), Some(EINVAL));
        // A dup shares the description: closing one keeps the lock; the last close ends it.
        let a2 = dup(a).expect("dup");
        close(a).expect("close");
        check_eq!(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1).err(), Some(EAGAIN));
        // A forked child shares it too: its lock is the same lock.
        let child = fork_run(|| {
            check_eq!(lk(a2, F_OFD_SETLK, F_WRLCK, 0, 20).map(|_| ()), Ok(()));
        });
        check_eq!(wait_exit(child), Exit::Code(0));
        check_eq!(lk(b, F_OFD_SETLK, F_WRLCK, 15, 1).err(), Some(EAGAIN));
        close(a2).expect("close");
        check_eq!(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1).map(|_| ()), Ok(()));
        let _ = close(b);
    }

    fn flock_shares_excludes_and_converts() {
        let s = Scratch::new("flock");
        let a = s.open();
        let b = s.open();
        check_eq!(flock(a, LOCK_SH), Ok(0));
        check_eq!(flock(b, LOCK_SH | LOCK_NB), Ok(0));
        // Converting b to exclusive drops its shared lock, then a's blocks it.
        check_eq!(flock(b, LOCK_EX | LOCK_NB).err(), Some(EAGAIN));
        check_eq!(flock(a, LOCK_EX | LOCK_NB), Ok(0));
        check_eq!(flock(b, LOCK_SH | LOCK_NB).err(), Some(EAGAIN));
        // flock and record locks never meet.
        check_eq!(lk(b, F_SETLK, F_WRLCK, 0, 0).map(|_| ()), Ok(()));
        // A child with its own description waits until a's lock goes.
        let [r1, w1] = pipe().expect("pipe");
        let child = fork_run(|| {
            let c = s.open();
            send(w1);
            check_eq!(flock(c, LOCK_EX), Ok(0));
        });
        recv(r1);
        let _ = sleep_ms(50);
        check_eq!(flock(a, LOCK_UN), Ok(0));
        check_eq!(wait_exit(child), Exit::Code(0));
        check_eq!(flock(a, LOCK_SH | LOCK_EX).err(), Some(EINVAL));
        check_eq!(flock(a, 0).err(), Some(EINVAL));
        check_eq!(flock(-1, LOCK_SH).err(), Some(EBADF));
        // The last close of a description ends its flock lock.
        check_eq!(flock(a, LOCK_EX | LOCK_NB), Ok(0));
        close(a).expect("close");
        check_eq!(flock(b, LOCK_EX | LOCK_NB), Ok(0));
        for f in [r1, w1, b] {
            let _ = close(f);
        }
    }

    fn getlk_pid_is_as_the_callers_pid_container_sees_it() {
        let s = Scratch::new("pidns");
        let fd = s.open();
        check_eq!(lk(fd, F_SETLK, F_WRLCK, 0, 1).map(|_| ()), Ok(()));
        let [r1, w1] = pipe().expect("pipe");
        let [r2, w2] = pipe().expect("pipe");
        let outer = fork_run(|| {
            check_eq!(unshare(CLONE_NEWPID), Ok(0));
            let inner = clone_run(0, || {
                let fd = s.open();
                check_eq!(getpid(), 1);
                // The holder is outside this PID container: pid 0.
                check_eq!(
                    lk(fd, F_GETLK, F_WRLCK, 0, 1).map(|f| (f.l_type, f.l_pid)),
                    Ok((F_WRLCK, 0))
                );
                check_eq!(lk(fd, F_SETLK, F_WRLCK, 5, 1).map(|_| ()), Ok(()));
                send(w1);
                recv(r2);
            })
            .expect("fork into the new PID container");
            check_eq!(ulib::container::wait_exit(inner), Exit::Code(0));
        });
        recv(r1);
        // The inner holder, seen from here: its number in this container, not 1.
        let f = lk(fd, F_GETLK, F_WRLCK, 5, 1).expect("F_GETLK");
        check_eq!(f.l_type, F_WRLCK);
        check_eq!(f.l_pid > 1 && f.l_pid != outer, true);
        send(w2);
        check_eq!(wait_exit(outer), Exit::Code(0));
        for f in [r1, w1, r2, w2, fd] {
            let _ = close(f);
        }
    }

    fn main(_: Args) -> i32 {
        ulib::test::run(ulib::cases![
            posix_conflict_gives_eagain_and_getlk_reports_the_holder,
            len_zero_reaches_eof_and_unlock_splits,
            bad_requests_get_linux_errnos,
            closing_any_descriptor_of_the_file_releases_posix_locks,
            locks_go_when_the_holder_exits,
            setlkw_waits_for_the_release,
            setlkw_is_interrupted_by_a_signal,
            a_wait_cycle_gives_edeadlk,
            ofd_locks_belong_to_the_open_file_description,
            flock_shares_excludes_and_converts,
            getlk_pid_is_as_the_callers_pid_container_sees_it,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
