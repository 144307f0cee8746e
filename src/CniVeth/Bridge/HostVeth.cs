using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>
/// The host end of an attachment is found again without the container namespace: its name is derived
/// from (network, container ID, ifname), and its interface alias names that owner, so a name clash
/// (8 hex digits) can never make us delete somebody else's interface.
/// The alias is "cniveth &lt;network&gt; &lt;containerID&gt; &lt;ifname&gt;" (none of the three can hold a space).
/// The kernel keeps at most 255 bytes of alias (IFALIASZ), so a network name longer than 100 bytes, or a
/// container ID that would not fit, is written as "~" + a 128-bit hash of it: a CNI name never starts
/// with '~', and each token depends only on its own inputs, so an alias is always recomputable.
/// </summary>
internal static class HostVeth
{
    private const string AliasPrefix = "cniveth ";
    private const int MaxAliasBytes = 255;
    private const int MaxNetworkTokenBytes = 100;
    private const int MaxIfNameBytes = 15;

    public static string NameFor(string network, string containerId, string ifName) =>
        "veth" + StableHash.Hex8(network + "\0" + containerId + "\0" + ifName);

    public static string AliasFor(string network, string containerId, string ifName) =>
        AliasPrefix + NetworkToken(network) + " " + ContainerToken(network, containerId) + " " + ifName;

    /// <summary>The network as written in aliases.</summary>
    public static string NetworkToken(string network) =>
        network.Length <= MaxNetworkTokenBytes ? network : "~" + StableHash.Hex32(network);

    /// <summary>The container ID as written in aliases of <paramref name="network"/> (room is kept for the
    /// longest interface name, so the token does not depend on it).</summary>
    public static string ContainerToken(string network, string containerId)
    {
        int room = MaxAliasBytes - AliasPrefix.Length - NetworkToken(network).Length - 2 - MaxIfNameBytes;
        return containerId.Length <= room ? containerId : "~" + StableHash.Hex32(containerId);
    }

    /// <summary>The three tokens of one of our aliases (hashed tokens stay hashed).</summary>
    public static bool TryParseAlias(string? alias, out string network, out string containerId, out string ifName)
    {
        network = containerId = ifName = "";
        if (alias is null || !alias.StartsWith(AliasPrefix, StringComparison.Ordinal)) return false;
        string[] parts = alias[AliasPrefix.Length..].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0 || parts[2].Length == 0) return false;
        (network, containerId, ifName) = (parts[0], parts[1], parts[2]);
        return true;
    }

    /// <summary>GC: is the veth labelled <paramref name="alias"/> an attachment of <paramref name="network"/>
    /// that <paramref name="valid"/> does not protect? False for anything not ours.</summary>
    public static bool IsStale(string? alias, string network, ValidAttachmentTokens valid) =>
        TryParseAlias(alias, out var n, out var c, out var i) && n == NetworkToken(network) && !valid.Protects(c, i);

    public static string DescribeOwner(string? alias) =>
        TryParseAlias(alias, out var n, out var c, out var i)
            ? $"network \"{n}\", container \"{c}\", interface \"{i}\""
            : alias is null or "" ? "an interface not created by cniveth" : $"alias \"{alias}\"";
}

/// <summary>A GC valid list in alias tokens of one network, so each veth is checked in O(1).</summary>
internal sealed class ValidAttachmentTokens
{
    private readonly HashSet<(string, string)> _exact = new();
    private readonly HashSet<string> _wholeContainers = new(StringComparer.Ordinal);

    public ValidAttachmentTokens(string network, ValidAttachments valid)
    {
        foreach (var (containerId, ifName) in valid.Entries)
        {
            string token = HostVeth.ContainerToken(network, containerId);
            if (string.IsNullOrEmpty(ifName)) _wholeContainers.Add(token);
            else _exact.Add((token, ifName));
        }
    }

    public bool Protects(string containerToken, string ifName) =>
        _wholeContainers.Contains(containerToken) || _exact.Contains((containerToken, ifName));
}
