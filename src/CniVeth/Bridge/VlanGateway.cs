using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>
/// "vlan" with isGateway, as the reference does it: the gateway of a VLAN cannot sit on the bridge itself
/// (that is untagged VLAN 1), so it goes on "&lt;bridge&gt;.&lt;vlan&gt;", one end of a veth pair in the host
/// whose other end is an access port of the VLAN on the bridge. Created by the first ADD that needs it
/// (with the bridge's MTU), shared by every later one, never removed by DEL or GC — only by the rollback
/// of the ADD that created it, while nothing else is attached to the bridge.
/// </summary>
internal static class VlanGateway
{
    /// <summary>Does this config put its gateway on a VLAN gateway interface?</summary>
    public static bool Wanted(NetConf conf) => conf.Vlan != 0 && (conf.IsGateway || conf.IsDefaultGateway) && conf.HasIpam;

    public static string NameFor(NetConf conf) => conf.BridgeName + "." + conf.Vlan.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The bridge port of the pair: a derived name, so a retried ADD finds it again.</summary>
    public static string PortNameFor(NetConf conf) => PortNameFor(NameFor(conf));

    public static string PortNameFor(string gatewayName) => "veth" + StableHash.Hex8("vlan-gateway\0" + gatewayName);

    /// <summary>The alias of the bridge port (not an attachment's: GC and DEL never take it).</summary>
    public static string PortAlias(NetConf conf) => "cniveth-vlan-gateway " + NameFor(conf);

    /// <summary>Checked with the rest of the config: the name must be a valid interface name.</summary>
    public static void Validate(NetConf conf)
    {
        if (!Wanted(conf)) return;
        string name = NameFor(conf);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > EnvironmentValidator.MaxInterfaceNameBytes)
            throw CniException.Config($"the VLAN gateway interface \"{name}\" would be longer than 15 bytes",
                "use a shorter \"bridge\" name with \"vlan\" and isGateway");
    }

    /// <summary>The gateway interface, created when missing. A pair this ADD created is removed again by the
    /// rollback while nothing else is attached to the bridge.</summary>
    public static LinkInfo Ensure(RouteClient host, NetConf conf, LinkInfo bridge, Rollback rollback)
    {
        string name = NameFor(conf), port = PortNameFor(conf);
        LinkInfo? existing = host.GetLink(name);
        if (existing is not null) return existing;

        NetlinkOp create = host.Send(b => b.CreateVeth(port, bridge.Index, bridge.Mtu, name, null, null,
            $"creating VLAN gateway \"{name}\" (veth pair with bridge port \"{port}\")", Errno.EEXIST));
        if (!create.Succeeded)
            return host.GetLink(name) ?? throw create.ToException(); // another ADD created it first
        rollback.Add($"VLAN gateway \"{name}\"", () => RemoveIfUnused(host, bridge, port, name));

        LinkInfo portLink = host.GetLink(port) ?? throw CniException.Internal($"bridge port \"{port}\" vanished right after it was created");
        LinkInfo gateway = host.GetLink(name) ?? throw CniException.Internal($"VLAN gateway \"{name}\" vanished right after it was created");
        RouteBatch vlans = host.Batch();
        List<NetlinkOp> ops = BridgeVlans.AddTo(vlans, portLink, BridgeVlans.AccessPortRequests(conf.Vlan, conf.PreserveDefaultVlan));
        try { vlans.Send(); }
        catch (NetlinkException) when (ops.Exists(o => o.Errno == Errno.EOPNOTSUPP)) { throw BridgeVlans.NotAvailable(conf); }
        host.Send(b =>
        {
            b.SetLink(portLink.Index, new LinkChange(Alias: PortAlias(conf)), $"labelling bridge port \"{port}\"");
            return b.SetLink(gateway.Index, new LinkChange(Up: true), $"setting up VLAN gateway \"{name}\"");
        });
        return host.GetLink(name) ?? gateway;
    }

    private static void RemoveIfUnused(RouteClient host, LinkInfo bridge, string port, string name)
    {
        if (host.DumpLinks().Exists(l => l.MasterIndex == bridge.Index && l.Name != port)) return;
        host.Send(b => b.DeleteLink(port, $"removing VLAN gateway \"{name}\" created by the failed ADD", Errno.ENODEV));
    }
}
