using System.Net;
using CniVeth.Cni;

namespace CniVeth.Netlink.Route;

/// <summary>Prefix arithmetic on IPAddress values.</summary>
internal static class IpMath
{
    public static IPAddress Network(CidrAddress a) => Mask(a.Address, a.PrefixLength, hostBits: false);
    public static IPAddress Broadcast(CidrAddress a) => Mask(a.Address, a.PrefixLength, hostBits: true);

    public static bool Contains(CidrAddress net, IPAddress ip)
    {
        if (ip.AddressFamily != net.Address.AddressFamily) return false;
        return Mask(ip, net.PrefixLength, false).Equals(Mask(net.Address, net.PrefixLength, false));
    }

    private static IPAddress Mask(IPAddress ip, int prefix, bool hostBits)
    {
        byte[] b = ip.GetAddressBytes();
        for (int i = 0; i < b.Length; i++)
        {
            int bits = Math.Clamp(prefix - i * 8, 0, 8);
            byte netMask = (byte)(0xff << (8 - bits));
            b[i] = hostBits ? (byte)(b[i] | ~netMask) : (byte)(b[i] & netMask);
        }
        return new IPAddress(b);
    }
}
