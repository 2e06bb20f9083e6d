/* What the kernel holds, read by fuzz.c before its run and after its clean-up: live
 * processes, containers of each type, plimits groups, cgroup directories, free memory
 * and the kernel heap. The clean-up ends what the children left behind (processes,
 * mounts, groups, files, SysV and POSIX IPC objects), as an administrator would. */

#ifndef LIVE_TAG
#define LIVE_TAG "fuzz"
#endif
static const char *ctypes[] = {"pid", "uts", "mnt", "ipc", "time", "user", "net", "cgroup"};
#define NTYPES (sizeof ctypes / sizeof *ctypes)
struct live { long procs, containers[NTYPES], groups, cgroups, mounts, memfree_kb, slab_kb; };

static long number_after(const char *path, const char *key) {
  char t[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  long n = read(fd, t, sizeof t - 1);
  close(fd);
  if (n < 0) return -1;
  t[n] = 0;
  char *k = strstr(t, key);
  return k ? strtol(k + strlen(key), 0, 10) : -1;
}

/* Directories below `path` (not counting it). */
static long subdirs(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  long n = 0;
  struct dirent *e;
  char sub[512];
  while ((e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    n += 1 + subdirs(sub);
  }
  closedir(d);
  return n;
}

static void measure(struct live *l) {
  memset(l, 0, sizeof *l);
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9') l->procs++;
  if (d) closedir(d);
  for (unsigned t = 0; t < NTYPES; t++) {
    char p[64];
    snprintf(p, sizeof p, "/proc/sys/user/max_%s_container", ctypes[t]);
    l->containers[t] = number_after(p, "count: ");
  }
  l->groups = subdirs("/proc/plimits");
  l->cgroups = subdirs("/sys/fs/cgroup");
  char t[16384];
  int fd = open("/proc/self/mounts", O_RDONLY);
  long n = fd >= 0 ? read(fd, t, sizeof t - 1) : 0;
  if (fd >= 0) close(fd);
  for (long i = 0; i < n; i++) l->mounts += t[i] == '\n';
  l->memfree_kb = number_after("/proc/meminfo", "MemFree:");
  l->slab_kb = number_after("/proc/meminfo", "Slab:");
}

static void show(const char *when, const struct live *l) {
  printf(LIVE_TAG ": live %s: procs=%ld", when, l->procs);
  for (unsigned t = 0; t < NTYPES; t++) printf(" %s=%ld", ctypes[t], l->containers[t]);
  printf(" plimits=%ld cgroups=%ld mounts=%ld memfree_kb=%ld slab_kb=%ld\n", l->groups, l->cgroups,
         l->mounts, l->memfree_kb, l->slab_kb);
}

/* Removes what is below `path` (depth first), and `path` itself when `self`. */
static void remove_tree(const char *path, int self) {
  DIR *d = opendir(path);
  struct dirent *e;
  char sub[512];
  while (d && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    if (e->d_type == DT_DIR) remove_tree(sub, 1);
    else unlink(sub);
  }
  if (d) closedir(d);
  if (self) rmdir(path);
}

/* Groups are directories without files to remove: rmdir depth first. */
static void remove_groups(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  char sub[512];
  while (d && (e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    remove_groups(sub);
    rmdir(sub);
  }
  if (d) closedir(d);
}

static char start_mounts[16384];
static long read_mounts(char *t, long size) {
  int fd = open("/proc/self/mounts", O_RDONLY);
  if (fd < 0) return -1;
  long n = 0, r;
  while (n < size - 1 && (r = read(fd, t + n, size - 1 - n)) > 0) n += r;
  close(fd);
  t[n] = 0;
  return n;
}
/* The fuzzer's file systems (each mounted when its directory has none of its type). */
static void own_mounts(void) {
  static const char *m[][2] = {{"/proc", "proc"}, {"/dev", "devtmpfs"}, {"/sys", "sysfs"},
    {"/sys/fs/cgroup", "cgroup2"}, {"/dev/mqueue", "mqueue"}};
  char t[65536], want[64];
  mkdir("/proc", 0555);
  for (unsigned i = 0; i < sizeof m / sizeof *m; i++) {
    mkdir(m[i][0], 0755);
    snprintf(want, sizeof want, " %s %s ", m[i][0], m[i][1]);
    unsigned long flags = i == 0 ? MS_NOSUID | MS_NODEV | MS_NOEXEC : i == 1 ? MS_NOSUID : 0;
    if ((read_mounts(t, sizeof t) < 0 || !strstr(t, want)) && mount(m[i][1], m[i][0], m[i][1], flags, 0))
      printf("fuzz: mount %s on %s: errno %d\n", m[i][1], m[i][0], errno);
  }
}

/* Unmounts every mount but the root, reading the table through a proc of its own
 * (children may have mounted over /proc). The shortest path first: one detach takes a
 * whole tree (a child may have made 100,000 recursive binds), and a mount hidden under
 * another one's path comes within reach once that one has gone. A path that cannot be
 * unmounted now is skipped until another unmount succeeds; the failures are printed.
 * own_mounts then brings the fuzzer's back. */
/* A proc of the clean-up's own, detached from the tree at the start and reached through
 * a descriptor, so that neither a child's mounts over any path nor a tree full to
 * fs/mount-max (seed 9 at 30 s) keeps the clean-up from reading the table. */
static int live_proc = -1;
static void live_proc_open(void) {
  mkdir("/.live-proc", 0555);
  if (mount("proc", "/.live-proc", "proc", 0, 0) == 0) {
    live_proc = open("/.live-proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    umount2("/.live-proc", MNT_DETACH);
  }
  rmdir("/.live-proc");
  if (live_proc < 0) printf(LIVE_TAG ": clean-up: no proc of its own: errno %d\n", errno);
}

static void unmount_all(void) {
  if (live_proc < 0) return;
  static char failed[64][256];
  static int failed_errno[64];
  int nfailed = 0;
  for (int tries = 0; tries < 200000; tries++) {
    static char t[65536];
    char *victim = 0;
    int fd = openat(live_proc, "self/mounts", O_RDONLY);
    if (fd < 0) break;
    long n = 0, r;
    while (n < (long)sizeof t - 1 && (r = read(fd, t + n, sizeof t - 1 - n)) > 0) n += r;
    close(fd);
    t[n] = 0;
    int first = 1;
    for (char *s = t; *s;) {
      char *nl = strchr(s, '\n');
      if (nl) *nl = 0;
      char *dir = strchr(s, ' ');
      if (dir && !first) {
        dir++;
        dir[strcspn(dir, " ")] = 0;
        int skip = 0;
        for (int i = 0; i < nfailed && !skip; i++) skip = !strcmp(failed[i], dir);
        if (!skip && (!victim || strlen(dir) < strlen(victim))) victim = dir;
      }
      first = 0;
      if (!nl) break;
      s = nl + 1;
    }
    if (!victim) break;
    /* A mount stacked on "/" (seed 21) is not what "/" names (the caller's root stays
     * the one below, as on Linux): "/.." steps onto the top of the stack. */
    if (umount2(strcmp(victim, "/") ? victim : "/..", MNT_DETACH) == 0) {
      nfailed = 0;
    } else {
      mount(0, victim, 0, MS_REMOUNT, 0);
      if (nfailed == 64) break;
      failed_errno[nfailed] = errno;
      snprintf(failed[nfailed++], sizeof failed[0], "%s", victim);
    }
  }
  for (int i = 0; i < nfailed; i++) {
    struct stat st;
    char up[256];
    snprintf(up, sizeof up, "%s", failed[i]);
    int depth = 0;
    /* the deepest part of the mount point's path that still resolves */
    while (lstat(up, &st) != 0 && strrchr(up, '/') && depth++ < 32) *strrchr(up, '/') = 0;
    printf(LIVE_TAG ": clean-up: cannot unmount %s: errno %d (resolves up to \"%s\", mode %o)\n",
           failed[i], failed_errno[i], up, (unsigned)st.st_mode);
  }
}

/* Each line of `text` after `prefix` (so that the harness's filter keeps them). */
static void print_lines(const char *prefix, const char *text) {
  for (const char *s = text; *s;) {
    size_t n = strcspn(s, "\n");
    printf("%s%.*s\n", prefix, (int)n, s);
    s += n + (s[n] != 0);
  }
}

/* The processes other than the caller: /proc/<pid>/stat and its wait channel. */
static void print_left(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  char path[64], t[512];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == getpid()) continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY);
    long n = fd >= 0 ? read(fd, t, sizeof t - 1) : 0;
    if (fd >= 0) close(fd);
    t[n > 0 ? n : 0] = 0;
    printf(LIVE_TAG ": clean-up: left after SIGKILL: %s", t);
  }
  if (d) closedir(d);
}

static void clean_up(void) {
  unmount_all();
  own_mounts();
  printf(LIVE_TAG ": clean-up: unmounted\n");
  fflush(stdout);
  /* every other process (after the unmounts: /proc is the fuzzer's own again) */
  printf(LIVE_TAG ": clean-up: killing\n");
  fflush(stdout);
  kill(-1, SIGKILL);
  /* reaped as they die; after 10 s (a process SIGKILL does not end) what is left is
   * printed and the clean-up goes on (the counts will show it) */
  int reaped = 0;
  struct timespec t0, t1, nap = {0, 10000000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    pid_t p = waitpid(-1, 0, __WALL | WNOHANG);
    if (p > 0) { reaped++; continue; }
    if (p < 0 && errno == ECHILD) {
      print_left(); /* none, unless SIGKILL missed some that are not our children */
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (t1.tv_sec - t0.tv_sec >= 10) {
      print_left();
      break;
    }
    nanosleep(&nap, 0);
  }
  printf(LIVE_TAG ": clean-up: %d reaped\n", reaped);
  fflush(stdout);
  unmount_all(); /* again: the last ones may have mounted before they died */
  own_mounts();
  remove_groups("/sys/fs/cgroup");
  remove_groups("/proc/plimits");
  remove_tree("/tmp", 0);
  /* SysV objects by index (Linux's *_STAT_ANY takes an index, returns the id) */
  for (int i = 0; i < 1024; i++) {
    struct shmid_ds sd;
    struct msqid_ds md;
    int id;
    if ((id = shmctl(i, 15 /* SHM_STAT_ANY */, &sd)) >= 0) shmctl(id, IPC_RMID, 0);
    if ((id = msgctl(i, 13 /* MSG_STAT_ANY */, &md)) >= 0) msgctl(id, IPC_RMID, 0);
    if ((id = semctl(i, 0, 20 /* SEM_STAT_ANY */, &sd)) >= 0) semctl(id, 0, IPC_RMID);
  }
  DIR *d = opendir("/dev/mqueue");
  struct dirent *e;
  char name[300];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(name, sizeof name, "/%s", e->d_name);
    syscall(241, name);
  }
  if (d) closedir(d);
}
