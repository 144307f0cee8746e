using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>
/// The bridge plugin: a veth pair with one end in the container, the other enslaved to a Linux bridge,
/// addresses from IPAM. One verb per partial file (Add, Del, Check, Gc); all kernel work goes through
/// one rtnetlink socket per namespace.
/// </summary>
internal sealed partial class BridgePlugin : ICniPlugin
{
    public string Name => "cniveth (bridge)";

    public void Status(CniRequest request)
    {
        BridgeConfig.Validate(request.Conf, request.Version);
        if (request.Conf.HasIpam) IpamFactory.Create(request.Conf).Status(request);
        RefuseFullBridge(request.Conf.BridgeName);
    }

    /// <summary>The kernel's limit of ports per bridge (BR_MAX_PORTS 1,024, port number 0 reserved).</summary>
    internal const int MaxBridgePorts = 1023;

    /// <summary>STATUS: a bridge holding the kernel's maximum of ports cannot take another container, just
    /// like an exhausted range (code 50). A missing bridge is fine: ADD creates it.</summary>
    private static void RefuseFullBridge(string name)
    {
        using RouteClient host = RouteClient.Open();
        LinkInfo? bridge = host.GetLink(name);
        if (bridge is not { Kind: "bridge" }) return;
        int ports = 0;
        foreach (LinkInfo l in host.DumpLinks()) if (l.MasterIndex == bridge.Index) ports++;
        if (ports >= MaxBridgePorts)
            throw new CniException(ErrorCode.NotAvailable,
                $"bridge \"{name}\" is full: it has {ports} ports, the kernel's maximum",
                "put further containers on another network with its own \"bridge\" (and range)");
    }
}
