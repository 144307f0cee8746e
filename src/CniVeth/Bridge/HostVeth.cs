using System.Text;

namespace CniVeth.Bridge;

/// <summary>
/// The host end of an attachment is found again without the container namespace: its name is derived
/// from (network, container ID, ifname), and its interface alias names that owner in full, so a name
/// clash (8 hex characters) can never make us delete somebody else's interface.
/// </summary>
internal static class HostVeth
{
    private const string AliasPrefix = "cniveth ";

    /// <summary>FNV-1a (64-bit, folded to 32): stable across runs and versions, and it keeps the crypto
    /// libraries out of the process — a clash is caught by the alias anyway.</summary>
    public static string NameFor(string network, string containerId, string ifName)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes($"{network}\0{containerId}\0{ifName}"))
            h = (h ^ b) * 1099511628211UL;
        return "veth" + ((uint)(h ^ (h >> 32))).ToString("x8");
    }

    /// <summary>"cniveth &lt;network&gt; &lt;containerID&gt; &lt;ifname&gt;" — none of the three can contain a space.</summary>
    public static string AliasFor(string network, string containerId, string ifName) =>
        $"{AliasPrefix}{network} {containerId} {ifName}";

    public static bool TryParseAlias(string? alias, out string network, out string containerId, out string ifName)
    {
        network = containerId = ifName = "";
        if (alias is null || !alias.StartsWith(AliasPrefix, StringComparison.Ordinal)) return false;
        string[] parts = alias[AliasPrefix.Length..].Split(' ');
        if (parts.Length != 3) return false;
        (network, containerId, ifName) = (parts[0], parts[1], parts[2]);
        return true;
    }

    public static string DescribeOwner(string? alias) =>
        TryParseAlias(alias, out var n, out var c, out var i)
            ? $"network \"{n}\", container \"{c}\", interface \"{i}\""
            : alias is null or "" ? "an interface not created by cniveth" : $"alias \"{alias}\"";
}
