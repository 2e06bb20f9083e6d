/* Soak: mixed load in three plimits groups for SOAK_SECONDS (default 600) — fork/exit,
 * containers of every type made and ended, pipes, tmpfs writes, SysV and POSIX message traffic, memory
 * hogs killed by their group's memory.limit — then every live count (processes,
 * containers of each type, plimits groups, mounts, free memory, kernel heap) read again.
 * Runs as init (`--init /soak`), prints the operations done and the counts before and
 * after, and powers off. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/reboot.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIVE_TAG "soak"
#include "fuzz_live.h"

enum { FORK, CONTAINER, PIPE, TMPFS, SYSV_MSG, SYSV_SHM, SYSV_SEM, MQUEUE, HOG, NOPS };
static const char *op_names[NOPS] = {"fork", "container", "pipe", "tmpfs", "msg", "shm", "sem",
                                     "mqueue", "hog"};
#define GROUPS 3
/* Per group and operation: done, failed (shared with the workers). */
static long (*ops)[NOPS][2];
static long hog_killed[GROUPS];
static long *hogs_killed;

static uint64_t s = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
  close(fd);
  return r;
}

/* One operation of kind `k` in group `g`: 0 when it did what it should. */
static int op(int g, int k) {
  char b[65536];
  switch (k) {
  case FORK: {
    pid_t p = fork();
    if (p == 0) _exit(7);
    int st;
    return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : -1;
  }
  case CONTAINER: {
    /* a child in new UTS, IPC, mount, PID and time containers, which end with it */
    uint64_t ca[11] = {0x04000000 | 0x08000000 | 0x00020000 | 0x20000000 | 0x00000080, 0, 0, 0,
                       SIGCHLD};
    if (rnd() & 1) ca[0] |= 0x10000000 | 0x40000000 | 0x02000000; /* user, net, cgroup */
    long p = syscall(SYS_clone3, ca, 88);
    if (p == 0) {
      sethostname("soak", 4);
      _exit(getpid() == 1 ? 0 : 1);
    }
    int st;
    return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
  }
  case PIPE: {
    int pf[2];
    if (pipe(pf)) return -1;
    memset(b, g, 4096);
    int ok = write(pf[1], b, 4096) == 4096 && read(pf[0], b, sizeof b) == 4096 && b[4095] == g;
    close(pf[0]);
    close(pf[1]);
    return ok ? 0 : -1;
  }
  case TMPFS: {
    char path[64];
    snprintf(path, sizeof path, "/tmp/g%d-%d", g, (int)(rnd() % 8));
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0) return -1;
    memset(b, 'a' + g, sizeof b);
    int ok = write(fd, b, sizeof b) == (ssize_t)sizeof b && pread(fd, b, 10, 1000) == 10 && b[0] == 'a' + g;
    close(fd);
    if (rnd() & 1) unlink(path);
    return ok ? 0 : -1;
  }
  case SYSV_MSG: {
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct { long type; char text[256]; } m = {1 + g, "soak"};
    int ok = q >= 0 && msgsnd(q, &m, sizeof m.text, 0) == 0 &&
             msgrcv(q, &m, sizeof m.text, 1 + g, 0) == (ssize_t)sizeof m.text;
    if (q >= 0) msgctl(q, IPC_RMID, 0);
    return ok ? 0 : -1;
  }
  case SYSV_SHM: {
    int id = shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0600);
    char *at = id >= 0 ? shmat(id, 0, 0) : (char *)-1;
    int ok = at != (char *)-1;
    if (ok) { memset(at, g, 65536); ok = at[65535] == g; shmdt(at); }
    if (id >= 0) shmctl(id, IPC_RMID, 0);
    return ok ? 0 : -1;
  }
  case SYSV_SEM: {
    int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    struct sembuf up = {1, 2, 0}, down = {1, -2, 0};
    int ok = id >= 0 && semop(id, &up, 1) == 0 && semctl(id, 1, GETVAL) == 2 && semop(id, &down, 1) == 0;
    if (id >= 0) semctl(id, 0, IPC_RMID);
    return ok ? 0 : -1;
  }
  case MQUEUE: {
    char name[32];
    snprintf(name, sizeof name, "soak%d", g); /* the raw call: no leading / */
    struct { long flags, maxmsg, msgsize, curmsgs, pad[4]; } a = {0, 4, 128, 0, {0}};
    int q = syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, &a);
    unsigned prio = 0;
    int ok = q >= 0 && syscall(SYS_mq_timedsend, q, "soak", 4, 3, 0) == 0 &&
             syscall(SYS_mq_timedreceive, q, b, 128, &prio, 0) == 4 && prio == 3;
    if (!ok && !ops[g][MQUEUE][1]) printf("soak: mqueue: fd %d, errno %d\n", q, errno);
    if (q >= 0) close(q);
    syscall(SYS_mq_unlink, name);
    return ok ? 0 : -1;
  }
  default: { /* HOG: touch pages until the group's limit kills the process */
    pid_t p = fork();
    if (p == 0) {
      for (;;) {
        char *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) _exit(2);
        for (int i = 0; i < (1 << 20); i += 4096) m[i] = 1;
      }
    }
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p) return -1;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) hogs_killed[g]++;
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : -1;
  }
  }
}

