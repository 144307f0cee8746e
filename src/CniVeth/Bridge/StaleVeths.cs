using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;

namespace CniVeth.Bridge;

/// <summary>
/// GC's removal of stale host veths (each peer goes with its host end). One RTM_DELLINK per link waits
/// for a full RCU grace period each (~16–20 ms), so 500 stale links took 8–16 s. The kernel unregisters
/// all links of a link group in one request with one set of waits: 500 links in 0.42–0.71 s
/// (docs/BENCHMARKS.md, "GC bulk deletion"). The group is a namespace-wide number, so it is chosen at
/// random, never one a link already carries, and the links carrying it are checked to be exactly ours
/// before the group is deleted; anything unexpected falls back to one request per link.
/// </summary>
internal static class StaleVeths
{
    /// <summary>Below this, one request per link costs no more than the group's set, check and delete.</summary>
    internal const int GroupThreshold = 3;
    /// <summary>Bit 16 keeps random groups clear of the small numbers administrators name in /etc/iproute2/group.</summary>
    internal const uint GroupBit = 0x10000;

    /// <summary>Deletes the stale links; <paramref name="stillStale"/> re-checks a link read again before the
    /// group delete. Every failure goes to <paramref name="errors"/>; the rest continues.</summary>
    public static void Remove(RouteClient host, List<LinkInfo> stale, List<LinkInfo> all,
        Func<LinkInfo, bool> stillStale, TeardownErrors errors)
    {
        List<LinkInfo> left = stale;
        if (stale.Count >= GroupThreshold)
        {
            try { left = RemoveAsGroup(host, stale, all, stillStale); }
            catch (NetlinkException) { left = stale; } // e.g. EOPNOTSUPP: one by one below reports what stays
        }
        foreach (LinkInfo link in left)
            errors.Try(() => host.Send(b => b.DeleteLink(link.Index, $"deleting stale veth \"{link.Name}\"", Errno.ENODEV)));
    }

    /// <summary>Returns the links still to delete one by one: none when the group delete went through.</summary>
    private static List<LinkInfo> RemoveAsGroup(RouteClient host, List<LinkInfo> stale, List<LinkInfo> all, Func<LinkInfo, bool> stillStale)
    {
        uint group = PickGroup(all);
        RouteBatch set = host.Batch();
        var ops = new List<(LinkInfo Link, NetlinkOp Op)>(stale.Count);
        foreach (LinkInfo link in stale)
            ops.Add((link, set.SetLink(link.Index, new LinkChange(Group: group), $"grouping stale veth \"{link.Name}\"", Errno.ENODEV)));
        try { set.Send(); }
        catch (NetlinkException) { } // the links whose request failed are deleted one by one

        var grouped = new HashSet<int>();
        var left = new List<LinkInfo>();
        foreach (var (link, op) in ops)
        {
            if (op.Succeeded) grouped.Add(link.Index);
            else if (op.Errno != Errno.ENODEV) left.Add(link);
        }
        if (grouped.Count == 0) return left;

        // The group must hold exactly the links we put there, each still stale: another process could
        // have put the same number on a link of its own in between (a 1 in 2^31 chance, but never guessed).
        foreach (LinkInfo link in host.DumpLinks())
        {
            if (link.Group != group) continue;
            if (!grouped.Contains(link.Index) || !stillStale(link)) return stale;
        }
        host.Send(b => b.DeleteLinkGroup(group, $"deleting {grouped.Count} stale veths (link group {group})", Errno.ENODEV));
        return left;
    }

    internal static uint PickGroup(List<LinkInfo> all)
    {
        var used = new HashSet<uint>();
        foreach (LinkInfo l in all) used.Add(l.Group);
        while (true)
        {
            uint group = (uint)Random.Shared.Next() | GroupBit; // uniqueness, not secrecy
            if (!used.Contains(group)) return group;
        }
    }
}
