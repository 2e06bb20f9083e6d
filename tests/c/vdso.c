/* The vDSO through musl's own lookup: AT_SYSINFO_EHDR is there, clock_gettime,
 * gettimeofday, time and sched_getcpu go through it without a system call (the process's
 * `Syscalls:` count in /proc/self/status does not move), its values lie between system-call
 * readings, and a process in a TIME container (a child created into one, a setns into one)
 * reads that container's offsets. Run as init by tests/vdso.rs; prints "vdso: PASS <case>"
 * per case and "vdso: done" at the end, "vdso: FAIL ..." with the values otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static int failed;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("vdso: FAIL %s:%d: %s: ", __func__, __LINE__, #cond); \
			printf(__VA_ARGS__);                              \
			printf("\n");                                     \
			failed = 1;                                       \
		}                                                         \
	} while (0)

static long syscalls(void) {
	char buf[2048];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return -1;
	buf[n] = 0;
	char *p = strstr(buf, "\nSyscalls:\t");
	return p ? atol(p + 11) : -1;
}

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long sys_clock(int clk) {
	struct timespec t;
	if (syscall(SYS_clock_gettime, clk, &t)) return -1;
	return ns(&t);
}

static void auxv_points_at_an_elf_image(void) {
	unsigned long eh = getauxval(AT_SYSINFO_EHDR);
	CHECK(eh != 0, "AT_SYSINFO_EHDR %#lx", eh);
	if (eh) CHECK(memcmp((void *)eh, "\177ELF", 4) == 0, "no ELF magic at %#lx", eh);
	/* Never writable: it is every process's. */
	CHECK(mprotect((void *)(eh & ~4095UL), 4096, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
	      "mprotect of the vDSO: errno %d", errno);
	CHECK(mprotect((void *)((eh & ~4095UL) - 8192), 4096, PROT_READ | PROT_WRITE) == -1 &&
	          errno == EACCES,
	      "mprotect of [vvar]: errno %d", errno);
}

static void clock_reads_make_no_system_call(void) {
	long a = syscalls(), b = syscalls(); /* b - a: what one reading costs */
	struct timespec t;
	struct timeval tv;
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		clock_gettime(CLOCK_REALTIME, &t);
		clock_gettime(CLOCK_BOOTTIME, &t);
		gettimeofday(&tv, 0);
		time(0);
		sched_getcpu();
	}
	long c = syscalls();
	CHECK(a > 0 && b - a > 0, "Syscalls %ld then %ld", a, b);
	CHECK(c - b == b - a, "6,000 clock reads made %ld system calls", c - b - (b - a));
	/* musl's clock_getres is a system call (it has no vDSO lookup for it): counted. */
	long e = syscalls();
	clock_getres(CLOCK_MONOTONIC, &t);
	CHECK(syscalls() - e == b - a + 1, "clock_getres: %ld calls", syscalls() - e);
	/* A clock the vDSO does not compute still works (through the system call). */
	long d = syscalls();
	CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0, "errno %d", errno);
	CHECK(syscalls() - d == b - a + 1, "CPU-time clock: %ld calls", syscalls() - d);
	CHECK(clock_gettime(12345, &t) == -1 && errno == EINVAL, "bad clock: errno %d", errno);
}

static void values_lie_between_system_call_readings(void) {
	int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
			CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct timespec t;
		long long before = sys_clock(clocks[i]);
		int r = clock_gettime(clocks[i], &t);
		long long after = sys_clock(clocks[i]);
		CHECK(r == 0 && before <= ns(&t) && ns(&t) <= after && t.tv_nsec < 1000000000,
		      "clock %d: %lld <= %lld <= %lld", clocks[i], before, ns(&t), after);
	}
	struct timeval tv;
	long long before = sys_clock(CLOCK_REALTIME) / 1000;
	gettimeofday(&tv, 0);
	long long after = sys_clock(CLOCK_REALTIME) / 1000;
	long long us = tv.tv_sec * 1000000LL + tv.tv_usec;
	CHECK(before <= us && us <= after, "gettimeofday %lld <= %lld <= %lld", before, us, after);
	time_t s = time(0);
	CHECK(s >= before / 1000000 && s <= after / 1000000 + 1, "time %ld", (long)s);
	struct timespec res;
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1,
	      "res %ld", res.tv_nsec);
	CHECK(clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_nsec == 1000000,
	      "coarse res %ld", res.tv_nsec);
	CHECK(sched_getcpu() == 0, "cpu %d", sched_getcpu());
}

static int write_offsets(const char *text) {
	int fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0) return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Monotonic +1000 s, boottime +2000 s in a new TIME container. */
