/* rtnetlink's write side, run as init by tests/net.rs: RTM_NEWADDR/DELADDR, RTM_NEWROUTE/
 * DELROUTE and the RTM_GETROUTE dump, RTM_SETLINK (IFF_UP, IFLA_MTU), each acknowledged
 * with NLMSG_ERROR 0 or -errno as Linux does; CAP_NET_ADMIN for changes; RTM_NEWLINK
 * "veth" pairs with the peer put in a child's net container by pid, a veth end moved by
 * an nsfs fd, TCP and UDP over them, RTM_DELLINK, and the containers freed; then 1,000
 * net containers each with a loopback TCP connection open, in batches, all freed.
 * Prints "PASS <case>" or "FAIL <case>: <why>" per case and exits with the failures.
 * The netlink structures are declared here: musl-gcc has no kernel headers. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct nlmsghdr_ {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};
struct ifinfomsg_ {
	uint8_t family, pad;
	uint16_t type;
	int32_t index;
	uint32_t flags, change;
};
struct ifaddrmsg_ {
	uint8_t family, prefixlen, flags, scope;
	uint32_t index;
};
struct rtmsg_ {
	uint8_t family, dst_len, src_len, tos, table, protocol, scope, type;
	uint32_t flags;
};
struct rtattr_ {
	uint16_t len, type;
};
struct sockaddr_nl_ {
	uint16_t family, pad;
	uint32_t pid, groups;
};

enum {
	NLMSG_ERROR_ = 2, NLMSG_DONE_ = 3,
	RTM_NEWLINK_ = 16, RTM_DELLINK_, RTM_GETLINK_, RTM_SETLINK_,
	RTM_NEWADDR_ = 20, RTM_DELADDR_, RTM_GETADDR_,
	RTM_NEWROUTE_ = 24, RTM_DELROUTE_, RTM_GETROUTE_,
	RTM_NEWNEIGH_ = 28,
};
enum { F_REQUEST = 1, F_ACK = 4, F_DUMP = 0x300, F_REPLACE = 0x100, F_EXCL = 0x200, F_CREATE = 0x400 };
enum { IFLA_ADDRESS_ = 1, IFLA_IFNAME_ = 3, IFLA_MTU_ = 4, IFLA_LINKINFO_ = 18, IFLA_NET_NS_PID_ = 19, IFLA_NET_NS_FD_ = 28 };
enum { IFA_ADDRESS_ = 1, IFA_LOCAL_ = 2 };
enum { RTA_DST_ = 1, RTA_OIF_ = 4, RTA_GATEWAY_ = 5 };

#include "cases.h"

static uint32_t seq;

struct req {
	struct nlmsghdr_ n;
	char buf[2048];
};

#define ALIGN4(x) (((x) + 3) & ~3u)

static void start(struct req *r, int type, int flags, const void *fixed, int len)
{
	memset(r, 0, sizeof *r);
	r->n.len = sizeof r->n + ALIGN4(len);
	r->n.type = type;
	r->n.flags = F_REQUEST | flags;
	memcpy(r->buf, fixed, len);
}

static struct rtattr_ *attr(struct req *r, int type, const void *data, int len)
{
	struct rtattr_ *a = (void *)((char *)r + ALIGN4(r->n.len));
	a->type = type;
	a->len = sizeof *a + len;
	if (len)
		memcpy(a + 1, data, len);
	r->n.len = ALIGN4(r->n.len) + ALIGN4(a->len);
	return a;
}

static void nest_end(struct req *r, struct rtattr_ *a)
{
	a->len = (char *)r + r->n.len - (char *)a;
}

static int nl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW, 0);
	struct sockaddr_nl_ a = {.family = AF_NETLINK};
	if (s >= 0 && bind(s, (void *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static char reply[65536];

/* Sends r and returns the NLMSG_ERROR answer's errno (0: acknowledged), or -1 when the
 * answer is not an NLMSG_ERROR for this request. */
