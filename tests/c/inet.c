/* AF_INET/AF_INET6 sockets and network containers, run as init by tests/net.rs:
 * LiteOS-A's It_net_container_001, 002 and 005-009 (names in comments), loopback TCP
 * and UDP in the root container and in a container, TCP and UDP over the veth pair, the
 * same port in two containers, a socket keeping its container after setns, a
 * non-blocking connect, IPv6 on ::1, bind errors and options.
 * Prints "PASS <case>" or "FAIL <case>: <why>" per case and exits with the failures. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

static struct sockaddr_in sin4(const char *ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int if_get_addr(const char *ifname, char *out)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strncpy(r.ifr_name, ifname, IFNAMSIZ - 1);
	int e = ioctl(s, SIOCGIFADDR, &r);
	int saved = errno;
	if (e == 0)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_addr)->sin_addr, out, 16);
	close(s);
	errno = saved;
	return e;
}

/* LiteOS-A's NetContainerResetNetAddr: netmask, address, gateway on `ifname`. */
static int if_set(const char *ifname, const char *ip, const char *mask, const char *gw)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strncpy(r.ifr_name, ifname, IFNAMSIZ - 1);
	struct sockaddr_in a = sin4(mask, 0);
	memcpy(&r.ifr_netmask, &a, sizeof a);
	int e = 0;
	a = sin4(ip, 0);
	memcpy(&r.ifr_addr, &a, sizeof a);
	e |= ioctl(s, SIOCSIFADDR, &r);
	a = sin4(mask, 0);
	memcpy(&r.ifr_netmask, &a, sizeof a);
	e |= ioctl(s, SIOCSIFNETMASK, &r);
	if (gw && e == 0) {
		struct rtentry rt = {0};
		struct sockaddr_in d = sin4("0.0.0.0", 0), g = sin4(gw, 0);
		memcpy(&rt.rt_dst, &d, sizeof d);
		memcpy(&rt.rt_genmask, &d, sizeof d);
		memcpy(&rt.rt_gateway, &g, sizeof g);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)ifname;
		e |= ioctl(s, SIOCADDRT, &rt);
	}
	close(s);
	return e;
}

/* ---- loopback ---- */

static int tcp_pair(int family, const char *ip, int port, int *cli, int *srv)
{
	int l = socket(family, SOCK_STREAM, 0);
	CHECK(l >= 0, "socket");
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in a = sin4(ip, port);
		memcpy(&ss, &a, sizeof a);
		len = sizeof a;
	} else {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		inet_pton(AF_INET6, ip, &a.sin6_addr);
		memcpy(&ss, &a, sizeof a);
		len = sizeof a;
	}
	CHECK(bind(l, (void *)&ss, len) == 0, "bind %s:%d", ip, port);
	CHECK(listen(l, 4) == 0, "listen");
	int c = socket(family, SOCK_STREAM, 0);
	CHECK(connect(c, (void *)&ss, len) == 0, "connect");
	int a = accept(l, 0, 0);
	CHECK(a >= 0, "accept");
	close(l);
	*cli = c;
	*srv = a;
	return 0;
}

