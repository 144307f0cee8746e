using CniVeth.Cni;

namespace CniVeth.Namespaces;

/// <summary>Why a CNI_NETNS path could not be used.</summary>
internal enum NetNsProblem { NotFound, NotANamespace, CannotEnter }

/// <summary>A namespace path that cannot be used: code 3 (unknown container) when it is gone, 4 (invalid
/// environment) when it is not a network namespace, 999 when entering it failed.</summary>
internal sealed class NetNamespaceException(string message, NetNsProblem problem) : CniFailure(message)
{
    public NetNsProblem Problem { get; } = problem;

    public override int Code => Problem switch
    {
        NetNsProblem.NotFound => ErrorCode.UnknownContainer,
        NetNsProblem.NotANamespace => ErrorCode.InvalidEnvironment,
        _ => ErrorCode.Internal,
    };

    public override string Details => Problem == NetNsProblem.CannotEnter
        ? ""
        : "CNI_NETNS must name the container's network namespace (e.g. /proc/<pid>/ns/net or /run/netns/<name>)";
}

/// <summary>
/// An open network namespace. setns(2) moves only the calling thread, so the whole command runs
/// synchronously on one thread and every Enter is paired with a restore, even on failure.
/// </summary>
internal sealed class NetNamespace : IDisposable
{
    public SafeFd Fd { get; }
    public string Path { get; }

    private NetNamespace(SafeFd fd, string path)
    {
        Fd = fd;
        Path = path;
    }

    /// <summary>Opens a netns file (bind mount under /run/netns or /proc/PID/ns/net) and checks it is one.</summary>
    public static NetNamespace Open(string path)
    {
        // O_NONBLOCK: a FIFO given as CNI_NETNS would otherwise block the open forever (it then fails the
        // nsfs check below like any other non-namespace file).
        SafeFd fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_NONBLOCK);
        if (fd.IsInvalid)
        {
            int e = Errno.Last;
            throw new NetNamespaceException($"failed to open netns \"{path}\": {Errno.Describe(e)}",
                e == Errno.ENOENT || e == Errno.ESRCH ? NetNsProblem.NotFound : NetNsProblem.NotANamespace);
        }
        // Only nsfs files are namespaces (a /proc file such as /proc/PID/status is not), and nsfs holds every
        // kind: /proc/PID/ns/mnt would pass the first check and fail setns later with a bare EINVAL.
        if (Interop.Libc.FileSystemType(fd) != Interop.Libc.NSFS_MAGIC)
        {
            fd.Dispose();
            throw new NetNamespaceException($"\"{path}\" is not a network namespace (not an nsfs file)", NetNsProblem.NotANamespace);
        }
        int type = Interop.Libc.NamespaceType(fd);
        if (type != Interop.Libc.CLONE_NEWNET)
        {
            fd.Dispose();
            throw new NetNamespaceException($"\"{path}\" is not a network namespace (namespace type 0x{type:x})", NetNsProblem.NotANamespace);
        }
        return new NetNamespace(fd, path);
    }

    /// <summary>The calling thread's own namespace.</summary>
    public static NetNamespace Current() => Open("/proc/thread-self/ns/net");

    /// <summary>Runs <paramref name="action"/> with the calling thread inside this namespace, then returns
    /// the thread to <paramref name="home"/>. If the thread cannot be returned the process must not go
    /// on in the wrong namespace: it fails fast.</summary>
    public T Run<T>(NetNamespace home, Func<T> action)
    {
        if (Interop.Libc.Setns(Fd, Interop.Libc.CLONE_NEWNET) != 0)
            throw new NetNamespaceException($"failed to enter netns \"{Path}\": {Errno.Describe(Errno.Last)}", NetNsProblem.CannotEnter);
        try
        {
            return action();
        }
        finally
        {
            if (Interop.Libc.Setns(home.Fd, Interop.Libc.CLONE_NEWNET) != 0)
                Environment.FailFast("could not return to the original network namespace");
        }
    }

    public void Dispose() => Fd.Dispose();
}