static int talk(int s, struct req *r)
{
	r->n.seq = ++seq;
	if (send(s, r, r->n.len, 0) != (ssize_t)r->n.len)
		return -1;
	ssize_t n = recv(s, reply, sizeof reply, 0);
	struct nlmsghdr_ *h = (void *)reply;
	if (n < (ssize_t)sizeof *h + 4 || h->type != NLMSG_ERROR_ || h->seq != seq)
		return -1;
	return -*(int32_t *)(h + 1);
}

static int link_req(int s, int type, int flags, int index, const char *name, uint32_t ifl, uint32_t chg)
{
	struct req r;
	struct ifinfomsg_ i = {.index = index, .flags = ifl, .change = chg};
	start(&r, type, F_ACK | flags, &i, sizeof i);
	if (name)
		attr(&r, IFLA_IFNAME_, name, strlen(name) + 1);
	return talk(s, &r);
}

static int addr_req(int s, int type, int flags, int index, const char *ip, int prefix)
{
	struct req r;
	struct ifaddrmsg_ m = {.family = AF_INET, .prefixlen = prefix, .index = index};
	struct in_addr a;
	inet_pton(AF_INET, ip, &a);
	start(&r, type, F_ACK | flags, &m, sizeof m);
	attr(&r, IFA_LOCAL_, &a, 4);
	attr(&r, IFA_ADDRESS_, &a, 4);
	return talk(s, &r);
}

static int route_req(int s, int type, int flags, const char *dst, int len, const char *gw, int oif)
{
	struct req r;
	struct rtmsg_ m = {.family = AF_INET, .dst_len = len, .table = 254, .protocol = 3, .type = 1};
	struct in_addr a;
	start(&r, type, F_ACK | flags, &m, sizeof m);
	if (dst) {
		inet_pton(AF_INET, dst, &a);
		attr(&r, RTA_DST_, &a, 4);
	}
	if (gw) {
		inet_pton(AF_INET, gw, &a);
		attr(&r, RTA_GATEWAY_, &a, 4);
	}
	if (oif)
		attr(&r, RTA_OIF_, &oif, 4);
	return talk(s, &r);
}

static int if_ioctl(const char *name, unsigned long cmd, struct ifreq *r)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(r, 0, sizeof *r);
	strncpy(r->ifr_name, name, IFNAMSIZ - 1);
	int e = ioctl(s, cmd, r);
	close(s);
	return e;
}

static int if_addr_is(const char *name, const char *ip)
{
	struct ifreq r;
	char got[16] = "";
	if (if_ioctl(name, SIOCGIFADDR, &r) == 0)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_addr)->sin_addr, got, sizeof got);
	return strcmp(got, ip) == 0;
}

