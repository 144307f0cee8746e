using System.Net;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;

namespace CniVeth.Firewall;

/// <summary>An inclusive range of addresses of one family, as big-endian bytes: what one element pair of
/// an nf_tables interval set (NFT_SET_INTERVAL) stands for.</summary>
internal sealed class AddressRange(byte[] first, byte[] last)
{
    public byte[] First { get; } = first;
    public byte[] Last { get; } = last;

    public static AddressRange Of(CidrAddress prefix)
    {
        byte[] first = prefix.Subnet.Address.GetAddressBytes();
        byte[] last = (byte[])first.Clone();
        for (int bit = prefix.PrefixLength; bit < last.Length * 8; bit++) last[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return new AddressRange(first, last);
    }

    public bool Contains(AddressRange o) => Compare(First, o.First) <= 0 && Compare(o.Last, Last) <= 0;
    public bool Overlaps(AddressRange o) => Compare(First, o.Last) <= 0 && Compare(o.First, Last) <= 0;
    public bool SameAs(AddressRange o) => First.AsSpan().SequenceEqual(o.First) && Last.AsSpan().SequenceEqual(o.Last);

    /// <summary>The start element, and the first address after the range flagged NFT_SET_ELEM_INTERVAL_END
    /// (omitted when the range runs to the end of the address space).</summary>
    public NftElement[] Elements()
    {
        byte[]? end = Increment(Last);
        return end is null ? [new NftElement(First)] : [new NftElement(First), new NftElement(end, null, Nft.SET_ELEM_INTERVAL_END)];
    }

    /// <summary>"10.88.0.0/16" when the range is a prefix, else "10.0.0.0-10.0.2.255".</summary>
    public override string ToString()
    {
        string first = new IPAddress(First).ToString();
        for (int len = 0; len <= First.Length * 8; len++)
            if (SameAs(Of(new CidrAddress(new IPAddress(First), len)))) return first + "/" + len;
        return first + "-" + new IPAddress(Last);
    }

    /// <summary>Big-endian unsigned comparison of two keys of the same length.</summary>
    public static int Compare(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    /// <summary>a + 1, or null when a is all ones.</summary>
    public static byte[]? Increment(byte[] a)
    {
        var r = (byte[])a.Clone();
        for (int i = r.Length - 1; i >= 0; i--)
            if (++r[i] != 0) return r;
        return null;
    }

    /// <summary>a - 1, or null when a is zero.</summary>
    public static byte[]? Decrement(byte[] a)
    {
        var r = (byte[])a.Clone();
        for (int i = r.Length - 1; i >= 0; i--)
            if (r[i]-- != 0) return r;
        return null;
    }
}

/// <summary>Prefixes as elements of an nf_tables interval set (NFT_SET_INTERVAL), and the set's contents
/// read back as ranges. The kernel refuses an interval that overlaps another one (EEXIST), so prefixes are
/// normalized first, and a wider prefix replaces the ones it contains in one batch (Merge).</summary>
internal static class SubnetIntervals
{
    /// <summary>Masks host bits, drops duplicates and prefixes contained in another one.</summary>
    public static List<CidrAddress> Normalize(IEnumerable<CidrAddress> subnets)
    {
        // Loops where LINQ would chain over a struct (a generic virtual call resolved at run time).
        var norm = new List<CidrAddress>();
        foreach (CidrAddress s in subnets)
        {
            CidrAddress masked = s.Subnet;
            if (!norm.Contains(masked)) norm.Add(masked);
        }
        var result = new List<CidrAddress>();
        foreach (CidrAddress s in norm)
        {
            bool contained = false;
            foreach (CidrAddress o in norm)
                if (o != s && o.PrefixLength <= s.PrefixLength && o.IsIPv4 == s.IsIPv4 && IpMath.Contains(o, s.Address))
                    contained = true;
            if (!contained) result.Add(s);
        }
        return result;
    }

    /// <summary>The elements of one prefix (see AddressRange.Elements).</summary>
    public static NftElement[] Elements(CidrAddress subnet) => AddressRange.Of(subnet).Elements();

    /// <summary>The ranges an interval set holds, from its elements (starts, and ends flagged
    /// NFT_SET_ELEM_INTERVAL_END, in any order). A start without an end runs to the end of the space; an
    /// end without a start is ignored. (Plain loops and insertion sorts over a handful of elements: a List
    /// Sort with a comparison, OrderBy or a Comparer would add generic instantiations whose static bases
    /// every process initialises at start-up.)</summary>
    public static List<AddressRange> FromElements(IReadOnlyList<(byte[] Key, byte[]? Data, uint Flags)> elements)
    {
        int n = elements.Count;
        var keys = new byte[n][];
        var ends = new bool[n];
        for (int i = 0; i < n; i++)
        {
            byte[] key = elements[i].Key;
            bool end = (elements[i].Flags & Nft.SET_ELEM_INTERVAL_END) != 0;
            // by key; at one key an end (of the range before) comes before a start (of the next)
            int j = i;
            for (; j > 0; j--)
            {
                int c = AddressRange.Compare(keys[j - 1], key);
                if (c < 0 || (c == 0 && (ends[j - 1] || !end))) break;
                keys[j] = keys[j - 1];
                ends[j] = ends[j - 1];
            }
            keys[j] = key;
            ends[j] = end;
        }
        var ranges = new List<AddressRange>();
        byte[]? open = null;
        for (int i = 0; i < n; i++)
        {
            if (!ends[i])
            {
                if (open is not null && AddressRange.Decrement(keys[i]) is { } before) ranges.Add(new AddressRange(open, before));
                open = keys[i];
            }
            else if (open is not null && AddressRange.Decrement(keys[i]) is { } last)
            {
                ranges.Add(new AddressRange(open, last));
                open = null;
            }
        }
        if (open is not null)
        {
            var ones = new byte[open.Length];
            Array.Fill(ones, (byte)0xff);
            ranges.Add(new AddressRange(open, ones));
        }
        return ranges;
    }

    /// <summary>Sorts ranges by their first address (insertion sort: a handful of ranges).</summary>
    private static void SortByFirst(List<AddressRange> ranges)
    {
        for (int i = 1; i < ranges.Count; i++)
        {
            AddressRange r = ranges[i];
            int j = i;
            for (; j > 0 && AddressRange.Compare(ranges[j - 1].First, r.First) > 0; j--) ranges[j] = ranges[j - 1];
            ranges[j] = r;
        }
    }

    /// <summary>What turns the set's <paramref name="existing"/> ranges into their union with
    /// <paramref name="wanted"/>: the ranges to delete (each swallowed by a wider one) and the ranges to
    /// add. Overlapping ranges merge; adjacent ones stay apart. Both empty when the set already covers it all.</summary>
    public static (List<AddressRange> Delete, List<AddressRange> Add) Merge(IReadOnlyList<AddressRange> existing, IReadOnlyList<AddressRange> wanted)
    {
        var all = new List<AddressRange>(existing.Count + wanted.Count);
        foreach (AddressRange r in existing) all.Add(r);
        foreach (AddressRange r in wanted) all.Add(r);
        SortByFirst(all);
        var merged = new List<AddressRange>();
        foreach (AddressRange r in all)
        {
            AddressRange? last = merged.Count > 0 ? merged[^1] : null;
            if (last is not null && last.Overlaps(r))
            {
                if (AddressRange.Compare(r.Last, last.Last) > 0) merged[^1] = new AddressRange(last.First, r.Last);
            }
            else merged.Add(r);
        }
        var delete = new List<AddressRange>();
        foreach (AddressRange e in existing)
            if (IndexOfSame(merged, e) < 0) delete.Add(e);
        var add = new List<AddressRange>();
        foreach (AddressRange m in merged)
            if (IndexOfSame(existing, m) < 0) add.Add(m);
        return (delete, add);
    }

    private static int IndexOfSame(IReadOnlyList<AddressRange> ranges, AddressRange r)
    {
        for (int i = 0; i < ranges.Count; i++)
            if (ranges[i].SameAs(r)) return i;
        return -1;
    }

    /// <summary>
    /// What makes an interval set holding <paramref name="elements"/> (as read back) hold the union of its
    /// ranges and <paramref name="wanted"/>: for each range of the union that the set lacks, the set's
    /// elements inside it are deleted (except those it needs as they are) and its missing elements added,
    /// all in one batch. Works on the elements themselves, not on ranges rebuilt from them: the kernel
    /// accepts a prefix whose end element equals the end of one it contains (it takes that end for a
    /// duplicate), which leaves two starts before one end; such a set reads back as two adjacent ranges.
    /// Deletions come in key order, each range's start before its end, as nft sends them: with an end
    /// deleted before its start, the kernel's interval code (rbtree) fails the batch's additions with EEXIST.
    /// </summary>
    public static (List<NftElement> Delete, List<NftElement> Add) MergeElements(
        IReadOnlyList<(byte[] Key, byte[]? Data, uint Flags)> elements, IReadOnlyList<AddressRange> wanted)
    {
        var (_, ranges) = Merge(FromElements(elements), wanted);
        var delete = new List<NftElement>();
        var add = new List<NftElement>();
        foreach (AddressRange r in ranges)
        {
            NftElement[] mine = r.Elements();
            byte[]? after = AddressRange.Increment(r.Last);
            foreach (var (key, _, flags) in elements)
            {
                bool end = (flags & Nft.SET_ELEM_INTERVAL_END) != 0;
                bool inside = end
                    ? AddressRange.Compare(key, r.First) > 0 && (after is null || AddressRange.Compare(key, after) <= 0)
                    : AddressRange.Compare(key, r.First) >= 0 && AddressRange.Compare(key, r.Last) <= 0;
                bool kept = false;
                foreach (NftElement m in mine) kept |= Same(m, key, end);
                if (!inside || kept) continue;
                var e = new NftElement(key, null, end ? Nft.SET_ELEM_INTERVAL_END : 0);
                int at = delete.Count;
                while (at > 0 && AddressRange.Compare(delete[at - 1].Key, key) > 0) at--;
                delete.Insert(at, e);
            }
            foreach (NftElement m in mine)
            {
                bool present = false;
                foreach (var (key, _, flags) in elements) present |= Same(m, key, (flags & Nft.SET_ELEM_INTERVAL_END) != 0);
                if (!present) add.Add(m);
            }
        }
        return (delete, add);
    }

    private static bool Same(NftElement e, byte[] key, bool end) =>
        e.Key.AsSpan().SequenceEqual(key) && ((e.Flags & Nft.SET_ELEM_INTERVAL_END) != 0) == end;

    /// <summary>Whether <paramref name="ranges"/> (of one family) together hold every address of <paramref name="wanted"/>.</summary>
    public static bool Covers(IReadOnlyList<AddressRange> ranges, AddressRange wanted)
    {
        var sorted = new List<AddressRange>(ranges.Count);
        foreach (AddressRange r in ranges) sorted.Add(r);
        SortByFirst(sorted);
        byte[] cursor = wanted.First;
        foreach (AddressRange r in sorted)
        {
            if (AddressRange.Compare(r.First, cursor) > 0) break;
            if (AddressRange.Compare(r.Last, cursor) < 0) continue;
            if (AddressRange.Compare(r.Last, wanted.Last) >= 0) return true;
            cursor = AddressRange.Increment(r.Last)!;
        }
        return false;
    }

    public static bool IsV6(IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
}
