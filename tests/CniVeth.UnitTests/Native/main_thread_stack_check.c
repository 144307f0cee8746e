// Test harness for src/CniVeth/Native/main_thread_stack.c (built and run by MainThreadStackTests): prints the
// stack bounds glibc's pthread_getattr_np gives, and the shim's, for the main thread and for a second thread,
// and how many times the shim opened /proc/self/maps itself (0 would mean it fell back to glibc).
// Arguments: N extra mappings to make first (lines in /proc/self/maps, so the file spans many reads), and
// optionally a file to map too (a long path makes a line longer than the shim's read buffer).
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int __real_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);
int __wrap_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);

static int opens;

// Takes the place of libc's open() for the shim (glibc's own reading of the file does not come through here).
int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    opens++;
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static void print(const char *who, int (*get)(pthread_t, pthread_attr_t *))
{
    pthread_attr_t attr;
    void *low = NULL;
    size_t size = 0;
    int before = opens, err = get(pthread_self(), &attr);
    if (err == 0) { pthread_attr_getstack(&attr, &low, &size); pthread_attr_destroy(&attr); }
    printf("%s err=%d low=%p size=%zu opens=%d\n", who, err, low, size, opens - before);
}

static void *second(void *unused)
{
    (void)unused;
    print("thread glibc", __real_pthread_getattr_np);
    print("thread shim", __wrap_pthread_getattr_np);
    return NULL;
}

int main(int argc, char **argv)
{
    long pages = sysconf(_SC_PAGESIZE);
    for (int i = argc > 1 ? atoi(argv[1]) : 0; i > 0; i--) // read-only page then an unmapped one: no merging
        if (mmap(NULL, 2 * pages, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) return 2;
    if (argc > 2) {
        int fd = (int)syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY);
        if (fd < 0 || mmap(NULL, (size_t)pages, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) return 3;
    }
    print("main glibc", __real_pthread_getattr_np);
    print("main shim", __wrap_pthread_getattr_np);
    pthread_t t;
    if (pthread_create(&t, NULL, second, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    return 0;
}