static int read_file(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = read(fd, buf, size - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}

static int net_count(void)
{
	char b[128];
	if (read_file("/proc/sys/user/max_net_container", b, sizeof b) < 0)
		return -1;
	char *c = strstr(b, "count: ");
	return c ? atoi(c + 7) : -1;
}

static int wait_net_count(int want)
{
	int c = -1;
	for (int i = 0; i < 300 && (c = net_count()) != want; i++)
		usleep(10000);
	return c;
}

/* Addresses, routes and link flags of veth0 in a new net container, by raw messages. */
static int addr_route_link_child(void)
{
	int s = nl_open();
	CHECK(s >= 0, "netlink socket");
	int v = if_nametoindex("veth0");
	CHECK(v > 0, "veth0's index");
	CHECK(addr_req(s, RTM_NEWADDR_, F_CREATE | F_EXCL, v, "10.1.0.1", 24) == 0, "RTM_NEWADDR acked");
	CHECK(if_addr_is("veth0", "10.1.0.1"), "SIOCGIFADDR shows 10.1.0.1");
	int e = addr_req(s, RTM_NEWADDR_, F_CREATE | F_EXCL, v, "10.1.0.1", 24);
	CHECK(e == EEXIST, "the same address again: %d", e);
	e = addr_req(s, RTM_NEWADDR_, F_CREATE | F_EXCL, 99, "10.1.0.9", 24);
	CHECK(e == ENODEV, "an unknown link: %d", e);
	e = addr_req(s, RTM_NEWADDR_, F_CREATE, v, "10.1.0.1", 40);
	CHECK(e == EINVAL, "prefix 40: %d", e);

	/* Down, then up with an MTU; SIOCGIFFLAGS and SIOCGIFMTU read them back. */
	struct ifreq r;
	CHECK(link_req(s, RTM_SETLINK_, 0, v, NULL, 0, IFF_UP) == 0, "down acked");
	CHECK(if_ioctl("veth0", SIOCGIFFLAGS, &r) == 0 && !(r.ifr_flags & IFF_UP), "veth0 down");
	struct req q;
	struct ifinfomsg_ i = {.index = v, .flags = IFF_UP, .change = IFF_UP};
	uint32_t mtu = 1400;
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_MTU_, &mtu, 4);
	CHECK(talk(s, &q) == 0, "up with mtu 1400 acked");
	CHECK(if_ioctl("veth0", SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP), "veth0 up");
	CHECK(if_ioctl("veth0", SIOCGIFMTU, &r) == 0 && r.ifr_mtu == 1400, "mtu %d", r.ifr_mtu);
	mtu = 10;
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_MTU_, &mtu, 4);
	CHECK((e = talk(s, &q)) == EINVAL, "mtu 10: %d", e);
	CHECK((e = link_req(s, RTM_SETLINK_, 0, 0, "nope0", IFF_UP, IFF_UP)) == ENODEV, "no such link: %d", e);
	CHECK((e = link_req(s, RTM_NEWLINK_, 0, 0, "nope0", 0, 0)) == ENODEV, "NEWLINK without CREATE: %d", e);
	CHECK((e = link_req(s, RTM_NEWLINK_, F_CREATE | F_EXCL, v, NULL, 0, 0)) == EEXIST, "NEWLINK EXCL on veth0: %d", e);

	/* Routes: a default via a gateway, a subnet through the link. */
	CHECK(route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, NULL, 0, "10.1.0.2", 0) == 0, "default route acked");
	e = route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, NULL, 0, "10.1.0.2", 0);
	CHECK(e == EEXIST, "the default again: %d", e);
	CHECK(route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, "10.9.0.0", 16, NULL, v) == 0, "subnet route acked");
	e = route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, "10.8.0.0", 16, "9.9.9.9", 0);
	CHECK(e == ENETUNREACH, "an unreachable gateway: %d", e);
	e = route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, "10.8.0.0", 16, NULL, 77);
	CHECK(e == ENODEV, "an unknown link: %d", e);
	e = route_req(s, RTM_NEWROUTE_, F_CREATE | F_EXCL, "10.8.0.1", 16, NULL, v);
	CHECK(e == EINVAL, "host bits in the destination: %d", e);
	char buf[4096];
	CHECK(read_file("/proc/net/route", buf, sizeof buf) > 0, "/proc/net/route");
	CHECK(strstr(buf, "veth0\t00000000\t0200010A\t0003") != NULL, "the default in /proc/net/route:\n%s", buf);
	CHECK(strstr(buf, "veth0\t0000090A\t00000000\t0001") != NULL, "10.9.0.0/16 in /proc/net/route:\n%s", buf);

	/* The RTM_GETROUTE dump: default via 10.1.0.2, 10.9.0.0/16, 10.1.0.0/24 (kernel). */
	struct rtmsg_ rm = {.family = AF_INET};
	start(&q, RTM_GETROUTE_, F_DUMP, &rm, sizeof rm);
	q.n.seq = ++seq;
	CHECK(send(s, &q, q.n.len, 0) == (ssize_t)q.n.len, "dump request");
	int found_default = 0, found_subnet = 0, found_connected = 0, done = 0;
	while (!done) {
		ssize_t n = recv(s, reply, sizeof reply, 0);
		CHECK(n > 0, "dump reply");
		for (struct nlmsghdr_ *h = (void *)reply; (char *)h < reply + n; h = (void *)((char *)h + ALIGN4(h->len))) {
			if (h->type == NLMSG_DONE_) {
				done = 1;
				break;
			}
			CHECK(h->type == RTM_NEWROUTE_ && h->seq == seq, "type %d", h->type);
			struct rtmsg_ *m = (void *)(h + 1);
			uint32_t dst = 0, gw = 0;
			for (struct rtattr_ *a = (void *)(m + 1); (char *)a < (char *)h + h->len; a = (void *)((char *)a + ALIGN4(a->len))) {
				if (a->type == RTA_DST_)
					memcpy(&dst, a + 1, 4);
				if (a->type == RTA_GATEWAY_)
					memcpy(&gw, a + 1, 4);
			}
			found_default |= m->dst_len == 0 && gw == htonl(0x0a010002) && m->table == 254;
			found_subnet |= m->dst_len == 16 && dst == htonl(0x0a090000) && m->scope == 253;
			found_connected |= m->dst_len == 24 && dst == htonl(0x0a010000) && m->protocol == 2;
		}
	}
	CHECK(found_default && found_subnet && found_connected, "dump: default %d subnet %d connected %d",
	      found_default, found_subnet, found_connected);

	CHECK(route_req(s, RTM_DELROUTE_, 0, NULL, 0, NULL, 0) == 0, "default deleted");
	CHECK((e = route_req(s, RTM_DELROUTE_, 0, NULL, 0, NULL, 0)) == ESRCH, "deleted twice: %d", e);
	CHECK(addr_req(s, RTM_DELADDR_, 0, v, "10.1.0.1", 24) == 0, "RTM_DELADDR acked");
	CHECK(!if_addr_is("veth0", "10.1.0.1"), "address gone");
	CHECK((e = addr_req(s, RTM_DELADDR_, 0, v, "10.1.0.1", 24)) == EADDRNOTAVAIL, "deleted twice: %d", e);
	CHECK(read_file("/proc/net/route", buf, sizeof buf) > 0 && strstr(buf, "0000090A") == NULL,
	      "the subnet route went with veth0's last address:\n%s", buf);
	close(s);
	return 0;
}

