using CniVeth.Cni;
using CniVeth.Values;
using System.Net;

namespace CniVeth.Ipam.Allocation;

/// <summary>
/// The reference's round-robin order: start after the last reserved address (when it is still in the
/// set), walk to the end of its range, continue in the next range (cyclically), stop after one full loop.
/// Gateway, network address, IPv4 broadcast and UnusableAddresses are never yielded.
/// </summary>
internal static class RangeIterator
{
    public static IEnumerable<(IPAddress Address, IpRange Range)> Candidates(RangeSet set, IPAddress? lastReserved)
    {
        int rangeIndex = 0;
        UInt128 first = set.Ranges[0].StartNumber;
        if (lastReserved is not null)
        {
            for (int i = 0; i < set.Ranges.Count; i++)
            {
                if (!set.Ranges[i].Contains(lastReserved)) continue;
                rangeIndex = i;
                UInt128 last = IpMath.ToNumber(IpMath.Canonical(lastReserved));
                if (last == set.Ranges[i].EndNumber)
                {
                    rangeIndex = (i + 1) % set.Ranges.Count;
                    first = set.Ranges[rangeIndex].StartNumber;
                }
                else
                {
                    first = last + 1;
                }
                break;
            }
        }

        // Walk from `first` to the end of its range, then every other range whole, then the head of
        // the starting range up to just before `first`.
        for (int step = 0; step <= set.Ranges.Count; step++)
        {
            int index = (rangeIndex + step) % set.Ranges.Count;
            IpRange range = set.Ranges[index];
            UInt128 from = step == 0 ? first : range.StartNumber;
            UInt128 to = range.EndNumber;
            if (step == set.Ranges.Count)
            {
                if (first == range.StartNumber) yield break;
                to = first - 1;
            }
            for (UInt128 n = from; ; n++)
            {
                // whole blocks of unusable addresses are skipped in one step
                if (UnusableAddresses.BlockEnd(range.Family, n) is { } blockEnd)
                {
                    if (blockEnd >= to) break;
                    n = blockEnd;
                    continue;
                }
                if (!range.IsReservedAddress(n)) yield return (IpMath.FromNumber(n, range.Family), range);
                if (n == to) break;
            }
        }
    }
}
