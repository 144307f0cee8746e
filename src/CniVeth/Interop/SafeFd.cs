using System.Runtime.InteropServices;

/// <summary>A file descriptor owned by this process, closed exactly once: every fd the plugin opens
/// (namespaces, netlink sockets, store directories, the lock file, plain files) is one of these.</summary>
internal sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(new IntPtr(-1), ownsHandle: true) { }
    public SafeFd(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));
    private SafeFd(int fd, bool ownsHandle) : base(new IntPtr(-1), ownsHandle) => SetHandle(new IntPtr(fd));

    /// <summary>A descriptor this process inherited and must not close (stdin, stdout).</summary>
    public static SafeFd Borrowed(int fd) => new(fd, ownsHandle: false);

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor for a libc call. A command runs on one thread, and a SafeFd is disposed
    /// only by its owner after its last use, so the value cannot be closed under a call.</summary>
    public int Fd => (int)handle.ToInt64();

    /// <summary>Wraps a libc result: an owned fd, or an invalid handle when the call failed (errno in Errno.Last).</summary>
    public static SafeFd FromResult(int fd) => fd < 0 ? new SafeFd() : new SafeFd(fd);

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle.ToInt64()) == 0;
}