static int addr_route_link_in_a_container(void)
{
	CHECK(in_child(CLONE_NEWNET, addr_route_link_child) == 0, "child failed");
	return 0;
}

/* Requests Linux answers with an error, and a change without NLM_F_ACK answering nothing. */
static int errno_child(void)
{
	int s = nl_open();
	CHECK(s >= 0, "netlink socket");
	struct req q;
	struct ifinfomsg_ i = {0};
	int e;
	start(&q, RTM_NEWNEIGH_, F_ACK, &i, sizeof i);
	CHECK((e = talk(s, &q)) == EOPNOTSUPP, "RTM_NEWNEIGH: %d", e);
	start(&q, RTM_NEWADDR_, F_ACK, &i, 4);
	CHECK((e = talk(s, &q)) == EINVAL, "a short ifaddrmsg: %d", e);
	CHECK((e = link_req(s, RTM_DELLINK_, 0, 1, NULL, 0, 0)) == EOPNOTSUPP, "RTM_DELLINK lo: %d", e);
	CHECK((e = link_req(s, RTM_DELLINK_, 0, 0, "nope0", 0, 0)) == ENODEV, "RTM_DELLINK nope0: %d", e);
	int pid = 999999;
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_IFNAME_, "veth0", 6);
	attr(&q, IFLA_NET_NS_PID_, &pid, 4);
	CHECK((e = talk(s, &q)) == ESRCH, "IFLA_NET_NS_PID of no process: %d", e);
	int fd = open("/proc/self/status", O_RDONLY);
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_IFNAME_, "veth0", 6);
	attr(&q, IFLA_NET_NS_FD_, &fd, 4);
	CHECK((e = talk(s, &q)) == EINVAL, "IFLA_NET_NS_FD of a plain file: %d", e);
	close(fd);
	pid = 1;
	i.index = 1;
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_NET_NS_PID_, &pid, 4);
	CHECK((e = talk(s, &q)) == EINVAL, "moving lo: %d", e);
	/* Without NLM_F_ACK a change that works answers nothing. */
	i.index = if_nametoindex("veth0");
	i.flags = i.change = IFF_UP;
	start(&q, RTM_SETLINK_, 0, &i, sizeof i);
	CHECK(send(s, &q, q.n.len, 0) == (ssize_t)q.n.len, "send");
	CHECK(recv(s, reply, sizeof reply, MSG_DONTWAIT) == -1 && errno == EAGAIN, "no answer");
	/* Without CAP_NET_ADMIN: EPERM, and dumps still work. */
	CHECK(setuid(65534) == 0, "setuid");
	CHECK((e = link_req(s, RTM_SETLINK_, 0, i.index, NULL, 0, IFF_UP)) == EPERM, "SETLINK unprivileged: %d", e);
	CHECK((e = addr_req(s, RTM_NEWADDR_, F_CREATE, i.index, "10.4.0.1", 24)) == EPERM, "NEWADDR unprivileged: %d", e);
	struct if_nameindex *ni = if_nameindex();
	CHECK(ni != NULL && ni[0].if_index == 1, "if_nameindex unprivileged");
	if_freenameindex(ni);
	close(s);
	return 0;
}

