// Linked into the NativeAOT image with -Wl,--wrap=pthread_getattr_np. In the image its one caller is the
// runtime's PalGetMaximumStackBounds, which reads only the stack (pthread_attr_getstack) of the thread it is
// attaching.
//
// For the process's initial thread glibc finds the stack by reading /proc/self/maps and running sscanf on
// each line until the one holding __libc_stack_end: ~150,000 instructions, a tenth of a plugin call's user
// time. This computes the same two numbers the same way (glibc 2.36 nptl/pthread_getattr_np.c: the stack
// ends at the page after __libc_stack_end; its size is RLIMIT_STACK minus what lies above that page in the
// mapping, page-aligned, at most the gap down to the previous mapping), parsing the lines by hand. Other
// threads, and anything unexpected, go to glibc.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int __real_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);
extern void *__libc_stack_end;

// Scans /proc/self/maps for the mapping holding addr; returns 0 with its end and the end of the mapping
// before it, -1 if it cannot tell.
static int find_mapping(uintptr_t addr, uintptr_t *to_out, uintptr_t *last_to_out)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096];
    // Per line: field 0 is the start address, 1 the end address, 2 the rest of the line.
    int field = 0, digits = 0, found = -1;
    uintptr_t from = 0, to = 0, last_to = 0;
    ssize_t n;
    while (found < 0 && (n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (field >= 2) { // the rest of the line: on to its end
                char *nl = memchr(buf + i, '\n', (size_t)(n - i));
                if (nl == NULL) break;
                i = nl - buf;
            }
            char c = buf[i];
            if (c == '\n') {
                if (field == 2) {
                    if (from <= addr && addr < to) { *to_out = to; *last_to_out = last_to; found = 0; break; }
                    last_to = to;
                }
                field = 0; digits = 0; from = 0; to = 0;
                continue;
            }
            int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (v >= 0 && digits < 16) {
                if (field == 0) from = from << 4 | (uintptr_t)v; else to = to << 4 | (uintptr_t)v;
                digits++;
            } else if (field == 0 && c == '-' && digits > 0) {
                field = 1; digits = 0;
            } else if (field == 1 && c == ' ' && digits > 0) {
                field = 2;
            } else {
                field = 3; // not the "start-end " form glibc's sscanf reads: skip the line (3 never matches)
            }
        }
    }
    close(fd);
    return found;
}

int __wrap_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
    if (!pthread_equal(thread, pthread_self()) || getpid() != (pid_t)syscall(SYS_gettid))
        return __real_pthread_getattr_np(thread, attr);
    uintptr_t pagesize = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t stack_end = ((uintptr_t)__libc_stack_end & -pagesize) + pagesize;
    struct rlimit rl;
    uintptr_t to, last_to;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 || find_mapping((uintptr_t)__libc_stack_end, &to, &last_to) != 0)
        return __real_pthread_getattr_np(thread, attr);
    size_t size = (size_t)(rl.rlim_cur - (to - stack_end));
    size &= -pagesize;
    if (size > stack_end - last_to) size = stack_end - last_to;
    int err = pthread_attr_init(attr);
    if (err != 0) return err;
    err = pthread_attr_setstack(attr, (void *)(stack_end - size), size);
    if (err != 0) {
        pthread_attr_destroy(attr);
        return __real_pthread_getattr_np(thread, attr);
    }
    return 0;
}