static int echo_check(int c, int a)
{
	char buf[64];
	CHECK(write(c, "ping", 4) == 4, "write");
	CHECK(read(a, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read ping");
	CHECK(write(a, "pong!", 5) == 5, "write back");
	CHECK(read(c, buf, sizeof buf) == 5 && memcmp(buf, "pong!", 5) == 0, "read pong");
	return 0;
}

static int loopback_tcp(void)
{
	int c, a;
	if (tcp_pair(AF_INET, "127.0.0.1", 7001, &c, &a))
		return -1;
	if (echo_check(c, a))
		return -1;
	struct sockaddr_in p;
	socklen_t pl = sizeof p;
	CHECK(getpeername(a, (void *)&p, &pl) == 0 && p.sin_addr.s_addr == htonl(0x7f000001),
	      "peer is 127.0.0.1");
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	CHECK(getsockname(c, (void *)&me, &ml) == 0 && ntohs(me.sin_port) >= 32768,
	      "ephemeral port %d", ntohs(me.sin_port));
	CHECK(ntohs(p.sin_port) == ntohs(me.sin_port), "accept's peer is the client's port");
	/* A large transfer streams through the 64 KiB windows. */
	static char big[300000], got[300000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7);
	pid_t w = fork();
	if (w == 0) {
		ssize_t n = write(c, big, sizeof big);
		_exit(n == (ssize_t)sizeof big ? 0 : 1);
	}
	size_t have = 0;
	while (have < sizeof got) {
		ssize_t n = read(a, got + have, sizeof got - have);
		CHECK(n > 0, "stream read at %zu", have);
		have += n;
	}
	int st;
	waitpid(w, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer");
	CHECK(memcmp(big, got, sizeof big) == 0, "stream content");
	/* Close: the reader sees the end of the stream. */
	close(c);
	char b;
	CHECK(read(a, &b, 1) == 0, "EOF after the peer's close");
	close(a);
	return 0;
}

static int loopback_udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 7002);
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "bind");
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(c, "hello", 5, 0, (void *)&a, sizeof a) == 5, "sendto");
	char buf[16];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	CHECK(recvfrom(s, buf, 2, MSG_TRUNC, (void *)&from, &fl) == 5, "recvfrom MSG_TRUNC gives the whole length");
	CHECK(memcmp(buf, "he", 2) == 0, "truncated data");
	CHECK(sendto(c, "again", 5, 0, (void *)&a, sizeof a) == 5, "sendto");
	CHECK(recvfrom(s, buf, sizeof buf, MSG_PEEK, 0, 0) == 5, "peek");
	CHECK(recvfrom(s, buf, sizeof buf, 0, (void *)&from, &fl) == 5 && memcmp(buf, "again", 5) == 0,
	      "recv after peek");
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	getsockname(c, (void *)&me, &ml);
	CHECK(from.sin_port == me.sin_port, "sender's port");
	CHECK(recv(s, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "empty: EAGAIN");
	struct timeval tv = {0, 100000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	CHECK(recv(s, buf, sizeof buf, 0) == -1 && errno == EAGAIN, "SO_RCVTIMEO: EAGAIN");
	close(s);
	close(c);
	return 0;
}

/* Fuzz seed 9: an AF_INET6 UDP socket bound to an address of one IP version sending to
 * the other (::1 to ::ffff:127.0.0.1, ::ffff:127.0.0.1 to ::1) panicked the kernel in
 * smoltcp; now ENETUNREACH (Linux sends the first from 127.0.0.6), and the socket still
 * sends to its own version. */
static int seed_9_udp_send_across_ip_versions(void)
{
	static const char *pairs[][2] = {{"::1", "::ffff:127.0.0.1"}, {"::ffff:127.0.0.1", "::1"}};
	for (int i = 0; i < 2; i++) {
		int s = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 me = {.sin6_family = AF_INET6, .sin6_port = htons(7010 + i)};
		struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(7020 + i)};
		inet_pton(AF_INET6, pairs[i][0], &me.sin6_addr);
		inet_pton(AF_INET6, pairs[i][1], &to.sin6_addr);
		CHECK(bind(s, (void *)&me, sizeof me) == 0, "bind %s", pairs[i][0]);
		errno = 0;
		CHECK(sendto(s, "hello", 5, 0, (void *)&to, sizeof to) == -1 && errno == ENETUNREACH,
		      "%s to %s: ENETUNREACH (errno %d)", pairs[i][0], pairs[i][1], errno);
		CHECK(sendto(s, "hello", 5, 0, (void *)&me, sizeof me) == 5, "%s to itself", pairs[i][0]);
		close(s);
	}
	return 0;
}