static int errnos_and_cap_net_admin(void)
{
	CHECK(in_child(CLONE_NEWNET, errno_child) == 0, "child failed");
	return 0;
}

/* RTM_NEWLINK "veth" v1 here, its peer v2 (VETH_INFO_PEER) in net container `pid`. */
static int new_veth(int s, const char *name, const char *peer, int pid)
{
	struct req q;
	struct ifinfomsg_ i = {0};
	start(&q, RTM_NEWLINK_, F_ACK | F_CREATE | F_EXCL, &i, sizeof i);
	attr(&q, IFLA_IFNAME_, name, strlen(name) + 1);
	struct rtattr_ *info = attr(&q, IFLA_LINKINFO_, NULL, 0);
	attr(&q, 1 /* IFLA_INFO_KIND */, "veth", 4);
	struct rtattr_ *data = attr(&q, 2 /* IFLA_INFO_DATA */, NULL, 0);
	struct rtattr_ *p = attr(&q, 1 /* VETH_INFO_PEER */, &i, sizeof i);
	attr(&q, IFLA_IFNAME_, peer, strlen(peer) + 1);
	if (pid)
		attr(&q, IFLA_NET_NS_PID_, &pid, 4);
	nest_end(&q, p);
	nest_end(&q, data);
	nest_end(&q, info);
	return talk(s, &q);
}

static int up_with(int s, const char *name, const char *ip)
{
	int v = if_nametoindex(name);
	if (v <= 0)
		return -1;
	if (addr_req(s, RTM_NEWADDR_, F_CREATE | F_EXCL, v, ip, 24))
		return -1;
	return link_req(s, RTM_SETLINK_, 0, v, NULL, IFF_UP, IFF_UP);
}

