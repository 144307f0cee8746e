/*
 * faultinject: an LD_PRELOAD shim that makes the N-th call of a chosen kind fail with a chosen errno,
 * and (optionally) logs every call it sees, so a test can count the calls of a run and sweep N over
 * all of them. See README.md in this directory.
 *
 * Environment (read once, at load time):
 *   FAULT_CALL    comma-separated call kinds that may fail: open,openat,read,write,close,linkat,renameat,
 *                 unlinkat,mkdirat,futimens,statx,flock,fstatfs,fsync,opendir,readdir,stat,lstat,fstat,
 *                 send,recv,sendmsg,recvmsg ... ("creat" = any open/openat with O_CREAT, "all" = every kind)
 *   FAULT_NTH     fail the N-th eligible call (1-based; counted over all kinds of FAULT_CALL together);
 *                 0 fails nothing and only numbers the eligible calls in the log (counting mode)
 *   FAULT_REPEAT  how many consecutive eligible calls fail from the N-th on (default 1; 0 = all of them,
 *                 like a disk that stays full)
 *   FAULT_ERRNO   errno name (ENOSPC, EIO, EDQUOT, EROFS, ENOMEM, EINTR, EAGAIN, ENOBUFS, ...) or number;
 *                 default EIO
 *   FAULT_PATH    only calls on a path under this prefix are counted, logged and failed (the path of an
 *                 fd is its /proc/self/fd link; a name relative to a dirfd is joined to the dirfd's path)
 *   FAULT_LOG     append one line per call that passes FAULT_PATH, whatever its kind:
 *                 "kind<TAB>result<TAB>errno<TAB>number<TAB>path[<TAB>INJECTED]", where number is the
 *                 call's number among the eligible calls (0 when it is not eligible)
 *
 * The shim never calls a function it interposes: its own I/O uses raw syscalls, so it neither recurses
 * nor shows up in its own counts. Calls are counted atomically (the runtime has several threads).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_PATH 4096
#define MAX_KINDS 32

static struct {
    int active;                 /* FAULT_CALL given */
    char kinds[MAX_KINDS][16];  /* eligible kinds */
    int nkinds;
    long nth, repeat;
    int err;
    char prefix[MAX_PATH];
    size_t prefix_len;
    int log_fd;                 /* -1 when not logging */
} cfg = { .log_fd = -1 };

static long eligible_seen;      /* eligible calls so far (atomic) */

static const struct { const char *name; int value; } errnos[] = {
    {"EPERM", EPERM}, {"ENOENT", ENOENT}, {"EINTR", EINTR}, {"EIO", EIO}, {"EBADF", EBADF},
    {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EBUSY", EBUSY}, {"EEXIST", EEXIST},
    {"EXDEV", EXDEV}, {"ENOTDIR", ENOTDIR}, {"EISDIR", EISDIR}, {"EINVAL", EINVAL}, {"ENFILE", ENFILE},
    {"EMFILE", EMFILE}, {"EFBIG", EFBIG}, {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"EMLINK", EMLINK},
    {"ENAMETOOLONG", ENAMETOOLONG}, {"ENOLCK", ENOLCK}, {"ENOTEMPTY", ENOTEMPTY}, {"ELOOP", ELOOP},
    {"EDQUOT", EDQUOT}, {"ENOBUFS", ENOBUFS}, {"ESTALE", ESTALE}, {"EOVERFLOW", EOVERFLOW},
};

static int parse_errno(const char *s)
{
    if (!s || !*s) return EIO;
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (strcmp(s, errnos[i].name) == 0) return errnos[i].value;
    int v = atoi(s);
    return v > 0 ? v : EIO;
}

/* Raw write of a whole buffer to the log (never through the interposed write). */
static void raw_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        long w = syscall(SYS_write, fd, p, n);
        if (w <= 0) return;
        p += w; n -= (size_t)w;
    }
}

