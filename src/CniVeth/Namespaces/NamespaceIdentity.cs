namespace CniVeth.Namespaces;

/// <summary>
/// Is CNI_NETNS the namespace this process already runs in? Configuring "the container" there would
/// rename and address the host's own interfaces, so the host refuses such requests.
/// Namespaces are compared by nsfs identity (device and inode, as `stat -L` shows them), which covers bind
/// mounts (/run/netns/x) and /proc/PID/ns/net alike. statx neither opens the file (a FIFO given as
/// CNI_NETNS cannot block the call) nor follows anything but the path itself.
/// </summary>
internal static class NamespaceIdentity
{
    private const string SelfNetNs = "/proc/self/ns/net";

    /// <summary>False when the path cannot be looked up: the plugin reports that itself (ADD) or
    /// tolerates it (DEL, namespace already gone).</summary>
    public static bool IsOwn(string netnsPath) =>
        TryIdentity(SelfNetNs, out var own) && TryIdentity(netnsPath, out var other) && own == other;

    private static bool TryIdentity(string path, out (ulong Inode, uint DevMajor, uint DevMinor) identity)
    {
        identity = default;
        if (path.Length == 0 || path.Contains('\0')) return false;
        if (Interop.Libc.StatX(null, path, 0, out var st) != 0) return false;
        identity = (st.stx_ino, st.stx_dev_major, st.stx_dev_minor);
        return true;
    }
}