static struct sockaddr_in sin4(const char *ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* The child of veth_by_pid: v2 arrives, gets 10.2.0.2, serves one TCP echo, then sees
 * v2 go when the root deletes v1. */
static int pid_child(int go, int ready)
{
	char c;
	int s = nl_open();
	CHECK(read(go, &c, 1) == 1, "go");
	CHECK(if_nametoindex("v2") > 0, "v2 arrived");
	CHECK(up_with(s, "v2", "10.2.0.2") == 0, "v2 configured");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("10.2.0.2", 7000);
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0, "listen");
	CHECK(write(ready, "r", 1) == 1, "ready");
	int c2 = accept(l, NULL, NULL);
	CHECK(c2 >= 0, "accept");
	char buf[8] = "";
	CHECK(read(c2, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0, "ping");
	CHECK(write(c2, "pong", 4) == 4, "pong");
	close(c2);
	close(l);
	CHECK(read(go, &c, 1) == 1, "go 2");
	CHECK(if_nametoindex("v2") == 0, "v2 went with v1");
	return 0;
}

static int veth_by_pid_tcp_then_delete(void)
{
	int start_count = net_count();
	int go[2], ready[2];
	CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipes");
	pid_t p = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (p == 0) {
		int r = pid_child(go[0], ready[1]);
		if (r)
			fprintf(stderr, "child: %s (errno %d)\n", why, errno);
		_exit(r ? 1 : 0);
	}
	CHECK(p > 0, "clone");
	int s = nl_open();
	int e = new_veth(s, "v1", "v2", p);
	CHECK(e == 0, "RTM_NEWLINK veth with the peer in the child: %d", e);
	CHECK(if_nametoindex("v1") > 0 && if_nametoindex("v2") == 0, "v1 here, v2 not");
	CHECK((e = new_veth(s, "v1", "v9", 0)) == EEXIST, "v1 again: %d", e);
	CHECK(up_with(s, "v1", "10.2.0.1") == 0, "v1 configured");
	CHECK(write(go[1], "g", 1) == 1, "go");
	char c;
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("10.2.0.2", 7000);
	CHECK(connect(t, (void *)&a, sizeof a) == 0, "connect to the child");
	CHECK(write(t, "ping", 4) == 4, "send");
	char buf[8] = "";
	CHECK(read(t, buf, 4) == 4 && memcmp(buf, "pong", 4) == 0, "reply '%s'", buf);
	close(t);
	CHECK(link_req(s, RTM_DELLINK_, 0, 0, "v1", 0, 0) == 0, "RTM_DELLINK v1");
	CHECK(if_nametoindex("v1") == 0, "v1 gone");
	CHECK(write(go[1], "g", 1) == 1, "go 2");
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %x", st);
	CHECK((e = wait_net_count(start_count)) == start_count, "net containers %d, want %d", e, start_count);
	close(s);
	return 0;
}

/* v3/v4 made in the root; v4 moved into a child by an nsfs fd (RTM_SETLINK
 * IFLA_NET_NS_FD); UDP over the pair; the child's exit takes v3 too. */
static int veth_moved_by_fd_udp(void)
{
	int start_count = net_count();
	int go[2], ready[2];
	CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipes");
	pid_t p = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	if (p == 0) {
		char c;
		int s = nl_open();
		int ok = read(go[0], &c, 1) == 1 && up_with(s, "v4", "10.3.0.2") == 0;
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = sin4("10.3.0.2", 7001), from;
		ok = ok && bind(u, (void *)&a, sizeof a) == 0;
		if (write(ready[1], ok ? "r" : "x", 1) != 1 || !ok)
			_exit(2);
		char buf[16];
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(u, buf, sizeof buf, 0, (void *)&from, &fl);
		if (n != 5 || sendto(u, "hello", 5, 0, (void *)&from, fl) != 5)
			_exit(3);
		read(go[0], &c, 1);
		_exit(0);
	}
	CHECK(p > 0, "clone");
	int s = nl_open();
	int e = new_veth(s, "v3", "v4", 0);
	CHECK(e == 0, "pair in the root: %d", e);
	CHECK(if_nametoindex("v4") > 0, "v4 in the root");
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/net", p);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "open %s", path);
	struct req q;
	struct ifinfomsg_ i = {0};
	start(&q, RTM_SETLINK_, F_ACK, &i, sizeof i);
	attr(&q, IFLA_IFNAME_, "v4", 3);
	attr(&q, IFLA_NET_NS_FD_, &fd, 4);
	CHECK((e = talk(s, &q)) == 0, "moved by fd: %d", e);
	close(fd);
	CHECK(if_nametoindex("v4") == 0, "v4 left the root");
	CHECK(up_with(s, "v3", "10.3.0.1") == 0, "v3 configured");
	char c;
	CHECK(write(go[1], "g", 1) == 1 && read(ready[0], &c, 1) == 1 && c == 'r', "child ready");
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4("10.3.0.2", 7001);
	CHECK(sendto(u, "howdy", 5, 0, (void *)&a, sizeof a) == 5, "sendto");
	char buf[16] = "";
	CHECK(recv(u, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0, "reply '%s'", buf);
	close(u);
	CHECK(write(go[1], "g", 1) == 1, "go 2");
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %x", st);
	CHECK((e = wait_net_count(start_count)) == start_count, "net containers %d, want %d", e, start_count);
	CHECK(if_nametoindex("v3") == 0, "v3 went with the child's container");
	close(s);
	return 0;
}

static long mem_free_kb(void)
{
	char b[2048];
	if (read_file("/proc/meminfo", b, sizeof b) < 0)
		return -1;
	char *m = strstr(b, "MemFree:");
	return m ? atol(m + 8) : -1;
}

static int write_limit(const char *v)
{
	int fd = open("/proc/sys/user/max_net_container", O_WRONLY);
	int ok = fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* One container of the thousand: a loopback TCP connection, open (a byte across it)
 * until `go` reaches EOF. */
static void tcp_holder(int go, int ready)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", 8000);
	int ok = l >= 0 && bind(l, (void *)&a, sizeof a) == 0 && listen(l, 1) == 0;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ok = ok && connect(c, (void *)&a, sizeof a) == 0;
	int s = ok ? accept(l, NULL, NULL) : -1;
	close(l);
	char b = 0;
	ok = ok && s >= 0 && write(c, "x", 1) == 1 && read(s, &b, 1) == 1 && b == 'x';
	if (write(ready, ok ? "r" : "x", 1) != 1)
		_exit(2);
	read(go, &b, 1);
	_exit(ok ? 0 : 1);
}

enum { BATCH = 50, TOTAL = 1000 };

/* 1,000 net containers, each with a TCP connection open, in batches of 50 alive at once
 * (the limit raised to 200; the socket-buffer budget holds about 190 such connections):
 * each batch's containers all count, all go when their processes exit; at the end the
 * count is back to its start and MemFree too. */
static int thousand_net_containers_with_tcp(void)
{
	int start_count = net_count();
	long mem_start = mem_free_kb();
	CHECK(start_count >= 1 && mem_start > 0, "count %d, MemFree %ld", start_count, mem_start);
	CHECK(write_limit("200") == 0, "raise max_net_container");
	pid_t pids[BATCH];
	for (int done = 0; done < TOTAL; done += BATCH) {
		int go[2], ready[2];
		CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipes");
		int n = 0;
		for (; n < BATCH; n++) {
			pid_t p = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
			if (p == 0) {
				close(go[1]);
				close(ready[0]);
				tcp_holder(go[0], ready[1]);
			}
			if (p < 0)
				break;
			pids[n] = p;
		}
		close(go[0]);
		close(ready[1]);
		int ok = 0;
		char b;
		for (int i = 0; i < n; i++)
			ok += read(ready[0], &b, 1) == 1 && b == 'r';
		int live = net_count();
		close(go[1]);
		close(ready[0]);
		int exited = 0;
		for (int i = 0; i < n; i++) {
			int st;
			exited += waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		}
		CHECK(n == BATCH, "batch at %d: %d containers made", done, n);
		CHECK(ok == BATCH && exited == BATCH, "batch at %d: %d connected, %d exited 0", done, ok, exited);
		CHECK(live == start_count + BATCH, "batch at %d: %d live, want %d", done, live, start_count + BATCH);
		int c = wait_net_count(start_count);
		CHECK(c == start_count, "batch at %d: %d live after, want %d", done, c, start_count);
	}
	CHECK(write_limit("10") == 0, "limit back to 10");
	CHECK(if_nametoindex("veth0") == 0, "no veth left in the root");
	/* MemFree counts the heap's pages: tables that grew to their peak (the port maps,
	 * the container lists) stay grown, as in t_stress_containers (256 kB of slack). */
	const long slack_kb = 256;
	long mem = mem_free_kb();
	for (int i = 0; i < 100 && mem + slack_kb < mem_start; i++) {
		usleep(10000);
		mem = mem_free_kb();
	}
	printf("rtnl: %d net containers with TCP; MemFree start %ld kB, end %ld kB\n", TOTAL, mem_start, mem);
	CHECK(mem + slack_kb >= mem_start, "MemFree %ld kB more than %ld kB below %ld kB at start", mem,
	      slack_kb, mem_start);
	return 0;
}

int main(void)
{
	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, 0);
	setvbuf(stdout, 0, _IONBF, 0);
	run("addr_route_link_in_a_container", addr_route_link_in_a_container);
	run("errnos_and_cap_net_admin", errnos_and_cap_net_admin);
	run("veth_by_pid_tcp_then_delete", veth_by_pid_tcp_then_delete);
	run("veth_moved_by_fd_udp", veth_moved_by_fd_udp);
	run("thousand_net_containers_with_tcp", thousand_net_containers_with_tcp);
	printf("rtnl: %d failed\n", failures);
	return failures;
}
