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

        try
        {
            using RouteClient host = RouteClient.Open();
            if (!DeleteHostVeth(host, network, hostName) && req.Env.NetNs != "")
                DeleteContainerInterface(req.Env.NetNs, ifName);
        }
        catch (Exception e) { errors.Add(e); }

        var addresses = new List<IPAddress>();
        if (req.PrevResult is not null) addresses.AddRange(req.PrevResult.Ips.Select(i => i.Address.Address));
        if (conf.HasIpam)
        {
            try { addresses.AddRange(IpamFactory.Create(conf).Del(req)); }
            catch (Exception e) { errors.Add(e); }
        }
        FirewallSetup.Remove(conf, network, addresses.Distinct().ToList(), hostName, errors);

        errors.ThrowIfAny("DEL could not clean up everything", "every other step completed; DEL can be retried safely");
    }

    /// <summary>Deletes the host end by derived name when it is ours (the container end goes with it).
    /// Returns false when there was none.</summary>
    private static bool DeleteHostVeth(RouteClient host, string network, string hostName)
    {
        LinkInfo? link = host.GetLink(hostName);
        if (link is null || !IsLeftoverOf(link, network, hostName)) return false;
        host.Do(b => Messages.DelLink(b, link.Index), $"deleting veth \"{hostName}\"", Errno.ENODEV);
        return true;
    }

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
