//! SysV IPC per IPC container: LiteOS-A's It_ipc_container_004–006 (shared memory across
//! NEWIPC, unshare and setns) and the Linux-side cases of issue 7: shared memory really shared
//! and counted (fork, exit, munmap, IPC_RMID while attached, permissions), message queues
//! (type selection, blocking both ways, EIDRM/EINTR, isolation and teardown with the
//! container) and semaphores (all-or-nothing, blocking and wake, SEM_UNDO at exit, timeouts,
//! EIDRM), with the errnos Linux gives. Ends checking every container count is back.
//!
//! Bulkhead-only parts (differ on a Linux host): `shmctl(IPC_INFO)`'s LiteOS-A limits,
//! `/proc/[pid]/container/*`, `/proc/sys/user/max_*_container`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    extern crate alloc;
    use alloc::format;
    use alloc::vec::Vec;
    use ulib::container::*;
    use ulib::rt::set_handler;
    use ulib::sys::{errno::*, *};
    use ulib::sysv::*;
    use ulib::test::Exit;
    use ulib::{Args, check, check_eq, check_ne, check_ok};

    const PAGE: usize = 4096;

    fn poke(addr: usize, data: &[u8]) {
        // SAFETY: `addr` is an attached read/write segment at least `data.len()` long.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) }
    }

    fn peek(addr: usize, len: usize) -> Vec<u8> {
        let mut v = alloc::vec![0u8; len];
        // SAFETY: `addr` is an attached segment at least `len` long.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, v.as_mut_ptr(), len) }
        v
    }

    fn nattch(id: i32) -> u64 {
        shm_stat(id, IPC_STAT).map_or(u64::MAX, |(_, d)| d.nattch)
    }

    fn detach(addr: usize) -> SysResult {
        // SAFETY: the tests never use a segment's memory after detaching it.
        unsafe { shmdt(addr) }
    }

    /// Waits (up to ~2 s) until `pid` sleeps in the kernel (state `S` in /proc/pid/stat).
    fn wait_sleeping(pid: i32) -> bool {
        for _ in 0..200 {
            if proc_stat(&format!("{}", pid))
                .is_ok_and(|(_, _, f)| f.first().is_some_and(|s| s == "S"))
            {
                return true;
            }
            let _ = sleep_ms(10);
        }
        false
    }

    /// Waits (up to ~2 s) until `GETNCNT`/`GETZCNT` of semaphore `num` is `want`.
    fn wait_cnt(id: i32, num: i32, cmd: usize, want: usize) -> bool {
        for _ in 0..200 {
            if semctl(id, num, cmd, 0) == Ok(want) {
                return true;
            }
            let _ = sleep_ms(10);
        }
        false
    }

    extern "C" fn on_usr1(_: i32) {}

    // LiteOS-A: It_ipc_container_004
    /// Key 1234 in a NEWIPC child is a fresh segment; a plain grandchild shares the child's.
    /// The parent's IPC_STAT, SHM_STAT, IPC_SET and IPC_INFO. Changes forced by the Linux ABI:
    /// `shm_segsz` is the size asked (1024; LiteOS-A reports PAGE_SIZE); SHM_STAT returns the
    /// segment's id, which may be 0 (Linux's first id), so the check is `== id` not `> 0`;
    /// the NEWIPC child inherits the attach (Linux's fork; LiteOS-A does not copy it), so the
    /// last detach, and `shm_lpid`, is the child's exit: `lpid == getpid()` is checked before
    /// the child, `lpid == child` after;
    /// IPC_INFO returns Linux's highest index in use (LiteOS-A: 192), with LiteOS-A's fields.
    fn ipc_004_shm_per_container_and_ctl() {
        let id = check_ok!(shmget(1234, 1024, 0o666 | IPC_CREAT));
        let addr = check_ok!(shmat(id, 0));
        poke(addr, b"parent test shm\0");
        let (_, ds) = check_ok!(shm_stat(id, IPC_STAT));
        check_eq!(ds.cpid, getpid());
        check_eq!(ds.lpid, getpid());
        let child = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let cid = check_ok!(shmget(1234, 1024, 0o666 | IPC_CREAT));
            let caddr = check_ok!(shmat(cid, 0));
            check_ne!(peek(caddr, 16), b"parent test shm\0".to_vec());
            poke(caddr, b"child test shm\0");
            let gc = check_ok!(clone_run(SIGCHLD_EXIT, || {
                check_eq!(peek(caddr, 15), b"child test shm\0".to_vec(), "inherited");
                let gid = check_ok!(shmget(1234, 1024, 0o666));
                check_eq!(gid, cid);
                let gaddr = check_ok!(shmat(gid, 0));
                check_eq!(peek(gaddr, 15), b"child test shm\0".to_vec(), "attached");
            }));
            check_eq!(wait_exit(gc), Exit::Code(0));
            check_eq!(detach(caddr), Ok(0));
            check_eq!(shm_rmid(cid), Ok(0));
        }));
        check_eq!(wait_exit(child), Exit::Code(0));
        check_eq!(peek(addr, 16), b"parent test shm\0".to_vec());
        let (_, ds) = check_ok!(shm_stat(id, IPC_STAT));
        check_eq!(ds.segsz, 1024);
        check_eq!(ds.nattch, 1);
        check_eq!(ds.cpid, getpid());
        check_eq!(ds.lpid, child);
        check_eq!(ds.perm.uid, getuid());
        check_eq!(ds.perm.key, 1234);
        check_eq!(ds.perm.mode, 0o666);
        let index = (id % 32768) as i32;
        check_eq!(shm_stat(index, SHM_STAT).map(|(r, _)| r), Ok(id as usize));
        let mut set = ds;
        set.perm.mode = 0;
        check_eq!(shm_set(id, &set), Ok(0));
        check_eq!(shm_stat(id, IPC_STAT).map(|(_, d)| d.perm.mode), Ok(0));
        let (ret, info) = check_ok!(shm_info());
        check!(ret as i32 >= index, "IPC_INFO returned {}", ret);
        check_eq!(info.shmmax, 0x100_0000);
        check_eq!(info.shmmin, 1);
        check_eq!(info.shmmni, 192);
        check_eq!(info.shmseg, 128);
        check_eq!(info.shmall, 0x1000);
        check_eq!(detach(addr), Ok(0));
        check_eq!(shm_rmid(id), Ok(0));
    }

    // LiteOS-A: It_ipc_container_005
    /// NEWIPC T makes key 1234 with "test shm"; T's plain child unshares NEWIPC (its link
    /// changes) and gets a new segment for the same key, without the text.
    fn ipc_005_unshare_gives_fresh_keys() {
        let t = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let id = check_ok!(shmget(1234, 1024, 0o666 | IPC_CREAT));
            let addr = check_ok!(shmat(id, 0));
            poke(addr, b"test shm\0");
            let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
                let before = own_container("ipc");
                check_eq!(unshare(CLONE_NEWIPC), Ok(0));
                check_ne!(own_container("ipc"), before);
                let nid = check_ok!(shmget(1234, 1024, 0o666 | IPC_CREAT));
                let naddr = check_ok!(shmat(nid, 0));
                check_ne!(peek(naddr, 9), b"test shm\0".to_vec());
                check_eq!(
                    peek(addr, 9),
                    b"test shm\0".to_vec(),
                    "the old attach stays"
                );
                check_eq!(shm_rmid(nid), Ok(0));
            }));
            check_eq!(wait_exit(c), Exit::Code(0));
            check_eq!(detach(addr), Ok(0));
            check_eq!(shm_rmid(id), Ok(0));
        }));
        check_eq!(wait_exit(t), Exit::Code(0));
    }

    // LiteOS-A: It_ipc_container_006
    /// NEWIPC A clones NEWIPC B, which attaches key 1234. A joins B's IPC container with setns
    /// (its link becomes B's), finds B's segment by key and writes "test shm"; B reads it.
    /// (LiteOS-A orders the steps with sleeps of 1 s and 3 s; here pipes order them.)
    fn ipc_006_setns_shares_segment() {
        let a = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let [r1, w1] = pipe_pair();
            let [r2, w2] = pipe_pair();
            let b = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
                close_all(&[r1, w2]);
                let id = check_ok!(shmget(1234, 1024, 0o666 | IPC_CREAT));
                let addr = check_ok!(shmat(id, 0));
                go(w1);
                wait_go(r2);
                check_eq!(peek(addr, 9), b"test shm\0".to_vec());
                check_eq!(detach(addr), Ok(0));
                check_eq!(shm_rmid(id), Ok(0));
            }));
            close_all(&[w1, r2]);
            wait_go(r1);
            let old = own_container("ipc");
            let fd = check_ok!(open_path(
                &container_path(&format!("{}", b), "ipc"),
                O_RDONLY
            ));
            check_eq!(setns(fd, CLONE_NEWIPC), Ok(0));
            let now = own_container("ipc");
            check_ne!(now, old);
            check_eq!(now, readlink_container(b, "ipc"));
            let id = check_ok!(shmget(1234, 1024, 0o666));
            let addr = check_ok!(shmat(id, 0));
            poke(addr, b"test shm\0");
            check_eq!(detach(addr), Ok(0));
            go(w2);
            close_all(&[fd, r1, w2]);
            check_eq!(wait_exit(b), Exit::Code(0));
        }));
        check_eq!(wait_exit(a), Exit::Code(0));
    }

    /// A forked child writes through its inherited attach and through one of its own; the
    /// parent reads both.
    fn shm_data_shared_across_fork() {
        let id = check_ok!(shmget(IPC_PRIVATE, 2 * PAGE, 0o600 | IPC_CREAT));
        let addr = check_ok!(shmat(id, 0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            poke(addr, b"inherited");
            let own = check_ok!(shmat(id, 0));
            check_ne!(own, addr);
            poke(own + PAGE + 10, b"own attach");
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(peek(addr, 9), b"inherited".to_vec());
        check_eq!(peek(addr + PAGE + 10, 10), b"own attach".to_vec());
        check_eq!(detach(addr), Ok(0));
        check_eq!(shm_rmid(id), Ok(0));
    }

    /// nattch counts attaches: shmat, fork (each inherited attach counts), exit, shmdt and
    /// munmap; lpid and dtime follow the last detach.
    fn shm_nattch_counts_fork_exit_munmap() {
        let id = check_ok!(shmget(IPC_PRIVATE, 2 * PAGE, 0o600 | IPC_CREAT));
        check_eq!(nattch(id), 0);
        let a = check_ok!(shmat(id, 0));
        let b = check_ok!(shmat(id, SHM_RDONLY));
        check_eq!(nattch(id), 2);
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            close_all(&[r, w2]);
            send(w, nattch(id) as i64);
            wait_go(r2);
        }));
        close_all(&[w, r2]);
        check_eq!(recv(r), Some(4), "two attaches in each process");
        go(w2);
        check_eq!(wait_exit(c), Exit::Code(0));
        close_all(&[r, w2]);
        check_eq!(nattch(id), 2, "the child's exit detached its copies");
        check_eq!(detach(b), Ok(0));
        check_eq!(nattch(id), 1);
        // SAFETY: the segment's memory at `a` is not used any more.
        check_eq!(unsafe { munmap(a, 2 * PAGE) }, Ok(0));
        let (_, ds) = check_ok!(shm_stat(id, IPC_STAT));
        check_eq!(ds.nattch, 0, "munmap detaches");
        check_eq!(ds.lpid, getpid());
        check!(
            ds.dtime > 0 && ds.atime > 0 && ds.ctime > 0,
            "times {:?}",
            ds
        );
        check_eq!(shm_rmid(id), Ok(0));
    }

    /// IPC_RMID while attached: the segment keeps working for its attaches (and a fork), loses
    /// its key (IPC_PRIVATE, SHM_DEST in its mode) and goes with the last detach.
    fn shm_rmid_while_attached() {
        let key = 0x5157;
        let id = check_ok!(shmget(key, 100, 0o600 | IPC_CREAT));
        let addr = check_ok!(shmat(id, 0));
        poke(addr, b"still here");
        check_eq!(shm_rmid(id), Ok(0));
        let (_, ds) = check_ok!(shm_stat(id, IPC_STAT));
        check_eq!(ds.perm.key, IPC_PRIVATE);
        check_eq!(ds.perm.mode, 0o600 | SHM_DEST);
        check_eq!(ds.nattch, 1);
        check_eq!(shmget(key, 100, 0o600), Err(ENOENT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(nattch(id), 2);
            check_eq!(peek(addr, 10), b"still here".to_vec());
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(nattch(id), 1);
        let other = check_ok!(shmget(key, 100, 0o600 | IPC_CREAT));
        check_ne!(other, id);
        check_eq!(shm_rmid(other), Ok(0));
        check_eq!(detach(addr), Ok(0));
        check_eq!(
            shm_stat(id, IPC_STAT).map(|_| ()),
            Err(EINVAL),
            "freed at the last detach"
        );
    }

    /// A non-root child (setuid 1000: no CAP_IPC_OWNER) gets EACCES on a 0600 segment and EPERM
    /// for IPC_SET/IPC_RMID; a 0644 one it may attach read-only only; SHM_STAT_ANY skips the
    /// check.
    fn shm_permissions_for_another_user() {
        let id = check_ok!(shmget(IPC_PRIVATE, PAGE, 0o600 | IPC_CREAT));
        let ro = check_ok!(shmget(IPC_PRIVATE, PAGE, 0o644 | IPC_CREAT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(ulib::cred::setuid(1000), Ok(0));
            check_eq!(shmat(id, 0), Err(EACCES));
            check_eq!(shm_stat(id, IPC_STAT).map(|_| ()), Err(EACCES));
            let ds = ShmidDs::default();
            check_eq!(shm_set(id, &ds), Err(EPERM));
            check_eq!(shm_rmid(id), Err(EPERM));
            check_eq!(shmctl_raw(id, SHM_LOCK, 0), Err(EPERM));
            let index = id % 32768;
            check_eq!(shm_stat(index, SHM_STAT).map(|_| ()), Err(EACCES));
            check_eq!(
                shm_stat(index, SHM_STAT_ANY).map(|(r, _)| r),
                Ok(id as usize)
            );
            check_eq!(shmat(ro, 0), Err(EACCES));
            check!(shmat(ro, SHM_RDONLY).is_ok());
            let mine = check_ok!(shmget(IPC_PRIVATE, PAGE, 0o600 | IPC_CREAT));
            check_eq!(shm_rmid(mine), Ok(0));
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(shm_rmid(id), Ok(0));
        check_eq!(shm_rmid(ro), Ok(0));
    }

    /// In a fresh IPC container: the first id is 0; shmget's and shmat/shmdt's errnos; ids are
    /// not reused at once; SHMALL (0x1000 pages) gives ENOSPC; SHM_LOCK marks the mode.
    fn shm_errnos_in_a_fresh_container() {
        let c = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let first = check_ok!(shmget(0x77, PAGE, 0o600 | IPC_CREAT));
            check_eq!(first, 0, "Linux's first id");
            check_eq!(shmget(IPC_PRIVATE, 0, IPC_CREAT), Err(EINVAL));
            check_eq!(shmget(IPC_PRIVATE, 0x100_0001, IPC_CREAT), Err(EINVAL));
            check_eq!(shmget(0x78, 10, 0), Err(ENOENT));
            check_eq!(
                shmget(0x77, PAGE + 1, 0),
                Err(EINVAL),
                "larger than the segment"
            );
            check_eq!(shmget(0x77, 10, IPC_CREAT | IPC_EXCL), Err(EEXIST));
            check_eq!(shmget(0x77, 0, 0), Ok(first));
            check_eq!(shmat(12345, 0), Err(EINVAL));
            let want = 0x1000_0000usize;
            // SAFETY: nothing of ours lives at these addresses.
            unsafe {
                check_eq!(shmat_at(first, want + 1, 0), Err(EINVAL), "misaligned");
                check_eq!(shmat_at(first, want + 1, SHM_RND), Ok(want));
                check_eq!(
                    shmat_at(first, want, 0),
                    Err(EINVAL),
                    "in use without SHM_REMAP"
                );
                check_eq!(shmat_at(first, want, SHM_REMAP), Ok(want));
                check_eq!(shmat_at(first, 0, SHM_REMAP), Err(EINVAL));
            }
            check_eq!(nattch(first), 1, "SHM_REMAP replaced the first attach");
            check_eq!(detach(want + 1), Err(EINVAL));
            check_eq!(detach(want + PAGE), Err(EINVAL));
            check_eq!(detach(want), Ok(0));
            check_eq!(detach(want), Err(EINVAL));
            check_eq!(shmctl_raw(first, 99, 0), Err(EINVAL));
            check_eq!(shmctl_raw(first, IPC_STAT, 1), Err(EFAULT));
            check_eq!(
                shm_stat(first, IPC_STAT | IPC_64).map(|(_, d)| d.segsz),
                Ok(PAGE as u64)
            );
            check_eq!(shmctl_raw(first, SHM_LOCK, 0), Ok(0));
            check_eq!(
                shm_stat(first, IPC_STAT).map(|(_, d)| d.perm.mode),
                Ok(0o600 | SHM_LOCKED)
            );
            check_eq!(shmctl_raw(first, SHM_UNLOCK, 0), Ok(0));
            check_eq!(shm_rmid(first), Ok(0));
            check_eq!(shm_rmid(first), Err(EINVAL));
            let next = check_ok!(shmget(IPC_PRIVATE, 0x100_0000, IPC_CREAT));
            check_ne!(next, first);
            check_eq!(next % 32768, 0, "same index");
            check_eq!(shmget(IPC_PRIVATE, 1, IPC_CREAT), Err(ENOSPC), "SHMALL");
            check_eq!(shm_rmid(next), Ok(0));
            check_eq!(shm_info().map(|(r, _)| r), Ok(0), "nothing in use");
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// A segment stays mapped after its IPC container is gone (Linux): a NEWIPC child's
    /// child (made a sibling with CLONE_PARENT) unshares into a new IPC container and keeps
    /// its attach of a removed segment after the child, the old container's last member,
    /// has exited.
    fn shm_outlives_its_container() {
        let count = read_limit("ipc").map(|(_, c)| c);
        let [ra, wa] = pipe_pair();
        let [rb, wb] = pipe_pair();
        let [rc, wc] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let id = check_ok!(shmget(IPC_PRIVATE, PAGE, 0o600 | IPC_CREAT));
            let addr = check_ok!(shmat(id, 0));
            poke(addr, b"kept");
            check_eq!(shm_rmid(id), Ok(0));
            let g = check_ok!(clone_run(SIGCHLD_EXIT | CLONE_PARENT, || {
                close_all(&[ra, wa, rb, wc]);
                check_eq!(unshare(CLONE_NEWIPC), Ok(0));
                go(wb);
                let _ = close(wb);
                wait_go(rc);
                check_eq!(peek(addr, 4), b"kept".to_vec());
                check_eq!(detach(addr), Ok(0));
            }));
            send(wa, g as i64);
        }));
        close_all(&[wa, wb, rc]);
        let g = recv(ra).unwrap_or(-1) as i32;
        wait_go(rb);
        check_eq!(wait_exit(c), Exit::Code(0));
        if let Ok(count) = count {
            check_eq!(
                wait_count("ipc", count + 1),
                count + 1,
                "only the grandchild's"
            );
        }
        go(wc);
        close_all(&[ra, rb, wc]);
        check_eq!(wait_exit(g), Exit::Code(0));
    }

    /// A queue of a NEWIPC child is invisible to its parent, lives while a fd holds the
    /// container, and goes with it; the parent's queue under the same key is untouched.
    fn msg_isolation_and_teardown() {
        let count = read_limit("ipc").map(|(_, c)| c);
        let key = 0x4d51;
        let q = check_ok!(msgget(key, 0o600 | IPC_CREAT));
        check_ok!(msgsnd(q, 1, b"parent", 0));
        let [r, w] = pipe_pair();
        let [r2, w2] = pipe_pair();
        let c = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            close_all(&[r, w2]);
            check_eq!(msgget(key, 0o600), Err(ENOENT));
            let q2 = check_ok!(msgget(key, 0o600 | IPC_CREAT));
            check_ok!(msgsnd(q2, 2, b"child", 0));
            check_eq!(msg_stat(q2, IPC_STAT).map(|(_, d)| d.qnum), Ok(1));
            go(w);
            wait_go(r2);
        }));
        close_all(&[w, r2]);
        wait_go(r);
        let fd = check_ok!(open_path(&ns_path(&format!("{}", c), "ipc"), O_RDONLY));
        go(w2);
        check_eq!(wait_exit(c), Exit::Code(0));
        let j = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(setns(fd, CLONE_NEWIPC), Ok(0));
            let q2 = check_ok!(msgget(key, 0));
            check_eq!(msgrcv(q2, 64, 0, IPC_NOWAIT), Ok((2, b"child".to_vec())));
        }));
        check_eq!(wait_exit(j), Exit::Code(0));
        close_all(&[fd, r, w2]);
        if let Ok(count) = count {
            check_eq!(wait_count("ipc", count), count);
        }
        check_eq!(msgrcv(q, 64, 0, IPC_NOWAIT), Ok((1, b"parent".to_vec())));
        check_eq!(msgrcv(q, 64, 0, IPC_NOWAIT), Err(ENOMSG));
        check_eq!(msg_rmid(q), Ok(0));
    }

    /// msgrcv's type selection (0, >0, <0, MSG_EXCEPT), E2BIG and MSG_NOERROR, ENOMSG,
    /// MSG_COPY (ENOSYS), msgsnd's EINVAL cases, qbytes and EAGAIN, IPC_STAT and IPC_INFO.
    fn msg_types_and_errnos() {
        let q = check_ok!(msgget(IPC_PRIVATE, 0o600 | IPC_CREAT));
        for (t, s) in [(5, "a5"), (3, "b3"), (7, "c7"), (3, "d3"), (1, "e1")] {
            check_ok!(msgsnd(q, t, s.as_bytes(), 0));
        }
        let (_, ds) = check_ok!(msg_stat(q, IPC_STAT));
        check_eq!((ds.qnum, ds.cbytes, ds.qbytes), (5, 10, 16384));
        check_eq!(ds.lspid, getpid());
        check_eq!(msgrcv(q, 64, 3, IPC_NOWAIT), Ok((3, b"b3".to_vec())));
        check_eq!(msgrcv(q, 64, -4, IPC_NOWAIT), Ok((1, b"e1".to_vec())));
        check_eq!(
            msgrcv(q, 64, 5, MSG_EXCEPT | IPC_NOWAIT),
            Ok((7, b"c7".to_vec()))
        );
        check_eq!(msgrcv(q, 64, 0, IPC_NOWAIT), Ok((5, b"a5".to_vec())));
        check_eq!(msgrcv(q, 1, 0, IPC_NOWAIT), Err(E2BIG));
        check_eq!(
            msgrcv(q, 1, 0, MSG_NOERROR | IPC_NOWAIT),
            Ok((3, b"d".to_vec()))
        );
        check_eq!(msgrcv(q, 64, 0, IPC_NOWAIT), Err(ENOMSG));
        check_eq!(msgrcv(q, 64, 0, MSG_COPY | IPC_NOWAIT), Err(ENOSYS));
        check_eq!(
            msg_stat(q, IPC_STAT).map(|(_, d)| (d.qnum, d.lrpid)),
            Ok((0, getpid()))
        );
        check_eq!(msgsnd(q, 0, b"x", 0), Err(EINVAL));
        check_eq!(msgsnd(q, 1, &[0u8; 8193], 0), Err(EINVAL));
        check_eq!(msgsnd(q + 1, 1, b"x", 0), Err(EINVAL));
        let mut set = ds;
        set.qbytes = 10;
        check_eq!(msg_set(q, &set), Ok(0));
        check_ok!(msgsnd(q, 1, &[1u8; 8], 0));
        check_eq!(msgsnd(q, 1, &[1u8; 4], IPC_NOWAIT), Err(EAGAIN));
        set.qbytes = 20000;
        check_eq!(msg_set(q, &set), Ok(0), "root has CAP_SYS_RESOURCE");
        check_ok!(msgsnd(q, 1, &[1u8; 4], IPC_NOWAIT));
        let (_, info) = check_ok!(msg_info(IPC_INFO));
        check_eq!(
            (info.msgmax, info.msgmnb, info.msgmni),
            (8192, 16384, 32000)
        );
        let (ret, usage) = check_ok!(msg_info(MSG_INFO));
        check!(ret as i32 >= q % 32768, "MSG_INFO returned {}", ret);
        check!(usage.msgpool >= 1 && usage.msgmap >= 2, "{:?}", usage);
        check_eq!(msg_rmid(q), Ok(0));
        check_eq!(msg_stat(q, IPC_STAT).map(|_| ()), Err(EINVAL));
        check_eq!(msg_rmid(q), Err(EINVAL));
    }

    /// A blocked receiver is woken by a sender process; a sender blocked on a full queue is
    /// woken by a receive.
    fn msg_blocking_both_ways() {
        let q = check_ok!(msgget(IPC_PRIVATE, 0o600 | IPC_CREAT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            let _ = sleep_ms(30);
            check_ok!(msgsnd(q, 9, b"wake", 0));
        }));
        check_eq!(msgrcv(q, 64, 9, 0), Ok((9, b"wake".to_vec())));
        check_eq!(wait_exit(c), Exit::Code(0));
        let (_, mut ds) = check_ok!(msg_stat(q, IPC_STAT));
        ds.qbytes = 4;
        check_eq!(msg_set(q, &ds), Ok(0));
        check_ok!(msgsnd(q, 1, b"full", 0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(msgsnd(q, 2, b"next", 0), Ok(0));
        }));
        check!(wait_sleeping(c), "the sender blocks");
        check_eq!(msg_stat(q, IPC_STAT).map(|(_, d)| d.qnum), Ok(1));
        check_eq!(msgrcv(q, 64, 0, 0), Ok((1, b"full".to_vec())));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(msgrcv(q, 64, 0, IPC_NOWAIT), Ok((2, b"next".to_vec())));
        check_eq!(msg_rmid(q), Ok(0));
    }

    /// A blocked msgrcv gives EIDRM when the queue is removed and EINTR on a signal.
    fn msg_waiters_eidrm_and_eintr() {
        let q = check_ok!(msgget(IPC_PRIVATE, 0o600 | IPC_CREAT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(msgrcv(q, 64, 0, 0), Err(EIDRM));
        }));
        check!(wait_sleeping(c), "the receiver blocks");
        check_eq!(msg_rmid(q), Ok(0));
        check_eq!(wait_exit(c), Exit::Code(0));
        let q = check_ok!(msgget(IPC_PRIVATE, 0o600 | IPC_CREAT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_ok!(set_handler(SIGUSR1, on_usr1, SA_RESTART, 0));
            check_eq!(msgrcv(q, 64, 0, 0), Err(EINTR), "never restarted");
        }));
        check!(wait_sleeping(c), "the receiver blocks");
        check_ok!(kill(c, SIGUSR1));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(msg_rmid(q), Ok(0));
    }

    /// A set of a NEWIPC child is invisible to its parent and the other way round.
    fn sem_isolation() {
        let key = 0x53e4;
        let s = check_ok!(semget(key, 2, 0o600 | IPC_CREAT));
        check_eq!(semctl(s, 1, SETVAL, 7), Ok(0));
        let c = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            check_eq!(semget(key, 0, 0), Err(ENOENT));
            let s2 = check_ok!(semget(key, 1, 0o600 | IPC_CREAT));
            check_eq!(semctl(s2, 0, GETVAL, 0), Ok(0));
            check_eq!(semctl(s2, 0, SETVAL, 3), Ok(0));
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(semget(key, 2, 0o600), Ok(s));
        check_eq!(semctl(s, 1, GETVAL, 0), Ok(7));
        check_eq!(sem_rmid(s), Ok(0));
    }

    /// semop blocks (GETNCNT/GETZCNT count the sleepers) until another process's semop or
    /// SETVAL lets it through; all operations of a call apply together.
    fn sem_blocking_and_wake() {
        let s = check_ok!(semget(IPC_PRIVATE, 2, 0o600 | IPC_CREAT));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(semop(s, &[sembuf(0, -1, 0), sembuf(1, -1, 0)]), Ok(0));
        }));
        check!(wait_cnt(s, 0, GETNCNT, 1), "the child waits on sem 0");
        check_eq!(semop(s, &[sembuf(0, 1, 0)]), Ok(0));
        check!(wait_cnt(s, 1, GETNCNT, 1), "then on sem 1, all or nothing");
        check_eq!(semctl(s, 0, GETVAL, 0), Ok(1), "nothing taken yet");
        check_eq!(semctl(s, 1, SETVAL, 1), Ok(0), "SETVAL wakes");
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(sem_getall(s, 2), Ok(alloc::vec![0, 0]));
        check_eq!(semctl(s, 0, GETPID, 0), Ok(c as usize));
        check_eq!(semctl(s, 0, SETVAL, 2), Ok(0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(semop(s, &[sembuf(0, 0, 0)]), Ok(0), "wait for zero");
        }));
        check!(wait_cnt(s, 0, GETZCNT, 1), "the child waits for zero");
        check_eq!(semop(s, &[sembuf(0, -2, 0)]), Ok(0));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(sem_rmid(s), Ok(0));
    }

    /// SEM_UNDO adjustments are applied when the process exits; a forked child does not
    /// inherit its parent's; SETVAL clears them.
    fn sem_undo_at_exit() {
        let s = check_ok!(semget(IPC_PRIVATE, 2, 0o600 | IPC_CREAT));
        check_eq!(sem_setall(s, &[5, 0]), Ok(0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(
                semop(s, &[sembuf(0, -2, SEM_UNDO), sembuf(1, 3, SEM_UNDO)]),
                Ok(0)
            );
            check_eq!(sem_getall(s, 2), Ok(alloc::vec![3, 3]));
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(sem_getall(s, 2), Ok(alloc::vec![5, 0]), "reverted at exit");
        check_eq!(semop(s, &[sembuf(0, -1, SEM_UNDO)]), Ok(0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {}));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(
            semctl(s, 0, GETVAL, 0),
            Ok(4),
            "the child had no adjustment"
        );
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(semop(s, &[sembuf(1, 2, SEM_UNDO)]), Ok(0));
            check_eq!(semctl(s, 1, SETVAL, 9), Ok(0));
        }));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(
            semctl(s, 1, GETVAL, 0),
            Ok(9),
            "SETVAL cleared the adjustment"
        );
        check_eq!(sem_rmid(s), Ok(0));
    }

    /// semtimedop gives EAGAIN at its timeout; a waiter gets EIDRM when the set is removed
    /// and EINTR on a signal.
    fn sem_timeout_eidrm_eintr() {
        let s = check_ok!(semget(IPC_PRIVATE, 1, 0o600 | IPC_CREAT));
        let t0 = monotonic_ns();
        let ts = Timespec::from_nanos(100_000_000);
        check_eq!(semtimedop(s, &[sembuf(0, -1, 0)], Some(&ts)), Err(EAGAIN));
        let took = monotonic_ns() - t0;
        check!(took >= 90_000_000, "woke after {} ns", took);
        let bad = Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        };
        check_eq!(semtimedop(s, &[sembuf(0, -1, 0)], Some(&bad)), Err(EINVAL));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_ok!(set_handler(SIGUSR1, on_usr1, SA_RESTART, 0));
            check_eq!(semop(s, &[sembuf(0, -1, 0)]), Err(EINTR));
        }));
        check!(wait_cnt(s, 0, GETNCNT, 1), "the child waits");
        check_ok!(kill(c, SIGUSR1));
        check_eq!(wait_exit(c), Exit::Code(0));
        check_eq!(semctl(s, 0, GETNCNT, 0), Ok(0));
        let c = check_ok!(clone_run(SIGCHLD_EXIT, || {
            check_eq!(semop(s, &[sembuf(0, -1, 0)]), Err(EIDRM));
        }));
        check!(wait_cnt(s, 0, GETNCNT, 1), "the child waits");
        check_eq!(sem_rmid(s), Ok(0));
        check_eq!(wait_exit(c), Exit::Code(0));
    }

    /// semget/semop/semctl errnos and the info and stat commands.
    fn sem_errnos_and_ctl() {
        check_eq!(semget(IPC_PRIVATE, 0, IPC_CREAT), Err(EINVAL));
        check_eq!(semget(IPC_PRIVATE, 32001, IPC_CREAT), Err(EINVAL));
        let s = check_ok!(semget(0x53e5, 3, 0o600 | IPC_CREAT));
        check_eq!(semget(0x53e5, 4, 0), Err(EINVAL));
        check_eq!(semget(0x53e5, 3, IPC_CREAT | IPC_EXCL), Err(EEXIST));
        check_eq!(semop(s, &[sembuf(3, 1, 0)]), Err(EFBIG));
        check_eq!(semop(s, &[]), Err(EINVAL));
        let many = alloc::vec![sembuf(0, 0, 0); 501];
        check_eq!(semop(s, &many), Err(E2BIG));
        check_eq!(semop(s, &[sembuf(0, -1, IPC_NOWAIT as i16)]), Err(EAGAIN));
        check_eq!(semctl(s, 0, SETVAL, 32768), Err(ERANGE));
        check_eq!(semctl(s, 0, SETVAL, 32767), Ok(0));
        check_eq!(semop(s, &[sembuf(0, 1, 0)]), Err(ERANGE));
        check_eq!(semctl(s, 3, GETVAL, 0), Err(EINVAL));
        check_eq!(sem_setall(s, &[1, 2, 3]), Ok(0));
        check_eq!(sem_getall(s, 3), Ok(alloc::vec![1, 2, 3]));
        check_eq!(semctl(s, 0, GETALL, 1), Err(EFAULT));
        let (_, ds) = check_ok!(sem_stat(s, IPC_STAT));
        check_eq!(ds.nsems, 3);
        check_eq!(ds.perm.key, 0x53e5);
        check_eq!(ds.perm.uid, getuid());
        check_eq!(
            sem_stat(s % 32768, SEM_STAT).map(|(r, _)| r),
            Ok(s as usize)
        );
        let (_, info) = check_ok!(sem_info(IPC_INFO));
        check_eq!((info.semmsl, info.semopm, info.semvmx), (32000, 500, 32767));
        let (_, usage) = check_ok!(sem_info(SEM_INFO));
        check!(usage.semusz >= 1 && usage.semaem >= 3, "{:?}", usage);
        check_eq!(semctl(s, 0, 99, 0), Err(EINVAL));
        check_eq!(sem_rmid(s), Ok(0));
        check_eq!(semctl(s, 0, GETVAL, 0), Err(EINVAL));
    }

    /// Bulkhead-only: objects users create at will stop at a share of the kernel heap (Linux
    /// stops at its memory): sets of 32,000 semaphores run into `ENOSPC` within a few hundred,
    /// in a fresh IPC container, and the kernel goes on; removing them gives the room back.
    fn sem_sets_stop_at_the_heap_budget() {
        let pid = check_ok!(clone_run(CLONE_NEWIPC | SIGCHLD_EXIT, || {
            let mut ids = alloc::vec::Vec::new();
            let err = loop {
                match semget(IPC_PRIVATE, 32000, IPC_CREAT | 0o600) {
                    Ok(id) if ids.len() < 2000 => ids.push(id),
                    Ok(_) => break 0,
                    Err(e) => break e,
                }
            };
            check_eq!(err, ENOSPC, "after {} sets", ids.len());
            check!(ids.len() >= 8, "only {} sets", ids.len());
            for id in ids {
                check_eq!(sem_rmid(id), Ok(0));
            }
            check!(semget(IPC_PRIVATE, 32000, IPC_CREAT | 0o600).is_ok());
        }));
        check_eq!(wait_exit(pid), Exit::Code(0));
    }

    fn main(_args: Args) -> i32 {
        record_start_counts();
        ulib::test::run(ulib::cases![
            ipc_004_shm_per_container_and_ctl,
            ipc_005_unshare_gives_fresh_keys,
            ipc_006_setns_shares_segment,
            shm_data_shared_across_fork,
            shm_nattch_counts_fork_exit_munmap,
            shm_rmid_while_attached,
            shm_permissions_for_another_user,
            shm_errnos_in_a_fresh_container,
            shm_outlives_its_container,
            msg_isolation_and_teardown,
            msg_types_and_errnos,
            msg_blocking_both_ways,
            msg_waiters_eidrm_and_eintr,
            sem_isolation,
            sem_blocking_and_wake,
            sem_undo_at_exit,
            sem_timeout_eidrm_eintr,
            sem_errnos_and_ctl,
            sem_sets_stop_at_the_heap_budget,
            counts_back_to_start,
        ])
    }

    ulib::entry!(main);
}

#[cfg(not(target_os = "none"))]
fn main() {}