static int loopback_ipv6(void)
{
	int c, a;
	if (tcp_pair(AF_INET6, "::1", 7003, &c, &a))
		return -1;
	if (echo_check(c, a))
		return -1;
	struct sockaddr_in6 p;
	socklen_t pl = sizeof p;
	CHECK(getpeername(a, (void *)&p, &pl) == 0 && p.sin6_family == AF_INET6 &&
		      IN6_IS_ADDR_LOOPBACK(&p.sin6_addr),
	      "peer ::1");
	close(c);
	close(a);
	return 0;
}

static int nonblocking_connect(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 7004);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen");
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (void *)&a, sizeof a);
	CHECK(r == 0 || errno == EINPROGRESS, "connect: %d", r);
	struct pollfd pf = {.fd = c, .events = POLLOUT};
	CHECK(poll(&pf, 1, 2000) == 1 && (pf.revents & POLLOUT), "POLLOUT");
	int err = -1;
	socklen_t el = sizeof err;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0, "SO_ERROR %d", err);
	int x = accept(l, 0, 0);
	CHECK(x >= 0, "accept");
	char b;
	CHECK(read(c, &b, 1) == -1 && errno == EAGAIN, "non-blocking read: EAGAIN");
	close(x);
	close(c);
	/* A refused one: the error comes through SO_ERROR. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in none = sin4("127.0.0.1", 7999);
	r = connect(c, (void *)&none, sizeof none);
	if (r == -1 && errno == EINPROGRESS) {
		pf.fd = c;
		pf.events = POLLOUT;
		CHECK(poll(&pf, 1, 2000) == 1, "poll after refusal");
		el = sizeof err;
		CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED,
		      "SO_ERROR %d", err);
	} else {
		CHECK(r == -1 && errno == ECONNREFUSED, "refused at once");
	}
	close(c);
	/* Non-blocking accept with nothing pending. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	CHECK(accept(l, 0, 0) == -1 && errno == EAGAIN, "accept EAGAIN");
	close(l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (void *)&none, sizeof none) == -1 && errno == ECONNREFUSED, "blocking refused");
	close(c);
	return 0;
}

static int bind_rules(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in x = sin4("127.0.0.1", 7005);
	CHECK(bind(a, (void *)&x, sizeof x) == 0, "first bind");
	CHECK(bind(b, (void *)&x, sizeof x) == -1 && errno == EADDRINUSE, "EADDRINUSE");
	CHECK(bind(a, (void *)&x, sizeof x) == -1 && errno == EINVAL, "bound twice: EINVAL");
	struct sockaddr_in far = sin4("10.9.9.9", 7006);
	CHECK(bind(b, (void *)&far, sizeof far) == -1 && errno == EADDRNOTAVAIL, "EADDRNOTAVAIL");
	close(a);
	close(b);
	int ttl = 0;
	socklen_t tl = sizeof ttl;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(getsockopt(u, IPPROTO_IP, IP_TTL, &ttl, &tl) == 0 && ttl == 64, "IP_TTL %d", ttl);
	ttl = 7;
	CHECK(setsockopt(u, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == 0, "set IP_TTL");
	ttl = 0;
	CHECK(getsockopt(u, IPPROTO_IP, IP_TTL, &ttl, &tl) == 0 && ttl == 7, "IP_TTL back %d", ttl);
	ttl = 0;
	CHECK(setsockopt(u, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == -1 && errno == EINVAL, "TTL 0");
	close(u);
	int t = socket(AF_INET, SOCK_STREAM, 0), one = 1, v = 0;
	socklen_t vl = sizeof v;
	CHECK(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY");
	CHECK(getsockopt(t, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1, "TCP_NODELAY back");
	vl = sizeof v;
	CHECK(getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM, "SO_TYPE");
	close(t);
	CHECK(socket(AF_INET, SOCK_SEQPACKET, 0) == -1 && errno == ESOCKTNOSUPPORT, "SEQPACKET");
	CHECK(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT, "stream/udp");
	return 0;
}

/* bind below 1024 needs CAP_NET_BIND_SERVICE: a uid-1000 child without it gets EACCES. */
static int low_port_child(void)
{
	CHECK(setuid(1000) == 0, "setuid");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 80);
	CHECK(bind(s, (void *)&a, sizeof a) == -1 && errno == EACCES, "port 80: EACCES");
	a = sin4("127.0.0.1", 8080);
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "port 8080");
	return 0;
}

