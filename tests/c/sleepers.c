/* Forks sleeping children of one parent until fork fails (Linux 6.1 in the same 512 MiB
 * guest: 3,550, then EAGAIN at threads-max). Prints the memory the first 1,000 took per
 * process (MemFree before and after, user and kernel memory together), how many lived and
 * why fork stopped; then kills and reaps them all. Run as init by tests/scale.rs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static long mem_free_kb(void) {
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;
	if (!f) return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemFree: %ld kB", &v) == 1) break;
	fclose(f);
	return v;
}

int main(void) {
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	long before = mem_free_kb(), after = -1;
	int n = 0, err = 0;
	for (;;) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0)
			for (;;) pause();
		if (++n == 1000) after = mem_free_kb();
	}
	if (after >= 0)
		printf("sleepers: %ld kB per process (first 1000)\n", (before - after) / 1000);
	printf("sleepers: %d live children, then fork: %s (MemFree %ld kB)\n", n, strerror(err),
	       mem_free_kb());
	kill(-1, SIGKILL);
	int r = 0;
	while (wait(NULL) > 0) r++;
	printf("sleepers: reaped %d\n", r);
	return r == n ? 0 : 1;
}
