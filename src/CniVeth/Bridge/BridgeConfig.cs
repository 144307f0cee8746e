using CniVeth.Cni;

namespace CniVeth.Bridge;

/// <summary>
/// Config checks of the reference bridge plugin (loadNetConf / collectVlanTrunk), with its error texts,
/// plus a few it leaves to the kernel (mtu, bridge name, ipMasqBackend). All failures are code 7.
/// Meant for ADD and CHECK; DEL should stay best-effort and not insist on a valid config.
/// </summary>
internal static class BridgeConfig
{
    public const int MaxVlanId = 4094;

    public static void Validate(NetConf conf, string version)
    {
        if (conf.Vlan is < 0 or > MaxVlanId)
            throw CniException.Config($"invalid VLAN ID {conf.Vlan} (must be between 0 and {MaxVlanId})");
        _ = ValidatedTrunkVids(conf);
        if (conf.HairpinMode && conf.PromiscMode)
            throw CniException.Config("cannot set hairpin mode and promiscuous mode at the same time");
        if (conf.HasIpam && conf.DisableContainerInterface)
            throw CniException.Config("cannot use IPAM when DisableContainerInterface flag is set");
        if (conf.Mtu < 0)
            throw CniException.Config($"invalid MTU {conf.Mtu} (must be positive, or 0 for the kernel default)");
        if (conf.Mtu != 0 && (conf.Mtu < 68 || conf.Mtu > 65535))
            throw CniException.Config($"invalid MTU {conf.Mtu}: a veth and a bridge take 68 to 65535");
        if (conf.IpMasqBackend is not (null or "iptables" or "nftables"))
            throw CniException.Config($"unknown ipMasqBackend \"{conf.IpMasqBackend}\" (must be \"iptables\" or \"nftables\")");
        ValidateBridgeName(conf.BridgeName);
        VlanGateway.Validate(conf);
        _ = NonMasqueradeCidrs(conf);
        if (!conf.HasIpam && CniVersions.IsSupported(version) && CniVersions.IsLegacy(version))
            throw CniException.Config($"CNI version {version} cannot express a result without IP addresses",
                "configure \"ipam\" or use cniVersion 0.3.0 or later");
    }

    /// <summary>nonMasqueradeCIDRs parsed with IpText (the strict parser) and masked to their prefix
    /// (10.244.1.5/16 is 10.244.0.0/16, as ip-masq-agent reads it); empty when unset. Any other entry is a
    /// config error naming the key and the index.</summary>
    public static List<Values.CidrAddress> NonMasqueradeCidrs(NetConf conf)
    {
        var result = new List<Values.CidrAddress>();
        List<string>? entries = conf.NonMasqueradeCidrs;
        if (entries is null) return result;
        for (int i = 0; i < entries.Count; i++)
        {
            if (!Values.IpText.TryParseCidr(entries[i], out Values.CidrAddress cidr))
                throw CniException.Config(
                    "invalid nonMasqueradeCIDRs[" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "] "
                    + (entries[i] is null ? "null" : "\"" + entries[i] + "\"") + ": expected a CIDR such as \"10.244.0.0/16\" or \"fd00:244::/56\"");
            result.Add(cidr.Subnet);
        }
        return result;
    }

    /// <summary>A Linux interface name: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.</summary>
    public static void ValidateBridgeName(string name)
    {
        try
        {
            EnvironmentValidator.ValidateInterfaceName(name);
        }
        catch (CniException e)
        {
            throw CniException.Config($"invalid bridge name \"{name}\": {e.Message}");
        }
    }

    /// <summary>vlanTrunk expanded to sorted, distinct VIDs (empty when unset).
    /// Each entry is {id}, {minID,maxID} or both; ids are 1..4094.</summary>
    public static IReadOnlyList<int> ValidatedTrunkVids(NetConf conf)
    {
        var vids = new SortedSet<int>();
        foreach (var item in conf.VlanTrunk ?? [])
        {
            if (item is null) continue;
            switch (item.MinId, item.MaxId)
            {
                case ({ } min, { } max):
                    if (!IsTrunkVid(min)) throw CniException.Config("incorrect trunk minID parameter");
                    if (!IsTrunkVid(max)) throw CniException.Config("incorrect trunk maxID parameter");
                    if (max < min) throw CniException.Config("minID is greater than maxID in trunk parameter");
                    for (int v = min; v <= max; v++) vids.Add(v);
                    break;
                case (null, { }):
                    throw CniException.Config("minID and maxID should be configured simultaneously, minID is missing");
                case ({ }, null):
                    throw CniException.Config("minID and maxID should be configured simultaneously, maxID is missing");
            }
            if (item.Id is { } id)
            {
                if (!IsTrunkVid(id)) throw CniException.Config("incorrect trunk id parameter");
                vids.Add(id);
            }
        }
        return vids.ToList();
    }

    private static bool IsTrunkVid(int v) => v is > 0 and <= MaxVlanId;
}
