// bench/driver.c: the per-call timer of `make bench`.
//
// Reads a plan (one call per line, tab-separated) and execs each call the way a container runtime
// does: environment + config on stdin, wait for exit. Each call is timed from just before fork() to
// the return of wait4() (CLOCK_MONOTONIC), so process creation, exec, the dynamic loader / runtime
// start-up, the plugin's work and process exit are all included. Preparation (building stdin, opening
// namespaces) happens before the clock starts.
//
// Plan line fields (tab-separated, "-" for none):
//   group label cmd exe containerid netns ifname conffile hostns cnipath savefile prevfile extraenv
// group 0: run alone (sequential). Consecutive lines sharing a group > 0 form a burst: all children
// are forked first and parked on a pipe, then released at once; each call's time runs from the release
// to its own exit, and the burst's wall time from the release to the last exit.
// hostns: a netns file the child setns()es into before exec (the plugin's "host").
// prevfile: the config is sent with "prevResult": <contents of prevfile> (for CHECK).
// savefile: stdout of the call is written there. extraenv: K=V pairs separated by ','.
//
// Output, one line per call: label cmd exit_status wall_ns maxrss_kb cpu_ns group extra
// (extra: the number after "ns=" when the call's stdout starts with it — the floor client's
// in-process kernel time — otherwise -). Calls that fail print their stdout/stderr to our stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NF 13
#define MAXBURST 1024

struct call {
    char *f[NF];
    char *label, *cmd, *exe, *save;
    int group;
    int in_fd, out_fd, err_fd, ns_fd;
    char **envp;
    pid_t pid;
    uint64_t start, end;
    int status;
    struct rusage ru;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(2); }

static char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { fprintf(stderr, "driver: %s: %s\n", path, strerror(errno)); exit(2); }
    struct stat st; if (fstat(fd, &st) < 0) die("fstat");
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = 0; close(fd); *len = n;
    return buf;
}

static int memfd_with(const char *data, size_t len) {
    int fd = memfd_create("bench", MFD_CLOEXEC);
    if (fd < 0) die("memfd_create");
    size_t n = 0;
    while (n < len) { ssize_t w = write(fd, data + n, len - n); if (w <= 0) die("write"); n += (size_t)w; }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int is(const char *s) { return s && strcmp(s, "-") != 0; }

// netns fds are cached by path (a few distinct "host" namespaces).
static struct { char *path; int fd; } nscache[64];
static int nsopen(const char *path) {
    for (int i = 0; i < 64 && nscache[i].path; i++)
        if (strcmp(nscache[i].path, path) == 0) return nscache[i].fd;
    for (int i = 0; i < 64; i++)
        if (!nscache[i].path) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) { fprintf(stderr, "driver: %s: %s\n", path, strerror(errno)); exit(2); }
            nscache[i].path = strdup(path); nscache[i].fd = fd;
            return fd;
        }
    fprintf(stderr, "driver: too many host namespaces\n"); exit(2);
}

