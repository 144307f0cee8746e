namespace CniVeth.Cni;

/// <summary>
/// Is CNI_NETNS the namespace this process already runs in? Configuring "the container" there would
/// rename and address the host's own interfaces, so the host refuses such requests.
/// Namespaces are compared by nsfs identity: the kernel shows an open namespace file as the link
/// "net:[inode]" under /proc/self/fd, which covers bind mounts (/run/netns/x) and /proc/PID/ns/net alike,
/// without any native call.
/// </summary>
internal static class OwnNetNs
{
    private const string SelfNetNs = "/proc/self/ns/net";

    /// <summary>False when the path cannot be opened or is not a network namespace: the plugin reports
    /// that itself (ADD) or tolerates it (DEL, namespace already gone).</summary>
    public static bool IsOwn(string netnsPath)
    {
        var own = Identity(SelfNetNs);
        var other = Identity(netnsPath);
        return own is not null && own == other;
    }

    /// <summary>"net:[4026531840]" for a network namespace file, otherwise null.</summary>
    public static string? Identity(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            string fdLink = $"/proc/self/fd/{handle.DangerousGetHandle()}";
            string? target = new FileInfo(fdLink).LinkTarget;
            return target is not null && target.StartsWith("net:[", StringComparison.Ordinal) ? target : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }
}
