// bench/attachops.c: the kernel's time for each rtnetlink request of a cniveth ADD and DEL, with N ports
// already on the bridge, for several N at once (issue 16: where does ADD's growth with N come from?).
//
// Usage: attachops K HOSTNS:CONTNS[:nov6][:byname]... (each pair: a host namespace holding bridge cni0 with 10.88.0.1/16
// and N ports, and an empty container namespace). The namespaces take turns request by request, so machine
// noise hits every N alike. Per round and namespace, the requests of one ADD in cniveth's order, each timed
// from sendmsg to its last reply:
//   getlink-bridge   RTM_GETLINK cni0 by name (EnsureBridge)
//   newlink-veth     RTM_NEWLINK veth, host end up + IFLA_MASTER, peer eth0 in the container (CreateVeth)
//   getlink-veth     RTM_GETLINK of the new host end by name
//   setlink-alias    RTM_NEWLINK IFLA_IFALIAS on the host end    } one batch in cniveth
//   setlink-bridge   RTM_NEWLINK re-setting the bridge's own MAC } (ConfigureHostSide); timed one
//   newaddr-gw       RTM_NEWADDR 10.88.0.1/16 on the bridge (EEXIST) } by one here
//   container        setns, socket, RTM_GETLINK eth0, peer up + address + default route (one batch)
//   getlink-oper     RTM_GETLINK of the host end by index until IF_OPER_UP (WaitForwarding); also counts polls
//   dellink          RTM_DELLINK of the host end (a DEL)
// For a namespace given as HOSTNS:CONTNS:nov6, right after newlink-veth (before anything else touches it):
//   sysctl-v6        setns into the host namespace, write 1 to net/ipv6/conf/<host end>/disable_ipv6
// With :byname, no getlink-veth: the alias is set by name, and getlink-oper polls by name (its first
// reply gives the ifindex for the delete).
// Prints: op, then per namespace p50 and p90 in microseconds.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { GETLINK_BRIDGE, NEWLINK_VETH, SYSCTL_V6, GETLINK_VETH, SETLINK_ALIAS, SETLINK_BRIDGE, NEWADDR_GW, CONTAINER,
       GETLINK_OPER, DELLINK, NOPS };
static const char *opname[NOPS] = { "getlink-bridge", "newlink-veth", "sysctl-v6", "getlink-veth", "setlink-alias",
    "setlink-bridge", "newaddr-gw", "container", "getlink-oper", "dellink" };

#define MAXNS 8
#define MAXK 1000
static uint64_t t[MAXNS][NOPS][MAXK];
static int polls[MAXNS][MAXK];

static void die(const char *what, int err) { fprintf(stderr, "attachops: %s: %s\n", what, strerror(err)); exit(1); }
static uint64_t now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1000000000ull + ts.tv_nsec; }

static char buf[16384];
static size_t len;
static uint32_t seq;

static struct nlmsghdr *begin(uint16_t type, uint16_t flags) {
    len = 0; memset(buf, 0, sizeof buf);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_type = type; h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags; h->nlmsg_seq = ++seq;
    len = NLMSG_HDRLEN;
    return h;
}
static void *put(size_t n) { void *p = buf + len; len = NLMSG_ALIGN(len + n); return p; }
static struct rtattr *attr(uint16_t type, const void *data, size_t n) {
    struct rtattr *a = (struct rtattr *)(buf + len);
    a->rta_type = type; a->rta_len = RTA_LENGTH(n);
    if (data) memcpy(RTA_DATA(a), data, n);
    len += RTA_ALIGN(a->rta_len);
    return a;
}
static void nest_end(struct rtattr *a) { a->rta_len = (uint16_t)(buf + len - (char *)a); }
static void end(struct nlmsghdr *h) { h->nlmsg_len = (uint32_t)len; }

// sends buf; returns the kernel's errno (0 on success); copies a data reply (RTM_NEWLINK) to reply
static char reply[16384];
static int transact(int fd, int want_reply) {
    if (send(fd, buf, len, 0) < 0) die("send", errno);
    int err = 0, got_ack = 0;
    static char rb[32768];
    while (!got_ack) {
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) { if (errno == EINTR) continue; die("recv", errno); }
        for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (size_t)r); h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type == NLMSG_ERROR) { err = -((struct nlmsgerr *)NLMSG_DATA(h))->error; got_ack = 1; }
            else if (want_reply) { memcpy(reply, h, h->nlmsg_len < sizeof reply ? h->nlmsg_len : sizeof reply); }
        }
    }
    return err;
}

static struct rtattr *find_attr(int type) {
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    int alen = (int)IFLA_PAYLOAD(h);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) if (a->rta_type == type) return a;
    return NULL;
}

