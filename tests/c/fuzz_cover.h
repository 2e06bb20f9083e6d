/* The coverage pass of fuzz.c: one call with valid arguments of every system call the
 * kernel implements, run once per fuzzer run in a throwaway child (its own mount, IPC,
 * UTS and time containers, so nothing it makes outlives it). Each result is counted in
 * the shared table like a random call's, so the table at the end shows a success for
 * every implemented number. Calls that do not return when they succeed (exit, execve,
 * rt_sigreturn) and calls that can only end in EINTR (pause, rt_sigsuspend) are counted
 * as successes when what they do is seen: an exit status, the program's run, the
 * handler's return. Included by fuzz.c, which defines counts[] and cnt(). */

static volatile int cv_hits;
static void cv_handler(int sig) { (void)sig; cv_hits++; }

/* Runs `fn` in a child and returns its exit status (or 128 + signal). */
static int cv_child(void (*fn)(void)) {
  pid_t p = fork();
  if (p == 0) { alarm(5); fn(); _exit(0); }
  int st = 0;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void cv_pivot(void) {
  S(272, 0x00020000); /* pivot_root moves the root of every process of the mount container */
  mkdir("/tmp/cvr", 0755);
  if (S(165, "none", "/tmp/cvr", "tmpfs", 0, 0) < 0) _exit(1);
  mkdir("/tmp/cvr/old", 0755);
  if (S(155, "/tmp/cvr", "/tmp/cvr/old") < 0) _exit(2);
  _exit(0);
}
static void cv_setsid(void) {
  S(112);
  _exit(0);
}
static void cv_setpgid(void) {
  S(109, 0, 0);
  _exit(0);
}
static void cv_exit(void) { S(60, 7); }
static void cv_exit_group(void) { S(231, 8); }
static void cv_exec(void) {
  char *argv[] = {"/fuzz", "--exit", 0}, *envp[] = {0};
  S(59, "/fuzz", argv, envp);
  _exit(99);
}
static void cv_execat(void) {
  char *argv[] = {"/fuzz", "--exit", 0}, *envp[] = {0};
  S(322, AT_FDCWD, "/fuzz", argv, envp, 0);
  _exit(99);
}
static void cv_seccomp(void) {
  /* A filter that allows everything, installed for real. */
  struct sock_filter allow[] = {{0x06, 0, 0, 0x7fff0000u}};
  struct sock_fprog prog = {1, allow};
  prctl_nnp();
  if (S(317, 1 /* SET_MODE_FILTER */, 0, &prog) < 0) _exit(1);
  _exit(0);
}

static void cover(void) {
  char b[4096];
  long r;
  int st;
  memset(b, 'x', sizeof b);
  S(272, 0x00020000 | 0x08000000 | 0x04000000 | 0x00000080); /* NEWNS|NEWIPC|NEWUTS|NEWTIME */
  mkdir("/tmp", 01777);
  S(165, "none", "/tmp", "tmpfs", 0, "size=4m");
  S(80, "/tmp");
  S(79, b, sizeof b);
  S(95, 022);
  /* files */
  int fd = S(2, "/tmp/f", O_CREAT | O_RDWR, 0644);
  S(1, fd, b, 100);
  S(18, fd, b, 100, 200);
  S(17, fd, b, 50, 0);
  S(8, fd, 0, SEEK_SET);
  S(0, fd, b, 10);
  struct iovec iov[2] = {{b, 10}, {b + 10, 10}};
  S(19, fd, iov, 2);
  S(20, fd, iov, 2);
  S(295, fd, iov, 2, 0);
  S(296, fd, iov, 2, 0);
  S(327, fd, iov, 2, 0, 0, 0);
  S(328, fd, iov, 2, 0, 0, 0);
  S(5, fd, b);
  S(4, "/tmp/f", b);
  S(6, "/tmp/f", b);
  S(262, AT_FDCWD, "f", b, 0);
  S(332, AT_FDCWD, "f", 0, 0x7ff, b);
  S(21, "/tmp/f", R_OK);
  S(269, AT_FDCWD, "f", R_OK, 0);
  S(439, AT_FDCWD, "f", R_OK, 0);
  S(77, fd, 4096);
  S(76, "/tmp/f", 8192);
  S(285, fd, 0, 0, 4096);
  S(221, fd, 0, 0, 0);
  S(187, fd, 0, 4096);
  S(74, fd);
  S(75, fd);
  S(162);
  S(306, fd);
  S(73, fd, LOCK_EX);
  S(73, fd, LOCK_UN);
  S(72, fd, F_GETFL);
  char *m = (char *)S(9, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m != MAP_FAILED) {
    m[0] = 'y';
    S(26, m, 4096, MS_SYNC);
    S(28, m, 4096, MADV_WILLNEED);
    S(10, m, 4096, PROT_READ);
    S(11, m, 4096);
  }
  /* mremap: grow the area in place or moved */
  char *mr = (char *)S(9, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mr != MAP_FAILED) {
    mr = (char *)S(25, mr, 4096, 8192, 1 /* MREMAP_MAYMOVE */);
    if (mr != MAP_FAILED) S(11, mr, 8192);
  }
  S(139, 3); /* sysfs: the number of file system types */
  /* extended attributes on tmpfs: set, get, list, remove, each form */
  S(188, "/tmp/f", "user.a", "1", 1, 0);
  S(189, "/tmp/f", "user.b", "2", 1, 0);
  S(190, fd, "user.c", "3", 1, 0);
  S(191, "/tmp/f", "user.a", b, 16);
  S(192, "/tmp/f", "user.b", b, 16);
  S(193, fd, "user.c", b, 16);
  S(194, "/tmp/f", b, sizeof b);
  S(195, "/tmp/f", b, sizeof b);
  S(196, fd, b, sizeof b);
  S(197, "/tmp/f", "user.a");
  S(198, "/tmp/f", "user.b");
  S(199, fd, "user.c");
  /* inotify: a watch added and removed */
  int in = S(294, 0);
  int wd = S(254, in, "/tmp", 0x100 /* IN_CREATE */);
  S(255, in, wd);
  S(3, in);
  /* openat2 with an open_how {flags, mode, resolve} */
  unsigned long long how[3] = {O_RDONLY, 0, 0};
  long o2 = S(437, AT_FDCWD, "/tmp/f", how, sizeof how);
  S(3, o2);
  /* the new mount API: a tmpfs by fsopen/fsconfig/fsmount, attached by move_mount, its
   * flags changed by mount_setattr, reconfigured through fspick; a clone by open_tree */
  mkdir("/tmp/nm", 0755);
  mkdir("/tmp/nm2", 0755);
  int fsfd = S(430, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
  S(431, fsfd, 1 /* FSCONFIG_SET_STRING */, "size", "1m", 0);
  S(431, fsfd, 6 /* FSCONFIG_CMD_CREATE */, 0, 0, 0);
  int nmfd = S(432, fsfd, 1 /* FSMOUNT_CLOEXEC */, 0);
  S(429, nmfd, "", AT_FDCWD, "/tmp/nm", 4 /* MOVE_MOUNT_F_EMPTY_PATH */);
  unsigned long long attr[4] = {0x2 /* MOUNT_ATTR_NOSUID */, 0, 0, 0};
  S(442, AT_FDCWD, "/tmp/nm", 0, attr, sizeof attr);
  int pk = S(433, AT_FDCWD, "/tmp/nm", 1 /* FSPICK_CLOEXEC */);
  int ot = S(428, AT_FDCWD, "/tmp/nm", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
  S(429, ot, "", AT_FDCWD, "/tmp/nm2", 4);
  S(3, ot);
  S(3, pk);
  S(3, nmfd);
  S(3, fsfd);
  S(12, 0);
  S(324, 0, 0, 0); /* MEMBARRIER_CMD_QUERY */
  int d1 = S(32, fd);
  S(33, fd, 40);
  S(292, fd, 41, O_CLOEXEC);
  S(3, d1);
  S(83, "/tmp/d", 0755);
  S(258, AT_FDCWD, "d/e", 0755);
  int dfd = S(257, AT_FDCWD, "/tmp/d", O_RDONLY | O_DIRECTORY);
  S(217, dfd, b, sizeof b);
  S(81, dfd);
  S(80, "/tmp");
  S(84, "/tmp/d/e");
  int cr = S(85, "/tmp/c", 0644);
  S(3, cr);
  S(86, "/tmp/c", "/tmp/c2");
  S(265, AT_FDCWD, "c", AT_FDCWD, "c3", 0);
  S(87, "/tmp/c2");
  S(263, AT_FDCWD, "c3", 0);
  S(88, "/tmp/f", "/tmp/s");
  S(266, "f", AT_FDCWD, "s2");
  S(89, "/tmp/s", b, 100);
  S(267, AT_FDCWD, "s2", b, 100);
  S(82, "/tmp/c", "/tmp/c4");
  S(264, AT_FDCWD, "c4", AT_FDCWD, "c5");
  S(316, AT_FDCWD, "c5", AT_FDCWD, "c6", 0);
  S(90, "/tmp/c6", 0600);
  S(91, fd, 0640);
  S(268, AT_FDCWD, "c6", 0644, 0);
  S(92, "/tmp/c6", 0, 0);
  S(93, fd, 0, 0);
  S(94, "/tmp/s", 0, 0);
  S(260, AT_FDCWD, "c6", 0, 0, 0);
  S(235, "/tmp/c6", 0);
  S(261, AT_FDCWD, "c6", 0);
  S(280, AT_FDCWD, "c6", 0, 0);
  S(133, "/tmp/fifo", S_IFIFO | 0644, 0);
  S(259, AT_FDCWD, "fifo2", S_IFIFO | 0644, 0);
  S(137, "/tmp", b);
  S(138, fd, b);
  int out = S(2, "/tmp/g", O_CREAT | O_RDWR, 0644);
  S(326, fd, 0, out, 0, 100, 0);
  off_t off = 0;
  S(40, out, fd, &off, 100);
  int p1[2], p2[2];
  S(22, p1);
  S(293, p2, O_NONBLOCK);
  S(1, p1[1], b, 100);
  S(276, p1[0], p2[1], 50, 0);
  S(275, p1[0], 0, out, 0, 50, 0);
  int avail = 0;
  S(16, p2[0], 0x541B /* FIONREAD */, &avail);
  /* waiting for readiness */
  struct pollfd pfd = {p2[0], POLLIN, 0};
  S(7, &pfd, 1, 0);
  struct timespec ts0 = {0, 0};
  S(271, &pfd, 1, &ts0, 0, 8);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p2[0], &rs);
  struct timeval tv0 = {0, 0};
  S(23, p2[0] + 1, &rs, 0, 0, &tv0);
  FD_SET(p2[0], &rs);
  S(270, p2[0] + 1, &rs, 0, 0, &ts0, 0);
  int ep = S(213, 4);
  int ep1 = S(291, EPOLL_CLOEXEC);
  struct epoll_event ev = {EPOLLIN, {0}};
  S(233, ep1, EPOLL_CTL_ADD, p2[0], &ev);
  S(232, ep1, &ev, 1, 0);
  S(281, ep1, &ev, 1, 0, 0, 8);
  S(441, ep1, &ev, 1, &ts0, 0, 8);
  S(3, ep);
  uint64_t one = 1;
  int efd = S(284, 0);
  int efd2 = S(290, 0, EFD_NONBLOCK);
  S(1, efd2, &one, 8);
  S(0, efd2, &one, 8);
  uint64_t mask = 1ull << (SIGUSR2 - 1);
  int sfd = S(282, -1, &mask, 8);
  int sfd2 = S(289, -1, &mask, 8, SFD_NONBLOCK);
  int tfd = S(283, CLOCK_MONOTONIC, 0);
  struct itimerspec its = {{0, 0}, {100, 0}}, old;
  S(286, tfd, 0, &its, &old);
  S(287, tfd, &old);
  int mfd = S(319, "cv", 2 /* MFD_ALLOW_SEALING */);
  S(77, mfd, 4096);
  S(72, mfd, 1033 /* F_ADD_SEALS */, 1 /* F_SEAL_SEAL */);
  S(3, efd); S(3, sfd); S(3, sfd2); S(3, tfd); S(3, mfd);
  S(436, 100, 200, 0);
  /* signals */
  struct k_sigaction { void (*h)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; };
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = cv_handler;
  sigaction(SIGUSR1, &sa, 0); /* musl's restorer: rt_sigreturn after the handler */
  int before = cv_hits;
  raise(SIGUSR1);
  if (cv_hits > before) counts[15][0]++; /* the handler returned through rt_sigreturn */
  struct k_sigaction ks;
  S(13, SIGUSR1, 0, &ks, 8);
  uint64_t blk = 1ull << (SIGUSR2 - 1), oldm = 0;
  S(14, SIG_BLOCK, &blk, &oldm, 8);
  S(200, syscall(186), SIGUSR2);
  S(127, &oldm, 8);
  siginfo_t si;
  S(128, &blk, &si, &ts0, 8);
  memset(&si, 0, sizeof si);
  si.si_code = -1; /* SI_QUEUE */
  si.si_signo = SIGUSR2;
  S(129, getpid(), SIGUSR2, &si);
  S(297, getpid(), syscall(186), SIGUSR2, &si);
  S(128, &blk, &si, &ts0, 8);
  S(128, &blk, &si, &ts0, 8);
  stack_t ss = {0};
  S(131, 0, &ss);
  S(62, getpid(), 0);
  S(234, getpid(), syscall(186), 0);
  struct itimerval itv = {{0, 0}, {0, 0}};
  S(36, ITIMER_REAL, &itv);
  S(38, ITIMER_REAL, &itv, 0);
  S(37, 0);
  /* pause and rt_sigsuspend end with EINTR after a handler: that is their success. */
  sigaction(SIGALRM, &sa, 0);
  struct itimerval soon = {{0, 0}, {0, 20000}};
  before = cv_hits;
  S(38, ITIMER_REAL, &soon, 0);
  r = syscall(34);
  if (r == -1 && errno == EINTR && cv_hits > before) counts[34][0]++;
  uint64_t none = 0;
  before = cv_hits;
  S(38, ITIMER_REAL, &soon, 0);
  r = syscall(130, &none, 8);
  if (r == -1 && errno == EINTR && cv_hits > before) counts[130][0]++;
  alarm(20);
  struct timespec ns1 = {0, 1000};
  S(35, &ns1, 0);
  S(230, CLOCK_MONOTONIC, 0, &ns1, 0);
  /* time */
  struct timeval tv;
  S(96, &tv, 0);
  S(164, &tv, 0);
  S(201, 0);
  struct timespec now;
  S(228, CLOCK_REALTIME, &now);
  S(227, CLOCK_REALTIME, &now);
  S(229, CLOCK_MONOTONIC, &now);
  S(100, b);
  timer_t tid = 0;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  S(222, CLOCK_MONOTONIC, &sev, &tid);
  S(223, tid, 0, &its, 0);
  S(224, tid, &old);
  S(225, tid);
  S(226, tid);
  /* process and credentials */
  S(39); S(110); S(186); S(102); S(104); S(107); S(108); S(111);
  S(121, 0);
  S(124, 0);
  S(105, 0);
  S(106, 0);
  S(113, -1, -1);
  S(114, -1, -1);
  gid_t groups[8];
  S(115, 8, groups);
  S(116, 0, 0);
  S(117, -1, -1, -1);
  uid_t u3[3];
  S(118, &u3[0], &u3[1], &u3[2]);
  S(119, -1, -1, -1);
  S(120, &u3[0], &u3[1], &u3[2]);
  S(122, 0);
  S(123, 0);
  uint32_t caph[2] = {0x20080522, 0}, capd[6];
  S(125, caph, capd);
  S(126, caph, capd);
  S(135, 0xffffffff);
  S(140, 0, 0);
  S(141, 0, 0, 0);
  int prio = 0;
  S(143, 0, &prio);
  S(142, 0, &prio);
  S(145, 0);
  S(144, 0, 0, &prio);
  S(146, 0);
  S(147, 0);
  S(148, 0, &now);
  S(24);
  uint64_t cpus[16] = {0};
  S(204, 0, sizeof cpus, cpus);
  S(203, 0, sizeof cpus, cpus);
  unsigned cpu, node;
  S(309, &cpu, &node, 0);
  struct rlimit rl;
  S(97, RLIMIT_NOFILE, &rl);
  S(160, RLIMIT_NOFILE, &rl);
  S(302, 0, RLIMIT_NOFILE, 0, &rl);
  S(98, RUSAGE_SELF, b);
  S(99, b);
  S(63, b);
  S(157, 16 /* PR_GET_NAME */, b);
  uint64_t fsbase;
  S(158, 0x1003 /* ARCH_GET_FS */, &fsbase);
  int tidw = 0;
  S(218, &tidw);
  uint64_t robust[3] = {(uint64_t)robust, 0, 0}, rh = 0, rlen = 0;
  S(273, robust, 24);
  S(274, 0, &rh, &rlen);
  int fw = 0;
  S(202, &fw, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
  S(318, b, 16, 0);
  S(170, "cover", 5);
  S(171, "cover", 5);
  S(169, 0xfee1dead, 672274793, 0 /* LINUX_REBOOT_CMD_CAD_OFF */, 0);
  uint32_t act = 0x7fff0000u;
  S(317, 2 /* GET_ACTION_AVAIL */, 0, &act);
  /* SysV and POSIX message queues */
  int shm = S(29, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  void *at = (void *)S(30, shm, 0, 0);
  S(67, at);
  S(31, shm, IPC_RMID, 0);
  int sem = S(64, IPC_PRIVATE, 1, IPC_CREAT | 0600);
  struct sembuf sop = {0, 1, 0};
  S(65, sem, &sop, 1);
  S(220, sem, &sop, 1, &ts0);
  S(66, sem, 0, IPC_RMID, 0);
  int msq = S(68, IPC_PRIVATE, IPC_CREAT | 0600);
  struct { long type; char text[8]; } msg = {1, "hi"};
  S(69, msq, &msg, 8, 0);
  S(70, msq, &msg, 8, 0, 0);
  S(71, msq, IPC_RMID, 0);
  struct { long flags, maxmsg, msgsize, curmsgs, pad[4]; } mqa = {0, 4, 64, 0, {0}};
  int mq = S(240, "cover", O_RDWR | O_CREAT, 0600, &mqa);
  S(242, mq, b, 8, 0, 0);
  S(243, mq, b, 64, 0, 0);
  S(244, mq, &sev);
  S(245, mq, 0, &mqa);
  S(241, "cover");
  /* sockets */
  int sv[2];
  S(53, AF_UNIX, SOCK_STREAM, 0, sv);
  char cbuf[64];
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = CMSG_SPACE(sizeof(int));
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  S(46, sv[0], &mh, 0);
  mh.msg_controllen = sizeof cbuf;
  r = S(47, sv[1], &mh, 0);
  if (r > 0 && mh.msg_controllen >= CMSG_LEN(sizeof(int))) {
    int got;
    memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof got);
    S(3, got);
  }
  S(44, sv[0], b, 5, 0, 0, 0);
  S(45, sv[1], b, 5, 0, 0, 0);
  struct mmsghdr mm = {.msg_hdr = {.msg_iov = iov, .msg_iovlen = 1}};
  S(307, sv[0], &mm, 1, 0);
  S(299, sv[1], &mm, 1, MSG_DONTWAIT, 0);
  int yes = 1;
  socklen_t yl = sizeof yes;
  S(54, sv[0], SOL_SOCKET, SO_PASSCRED, &yes, sizeof yes);
  S(55, sv[0], SOL_SOCKET, SO_TYPE, &yes, &yl);
  S(48, sv[0], SHUT_WR);
  int ls = S(41, AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un un = {AF_UNIX, "/tmp/sock"};
  S(49, ls, &un, sizeof un);
  S(50, ls, 4);
  int c1 = S(41, AF_UNIX, SOCK_STREAM, 0), c2 = S(41, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  S(42, c1, &un, sizeof un);
  S(42, c2, &un, sizeof un);
  S(43, ls, 0, 0);
  S(288, ls, 0, 0, SOCK_CLOEXEC);
  socklen_t al = sizeof un;
  S(51, c1, &un, &al);
  al = sizeof un;
  S(52, c1, &un, &al);
  /* processes */
  pid_t p = S(57);
  if (p == 0) _exit(3);
  S(61, p, &st, 0, 0);
  p = S(58);
  if (p == 0) syscall(60, 4);
  siginfo_t wi;
  S(247, P_ALL, 0, &wi, WEXITED, 0); /* (vfork's child wrote p) */
  p = S(56, SIGCHLD, 0, 0, 0, 0);
  if (p == 0) syscall(60, 5);
  waitpid(p, &st, 0);
  int pidfd = -1;
  uint64_t ca[11] = {0x1000 /* CLONE_PIDFD */, (uint64_t)&pidfd, 0, 0, SIGCHLD};
  p = S(435, ca, 88);
  if (p == 0) syscall(60, 6);
  waitpid(p, &st, 0);
  int me = S(434, getpid(), 0);
  S(424, me, 0, 0, 0);
  int got2 = S(438, me, fd, 0);
  S(3, got2);
  if (cv_child(cv_exit) == 7) counts[60][0]++;
  if (cv_child(cv_exit_group) == 8) counts[231][0]++;
  if (cv_child(cv_exec) == 42) counts[59][0]++;
  if (cv_child(cv_execat) == 42) counts[322][0]++;
  cv_child(cv_pivot);
  cv_child(cv_setsid);
  cv_child(cv_setpgid);
  cv_child(cv_seccomp);
  /* containers and mounts */
  int ns = open("/proc/self/ns/uts", O_RDONLY);
  S(308, ns, 0);
  mkdir("/tmp/mnt", 0755);
  S(165, "none", "/tmp/mnt", "tmpfs", 0, 0);
  S(166, "/tmp/mnt", 0);
  S(161, "/tmp");
}
