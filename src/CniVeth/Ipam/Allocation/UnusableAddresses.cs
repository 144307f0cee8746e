using System.Net.Sockets;

namespace CniVeth.Ipam.Allocation;

/// <summary>
/// Addresses that can never be a container's, whatever range contains them: IPv4 0.0.0.0/8 ("this
/// network"), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, with the limited
/// broadcast 255.255.255.255); IPv6 :: (unspecified), ::1 (loopback), ::ffff:0:0/96 (IPv4-mapped: the kernel
/// treats them as IPv4) and ff00::/8 (multicast). The allocator jumps over these blocks (a range such as
/// 0.0.0.0/1 must not walk 16 million loopback candidates one by one), and a range made only of them is a
/// config error.
/// </summary>
internal static class UnusableAddresses
{
    private static readonly (UInt128 First, UInt128 Last)[] V4 =
    [
        (0x00000000, 0x00FFFFFF),
        (0x7F000000, 0x7FFFFFFF),
        (0xE0000000, 0xFFFFFFFF),
    ];

    private static readonly (UInt128 First, UInt128 Last)[] V6 =
    [
        (0, 1),
        (new UInt128(0, 0x0000_FFFF_0000_0000), new UInt128(0, 0x0000_FFFF_FFFF_FFFF)),
        (new UInt128(0xFF00_0000_0000_0000, 0), UInt128.MaxValue),
    ];

    /// <summary>The last address of the unusable block containing <paramref name="n"/>, or null when
    /// <paramref name="n"/> is usable.</summary>
    public static UInt128? BlockEnd(AddressFamily family, UInt128 n)
    {
        foreach (var (first, last) in family == AddressFamily.InterNetwork ? V4 : V6)
            if (n >= first && n <= last) return last;
        return null;
    }

    public static bool Contains(AddressFamily family, UInt128 n) => BlockEnd(family, n) is not null;

    /// <summary>The first address of [from, to] outside every block, or null when there is none.</summary>
    public static UInt128? FirstUsable(AddressFamily family, UInt128 from, UInt128 to)
    {
        UInt128 n = from;
        while (BlockEnd(family, n) is { } end)
        {
            if (end >= to) return null;
            n = end + 1;
        }
        return n <= to ? n : null;
    }
}
