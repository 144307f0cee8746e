// Linked into the NativeAOT image with -Wl,--wrap=fopen64, so it sees only the fopen64 calls of the
// statically linked .NET runtime (the plugin's own code never calls fopen).
//
// At start-up the runtime and its GC each parse /proc/self/mountinfo to find the cgroup hierarchy they
// would read memory and CPU limits from. The cost grows with the host's mount table: ~2.6 µs per mount per
// call measured here, +2.6 ms per plugin call with 1,000 mounts, and a Kubernetes node carries a netns
// bind mount, a rootfs and volume mounts for every pod. The plugin lives for a few milliseconds and
// allocates well under a megabyte, so the limits change nothing for it: without the table the runtime
// treats the process as unconstrained (its documented behaviour when no cgroup is found).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

FILE *__real_fopen64(const char *path, const char *mode);

FILE *__wrap_fopen64(const char *path, const char *mode)
{
    if (path != NULL && strcmp(path, "/proc/self/mountinfo") == 0) {
        errno = ENOENT;
        return NULL;
    }
    return __real_fopen64(path, mode);
}
