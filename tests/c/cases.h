/* The case runner of the in-guest C tests (inet.c, rtnl.c): a case is an `int f(void)`
 * returning 0 when it passed; CHECK returns -1 from it with the reason in `why`, and
 * run() prints "PASS name" or "FAIL name: why", which the tests in tests/ match line by line. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static char why[1024];

#define CHECK(c, ...)                                                    \
	do {                                                             \
		if (!(c)) {                                              \
			snprintf(why, sizeof why, "line %d: ", __LINE__); \
			snprintf(why + strlen(why), sizeof why - strlen(why), \
				 __VA_ARGS__);                           \
			return -1;                                       \
		}                                                        \
	} while (0)

static void run(const char *name, int (*f)(void))
{
	why[0] = 0;
	if (f() == 0) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: %s (errno %d %s)\n", name, why, errno, strerror(errno));
		failures++;
	}
	fflush(stdout);
}

/* A child in new containers `flags` running f; returns its exit status (0 = passed). */
static int in_child(int flags, int (*f)(void))
{
	pid_t p = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (p == 0) {
		int r = f();
		if (r)
			fprintf(stderr, "child: %s (errno %d)\n", why, errno);
		_exit(r ? 1 : 0);
	}
	if (p < 0)
		return -1;
	int st;
	if (waitpid(p, &st, 0) != p)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
