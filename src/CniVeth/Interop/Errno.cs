using System.Runtime.InteropServices;
using Tmds.Linux;

/// <summary>
/// The one errno definition: the values the plugin branches on (from Tmds.LibC), their symbolic names for
/// messages, and the calling thread's last errno.
/// </summary>
internal static class Errno
{
    public static readonly int EPERM = LibC.EPERM, ENOENT = LibC.ENOENT, ESRCH = LibC.ESRCH, EINTR = LibC.EINTR,
        EIO = LibC.EIO, ENXIO = LibC.ENXIO, EBADF = LibC.EBADF, EAGAIN = LibC.EAGAIN, ENOMEM = LibC.ENOMEM,
        EACCES = LibC.EACCES, EBUSY = LibC.EBUSY, EEXIST = LibC.EEXIST, ENODEV = LibC.ENODEV, ENOTDIR = LibC.ENOTDIR,
        EISDIR = LibC.EISDIR, EINVAL = LibC.EINVAL, EFBIG = LibC.EFBIG, ENOSPC = LibC.ENOSPC, EROFS = LibC.EROFS,
        EPIPE = LibC.EPIPE, ERANGE = LibC.ERANGE, ENAMETOOLONG = LibC.ENAMETOOLONG, ELOOP = LibC.ELOOP,
        ENODATA = LibC.ENODATA, EMSGSIZE = LibC.EMSGSIZE, EPROTONOSUPPORT = LibC.EPROTONOSUPPORT,
        EOPNOTSUPP = LibC.EOPNOTSUPP, EAFNOSUPPORT = LibC.EAFNOSUPPORT, EADDRINUSE = LibC.EADDRINUSE,
        EADDRNOTAVAIL = LibC.EADDRNOTAVAIL, ENETUNREACH = LibC.ENETUNREACH, ENOBUFS = LibC.ENOBUFS,
        EDQUOT = LibC.EDQUOT, EXFULL = LibC.EXFULL;

    private static readonly (int Value, string Name)[] Names =
    [
        (EPERM, "EPERM"), (ENOENT, "ENOENT"), (ESRCH, "ESRCH"), (EINTR, "EINTR"), (EIO, "EIO"), (ENXIO, "ENXIO"),
        (EBADF, "EBADF"), (EAGAIN, "EAGAIN"), (ENOMEM, "ENOMEM"), (EACCES, "EACCES"), (EBUSY, "EBUSY"),
        (EEXIST, "EEXIST"), (ENODEV, "ENODEV"), (ENOTDIR, "ENOTDIR"), (EISDIR, "EISDIR"), (EINVAL, "EINVAL"),
        (EFBIG, "EFBIG"), (ENOSPC, "ENOSPC"), (EROFS, "EROFS"), (EPIPE, "EPIPE"), (ERANGE, "ERANGE"),
        (ENAMETOOLONG, "ENAMETOOLONG"), (ELOOP, "ELOOP"), (ENODATA, "ENODATA"), (EMSGSIZE, "EMSGSIZE"),
        (EPROTONOSUPPORT, "EPROTONOSUPPORT"), (EOPNOTSUPP, "EOPNOTSUPP"), (EAFNOSUPPORT, "EAFNOSUPPORT"),
        (EADDRINUSE, "EADDRINUSE"), (EADDRNOTAVAIL, "EADDRNOTAVAIL"), (ENETUNREACH, "ENETUNREACH"),
        (ENOBUFS, "ENOBUFS"), (EDQUOT, "EDQUOT"), (EXFULL, "EXFULL"),
    ];

    /// <summary>"ENOENT", or "errno 123" for a value not listed.</summary>
    public static string Name(int errno)
    {
        foreach (var (value, name) in Names)
            if (value == errno) return name;
        return "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>"EEXIST (file exists)".</summary>
    public static string Describe(int errno) =>
        Name(errno) + " (" + Marshal.GetPInvokeErrorMessage(errno).ToLowerInvariant() + ")";

    /// <summary>The errno of the last libc call made by this thread (every import sets it).</summary>
    public static int Last => Marshal.GetLastPInvokeError();
}
