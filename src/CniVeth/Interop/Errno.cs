using System.Runtime.InteropServices;

/// <summary>Linux errno values we branch on, and their symbolic names for messages.</summary>
internal static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11,
        ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EINVAL = 22,
        ENOSPC = 28, ERANGE = 34, ELOOP = 40, ENODATA = 61, EPROTONOSUPPORT = 93, EOPNOTSUPP = 95,
        EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETUNREACH = 101, ENOBUFS = 105;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO",
        EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES", EBUSY => "EBUSY",
        EEXIST => "EEXIST", ENODEV => "ENODEV", ENOTDIR => "ENOTDIR", EINVAL => "EINVAL",
        ENOSPC => "ENOSPC", ERANGE => "ERANGE", ELOOP => "ELOOP", ENODATA => "ENODATA",
        EPROTONOSUPPORT => "EPROTONOSUPPORT", EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", ENETUNREACH => "ENETUNREACH",
        ENOBUFS => "ENOBUFS",
        _ => "errno " + errno,
    };

    /// <summary>"EEXIST (file exists)".</summary>
    public static string Describe(int errno) =>
        $"{Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno).ToLowerInvariant()})";

    public static int Last => Marshal.GetLastPInvokeError();
}