static int low_ports_need_a_capability(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 80);
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "root binds port 80");
	close(s);
	CHECK(in_child(0, low_port_child) == 0, "child failed");
	return 0;
}

/* ---- containers ---- */

/* LiteOS-A: It_net_container_001 (in a NEWNET child; the root's eth0 is checked when
 * there is a NIC) */
static int net001_child(void)
{
	char ip[16];
	CHECK(if_get_addr("eth0", ip) == -1 && errno == ENODEV, "no eth0 in a container");
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strcpy(r.ifr_name, "eth0");
	struct sockaddr_in a = sin4("192.168.100.5", 0);
	memcpy(&r.ifr_addr, &a, sizeof a);
	CHECK(ioctl(s, SIOCSIFADDR, &r) == -1, "SIOCSIFADDR eth0 fails");
	close(s);
	CHECK(if_set("veth0", "192.168.100.5", "255.255.255.0", "192.168.100.1") == 0, "set veth0");
	CHECK(if_get_addr("veth0", ip) == 0 && strcmp(ip, "192.168.100.5") == 0, "veth0 %s", ip);
	return 0;
}

static int net_001_newnet_child_has_no_eth0(void)
{
	char before[16] = "", after[16] = "";
	int has_eth0 = if_get_addr("eth0", before) == 0;
	CHECK(in_child(CLONE_NEWNET, net001_child) == 0, "child failed");
	if (has_eth0) {
		CHECK(if_get_addr("eth0", after) == 0 && strcmp(before, after) == 0, "root eth0 %s", after);
		CHECK(strcmp(before, "10.0.2.15") == 0, "root eth0 %s", before);
	}
	return 0;
}

/* LiteOS-A: It_net_container_002 */
static int net002_child(void)
{
	char ip[16];
	int had = if_get_addr("eth0", ip) == 0;
	CHECK(unshare(CLONE_NEWNET) == 0, "unshare");
	CHECK(if_get_addr("eth0", ip) == -1, "no eth0 after unshare (had one: %d)", had);
	return net001_child();
}

static int net_002_unshare_then_veth0(void)
{
	CHECK(in_child(0, net002_child) == 0, "child failed");
	return 0;
}

/* LiteOS-A: It_net_container_006 */
static int net006_child(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8002);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen");
	pid_t c = fork();
	if (c == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (void *)&a, sizeof a) != 0)
			_exit(2);
		char buf[32];
		if (write(s, "Hi, I'm Client.", 15) != 15 || read(s, buf, sizeof buf) != 15 ||
		    memcmp(buf, "Hi, I'm Server.", 15))
			_exit(3);
		_exit(0);
	}
	int x = accept(l, 0, 0);
	char buf[32];
	CHECK(x >= 0 && read(x, buf, sizeof buf) == 15 && memcmp(buf, "Hi, I'm Client.", 15) == 0, "server read");
	CHECK(write(x, "Hi, I'm Server.", 15) == 15, "server write");
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client status %d", st);
	return 0;
}

static int net_006_tcp_loopback_in_a_container(void)
{
	CHECK(in_child(CLONE_NEWNET, net006_child) == 0, "child failed");
	return 0;
}

/* LiteOS-A: It_net_container_007 */
static int net007_child(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8003);
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "bind");
	CHECK(sendto(s, "self", 4, 0, (void *)&a, sizeof a) == 4, "sendto self");
	char b[8];
	CHECK(recv(s, b, sizeof b, 0) == 4 && memcmp(b, "self", 4) == 0, "recv");
	return 0;
}

