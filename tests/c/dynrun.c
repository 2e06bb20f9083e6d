/* Init for tests/dynamic.rs: runs each dynamically linked program one after another from a
 * running process (execve, not the kernel's first exec) and reports each exit status. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    static char *const runs[][4] = {
        {"/dyn_glibc", "glibc", NULL},
        {"/dyn_nopie", "nopie", NULL},
        {"/dyn_musl", "musl", NULL},
        {"/bin/ls", "/", NULL},
        {"/bin/ls", "-1", "/lib64", NULL},
    };
    char *const envp[] = {"PATH=/bin", NULL};
    for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execve(runs[i][0], runs[i], envp);
            perror("dynrun: execve");
            _exit(127);
        }
        int st = -1;
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
            perror("dynrun: fork/wait");
            return 1;
        }
        printf("dynrun: %s exited %d\n", runs[i][0], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    return 0;
}