static void prepare(struct call *c) {
    c->group = atoi(c->f[0]);
    c->label = c->f[1]; c->cmd = c->f[2]; c->exe = c->f[3]; c->save = c->f[10];
    size_t clen; char *conf = slurp(c->f[7], &clen);
    if (is(c->f[11])) { // insert ,"prevResult":<prev> before the config's closing brace
        size_t plen; char *prev = slurp(c->f[11], &plen);
        while (clen && conf[clen - 1] != '}') clen--;
        if (!clen) { fprintf(stderr, "driver: %s is not a JSON object\n", c->f[7]); exit(2); }
        char *s = malloc(clen + plen + 32);
        int n = sprintf(s, "%.*s,\"prevResult\":%s}", (int)(clen - 1), conf, prev);
        free(conf); free(prev); conf = s; clen = (size_t)n;
    }
    c->in_fd = memfd_with(conf, clen); free(conf);
    c->out_fd = memfd_with("", 0);
    c->err_fd = memfd_with("", 0);
    c->ns_fd = is(c->f[8]) ? nsopen(c->f[8]) : -1;
    char **e = calloc(32, sizeof(char *)); int k = 0;
    char buf[4096];
#define ENV(...) do { snprintf(buf, sizeof buf, __VA_ARGS__); e[k++] = strdup(buf); } while (0)
    ENV("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    ENV("CNI_COMMAND=%s", c->cmd);
    ENV("CNI_CONTAINERID=%s", is(c->f[4]) ? c->f[4] : "");
    ENV("CNI_NETNS=%s", is(c->f[5]) ? c->f[5] : "");
    ENV("CNI_IFNAME=%s", is(c->f[6]) ? c->f[6] : "");
    ENV("CNI_PATH=%s", is(c->f[9]) ? c->f[9] : "");
    if (is(c->f[12])) {
        char *save = NULL;
        for (char *t = strtok_r(c->f[12], ",", &save); t && k < 30; t = strtok_r(NULL, ",", &save)) ENV("%s", t);
    }
    e[k] = NULL; c->envp = e;
}

static void child(struct call *c, int gate) {
    if (gate >= 0) { char b; while (read(gate, &b, 1) < 0 && errno == EINTR) {} }
    if (c->ns_fd >= 0 && setns(c->ns_fd, CLONE_NEWNET) < 0) _exit(126);
    dup2(c->in_fd, 0); dup2(c->out_fd, 1); dup2(c->err_fd, 2);
    char *argv[] = { c->exe, NULL };
    execve(c->exe, argv, c->envp);
    _exit(127);
}

static void finish(struct call *c) {
    struct stat st; fstat(c->out_fd, &st);
    size_t len = (size_t)st.st_size;
    char *out = malloc(len + 1); ssize_t r = pread(c->out_fd, out, len, 0); out[r > 0 ? r : 0] = 0;
    if (is(c->save)) {
        int fd = open(c->save, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) { if (r > 0 && write(fd, out, (size_t)r) < 0) {} close(fd); }
    }
    int code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status);
    char extra[32] = "-";
    if (strncmp(out, "ns=", 3) == 0) snprintf(extra, sizeof extra, "%llu", strtoull(out + 3, NULL, 10));
    uint64_t cpu = (uint64_t)c->ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)c->ru.ru_utime.tv_usec * 1000ull +
                   (uint64_t)c->ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)c->ru.ru_stime.tv_usec * 1000ull;
    printf("%s\t%s\t%d\t%llu\t%ld\t%llu\t%d\t%s\n", c->label, c->cmd, code, (unsigned long long)(c->end - c->start),
           c->ru.ru_maxrss, (unsigned long long)cpu, c->group, extra);
    if (code != 0) { // one line per failure: the harness picks the error message out of it
        char err[2048]; ssize_t n = pread(c->err_fd, err, sizeof err - 1, 0); err[n > 0 ? n : 0] = 0;
        for (char *p = out; *p; p++) if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
        for (char *p = err; *p; p++) if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
        fprintf(stderr, "driver: %s %s (%s) exit %d: %.600s %.600s\n", c->label, c->cmd, c->f[4], code, out, err);
    }
    free(out);
    close(c->in_fd); close(c->out_fd); close(c->err_fd);
    for (char **e = c->envp; *e; e++) free(*e);
    free(c->envp);
    fflush(stdout);
}

static void run_one(struct call *c) {
    c->start = now_ns();
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) child(c, -1);
    while (wait4(p, &c->status, 0, &c->ru) < 0) if (errno != EINTR) die("wait4");
    c->end = now_ns();
    finish(c);
}

static void run_burst(struct call *cs, int n) {
    int gate[2]; if (pipe2(gate, O_CLOEXEC) < 0) die("pipe");
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) die("fork");
        if (p == 0) { close(gate[1]); child(&cs[i], gate[0]); }
        cs[i].pid = p;
    }
    close(gate[0]);
    usleep(20000); // let every child reach its read() on the gate
    uint64_t t0 = now_ns();
    close(gate[1]); // release all
    for (int left = n; left > 0; left--) {
        int st; struct rusage ru;
        pid_t p = wait4(-1, &st, 0, &ru);
        if (p < 0) { if (errno == EINTR) { left++; continue; } die("wait4"); }
        uint64_t t = now_ns();
        for (int i = 0; i < n; i++) if (cs[i].pid == p) { cs[i].status = st; cs[i].ru = ru; cs[i].end = t; cs[i].start = t0; }
    }
    uint64_t last = 0;
    for (int i = 0; i < n; i++) { finish(&cs[i]); if (cs[i].end > last) last = cs[i].end; }
    printf("%s\tBURST\t0\t%llu\t0\t0\t%d\t%d\n", cs[0].label, (unsigned long long)(last - t0), cs[0].group, n);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: driver PLAN > results\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    // a burst holds three memfds per call open at once: allow as many as the hard limit does
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) die(argv[1]);
    static struct call burst[MAXBURST];
    int nb = 0;
    char *line = NULL; size_t cap = 0;
    for (;;) {
        ssize_t len = getline(&line, &cap, in);
        struct call c; memset(&c, 0, sizeof c);
        int have = 0;
        if (len > 0) {
            if (line[len - 1] == '\n') line[--len] = 0;
            if (len == 0 || line[0] == '#') continue;
            char *dup = strdup(line), *save = NULL; int k = 0;
            for (char *t = strtok_r(dup, "\t", &save); t && k < NF; t = strtok_r(NULL, "\t", &save)) c.f[k++] = t;
            if (k != NF) { fprintf(stderr, "driver: bad plan line: %s\n", line); return 2; }
            prepare(&c); have = 1;
        }
        // flush a pending burst when its group ends
        if (nb > 0 && (!have || c.group != burst[0].group)) { run_burst(burst, nb); nb = 0; }
        if (!have) break;
        if (c.group > 0) { if (nb == MAXBURST) { fprintf(stderr, "driver: burst too large\n"); return 2; } burst[nb++] = c; }
        else run_one(&c);
    }
    return 0;
}