static int net_007_udp_to_itself_in_a_container(void)
{
	CHECK(in_child(CLONE_NEWNET, net007_child) == 0, "child failed");
	return 0;
}

/* LiteOS-A: It_net_container_008 */
static int bind_both(int *u, int *t)
{
	struct sockaddr_in a = sin4("127.0.0.1", 8004);
	*u = socket(AF_INET, SOCK_DGRAM, 0);
	*t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(*u, (void *)&a, sizeof a) == 0, "udp bind");
	CHECK(bind(*t, (void *)&a, sizeof a) == 0 && listen(*t, 1) == 0, "tcp bind");
	return 0;
}

static int net008_child(void)
{
	int u, t;
	return bind_both(&u, &t);
}

static int net_008_same_port_in_two_containers(void)
{
	int u, t;
	if (bind_both(&u, &t))
		return -1;
	CHECK(in_child(CLONE_NEWNET, net008_child) == 0, "child could not bind the same port");
	int u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8004);
	CHECK(bind(u2, (void *)&a, sizeof a) == -1 && errno == EADDRINUSE, "still in use here");
	close(u);
	close(t);
	close(u2);
	return 0;
}

/* LiteOS-A: It_net_container_005: UDP over the veth pair. The root side is veth0 (the
 * lowest free name while this is the only container) at .6, the container's veth0 .5. */
static int net005_child(void)
{
	if (if_set("veth0", "192.168.100.5", "255.255.255.0", NULL))
		return -1;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = sin4("192.168.100.5", 8001), srv = sin4("192.168.100.6", 8000);
	CHECK(bind(s, (void *)&me, sizeof me) == 0, "bind");
	struct timeval tv = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char buf[64];
	for (int i = 0; i < 5; i++) {
		sendto(s, "===Hi, I'm Client.===", 21, 0, (void *)&srv, sizeof srv);
		ssize_t n = recv(s, buf, sizeof buf, 0);
		if (n == 21 && memcmp(buf, "===Hi, I'm Server.===", 21) == 0)
			return 0;
	}
	CHECK(0, "no answer over the veth pair");
	return 0;
}

static int net_005_udp_over_veth(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("192.168.100.6", 8000);
	pid_t c = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(net005_child() ? 1 : 0);
	CHECK(c > 0, "clone");
	int ok = 0;
	for (int i = 0; i < 50 && !ok; i++) {
		ok = if_set("veth0", "192.168.100.6", "255.255.255.0", NULL) == 0;
		if (!ok)
			usleep(20000);
	}
	CHECK(ok, "root veth0");
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "bind server");
	char buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(s, buf, sizeof buf, 0, (void *)&from, &fl);
	CHECK(n == 21 && memcmp(buf, "===Hi, I'm Client.===", 21) == 0, "server got %zd", n);
	char ip[16];
	inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
	CHECK(strcmp(ip, "192.168.100.5") == 0 && ntohs(from.sin_port) == 8001, "from %s", ip);
	CHECK(sendto(s, "===Hi, I'm Server.===", 21, 0, (void *)&from, fl) == 21, "reply");
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	close(s);
	return 0;
}

/* LiteOS-A: It_net_container_009: TCP over veth, the container serves on .6:8005. */
static int net009_child(void)
{
	if (if_set("veth0", "192.168.100.6", "255.255.255.0", NULL))
		return -1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("192.168.100.6", 8005);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen");
	int x = accept(l, 0, 0);
	char buf[64];
	CHECK(x >= 0 && read(x, buf, sizeof buf) == 21 && memcmp(buf, "===Hi, I'm Client.===", 21) == 0,
	      "server read");
	CHECK(write(x, "===Hi, I'm Server.===", 21) == 21, "server write");
	close(x);
	return 0;
}

