/* Forks sleeping children of one parent until fork fails (Linux 6.1 in the same 512 MiB
 * guest: 3,550, then EAGAIN at threads-max). Prints the memory the first 1,000 took per
 * process (MemFree before and after, user and kernel memory together), how many lived and
 * why fork stopped; then kills and reaps them all. Run as init by tests/scale.rs.
 *
 * With arguments `sleepers N THREADS_MAX`: writes THREADS_MAX to
 * /proc/sys/kernel/threads-max first and stops at N children (fork failing earlier is
 * then a failure); after reaping it prints MemFree at the start, at the peak and at the
 * end, so a test can check that the kernel gave its memory back. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static long mem_field_kb(const char *name) {
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;
	size_t n = strlen(name);
	if (!f) return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long mem_free_kb(void) { return mem_field_kb("MemFree"); }

int main(int argc, char **argv) {
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	long want = argc > 1 ? atol(argv[1]) : -1;
	if (argc > 2) {
		int fd = open("/proc/sys/kernel/threads-max", O_WRONLY);
		if (fd < 0 || write(fd, argv[2], strlen(argv[2])) < 0) {
			printf("sleepers: threads-max: %s\n", strerror(errno));
			return 1;
		}
		close(fd);
	}
	long before = mem_free_kb(), after = -1;
	long slab_before = mem_field_kb("Slab");
	int n = 0, err = 0;
	while (want < 0 || n < want) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0)
			for (;;) pause();
		if (++n == 1000) after = mem_free_kb();
	}
	long peak = mem_free_kb(), slab_peak = mem_field_kb("Slab");
	if (after >= 0)
		printf("sleepers: %ld kB per process (first 1000)\n", (before - after) / 1000);
	printf("sleepers: %d live children, then fork: %s (MemFree %ld kB)\n", n,
	       err ? strerror(err) : "not tried", peak);
	kill(-1, SIGKILL);
	int r = 0;
	while (wait(NULL) > 0) r++;
	printf("sleepers: reaped %d\n", r);
	if (want >= 0)
		printf("sleepers: MemFree start=%ld peak=%ld end=%ld kB; Slab start=%ld peak=%ld "
		       "end=%ld kB\n",
		       before, peak, mem_free_kb(), slab_before, slab_peak, mem_field_kb("Slab"));
	return r == n && (want < 0 || n == want) ? 0 : 1;
}
