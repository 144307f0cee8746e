using System.Net;
using Dns = CniVeth.Cni.Dns;
using CniVeth.Cni;
using CniVeth.Values;
using CniVeth.Ipam.Allocation;
using CniVeth.Ipam.Config;
using CniVeth.Ipam.Store;

namespace CniVeth.Ipam;

/// <summary>The built-in host-local IPAM (reference-compatible store; see HostLocalStore).</summary>
internal sealed class HostLocalIpam(StoreOptions options) : IIpam
{
    public HostLocalIpam() : this(StoreOptions.FromEnvironment()) { }

    public Result Add(CniRequest request)
    {
        var config = IpamConfig.FromRequest(request);
        Dns? dns = config.ResolvConf is null ? null : ResolvConfParser.ParseFile(config.ResolvConf);
        var owner = OwnerOf(request);

        using var store = HostLocalStore.Open(config.Location, options)!;
        var result = new Result();
        try
        {
            for (int i = 0; i < config.RangeSets.Count; i++)
            {
                try
                {
                    result.Ips.Add(Allocator.Allocate(store, config.RangeSets[i], i, owner, config.Requested[i]));
                }
                catch (CniException e)
                {
                    throw new CniException(e.Code, $"failed to allocate for range {i}: {e.Message}", e.Details);
                }
            }
        }
        catch
        {
            // All or nothing: the range sets reserved so far are released. A failure here (the disk went
            // bad) leaves that address to the runtime's DEL; the original error is the one reported.
            foreach (var ip in result.Ips)
            {
                try { store.Unreserve(ip.Address.Address, owner); }
                catch (StoreException) { }
            }
            throw;
        }
        result.Routes.AddRange(config.Routes);
        result.Dns = dns;
        return result;
    }

    /// <summary>Needs only a valid name and dataDir: DEL must work even when the ranges are not
    /// passed again (e.g. runtime ipRanges) or were edited since ADD.</summary>
    public IReadOnlyList<IPAddress> Del(CniRequest request, Action<ReleaseScope>? beforeRelease = null)
    {
        var owner = OwnerOf(request);
        using var store = HostLocalStore.Open(StoreLocation.FromConf(request.Conf), options, create: false);
        if (store is null)
        {
            beforeRelease?.Invoke(new ReleaseScope([], _ => true)); // no store: nobody holds anything
            return [];
        }
        // Reference rule: files in the legacy id-only format are released only when nothing matched.
        var held = store.AddressesOf(owner);
        if (held.Count == 0)
        {
            owner = owner with { IfName = null };
            held = store.AddressesOf(owner);
        }
        beforeRelease?.Invoke(new ReleaseScope(held, a => !store.IsTaken(a)));
        return store.ReleaseAll(owner, held);
    }

    public void Check(CniRequest request)
    {
        var config = IpamConfig.FromRequest(request);
        var owner = OwnerOf(request);
        using var store = HostLocalStore.Open(config.Location, options, create: false, StoreAccess.ReadOnly);
        var held = store is null ? [] : store.AddressesOf(owner).Concat(store.AddressesOf(owner with { IfName = null })).ToList();
        if (held.Count == 0)
            throw CniException.Internal(
                $"host-local: no address reserved for container {owner.ContainerId} interface {owner.IfName} in {config.Location.NetworkDir}");
        if (request.PrevResult is null) return;

        var expected = request.PrevResult.Ips.Select(ip => IpMath.Canonical(ip.Address.Address))
            .Where(a => config.RangeSets.Any(s => s.Contains(a))).ToList();
        foreach (var address in expected.Where(a => !held.Contains(a)))
            throw CniException.Internal($"host-local: address {address} of prevResult is not reserved for container {owner.ContainerId} interface {owner.IfName}");
        foreach (var address in held.Where(a => !expected.Contains(a)))
            throw CniException.Internal($"host-local: reserved address {address} of container {owner.ContainerId} interface {owner.IfName} is missing from prevResult");
    }

    public IReadOnlyList<ReleasedAddress> Gc(CniRequest request, ValidAttachments valid, Action<IReadOnlyList<IPAddress>>? beforeRelease = null)
    {
        using var store = HostLocalStore.Open(StoreLocation.FromConf(request.Conf), options, create: false);
        if (store is null) return [];
        var errors = new TeardownErrors();
        // Only regular files of at most 1 MiB are listed (foreign entries are never removed). Legacy id-only
        // files carry no ifname: kept while their container is valid at all. Empty files name no owner: no
        // attachment can hold them (our files are never empty; the reference's only while it holds the lock).
        var stale = new List<(IPAddress Address, ReservationOwner? Owner)>();
        foreach (var r in store.ScanAll())
            if (r.Owner is not { } o || !valid.Protects(o.ContainerId, o.IfName)) stale.Add(r);
        beforeRelease?.Invoke(stale.ConvertAll(r => r.Address));
        var (removed, failures) = store.RemoveAll(stale.ConvertAll(r => r.Address));
        foreach (var failure in failures) errors.Add(failure);
        var removedSet = new HashSet<IPAddress>(removed);
        var released = new List<ReleasedAddress>();
        foreach (var (address, owner) in stale)
            if (removedSet.Contains(address))
                released.Add(new ReleasedAddress(owner?.ContainerId ?? "", owner?.IfName ?? "", address));
        errors.ThrowIfAny("GC", "every other reservation was handled; GC can be retried safely");
        return released;
    }

    public void Status(CniRequest request)
    {
        var config = IpamConfig.FromRequest(request);
        using var store = OpenForStatus(config.Location);
        for (int i = 0; i < config.RangeSets.Count; i++)
            if (!Allocator.HasFreeAddress(store, config.RangeSets[i], i))
                throw new CniException(ErrorCode.NotAvailable,
                    $"no IP addresses available in range set: {config.RangeSets[i]}");
    }

    private HostLocalStore OpenForStatus(StoreLocation location)
    {
        HostLocalStore? store = null;
        try
        {
            store = HostLocalStore.Open(location, options)!;
            store.ProbeWritable();
            return store;
        }
        catch (StoreException e) when (!e.Busy)
        {
            store?.Dispose();
            throw new CniException(ErrorCode.NotAvailable,
                $"IPAM data directory {location.NetworkDir} is not writable: {e.Message}");
        }
    }

    private static ReservationOwner OwnerOf(CniRequest request)
    {
        if (string.IsNullOrEmpty(request.Env.ContainerId))
            throw new CniException(ErrorCode.InvalidEnvironment, "CNI_CONTAINERID is required by host-local IPAM");
        if (string.IsNullOrEmpty(request.Env.IfName))
            throw new CniException(ErrorCode.InvalidEnvironment, "CNI_IFNAME is required by host-local IPAM");
        return new ReservationOwner(request.Env.ContainerId, request.Env.IfName);
    }
}
