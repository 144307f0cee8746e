using System.Net;
using CniVeth.Netlink.NfTables;
using CniVeth.Values;

namespace CniVeth.Firewall;

/// <summary>Prefixes as elements of an nf_tables interval set (NFT_SET_INTERVAL): the kernel refuses
/// overlapping intervals, so prefixes are normalized first.</summary>
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

    /// <summary>The start element, and the first address after the prefix flagged NFT_SET_ELEM_INTERVAL_END
    /// (omitted when the prefix runs to the end of the address space).</summary>
    public static NftElement[] Elements(CidrAddress subnet)
    {
        byte[] start = subnet.Subnet.Address.GetAddressBytes();
        byte[] end = (byte[])start.Clone();
        if (subnet.PrefixLength <= 0) return [new NftElement(start)];
        // add 1 at bit position (prefix - 1), counting from the most significant bit, with carry
        int bit = subnet.PrefixLength - 1;
        int idx = bit / 8;
        int carry = 1 << (7 - bit % 8);
        for (int i = idx; i >= 0 && carry != 0; i--)
        {
            int v = end[i] + carry;
            end[i] = (byte)v;
            carry = v >> 8;
        }
        if (carry != 0) return [new NftElement(start)];
        return [new NftElement(start), new NftElement(end, null, Nft.SET_ELEM_INTERVAL_END)];
    }

    public static bool IsV6(IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
}
