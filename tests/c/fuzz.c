/* Random system calls with random arguments (zero, -1, small numbers, pointers into a
 * buffer, kernel addresses, bit patterns) in throwaway children, 200 per child, for
 * FUZZ_SECONDS (seed FUZZ_SEED): the kernel must survive all of them. Calls that would end
 * or replace the fuzzer (exit, execve, kill, reboot, fork, ptrace-like and mount calls)
 * are left out; a child may die of what it does to itself. Prints one line and powers
 * off. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/time.h>

static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static const int skip[] = {56,57,58,59,60,62,169,200,231,234,297,322,424,435,61,247, 34, 7, 35, 230, 23, 270, 271, 202, 72, 128, 130, 101, 155, 161, 165, 166, 162, -1};
static int skipped(int n){ for(int i=0;skip[i]>=0;i++) if(skip[i]==n) return 1; return 0; }
static char *buf;
/* Per-syscall successes and failures of the random calls, in memory shared with the
 * children (MAP_SHARED before the first fork). */
#define NSYS 460
static long (*counts)[2];
/* Counts the result of call `n` (musl's syscall(): -1 and errno on failure). */
static int verbose; /* FUZZ_VERBOSE: the coverage pass prints its failures */
static long cnt(int n, long r) {
  counts[n][r == -1 ? 1 : 0]++;
  if (verbose && r == -1) printf("fuzz: cover: %d failed, errno %d\n", n, errno);
  return r;
}
#define S(n, ...) cnt(n, syscall(n, ##__VA_ARGS__))
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
static void prctl_nnp(void) { syscall(157, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0); }
static int pick(void);
static uint64_t arg(void) {
  switch (rnd() % 11) {
  case 9: return (uint64_t)pick();
  case 0: return 0;
  case 1: return (uint64_t)-1;
  case 2: return rnd();
  case 3: return rnd() & 0xfff;
  case 4: return (uint64_t)(buf + (rnd() & 0xfff));
  case 5: return (uint64_t)buf;
  case 6: return 1ull << (rnd() % 64);
  case 7: return 0xffff800000000000ull + (rnd() & 0xffffff);
  case 8: return rnd() % 64;
  default: return (uint64_t)-(int64_t)(rnd() % 4096);
  }
}
/* Calls with plausible arguments, to get past the first checks: container flags,
 * links of other processes, mounts with random flags, writes of random text to the
 * files that parse what they are given. */
static const char *texts[] = {"0 0 1\n", "0 1000 1\n1 1001 1\n", "monotonic 100 0\n",
  "boottime -5 999999999\n", "deny\n", "c * rwm", "a", "10", "0123", "-1", "4294967296",
  "monotonic 1", "1 2 3 4 5 6 7 8 9", "", "\n\n\n"};
static const char *files[] = {"/proc/self/uid_map", "/proc/self/gid_map", "/proc/self/setgroups",
  "/proc/self/timens_offsets", "/proc/self/time_offsets", "/proc/sys/user/max_uts_container",
  "/proc/plimits/f/pids.max", "/proc/plimits/f/devices.deny", "/proc/plimits/f/memory.limit",
  "/proc/plimits/f/sched.quota", "/proc/plimits/f/plimits.procs", "/proc/self/comm",
  /* cgroup2 when it is mounted on /tmp (group f is plimits' f) */
  "/tmp/f/cgroup.procs", "/tmp/f/cpu.max", "/tmp/f/memory.max", "/tmp/f/pids.max",
  "/tmp/cgroup.subtree_control", "/tmp/cgroup.procs"};
static const char *links[] = {"/proc/self/ns/uts", "/proc/self/ns/pid", "/proc/self/ns/mnt",
  "/proc/self/ns/ipc", "/proc/self/ns/time", "/proc/self/ns/user", "/proc/1/ns/pid",
  "/proc/self/ns/pid_for_children", "/proc/self/ns/time_for_children"};
