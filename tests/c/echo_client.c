/* Reaches a TCP echo server on the host through QEMU's user network: connects to
 * 10.0.2.2:<argv[1]> from the root container's eth0, sends a line, reads it back.
 * Prints "echo_client: ok <line>" and exits 0, or "echo_client: <what failed>". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("echo_client: no port\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	inet_pton(AF_INET, "10.0.2.2", &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {20, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(s, (void *)&a, sizeof a) != 0) {
		printf("echo_client: connect: %s\n", strerror(errno));
		return 1;
	}
	const char *msg = "hello from bulkhead\n";
	size_t n = strlen(msg);
	if (write(s, msg, n) != (ssize_t)n) {
		printf("echo_client: write: %s\n", strerror(errno));
		return 1;
	}
	char buf[64];
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(s, buf + got, sizeof buf - 1 - got);
		if (r <= 0) {
			printf("echo_client: read: %zd %s\n", r, strerror(errno));
			return 1;
		}
		got += r;
	}
	buf[got] = 0;
	close(s);
	printf("echo_client: ok %s", buf);
	return strcmp(buf, msg) == 0 ? 0 : 1;
}
