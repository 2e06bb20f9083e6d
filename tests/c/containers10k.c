/* 10,000 live containers of each type at once, and what creating them costs as they pile
 * up. A process may hold 1,024 descriptors, so ten holder processes each create 1,000
 * containers and keep each alive by an open /proc/.../ns/ link. UTS, IPC, mount and network
 * containers come from unshare in the holder; PID and TIME ones from a child that unshares
 * (they are for its children), user ones from a child too (unshare would nest them). Prints
 * per type "containers10k: <type> live=<count> first1000=<ns/op> last1000=<ns/op>" (the
 * count from /proc/sys/user/max_<type>_container, the costs of the first and the last
 * holder), then "containers10k: <type> back=<count>" after the holders are gone.
 * Run as init by tests/scale.rs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

#define HOLDERS_MAX 10
#define PER 1000

struct kind {
	const char *name, *link;
	int flag, in_child;
};

static const struct kind kinds[] = {
	{"uts", "uts", CLONE_NEWUTS, 0},
	{"ipc", "ipc", CLONE_NEWIPC, 0},
	{"mnt", "mnt", CLONE_NEWNS, 0},
	{"pid", "pid_for_children", CLONE_NEWPID, 1},
	{"user", "user", CLONE_NEWUSER, 1},
	{"time", "time_for_children", CLONE_NEWTIME, 1},
	{"net", "net", CLONE_NEWNET, 0},
};

static long long now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int sysctl_path(const struct kind *k, char *buf, size_t n) {
	return snprintf(buf, n, "/proc/sys/user/max_%s_container", k->name);
}

static long count(const struct kind *k) {
	char path[96], buf[128];
	sysctl_path(k, path, sizeof path);
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return -1;
	buf[n] = 0;
	char *c = strstr(buf, "count: ");
	return c ? atol(c + 7) : -1;
}

/* One new container of kind k, held by the returned descriptor (-1 on failure). */
static int create(const struct kind *k) {
	char path[96];
	if (!k->in_child) {
		if (unshare(k->flag)) return -1;
		snprintf(path, sizeof path, "/proc/self/ns/%s", k->link);
		return open(path, O_RDONLY);
	}
	int p[2];
	if (pipe(p)) return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char ok = unshare(k->flag) == 0 ? 'y' : 'n';
		write(p[1], &ok, 1);
		pause();
		_exit(0);
	}
	char ok = 'n';
	read(p[0], &ok, 1);
	close(p[0]);
	close(p[1]);
	int fd = -1;
	if (ok == 'y') {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, k->link);
		fd = open(path, O_RDONLY);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return fd;
}

/* A holder: makes PER containers, reports its cost per container (ns) or -errno, waits. */
static void holder(const struct kind *k, int report) {
	long long t0 = now();
	for (int i = 0; i < PER; i++) {
		if (create(k) < 0) {
			long long e = -errno;
			write(report, &e, sizeof e);
			pause();
		}
	}
	long long per = (now() - t0) / PER;
	write(report, &per, sizeof per);
	pause();
}

/* Arguments (for profiling one type by hand): the types to run, comma-separated (default:
 * all), and the number of holders (default 10). */
int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *only = argc > 1 ? argv[1] : NULL;
	int nholders = argc > 2 ? atoi(argv[2]) : HOLDERS_MAX;
	if (nholders < 1 || nholders > HOLDERS_MAX) nholders = HOLDERS_MAX;
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	int failed = 0;
	for (unsigned t = 0; t < sizeof kinds / sizeof kinds[0]; t++) {
		const struct kind *k = &kinds[t];
		if (only) {
			const char *m = strstr(only, k->name);
			size_t n = strlen(k->name);
			if (!m || (m != only && m[-1] != ',') || (m[n] != 0 && m[n] != ',')) continue;
		}
		char path[96];
		sysctl_path(k, path, sizeof path);
		int fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "20000", 5) != 5) {
			printf("containers10k: %s FAIL setting the limit: %s\n", k->name, strerror(errno));
			failed = 1;
			continue;
		}
		close(fd);
		long before = count(k);
		pid_t holders[HOLDERS_MAX];
		long long cost[HOLDERS_MAX];
		int p[2];
		pipe(p);
		for (int h = 0; h < nholders; h++) {
			/* One at a time: holder h's cost is that of containers h*1000 .. h*1000+999. */
			if ((holders[h] = fork()) == 0) holder(k, p[1]);
			read(p[0], &cost[h], sizeof cost[h]);
		}
		long live = count(k);
		printf("containers10k: %s live=%ld first1000=%lld last1000=%lld\n", k->name,
		       live - before, cost[0], cost[nholders - 1]);
		printf("containers10k: %s per1000=", k->name);
		for (int h = 0; h < nholders; h++) printf("%s%lld", h ? "," : "", cost[h]);
		printf("\n");
		for (int h = 0; h < nholders; h++) kill(holders[h], SIGKILL);
		for (int h = 0; h < nholders; h++) waitpid(holders[h], NULL, 0);
		close(p[0]);
		close(p[1]);
		long back = count(k);
		for (int i = 0; i < 100 && back != before; i++) {
			usleep(10000);
			back = count(k);
		}
		printf("containers10k: %s back=%ld\n", k->name, back - before);
	}
	printf("containers10k: done\n");
	return failed;
}
