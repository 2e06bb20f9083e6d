/* 4,000 live processes across 40 PID containers (100 each), then teardown.
 * Run as init by tests/scale.rs. Prints "many: ok <live> <after>" on success. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONTAINERS 40
#define PER 100

static int count_procs(void) {
	DIR *d = opendir("/proc");
	if (!d) return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9') n++;
	closedir(d);
	return n;
}

static void set_limit(const char *t, const char *v) {
	char p[64];
	snprintf(p, sizeof p, "/proc/sys/user/max_%s_container", t);
	int fd = open(p, O_WRONLY);
	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v)) { printf("many: FAIL writing %s\n", p); exit(1); }
	close(fd);
}

int main(void) {
	mount("proc", "/proc", "proc", 0, 0);
	set_limit("pid", "100");
	int before = count_procs();
	pid_t inits[CONTAINERS];
	int ready[2];
	if (pipe(ready)) return 1;
	for (int i = 0; i < CONTAINERS; i++) {
		pid_t p = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
		if (p < 0) { printf("many: FAIL clone %d: %s\n", i, strerror(errno)); return 1; }
		if (p == 0) {
			for (int j = 1; j < PER; j++) {
				pid_t c = fork();
				if (c < 0) { printf("many: FAIL fork in container %d: %s\n", i, strerror(errno)); _exit(1); }
				if (c == 0) { for (;;) pause(); }
			}
			char ok = 1;
			if (write(ready[1], &ok, 1) != 1) _exit(1);
			for (;;) pause();
		}
		inits[i] = p;
	}
	for (int i = 0; i < CONTAINERS; i++) {
		char c;
		if (read(ready[0], &c, 1) != 1) { printf("many: FAIL readiness\n"); return 1; }
	}
	int live = count_procs();
	if (live < before + CONTAINERS * PER) { printf("many: FAIL only %d processes (before %d)\n", live, before); return 1; }
	for (int i = 0; i < CONTAINERS; i++) kill(inits[i], SIGKILL);
	for (int i = 0; i < CONTAINERS; i++) {
		int st;
		if (waitpid(inits[i], &st, 0) != inits[i] || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			printf("many: FAIL reaping container init %d\n", i);
			return 1;
		}
	}
	int after = count_procs();
	if (after != before) { printf("many: FAIL %d processes after teardown, %d before\n", after, before); return 1; }
	printf("many: ok %d %d\n", live, after);
	set_limit("pid", "10");
	return 0;
}
