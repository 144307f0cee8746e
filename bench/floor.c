// bench/floor.c: the floor of `make bench` — the least a bridge plugin can ask of the kernel for one
// attachment, through raw rtnetlink and nothing else (no config parsing, no IPAM, no result).
//
//   ADD: one RTM_NEWLINK creates the veth pair with the host end up and enslaved to the bridge
//        (IFLA_MASTER) and the peer named CNI_IFNAME, inside the container netns
//        (IFLA_NET_NS_FD); then setns() into the container, a socket there, and one batched send of
//        RTM_NEWLINK (peer up, with arp_notify=1 in IFLA_AF_SPEC: both plugins set it, so the kernel
//        announces the address with a gratuitous ARP flooded to every bridge port; through netlink, as
//        cniveth does, because a /proc/sys path costs a walk over one dentry per network namespace
//        that looked it up: 5.9 ms per ADD in make bench's attached phase) + RTM_NEWADDR (the address) +
//        RTM_NEWROUTE (default route via the gateway); last, RTM_GETLINK of the host end until it is
//        operationally up (both plugins wait for that: until then the port does not forward; the
//        request also makes the kernel finish the port's pending carrier work in this process instead of
//        a worker). Polls sleep 0, 1, 2, 4 … 50 ms as cniveth's do.
//   DEL: one RTM_DELLINK of the host end (the kernel deletes the pair).
//   GC:  one RTM_GETLINK dump; every link whose name starts with FLOOR_GC_PREFIX and is not listed in
//        the file FLOOR_GC_VALID (one name a line) is stale. FLOOR_GC_MODE=each: one RTM_DELLINK per
//        stale link, each waiting for its ACK (what a plugin's GC does by default); group: batched sends
//        (64 requests each) setting IFLA_GROUP on every stale link to a group number no link uses, then
//        one RTM_DELLINK by that group (the kernel unregisters them all in one batch).
//
// VERSION: prints a version answer at once (the floor of process start-up).
//
// Inputs come from the environment, like a plugin: CNI_COMMAND (ADD|DEL|GC|VERSION), CNI_NETNS, CNI_IFNAME,
// FLOOR_BRIDGE, FLOOR_HOSTIF, FLOOR_ADDR (a.b.c.d/len), FLOOR_GW, and for GC the FLOOR_GC_* above. Every request asks for an ACK and
// waits for it. On success it prints "ns=<in-process time in nanoseconds>" (from main() to the last
// ACK) so the harness can separate process start-up from kernel time.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 18];
static size_t len;
static uint32_t seq;

static void fail(const char *what, int err) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(err));
    exit(1);
}

static const char *env(const char *k) {
    const char *v = getenv(k);
    if (!v || !*v) { fprintf(stderr, "floor: %s is not set\n", k); exit(1); }
    return v;
}

static struct nlmsghdr *msg_begin(uint16_t type, uint16_t flags) {
    len = (len + 3) & ~3u;
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + len);
    memset(h, 0, sizeof *h);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = ++seq;
    len += NLMSG_HDRLEN;
    return h;
}
static void msg_end(struct nlmsghdr *h) { h->nlmsg_len = (uint32_t)(buf + len - (char *)h); }
static void *put(const void *data, size_t n) {
    len = (len + 3) & ~3u;
    void *p = buf + len;
    if (data) memcpy(p, data, n); else memset(p, 0, n);
    len += n;
    return p;
}
static struct rtattr *attr(uint16_t type, const void *data, size_t n) {
    len = (len + 3) & ~3u;
    struct rtattr *a = (struct rtattr *)(buf + len);
    a->rta_type = type;
    a->rta_len = (uint16_t)RTA_LENGTH(n);
    len += RTA_LENGTH(0);
    if (n) put(data, n);
    return a;
}
static struct rtattr *nest(uint16_t type) { return attr(type, NULL, 0); }
static void nest_end(struct rtattr *a) { a->rta_len = (uint16_t)(buf + len - (char *)a); }

// sends everything in buf and waits for one ACK per message
static void transact(int fd, int msgs, const char *what) {
    struct sockaddr_nl k = { .nl_family = AF_NETLINK };
    if (sendto(fd, buf, len, 0, (struct sockaddr *)&k, sizeof k) < 0) fail(what, errno);
    char rb[8192];
    while (msgs > 0) {
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) { if (errno == EINTR) continue; fail(what, errno); }
        for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (size_t)r); h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error) fail(what, -e->error);
                msgs--;
            }
        }
    }
    len = 0;
}

static int rtnl(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) fail("socket", errno);
    return fd;
}

static int ifindex(int fd, const char *name) {
    struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) fail(name, errno);
    return ifr.ifr_ifindex;
}