__attribute__((constructor)) static void faultinject_init(void)
{
    const char *calls = getenv("FAULT_CALL");
    if (calls && *calls) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", calls);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && cfg.nkinds < MAX_KINDS;
             tok = strtok_r(NULL, ",", &save))
            snprintf(cfg.kinds[cfg.nkinds++], sizeof cfg.kinds[0], "%s", tok);
        cfg.active = cfg.nkinds > 0;
    }
    const char *s;
    cfg.nth = (s = getenv("FAULT_NTH")) && *s ? atol(s) : 1;
    cfg.repeat = (s = getenv("FAULT_REPEAT")) && *s ? atol(s) : 1;
    cfg.err = parse_errno(getenv("FAULT_ERRNO"));
    if ((s = getenv("FAULT_PATH")) && *s) {
        snprintf(cfg.prefix, sizeof cfg.prefix, "%s", s);
        cfg.prefix_len = strlen(cfg.prefix);
        while (cfg.prefix_len > 1 && cfg.prefix[cfg.prefix_len - 1] == '/') cfg.prefix[--cfg.prefix_len] = 0;
    }
    if ((s = getenv("FAULT_LOG")) && *s)
        cfg.log_fd = (int)syscall(SYS_openat, AT_FDCWD, s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* ---- paths ---------------------------------------------------------------------------------- */

static void fd_path(int fd, char *out)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    long n = syscall(SYS_readlinkat, AT_FDCWD, link, out, MAX_PATH - 1);
    if (n < 0) n = 0;
    out[n] = 0;
}

static void canonical(char *path);

static void at_path(int dirfd, const char *name, char *out)
{
    if (!name) name = "";
    if (name[0] == '/') { snprintf(out, MAX_PATH, "%s", name); canonical(out); return; }
    char dir[MAX_PATH];
    if (dirfd == AT_FDCWD) {
        long n = syscall(SYS_getcwd, dir, sizeof dir);
        if (n <= 0) dir[0] = 0;
    } else {
        fd_path(dirfd, dir);
    }
    if (!name[0]) snprintf(out, MAX_PATH, "%s", dir);
    else snprintf(out, MAX_PATH, "%s/%s", dir, name);
}

/* A name under /proc/self/fd/ (how .NET lists a directory held by fd) stands for the fd's own path. */
static void canonical(char *path)
{
    static const char fdprefix[] = "/proc/self/fd/";
    if (strncmp(path, fdprefix, sizeof fdprefix - 1) != 0) return;
    const char *rest = path + sizeof fdprefix - 1;
    char *end;
    long fd = strtol(rest, &end, 10);
    if (end == rest || (*end && *end != '/')) return;
    char resolved[MAX_PATH];
    fd_path((int)fd, resolved);
    if (!resolved[0]) return;
    char tail[MAX_PATH];
    snprintf(tail, sizeof tail, "%s", end);
    snprintf(path, MAX_PATH, "%s%s", resolved, tail);
}

static int under_prefix(const char *path)
{
    if (!cfg.prefix_len) return 1;
    if (strncmp(path, cfg.prefix, cfg.prefix_len) != 0) return 0;
    return path[cfg.prefix_len] == 0 || path[cfg.prefix_len] == '/' || cfg.prefix[cfg.prefix_len - 1] == '/';
}

static int needs_path(void) { return cfg.prefix_len || cfg.log_fd >= 0; }

/* ---- the decision --------------------------------------------------------------------------- */

static int kind_eligible(const char *kind, int creates)
{
    for (int i = 0; i < cfg.nkinds; i++)
        if (strcmp(cfg.kinds[i], "all") == 0 || strcmp(cfg.kinds[i], kind) == 0
            || (creates && strcmp(cfg.kinds[i], "creat") == 0))
            return 1;
    return 0;
}

/* The call's number among the eligible calls (kind in FAULT_CALL, path under FAULT_PATH), 0 if not eligible. */
static long eligible_number(const char *kind, const char *path, int creates)
{
    if (!cfg.active || !under_prefix(path) || !kind_eligible(kind, creates)) return 0;
    return __atomic_add_fetch(&eligible_seen, 1, __ATOMIC_SEQ_CST);
}

/* FAULT_NTH=0 only counts (the log numbers the eligible calls). */
static int due(long number)
{
    return number > 0 && cfg.nth > 0 && number >= cfg.nth && (cfg.repeat == 0 || number < cfg.nth + cfg.repeat);
}

