//! ABI edge cases: bad user pointers give EFAULT (never a kernel fault), unknown numbers ENOSYS,
//! bad fds EBADF, registers survive a syscall, CPU exceptions become signals, and uname,
//! clocks, ids and affinity report what Linux reports.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod imp {
    use core::arch::asm;
    use ulib::sys::{errno::*, *};
    use ulib::test::{Exit, fork_run, on_bulkhead, wait_exit};
    use ulib::{check, check_eq, check_ok, test_main};

    /// The start of the kernel half on x86_64 (canonical, not user).
    const KERNEL_ADDR: usize = 0xffff_8000_0000_0000;
    /// The first non-canonical address.
    const NONCANONICAL: usize = 0x0000_8000_0000_0000;
    const ENOTTY: i32 = 25;

    /// An address that was mapped and is not any more.
    fn unmapped_addr() -> usize {
        let a = mmap_anon(4096).expect("mmap of one page");
        // SAFETY: the page is ours and unused.
        unsafe { munmap(a, 4096) }.expect("munmap of our page");
        a
    }

    /// Raw syscall result helper.
    fn sc(r: isize) -> SysResult {
        check(r)
    }

    /// Buffers the kernel reads from (write, writev, paths) at bad addresses give EFAULT.
    fn bad_input_pointers_give_efault() {
        let [r, w] = check_ok!(pipe());
        let gone = unmapped_addr();
        // SAFETY (whole block): every pointer is deliberately bad; the kernel must refuse it.
        unsafe {
            check_eq!(
                sc(syscall3(nr::WRITE, w as usize, 1, 5)),
                Err(EFAULT),
                "write from 0x1"
            );
            check_eq!(
                sc(syscall3(nr::WRITE, w as usize, gone, 5)),
                Err(EFAULT),
                "write from unmapped"
            );
            check_eq!(
                sc(syscall3(nr::WRITE, w as usize, KERNEL_ADDR, 5)),
                Err(EFAULT),
                "write from kernel half"
            );
            check_eq!(
                sc(syscall3(nr::WRITE, w as usize, NONCANONICAL, 5)),
                Err(EFAULT),
                "non-canonical"
            );
            check_eq!(
                sc(syscall2(nr::STAT, KERNEL_ADDR, 0)),
                Err(EFAULT),
                "stat path in kernel half"
            );
            check_eq!(
                sc(syscall3(nr::OPEN, 0, O_RDONLY, 0)),
                Err(EFAULT),
                "open(NULL)"
            );
            check_eq!(sc(syscall3(nr::OPEN, gone, O_RDONLY, 0)), Err(EFAULT));
            check_eq!(sc(syscall1(nr::CHDIR, KERNEL_ADDR)), Err(EFAULT));
            let iov = [IoVec {
                base: KERNEL_ADDR,
                len: 8,
            }];
            check_eq!(
                sc(syscall3(nr::WRITEV, w as usize, iov.as_ptr() as usize, 1)),
                Err(EFAULT)
            );
            check_eq!(
                sc(syscall3(nr::WRITEV, w as usize, gone, 1)),
                Err(EFAULT),
                "iovec array unmapped"
            );
            let argv = [core::ptr::null::<u8>()];
            check_eq!(
                sc(syscall3(
                    nr::EXECVE,
                    KERNEL_ADDR,
                    argv.as_ptr() as usize,
                    argv.as_ptr() as usize
                )),
                Err(EFAULT)
            );
            check_eq!(
                sc(syscall4(
                    nr::RT_SIGACTION,
                    SIGUSR1 as usize,
                    KERNEL_ADDR,
                    0,
                    8
                )),
                Err(EFAULT)
            );
            let ts = KERNEL_ADDR;
            check_eq!(sc(syscall2(nr::NANOSLEEP, ts, 0)), Err(EFAULT));
        }
        // Nothing bad reached the pipe.
        check_ok!(close(w));
        check_eq!(read(r, &mut [0u8; 16]), Ok(0));
        check_ok!(close(r));
    }

    /// A buffer that runs off the end of a mapping: Linux writes the good part (96 bytes) into a
    /// pipe; refusing the whole call with EFAULT is also allowed.
    fn buffer_running_off_a_mapping() {
        let [r, w] = check_ok!(pipe());
        let a = check_ok!(mmap_anon(8192));
        // SAFETY: the second page is ours and unused.
        check_ok!(unsafe { munmap(a + 4096, 4096) });
        // SAFETY: the buffer deliberately runs into the unmapped page.
        let n = sc(unsafe { syscall3(nr::WRITE, w as usize, a + 4000, 8192) });
        check!(n == Ok(96) || n == Err(EFAULT), "write returned {:?}", n);
        // SAFETY: ours.
        check_ok!(unsafe { munmap(a, 4096) });
        check_ok!(close(w));
        check_ok!(close(r));
    }

    /// Buffers the kernel writes to (read, stat, clock_gettime, uname...) at bad or read-only
    /// addresses give EFAULT, and the kernel's own memory is untouched.
    fn bad_output_pointers_give_efault() {
        let zero = check_ok!(open(c"/dev/zero", O_RDONLY, 0));
        let gone = unmapped_addr();
        static RODATA: [u8; 16] = [7; 16];
        // SAFETY (whole block): every pointer is deliberately bad; the kernel must refuse it.
        unsafe {
            check_eq!(
                sc(syscall3(nr::READ, zero as usize, gone, 10)),
                Err(EFAULT),
                "read into unmapped"
            );
            check_eq!(
                sc(syscall3(nr::READ, zero as usize, KERNEL_ADDR, 10)),
                Err(EFAULT),
                "read into kernel half"
            );
            check_eq!(
                sc(syscall3(nr::READ, zero as usize, 0, 10)),
                Err(EFAULT),
                "read into NULL"
            );
            check_eq!(
                sc(syscall3(
                    nr::READ,
                    zero as usize,
                    RODATA.as_ptr() as usize,
                    10
                )),
                Err(EFAULT),
                "read into read-only memory"
            );
            check_eq!(
                sc(syscall2(nr::STAT, c"/".as_ptr() as usize, KERNEL_ADDR)),
                Err(EFAULT),
                "stat buffer"
            );
            check_eq!(sc(syscall2(nr::FSTAT, zero as usize, gone)), Err(EFAULT));
            check_eq!(
                sc(syscall2(nr::CLOCK_GETTIME, CLOCK_MONOTONIC, 0)),
                Err(EFAULT),
                "clock_gettime(NULL)"
            );
            check_eq!(
                sc(syscall2(nr::CLOCK_GETTIME, CLOCK_REALTIME, KERNEL_ADDR)),
                Err(EFAULT)
            );
            check_eq!(sc(syscall1(nr::UNAME, 0)), Err(EFAULT), "uname(NULL)");
            check_eq!(sc(syscall1(nr::PIPE, 0)), Err(EFAULT), "pipe(NULL)");
            check_eq!(sc(syscall2(nr::GETCWD, KERNEL_ADDR, 100)), Err(EFAULT));
            check_eq!(
                sc(syscall3(nr::GETDENTS64, zero as usize, gone, 100)).is_err(),
                true
            );
            check_eq!(
                sc(syscall4(nr::RT_SIGPROCMASK, SIG_BLOCK, 0, KERNEL_ADDR, 8)),
                Err(EFAULT)
            );
        }
        check_eq!(RODATA, [7; 16]);
        check_ok!(close(zero));
        // A child waited for with a bad status pointer: EFAULT.
        let pid = fork_run(|| {});
        // Let it become a zombie first, so wait4 has something to report.
        let _ = sleep_ms(20);
        // SAFETY: deliberately bad status pointer.
        check_eq!(
            sc(unsafe { syscall4(nr::WAIT4, pid as usize, KERNEL_ADDR, 0, 0) }),
            Err(EFAULT)
        );
        let _ = wait4(pid, 0);
    }

    /// Numbers Linux does not implement give ENOSYS: out of range, 400 in the unassigned x86_64 gap
    /// (not 335/336: Linux 6.11+ uses them for uretprobe/uprobe, which raise SIGILL),
    /// and the never-implemented afs_syscall and tuxcall.
    fn unknown_syscalls_give_enosys() {
        for n in [
            1000usize,
            400,
            nr::AFS_SYSCALL,
            nr::TUXCALL,
            100_000,
            usize::MAX,
        ] {
            // SAFETY: unknown numbers do nothing.
            check_eq!(
                sc(unsafe { syscall6(n, 1, 2, 3, 4, 5, 6) }),
                Err(ENOSYS),
                "syscall {}",
                n
            );
        }
    }

    /// Bad file descriptors give EBADF in every call taking one.
    fn bad_fds_give_ebadf() {
        let [r, w] = check_ok!(pipe());
        check_ok!(close(r));
        check_ok!(close(w));
        for fd in [-1, 1000, r, w, i32::MAX] {
            check_eq!(read(fd, &mut [0u8; 4]), Err(EBADF), "read {}", fd);
            check_eq!(write(fd, b"x"), Err(EBADF), "write {}", fd);
            check_eq!(close(fd), Err(EBADF), "close {}", fd);
            check_eq!(fstat(fd).err(), Some(EBADF), "fstat {}", fd);
            check_eq!(lseek(fd, 0, SEEK_SET), Err(EBADF), "lseek {}", fd);
            check_eq!(dup(fd), Err(EBADF), "dup {}", fd);
            check_eq!(fcntl(fd, F_GETFL, 0), Err(EBADF), "fcntl {}", fd);
            check_eq!(
                getdents64(fd, &mut [0u8; 64]),
                Err(EBADF),
                "getdents64 {}",
                fd
            );
            check_eq!(pread(fd, &mut [0u8; 4], 0), Err(EBADF), "pread {}", fd);
        }
        check_eq!(
            newfstatat(1000, c"x", 0).err(),
            Some(EBADF),
            "relative path with a bad dirfd"
        );
    }

    /// Only rax, rcx and r11 change across a syscall; argument and callee-saved registers survive.
    fn syscall_preserves_registers() {
        let vals: [u64; 10] = core::array::from_fn(|i| 0x1111_1111_1111_1111 * (i as u64 + 1));
        let mut out = vals;
        let rax: usize;
        // SAFETY: getpid with junk in the other registers; we list every register we touch.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr::GETPID => rax,
                inout("rdi") out[0], inout("rsi") out[1], inout("rdx") out[2], inout("r10") out[3],
                inout("r8") out[4], inout("r9") out[5], inout("r12") out[6], inout("r13") out[7],
                inout("r14") out[8], inout("r15") out[9],
                out("rcx") _, out("r11") _,
                options(nostack),
            )
        };
        check_eq!(rax as i32, getpid());
        check_eq!(out, vals);
    }

    /// uname: sysname "Linux", a 6.x release, machine "x86_64", every field NUL-terminated.
    fn uname_reports_linux() {
        let u = check_ok!(uname());
        fn field(f: &[u8; 65]) -> Option<&[u8]> {
            f.iter().position(|&b| b == 0).map(|n| &f[..n])
        }
        check_eq!(field(&u.sysname), Some(&b"Linux"[..]));
        check!(
            field(&u.release).is_some_and(|r| r.starts_with(b"6.")),
            "release {:?}",
            field(&u.release)
        );
        check_eq!(field(&u.machine), Some(&b"x86_64"[..]));
        check!(
            field(&u.nodename).is_some()
                && field(&u.version).is_some()
                && field(&u.domainname).is_some()
        );
    }

    /// REALTIME is a plausible date; MONOTONIC and BOOTTIME advance across a sleep;
    /// tv_nsec is normalised; unknown clocks are EINVAL.
    fn clocks_advance() {
        let real = check_ok!(clock_gettime(CLOCK_REALTIME));
        check!(
            real.tv_sec > 1_577_836_800,
            "CLOCK_REALTIME {:?} is before 2020",
            real
        );
        let m0 = check_ok!(clock_gettime(CLOCK_MONOTONIC));
        let b0 = check_ok!(clock_gettime(CLOCK_BOOTTIME));
        check_ok!(sleep_ms(20));
        let m1 = check_ok!(clock_gettime(CLOCK_MONOTONIC));
        let b1 = check_ok!(clock_gettime(CLOCK_BOOTTIME));
        let r1 = check_ok!(clock_gettime(CLOCK_REALTIME));
        for t in [real, m0, b0, m1, b1, r1] {
            check!(
                (0..1_000_000_000).contains(&t.tv_nsec),
                "tv_nsec {}",
                t.tv_nsec
            );
        }
        check!(
            m1.as_nanos() >= m0.as_nanos() + 20_000_000,
            "{:?} -> {:?}",
            m0,
            m1
        );
        check!(
            b1.as_nanos() >= b0.as_nanos() + 20_000_000,
            "{:?} -> {:?}",
            b0,
            b1
        );
        check!(b0 >= m0, "BOOTTIME {:?} < MONOTONIC {:?}", b0, m0);
        check!(r1 > real);
        let mut last = 0;
        for _ in 0..1000 {
            let now = monotonic_ns();
            check!(now >= last, "MONOTONIC went back: {} -> {}", last, now);
            last = now;
        }
        check_eq!(clock_gettime(100).err(), Some(EINVAL));
    }

    /// clock_getres: a positive resolution of at most 10 ms; NULL is allowed; bad clock EINVAL.
    fn clock_getres_reports_resolution() {
        for clock in [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME] {
            let res = check_ok!(clock_getres(clock));
            check!(
                res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10_000_000,
                "clock {}: {:?}",
                clock,
                res
            );
        }
        // SAFETY: NULL means "do not store".
        check_eq!(
            sc(unsafe { syscall2(nr::CLOCK_GETRES, CLOCK_MONOTONIC, 0) }),
            Ok(0)
        );
        check_eq!(clock_getres(100).err(), Some(EINVAL));
    }

    /// The getuid family returns 0 for root (the suite runs as root, on Bulkhead and the host).
    fn uid_family_is_root() {
        check_eq!((getuid(), geteuid(), getgid(), getegid()), (0, 0, 0, 0));
    }

    /// sched_getaffinity returns the mask size in bytes and a non-empty mask; a length that is
    /// not a multiple of 8 is EINVAL. Bulkhead only: exactly CPU 0.
    fn sched_getaffinity_reports_cpus() {
        let mut mask = [0u64; 16];
        // SAFETY: the buffer is 128 bytes.
        let n = sc(unsafe { syscall3(nr::SCHED_GETAFFINITY, 0, 128, mask.as_mut_ptr() as usize) });
        let n = check_ok!(n);
        check!(n > 0 && n <= 128 && n % 8 == 0, "returned {}", n);
        check!(mask.iter().any(|&w| w != 0));
        // SAFETY: as above.
        check_eq!(
            sc(unsafe { syscall3(nr::SCHED_GETAFFINITY, 0, 4, mask.as_mut_ptr() as usize) }),
            Err(EINVAL)
        );
        if on_bulkhead() {
            check_eq!(mask[0], 1);
            check_eq!(n, 8);
        }
    }

    /// Bad argument values: unknown sigprocmask `how`, wrong sigset size, unknown fcntl command,
    /// ioctl TCGETS on a non-terminal.
    fn bad_arguments_give_einval() {
        let set = 0u64;
        // SAFETY: `set` is valid; the other arguments are what is being tested.
        unsafe {
            check_eq!(
                sc(syscall4(
                    nr::RT_SIGPROCMASK,
                    99,
                    &set as *const u64 as usize,
                    0,
                    8
                )),
                Err(EINVAL)
            );
            check_eq!(
                sc(syscall4(
                    nr::RT_SIGPROCMASK,
                    SIG_BLOCK,
                    &set as *const u64 as usize,
                    0,
                    4
                )),
                Err(EINVAL)
            );
            check_eq!(
                sc(syscall4(nr::RT_SIGACTION, SIGUSR1 as usize, 0, 0, 4)),
                Err(EINVAL)
            );
        }
        let fd = check_ok!(open(c"/dev/null", O_RDWR, 0));
        check_eq!(fcntl(fd, 9999, 0), Err(EINVAL));
        let mut termios = [0u8; 64];
        const IOCTL: usize = 16;
        const TCGETS: usize = 0x5401;
        // SAFETY: the buffer is bigger than struct termios.
        check_eq!(
            sc(unsafe { syscall3(IOCTL, fd as usize, TCGETS, termios.as_mut_ptr() as usize) }),
            Err(ENOTTY)
        );
        check_ok!(close(fd));
    }

    /// CPU exceptions in user mode kill the process with the matching signal: ud2 SIGILL,
    /// divide by zero SIGFPE, int3 SIGTRAP, a privileged instruction SIGSEGV.
    fn cpu_exceptions_become_signals() {
        const SIGILL: i32 = 4;
        const SIGTRAP: i32 = 5;
        const SIGFPE: i32 = 8;
        // SAFETY (each child): the instruction faults; the child dies there.
        check_eq!(
            wait_exit(fork_run(|| unsafe { asm!("ud2") })),
            Exit::Signal(SIGILL)
        );
        check_eq!(
            wait_exit(fork_run(|| unsafe {
                asm!("xor edx, edx", "xor ecx, ecx", "mov eax, 1", "div ecx", out("eax") _, out("ecx") _, out("edx") _)
            })),
            Exit::Signal(SIGFPE)
        );
        check_eq!(
            wait_exit(fork_run(|| unsafe { asm!("int3") })),
            Exit::Signal(SIGTRAP)
        );
        check_eq!(
            wait_exit(fork_run(|| unsafe { asm!("hlt") })),
            Exit::Signal(SIGSEGV)
        );
        check_eq!(
            wait_exit(fork_run(|| unsafe { asm!("cli") })),
            Exit::Signal(SIGSEGV)
        );
        check_eq!(
            wait_exit(fork_run(|| unsafe { asm!("mov rax, cr3", out("rax") _) })),
            Exit::Signal(SIGSEGV)
        );
    }

    test_main!(
        bad_input_pointers_give_efault,
        bad_output_pointers_give_efault,
        buffer_running_off_a_mapping,
        unknown_syscalls_give_enosys,
        bad_fds_give_ebadf,
        syscall_preserves_registers,
        uname_reports_linux,
        clocks_advance,
        clock_getres_reports_resolution,
        uid_family_is_root,
        sched_getaffinity_reports_cpus,
        bad_arguments_give_einval,
        cpu_exceptions_become_signals,
    );
}

#[cfg(not(target_os = "none"))]
fn main() {}