static int net_009_tcp_over_veth(void)
{
	pid_t c = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(net009_child() ? 1 : 0);
	CHECK(c > 0, "clone");
	int ok = 0;
	for (int i = 0; i < 50 && !ok; i++) {
		ok = if_set("veth0", "192.168.100.5", "255.255.255.0", NULL) == 0;
		if (!ok)
			usleep(20000);
	}
	CHECK(ok, "root veth0");
	struct sockaddr_in a = sin4("192.168.100.6", 8005);
	int s = -1;
	for (int i = 0; i < 50; i++) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (void *)&a, sizeof a) == 0)
			break;
		close(s);
		s = -1;
		usleep(20000);
	}
	CHECK(s >= 0, "connect over the veth pair");
	char buf[64];
	CHECK(write(s, "===Hi, I'm Client.===", 21) == 21, "write");
	CHECK(read(s, buf, sizeof buf) == 21 && memcmp(buf, "===Hi, I'm Server.===", 21) == 0, "read");
	close(s);
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	return 0;
}

/* A socket made in a container keeps working there after its process setns()es back to
 * the root: a listener in the container is reached from the socket, not from the root. */
static int keeps_container_child(void)
{
	int root = open("/proc/1/ns/net", O_RDONLY);
	CHECK(root >= 0, "open root net link");
	CHECK(unshare(CLONE_NEWNET) == 0, "unshare");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8006);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen in the container");
	int c = socket(AF_INET, SOCK_STREAM, 0); /* made in the container too */
	CHECK(setns(root, CLONE_NEWNET) == 0, "setns back");
	int r = socket(AF_INET, SOCK_STREAM, 0); /* made in the root */
	CHECK(connect(r, (void *)&a, sizeof a) == -1 && errno == ECONNREFUSED, "root has no listener");
	CHECK(connect(c, (void *)&a, sizeof a) == 0, "the container's socket reaches it");
	int x = accept(l, 0, 0);
	CHECK(x >= 0, "accept");
	return echo_check(c, x);
}

static int socket_keeps_its_container_after_setns(void)
{
	CHECK(in_child(0, keeps_container_child) == 0, "child failed");
	return 0;
}

/* A container's veth0 is up with no address; its peer appears in the root and goes with
 * the container. */
static int veth_child(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strcpy(r.ifr_name, "veth0");
	CHECK(ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP), "veth0 up");
	CHECK(ioctl(s, SIOCGIFADDR, &r) == -1 && errno == EADDRNOTAVAIL, "no address");
	strcpy(r.ifr_name, "lo");
	CHECK(ioctl(s, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == 1, "lo is 1");
	CHECK(ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_LOOPBACK), "lo flags");
	r.ifr_ifindex = 2;
	CHECK(ioctl(s, SIOCGIFNAME, &r) == 0 && strcmp(r.ifr_name, "veth0") == 0, "index 2");
	sleep(1);
	return 0;
}

static int veth_pair_appears_in_root_and_goes(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strcpy(r.ifr_name, "veth0");
	CHECK(ioctl(s, SIOCGIFINDEX, &r) == -1 && errno == ENODEV, "no veth0 in root before");
	pid_t c = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(veth_child() ? 1 : 0);
	usleep(100000);
	CHECK(ioctl(s, SIOCGIFINDEX, &r) == 0, "root veth0 while the container lives");
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	CHECK(ioctl(s, SIOCGIFINDEX, &r) == -1 && errno == ENODEV, "root veth0 gone with it");
	strcpy(r.ifr_name, "lo");
	r.ifr_flags = 0;
	int u = fork();
	if (u == 0) {
		setuid(1000);
		_exit(ioctl(s, SIOCSIFFLAGS, &r) == -1 && errno == EPERM ? 0 : 1);
	}
	waitpid(u, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIOCSIFFLAGS without CAP_NET_ADMIN: EPERM");
	close(s);
	return 0;
}

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t got = 0, r;
	while ((r = read(fd, buf + got, n - 1 - got)) > 0)
		got += r;
	buf[got] = 0;
	close(fd);
	return 0;
}

