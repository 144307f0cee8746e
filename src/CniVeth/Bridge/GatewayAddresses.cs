using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>
/// After a gateway address was newly added to the bridge: a bridge must not keep a different IPv4
/// address (or an overlapping IPv6 one) from an earlier configuration. Without forceAddress that is the
/// reference's error; with it the old address is removed. Runs only when an address was added, so the
/// steady state costs no dump.
/// </summary>
internal static class GatewayAddresses
{
    /// <param name="ours">every gateway address of this config (none of them conflicts with another)</param>
    /// <param name="added">those this ADD just added: the only ones undone on a conflict, since the others
    /// were already there and serve other attachments</param>
    public static void Reconcile(RouteClient host, NetConf conf, LinkInfo bridge, IReadOnlyList<CidrAddress> ours,
        IReadOnlyList<CidrAddress> added)
    {
        var conflicting = new List<CidrAddress>();
        foreach (byte family in new[] { Rtnl.AF_INET, Rtnl.AF_INET6 })
        {
            var mine = ours.Where(a => a.IsIPv4 == (family == Rtnl.AF_INET)).ToList();
            if (mine.Count == 0) continue;
            foreach (AddressInfo existing in host.DumpAddresses(family, bridge.Index))
            {
                CidrAddress a = existing.Address;
                if (mine.Contains(a)) continue;
                if (!a.IsIPv4 && a.Address.IsIPv6LinkLocal) continue;
                bool conflict = family == Rtnl.AF_INET || mine.Any(m => IpMath.Contains(m, a.Address) || IpMath.Contains(a, m.Address));
                if (conflict) conflicting.Add(a);
            }
        }
        if (conflicting.Count == 0) return;
        if (!conf.ForceAddress)
        {
            // Undo our addition so the bridge is left as we found it.
            foreach (CidrAddress m in added)
                host.Do(b => Messages.DelAddress(b, bridge.Index, m), $"removing {m} from \"{bridge.Name}\"", Errno.EADDRNOTAVAIL, Errno.ENODEV);
            throw new CniException(ErrorCode.Internal,
                $"\"{bridge.Name}\" already has an IP address different from {string.Join(", ", ours)}",
                $"found {string.Join(", ", conflicting)}; set \"forceAddress\": true to replace it, or remove it");
        }
        foreach (CidrAddress old in conflicting)
            host.Do(b => Messages.DelAddress(b, bridge.Index, old), $"removing old address {old} from \"{bridge.Name}\"", Errno.EADDRNOTAVAIL);
    }
}
