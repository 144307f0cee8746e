using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Ipam;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    /// <summary>
    /// GC (spec 1.1): everything of this network that belongs to an attachment not listed in
    /// cni.dev/valid-attachments goes — reservations, host veths carrying our owner alias, masquerade
    /// set elements and spoof-check entries. Continues past errors and reports them together.
    /// </summary>
    public void Gc(CniRequest req)
    {
        NetConf conf = req.Conf;
        string network = req.NetworkName;
        IReadOnlySet<(string ContainerId, string IfName)> valid = conf.ValidAttachmentSet();
        var errors = new TeardownErrors();
        var released = new List<IPAddress>();

        if (conf.HasIpam)
        {
            try { released.AddRange(IpamFactory.Create(conf).Gc(req, valid).Select(r => r.Address)); }
            catch (Exception e) { errors.Add(e); }
        }

        var remaining = new HashSet<string>();
        try
        {
            using RouteClient host = RouteClient.Open();
            foreach (LinkInfo link in host.DumpLinks())
            {
                remaining.Add(link.Name);
                if (link.Kind != "veth" || !HostVeth.TryParseAlias(link.Alias, out var n, out var c, out var i)) continue;
                if (n != network || valid.Contains((c, i))) continue;
                try
                {
                    host.Do(b => Messages.DelLink(b, link.Index), $"deleting stale veth \"{link.Name}\"", Errno.ENODEV);
                    remaining.Remove(link.Name);
                }
                catch (Exception e) { errors.Add(e); }
            }
        }
        catch (Exception e) { errors.Add(e); }

        if (conf.IpMasq || conf.MacSpoofChk)
        {
            try
            {
                using NftFirewall fw = NftFirewall.Open();
                if (conf.IpMasq && released.Count > 0) fw.RemoveMasquerade(network, released);
                if (conf.MacSpoofChk) fw.GcMacSpoofCheck(remaining);
            }
            catch (Exception e) { errors.Add(e); }
        }

        errors.ThrowIfAny("GC could not remove everything", "every other step completed; GC can be retried safely");
    }
}