static uint64_t now(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// GC: the dump, then the stale links deleted one by one or by a fresh group number
static int gc(void) {
    const char *prefix = env("FLOOR_GC_PREFIX"), *mode = env("FLOOR_GC_MODE");
    size_t vlen = 0; char *valid = NULL;
    FILE *vf = fopen(env("FLOOR_GC_VALID"), "r");
    if (!vf) fail("FLOOR_GC_VALID", errno);
    if (getdelim(&valid, &vlen, 0, vf) < 0) { free(valid); valid = strdup(""); }
    fclose(vf);
    int fd = rtnl();
    static int stale[4096]; int nstale = 0;
    static uint32_t used[8192]; int nused = 0;
    struct nlmsghdr *h = msg_begin(RTM_GETLINK, NLM_F_DUMP);
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    struct ifinfomsg *q = put(NULL, sizeof *q); q->ifi_family = AF_UNSPEC;
    msg_end(h);
    struct sockaddr_nl k = { .nl_family = AF_NETLINK };
    if (sendto(fd, buf, len, 0, (struct sockaddr *)&k, sizeof k) < 0) fail("dump", errno);
    len = 0;
    static char rb[1 << 16];
    for (int done = 0; !done;) {
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) { if (errno == EINTR) continue; fail("dump", errno); }
        for (struct nlmsghdr *m = (struct nlmsghdr *)rb; NLMSG_OK(m, (size_t)r); m = NLMSG_NEXT(m, r)) {
            if (m->nlmsg_type == NLMSG_DONE) { done = 1; break; }
            if (m->nlmsg_type == NLMSG_ERROR) fail("dump", -((struct nlmsgerr *)NLMSG_DATA(m))->error);
            struct ifinfomsg *ifi = NLMSG_DATA(m);
            const char *name = ""; uint32_t group = 0;
            int alen = (int)IFLA_PAYLOAD(m);
            for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
                if (a->rta_type == IFLA_GROUP) memcpy(&group, RTA_DATA(a), 4);
            }
            if (nused < 8192) used[nused++] = group;
            if (strncmp(name, prefix, strlen(prefix)) != 0 || nstale == 4096) continue;
            char line[IFNAMSIZ + 2]; snprintf(line, sizeof line, "%s\n", name);
            int listed = 0;             // listed: the name and a newline, at the start of a line
            for (char *p = strstr(valid, line); p; p = strstr(p + 1, line))
                if (p == valid || p[-1] == '\n') { listed = 1; break; }
            if (!listed) stale[nstale++] = ifi->ifi_index;
        }
    }
    if (strcmp(mode, "each") == 0) {
        for (int i = 0; i < nstale; i++) {
            h = msg_begin(RTM_DELLINK, 0);
            struct ifinfomsg *ifi = put(NULL, sizeof *ifi); ifi->ifi_index = stale[i];
            msg_end(h);
            transact(fd, 1, "delete stale veth");
        }
    } else if (strcmp(mode, "group") == 0 && nstale > 0) {
        uint32_t g;
        for (int clash = 1; clash;) { // random, clear of the small numbers people name; unused here
            if (getentropy(&g, sizeof g) < 0) fail("getentropy", errno);
            g |= 0x10000; clash = 0;
            for (int i = 0; i < nused; i++) if (used[i] == g) clash = 1;
        }
        // in sends of 64: every ACK is a separate skb of ~1 KB truesize, and 500 of them at once overflow
        // a default receive buffer (the kernel then drops them and reports ENOBUFS)
        for (int i = 0; i < nstale; i += 64) {
            int n = nstale - i < 64 ? nstale - i : 64;
            for (int j = i; j < i + n; j++) {
                h = msg_begin(RTM_NEWLINK, 0);
                struct ifinfomsg *ifi = put(NULL, sizeof *ifi); ifi->ifi_index = stale[j];
                attr(IFLA_GROUP, &g, sizeof g);
                msg_end(h);
            }
            transact(fd, n, "set group");
        }
        h = msg_begin(RTM_DELLINK, 0);
        put(NULL, sizeof(struct ifinfomsg));
        attr(IFLA_GROUP, &g, sizeof g);
        msg_end(h);
        transact(fd, 1, "delete by group");
    } else if (strcmp(mode, "group") != 0) { fprintf(stderr, "floor: FLOOR_GC_MODE is each or group\n"); exit(1); }
    free(valid);
    return nstale;
}

