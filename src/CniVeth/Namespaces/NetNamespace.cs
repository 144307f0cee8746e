namespace CniVeth.Namespaces;

/// <summary>Why a CNI_NETNS path could not be used.</summary>
internal enum NetNsProblem { NotFound, NotANamespace }

internal sealed class NetNamespaceException(string message, NetNsProblem problem) : Exception(message)
{
    public NetNsProblem Problem { get; } = problem;
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
    public static unsafe NetNamespace Open(string path)
    {
        // O_NONBLOCK: a FIFO given as CNI_NETNS would otherwise block the open forever (it then fails the
        // nsfs check below like any other non-namespace file).
        SafeFd fd = Interop.Libc.OpenFd(path, Interop.Libc.OpenFlags.O_RDONLY | Interop.Libc.OpenFlags.O_NONBLOCK);
        if (fd.IsInvalid)
        {
            int e = Errno.Last;
            throw new NetNamespaceException($"failed to open netns \"{path}\": {Errno.Describe(e)}",
                e is Errno.ENOENT or Errno.ESRCH ? NetNsProblem.NotFound : NetNsProblem.NotANamespace);
        }
        Interop.Libc.StatFs st;
        if (Interop.Libc.FStatFs(fd, &st) != 0 || (st.Type != Interop.Libc.NSFS_MAGIC && st.Type != Interop.Libc.PROC_SUPER_MAGIC))
        {
            fd.Dispose();
            throw new NetNamespaceException($"\"{path}\" is not a network namespace (unknown FS magic)", NetNsProblem.NotANamespace);
        }
        // nsfs holds every kind of namespace: /proc/PID/ns/mnt passes the magic check but setns(CLONE_NEWNET)
        // would fail later with a bare EINVAL. The fd's link names the kind ("net:[4026531840]").
        string? kind = new FileInfo($"/proc/self/fd/{fd.Fd}").LinkTarget;
        if (kind is not null && kind.Contains(":[") && !kind.StartsWith("net:[", StringComparison.Ordinal))
        {
            fd.Dispose();
            throw new NetNamespaceException($"\"{path}\" is not a network namespace (it is {kind})", NetNsProblem.NotANamespace);
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
            throw new NetNamespaceException($"failed to enter netns \"{Path}\": {Errno.Describe(Errno.Last)}", NetNsProblem.NotANamespace);
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
