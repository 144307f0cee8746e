using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>ipMasq and macspoofchk for one attachment, through native nftables (never nft/iptables binaries).
/// ipMasqBackend "iptables" is served by the same nftables implementation.</summary>
internal static class FirewallSetup
{
    public static void Add(NetConf conf, string network, AddressPlan plan, string hostIfName, string mac, Rollback rollback)
    {
        bool masq = conf.IpMasq && plan.ContainerAddresses.Count > 0;
        if (!masq && !conf.MacSpoofChk) return;
        using NftFirewall fw = NftFirewall.Open();
        List<IPAddress> addrs = masq ? plan.ContainerAddresses.Select(a => a.Address).ToList() : [];
        List<CidrAddress> subnets = plan.ContainerAddresses
            .Select(a => new CidrAddress(IpMath.Network(a), a.PrefixLength)).Distinct().ToList();
        string? port = conf.MacSpoofChk ? hostIfName : null;
        // One atomic batch for the whole attachment (one nf_tables commit).
        fw.AddAttachment(network, subnets, addrs, port, conf.MacSpoofChk ? mac : null);
        rollback.Add("firewall state", () => { using var f = NftFirewall.Open(); f.RemoveAttachment(network, addrs, port); });
    }

    /// <summary>Best effort, one atomic batch: failures are appended to <paramref name="errors"/>.</summary>
    /// <remarks><paramref name="whileOpen"/> runs after the batch and before the nf_tables socket is closed
    /// (always, even when there is nothing to remove or removing failed): closing a socket whose batch
    /// deleted elements waits for the kernel to free them, so slow kernel work placed here overlaps that wait.</remarks>
    public static void Remove(NetConf conf, string network, IReadOnlyList<IPAddress> addresses, string hostIfName,
        TeardownErrors errors, Action? whileOpen = null)
    {
        IReadOnlyList<IPAddress> masq = conf.IpMasq ? addresses : [];
        string? port = conf.MacSpoofChk ? hostIfName : null;
        NftFirewall? fw = null;
        try
        {
            if (masq.Count > 0 || port is not null)
            {
                fw = NftFirewall.Open();
                fw.RemoveAttachment(network, masq, port);
            }
        }
        catch (Exception e) { errors.Add(e); }
        finally
        {
            whileOpen?.Invoke();
            fw?.Dispose();
        }
    }

    /// <summary>Whether this network keeps per-attachment firewall state.</summary>
    public static bool IsUsed(NetConf conf) => conf.IpMasq || conf.MacSpoofChk;

    /// <summary>CHECK: the attachment's masquerade elements and spoof-check entry are in place.</summary>
    public static void Check(NetConf conf, string network, IReadOnlyList<IPAddress> addresses, string hostIfName, string mac)
    {
        if (!(conf.IpMasq && addresses.Count > 0) && !conf.MacSpoofChk) return;
        using NftFirewall fw = NftFirewall.Open();
        if (conf.IpMasq && addresses.Count > 0)
        {
            List<IPAddress> missing = fw.MissingMasquerade(network, addresses);
            if (missing.Count > 0)
                throw new CniException(ErrorCode.Internal,
                    $"masquerade for {string.Join(", ", missing)} is missing from table inet {NftFirewall.TableName} (network \"{network}\")",
                    "the container's traffic leaving the network is not source-NATed; DEL and ADD again to restore it");
        }
        if (conf.MacSpoofChk)
        {
            string? allowed = fw.SpoofCheckMac(hostIfName);
            if (!string.Equals(allowed, mac, StringComparison.OrdinalIgnoreCase))
                throw new CniException(ErrorCode.Internal,
                    allowed is null
                        ? $"port \"{hostIfName}\" has no MAC spoof check in table bridge {NftFirewall.TableName}"
                        : $"the MAC spoof check of port \"{hostIfName}\" allows {allowed}, the container uses {mac}",
                    "DEL and ADD again to restore it");
        }
    }
}
