/* Argument generators of fuzz.c for the kernel's newer objects: sockets of every family
 * and type (bind, connect, sendmsg with SCM_RIGHTS), netlink route requests (well-formed
 * and mangled), seccomp programs (in grandchildren only), clone3 structures, container
 * links, pidfds, epoll/eventfd/timerfd/signalfd/memfd/pty fds and paths under /proc,
 * /sys/fs/cgroup and mounts. Every fd a generator makes joins the child's pool, from
 * which the random calls take fd arguments. Included by fuzz.c (rnd, buf, S). */

#define NPOOL 64
static int pool[NPOOL], npool;
static void keep(long fd) {
  if (fd >= 0) pool[npool++ % NPOOL] = (int)fd;
}
static int pick(void) { return npool ? pool[rnd() % (npool < NPOOL ? npool : NPOOL)] : (int)(rnd() % 16); }
#define ONE_OF(a) (a[rnd() % (sizeof a / sizeof *a)])

/* Socket addresses of each family, some valid and some not. */
static socklen_t addr(int family, void *out) {
  memset(out, 0, 128);
  switch (family) {
  case AF_UNIX: {
    struct sockaddr_un *u = out;
    u->sun_family = AF_UNIX;
    static const char *names[] = {"/tmp/s0", "/tmp/s1", "/tmp/a/s2", "/proc/s", "/s3"};
    if (rnd() % 3 == 0) { /* abstract */
      u->sun_path[0] = 0;
      snprintf(u->sun_path + 1, 20, "fz%d", (int)(rnd() % 4));
      return (socklen_t)(2 + 1 + strlen(u->sun_path + 1));
    }
    strcpy(u->sun_path, ONE_OF(names));
    return rnd() % 8 ? sizeof *u : (socklen_t)(rnd() % 130);
  }
  case AF_INET: {
    struct sockaddr_in *i = out;
    static const uint32_t ips[] = {0x7f000001, 0, 0xffffffff, 0x0a000002, 0xe0000001};
    i->sin_family = AF_INET;
    i->sin_port = htons((uint16_t)(rnd() % 4 ? 5000 + rnd() % 4 : rnd()));
    i->sin_addr.s_addr = htonl(ONE_OF(ips));
    return rnd() % 8 ? sizeof *i : (socklen_t)(rnd() % 32);
  }
  case AF_INET6: {
    struct sockaddr_in6 *i = out;
    i->sin6_family = AF_INET6;
    i->sin6_port = htons((uint16_t)(5000 + rnd() % 4));
    if (rnd() & 1) i->sin6_addr.s6_addr[15] = 1; /* ::1 */
    else if (rnd() & 1) { i->sin6_addr.s6_addr[10] = 0xff; i->sin6_addr.s6_addr[11] = 0xff;
      i->sin6_addr.s6_addr[12] = 127; i->sin6_addr.s6_addr[15] = 1; } /* ::ffff:127.0.0.1 */
    return rnd() % 8 ? sizeof *i : (socklen_t)(rnd() % 40);
  }
  default: { /* AF_NETLINK: family, pad, pid, groups */
    uint16_t *f = out;
    uint32_t *w = out;
    f[0] = AF_NETLINK;
    w[1] = rnd() % 3 ? 0 : (uint32_t)rnd() % 4;
    w[2] = rnd() % 2 ? 0 : (uint32_t)rnd();
    return rnd() % 8 ? 12 : (socklen_t)(rnd() % 16);
  }
  }
}

