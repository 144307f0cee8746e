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
        if (conf.MacSpoofChk)
        {
            fw.AddMacSpoofCheck(hostIfName, mac);
            rollback.Add("mac spoof check", () => { using var f = NftFirewall.Open(); f.RemoveMacSpoofCheck(hostIfName); });
        }
        if (masq)
        {
            List<IPAddress> addrs = plan.ContainerAddresses.Select(a => a.Address).ToList();
            List<CidrAddress> subnets = plan.ContainerAddresses
                .Select(a => new CidrAddress(IpMath.Network(a), a.PrefixLength)).Distinct().ToList();
            fw.AddMasquerade(network, subnets, addrs);
            rollback.Add("masquerade", () => { using var f = NftFirewall.Open(); f.RemoveMasquerade(network, addrs); });
        }
    }

    /// <summary>Best effort: failures are appended to <paramref name="errors"/>.</summary>
    public static void Remove(NetConf conf, string network, IReadOnlyList<IPAddress> addresses, string hostIfName, TeardownErrors errors)
    {
        if (!conf.IpMasq && !conf.MacSpoofChk) return;
        try
        {
            using NftFirewall fw = NftFirewall.Open();
            if (conf.MacSpoofChk)
            {
                try { fw.RemoveMacSpoofCheck(hostIfName); }
                catch (Exception e) { errors.Add(e); }
            }
            if (conf.IpMasq && addresses.Count > 0)
            {
                try { fw.RemoveMasquerade(network, addresses); }
                catch (Exception e) { errors.Add(e); }
            }
        }
        catch (Exception e) { errors.Add(e); }
    }
}
