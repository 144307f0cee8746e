using System.Net;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.Ipam.Allocation;

/// <summary>Ranges of one family from which exactly one address is allocated per attachment.</summary>
internal sealed class RangeSet
{
    public IReadOnlyList<IpRange> Ranges { get; }

    public RangeSet(IReadOnlyList<IpRange> ranges)
    {
        if (ranges.Count == 0) throw CniException.Config("empty range set");
        for (int i = 0; i < ranges.Count; i++)
        {
            if (ranges[i].Family != ranges[0].Family) throw CniException.Config("mixed address families");
            for (int j = i + 1; j < ranges.Count; j++)
                if (ranges[i].Overlaps(ranges[j]))
                    throw CniException.Config($"subnets {ranges[i]} and {ranges[j]} overlap");
        }
        Ranges = ranges;
    }

    public bool IsIPv4 => Ranges[0].IsIPv4;

    public IpRange? RangeFor(IPAddress address)
    {
        foreach (var range in Ranges)
            if (range.Contains(address)) return range;
        return null;
    }

    public bool Contains(IPAddress address) => RangeFor(address) is not null;

    public bool Overlaps(RangeSet other) => Ranges.Any(a => other.Ranges.Any(a.Overlaps));

    /// <summary>Reference form "start-end,start-end".</summary>
    public override string ToString() => string.Join(",", Ranges);
}
