using System.Net;
using CniVeth.Cni;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>
/// What ADD puts where, derived once from the config and the IPAM result: container addresses, each
/// address's gateway, the gateway addresses for the bridge (isGateway), and the container routes
/// (IPAM routes plus the default routes isDefaultGateway asks for).
/// </summary>
internal sealed class AddressPlan
{
    public List<CidrAddress> ContainerAddresses { get; } = new();
    public List<CidrAddress> BridgeAddresses { get; } = new();
    /// <summary>Container routes, as installed and as reported in the result.</summary>
    public List<ResultRoute> Routes { get; } = new();
    private readonly Dictionary<CidrAddress, IPAddress?> _gateways = new();

    public static AddressPlan From(NetConf conf, Result ipam)
    {
        bool isGateway = conf.IsGateway || conf.IsDefaultGateway;
        var plan = new AddressPlan();
        foreach (ResultIp ip in ipam.Ips)
        {
            IPAddress? gw = ip.Gateway;
            if (gw is null && isGateway) gw = IpMath.FirstHost(ip.Address);
            plan._gateways[ip.Address] = gw;
            plan.ContainerAddresses.Add(ip.Address);
            if (isGateway && gw is not null)
            {
                var onBridge = new CidrAddress(gw, ip.Address.PrefixLength);
                if (!plan.BridgeAddresses.Contains(onBridge)) plan.BridgeAddresses.Add(onBridge);
            }
        }
        plan.Routes.AddRange(ipam.Routes);
        if (conf.IsDefaultGateway)
        {
            foreach (bool v4 in new[] { true, false })
            {
                IPAddress? gw = plan.FamilyGateway(v4);
                if (gw is null || plan.Routes.Any(r => r.Dst.PrefixLength == 0 && r.Dst.IsIPv4 == v4)) continue;
                plan.Routes.Add(new ResultRoute
                {
                    Dst = new CidrAddress(v4 ? IPAddress.Any : IPAddress.IPv6Any, 0),
                    Gw = gw,
                });
            }
        }
        return plan;
    }

    public IPAddress? GatewayOf(ResultIp ip) => _gateways.TryGetValue(ip.Address, out var gw) ? gw : ip.Gateway;

    /// <summary>The next hop a route uses in the container: its own gw, else its family's first gateway
    /// (as the reference does), else none (a link-scope route).</summary>
    public IPAddress? GatewayFor(ResultRoute r) => r.Gw ?? FamilyGateway(r.Dst.IsIPv4);

    /// <summary>The container routes as the kernel takes them, each with its next hop resolved.</summary>
    public List<RouteSpec> KernelRoutes() =>
        Routes.ConvertAll(r => new RouteSpec(r.Dst, GatewayFor(r), r.Table, r.Priority, r.Mtu, r.AdvMss, r.Scope));

    private IPAddress? FamilyGateway(bool v4)
    {
        // A loop, not Where().Select() over a struct: that chain is a generic virtual call the runtime's
        // type loader resolves at run time (~1% of an ADD).
        foreach (CidrAddress a in ContainerAddresses)
            if (a.IsIPv4 == v4 && _gateways[a] is { } gw) return gw;
        return null;
    }
}
