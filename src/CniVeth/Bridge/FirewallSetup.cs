using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>ipMasq and macspoofchk of one attachment, through native nftables (AttachmentFirewall).
/// ipMasqBackend "iptables" is served by the same nftables implementation.</summary>
internal static class FirewallSetup
{
    /// <summary>Whether this network keeps per-attachment firewall state.</summary>
    public static bool IsUsed(NetConf conf) => conf.IpMasq || conf.MacSpoofChk;

    public static void Add(NetConf conf, string network, AddressPlan plan, string hostIfName, string mac, Rollback rollback)
    {
        bool masq = conf.IpMasq && plan.ContainerAddresses.Count > 0;
        if (!masq && !conf.MacSpoofChk) return;
        using AttachmentFirewall fw = AttachmentFirewall.Open();
        List<IPAddress> addrs = masq ? plan.ContainerAddresses.ConvertAll(a => a.Address) : [];
        List<CidrAddress> subnets = masq ? NotMasqueraded(conf, plan.ContainerAddresses) : [];
        string? port = conf.MacSpoofChk ? hostIfName : null;
        // One atomic batch for the whole attachment (one nf_tables commit).
        fw.Add(network, subnets, addrs, port, conf.MacSpoofChk ? mac : null);
        rollback.Add("firewall state", () => { using var f = AttachmentFirewall.Open(); f.Remove(network, addrs, port); });
    }

    /// <summary>The destinations the attachment's traffic is not masqueraded to: the subnets of its
    /// addresses, and the nonMasqueradeCIDRs of the families it has addresses in.</summary>
    private static List<CidrAddress> NotMasqueraded(NetConf conf, IReadOnlyList<CidrAddress> addresses)
    {
        var result = new List<CidrAddress>();
        foreach (CidrAddress a in addresses)
            if (!result.Contains(a.Subnet)) result.Add(a.Subnet);
        foreach (CidrAddress c in BridgeConfig.NonMasqueradeCidrs(conf))
        {
            bool familyUsed = false;
            foreach (CidrAddress a in addresses) familyUsed |= a.IsIPv4 == c.IsIPv4;
            if (familyUsed && !result.Contains(c)) result.Add(c);
        }
        return result;
    }

    /// <summary>CHECK: the rules the attachment relies on are in place and active (table not dormant, base
    /// chain with its hook, the network's masquerade rule per family, the spoof-check rule), its masquerade
    /// elements and not-masqueraded destinations are in the network's sets, and its spoof-check entries
    /// name the container's MAC.</summary>
    public static void Check(NetConf conf, string network, IReadOnlyList<CidrAddress> addresses, string hostIfName, string mac)
    {
        bool masq = conf.IpMasq && addresses.Count > 0;
        if (!masq && !conf.MacSpoofChk) return;
        using AttachmentFirewall fw = AttachmentFirewall.Open();
        bool v4 = false, v6 = false;
        var ips = new List<IPAddress>(addresses.Count);
        foreach (CidrAddress a in addresses)
        {
            v4 |= masq && a.IsIPv4;
            v6 |= masq && !a.IsIPv4;
            ips.Add(a.Address);
        }
        RulesetCheck rules = fw.CheckRuleset(network, v4, v6, conf.MacSpoofChk);
        if (rules.Problem is not null)
            throw new CniException(ErrorCode.Internal, rules.Problem,
                rules.Problem.Contains("dormant", StringComparison.Ordinal)
                    ? $"`nft add table {(rules.Problem.Contains("table inet", StringComparison.Ordinal) ? "inet" : "bridge")} {FirewallLayout.TableName}` makes it active again"
                    : "the next ADD on this network re-creates it");
        if (masq)
        {
            List<IPAddress> missing = fw.MissingMasquerade(network, ips);
            if (missing.Count > 0)
                throw new CniException(ErrorCode.Internal,
                    $"masquerade for {string.Join(", ", missing)} is missing from table inet {FirewallLayout.TableName} (network \"{network}\")",
                    "the container's traffic leaving the network is not source-NATed; DEL and ADD again to restore it");
            List<CidrAddress> notCovered = fw.MissingNotMasqueraded(network, NotMasqueraded(conf, addresses));
            if (notCovered.Count > 0)
                throw new CniException(ErrorCode.Internal,
                    $"{string.Join(", ", notCovered)} is missing from the not-masqueraded destinations of network \"{network}\" (set inet {FirewallLayout.TableName} {FirewallLayout.SubnetSetName(network, !notCovered[0].IsIPv4)})",
                    "traffic to it is masqueraded; the next ADD on this network puts it back");
        }
        if (conf.MacSpoofChk)
        {
            string? allowed = fw.SpoofCheckMac(hostIfName, rules.LegacySpoofRule);
            if (!string.Equals(allowed, mac, StringComparison.OrdinalIgnoreCase))
                throw new CniException(ErrorCode.Internal,
                    allowed is null
                        ? $"port \"{hostIfName}\" has no MAC spoof check in table bridge {FirewallLayout.TableName}"
                        : $"the MAC spoof check of port \"{hostIfName}\" allows {allowed}, the container uses {mac}",
                    "DEL and ADD again to restore it");
        }
    }
}