static void time_container_offsets_apply_without_a_system_call(void) {
	long long host = sys_clock(CLOCK_MONOTONIC);
	CHECK(unshare(CLONE_NEWTIME) == 0, "unshare: errno %d", errno);
	CHECK(write_offsets("monotonic 1000 0\nboottime 2000 0\n") == 0, "errno %d", errno);
	int fds[2];
	pipe(fds);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		struct timespec m, b;
		long a = syscalls(), s0 = syscalls();
		long long before = sys_clock(CLOCK_MONOTONIC);
		long x = syscalls();
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_BOOTTIME, &b);
		long y = syscalls();
		long long after = sys_clock(CLOCK_MONOTONIC);
		int ok = 1;
		if (!(ns(&m) >= 1000000000000LL && before <= ns(&m) && ns(&m) <= after)) {
			printf("vdso: FAIL child monotonic %lld between %lld and %lld\n", ns(&m), before, after);
			ok = 0;
		}
		if (!(ns(&b) >= 2000000000000LL && ns(&b) - ns(&m) >= 999000000000LL)) {
			printf("vdso: FAIL child boottime %lld monotonic %lld\n", ns(&b), ns(&m));
			ok = 0;
		}
		if (y - x != s0 - a) {
			printf("vdso: FAIL child clock reads made %ld system calls\n", y - x - (s0 - a));
			ok = 0;
		}
		write(fds[1], "x", 1); /* the parent may setns into our container now */
		pause();
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	char c;
	read(fds[0], &c, 1);
	struct timespec m;
	clock_gettime(CLOCK_MONOTONIC, &m);
	CHECK(ns(&m) < host + 100000000000LL, "the parent stays outside: %lld", ns(&m));
	/* Enter the child's container: the parent's own reads shift too. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/time", pid);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && setns(fd, CLONE_NEWTIME) == 0, "setns: errno %d", errno);
	close(fd);
	long long before = sys_clock(CLOCK_MONOTONIC);
	clock_gettime(CLOCK_MONOTONIC, &m);
	long long after = sys_clock(CLOCK_MONOTONIC);
	CHECK(ns(&m) >= 1000000000000LL && before <= ns(&m) && ns(&m) <= after,
	      "after setns: %lld between %lld and %lld", ns(&m), before, after);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st), "child status %#x", st);
}

/* A child created into the TIME container and checked by its exit status. */
static void child_in_time_container_exits_zero(void) {
	long long host = sys_clock(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid == 0) {
		/* We run in the parent's container (entered above by setns), offsets +1000 s. */
		struct timespec m;
		clock_gettime(CLOCK_MONOTONIC, &m);
		_exit(ns(&m) >= 1000000000000LL ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (host %lld)", st, host);
}

/* execve enters time_for_children: the new image's vDSO reads that container's offsets. */
static void exec_enters_the_time_container(void) {
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWTIME) || write_offsets("monotonic 5000 0\n")) _exit(2);
		char *argv[] = {"/vdso", "exec-check", 0};
		execv("/vdso", argv);
		_exit(3);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec'd child status %#x", st);
}

/* The exec'd side: monotonic is past 5000 s (the parent's +1000 s container is gone from
 * view), the vDSO and the system call agree, and the read made no system call. */
static int exec_check(void) {
	long a = syscalls(), b = syscalls();
	struct timespec m;
	long long before = sys_clock(CLOCK_MONOTONIC);
	long c = syscalls();
	clock_gettime(CLOCK_MONOTONIC, &m);
	long d = syscalls();
	long long after = sys_clock(CLOCK_MONOTONIC);
	int ok = ns(&m) >= 5000000000000LL && before <= ns(&m) && ns(&m) <= after &&
		 d - c == b - a;
	if (!ok)
		printf("vdso: FAIL exec-check: %lld between %lld and %lld, %ld calls\n", ns(&m),
		       before, after, d - c - (b - a));
	return ok ? 0 : 1;
}

#define RUN(f)                                            \
	do {                                              \
		int before = failed;                      \
		failed = 0;                               \
		f();                                      \
		printf("vdso: %s %s\n", failed ? "FAIL" : "PASS", #f); \
		failed |= before;                         \
	} while (0)

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "exec-check") == 0) return exec_check();
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	RUN(auxv_points_at_an_elf_image);
	RUN(clock_reads_make_no_system_call);
	RUN(values_lie_between_system_call_readings);
	RUN(time_container_offsets_apply_without_a_system_call);
	RUN(child_in_time_container_exits_zero);
	RUN(exec_enters_the_time_container);
	printf("vdso: done\n");
	return failed;
}
