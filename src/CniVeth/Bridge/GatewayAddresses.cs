using CniVeth.Cni;
using CniVeth.Netlink.Route;
using CniVeth.Values;

namespace CniVeth.Bridge;

/// <summary>
/// The gateway addresses isGateway puts on a shared bridge. After one was newly added, a bridge must not
/// keep a different IPv4 address (or an overlapping IPv6 one) from an earlier configuration: without
/// forceAddress that is the reference's error, with it the old address is removed. Runs only when an
/// address was added, so the steady state costs no dump.
/// </summary>
internal static class GatewayAddresses
{
    /// <param name="ours">every gateway address of this config (none of them conflicts with another)</param>
    /// <param name="added">those this ADD just added: the only ones undone on a conflict, since the others
    /// were already there and serve other attachments</param>
    public static void Reconcile(RouteClient host, NetConf conf, LinkInfo bridge, IReadOnlyList<CidrAddress> ours,
        IReadOnlyList<CidrAddress> added)
    {
        var existing = new List<CidrAddress>();
        foreach (byte family in new[] { Rtnl.AF_INET, Rtnl.AF_INET6 })
        {
            if (!ours.Any(a => a.IsIPv4 == (family == Rtnl.AF_INET))) continue;
            existing.AddRange(host.DumpAddresses(family, bridge.Index).ConvertAll(a => a.Address));
        }
        List<CidrAddress> conflicting = Conflicts(ours, existing);
        if (conflicting.Count == 0) return;
        if (!conf.ForceAddress)
        {
            // Undo our addition so the bridge is left as we found it.
            host.Send(b =>
            {
                foreach (CidrAddress m in added)
                    b.DeleteAddress(bridge.Index, m, $"removing {m} from \"{bridge.Name}\"", Errno.EADDRNOTAVAIL, Errno.ENODEV);
                return b;
            });
            throw new CniException(ErrorCode.Internal,
                $"\"{bridge.Name}\" already has an IP address different from {string.Join(", ", ours)}",
                $"found {string.Join(", ", conflicting)}; set \"forceAddress\": true to replace it, or remove it");
        }
        host.Send(b =>
        {
            foreach (CidrAddress old in conflicting)
                b.DeleteAddress(bridge.Index, old, $"removing old address {old} from \"{bridge.Name}\"", Errno.EADDRNOTAVAIL);
            return b;
        });
    }

    /// <summary>
    /// The reference's rule: a bridge carries one IPv4 address per network config, so any other IPv4
    /// address conflicts with ours; an IPv6 address conflicts only when one prefix contains the other
    /// (link-local addresses never do).
    /// </summary>
    public static List<CidrAddress> Conflicts(IReadOnlyList<CidrAddress> ours, IReadOnlyList<CidrAddress> onBridge)
    {
        var conflicting = new List<CidrAddress>();
        foreach (CidrAddress a in onBridge)
        {
            if (ours.Contains(a)) continue;
            if (!ours.Any(m => m.IsIPv4 == a.IsIPv4)) continue;
            if (!a.IsIPv4 && a.Address.IsIPv6LinkLocal) continue;
            bool conflict = a.IsIPv4 || ours.Any(m => !m.IsIPv4 && (IpMath.Contains(m, a.Address) || IpMath.Contains(a, m.Address)));
            if (conflict) conflicting.Add(a);
        }
        return conflicting;
    }

    /// <summary>Undo of a failed ADD's additions to <paramref name="holder"/> (the bridge, or a VLAN gateway):
    /// only while no container port is attached to the bridge, since another attachment's ADD may be
    /// counting on the address (it found it there and did not add it).</summary>
    public static void RemoveIfUnused(RouteClient host, LinkInfo holder, LinkInfo bridge, IReadOnlyList<CidrAddress> added)
    {
        string gatewayPort = VlanGatewayPort(holder);
        if (host.DumpLinks().Exists(l => l.MasterIndex == bridge.Index && l.Name != gatewayPort)) return;
        host.Send(b =>
        {
            foreach (CidrAddress a in added)
                b.DeleteAddress(holder.Index, a, $"removing gateway address {a} from \"{holder.Name}\"", Errno.EADDRNOTAVAIL, Errno.ENODEV);
            return b;
        });
    }

    /// <summary>The bridge port of a VLAN gateway (not a container's), or "" for the bridge itself.</summary>
    private static string VlanGatewayPort(LinkInfo holder) => holder.Kind == "bridge" ? "" : VlanGateway.PortNameFor(holder.Name);
}