int main(void) {
    uint64_t t0 = now();
    const char *cmd = env("CNI_COMMAND");
    if (strcmp(cmd, "VERSION") == 0) { // process start-up floor: answer without reading anything
        puts("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}");
        return 0;
    }
    if (strcmp(cmd, "GC") == 0) {
        gc();
        printf("ns=%llu\n", (unsigned long long)(now() - t0));
        return 0;
    }
    const char *hostif = env("FLOOR_HOSTIF");
    if (strcmp(cmd, "DEL") == 0) {
        int fd = rtnl();
        struct nlmsghdr *h = msg_begin(RTM_DELLINK, 0);
        put(NULL, sizeof(struct ifinfomsg));
        attr(IFLA_IFNAME, hostif, strlen(hostif) + 1);
        msg_end(h);
        transact(fd, 1, "delete veth");
        printf("ns=%llu\n", (unsigned long long)(now() - t0));
        return 0;
    }
    if (strcmp(cmd, "ADD") != 0) { fprintf(stderr, "floor: only ADD, DEL, GC and VERSION\n"); return 1; }
    const char *netns = env("CNI_NETNS"), *ifname = env("CNI_IFNAME"), *bridge = env("FLOOR_BRIDGE");
    const char *addr = env("FLOOR_ADDR"), *gw = env("FLOOR_GW");
    char ip[64]; snprintf(ip, sizeof ip, "%s", addr);
    char *slash = strchr(ip, '/'); if (!slash) fail("FLOOR_ADDR needs /len", EINVAL);
    *slash = 0; uint8_t plen = (uint8_t)atoi(slash + 1);
    struct in_addr a, g;
    if (inet_pton(AF_INET, ip, &a) != 1 || inet_pton(AF_INET, gw, &g) != 1) fail("address", EINVAL);

    int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) fail(netns, errno);
    int fd = rtnl();
    uint32_t br = (uint32_t)ifindex(fd, bridge);

    // veth pair: host end up + enslaved, peer in the container netns
    struct nlmsghdr *h = msg_begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = put(NULL, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC; ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP;
    attr(IFLA_IFNAME, hostif, strlen(hostif) + 1);
    attr(IFLA_MASTER, &br, sizeof br);
    struct rtattr *li = nest(IFLA_LINKINFO);
    attr(IFLA_INFO_KIND, "veth", 4);
    struct rtattr *data = nest(IFLA_INFO_DATA);
    struct rtattr *peer = nest(VETH_INFO_PEER);
    struct ifinfomsg *pi = put(NULL, sizeof *pi);
    pi->ifi_family = AF_UNSPEC; // (the kernel refuses IFF_UP here: ENOTCONN; set below)
    attr(IFLA_IFNAME, ifname, strlen(ifname) + 1);
    uint32_t nsfd32 = (uint32_t)nsfd;
    attr(IFLA_NET_NS_FD, &nsfd32, sizeof nsfd32);
    nest_end(peer); nest_end(data); nest_end(li);
    msg_end(h);
    transact(fd, 1, "create veth");

    uint32_t host_idx = (uint32_t)ifindex(fd, hostif);

    // inside the container: link up with arp_notify + address + default route, one batched send
    if (setns(nsfd, CLONE_NEWNET) < 0) fail("setns", errno);
    int cfd = rtnl();
    uint32_t idx = (uint32_t)ifindex(cfd, ifname);
    h = msg_begin(RTM_NEWLINK, 0);
    ifi = put(NULL, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC; ifi->ifi_index = (int)idx; ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP;
    struct rtattr *af = nest(IFLA_AF_SPEC), *inet = nest(AF_INET), *conf = nest(IFLA_INET_CONF);
    uint32_t one = 1;
    attr(IPV4_DEVCONF_ARP_NOTIFY, &one, sizeof one);
    nest_end(conf); nest_end(inet); nest_end(af);
    msg_end(h);
    h = msg_begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = put(NULL, sizeof *ifa);
    ifa->ifa_family = AF_INET; ifa->ifa_prefixlen = plen; ifa->ifa_index = idx;
    attr(IFA_LOCAL, &a, 4);
    attr(IFA_ADDRESS, &a, 4);
    msg_end(h);
    h = msg_begin(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rt = put(NULL, sizeof *rt);
    rt->rtm_family = AF_INET; rt->rtm_table = RT_TABLE_MAIN; rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE; rt->rtm_type = RTN_UNICAST;
    attr(RTA_GATEWAY, &g, 4);
    attr(RTA_OIF, &idx, 4);
    msg_end(h);
    transact(cfd, 3, "link up + address + route");

    // the host end forwards once it is operationally up (fd is still the host namespace's socket)
    for (int sleep_ms = 0, tries = 0; ; tries++) {
        struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
            .h = { .nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = ++seq },
            .i = { .ifi_family = AF_UNSPEC, .ifi_index = (int)host_idx } };
        if (send(fd, &req, sizeof req, 0) < 0) fail("getlink", errno);
        static char rb[8192];
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) fail("getlink", errno);
        struct nlmsghdr *m = (struct nlmsghdr *)rb;
        if (m->nlmsg_type == NLMSG_ERROR) fail("getlink", -((struct nlmsgerr *)NLMSG_DATA(m))->error);
        int oper = -1, alen = (int)IFLA_PAYLOAD(m);
        for (struct rtattr *at = IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(m)); RTA_OK(at, alen); at = RTA_NEXT(at, alen))
            if (at->rta_type == IFLA_OPERSTATE) oper = *(uint8_t *)RTA_DATA(at);
        if (oper == IF_OPER_UP) break;
        if (tries > 200) fail("host end never came up", ETIMEDOUT);
        if (sleep_ms) usleep((useconds_t)sleep_ms * 1000);
        sleep_ms = sleep_ms ? (sleep_ms * 2 > 50 ? 50 : sleep_ms * 2) : 1;
    }
    printf("ns=%llu\n", (unsigned long long)(now() - t0));
    return 0;
}