/* /proc/net/{dev,route,tcp,udp} show the reader's container. */
static int proc_net_child(void)
{
	static char buf[8192];
	if (if_set("veth0", "192.168.100.5", "255.255.255.0", NULL))
		return -1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8007);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen");
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	a = sin4("0.0.0.0", 8008);
	CHECK(bind(u, (void *)&a, sizeof a) == 0, "udp bind");
	CHECK(read_file("/proc/net/route", buf, sizeof buf) == 0, "route");
	CHECK(strstr(buf, "veth0\t0064A8C0\t00000000\t0001\t") != NULL, "route: %s", buf);
	CHECK(read_file("/proc/net/dev", buf, sizeof buf) == 0, "dev");
	CHECK(strstr(buf, "    lo:") && strstr(buf, " veth0:") && !strstr(buf, "\n  eth0:"), "dev: %s", buf);
	CHECK(read_file("/proc/net/tcp", buf, sizeof buf) == 0, "tcp");
	CHECK(strstr(buf, "0100007F:1F47 00000000:0000 0A") != NULL, "tcp: %s", buf);
	CHECK(read_file("/proc/net/udp", buf, sizeof buf) == 0, "udp");
	CHECK(strstr(buf, "00000000:1F48 00000000:0000 07") != NULL, "udp: %s", buf);
	return 0;
}

static int proc_net_files_show_the_container(void)
{
	CHECK(in_child(CLONE_NEWNET, proc_net_child) == 0, "child failed");
	static char buf[8192];
	CHECK(read_file("/proc/net/tcp", buf, sizeof buf) == 0, "root tcp");
	CHECK(strstr(buf, ":1F47") == NULL, "the container's listener shows in the root");
	return 0;
}

/* Unprivileged ping sockets (SOCK_DGRAM/IPPROTO_ICMP): the kernel sets the identifier and
 * the reply comes without an IP header; SOCK_RAW needs CAP_NET_RAW. */
static int ping_child(void)
{
	CHECK(setuid(1000) == 0, "setuid");
	CHECK(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) == -1 && errno == EPERM, "raw: EPERM");
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	CHECK(s >= 0, "ping socket");
	unsigned char req[16] = {8, 0, 0, 0, 0, 0, 0, 7, 'b', 'u', 'l', 'k', 'h', 'e', 'a', 'd'};
	struct sockaddr_in a = sin4("127.0.0.1", 0);
	CHECK(sendto(s, req, sizeof req, 0, (void *)&a, sizeof a) == sizeof req, "sendto");
	struct sockaddr_in me;
	socklen_t ml = sizeof me;
	CHECK(getsockname(s, (void *)&me, &ml) == 0 && me.sin_port != 0, "an identifier");
	unsigned char rep[64];
	struct timeval tv = {2, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n;
	do {
		n = recv(s, rep, sizeof rep, 0);
	} while (n > 0 && rep[0] != 0);
	CHECK(n == sizeof req, "reply length %zd", n);
	CHECK(rep[0] == 0 && memcmp(rep + 4, &me.sin_port, 2) == 0 && rep[7] == 7, "an echo reply to us");
	CHECK(memcmp(rep + 8, "bulkhead", 8) == 0, "its data");
	unsigned char bad[8] = {13, 0};
	CHECK(sendto(s, bad, sizeof bad, 0, (void *)&a, sizeof a) == -1 && errno == EINVAL, "not an echo request");
	return 0;
}

static int ping_sockets(void)
{
	CHECK(in_child(0, ping_child) == 0, "child failed");
	return 0;
}

/* Socket buffers come from a budget: binding UDP sockets until it is spent gives ENOBUFS
 * (not a kernel out of memory), and closing them gives it back. */
