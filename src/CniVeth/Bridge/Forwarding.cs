using CniVeth.Namespaces;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>isGateway turns on forwarding for the families it serves, writing only when it is off; a
/// value this ADD turned on is turned off again by the rollback.</summary>
internal static class Forwarding
{
    public static void Enable(RouteClient host, IReadOnlyList<CidrAddress> gateways, Rollback rollback)
    {
        if (gateways.Any(g => g.IsIPv4)) Turn(host, Rtnl.AF_INET, "net/ipv4/ip_forward", rollback);
        if (gateways.Any(g => !g.IsIPv4)) Turn(host, Rtnl.AF_INET6, "net/ipv6/conf/all/forwarding", rollback);
    }

    private static void Turn(RouteClient host, byte family, string key, Rollback rollback)
    {
        // On at every ADD but a node's first: netlink answers that without a /proc/sys lookup, whose cost
        // grows with the number of network namespaces on the node (see RouteClient.GetForwarding).
        int? now = host.GetForwarding(family);
        if (now == 1) return;
        // The value to restore on rollback: netlink's answer, or /proc/sys where the kernel gave none.
        string? before = now is int v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : Sysctl.Read(key);
        if (before == "1") return;
        Sysctl.Write(key, "1");
        if (before is not null) rollback.Add($"sysctl {key}", () => Sysctl.Write(key, before));
    }
}
