using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>
/// vlan / vlanTrunk / preserveDefaultVlan on the host port, as the reference sets them up (setupVeth):
/// unless preserveDefaultVlan, every VLAN the port got by default (the bridge's default PVID) is removed;
/// then the trunk VIDs are added tagged and the native VLAN (vlan, or 1 for a trunk without vlan) as
/// PVID + untagged. Two requests: a removal of 1-4094 (the kernel ignores VIDs the port does not have, so
/// no dump is needed) and one addition carrying every entry, trunks compressed into ranges.
/// </summary>
internal static class BridgeVlans
{
    public const ushort Access = Rtnl.BRIDGE_VLAN_INFO_PVID | Rtnl.BRIDGE_VLAN_INFO_UNTAGGED;

    /// <summary>Does the config ask for VLANs (and, on a new bridge, for VLAN filtering)?</summary>
    public static bool Wanted(NetConf conf) => conf.Vlan != 0 || conf.VlanTrunk is { Count: > 0 };

    /// <summary>The port's VLAN requests, in order (none when the config has no VLANs).</summary>
    public static List<(bool Delete, List<PortVlan> Vlans)> Requests(NetConf conf)
    {
        var requests = new List<(bool, List<PortVlan>)>();
        if (!Wanted(conf)) return requests;
        if (!conf.PreserveDefaultVlan) requests.Add((true, [new PortVlan(1, Rtnl.MaxVlanId)]));
        requests.Add((false, Entries(conf)));
        return requests;
    }

    /// <summary>Adds the port's VLAN requests to a batch.</summary>
    public static List<NetlinkOp> AddTo(RouteBatch batch, LinkInfo port, NetConf conf) =>
        Requests(conf).ConvertAll(r => batch.SetPortVlans(port.Index, r.Delete, r.Vlans, $"setting VLANs on bridge port \"{port.Name}\""));

    /// <summary>The additions in order: tagged trunk ranges, then the native VLAN (so its flags win when
    /// the trunk also lists it). The access VLAN is kept out of the trunk: re-adding it tagged would
    /// strip its PVID/untagged flags.</summary>
    public static List<PortVlan> Entries(NetConf conf)
    {
        var entries = Ranges(BridgeConfig.ValidatedTrunkVids(conf).Where(v => v != conf.Vlan));
        if (conf.Vlan != 0) entries.Add(new PortVlan((ushort)conf.Vlan, (ushort)conf.Vlan, Access));
        else if (conf.VlanTrunk is { Count: > 0 }) entries.Add(new PortVlan(1, 1, Access));
        return entries;
    }

    /// <summary>Sorted VIDs compressed into contiguous ranges.</summary>
    public static List<PortVlan> Ranges(IEnumerable<int> vids)
    {
        var result = new List<PortVlan>();
        int start = -1, last = -1;
        foreach (int v in vids.Distinct().Order())
        {
            if (start >= 0 && v == last + 1) { last = v; continue; }
            if (start >= 0) result.Add(new PortVlan((ushort)start, (ushort)last));
            start = last = v;
        }
        if (start >= 0) result.Add(new PortVlan((ushort)start, (ushort)last));
        return result;
    }

    /// <summary>
    /// vlan with a gateway: the reference puts the gateway address on a veth pair "&lt;bridge&gt;.&lt;vlan&gt;"
    /// whose other end is an access port of that VLAN. cniveth does not create that interface; rather than
    /// put the gateway on the bridge itself (untagged VLAN 1, unreachable from the VLAN's ports) it refuses
    /// the combination before anything changes.
    /// </summary>
    public static void RefuseVlanGateway(NetConf conf)
    {
        // A gateway exists only with IPAM (which always yields addresses, or the ADD fails).
        if (conf.Vlan == 0 || !(conf.IsGateway || conf.IsDefaultGateway) || !conf.HasIpam) return;
        string key = conf.IsDefaultGateway ? "isDefaultGateway" : "isGateway";
        throw new CniException(ErrorCode.UnsupportedField,
            $"\"{key}\": true with \"vlan\": {conf.Vlan} is not supported: cniveth does not create the \"{conf.BridgeName}.{conf.Vlan}\" gateway interface",
            "drop isGateway/isDefaultGateway and route the VLAN through a gateway you manage, or use the network without \"vlan\"");
    }

    /// <summary>The error for a kernel built without CONFIG_BRIDGE_VLAN_FILTERING (EOPNOTSUPP from the bridge
    /// or the port): names the feature and the config keys, code 2 (unsupported field).</summary>
    public static CniException NotAvailable(NetConf conf)
    {
        var keys = new List<string>();
        if (conf.Vlan != 0) keys.Add($"\"vlan\": {conf.Vlan}");
        if (conf.VlanTrunk is { Count: > 0 })
            keys.Add("\"vlanTrunk\": " + string.Join(",", Ranges(BridgeConfig.ValidatedTrunkVids(conf))
                .Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}-{r.Last}")));
        return new CniException(ErrorCode.UnsupportedField,
            $"bridge VLAN filtering is not available in this kernel (CONFIG_BRIDGE_VLAN_FILTERING): {string.Join(" and ", keys)} cannot be used",
            "use a kernel built with CONFIG_BRIDGE_VLAN_FILTERING=y, or remove \"vlan\" and \"vlanTrunk\" from the network config");
    }
}
