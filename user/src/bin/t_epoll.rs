//! Readiness waits (epoll(7), select(2), poll(2)) on sockets, pipes and timerfds: epoll on
//! 100 sockets, level- vs edge-triggered, EPOLLONESHOT, EPOLLRDHUP, nesting and polling an
//! epoll fd, closing a watched fd, the epoll_ctl errnos, waking up when another process
//! writes, select/pselect6 with their timeout write-back.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::vec::Vec;
    use ulib::net::errno::*;
    use ulib::net::*;
    use ulib::sys::{self, errno::*};
    use ulib::test::{Exit, wait_exit};
    use ulib::{Args, check, check_eq, check_ok};

    fn pair() -> SysResult<[i32; 2]> {
        socketpair(AF_UNIX, SOCK_STREAM)
    }
    use ulib::sys::SysResult;

    fn close_all(fds: &[i32]) {
        for &f in fds {
            sys::close(f).ok();
        }
    }

    /// 100 socket pairs watched by one instance: a write to 10 of them reports exactly
    /// those 10 (by their data), and reading them empties the ready list.
    fn epoll_on_100_sockets() {
        let ep = check_ok!(epoll_create1(sys::O_CLOEXEC));
        let mut pairs = Vec::new();
        for i in 0..100u64 {
            let [a, b] = check_ok!(pair());
            check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 1000 + i), Ok(0));
            pairs.push((a, b));
        }
        check_eq!(epoll_wait(ep, 128, 0), Ok(Vec::new()));
        for i in (0..100).step_by(10) {
            check_eq!(send(pairs[i].0, b"x", 0), Ok(1));
        }
        let mut got: Vec<u64> = check_ok!(epoll_wait(ep, 128, 1000))
            .into_iter()
            .map(|(ev, d)| {
                check_eq!(ev, EPOLLIN);
                d
            })
            .collect();
        got.sort_unstable();
        let want: Vec<u64> = (0..100).step_by(10).map(|i| 1000 + i as u64).collect();
        check_eq!(got, want);
        // maxevents smaller than the ready count: the rest come in the next call.
        let first = check_ok!(epoll_wait(ep, 4, 0));
        check_eq!(first.len(), 4);
        let second = check_ok!(epoll_wait(ep, 128, 0));
        check_eq!(second.len(), 10, "level-triggered: all still ready");
        check!(second.iter().any(|x| x.1 != first[0].1));
        let mut buf = [0u8; 4];
        for i in (0..100).step_by(10) {
            check_eq!(recv(pairs[i].1, &mut buf, 0), Ok(1));
        }
        check_eq!(epoll_wait(ep, 128, 0), Ok(Vec::new()));
        for (a, b) in pairs {
            close_all(&[a, b]);
        }
        sys::close(ep).ok();
    }

    /// Level-triggered reports while data is unread; edge-triggered once per arrival.
    fn level_vs_edge_triggered() {
        let ep = check_ok!(epoll_create1(0));
        let [a, b] = check_ok!(pair());
        let [c, d] = check_ok!(pair());
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 1), Ok(0));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, d, EPOLLIN | EPOLLET, 2), Ok(0));
        check_eq!(send(a, b"x", 0), Ok(1));
        check_eq!(send(c, b"y", 0), Ok(1));
        let mut ready = check_ok!(epoll_wait(ep, 8, 100));
        ready.sort_unstable_by_key(|x| x.1);
        check_eq!(ready, alloc::vec![(EPOLLIN, 1), (EPOLLIN, 2)]);
        check_eq!(
            epoll_wait(ep, 8, 0),
            Ok(alloc::vec![(EPOLLIN, 1)]),
            "edge consumed"
        );
        check_eq!(
            epoll_wait(ep, 8, 0),
            Ok(alloc::vec![(EPOLLIN, 1)]),
            "level stays"
        );
        check_eq!(send(c, b"z", 0), Ok(1));
        let mut ready = check_ok!(epoll_wait(ep, 8, 0));
        ready.sort_unstable_by_key(|x| x.1);
        check_eq!(ready, alloc::vec![(EPOLLIN, 1), (EPOLLIN, 2)], "a new edge");
        close_all(&[a, b, c, d, ep]);
    }

    /// EPOLLONESHOT: reported once, then silent until EPOLL_CTL_MOD re-arms it.
    fn oneshot_until_rearmed() {
        let ep = check_ok!(epoll_create1(0));
        let [a, b] = check_ok!(pair());
        check_eq!(send(a, b"x", 0), Ok(1));
        check_eq!(
            epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN | EPOLLONESHOT, 5),
            Ok(0)
        );
        check_eq!(epoll_wait(ep, 8, 0), Ok(alloc::vec![(EPOLLIN, 5)]));
        check_eq!(epoll_wait(ep, 8, 0), Ok(Vec::new()));
        check_eq!(send(a, b"x", 0), Ok(1));
        check_eq!(epoll_wait(ep, 8, 0), Ok(Vec::new()), "still disarmed");
        check_eq!(
            epoll_ctl(ep, EPOLL_CTL_MOD, b, EPOLLIN | EPOLLONESHOT, 6),
            Ok(0)
        );
        check_eq!(epoll_wait(ep, 8, 0), Ok(alloc::vec![(EPOLLIN, 6)]));
        close_all(&[a, b, ep]);
    }

    /// epoll_wait with no timeout sleeps until a child writes 50 ms later (woken by
    /// the socket, not by a timer), and poll does the same.
    fn wait_wakes_when_another_process_writes() {
        for use_poll in [false, true] {
            let ep = check_ok!(epoll_create1(0));
            let [a, b] = check_ok!(pair());
            check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 9), Ok(0));
            let t0 = sys::monotonic_ns();
            let child = check_ok!(sys::fork());
            if child == 0 {
                let _ = sys::sleep_ms(50);
                let _ = send(a, b"wake", 0);
                sys::exit(0);
            }
            if use_poll {
                let (n, rev) = check_ok!(poll(&[(b, POLLIN)], -1));
                check_eq!((n, rev[0]), (1, POLLIN));
            } else {
                check_eq!(epoll_wait(ep, 8, -1), Ok(alloc::vec![(EPOLLIN, 9)]));
            }
            let dt = sys::monotonic_ns() - t0;
            check!((40_000_000..5_000_000_000).contains(&dt));
            check_eq!(wait_exit(child), Exit::Code(0));
            close_all(&[a, b, ep]);
        }
    }

    /// Closing the last fd of a watched file drops it from the interest list (a dup
    /// keeps it).
    fn closing_a_watched_fd_removes_it() {
        let ep = check_ok!(epoll_create1(0));
        let [r, w] = check_ok!(sys::pipe());
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN, 1), Ok(0));
        let r2 = check_ok!(sys::dup(r));
        check_eq!(sys::write(w, b"x"), Ok(1));
        sys::close(r).ok();
        check_eq!(
            epoll_wait(ep, 8, 0),
            Ok(alloc::vec![(EPOLLIN, 1)]),
            "the dup keeps it"
        );
        sys::close(r2).ok();
        check_eq!(epoll_wait(ep, 8, 0), Ok(Vec::new()));
        close_all(&[w, ep]);
    }

    /// An epoll fd is pollable and can be watched by another instance.
    fn epoll_fd_is_pollable_and_nests() {
        let inner = check_ok!(epoll_create1(0));
        let outer = check_ok!(epoll_create1(0));
        let [a, b] = check_ok!(pair());
        check_eq!(epoll_ctl(inner, EPOLL_CTL_ADD, b, EPOLLIN, 1), Ok(0));
        check_eq!(epoll_ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2), Ok(0));
        check_eq!(
            epoll_ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 3),
            Err(ELOOP)
        );
        check_eq!(poll(&[(inner, POLLIN)], 0).map(|x| x.0), Ok(0));
        check_eq!(send(a, b"x", 0), Ok(1));
        check_eq!(poll(&[(inner, POLLIN)], 0), Ok((1, alloc::vec![POLLIN])));
        check_eq!(epoll_wait(outer, 8, 100), Ok(alloc::vec![(EPOLLIN, 2)]));
        close_all(&[a, b, inner, outer]);
    }

    /// The peer's shutdown(SHUT_WR) gives EPOLLRDHUP (and EPOLLIN: EOF is readable);
    /// its close gives EPOLLHUP, reported even when not asked for.
    fn rdhup_and_hup() {
        let ep = check_ok!(epoll_create1(0));
        let [a, b] = check_ok!(pair());
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLRDHUP, 1), Ok(0));
        check_eq!(epoll_wait(ep, 8, 0), Ok(Vec::new()));
        check_eq!(shutdown(a, SHUT_WR), Ok(0));
        check_eq!(epoll_wait(ep, 8, 0), Ok(alloc::vec![(EPOLLRDHUP, 1)]));
        sys::close(a).ok();
        check_eq!(
            epoll_wait(ep, 8, 0),
            Ok(alloc::vec![(EPOLLRDHUP | EPOLLHUP, 1)])
        );
        close_all(&[b, ep]);
    }

    /// epoll_ctl's and epoll_wait's errnos.
    fn ctl_errors() {
        let ep = check_ok!(epoll_create1(0));
        let [a, b] = check_ok!(pair());
        check_eq!(epoll_create1(1), Err(EINVAL));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 0), Ok(0));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 0), Err(EEXIST));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_MOD, b, EPOLLIN, 0), Err(ENOENT));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_DEL, b, 0, 0), Err(ENOENT));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0), Err(EINVAL));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0), Err(EBADF));
        check_eq!(
            epoll_ctl(a, EPOLL_CTL_ADD, b, EPOLLIN, 0),
            Err(EINVAL),
            "not an epoll fd"
        );
        check_eq!(epoll_ctl(ep, 9, b, EPOLLIN, 0), Err(EINVAL));
        let _ = sys::mkdir(c"/tmp", 0o1777);
        let f = check_ok!(sys::open(
            c"/tmp/t_epoll.f",
            sys::O_CREAT | sys::O_RDWR,
            0o600
        ));
        check_eq!(
            epoll_ctl(ep, EPOLL_CTL_ADD, f, EPOLLIN, 0),
            Err(EPERM),
            "regular file"
        );
        check_eq!(
            epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN | EPOLLEXCLUSIVE, 0),
            Ok(0),
            "EPOLLEXCLUSIVE accepted"
        );
        check_eq!(epoll_ctl(ep, EPOLL_CTL_MOD, b, EPOLLIN, 0), Err(EINVAL));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_DEL, a, 0, 0), Ok(0));
        check_eq!(epoll_wait(ep, 0, 0), Err(EINVAL));
        check_eq!(epoll_wait(f, 1, 0), Err(EINVAL));
        close_all(&[a, b, f, ep]);
        let _ = sys::unlink(c"/tmp/t_epoll.f");
    }

    /// select: a readable socket's bit; nothing ready → 0 after the timeout, with the
    /// timeval written back as 0; pselect6 writes back the time left; a closed fd in
    /// a set gives EBADF.
    fn select_and_pselect6() {
        let [a, b] = check_ok!(pair());
        check_eq!(send(a, b"x", 0), Ok(1));
        let mut r = FdSet::default();
        r.set(a);
        r.set(b);
        let mut w = FdSet::default();
        w.set(a);
        let mut tv = [1i64, 0];
        check_eq!(
            select(b + 1, Some(&mut r), Some(&mut w), Some(&mut tv)),
            Ok(2)
        );
        check!(r.is_set(b) && !r.is_set(a) && w.is_set(a));
        check!(tv[0] * 1_000_000 + tv[1] > 900_000, "little time used");
        let mut r = FdSet::default();
        r.set(a);
        let mut tv = [0i64, 50_000];
        let t0 = sys::monotonic_ns();
        check_eq!(select(a + 1, Some(&mut r), None, Some(&mut tv)), Ok(0));
        check!(sys::monotonic_ns() - t0 >= 50_000_000);
        check_eq!(tv, [0, 0], "no time left");
        check_eq!(r, FdSet::default());
        let mut r = FdSet::default();
        r.set(b);
        let mut ts = [5i64, 0];
        check_eq!(pselect6(b + 1, Some(&mut r), None, Some(&mut ts)), Ok(1));
        check!(
            ts[0] == 4 || (ts[0] == 5 && ts[1] == 0) || ts[0] < 5,
            "time left written back"
        );
        check!(ts[0] * 1_000_000_000 + ts[1] > 4_000_000_000);
        let mut r = FdSet::default();
        r.set(b + 10);
        check_eq!(
            select(b + 11, Some(&mut r), None, Some(&mut [0, 0])),
            Err(EBADF)
        );
        let mut tv = [0i64, 1_000_000];
        check_eq!(select(1, None, None, Some(&mut tv)), Err(EINVAL));
        close_all(&[a, b]);
    }

    /// A timerfd in an epoll set wakes the waiter at its expiry.
    fn timerfd_in_epoll() {
        let ep = check_ok!(epoll_create1(0));
        let t = check_ok!(ulib::timens::timerfd_create(1, 0));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, t, EPOLLIN, 77), Ok(0));
        check_ok!(ulib::timens::timerfd_settime(t, 0, 30_000_000, 0));
        let t0 = sys::monotonic_ns();
        check_eq!(epoll_wait(ep, 4, 2000), Ok(alloc::vec![(EPOLLIN, 77)]));
        let dt = sys::monotonic_ns() - t0;
        check!((25_000_000..1_000_000_000).contains(&dt));
        close_all(&[t, ep]);
    }

    /// Pipes (both ends) and a message queue in one instance: each reports when it is
    /// ready, by its data.
    fn pipes_and_message_queues_in_epoll() {
        let ep = check_ok!(epoll_create1(0));
        let [r, w] = check_ok!(sys::pipe());
        let name = "/t_epoll_mq";
        let _ = ulib::mq::unlink(name);
        let q = check_ok!(ulib::mq::open(
            name,
            sys::O_RDWR | sys::O_CREAT,
            0o600,
            None
        ));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, r, EPOLLIN, 1), Ok(0));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, w, EPOLLOUT, 2), Ok(0));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_ADD, q, EPOLLIN, 3), Ok(0));
        check_eq!(epoll_wait(ep, 8, 0), Ok(alloc::vec![(EPOLLOUT, 2)]));
        check_eq!(epoll_ctl(ep, EPOLL_CTL_DEL, w, 0, 0), Ok(0));
        let child = check_ok!(sys::fork());
        if child == 0 {
            let _ = sys::sleep_ms(20);
            let _ = ulib::mq::send(q, b"m", 0);
            sys::exit(0);
        }
        check_eq!(
            epoll_wait(ep, 8, 2000),
            Ok(alloc::vec![(EPOLLIN, 3)]),
            "the queue"
        );
        check_eq!(sys::write(w, b"p"), Ok(1));
        let mut got = check_ok!(epoll_wait(ep, 8, 0));
        got.sort_unstable_by_key(|x| x.1);
        check_eq!(got, alloc::vec![(EPOLLIN, 1), (EPOLLIN, 3)]);
        check_eq!(wait_exit(child), Exit::Code(0));
        close_all(&[r, w, q, ep]);
        let _ = ulib::mq::unlink(name);
    }

    static HITS: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

    extern "C" fn on_usr1(_sig: i32) {
        HITS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }

    /// ppoll's signal mask is in force only during the call: a pending SIGUSR1 blocked
    /// outside runs its handler inside (EINTR at once), and the old mask is back after.
    fn ppoll_signal_mask_applies_only_during_the_call() {
        let usr1 = sys::sigbit(sys::SIGUSR1);
        check_eq!(ulib::rt::set_handler(sys::SIGUSR1, on_usr1, 0, 0), Ok(0));
        let old = check_ok!(sys::sigprocmask(sys::SIG_BLOCK, Some(usr1)));
        check_eq!(sys::kill(sys::getpid(), sys::SIGUSR1), Ok(0));
        check_eq!(
            HITS.load(core::sync::atomic::Ordering::Relaxed),
            0,
            "blocked"
        );
        let mut ts = [2i64, 0];
        let t0 = sys::monotonic_ns();
        check_eq!(ppoll(&[], &mut ts, Some(0)), Err(EINTR));
        check!(sys::monotonic_ns() - t0 < 1_000_000_000);
        check_eq!(
            HITS.load(core::sync::atomic::Ordering::Relaxed),
            1,
            "ran inside"
        );
        check_eq!(
            sys::sigprocmask(sys::SIG_BLOCK, None).map(|m| m & usr1),
            Ok(usr1)
        );
        let mut ts = [0i64, 20_000_000];
        check_eq!(ppoll(&[], &mut ts, Some(usr1)), Ok(0), "times out");
        check_eq!(ts, [0, 0], "no time left");
        check_eq!(
            sys::sigprocmask(sys::SIG_SETMASK, Some(old)).map(|_| 0),
            Ok(0)
        );
    }

    fn main(_args: Args) -> i32 {
        ulib::test::run(ulib::cases![
            epoll_on_100_sockets,
            level_vs_edge_triggered,
            oneshot_until_rearmed,
            wait_wakes_when_another_process_writes,
            closing_a_watched_fd_removes_it,
            epoll_fd_is_pollable_and_nests,
            rdhup_and_hup,
            ctl_errors,
            select_and_pselect6,
            timerfd_in_epoll,
            pipes_and_message_queues_in_epoll,
            ppoll_signal_mask_applies_only_during_the_call,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
