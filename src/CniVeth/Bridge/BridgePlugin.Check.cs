using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Namespaces;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    /// <summary>Compares prevResult with the kernel: bridge, container veth and its enslaved peer,
    /// every address and route, and the IPAM reservation. Any discrepancy names what is missing.</summary>
    public void Check(CniRequest req)
    {
        NetConf conf = req.Conf;
        BridgeConfig.Validate(conf, req.Version);
        Result prev = req.PrevResult ?? throw new CniException(ErrorCode.InvalidNetworkConfig,
            "Required prevResult missing", "CHECK needs the result of the ADD as prevResult");
        string ifName = req.Env.IfName;

        if (conf.HasIpam) IpamFactory.Create(conf).Check(req);

        using NetNamespace home = NetNamespace.Current();
        using NetNamespace netns = NetNamespace.Open(req.Env.NetNs);
        using RouteClient host = RouteClient.Open();
        using RouteClient container = netns.Run(home, RouteClient.Open);

        LinkInfo bridge = host.GetLink(conf.BridgeName) ?? throw Missing($"bridge \"{conf.BridgeName}\" does not exist");
        if (bridge.Kind != "bridge") throw Missing($"\"{conf.BridgeName}\" is not a bridge");
        ResultInterface? prevBridge = prev.Interfaces.FirstOrDefault(i => i.Name == conf.BridgeName && string.IsNullOrEmpty(i.Sandbox));
        if (prevBridge?.Mac is { Length: > 0 } bmac && !bmac.Equals(bridge.MacString, StringComparison.OrdinalIgnoreCase))
            throw Missing($"bridge \"{bridge.Name}\" has MAC {bridge.MacString}, prevResult says {bmac}");
        // As the reference: the bridge's promiscuous flag must match promiscMode, both ways.
        if (bridge.IsPromisc != conf.PromiscMode)
            throw Missing($"bridge \"{bridge.Name}\" is {(bridge.IsPromisc ? "" : "not ")}promiscuous, but promiscMode is {(conf.PromiscMode ? "true" : "false")}");

        LinkInfo peer = container.GetLink(ifName) ?? throw Missing($"interface \"{ifName}\" not found in {req.Env.NetNs}");
        if (peer.Kind != "veth") throw Missing($"\"{ifName}\" in {req.Env.NetNs} is a {peer.Kind}, not a veth");
        ResultInterface? prevPeer = prev.Interfaces.FirstOrDefault(i => i.Name == ifName && !string.IsNullOrEmpty(i.Sandbox));
        if (prevPeer is null) throw Missing($"prevResult has no interface \"{ifName}\" with a sandbox");
        if (prevPeer.Mac is { Length: > 0 } pmac && !pmac.Equals(peer.MacString, StringComparison.OrdinalIgnoreCase))
            throw Missing($"\"{ifName}\" has MAC {peer.MacString}, prevResult says {pmac}");

        LinkInfo? hostEnd = host.GetLink(peer.LinkIndex);
        if (hostEnd is null || hostEnd.Kind != "veth") throw Missing($"the host end of \"{ifName}\" is missing");
        if (hostEnd.MasterIndex != bridge.Index) throw Missing($"veth \"{hostEnd.Name}\" is not enslaved to bridge \"{bridge.Name}\"");
        // The host end is found again by its name on DEL: a renamed one would be orphaned.
        ResultInterface? prevHost = prev.Interfaces.Find(i => string.IsNullOrEmpty(i.Sandbox) && i.Name != conf.BridgeName
            && i.Name != VlanGateway.NameFor(conf));
        if (prevHost is not null && prevHost.Name != hostEnd.Name)
            throw Missing($"the host end of \"{ifName}\" is called \"{hostEnd.Name}\", prevResult says \"{prevHost.Name}\"");
        string expected = HostVeth.NameFor(req.NetworkName, req.Env.ContainerId, ifName);
        if (hostEnd.Alias == HostVeth.AliasFor(req.NetworkName, req.Env.ContainerId, ifName) && hostEnd.Name != expected)
            throw Missing($"the host end of \"{ifName}\" is called \"{hostEnd.Name}\", not \"{expected}\": DEL would not find it");

        int containerIndex = prev.Interfaces.IndexOf(prevPeer);
        var addrs = container.DumpAddresses(Rtnl.AF_UNSPEC, peer.Index);
        foreach (ResultIp ip in prev.Ips.Where(i => i.Interface is null || i.Interface == containerIndex))
            if (!addrs.Any(a => a.Address == ip.Address))
                throw Missing($"address {ip.Address} is missing on \"{ifName}\"");

        var routes = container.DumpRoutes(Rtnl.AF_INET);
        routes.AddRange(container.DumpRoutes(Rtnl.AF_INET6));
        foreach (ResultRoute r in prev.Routes)
        {
            bool found = routes.Any(k => k.Dst.PrefixLength == r.Dst.PrefixLength && k.Dst.Address.Equals(IpMath.Network(r.Dst))
                && (r.Gw is null || r.Gw.Equals(k.Gateway)));
            if (!found) throw Missing($"route {r.Dst}{(r.Gw is null ? "" : " via " + r.Gw)} is missing in {req.Env.NetNs}");
        }

        // Untracked resources too (spec: CHECK covers firewall state the plugin created).
        FirewallSetup.Check(conf, req.NetworkName, prev.Ips.ConvertAll(i => i.Address), hostEnd.Name, peer.MacString);
    }

    private static CniException Missing(string what) => new(ErrorCode.Internal, what, "the attachment no longer matches its ADD result");
}
