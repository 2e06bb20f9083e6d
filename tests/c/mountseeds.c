/* Fuzz seeds 21 and 37's regressions, run as init by tests/fuzz.rs (each a case of
 * cases.h). Seed 21: a mount stacked on "/" leaves "/" the caller's root, as on Linux;
 * "/.." steps onto the stack's top, which unmounts. Seed 37: a directory with a mount on
 * it, hidden by a mount stacked on its parent and removed through another mount
 * container, takes that mount with it (before, the mount stayed at a path that no longer
 * resolved once the hiding mount went, and no one could unmount it). Powers off. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include "cases.h"

static dev_t dev_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_dev : (dev_t)-1;
}

/* Lines of /proc/self/mounts, and whether one has mount point `at`. */
static int mounts(const char *at, int *has)
{
	static char t[16384], want[256];
	int fd = open("/proc/self/mounts", O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while (n < (long)sizeof t - 1 && (r = read(fd, t + n, sizeof t - 1 - n)) > 0)
		n += r;
	close(fd);
	t[n] = 0;
	snprintf(want, sizeof want, " %s ", at);
	*has = strstr(t, want) != 0;
	int lines = 0;
	for (long i = 0; i < n; i++)
		lines += t[i] == '\n';
	return lines;
}

static int seed_21_a_mount_over_the_root_comes_off(void)
{
	int has, start = mounts("/", &has);
	dev_t root = dev_of("/");
	CHECK(mount("none", "/", "tmpfs", 0, 0) == 0, "mount over /");
	dev_t over = dev_of("/..");
	CHECK(over != root && over != (dev_t)-1, "/.. is the tmpfs: %lx %lx", (long)over, (long)root);
	CHECK(dev_of("/") == root && dev_of("/proc/..") == over, "/ stays the root, .. crosses");
	CHECK(umount2("/..", 0) == 0, "umount /..");
	CHECK(dev_of("/..") == root, "the root's own again");
	CHECK(mounts("/", &has) == start, "mount count back");
	CHECK(mount("none", "/", "tmpfs", 0, 0) == 0, "mount over / again");
	CHECK(umount2("/..", MNT_DETACH) == 0, "detach /..");
	CHECK(mounts("/", &has) == start && dev_of("/..") == root, "back");
	CHECK(umount2("/..", 0) == -1 && errno == EBUSY, "the tree's root stays");
	return 0;
}

static int seed_37_a_hidden_directory_removed_elsewhere_takes_its_mount(void)
{
	int go[2], done[2], has;
	CHECK(pipe(go) == 0 && pipe(done) == 0, "pipes");
	mkdir("/tmp", 01777);
	mkdir("/tmp/a", 0755);
	CHECK(mkdir("/tmp/a/b", 0755) == 0, "mkdir /tmp/a/b");
	int start = mounts("/tmp/a/b", &has);
	pid_t p = fork();
	if (p == 0) {
		char c;
		/* a table of its own where /tmp/a/b is no mount point: rmdir succeeds */
		int ok = unshare(CLONE_NEWNS) == 0 && write(done[1], "u", 1) == 1 &&
			 read(go[0], &c, 1) == 1 && rmdir("/tmp/a/b") == 0;
		c = ok ? 0 : errno; /* the errno of what failed */
		write(done[1], &c, 1);
		_exit(0);
	}
	char c = 0;
	CHECK(read(done[0], &c, 1) == 1 && c == 'u', "child unshared");
	CHECK(mount("none", "/tmp/a/b", "sysfs", 0, 0) == 0, "sysfs on /tmp/a/b");
	CHECK(mount("none", "/tmp/a", "tmpfs", 0, 0) == 0, "tmpfs over /tmp/a hides b");
	CHECK(write(go[1], "g", 1) == 1 && read(done[0], &c, 1) == 1 && c == 0,
	      "rmdir in the child: errno %d", c);
	waitpid(p, 0, 0);
	CHECK(umount2("/tmp/a", MNT_DETACH) == 0, "the hiding tmpfs goes");
	CHECK(mounts("/tmp/a/b", &has) == start - 0 && !has, "the sysfs went with b (has %d)", has);
	struct stat st;
	CHECK(stat("/tmp/a/b", &st) == -1 && errno == ENOENT, "b is gone");
	CHECK(rmdir("/tmp/a") == 0, "rmdir /tmp/a");
	return 0;
}

int main(void)
{
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", 0, 0))
		printf("mountseeds: mount proc: errno %d\n", errno);
	/* 21 last: when it fails, its mount over / stays */
	run("seed_37_a_hidden_directory_removed_elsewhere_takes_its_mount",
	    seed_37_a_hidden_directory_removed_elsewhere_takes_its_mount);
	run("seed_21_a_mount_over_the_root_comes_off", seed_21_a_mount_over_the_root_comes_off);
	printf("mountseeds: %d failed\n", failures);
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return failures != 0;
}
