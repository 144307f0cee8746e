using CniVeth.Cni;
using CniVeth.Namespaces;

namespace CniVeth.Bridge;

/// <summary>isGateway turns on forwarding for the families it serves, writing only when it is off.</summary>
internal static class Forwarding
{
    public static void Enable(IReadOnlyList<CidrAddress> gateways)
    {
        if (gateways.Any(g => g.IsIPv4)) Sysctl.Ensure("net/ipv4/ip_forward", "1");
        if (gateways.Any(g => !g.IsIPv4)) Sysctl.Ensure("net/ipv6/conf/all/forwarding", "1");
    }
}