static int socket_buffers_stop_at_a_budget(void)
{
	static int fds[1000];
	int n = 0, err = 0;
	for (; n < 1000; n++) {
		fds[n] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
		struct sockaddr_in a = sin4("127.0.0.1", 0);
		if (bind(fds[n], (void *)&a, sizeof a) != 0) {
			err = errno;
			close(fds[n]);
			break;
		}
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	CHECK(err == ENOBUFS && n > 100, "stopped after %d sockets with errno %d", n, err);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 0);
	CHECK(bind(s, (void *)&a, sizeof a) == 0, "a bind works again");
	close(s);
	return 0;
}

/* musl's if_nameindex and getifaddrs speak rtnetlink: a container sees lo and veth0. */
static int netlink_child(void)
{
	if (if_set("veth0", "192.168.100.5", "255.255.255.0", NULL))
		return -1;
	struct if_nameindex *ni = if_nameindex();
	CHECK(ni != NULL, "if_nameindex");
	int n = 0, lo = 0, veth = 0;
	for (struct if_nameindex *p = ni; p->if_index; p++, n++) {
		lo |= p->if_index == 1 && strcmp(p->if_name, "lo") == 0;
		veth |= p->if_index == 2 && strcmp(p->if_name, "veth0") == 0;
	}
	if_freenameindex(ni);
	CHECK(n == 2 && lo && veth, "%d interfaces (lo %d veth0 %d)", n, lo, veth);
	struct ifaddrs *ifa;
	CHECK(getifaddrs(&ifa) == 0, "getifaddrs");
	int found = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET && strcmp(p->ifa_name, "veth0") == 0) {
			char ip[16];
			inet_ntop(AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, ip, sizeof ip);
			found = strcmp(ip, "192.168.100.5") == 0;
		}
	}
	freeifaddrs(ifa);
	CHECK(found, "getifaddrs has veth0's address");
	int s = socket(AF_NETLINK, SOCK_RAW, 0);
	CHECK(s >= 0, "netlink socket");
	close(s);
	CHECK(socket(AF_NETLINK, SOCK_RAW, 99) == -1 && errno == EPROTONOSUPPORT, "other netlink protocols");
	return 0;
}

static int netlink_interface_lists(void)
{
	CHECK(in_child(CLONE_NEWNET, netlink_child) == 0, "child failed");
	return 0;
}

int main(void)
{
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	setvbuf(stdout, 0, _IONBF, 0);
	run("loopback_tcp", loopback_tcp);
	run("loopback_udp", loopback_udp);
	run("loopback_ipv6", loopback_ipv6);
	run("seed_9_udp_send_across_ip_versions", seed_9_udp_send_across_ip_versions);
	run("nonblocking_connect", nonblocking_connect);
	run("bind_rules", bind_rules);
	run("low_ports_need_a_capability", low_ports_need_a_capability);
	run("net_001_newnet_child_has_no_eth0", net_001_newnet_child_has_no_eth0);
	run("net_002_unshare_then_veth0", net_002_unshare_then_veth0);
	run("net_005_udp_over_veth", net_005_udp_over_veth);
	run("net_006_tcp_loopback_in_a_container", net_006_tcp_loopback_in_a_container);
	run("net_007_udp_to_itself_in_a_container", net_007_udp_to_itself_in_a_container);
	run("net_008_same_port_in_two_containers", net_008_same_port_in_two_containers);
	run("net_009_tcp_over_veth", net_009_tcp_over_veth);
	run("socket_keeps_its_container_after_setns", socket_keeps_its_container_after_setns);
	run("veth_pair_appears_in_root_and_goes", veth_pair_appears_in_root_and_goes);
	run("proc_net_files_show_the_container", proc_net_files_show_the_container);
	run("ping_sockets", ping_sockets);
	run("socket_buffers_stop_at_a_budget", socket_buffers_stop_at_a_budget);
	run("netlink_interface_lists", netlink_interface_lists);
	printf("inet: %d failed\n", failures);
	return failures;
}
