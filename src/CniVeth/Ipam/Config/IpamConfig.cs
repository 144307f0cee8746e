using System.Net;
using CniVeth.Cni;
using CniVeth.Values;
using CniVeth.Ipam.Allocation;

namespace CniVeth.Ipam.Config;

/// <summary>The validated host-local configuration of one request.</summary>
internal sealed class IpamConfig
{
    public required StoreLocation Location { get; init; }
    /// <summary>Order = [runtime ipRanges..., legacy range, ranges...]; the index is the rangeID of
    /// last_reserved_ip.&lt;rangeID&gt;, as in the reference.</summary>
    public required IReadOnlyList<RangeSet> RangeSets { get; init; }
    /// <summary>Requested address per range set index (null: allocate).</summary>
    public required IReadOnlyList<IPAddress?> Requested { get; init; }
    public required List<ResultRoute> Routes { get; init; }
    public string? ResolvConf { get; init; }

    public static IpamConfig FromRequest(CniRequest request)
    {
        var conf = request.Conf;
        var ipam = conf.Ipam ?? throw CniException.Config("IPAM config missing 'ipam' key");
        var location = StoreLocation.FromConf(conf);

        var rawSets = new List<List<RangeConf>>();
        if (conf.RuntimeConfig?.IpRanges is { } runtimeRanges) rawSets.AddRange(runtimeRanges);
        if (!string.IsNullOrEmpty(ipam.Subnet))
            rawSets.Add([new RangeConf
            {
                Subnet = ipam.Subnet, RangeStart = ipam.RangeStart, RangeEnd = ipam.RangeEnd, Gateway = ipam.Gateway,
            }]);
        if (ipam.Ranges is { } ranges) rawSets.AddRange(ranges);
        if (rawSets.Count == 0) throw CniException.Config("no IP ranges specified");

        var sets = new List<RangeSet>();
        for (int i = 0; i < rawSets.Count; i++)
        {
            try
            {
                sets.Add(new RangeSet((rawSets[i] ?? []).Select(r =>
                    IpRange.Parse(r?.Subnet, r?.RangeStart, r?.RangeEnd, r?.Gateway)).ToList()));
            }
            catch (CniException e)
            {
                throw CniException.Config($"invalid range set {i}: {e.Message}");
            }
        }

        int v4 = sets.Count(s => s.IsIPv4), v6 = sets.Count - v4;
        if ((v4 > 1 || v6 > 1) && VersionBelow030(request.Version))
            throw CniException.Config($"CNI version {request.Version} does not support more than 1 address per family");

        for (int i = 0; i < sets.Count; i++)
            for (int j = i + 1; j < sets.Count; j++)
                if (sets[i].Overlaps(sets[j])) throw CniException.Config($"range set {i} overlaps with {j}");

        return new IpamConfig
        {
            Location = location,
            RangeSets = sets,
            Requested = AssignRequested(request.RequestedIps.Select(IpMath.Canonical).ToList(), sets),
            Routes = RouteParser.Parse(ipam.Routes),
            ResolvConf = string.IsNullOrEmpty(ipam.ResolvConf) ? null : ipam.ResolvConf,
        };
    }

    /// <summary>Each requested address goes to the first set containing it that has none yet.</summary>
    private static IPAddress?[] AssignRequested(IReadOnlyList<IPAddress> requested, List<RangeSet> sets)
    {
        var bySet = new IPAddress?[sets.Count];
        var leftover = new List<IPAddress>();
        foreach (var address in requested)
        {
            int index = sets.FindIndex(s => s.Contains(address));
            if (index < 0 || bySet[index] is not null) { leftover.Add(address); continue; }
            if (sets[index].RangeFor(address)!.Gateway.Equals(address))
                throw CniException.Config($"requested ip {address} is subnet's gateway");
            if (UnusableAddresses.Contains(address.AddressFamily, IpMath.ToNumber(address)))
                throw CniException.Config($"requested ip {address} is not a usable address (unspecified, loopback, multicast, reserved or IPv4-mapped)");
            bySet[index] = address;
        }
        if (leftover.Count > 0)
            throw CniException.Config($"failed to allocate all requested IPs: {string.Join(" ", leftover)}",
                $"each requested address must be inside a configured range ({string.Join("; ", sets)}), at most one per range set");
        return bySet;
    }

    private static bool VersionBelow030(string version) =>
        Version.TryParse(version, out var v) && v < new Version(0, 3, 0);
}
