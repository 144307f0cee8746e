using CniVeth.Cni;

namespace CniVeth.Bridge;

/// <summary>
/// The host end of an attachment is found again without the container namespace: its name is derived
/// from (network, container ID, ifname), and its interface alias names that owner in full, so a name
/// clash (8 hex characters) can never make us delete somebody else's interface.
/// </summary>
internal static class HostVeth
{
    private const string AliasPrefix = "cniveth ";

    public static string NameFor(string network, string containerId, string ifName) =>
        "veth" + StableHash.Hex8($"{network}\0{containerId}\0{ifName}");

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
