// bench/bulkdel.c: ways to delete many veths at once, timed (the GC question of issue 16).
//
// Runs inside a host network namespace where bench/bulkdel.sh made the links. The links to delete are
// those whose name starts with BULKDEL_PREFIX (found with one RTM_GETLINK dump); nothing else is
// touched. Usage: bulkdel METHOD [THREADS]
//   each      one RTM_DELLINK per link, waiting for its ACK before sending the next (what GC does now)
//   batch     the RTM_DELLINKs 64 to a sendmsg, then their ACKs
//   group     RTM_NEWLINK per link (64 to a sendmsg) setting IFLA_GROUP to a group no link in the namespace
//             uses, a dump to check that exactly our links carry it, then one RTM_DELLINK by IFLA_GROUP
//   netns     a throwaway network namespace, every link moved into it (RTM_NEWLINK, 64 to a send, with
//             IFLA_NET_NS_FD), then the namespace dropped (the kernel's cleanup_net deletes them)
//   threads   THREADS threads (default 8), each with its own socket, each deleting its share one by one
// Prints one line: method links wall_ms user_ms sys_ms gone_ms, where gone_ms is when the last link was
// seen gone from the host namespace (for netns: the links leave at the move; their deletion runs later in
// a kernel worker, so it also waits for the peers named by BULKDEL_PEER_NS to disappear).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXLINKS 4096
static int idx[MAXLINKS], nlinks;
static uint32_t groups_in_use[MAXLINKS * 2];
static int ngroups;

static void die(const char *what, int err) { fprintf(stderr, "bulkdel: %s: %s\n", what, strerror(err)); exit(1); }

static uint64_t now(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int rtnl(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) die("socket", errno);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    return fd;
}

// --- message building: one growing buffer per caller --------------------------------------------
struct buf { char *p; size_t len, cap; uint32_t seq; int msgs; };

static void *grow(struct buf *b, size_t n) {
    size_t at = (b->len + 3) & ~(size_t)3;
    if (at + n > b->cap) { b->cap = (at + n) * 2 + 4096; b->p = realloc(b->p, b->cap); }
    memset(b->p + at, 0, at + n - b->len);
    b->len = at + n;
    return b->p + at;
}
static struct nlmsghdr *begin(struct buf *b, uint16_t type, uint16_t flags, int ifindex) {
    size_t at = (b->len + 3) & ~(size_t)3;
    grow(b, NLMSG_HDRLEN + sizeof(struct ifinfomsg));
    struct nlmsghdr *h = (struct nlmsghdr *)(b->p + at);
    h->nlmsg_type = type; h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags; h->nlmsg_seq = ++b->seq;
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    ifi->ifi_family = AF_UNSPEC; ifi->ifi_index = ifindex;
    b->msgs++;
    return h;
}
static void u32attr(struct buf *b, uint16_t type, uint32_t v) {
    struct rtattr *a = grow(b, RTA_LENGTH(4));
    a->rta_type = type; a->rta_len = RTA_LENGTH(4); memcpy(RTA_DATA(a), &v, 4);
}
static void end(struct buf *b, struct nlmsghdr *h) { h->nlmsg_len = (uint32_t)(b->p + b->len - (char *)h); }

// sends the buffer 64 messages at a time, each time waiting for their ACKs: every ACK is its own skb
// (~1 KB of receive buffer), and a few hundred at once overflow the socket (ENOBUFS)
static void wait_acks(int fd, int left, const char *what);
static void transact(int fd, struct buf *b, const char *what) {
    size_t off = 0;
    while (off < b->len) {
        size_t chunk = 0; int n = 0;
        while (off + chunk < b->len && n < 64) {
            struct nlmsghdr *h = (struct nlmsghdr *)(b->p + off + chunk);
            chunk += NLMSG_ALIGN(h->nlmsg_len); n++;
        }
        if (send(fd, b->p + off, chunk, 0) < 0) die(what, errno);
        wait_acks(fd, n, what);
        off += chunk;
    }
    b->len = 0; b->msgs = 0;
}
static void wait_acks(int fd, int left, const char *what) {
    static char rb[1 << 16];
    while (left > 0) {
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) { if (errno == EINTR) continue; die(what, errno); }
        for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (size_t)r); h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type != NLMSG_ERROR) continue;
            struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error && e->error != -ENODEV) die(what, -e->error);
            left--;
        }
    }
}

