using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Ipam;
using CniVeth.Namespaces;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

internal sealed partial class BridgePlugin
{
    /// <summary>
    /// Idempotent, best-effort teardown of what this attachment still owns: every step runs even when an
    /// earlier one failed, and the failures are reported together. Works without the container namespace
    /// (empty CNI_NETNS, deleted netns, a path that is not a namespace): the host end is found by its derived
    /// name and owner alias, the addresses by the IPAM store, the firewall state by those addresses.
    /// Ownership, not the request, decides what goes (a repeated DEL must never take a later container's
    /// state): the veth only with our alias, masquerade only for addresses this attachment holds or nobody
    /// holds, removed while they are still held, and the spoof check only of a port name nobody else uses.
    /// SIGTERM/SIGINT are ignored for the whole DEL process (Program.Main).
    /// </summary>
    public void Del(CniRequest req)
    {
        NetConf conf = req.Conf;
        string network = req.NetworkName, containerId = req.Env.ContainerId, ifName = req.Env.IfName;
        string hostName = HostVeth.NameFor(network, containerId, ifName);
        string alias = HostVeth.AliasFor(network, containerId, ifName);
        var errors = new TeardownErrors();
        var plan = new DelPlan(FirewallSetup.IsUsed(conf));

        RouteClient? host = null;
        LinkInfo? ours = null;
        errors.Try(() =>
        {
            host = RouteClient.Open();
            LinkInfo? link = host.GetLink(hostName);
            plan.PortNameFree = link is null;
            if (link is not null && Ownership.IsOurs(link, alias, () => PeerConfirms(req.Env.NetNs, ifName, link))) ours = link;
            plan.VethFound = ours is not null;
            plan.VethUp = ours is not null && ours.IsUp;
            if (ours is null)
            {
                // Attachments made by the reference plugin (random host names) are removed from inside the container.
                if (req.Env.NetNs != "") DeleteContainerInterface(req.Env.NetNs, ifName);
            }
            else if (plan.VethLast)
            {
                // No traffic passes unmasqueraded or unchecked while the firewall state goes.
                host.Send(b => b.SetLink(ours.Index, new LinkChange(Up: false), $"setting veth \"{hostName}\" down", Errno.ENODEV));
            }
            else
            {
                DeleteHostVeth(host, ours);
                ours = null;
            }
        });

        IReadOnlyList<IPAddress> previous = req.PrevResult?.Ips.ConvertAll(i => i.Address.Address) ?? [];
        AttachmentFirewall? fw = null;
        void RemoveFirewall(ReleaseScope scope)
        {
            IReadOnlyList<IPAddress> masq = conf.IpMasq ? plan.MasqueradeToRemove(scope, previous) : [];
            string? port = conf.MacSpoofChk && plan.MayRemoveSpoofCheck ? hostName : null;
            if (masq.Count == 0 && port is null) return;
            errors.Try(() =>
            {
                fw ??= AttachmentFirewall.Open();
                fw.Remove(network, masq, port);
            });
        }

        if (conf.HasIpam) errors.Try(() => IpamFactory.Create(conf).Del(req, RemoveFirewall));
        else RemoveFirewall(new ReleaseScope([], null));

        // The veth goes while the nf_tables socket is still open: closing a socket whose batch deleted
        // elements waits for the kernel to free them (an RCU grace period, ~17 ms), and the veth deletion
        // waits for grace periods too; in this order the two waits overlap instead of adding up.
        if (ours is not null) errors.Try(() => DeleteHostVeth(host!, ours));
        fw?.Dispose();
        host?.Dispose();

        errors.ThrowIfAny("DEL could not clean up everything", "every other step completed; DEL can be retried safely");
    }

    private static void DeleteHostVeth(RouteClient host, LinkInfo link) =>
        host.Send(b => b.DeleteLink(link.Index, $"deleting veth \"{link.Name}\"", Errno.ENODEV));

    /// <summary>For a veth without alias (an ADD killed before labelling it): is its peer our container
    /// interface? Needs the namespace; without it the veth is left alone.</summary>
    private static bool PeerConfirms(string netnsPath, string ifName, LinkInfo hostEnd)
    {
        if (netnsPath.Length == 0) return false;
        try
        {
            using NetNamespace netns = NetNamespace.Open(netnsPath);
            using NetNamespace home = NetNamespace.Current();
            using RouteClient container = netns.Run(home, RouteClient.Open);
            return Ownership.IsPeerOf(container.GetLink(ifName), hostEnd);
        }
        catch (NetNamespaceException) { return false; }
    }

    /// <summary>Removes the container interface from inside the namespace (attachments whose host end has
    /// a name we did not derive). Gone or not a namespace: nothing left inside to delete.</summary>
    private static void DeleteContainerInterface(string netnsPath, string ifName)
    {
        NetNamespace netns;
        try { netns = NetNamespace.Open(netnsPath); }
        catch (NetNamespaceException) { return; }
        using (netns)
        {
            using NetNamespace home = NetNamespace.Current();
            using RouteClient container = netns.Run(home, RouteClient.Open);
            container.Send(b => b.DeleteLink(ifName, $"deleting \"{ifName}\" in {netnsPath}", Errno.ENODEV));
        }
    }
}

/// <summary>The decisions of a DEL, apart from the kernel calls that carry them out (unit-tested).</summary>
internal sealed class DelPlan(bool firewallUsed)
{
    /// <summary>Our veth (by alias) was found.</summary>
    public bool VethFound { get; set; }
    /// <summary>No interface at all holds the derived host name.</summary>
    public bool PortNameFree { get; set; }
    /// <summary>Our veth was still up: no earlier DEL of this attachment got as far as its firewall step
    /// (DEL sets the port down before it; ADD leaves it up).</summary>
    public bool VethUp { get; set; }

    /// <summary>With firewall state the veth goes last (set down first), see BridgePlugin.Del.</summary>
    public bool VethLast => firewallUsed && VethFound;

    /// <summary>The spoof check is keyed by the port name: removed when the port was ours or the name is
    /// unused, never while another attachment's interface holds that name.</summary>
    public bool MayRemoveSpoofCheck => VethFound || PortNameFree;

    /// <summary>
    /// Masquerade elements to remove: the addresses this attachment holds, plus those of its cached result
    /// (prevResult) that nobody holds any more (a leftover of an earlier, interrupted DEL). An address that
    /// now belongs to another container keeps its element. When the IPAM plugin cannot say who holds what
    /// (a delegated one), prevResult is trusted only while the attachment is untouched: its veth exists and
    /// is up. A veth that is down belongs to a DEL that already got past the firewall step, and most likely
    /// past the delegate's release too, so the address may belong to another container by now: its
    /// element stays (a leak at worst, never another container's NAT lost).
    /// </summary>
    public IReadOnlyList<IPAddress> MasqueradeToRemove(ReleaseScope scope, IReadOnlyList<IPAddress> previous)
    {
        var result = new List<IPAddress>(scope.Held);
        foreach (IPAddress a in previous)
        {
            if (result.Contains(a)) continue;
            bool remove = scope.IsFree is { } isFree ? isFree(a) : VethFound && VethUp;
            if (remove) result.Add(a);
        }
        return result;
    }
}