static void log_call(const char *kind, const char *path, long result, int err, long number, int injected)
{
    if (cfg.log_fd < 0 || !under_prefix(path)) return;
    char line[MAX_PATH + 128];
    int n = snprintf(line, sizeof line, "%s\t%ld\t%d\t%ld\t%s%s\n", kind, result, result < 0 ? err : 0, number, path,
                     injected ? "\tINJECTED" : "");
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
    raw_write_all(cfg.log_fd, line, (size_t)n);
}

#define REAL(name) \
    static __typeof__(name) *real_##name; \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* Runs `call` unless the fault is due; logs; keeps the caller's view of errno. `path` is filled
 * before the call (close and unlink make it unresolvable afterwards). */
#define INTERPOSE(kind, creates, resolve, fail_value, call)                         \
    char path[MAX_PATH] = "";                                                       \
    if (needs_path()) { resolve; }                                                  \
    long number = eligible_number(kind, path, creates);                             \
    if (due(number)) {                                                              \
        log_call(kind, path, -1, cfg.err, number, 1);                               \
        errno = cfg.err;                                                            \
        return fail_value;                                                          \
    }                                                                               \
    __typeof__(call) result = call;                                                 \
    int saved = errno;                                                              \
    log_call(kind, path, (long)(result == fail_value ? -1 : 0), saved, number, 0);  \
    errno = saved;                                                                  \
    return result

/* ---- interposed calls ----------------------------------------------------------------------- */

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *p, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
    REAL(open);
    INTERPOSE("open", flags & O_CREAT, at_path(AT_FDCWD, p, path), -1, real_open(p, flags, mode));
}

int open64(const char *p, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
    REAL(open64);
    INTERPOSE("open", flags & O_CREAT, at_path(AT_FDCWD, p, path), -1, real_open64(p, flags, mode));
}

int openat(int dirfd, const char *p, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
    REAL(openat);
    INTERPOSE("openat", flags & O_CREAT, at_path(dirfd, p, path), -1, real_openat(dirfd, p, flags, mode));
}

int openat64(int dirfd, const char *p, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t mode = mode_arg(flags, ap); va_end(ap);
    REAL(openat64);
    INTERPOSE("openat", flags & O_CREAT, at_path(dirfd, p, path), -1, real_openat64(dirfd, p, flags, mode));
}

