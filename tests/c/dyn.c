/* A dynamically linked program: built with gcc (glibc) or musl-gcc without -static and run
 * through its interpreter. Prints its arguments, where libc's code lives (a shared object, so
 * an address far from main's), uses malloc, stdio, fork/wait and a thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread_main(void *arg) {
    *(int *)arg += 41;
    return arg;
}

int main(int argc, char **argv) {
    printf("dyn: argc=%d argv[1]=%s\n", argc, argc > 1 ? argv[1] : "");
    char *p = malloc(100000);
    if (!p) return 1;
    strcpy(p, "heap");
    printf("dyn: malloc %s\n", p);
    free(p);
    int v = 1;
    pthread_t t;
    void *ret;
    if (pthread_create(&t, NULL, thread_main, &v) != 0 || pthread_join(t, &ret) != 0) return 2;
    printf("dyn: thread %d\n", *(int *)ret);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("dyn: child exited %d\n", WEXITSTATUS(st));
    printf("dyn: printf in a shared object: %s\n",
           (void *)printf != (void *)main ? "yes" : "no");
    return 0;
}
