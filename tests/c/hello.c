/* hello: a static musl program run as init by tests/musl.rs (`--init /hello 'a b' c`).
 * Prints, one "hello: " line each: its argv, GREETING from the kernel command line, that
 * malloc works (small and large blocks), a forked child and its exit status, a counter
 * two pthreads raised under a mutex, and the Pid: line of /proc/self/status.
 * Exits 42 when every step worked (so the test also sees init's status reach the runner),
 * 1 at the first failure.
 * Build: musl-gcc -static -O2 -o hello hello.c */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
	printf("hello: FAIL %s\n", what);
	return 1;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add(void *unused) {
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return unused;
}

/* A small block (heap) and a large one (musl maps it): fill, check, free. */
static int check_malloc(void) {
	size_t sizes[] = {100, 1 << 20};
	for (int k = 0; k < 2; k++) {
		unsigned char *p = malloc(sizes[k]);
		if (!p) return 0;
		for (size_t i = 0; i < sizes[k]; i++) p[i] = (unsigned char)(i * 7 + k);
		for (size_t i = 0; i < sizes[k]; i++)
			if (p[i] != (unsigned char)(i * 7 + k)) return 0;
		free(p);
	}
	return 1;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0); /* line by line, so fork does not duplicate output */
	printf("hello: argc=%d\n", argc);
	for (int i = 0; i < argc; i++) printf("hello: argv[%d]=%s\n", i, argv[i]);
	const char *greeting = getenv("GREETING");
	printf("hello: GREETING=%s\n", greeting ? greeting : "(unset)");

	if (!check_malloc()) return fail("malloc");
	printf("hello: malloc ok\n");

	pid_t pid = fork();
	if (pid < 0) return fail("fork");
	if (pid == 0) {
		printf("hello: child ppid=%d\n", (int)getppid());
		_exit(7);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) return fail("waitpid");
	if (!WIFEXITED(status)) return fail("child did not exit normally");
	printf("hello: child exited %d\n", WEXITSTATUS(status));

	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, add, NULL)) return fail("pthread_create");
	for (int i = 0; i < 2; i++)
		if (pthread_join(t[i], NULL)) return fail("pthread_join");
	printf("hello: counter=%ld\n", counter);

	if (getpid() == 1) { /* as init, nobody has mounted /proc yet */
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) return fail("open /proc/self/status");
	char line[256];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		if (!strncmp(line, "Pid:", 4)) {
			line[strcspn(line, "\n")] = 0;
			printf("hello: %s\n", line);
			found = 1;
		}
	fclose(f);
	if (!found) return fail("no Pid: line in /proc/self/status");
	printf("hello: done\n");
	return 42;
}