ssize_t read(int fd, void *buf, size_t n)
{
    REAL(read);
    INTERPOSE("read", 0, fd_path(fd, path), -1, real_read(fd, buf, n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    INTERPOSE("write", 0, fd_path(fd, path), -1, real_write(fd, buf, n));
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    REAL(pread64);
    INTERPOSE("read", 0, fd_path(fd, path), -1, real_pread64(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    REAL(pwrite64);
    INTERPOSE("write", 0, fd_path(fd, path), -1, real_pwrite64(fd, buf, n, off));
}

/* close(2) releases the fd even when it reports an error (Linux): an injected failure does too. */
int close(int fd)
{
    REAL(close);
    char path[MAX_PATH] = "";
    if (needs_path()) fd_path(fd, path);
    long number = eligible_number("close", path, 0);
    if (due(number)) {
        real_close(fd);
        log_call("close", path, -1, cfg.err, number, 1);
        errno = cfg.err;
        return -1;
    }
    int result = real_close(fd);
    int saved = errno;
    log_call("close", path, result, saved, number, 0);
    errno = saved;
    return result;
}

int linkat(int olddirfd, const char *oldp, int newdirfd, const char *newp, int flags)
{
    REAL(linkat);
    /* the new name decides (it is where the entry is created) */
    INTERPOSE("linkat", 0, at_path(newdirfd, newp, path), -1, real_linkat(olddirfd, oldp, newdirfd, newp, flags));
}

int renameat(int olddirfd, const char *oldp, int newdirfd, const char *newp)
{
    REAL(renameat);
    INTERPOSE("renameat", 0, at_path(newdirfd, newp, path), -1, real_renameat(olddirfd, oldp, newdirfd, newp));
}

int unlinkat(int dirfd, const char *p, int flags)
{
    REAL(unlinkat);
    INTERPOSE("unlinkat", 0, at_path(dirfd, p, path), -1, real_unlinkat(dirfd, p, flags));
}

int mkdirat(int dirfd, const char *p, mode_t mode)
{
    REAL(mkdirat);
    INTERPOSE("mkdirat", 1, at_path(dirfd, p, path), -1, real_mkdirat(dirfd, p, mode));
}

int futimens(int fd, const struct timespec times[2])
{
    REAL(futimens);
    INTERPOSE("futimens", 0, fd_path(fd, path), -1, real_futimens(fd, times));
}

int statx(int dirfd, const char *p, int flags, unsigned int mask, struct statx *st)
{
    REAL(statx);
    INTERPOSE("statx", 0, at_path(dirfd, p, path), -1, real_statx(dirfd, p, flags, mask, st));
}

int flock(int fd, int op)
{
    REAL(flock);
    INTERPOSE("flock", 0, fd_path(fd, path), -1, real_flock(fd, op));
}

int fstatfs(int fd, struct statfs *st)
{
    REAL(fstatfs);
    INTERPOSE("fstatfs", 0, fd_path(fd, path), -1, real_fstatfs(fd, st));
}

int fstatfs64(int fd, struct statfs64 *st)
{
    REAL(fstatfs64);
    INTERPOSE("fstatfs", 0, fd_path(fd, path), -1, real_fstatfs64(fd, st));
}

int fsync(int fd)
{
    REAL(fsync);
    INTERPOSE("fsync", 0, fd_path(fd, path), -1, real_fsync(fd));
}

DIR *opendir(const char *p)
{
    REAL(opendir);
    INTERPOSE("opendir", 0, at_path(AT_FDCWD, p, path), NULL, real_opendir(p));
}

/* A failed readdir returns NULL with errno set (end of directory leaves errno alone). */
struct dirent64 *readdir64(DIR *d)
{
    REAL(readdir64);
    INTERPOSE("readdir", 0, fd_path(dirfd(d), path), NULL, real_readdir64(d));
}

struct dirent *readdir(DIR *d)
{
    REAL(readdir);
    INTERPOSE("readdir", 0, fd_path(dirfd(d), path), NULL, real_readdir(d));
}

/* readdir_r reports failures as its return value, not through errno. (Deprecated, but the binary imports it.) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int readdir64_r(DIR *d, struct dirent64 *entry, struct dirent64 **result)
{
    REAL(readdir64_r);
    char path[MAX_PATH] = "";
    if (needs_path()) fd_path(dirfd(d), path);
    long number = eligible_number("readdir", path, 0);
    if (due(number)) {
        log_call("readdir", path, -1, cfg.err, number, 1);
        *result = NULL;
        return cfg.err;
    }
    int r = real_readdir64_r(d, entry, result);
    log_call("readdir", path, r ? -1 : 0, r, number, 0);
    return r;
}
#pragma GCC diagnostic pop

/* The .NET runtime's System.Native was linked against the old stat entry points. */
int __xstat64(int ver, const char *p, struct stat64 *st);
int __lxstat64(int ver, const char *p, struct stat64 *st);
int __fxstat64(int ver, int fd, struct stat64 *st);

int __xstat64(int ver, const char *p, struct stat64 *st)
{
    REAL(__xstat64);
    INTERPOSE("stat", 0, at_path(AT_FDCWD, p, path), -1, real___xstat64(ver, p, st));
}

int __lxstat64(int ver, const char *p, struct stat64 *st)
{
    REAL(__lxstat64);
    INTERPOSE("lstat", 0, at_path(AT_FDCWD, p, path), -1, real___lxstat64(ver, p, st));
}

int __fxstat64(int ver, int fd, struct stat64 *st)
{
    REAL(__fxstat64);
    INTERPOSE("fstat", 0, fd_path(fd, path), -1, real___fxstat64(ver, fd, st));
}

/* Sockets (netlink): their path is "socket:[inode]", so FAULT_PATH=socket: selects them. */
ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    REAL(send);
    INTERPOSE("send", 0, fd_path(fd, path), -1, real_send(fd, buf, n, flags));
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    REAL(recv);
    INTERPOSE("recv", 0, fd_path(fd, path), -1, real_recv(fd, buf, n, flags));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    REAL(sendmsg);
    INTERPOSE("sendmsg", 0, fd_path(fd, path), -1, real_sendmsg(fd, msg, flags));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    REAL(recvmsg);
    INTERPOSE("recvmsg", 0, fd_path(fd, path), -1, real_recvmsg(fd, msg, flags));
}
