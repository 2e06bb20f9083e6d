/* Fills an unlimited tmpfs (size=0) until the machine's memory runs out: the write
 * that finds no page gets ENOSPC (earlier ones may be short), the kernel goes on, and
 * once the file is removed writing and forking work again. Exits 0 when all held. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 20];

int main(void) {
	mkdir("/t", 0755);
	if (mount("none", "/t", "tmpfs", 0, "size=0")) {
		printf("fill: mount: %s\n", strerror(errno));
		return 1;
	}
	int fd = open("/t/big", O_RDWR | O_CREAT, 0600);
	long total = 0;
	int err = 0;
	memset(buf, 1, sizeof buf);
	for (;;) {
		ssize_t n = write(fd, buf, sizeof buf);
		if (n < 0) {
			err = errno;
			break;
		}
		total += n;
	}
	printf("fill: %s after %ld MiB\n", strerror(err), total >> 20);
	close(fd);
	unlink("/t/big");
	int fd2 = open("/t/small", O_RDWR | O_CREAT, 0600);
	printf("fill: write after unlink %zd\n", write(fd2, "x", 1));
	pid_t p = fork();
	if (p == 0)
		_exit(3);
	int st = 0;
	waitpid(p, &st, 0);
	printf("fill: child exited %d\n", WEXITSTATUS(st));
	return err == ENOSPC && total > (16 << 20) ? 0 : 1;
}
