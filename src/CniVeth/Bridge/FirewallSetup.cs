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
        var subnets = new List<CidrAddress>();
        foreach (CidrAddress a in plan.ContainerAddresses)
            if (!subnets.Contains(a.Subnet)) subnets.Add(a.Subnet);
        string? port = conf.MacSpoofChk ? hostIfName : null;
        // One atomic batch for the whole attachment (one nf_tables commit).
        fw.Add(network, subnets, addrs, port, conf.MacSpoofChk ? mac : null);
        rollback.Add("firewall state", () => { using var f = AttachmentFirewall.Open(); f.Remove(network, addrs, port); });
    }

    /// <summary>CHECK: the attachment's masquerade elements and spoof-check entry are in place.</summary>
    public static void Check(NetConf conf, string network, IReadOnlyList<IPAddress> addresses, string hostIfName, string mac)
    {
        if (!(conf.IpMasq && addresses.Count > 0) && !conf.MacSpoofChk) return;
        using AttachmentFirewall fw = AttachmentFirewall.Open();
        if (conf.IpMasq && addresses.Count > 0)
        {
            List<IPAddress> missing = fw.MissingMasquerade(network, addresses);
            if (missing.Count > 0)
                throw new CniException(ErrorCode.Internal,
                    $"masquerade for {string.Join(", ", missing)} is missing from table inet {FirewallLayout.TableName} (network \"{network}\")",
                    "the container's traffic leaving the network is not source-NATed; DEL and ADD again to restore it");
        }
        if (conf.MacSpoofChk)
        {
            string? allowed = fw.SpoofCheckMac(hostIfName);
            if (!string.Equals(allowed, mac, StringComparison.OrdinalIgnoreCase))
                throw new CniException(ErrorCode.Internal,
                    allowed is null
                        ? $"port \"{hostIfName}\" has no MAC spoof check in table bridge {FirewallLayout.TableName}"
                        : $"the MAC spoof check of port \"{hostIfName}\" allows {allowed}, the container uses {mac}",
                    "DEL and ADD again to restore it");
        }
    }
}
