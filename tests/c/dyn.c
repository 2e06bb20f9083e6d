/* A dynamically linked program: built with gcc (glibc) or musl-gcc without -static and run
 * through its interpreter. Prints its arguments, where libc's code lives (a shared object, so
 * an address far from main's), uses malloc, stdio, fork/wait and a thread. */
#include <errno.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char _start[];

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
    /* The auxiliary vector: the interpreter's base, the program's own entry and headers. */
    unsigned long base = getauxval(AT_BASE), entry = getauxval(AT_ENTRY);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    errno = 0;
    unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
    int have_minsig = errno == 0 && minsig >= 1024;
    printf("dyn: auxv base=%s entry=%s pagesz=%lu phent=%lu ids=%lu/%lu/%lu/%lu execfn=%s "
           "minsigstksz=%s\n",
           base && memcmp((void *)base, "\177ELF", 4) == 0 ? "ld.so" : "wrong",
           entry == (unsigned long)_start ? "_start" : "wrong", getauxval(AT_PAGESZ),
           getauxval(AT_PHENT), getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_GID),
           getauxval(AT_EGID), execfn && strcmp(execfn, argv[0]) == 0 ? "argv[0]" : "wrong",
           have_minsig ? "yes" : "no");
    return 0;
}
