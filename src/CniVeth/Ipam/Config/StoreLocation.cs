using CniVeth.Cni;

namespace CniVeth.Ipam.Config;

/// <summary>Where a network's reservations live: &lt;dataDir&gt;/&lt;network&gt;. Both parts are validated
/// before they become a path (the network name comes from the runtime's config).</summary>
internal sealed record StoreLocation(string DataDir, string Network)
{
    public const string DefaultDataDir = "/var/lib/cni/networks";

    public string NetworkDir => Path.Combine(DataDir, Network);

    public static StoreLocation FromConf(NetConf conf)
    {
        string dataDir = string.IsNullOrEmpty(conf.Ipam?.DataDir) ? DefaultDataDir : conf.Ipam!.DataDir!;
        if (dataDir.Contains('\0'))
            throw CniException.Config("ipam dataDir contains a NUL character");
        if (!dataDir.StartsWith('/'))
            throw CniException.Config($"ipam dataDir \"{dataDir}\" must be an absolute path");
        return new StoreLocation(dataDir.TrimEnd('/') is { Length: > 0 } d ? d : "/", ValidateNetworkName(conf.Name));
    }

    /// <summary>The reference's rule: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ (no "/", "..", hidden names).</summary>
    public static string ValidateNetworkName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            throw CniException.Config("network config is missing \"name\" (needed for the IPAM data directory)");
        bool valid = char.IsAsciiLetterOrDigit(name[0])
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
        if (!valid)
            throw CniException.Config(
                $"invalid network name \"{name}\": it must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
        return name;
    }
}
