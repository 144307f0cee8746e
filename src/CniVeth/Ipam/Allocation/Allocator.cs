using System.Net;
using CniVeth.Cni;
using CniVeth.Values;
using CniVeth.Ipam.Store;

namespace CniVeth.Ipam.Allocation;

/// <summary>Picks and reserves one address of a range set (the caller holds the store lock).</summary>
internal static class Allocator
{
    public static ResultIp Allocate(HostLocalStore store, RangeSet set, int rangeId, ReservationOwner owner,
        IPAddress? requested)
    {
        // Checked on the requested path too (the reference skips it there).
        foreach (var held in store.AddressesOf(owner))
            if (set.Contains(held))
                throw CniException.Internal(
                    $"{held} has been allocated to {owner.ContainerId}, duplicate allocation is not allowed");

        if (requested is not null)
        {
            var range = set.RangeFor(requested)
                ?? throw CniException.Config($"{requested} not in range set {set}");
            if (!store.TryReserve(requested, owner))
            {
                string holder = store.OwnerOf(requested) is { } o
                    ? $"it is reserved by container {o.ContainerId}{(o.IfName is null ? "" : $" interface {o.IfName}")}"
                    : "it is reserved";
                throw CniException.Internal(
                    $"requested IP address {requested} is not available in range set {set}: {holder}");
            }
            store.SetLastReserved(rangeId, requested);
            return ToResult(requested, range);
        }

        // Round robin: candidates are tried with link(2), so a free address costs one syscall and the
        // directory is never listed.
        foreach (var (address, range) in RangeIterator.Candidates(set, store.LastReserved(rangeId)))
        {
            if (!store.TryReserve(address, owner)) continue;
            store.SetLastReserved(rangeId, address);
            return ToResult(address, range);
        }
        throw CniException.Internal($"no IP addresses available in range set: {set}");
    }

    /// <summary>True when at least one address of the set is free (STATUS); stops at the first.</summary>
    public static bool HasFreeAddress(HostLocalStore store, RangeSet set, int rangeId) =>
        RangeIterator.Candidates(set, store.LastReserved(rangeId)).Any(c => !store.IsTaken(c.Address));

    private static ResultIp ToResult(IPAddress address, IpRange range) => new()
    {
        Address = new CidrAddress(address, range.PrefixLength),
        Gateway = range.Gateway,
    };
}
