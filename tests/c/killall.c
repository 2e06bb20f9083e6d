/* Fuzz seed 14's regression, run as init by tests/fuzz.rs: kill(-1, SIGKILL) from the init
 * of a PID container reaches a process below that is itself the init of a nested PID
 * container (Linux excludes only the caller and its own container's init). Prints one
 * line, powers off. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Waits up to 5 s for `n` children; returns how many died of SIGKILL. */
static int reap(int n) {
  int killed = 0;
  for (int tries = 0; n > 0 && tries < 500; tries++) {
    int st;
    pid_t p = waitpid(-1, &st, __WALL | WNOHANG);
    if (p > 0) { n--; killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL; continue; }
    struct timespec t = {0, 10000000};
    nanosleep(&t, 0);
  }
  return killed;
}

int main(void) {
  int result = 1;
  if (unshare(CLONE_NEWPID) == 0) {
    pid_t g = fork();
    if (g == 0) { /* pid 1 of the new container */
      pid_t h = fork();
      if (h == 0) {
        unshare(CLONE_NEWPID);
        if (fork() == 0) pause(); /* pid 1 of the nested container */
        pause();
      }
      struct timespec t = {0, 100000000};
      nanosleep(&t, 0);
      int r = kill(-1, SIGKILL);
      /* h, then the nested init (reparented to us when h dies) */
      int killed = reap(2);
      printf("killall: kill(-1) %d, %d of 2 killed\n", r, killed);
      _exit(r == 0 && killed == 2 ? 0 : 1);
    }
    int st;
    waitpid(g, &st, 0);
    result = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
  }
  printf("killall: %s\n", result == 0 ? "ok" : "FAILED");
  fflush(stdout);
  reboot(RB_POWER_OFF);
  return 0;
}
