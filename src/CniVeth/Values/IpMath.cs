using System.Net;
using System.Net.Sockets;

namespace CniVeth.Values;

/// <summary>Address arithmetic shared by IPAM, the bridge, the firewall and netlink: addresses as 128-bit
/// integers (v4 uses the low 32 bits) and prefix operations on CidrAddress.</summary>
internal static class IpMath
{
    public static int BitLength(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    public static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        UInt128 value = 0;
        for (int i = 0; i < written; i++) value = (value << 8) | bytes[i];
        return value;
    }

    public static IPAddress FromNumber(UInt128 value, AddressFamily family)
    {
        int length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = new byte[length];
        for (int i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xFF);
            value >>= 8;
        }
        return new IPAddress(bytes);
    }

    /// <summary>Mask of the host part for a prefix, e.g. 0xFF for a v4 /24.</summary>
    public static UInt128 HostMask(AddressFamily family, int prefixLength)
    {
        int hostBits = BitLength(family) - prefixLength;
        return hostBits >= 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
    }

    /// <summary>Strips an IPv4-mapped IPv6 form (::ffff:a.b.c.d) so equal addresses compare equal.</summary>
    public static IPAddress Canonical(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static IPAddress Network(CidrAddress a) => Masked(a.Address, a.PrefixLength, hostBits: false);

    /// <summary>The subnet's network address + 1: the reference plugins' default gateway.</summary>
    public static IPAddress FirstHost(CidrAddress a) =>
        FromNumber(ToNumber(Network(a)) + 1, a.Address.AddressFamily);
    public static IPAddress Broadcast(CidrAddress a) => Masked(a.Address, a.PrefixLength, hostBits: true);

    public static bool Contains(CidrAddress net, IPAddress ip) =>
        ip.AddressFamily == net.Address.AddressFamily
        && Masked(ip, net.PrefixLength, false).Equals(Masked(net.Address, net.PrefixLength, false));

    private static IPAddress Masked(IPAddress ip, int prefix, bool hostBits)
    {
        UInt128 mask = HostMask(ip.AddressFamily, prefix);
        UInt128 n = ToNumber(ip);
        return FromNumber(hostBits ? n | mask : n & ~mask, ip.AddressFamily);
    }
}
