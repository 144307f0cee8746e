using CniVeth.Namespaces;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>isGateway turns on forwarding for the families it serves, writing only when it is off; a
/// value this ADD turned on is turned off again by the rollback.</summary>
internal static class Forwarding
{
    public static void Enable(IReadOnlyList<CidrAddress> gateways, Rollback rollback)
    {
        if (gateways.Any(g => g.IsIPv4)) Turn("net/ipv4/ip_forward", rollback);
        if (gateways.Any(g => !g.IsIPv4)) Turn("net/ipv6/conf/all/forwarding", rollback);
    }

    private static void Turn(string key, Rollback rollback)
    {
        string? before = Sysctl.Read(key);
        if (before == "1") return;
        Sysctl.Write(key, "1");
        if (before is not null) rollback.Add($"sysctl {key}", () => Sysctl.Write(key, before));
    }
}
