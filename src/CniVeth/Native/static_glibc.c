// Linked into the NativeAOT image with -Wl,--wrap for each function below. The plugin is a static executable
// (StaticExecutable in the csproj: no dynamic loader, ~1.3 ms less per call, runs on any glibc or none).
//
// glibc's static library still carries the entry points that work only by loading shared objects at run
// time: dlopen, and the NSS lookups (passwd, group, hosts), which dlopen the host's libnss_* modules. Those
// modules belong to the host's glibc, not to the one linked in, and loading them into this process can fail
// or crash when the versions differ (glibc warns so at link time). The .NET libraries in the image reference
// them: Process.Start looks up a user only when ProcessStartInfo.UserName is set (delegated IPAM never sets
// it), OpenSSL is loaded only by System.Security.Cryptography (nothing the plugin runs reaches it), DNS is
// never used, and every P/Invoke is bound at link time (DirectPInvoke), so nothing calls dlopen. Here each
// answers as on a host without the library or the entry: no user, no group but the primary one, no name
// resolution, no library. If a future change reaches one, it fails with an error instead of loading a
// foreign glibc's module; tests/integration asserts that no call opens a shared object.
#define _GNU_SOURCE
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

void *__wrap_dlopen(const char *file, int mode)
{
    (void)file;
    (void)mode;
    return NULL;
}

int __wrap_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t size, struct passwd **result)
{
    (void)uid; (void)pwd; (void)buf; (void)size;
    *result = NULL; // not found
    return 0;
}

int __wrap_getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t size, struct passwd **result)
{
    (void)name; (void)pwd; (void)buf; (void)size;
    *result = NULL;
    return 0;
}

int __wrap_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t size, struct group **result)
{
    (void)gid; (void)grp; (void)buf; (void)size;
    *result = NULL;
    return 0;
}

int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
    (void)user;
    if (*ngroups < 1) {
        *ngroups = 1;
        return -1;
    }
    groups[0] = group;
    *ngroups = 1;
    return 1;
}

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    (void)node; (void)service; (void)hints;
    *res = NULL;
    return EAI_FAIL;
}