static void worker(int g, double until) {
  s ^= (uint64_t)(g + 1) * 0x9E3779B97F4A7C15ull;
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/plimits/s%d", g);
  /* mkdir moves the caller into the new group */
  if (mkdir(dir, 0755) != 0) { printf("soak: mkdir %s: errno %d\n", dir, errno); _exit(1); }
  char path[96], lim[32];
  static const long limits[GROUPS] = {8 << 20, 16 << 20, 24 << 20};
  snprintf(path, sizeof path, "%s/memory.limit", dir);
  snprintf(lim, sizeof lim, "%ld", limits[g]);
  if (write_file(path, lim)) printf("soak: %s: errno %d\n", path, errno);
  snprintf(path, sizeof path, "%s/pids.max", dir);
  write_file(path, "64");
  while (now() < until) {
    /* a hog now and then: most of the time the other kinds */
    int k = rnd() % 64 == 0 ? HOG : (int)(rnd() % HOG);
    ops[g][k][op(g, k) == 0 ? 0 : 1]++;
  }
  _exit(0);
}

int main(void) {
  unsigned seconds = 600;
  char *e = getenv("SOAK_SECONDS");
  if (e) seconds = atoi(e);
  own_mounts();
  live_proc_open();
  mkdir("/tmp", 01777);
  mount("none", "/tmp", "tmpfs", 0, "size=4m");
  read_mounts(start_mounts, sizeof start_mounts);
  ops = mmap(0, sizeof(long[GROUPS][NOPS][2]) + sizeof hog_killed, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ops == MAP_FAILED) { printf("soak: no shared memory\n"); return 1; }
  hogs_killed = (long *)(ops + GROUPS);
  struct live before, after;
  measure(&before);
  fflush(stdout);
  double until = now() + seconds;
  pid_t w[GROUPS];
  for (int g = 0; g < GROUPS; g++) {
    w[g] = fork();
    if (w[g] == 0) worker(g, until);
  }
  int bad = 0;
  for (int g = 0; g < GROUPS; g++) {
    int st;
    if (waitpid(w[g], &st, 0) != w[g] || !WIFEXITED(st) || WEXITSTATUS(st)) bad++;
  }
  /* the groups are empty now: remove them, and what the workers left in /tmp */
  for (int g = 0; g < GROUPS; g++) {
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/plimits/s%d", g);
    if (rmdir(dir)) { printf("soak: rmdir %s: errno %d\n", dir, errno); bad++; }
  }
  remove_tree("/tmp", 0);
  measure(&after);
  long total = 0, failed = 0;
  printf("soak: %u s, 3 groups:", seconds);
  for (int k = 0; k < NOPS; k++) {
    long d = 0, f = 0;
    for (int g = 0; g < GROUPS; g++) { d += ops[g][k][0]; f += ops[g][k][1]; }
    printf(" %s=%ld", op_names[k], d);
    if (f) printf("(%ld failed)", f);
    total += d;
    failed += f;
  }
  printf("\nsoak: %ld operations, %ld failed, hogs killed by their limit %ld/%ld/%ld, workers %s\n",
         total, failed, hogs_killed[0], hogs_killed[1], hogs_killed[2], bad ? "FAILED" : "ok");
  show("before", &before);
  show("after", &after);
  fflush(stdout);
  reboot(RB_POWER_OFF);
  return 0;
}