static void g_socket(void) {
  static const int kinds[][3] = {{AF_UNIX, SOCK_STREAM, 0}, {AF_UNIX, SOCK_DGRAM, 0},
    {AF_UNIX, SOCK_SEQPACKET, 0}, {AF_INET, SOCK_STREAM, 0}, {AF_INET, SOCK_DGRAM, 0},
    {AF_INET, SOCK_DGRAM, IPPROTO_ICMP}, {AF_INET, SOCK_RAW, IPPROTO_ICMP},
    {AF_INET6, SOCK_STREAM, 0}, {AF_INET6, SOCK_DGRAM, 0}, {AF_INET6, SOCK_DGRAM, 58},
    {AF_NETLINK, SOCK_RAW, 0}, {AF_NETLINK, SOCK_DGRAM, 0}, {AF_UNIX, 99, 0}, {77, 1, 0}};
  const int *k = kinds[rnd() % (sizeof kinds / sizeof *kinds)];
  int type = k[1] | (rnd() % 4 ? SOCK_NONBLOCK : 0) | (rnd() % 4 == 0 ? SOCK_CLOEXEC : 0);
  char a[128];
  if (k[0] == AF_UNIX && rnd() % 3 == 0) {
    int sv[2];
    if (S(53, AF_UNIX, type, 0, sv) == 0) { keep(sv[0]); keep(sv[1]); }
    return;
  }
  int s = S(41, k[0], type, k[2]);
  if (s < 0) return;
  keep(s);
  for (int n = 0; n < 4; n++) {
    socklen_t l = addr(k[0], a);
    switch (rnd() % 10) {
    case 0: S(49, s, a, l); break;
    case 1: S(42, s, a, l); break;
    case 2: S(50, s, rnd() % 8); break;
    case 3: keep(S(288, s, 0, 0, SOCK_NONBLOCK)); break;
    case 4: S(44, s, buf, rnd() % 200, MSG_DONTWAIT, (rnd() & 1) ? a : 0, l); break;
    case 5: S(45, s, buf, rnd() % 200, MSG_DONTWAIT | (rnd() & 1 ? MSG_PEEK : 0), 0, 0); break;
    case 6: {
      static const int opts[][2] = {{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_RCVBUF},
        {SOL_SOCKET, SO_SNDBUF}, {SOL_SOCKET, SO_PASSCRED}, {SOL_SOCKET, SO_LINGER},
        {SOL_SOCKET, SO_RCVTIMEO}, {IPPROTO_TCP, 1 /* NODELAY */}, {IPPROTO_IP, 2 /* TTL */},
        {IPPROTO_IPV6, 26 /* V6ONLY */}, {270 /* SOL_NETLINK */, 1 /* ADD_MEMBERSHIP */}};
      const int *o = opts[rnd() % (sizeof opts / sizeof *opts)];
      int v[4] = {(int)(rnd() % 3), (int)(rnd() % 70000), 0, 0};
      socklen_t vl = sizeof v;
      if (rnd() & 1) S(54, s, o[0], o[1], v, rnd() % 3 ? 4 : (socklen_t)(rnd() % 20));
      else S(55, s, o[0], o[1], v, &vl);
      break;
    }
    case 7: S(48, s, rnd() % 4); break;
    case 8: { socklen_t al = rnd() % 130; S(rnd() & 1 ? 51 : 52, s, a, &al); break; }
    default: {
      /* sendmsg with SCM_RIGHTS of pool fds (or junk), then a recvmsg */
      char cbuf[CMSG_SPACE(4 * sizeof(int))];
      struct iovec iov = {buf, rnd() % 64};
      struct msghdr mh = {.msg_name = (rnd() & 1) ? a : 0, .msg_namelen = l, .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof cbuf};
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      int nfd = 1 + rnd() % 4;
      c->cmsg_level = rnd() % 8 ? SOL_SOCKET : (int)rnd();
      c->cmsg_type = rnd() % 6 ? SCM_RIGHTS : SCM_CREDENTIALS;
      c->cmsg_len = rnd() % 8 ? CMSG_LEN(nfd * sizeof(int)) : rnd() % 64;
      for (int i = 0; i < nfd; i++) ((int *)CMSG_DATA(c))[i] = rnd() % 5 ? pick() : (int)rnd();
      mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
      S(46, s, &mh, MSG_DONTWAIT);
      int peer = pick();
      struct msghdr rm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
      if (S(47, peer, &rm, MSG_DONTWAIT) > 0 && rm.msg_controllen >= CMSG_LEN(sizeof(int))) {
        struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
        if (rc && rc->cmsg_type == SCM_RIGHTS)
          for (unsigned i = 0; i < (rc->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
            keep(((int *)CMSG_DATA(rc))[i]);
      }
    }
    }
  }
}

/* A route netlink request: RTM_{NEW,DEL,GET}{LINK,ADDR,ROUTE} with a family header and
 * attributes, sometimes mangled (lengths, bytes, truncation). */
static void g_netlink(void) {
  int s = S(41, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, 0);
  if (s < 0) return;
  char m[512];
  memset(m, 0, sizeof m);
  static const uint16_t types[] = {16, 17, 18, 20, 21, 22, 24, 25, 26, 3, 2, 100, 0xffff};
  uint32_t *h = (uint32_t *)m;
  uint16_t *h16 = (uint16_t *)m;
  h16[2] = ONE_OF(types);
  h16[3] = 1 | (rnd() & 1 ? 0x300 : 0) | (rnd() & 1 ? 4 : 0) | (rnd() % 4 == 0 ? 0x600 : 0);
  h[2] = (uint32_t)rnd();
  int len = 16;
  /* family header: ifinfomsg (16 bytes), ifaddrmsg (8) or rtmsg (12); family in byte 0 */
  static const uint8_t fams[] = {0, AF_INET, AF_INET6, AF_UNIX, 0xff};
  m[len] = (char)ONE_OF(fams);
  if (h16[2] >= 20 && h16[2] < 24) { m[len + 1] = (char)(rnd() % 33); m[len + 4] = 0;
    *(uint32_t *)(m + len + 4) = (uint32_t)(rnd() % 4); len += 8; }
  else if (h16[2] >= 24) { m[len + 1] = (char)(rnd() % 33); m[len + 4] = (char)(rnd() % 256); len += 12; }
  else { *(int32_t *)(m + len + 4) = (int32_t)(rnd() % 4); *(uint32_t *)(m + len + 8) = (uint32_t)(rnd() & 1);
    *(uint32_t *)(m + len + 12) = (uint32_t)(rnd() & 1); len += 16; }
  for (int n = rnd() % 4; n > 0 && len < 400; n--) { /* rtattrs: len, type, payload */
    uint16_t alen = 4 + (uint16_t)(rnd() % 4 == 0 ? rnd() % 40 : 4 + 4 * (rnd() % 4));
    *(uint16_t *)(m + len) = alen;
    *(uint16_t *)(m + len + 2) = (uint16_t)(rnd() % 20);
    for (int i = 4; i < alen && len + i < 500; i++) m[len + i] = (char)rnd();
    if (rnd() & 1) { m[len + 4] = 10; m[len + 5] = 0; m[len + 6] = 0; m[len + 7] = 2; }
    len += (alen + 3) & ~3;
  }
  if (len > 500) len = 500;
  h[0] = (uint32_t)len;
  if (rnd() % 4 == 0) { /* mangled */
    switch (rnd() % 4) {
    case 0: h[0] = (uint32_t)rnd() % 1024; break;
    case 1: m[rnd() % len] ^= (char)(1 << (rnd() % 8)); break;
    case 2: len = (int)(rnd() % len); break;
    default: h[0] = 0xffffffff;
    }
  }
  char a[128];
  socklen_t l = addr(AF_NETLINK, a);
  if (rnd() & 1) S(44, s, m, len, 0, rnd() % 4 ? a : 0, l);
  else {
    struct iovec iov[2] = {{m, (size_t)len / 2}, {m + len / 2, (size_t)(len - len / 2)}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    S(46, s, &mh, 0);
  }
  char r[2048];
  for (int i = 0; i < 4; i++) if (S(45, s, r, rnd() % 3 ? sizeof r : rnd() % 32, MSG_DONTWAIT, 0, 0) <= 0) break;
  if (rnd() & 1) keep(s); else S(3, s);
}

/* A seccomp program, valid-ish (check the arch, allow, errno or kill a few numbers) or
 * random instructions, installed in a grandchild that then makes a few calls; the
 * child waits for it (at most 300 ms, then SIGKILL). */
static void g_seccomp(void) {
  pid_t p = fork();
  if (p == 0) {
    alarm(1);
    struct sock_filter f[32];
    int n = 0;
    if (rnd() % 3) {
      f[n++] = (struct sock_filter){0x20, 0, 0, 4};                       /* ld arch */
      f[n++] = (struct sock_filter){0x15, 1, 0, 0xc000003e};              /* jeq x86_64 */
      f[n++] = (struct sock_filter){0x06, 0, 0, 0};                       /* kill */
      f[n++] = (struct sock_filter){0x20, 0, 0, 0};                       /* ld nr */
      for (int i = rnd() % 6; i > 0; i--) {
        static const uint32_t rets[] = {0x00050000 | 1, 0x00050000 | 13, 0x80000000, 0x00030000,
          0x7ff00000, 0x7ffc0000, 0x00000000, 0x7fff0000};
        f[n++] = (struct sock_filter){0x15, 0, 1, (uint32_t)(rnd() % 335)};
        f[n++] = (struct sock_filter){0x06, 0, 0, ONE_OF(rets)};
      }
      f[n++] = (struct sock_filter){0x06, 0, 0, 0x7fff0000};
      if (rnd() % 4 == 0) f[rnd() % n].k ^= (uint32_t)rnd(); /* a bit wrong */
    } else {
      static const uint16_t codes[] = {0x20, 0x28, 0x30, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
        0x07, 0x14, 0x15, 0x16, 0x25, 0x35, 0x45, 0x54, 0x61, 0x74, 0x84, 0x87, 0x16, 0x0e};
      n = 1 + rnd() % 31;
      for (int i = 0; i < n; i++)
        f[i] = (struct sock_filter){ONE_OF(codes), (uint8_t)(rnd() % 4), (uint8_t)(rnd() % 4),
          (uint32_t)(rnd() % 3 ? rnd() % 64 : rnd())};
      if (rnd() & 1) f[n - 1] = (struct sock_filter){0x06, 0, 0, (uint32_t)rnd() & 0xffff0000u};
    }
    struct sock_fprog prog = {(unsigned short)(rnd() % 16 ? n : rnd() % 5000), f};
    if (rnd() % 4) prctl_nnp();
    if (rnd() & 1) S(317, 1, rnd() % 4 ? 0 : (unsigned)(rnd() % 16), rnd() % 16 ? (void *)&prog : (void *)arg());
    else S(157, 22 /* PR_SET_SECCOMP */, 2, &prog);
    for (int i = 0; i < 8; i++) {
      static const int calls[] = {39, 102, 63, 0, 1, 3, 318, 96, 228, 24};
      int nr = ONE_OF(calls);
      long r = syscall(nr, arg(), arg(), arg());
      counts[nr][r == -1 ? 1 : 0]++;
    }
    syscall(60, 0);
    _exit(0);
  }
  if (p < 0) return;
  int st;
  for (int i = 0; i < 300; i++) {
    if (waitpid(p, &st, WNOHANG) == p) return;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, 0);
  }
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
}

/* clone3 with struct sizes below, at and past the versions, set_tid arrays and cgroup
 * fds; the new process exits at once. */
static void g_clone3(void) {
  uint64_t ca[16] = {0};
  static const uint64_t fl[] = {0x1000 /* PIDFD */, 0x20000000 /* NEWPID */, 0x04000000 /* NEWUTS */,
    0x08000000 /* NEWIPC */, 0x00020000 /* NEWNS */, 0x00000080 /* NEWTIME */, 0x10000000 /* NEWUSER */,
    0x40000000 /* NEWNET */, 0x200000000ull /* INTO_CGROUP */, 0x100 /* VM */, 0x400 /* FILES */,
    0x10000 /* THREAD */, 0x800 /* SIGHAND */, 0x200 /* FS */, 0x4000 /* VFORK */};
  for (int i = rnd() % 4; i > 0; i--) ca[0] |= ONE_OF(fl);
  ca[0] &= ~(uint64_t)(0x100 | 0x10000 | 0x800 | 0x4000) | (rnd() % 16 == 0 ? ~0ull : 0);
  int pidfd = -1;
  ca[1] = (uint64_t)&pidfd;
  ca[4] = rnd() % 4 ? SIGCHLD : rnd() % 70;
  pid_t tids[4] = {(pid_t)(rnd() % 3 ? 1 + rnd() % 400 : rnd()), (pid_t)(1 + rnd() % 50), 1, 2};
  if (rnd() & 1) { ca[8] = (uint64_t)tids; ca[9] = rnd() % 6; }
  static const char *cg[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/f", "/sys/fs/cgroup/g/h", "/proc"};
  int cfd = -1;
  if (ca[0] & 0x200000000ull) { cfd = open(ONE_OF(cg), O_RDONLY | O_DIRECTORY); ca[10] = (uint64_t)cfd; }
  static const size_t sizes[] = {64, 80, 88, 96, 128, 0, 63, 4096, 8192};
  size_t size = ONE_OF(sizes);
  if (size > 88 && rnd() & 1) ca[12] = 1; /* non-zero past the known struct: E2BIG */
  char big[8192];
  if (size > sizeof ca) { memset(big, 0, sizeof big); memcpy(big, ca, sizeof ca); }
  long p = S(435, size > sizeof ca ? (void *)big : (void *)ca, size);
  if (p == 0) syscall(60, 0);
  if (p > 0) { int st; waitpid(p, &st, __WALL); }
  keep(pidfd);
  if (cfd >= 0) close(cfd);
}

/* Container links: open /proc/<pid>/ns/<t>, ask nsfs ioctls, setns with flags. */
static void g_nsfd(void) {
  static const char *t[] = {"uts", "pid", "mnt", "ipc", "time", "user", "net", "cgroup",
    "pid_for_children", "time_for_children"};
  char path[64];
  int pid = rnd() % 4 == 0 ? 1 : (rnd() % 4 == 0 ? getppid() : getpid());
  snprintf(path, sizeof path, "/proc/%d/%s/%s", pid, rnd() % 5 ? "ns" : "container", ONE_OF(t));
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  static const unsigned long io[] = {0xb701, 0xb702, 0xb703, 0xb704, 0x5401, 0};
  S(16, fd, ONE_OF(io), buf);
  if (rnd() & 1) S(308, fd, rnd() % 3 ? 0 : (int)(rnd() & 0x7e020080));
  keep(fd);
}

/* pidfds of self, parent, init and a child: signal 0, getfd, waitid(P_PIDFD). */
static void g_pidfd(void) {
  pid_t c = fork();
  if (c == 0) { struct timespec t = {0, 2000000}; nanosleep(&t, 0); syscall(60, 0); }
  pid_t who[] = {getpid(), getppid(), 1, c};
  int fd = S(434, ONE_OF(who), rnd() % 4 ? 0 : (unsigned)(O_NONBLOCK | (rnd() & 1)));
  switch (rnd() % 4) {
  case 0: S(424, fd, rnd() % 3 ? 0 : (int)(rnd() % 65), 0, 0); break;
  case 1: keep(S(438, fd, pick(), 0)); break;
  case 2: { siginfo_t si; S(247, 3 /* P_PIDFD */, fd, &si, WEXITED | WNOHANG, 0); break; }
  default: S(424, fd, SIGCONT, 0, 0);
  }
  if (c > 0) waitpid(c, 0, 0);
  keep(fd);
}

/* epoll, eventfd, timerfd, signalfd, memfd and pty fds, used as their man pages say. */
static void g_fds(void) {
  switch (rnd() % 7) {
  case 0: {
    int ep = S(291, rnd() & 1 ? EPOLL_CLOEXEC : 0);
    for (int i = rnd() % 4; i >= 0; i--) {
      struct epoll_event ev = {(uint32_t)(rnd() % 3 ? EPOLLIN | EPOLLOUT : rnd()), {.u64 = rnd()}};
      S(233, ep, 1 + rnd() % 3, rnd() % 4 ? pick() : ep, &ev);
    }
    struct epoll_event out[4];
    S(232, ep, out, 4, 0);
    keep(ep);
    break;
  }
  case 1: {
    int e = S(290, (unsigned)(rnd() % 4), (int)(rnd() & (EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC)));
    uint64_t v = rnd() % 3 ? 1 : rnd();
    if (rnd() & 1) S(1, e, &v, 8);
    if (rnd() & 1 && (fcntl(e, F_GETFL) & O_NONBLOCK)) S(0, e, &v, 8);
    keep(e);
    break;
  }
  case 2: {
    static const int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, 8, 9, 3, 99};
    int t = S(283, ONE_OF(clocks), (int)(rnd() & (TFD_NONBLOCK | TFD_CLOEXEC)));
    struct itimerspec its = {{0, (long)(rnd() % 1000000)}, {0, (long)(rnd() % 3 ? rnd() % 1000000 : rnd())}};
    S(286, t, (int)(rnd() % 4), &its, 0);
    S(287, t, &its);
    keep(t);
    break;
  }
  case 3: {
    uint64_t m = rnd();
    keep(S(289, rnd() % 4 ? -1 : pick(), &m, rnd() % 4 ? 8 : (size_t)(rnd() % 16), (int)(rnd() & (SFD_NONBLOCK | SFD_CLOEXEC))));
    break;
  }
  case 4: {
    int mf = S(319, rnd() % 8 ? "fz" : (char *)buf, (unsigned)(rnd() & 7));
    S(77, mf, (long)(rnd() % 65536));
    if (rnd() & 1) S(72, mf, 1033, (int)(rnd() % 32));
    if (rnd() & 1) { void *m = (void *)S(9, 0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mf, 0);
      if (m != MAP_FAILED) S(11, m, 8192); }
    keep(mf);
    break;
  }
  case 5: {
    int pt = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (pt < 0) break;
    unsigned n = 0;
    int unlock = 0;
    S(16, pt, 0x80045430 /* TIOCGPTN */, &n);
    S(16, pt, 0x40045431 /* TIOCSPTLCK */, &unlock);
    char path[32];
    snprintf(path, sizeof path, "/dev/pts/%u", n);
    int sl = open(path, O_RDWR | O_NOCTTY);
    static const unsigned long io[] = {0x5401, 0x5402, 0x540f, 0x5410, 0x5413, 0x5414, 0x541b, 0x540e, 0x5422, 0x5429};
    S(16, rnd() & 1 ? pt : sl, ONE_OF(io), buf);
    S(1, pt, "ab\n", 3);
    keep(pt);
    keep(sl);
    break;
  }
  default: {
    int p[2];
    if (S(293, p, (int)(rnd() & (O_NONBLOCK | O_CLOEXEC))) == 0) { keep(p[0]); keep(p[1]); }
  }
  }
}

/* A path under /proc, /sys/fs/cgroup, /dev, /tmp or a mount point, and something done
 * to it. */
static void g_path(void) {
  static const char *paths[] = {"/proc/self/status", "/proc/self/maps", "/proc/self/mountinfo",
    "/proc/self/cgroup", "/proc/self/limits", "/proc/1/stat", "/proc/self/fd", "/proc/self/ns",
    "/proc/self/container", "/proc/meminfo", "/proc/mounts", "/proc/sys/kernel/threads-max",
    "/proc/sys/fs/mount-max", "/proc/sys/fs/nr_open", "/proc/sys/user/max_pid_container",
    "/proc/plimits", "/proc/plimits/memory.stat", "/proc/net/unix", "/proc/self/exe",
    "/proc/self/root", "/proc/self/cwd", "/sys/fs/cgroup", "/sys/fs/cgroup/cgroup.procs",
    "/sys/fs/cgroup/cgroup.subtree_control", "/sys/fs/cgroup/f", "/sys/fs/cgroup/f/cgroup.procs",
    "/sys/fs/cgroup/f/pids.max", "/sys/fs/cgroup/f/memory.max", "/sys/fs/cgroup/g/h",
    "/dev/null", "/dev/zero", "/dev/ptmx", "/dev/pts", "/dev/ram1", "/dev/mqueue", "/tmp",
    "/tmp/a", "/tmp/a/b", "/tmp/x", "/", "/sys"};
  const char *p = ONE_OF(paths), *q = ONE_OF(paths);
  switch (rnd() % 15) {
  case 0: { int fd = S(257, AT_FDCWD, p, (int)(rnd() % 3 | (rnd() & O_DIRECTORY)), 0644);
    S(0, fd, buf, rnd() % 4096); S(217, fd, buf, 4096); S(3, fd); break; }
  case 1: S(332, AT_FDCWD, p, (int)(rnd() & 0x1900), (unsigned)rnd() & 0xfff, buf); break;
  case 2: S(83, p, 0755); break;
  case 3: S(84, p); break;
  case 4: S(89, p, buf, rnd() % 300); break;
  case 5: { int fd = open(p, O_WRONLY); static const char *t[] = {"1", "max", "+pids", "-memory",
      "0", "100000 100000", "10000000", "\n", "frozen"};
    const char *s = ONE_OF(t); S(1, fd, s, strlen(s)); close(fd); break; }
  case 6: S(137, p, buf); break;
  case 7: S(165, rnd() & 1 ? "none" : q, strcmp(p, "/") ? p : "/tmp/a", /* not over the fuzzer's root */ rnd() & 1 ? "cgroup2" : "tmpfs", (unsigned long)(rnd() & 0x5000), 0); break;
  case 8: S(166, p, (int)(rnd() % 4)); break;
  case 9: S(82, p, q); break;
  case 10: S(86, p, q); break;
  case 11: { static const char *names[] = {"user.a", "trusted.b", "security.c", "user.", "x"};
    S(188 + rnd() % 12 / 3 * 3, p, ONE_OF(names), buf, rnd() % 300, (int)(rnd() % 4)); break; }
  case 12: { int in = S(294, (int)(rnd() & 0x80800)); S(254, in, p, (unsigned)rnd());
    S(0, in, buf, rnd() % 600); S(3, in); break; }
  case 13: { unsigned long long how[4] = {rnd() % 4 | (rnd() & 0x10000), rnd() & 0777,
      rnd() % 64, rnd() & 1}; long o2 = S(437, AT_FDCWD, p, how, 24 + 8 * (rnd() % 2)); S(3, o2); break; }
  default: S(87, p);
  }
}

static void generated(void) {
  switch (rnd() % 8) {
  case 0: case 1: g_socket(); break;
  case 2: g_netlink(); break;
  case 3: g_seccomp(); break;
  case 4: g_clone3(); break;
  case 5: g_nsfd(); g_pidfd(); break;
  case 6: g_fds(); break;
  default: g_path();
  }
}
