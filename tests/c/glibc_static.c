/* A static glibc program (glibc 2.35+ registers rseq at start and at each thread's start;
 * Bulkhead gives ENOSYS and glibc goes on without it): threads, sched_getcpu, stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *thread_main(void *arg) {
    *(int *)arg = sched_getcpu();
    return arg;
}

int main(void) {
    errno = 0;
    long r = syscall(SYS_rseq, NULL, 0, 0, 0);
    printf("glibc_static: rseq_size=%u rseq(NULL)=%ld errno=%d\n", __rseq_size, r, errno);
    int cpu = -1;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &cpu) != 0 || pthread_join(t, NULL) != 0) return 2;
    printf("glibc_static: thread cpu=%d main cpu=%d\n", cpu, sched_getcpu());
    return 0;
}
