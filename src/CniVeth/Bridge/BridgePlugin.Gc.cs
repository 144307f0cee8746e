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
    /// cni.dev/valid-attachments goes — reservations (their masquerade elements removed while they are
    /// still held), host veths carrying our owner alias, and spoof-check entries of ports that no longer
    /// exist. A missing or unreadable list is an error before anything changes (ValidAttachments).
    /// Continues past errors and reports them together.
    /// </summary>
    public void Gc(CniRequest req)
    {
        NetConf conf = req.Conf;
        string network = req.NetworkName;
        ValidAttachments valid = ValidAttachments.FromConfig(conf);
        var tokens = new ValidAttachmentTokens(network, valid);
        var errors = new TeardownErrors();

        if (conf.HasIpam)
        {
            errors.Try(() => IpamFactory.Create(conf).Gc(req, valid, stale =>
            {
                if (!conf.IpMasq || stale.Count == 0) return;
                errors.Try(() =>
                {
                    using var fw = AttachmentFirewall.Open();
                    fw.RemoveMasquerade(network, stale);
                });
            }));
        }

        errors.Try(() =>
        {
            using RouteClient host = RouteClient.Open();
            List<LinkInfo> all = host.DumpLinks();
            bool IsStale(LinkInfo link) => link.Kind == "veth" && HostVeth.IsStale(link.Alias, network, tokens);
            List<LinkInfo> stale = all.FindAll(IsStale);
            if (stale.Count > 0) StaleVeths.Remove(host, stale, all, IsStale, errors);
        });

        if (conf.MacSpoofChk)
        {
            errors.Try(() =>
            {
                using var fw = AttachmentFirewall.Open();
                // The ports are listed after the spoof-check entries are read (see GcMacSpoofCheck).
                fw.GcMacSpoofCheck(() =>
                {
                    using RouteClient host = RouteClient.Open();
                    var ports = new HashSet<string>();
                    foreach (LinkInfo link in host.DumpLinks()) ports.Add(link.Name);
                    return ports;
                });
            });
        }

        errors.ThrowIfAny("GC could not remove everything", "every other step completed; GC can be retried safely");
    }
}
