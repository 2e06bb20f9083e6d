/* 100 clients connect to one 127.0.0.1 listener (listen backlog 128) before any accept,
 * then each is accepted in order (peer port checked) and carries one byte. tcp.rs keeps
 * MAX_IDLE listening smoltcp sockets per listener and tops them up after every poll of
 * the stack; before that, only the listener's own calls did, and the 9th SYN met no
 * listening socket and was reset (ECONNREFUSED). Run by tests/net.rs. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#define N 100
int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7100),
				 .sin_addr.s_addr = htonl(0x7f000001) };
	if (bind(l, (void *)&a, sizeof a) || listen(l, 128)) { printf("FAIL setup %d\n", errno); return 1; }
	int c[N], ports[N];
	for (int i = 0; i < N; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c[i], (void *)&a, sizeof a)) { printf("FAIL connect %d errno %d\n", i, errno); return 1; }
		struct sockaddr_in me; socklen_t ml = sizeof me;
		getsockname(c[i], (void *)&me, &ml);
		ports[i] = ntohs(me.sin_port);
	}
	for (int i = 0; i < N; i++) {
		struct sockaddr_in p; socklen_t pl = sizeof p;
		int s = accept(l, (void *)&p, &pl);
		if (s < 0) { printf("FAIL accept %d errno %d\n", i, errno); return 1; }
		if (ntohs(p.sin_port) != ports[i]) { printf("FAIL order %d: %d vs %d\n", i, ntohs(p.sin_port), ports[i]); return 1; }
		char b = 0;
		if (write(c[i], "x", 1) != 1 || read(s, &b, 1) != 1 || b != 'x') { printf("FAIL data %d\n", i); return 1; }
		close(s); close(c[i]);
	}
	printf("PASS backlog_100\n");
	return 0;
}