// one dump: the links with our prefix (-> idx[]), and every group number in use; with want_group, counts
// the links carrying that group and fails if any of them is not ours
static int dump(int fd, const char *prefix, uint32_t want_group) {
    struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
        .h = { .nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
        .i = { .ifi_family = AF_UNSPEC } };
    if (send(fd, &req, sizeof req, 0) < 0) die("dump", errno);
    static char rb[1 << 16];
    int found = 0, carrying = 0;
    nlinks = 0; ngroups = 0;
    for (;;) {
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r < 0) { if (errno == EINTR) continue; die("dump", errno); }
        for (struct nlmsghdr *h = (struct nlmsghdr *)rb; NLMSG_OK(h, (size_t)r); h = NLMSG_NEXT(h, r)) {
            if (h->nlmsg_type == NLMSG_DONE) return want_group ? carrying : found;
            if (h->nlmsg_type == NLMSG_ERROR) die("dump", -((struct nlmsgerr *)NLMSG_DATA(h))->error);
            struct ifinfomsg *ifi = NLMSG_DATA(h);
            const char *name = ""; uint32_t group = 0;
            int alen = (int)IFLA_PAYLOAD(h);
            for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
                if (a->rta_type == IFLA_GROUP) memcpy(&group, RTA_DATA(a), 4);
            }
            int ours = strncmp(name, prefix, strlen(prefix)) == 0;
            if (ours && nlinks < MAXLINKS) idx[nlinks++] = ifi->ifi_index, found++;
            if (ngroups < MAXLINKS * 2) groups_in_use[ngroups++] = group;
            if (want_group && group == want_group) {
                if (!ours) { fprintf(stderr, "bulkdel: %s carries group %u and is not ours: stop\n", name, group); exit(1); }
                carrying++;
            }
        }
    }
}

// a group number no link in the namespace uses (random, so two concurrent callers do not meet)
static uint32_t free_group(void) {
    for (;;) {
        uint32_t g; if (getentropy(&g, sizeof g) < 0) die("getentropy", errno);
        g |= 0x10000; // clear of the small numbers administrators name in /etc/iproute2/group
        int used = 0;
        for (int i = 0; i < ngroups; i++) if (groups_in_use[i] == g) used = 1;
        if (!used) return g;
    }
}

struct share { int from, to; };
static void *deleter(void *arg) {
    struct share *s = arg;
    int fd = rtnl();
    struct buf b = {0};
    for (int i = s->from; i < s->to; i++) { struct nlmsghdr *h = begin(&b, RTM_DELLINK, 0, idx[i]); end(&b, h); transact(fd, &b, "delete"); }
    close(fd); free(b.p);
    return NULL;
}