#include "fuzz_gen.h"
#include "fuzz_cover.h"
#include "fuzz_live.h"
static const char *dirs[] = {"/tmp", "/tmp/a", "/tmp/a/b", "/proc", "/dev", "/"};
static void structured(void) {
  uint64_t flags = 0;
  for (int b = 0; b < 4; b++) flags |= 1ull << (rnd() % 32);
  switch (rnd() % 8) {
  case 0: syscall(SYS_unshare, flags & 0x7e0200f0); break;
  case 1: {
    int fd = open(links[rnd() % (sizeof links / sizeof *links)], O_RDONLY);
    syscall(SYS_setns, fd, (rnd() & 1) ? 0 : (flags & 0x7e020080));
    close(fd);
    break;
  }
  case 2: {
    int fd = open(files[rnd() % (sizeof files / sizeof *files)], O_WRONLY);
    const char *t = texts[rnd() % (sizeof texts / sizeof *texts)];
    write(fd, t, strlen(t));
    close(fd);
    break;
  }
  case 3: {
    const char *a = dirs[rnd() % (sizeof dirs / sizeof *dirs)];
    const char *b = dirs[rnd() % 5]; /* not "/": over the fuzzer's root, it would stay */
    static const char *types[] = {"tmpfs", "proc", "ramfs", "mqueue", "sysfs", "devtmpfs", "cgroup2", "bogus"};
    mount((rnd() & 1) ? a : "none", b, types[rnd() % (sizeof types / sizeof *types)], flags & 0x1ff02f, (rnd() & 1) ? "size=8k" : 0);
    break;
  }
  case 4: umount2(dirs[rnd() % (sizeof dirs / sizeof *dirs)], rnd() % 4); break;
  case 5: mkdir(dirs[rnd() % 3], 0755); mkdir("/proc/plimits/f", 0755); break;
  case 6: {
    uint64_t args[11] = {flags & 0x7e0200f0, 0, 0, 0, 17};
    long r = syscall(SYS_clone3, args, 88);
    if (r == 0) _exit(0);
    break;
  }
  default:
    /* In a mount container of its own: pivot_root moves the root of every process of
     * the container, the fuzzer's too. */
    syscall(SYS_unshare, 0x00020000);
    syscall(SYS_pivot_root, dirs[rnd() % 3], dirs[rnd() % 3]);
    break;
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--exit")) return 42; /* the coverage pass's execve */
  unsigned seconds = 60;
  char *e = getenv("FUZZ_SECONDS"); if (e) seconds = atoi(e);
  char *sd = getenv("FUZZ_SEED"); if (sd) s ^= strtoull(sd, 0, 10);
  own_mounts();
  live_proc_open();
  mkdir("/tmp", 01777);
  read_mounts(start_mounts, sizeof start_mounts);
  if (getenv("FUZZ_VERBOSE")) printf("fuzz: mounts at the start:\n%s", start_mounts);
  fflush(stdout);
  struct live start_live, end_live;
  /* The deadline is on CLOCK_MONOTONIC: children set CLOCK_REALTIME to random values
   * (settimeofday, clock_settime), which kept a time(0) deadline from ever coming. */
  /* Inside 1 MiB of PROT_NONE: a child's reads of random lengths into its buffer (mapped
   * next to it) stop at the guard instead of overwriting the counts. */
  char *guard = mmap(0, 1 << 20, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  counts = mmap(guard + (1 << 19), sizeof(long[NSYS][2]), PROT_READ|PROT_WRITE,
                MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED, -1, 0);
  if (guard == MAP_FAILED || counts == MAP_FAILED) { printf("fuzz: no shared memory for the counts\n"); return 1; }
  /* One call with valid arguments of every implemented system call, in a child. */
  pid_t cp = fork();
  if (cp == 0) {
    alarm(30);
    verbose = getenv("FUZZ_VERBOSE") != 0;
    int devnull = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) if (!verbose || fd == 0) dup2(devnull, fd);
    cover();
    if (verbose) printf("fuzz: cover: done\n");
    fflush(stdout);
    _exit(0);
  }
  waitpid(cp, 0, 0);
  /* The counts at the start, after the coverage pass has warmed the kernel's tables. */
  measure(&start_live);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long rounds = 0, calls = 0, normal = 0, sig[65] = {0};
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= (time_t)seconds) break;
    uint64_t seed = rnd();
    pid_t p = fork();
    if (p == 0) {
      /* The child's own stream (seed is the parent's state: xor-ing it in would give 0). */
      s = (seed * 0x9E3779B97F4A7C15ull) | 1;
      buf = mmap(0, 1<<16, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
      /* Quiet: the child's random writes do not reach the console. */
      int devnull = open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
      /* Small fd numbers name objects of many kinds. */
      static const char *paths[] = {"/proc/self/ns/pid", "/proc/self/uid_map", "/proc/self/status",
        "/proc/plimits/plimits.procs", "/dev/null", "/dev/ram0", "/proc", "/", "/proc/self/timens_offsets"};
      for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) open(paths[i], (rnd() & 1) ? 2 : 0);
      int pfd[2]; pipe(pfd);
      syscall(240, "fuzzq", 0102, 0600, 0);   /* mq_open O_RDWR|O_CREAT */
      syscall(283, 1, 0);                      /* timerfd_create */
      syscall(434, getpid(), 0);               /* pidfd_open */
      alarm(2);
      signal(SIGPIPE, SIG_IGN);
      /* Most children make their mounts in a mount container of their own. */
      if (rnd() % 2) syscall(SYS_unshare, 0x00020000);
      for (int i = 0; i < 200; i++) {
        if (rnd() % 4 == 0) {
          structured();
          continue;
        }
        if (rnd() % 3 == 0) {
          generated();
          continue;
        }
        int n = rnd() % 460;
        if (skipped(n)) continue;
        memset(buf, rnd() & 0xff, 4096);
        long r = syscall(n, arg(), arg(), arg(), arg(), arg(), arg());
        counts[n][r < 0 && r > -4096 ? 1 : 0]++;
      }
      _exit(0);
    }
    if (p < 0) { sleep(1); continue; }
    /* A child may block forever (it can mask or ignore its alarm): after 3 s it is killed. */
    int st = 0;
    struct timespec t0, t1, nap = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
      if (waitpid(p, &st, WNOHANG) == p) break;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      if (t1.tv_sec - t0.tv_sec >= 3) {
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        break;
      }
      nanosleep(&nap, 0);
    }
    rounds++; calls += 200;
    if (WIFEXITED(st)) normal++; else if (WIFSIGNALED(st)) sig[WTERMSIG(st) & 63]++;
    while (waitpid(-1, &st, WNOHANG) > 0) {}
  }
  printf("fuzz: %ld rounds, about %ld calls, kernel alive; %ld exited", rounds, calls, normal);
  for (int i = 0; i < 65; i++) if (sig[i]) printf(", %ld by signal %d", sig[i], i);
  printf("\n");
  /* Per system call: number:successes/failures, for every number called. */
  int ok_kinds = 0, called = 0;
  printf("fuzz: calls (nr:ok/failed)");
  for (int n = 0; n < NSYS; n++) {
    if (!counts[n][0] && !counts[n][1]) continue;
    called++;
    if (counts[n][0]) ok_kinds++;
    printf(" %d:%ld/%ld", n, counts[n][0], counts[n][1]);
  }
  printf("\nfuzz: %d system call numbers called, %d succeeded at least once\n", called, ok_kinds);
  clean_up();
  measure(&end_live);
  show("before", &start_live);
  show("after", &end_live);
  if (end_live.mounts != start_live.mounts) {
    char t[65536];
    read_mounts(t, sizeof t);
    print_lines("fuzz: mount at the start: ", start_mounts);
    print_lines("fuzz: mount at the end: ", t);
  }
  fflush(stdout);
  reboot(RB_POWER_OFF);
  return 0;
}
