using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Namespaces;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    /// <summary>
    /// Idempotent, best-effort teardown: every step runs even when an earlier one failed, and the failures
    /// are reported together. Works without the container namespace (empty CNI_NETNS, deleted netns, a path
    /// that is not a namespace): the host end is found by its derived name and owner alias, the addresses
    /// by the IPAM store, the firewall state by those addresses. SIGTERM/SIGINT are ignored for the whole
    /// DEL process (Program.Main) so a runtime's timeout cannot leave half a teardown behind.
    /// </summary>
    public void Del(CniRequest req)
    {

        NetConf conf = req.Conf;
        string network = req.NetworkName, containerId = req.Env.ContainerId, ifName = req.Env.IfName;
        string hostName = HostVeth.NameFor(network, containerId, ifName);
        var errors = new TeardownErrors();

        // With firewall state the veth goes last: closing the nf_tables socket after removing elements
        // waits for the kernel to free them (an RCU grace period, ~17 ms), and the veth deletion waits for
        // grace periods too; in this order the two waits overlap instead of adding up. The port is set
        // down first, so no traffic passes unmasqueraded or unchecked in between.
        bool firewallLast = FirewallSetup.IsUsed(conf);
        RouteClient? host = null;
        LinkInfo? hostVeth = null;
        try
        {
            host = RouteClient.Open();
            hostVeth = FindHostVeth(host, network, hostName);
            if (hostVeth is null)
            {
                if (req.Env.NetNs != "") DeleteContainerInterface(req.Env.NetNs, ifName);
            }
            else if (firewallLast)
            {
                host.Do(b => Messages.SetLink(b, hostVeth.Index, up: false), $"setting veth \"{hostName}\" down", Errno.ENODEV);
            }
            else
            {
                DeleteHostVeth(host, hostVeth);
                hostVeth = null;
            }
        }
        catch (Exception e) { errors.Add(e); }

        var addresses = new List<IPAddress>();
        if (req.PrevResult is not null) addresses.AddRange(req.PrevResult.Ips.Select(i => i.Address.Address));
        if (conf.HasIpam)
        {
            try { addresses.AddRange(IpamFactory.Create(conf).Del(req)); }
            catch (Exception e) { errors.Add(e); }
        }
        FirewallSetup.Remove(conf, network, addresses.Distinct().ToList(), hostName, errors, whileOpen: () =>
        {
            if (hostVeth is null) return;
            try { DeleteHostVeth(host!, hostVeth); }
            catch (Exception e) { errors.Add(e); }
        });
        host?.Dispose();

        errors.ThrowIfAny("DEL could not clean up everything", "every other step completed; DEL can be retried safely");
    }

    /// <summary>The host end by derived name when it is ours (deleting it takes the container end too).</summary>
    private static LinkInfo? FindHostVeth(RouteClient host, string network, string hostName)
    {
        LinkInfo? link = host.GetLink(hostName);
        return link is not null && IsLeftoverOf(link, network, hostName) ? link : null;
    }

    private static void DeleteHostVeth(RouteClient host, LinkInfo link) =>
        host.Do(b => Messages.DelLink(b, link.Index), $"deleting veth \"{link.Name}\"", Errno.ENODEV);

    /// <summary>Attachments made by the reference plugin (random host names) are removed from inside the container.</summary>
    private static void DeleteContainerInterface(string netnsPath, string ifName)
    {
        NetNamespace netns;
        try { netns = NetNamespace.Open(netnsPath); }
        catch (NetNamespaceException) { return; } // gone, or not a namespace: nothing left inside to delete
        using (netns)
        {
            using NetNamespace home = NetNamespace.Current();
            using RouteClient container = netns.Run(home, RouteClient.Open);
            container.Do(b => Messages.DelLink(b, ifName), $"deleting \"{ifName}\" in {netnsPath}", Errno.ENODEV);
        }
    }
}