static uint64_t user_ns(void) {
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000ull;
}
static uint64_t sys_ns(void) {
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

// does an eth0 exist in the namespace at path? (the peer of a deleted veth is gone with it)
static int peer_exists(const char *path, int home) {
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) return 0;
    if (setns(ns, CLONE_NEWNET) < 0) die("setns", errno);
    int fd = rtnl();
    if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
    close(ns);
    struct { struct nlmsghdr h; struct ifinfomsg i; char a[32]; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_type = RTM_GETLINK; req.h.nlmsg_flags = NLM_F_REQUEST; req.h.nlmsg_seq = 1;
    struct rtattr *a = (struct rtattr *)req.a; a->rta_type = IFLA_IFNAME; a->rta_len = RTA_LENGTH(5); memcpy(RTA_DATA(a), "eth0", 5);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.i) + RTA_ALIGN(a->rta_len);
    if (send(fd, &req, req.h.nlmsg_len, 0) < 0) die("getlink", errno);
    static char rb[8192];
    ssize_t r = recv(fd, rb, sizeof rb, 0);
    close(fd);
    struct nlmsghdr *h = (struct nlmsghdr *)rb;
    return r > 0 && h->nlmsg_type != NLMSG_ERROR;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bulkdel each|batch|group|netns|threads [THREADS]\n"); return 2; }
    const char *method = argv[1], *prefix = getenv("BULKDEL_PREFIX") ? getenv("BULKDEL_PREFIX") : "vs";
    int fd = rtnl();
    dump(fd, prefix, 0); // not timed: GC has this dump already
    int n = nlinks;
    struct buf b = {0};
    uint64_t c0u = user_ns(), c0s = sys_ns(), t0 = now();
    if (strcmp(method, "each") == 0) {
        for (int i = 0; i < n; i++) { struct nlmsghdr *h = begin(&b, RTM_DELLINK, 0, idx[i]); end(&b, h); transact(fd, &b, "delete"); }
    } else if (strcmp(method, "batch") == 0) {
        for (int i = 0; i < n; i++) { struct nlmsghdr *h = begin(&b, RTM_DELLINK, 0, idx[i]); end(&b, h); }
        transact(fd, &b, "delete (batch)");
    } else if (strcmp(method, "group") == 0) {
        uint32_t g = free_group();
        for (int i = 0; i < n; i++) { struct nlmsghdr *h = begin(&b, RTM_NEWLINK, 0, idx[i]); u32attr(&b, IFLA_GROUP, g); end(&b, h); }
        transact(fd, &b, "set group");
        uint64_t ts = now();
        int carrying = dump(fd, prefix, g);
        if (carrying != n) { fprintf(stderr, "bulkdel: %d links carry the group, expected %d\n", carrying, n); return 1; }
        uint64_t tc = now();
        struct nlmsghdr *h = begin(&b, RTM_DELLINK, 0, 0); u32attr(&b, IFLA_GROUP, g); end(&b, h);
        transact(fd, &b, "delete by group");
        fprintf(stderr, "bulkdel: group: setting the group %.1f ms, checking dump %.1f ms, delete %.1f ms\n",
                (ts - t0) / 1e6, (tc - ts) / 1e6, (now() - tc) / 1e6);
    } else if (strcmp(method, "netns") == 0) {
        int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (unshare(CLONE_NEWNET) < 0) die("unshare", errno);
        int tmp = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (setns(home, CLONE_NEWNET) < 0) die("setns", errno);
        for (int i = 0; i < n; i++) { struct nlmsghdr *h = begin(&b, RTM_NEWLINK, 0, idx[i]); u32attr(&b, IFLA_NET_NS_FD, (uint32_t)tmp); end(&b, h); }
        transact(fd, &b, "move to throwaway netns");
        close(tmp); // last reference: the kernel's cleanup_net deletes what is inside, later
        close(home);
    } else if (strcmp(method, "threads") == 0) {
        int k = argc > 2 ? atoi(argv[2]) : 8;
        pthread_t th[64]; struct share sh[64];
        if (k < 1 || k > 64) k = 8;
        for (int t = 0; t < k; t++) { sh[t].from = n * t / k; sh[t].to = n * (t + 1) / k; pthread_create(&th[t], NULL, deleter, &sh[t]); }
        for (int t = 0; t < k; t++) pthread_join(th[t], NULL);
    } else { fprintf(stderr, "bulkdel: unknown method %s\n", method); return 2; }
    uint64_t t1 = now(), c1u = user_ns(), c1s = sys_ns();
    // gone: no link with the prefix left here, and (netns) the peers gone from their containers
    const char *peers = getenv("BULKDEL_PEER_NS"); // space-separated netns paths to watch
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    for (;;) {
        int left = dump(fd, prefix, 0);
        if (!left && peers) {
            char *dup = strdup(peers), *save = NULL;
            for (char *p = strtok_r(dup, " ", &save); p; p = strtok_r(NULL, " ", &save)) left += peer_exists(p, home);
            free(dup);
        }
        if (!left) break;
        usleep(1000);
    }
    uint64_t t2 = now();
    printf("%s%s%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\n", method, argc > 2 ? "-" : "", argc > 2 ? argv[2] : "", n,
           (t1 - t0) / 1e6, (c1u - c0u) / 1e6, (c1s - c0s) / 1e6, (t2 - t0) / 1e6);
    return 0;
}