static int getlink_name(int fd, const char *name) {
    begin(RTM_GETLINK, 0);
    put(sizeof(struct ifinfomsg));
    attr(IFLA_IFNAME, name, strlen(name) + 1);
    end((struct nlmsghdr *)buf);
    ((struct nlmsghdr *)buf)->nlmsg_flags = NLM_F_REQUEST; // a get answers with the link, no ACK
    if (send(fd, buf, len, 0) < 0) die("send", errno);
    ssize_t r = recv(fd, reply, sizeof reply, 0);
    if (r < 0) die("recv", errno);
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    if (h->nlmsg_type == NLMSG_ERROR) die(name, -((struct nlmsgerr *)NLMSG_DATA(h))->error);
    return ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

static int operstate_index(int fd, int index) {
    begin(RTM_GETLINK, 0);
    struct ifinfomsg *ifi = put(sizeof *ifi); ifi->ifi_index = index;
    end((struct nlmsghdr *)buf);
    ((struct nlmsghdr *)buf)->nlmsg_flags = NLM_F_REQUEST;
    if (send(fd, buf, len, 0) < 0) die("send", errno);
    if (recv(fd, reply, sizeof reply, 0) < 0) die("recv", errno);
    struct rtattr *a = find_attr(IFLA_OPERSTATE);
    return a ? *(uint8_t *)RTA_DATA(a) : -1;
}

static int cmp(const void *a, const void *b) { uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: attachops K HOSTNS:CONTNS[:nov6][:byname]...\n"); return 2; }
    int k = atoi(argv[1]), nns = argc - 2;
    if (k < 1 || k > MAXK || nns > MAXNS) { fprintf(stderr, "attachops: K <= %d, at most %d namespaces\n", MAXK, MAXNS); return 2; }
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int hostfd[MAXNS], contns[MAXNS], hostns[MAXNS], nov6[MAXNS], byname[MAXNS];
    for (int n = 0; n < nns; n++) {
        char *spec = strdup(argv[n + 2]), *colon = strchr(spec, ':');
        if (!colon) { fprintf(stderr, "attachops: %s: HOSTNS:CONTNS\n", spec); return 2; }
        *colon = 0;
        char *third = strchr(colon + 1, ':');
        nov6[n] = third && strstr(third, ":nov6") != NULL;
        byname[n] = third && strstr(third, ":byname") != NULL;
        if (third) *third = 0;
        int hns = open(spec, O_RDONLY | O_CLOEXEC); if (hns < 0) die(spec, errno);
        contns[n] = open(colon + 1, O_RDONLY | O_CLOEXEC); if (contns[n] < 0) die(colon + 1, errno);
        if (setns(hns, CLONE_NEWNET) < 0) die("setns", errno);
        hostfd[n] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
        hostns[n] = hns;
    }
    struct in_addr gw, ip; inet_pton(AF_INET, "10.88.0.1", &gw); inet_pton(AF_INET, "10.88.200.2", &ip);
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < nns; j++) {
            int n = (i + j) % nns, fd = hostfd[n];
            uint64_t t0;
            // getlink-bridge (and its MAC, for setlink-bridge)
            t0 = now(); int br = getlink_name(fd, "cni0"); t[n][GETLINK_BRIDGE][i] = now() - t0;
            unsigned char mac[6]; struct rtattr *ma = find_attr(IFLA_ADDRESS); memcpy(mac, RTA_DATA(ma), 6);
            // newlink-veth
            struct nlmsghdr *h = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
            struct ifinfomsg *ifi = put(sizeof *ifi); ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP;
            attr(IFLA_IFNAME, "vethbench", 10);
            uint32_t mtu = 1500; attr(IFLA_MTU, &mtu, 4);
            attr(IFLA_MASTER, &br, 4);
            struct rtattr *li = attr(IFLA_LINKINFO, NULL, 0);
            attr(IFLA_INFO_KIND, "veth", 4);
            struct rtattr *data = attr(IFLA_INFO_DATA, NULL, 0);
            struct rtattr *peer = attr(VETH_INFO_PEER, NULL, 0);
            put(sizeof(struct ifinfomsg));
            attr(IFLA_IFNAME, "eth0", 5);
            uint32_t nsfd = (uint32_t)contns[n]; attr(IFLA_NET_NS_FD, &nsfd, 4);
            nest_end(peer); nest_end(data); nest_end(li); end(h);
            t0 = now(); int e = transact(fd, 0); t[n][NEWLINK_VETH][i] = now() - t0;
            if (e) die("newlink veth", e);
            // sysctl-v6: no IPv6 on the host end (a bridge port needs none)
            if (nov6[n]) {
                t0 = now();
                if (setns(hostns[n], CLONE_NEWNET) < 0) die("setns", errno);
                int sf = open("/proc/sys/net/ipv6/conf/vethbench/disable_ipv6", O_WRONLY | O_CLOEXEC);
                if (sf < 0 || write(sf, "1", 1) != 1) die("disable_ipv6", errno);
                close(sf);
                if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
                t[n][SYSCTL_V6][i] = now() - t0;
            }
            // getlink-veth
            int vi = 0;
            if (!byname[n]) { t0 = now(); vi = getlink_name(fd, "vethbench"); t[n][GETLINK_VETH][i] = now() - t0; }
            // setlink-alias
            h = begin(RTM_NEWLINK, 0); ifi = put(sizeof *ifi); ifi->ifi_index = vi;
            if (!vi) attr(IFLA_IFNAME, "vethbench", 10);
            attr(IFLA_IFALIAS, "cniveth bench cbench eth0", 26); end(h);
            t0 = now(); e = transact(fd, 0); t[n][SETLINK_ALIAS][i] = now() - t0;
            if (e) die("alias", e);
            // setlink-bridge: the same MAC again (pins it)
            h = begin(RTM_NEWLINK, 0); ifi = put(sizeof *ifi); ifi->ifi_index = br;
            attr(IFLA_ADDRESS, mac, 6); end(h);
            t0 = now(); e = transact(fd, 0); t[n][SETLINK_BRIDGE][i] = now() - t0;
            if (e) die("bridge mac", e);
            // newaddr-gw
            h = begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
            struct ifaddrmsg *ifa = put(sizeof *ifa); ifa->ifa_family = AF_INET; ifa->ifa_prefixlen = 16; ifa->ifa_index = br;
            attr(IFA_LOCAL, &gw, 4); attr(IFA_ADDRESS, &gw, 4); end(h);
            t0 = now(); e = transact(fd, 0); t[n][NEWADDR_GW][i] = now() - t0;
            if (e && e != EEXIST) die("newaddr", e);
            // container: setns, socket, getlink eth0, up + address + route
            t0 = now();
            if (setns(contns[n], CLONE_NEWNET) < 0) die("setns", errno);
            int cfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
            int ci = getlink_name(cfd, "eth0");
            h = begin(RTM_NEWLINK, 0); ifi = put(sizeof *ifi); ifi->ifi_index = ci; ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP; end(h);
            if ((e = transact(cfd, 0))) die("peer up", e);
            h = begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
            ifa = put(sizeof *ifa); ifa->ifa_family = AF_INET; ifa->ifa_prefixlen = 16; ifa->ifa_index = ci;
            attr(IFA_LOCAL, &ip, 4); attr(IFA_ADDRESS, &ip, 4); end(h);
            if ((e = transact(cfd, 0))) die("address", e);
            h = begin(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
            struct rtmsg *rt = put(sizeof *rt); rt->rtm_family = AF_INET; rt->rtm_table = RT_TABLE_MAIN;
            rt->rtm_protocol = RTPROT_BOOT; rt->rtm_scope = RT_SCOPE_UNIVERSE; rt->rtm_type = RTN_UNICAST;
            attr(RTA_GATEWAY, &gw, 4); attr(RTA_OIF, &ci, 4); end(h);
            if ((e = transact(cfd, 0))) die("route", e);
            close(cfd);
            if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
            t[n][CONTAINER][i] = now() - t0;
            // getlink-oper: poll (as WaitForwarding: 0, 1, 2, 4 ms sleeps) until IF_OPER_UP
            t0 = now(); int p = 0, sleep_ms = 0;
            for (;; p++) {
                if (!vi) { // by name: the reply carries the index too
                    vi = getlink_name(fd, "vethbench");
                    struct rtattr *oa = find_attr(IFLA_OPERSTATE);
                    if (oa && *(uint8_t *)RTA_DATA(oa) == IF_OPER_UP) break;
                    continue;
                }
                if (operstate_index(fd, vi) == IF_OPER_UP) break;
                if (sleep_ms) usleep(sleep_ms * 1000);
                sleep_ms = sleep_ms ? (sleep_ms * 2 > 50 ? 50 : sleep_ms * 2) : 1;
            }
            t[n][GETLINK_OPER][i] = now() - t0; polls[n][i] = p + 1;
            // dellink
            h = begin(RTM_DELLINK, 0); ifi = put(sizeof *ifi); ifi->ifi_index = vi; end(h);
            t0 = now(); e = transact(fd, 0); t[n][DELLINK][i] = now() - t0;
            if (e) die("dellink", e);
        }
    }
    printf("%-16s", "op (us)");
    for (int n = 0; n < nns; n++) { // label: the host namespace's file name
        char label[64]; snprintf(label, sizeof label, "%s", argv[n + 2]);
        *strchr(label, ':') = 0;
        char opts[16]; snprintf(opts, sizeof opts, "%s%s", nov6[n] ? " nov6" : "", byname[n] ? " byname" : "");
        printf("  %*.*s%s", 22 - (int)strlen(opts), 22 - (int)strlen(opts), strrchr(label, '/') ? strrchr(label, '/') + 1 : label, opts);
    }
    printf("\n");
    for (int o = 0; o < NOPS; o++) {
        printf("%-16s", opname[o]);
        for (int n = 0; n < nns; n++) {
            qsort(t[n][o], (size_t)k, sizeof(uint64_t), cmp);
            printf("  p50 %7.0f p90 %7.0f", t[n][o][k / 2] / 1e3, t[n][o][(k * 9) / 10] / 1e3);
        }
        printf("\n");
    }
    printf("%-16s", "oper polls");
    for (int n = 0; n < nns; n++) {
        int s = 0; for (int i = 0; i < k; i++) s += polls[n][i];
        printf("  mean %-17.2f", (double)s / k);
    }
    printf("\n");
    return 0;
}
