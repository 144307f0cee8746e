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
        AddTo(batch, port, Requests(conf));

    /// <summary>An access port of one VLAN (the VLAN gateway's bridge port): like a container's port
    /// with only "vlan" set.</summary>
    public static List<(bool Delete, List<PortVlan> Vlans)> AccessPortRequests(int vlan, bool preserveDefaultVlan)
    {
        var requests = new List<(bool, List<PortVlan>)>();
        if (!preserveDefaultVlan) requests.Add((true, [new PortVlan(1, Rtnl.MaxVlanId)]));
        requests.Add((false, [new PortVlan((ushort)vlan, (ushort)vlan, Access)]));
        return requests;
    }

    public static List<NetlinkOp> AddTo(RouteBatch batch, LinkInfo port, List<(bool Delete, List<PortVlan> Vlans)> requests) =>
        requests.ConvertAll(r => batch.SetPortVlans(port.Index, r.Delete, r.Vlans, $"setting VLANs on bridge port \"{port.Name}\""));

    /// <summary>
    /// A VLAN config on an existing bridge that does not filter would isolate nothing. A bridge without
    /// ports is switched to filtering (nobody else's traffic changes); one with ports is left alone and the
    /// ADD fails, since filtering would move their traffic into VLAN 1 and drop what they tag.
    /// </summary>
    public static void EnsureFiltering(RouteClient host, NetConf conf, LinkInfo bridge)
    {
        if (!Wanted(conf) || bridge.VlanFiltering) return;
        if (!bridge.VlanFilteringAvailable) throw NotAvailable(conf);
        int ports = host.DumpLinks().Count(l => l.MasterIndex == bridge.Index);
        if (ports > 0)
            throw CniException.Config(
                $"VLAN filtering is off on bridge \"{bridge.Name}\", which already has {ports} port(s): {Keys(conf)} would isolate nothing. " +
                $"Turn it on yourself once those ports are ready for it (ip link set {bridge.Name} type bridge vlan_filtering 1), or use another bridge for VLANs",
                "cniveth turns filtering on only for a bridge without ports: on a bridge with ports it would move their traffic into VLAN 1 and drop what they tag");
        NetlinkOp on = host.Send(b => b.SetBridgeVlanFiltering(bridge.Index, true, $"turning on VLAN filtering of bridge \"{bridge.Name}\"", Errno.EOPNOTSUPP));
        if (!on.Succeeded) throw NotAvailable(conf);
    }

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

    /// <summary>The error for a kernel built without CONFIG_BRIDGE_VLAN_FILTERING (EOPNOTSUPP from the bridge
    /// or the port): names the feature and the config keys, code 2 (unsupported field).</summary>
    public static CniException NotAvailable(NetConf conf) =>
        new(ErrorCode.UnsupportedField,
            $"bridge VLAN filtering is not available in this kernel (CONFIG_BRIDGE_VLAN_FILTERING): {Keys(conf)} cannot be used",
            "use a kernel built with CONFIG_BRIDGE_VLAN_FILTERING=y, or remove \"vlan\" and \"vlanTrunk\" from the network config");

    /// <summary>The VLAN keys of a config as messages quote them: "vlan": 100 and "vlanTrunk": 10,20-30.</summary>
    private static string Keys(NetConf conf)
    {
        var keys = new List<string>();
        if (conf.Vlan != 0) keys.Add($"\"vlan\": {conf.Vlan}");
        if (conf.VlanTrunk is { Count: > 0 })
            keys.Add("\"vlanTrunk\": " + string.Join(",", Ranges(BridgeConfig.ValidatedTrunkVids(conf))
                .Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}-{r.Last}")));
        return string.Join(" and ", keys);
    }
}
