using System.Net;
using System.Runtime.InteropServices;
using CniVeth.Values;

namespace CniVeth.Netlink.Route;

/// <summary>A route read back from the kernel.</summary>
internal sealed class RouteInfo
{
    public required CidrAddress Dst { get; init; }
    public IPAddress? Gateway { get; init; }
    public int Oif { get; init; }
    public int Table { get; init; }

    public static RouteInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = ReplyReader.Body(msg, Marshal.SizeOf<RtMsg>(), "route");
        RtMsg rtm = MemoryMarshal.Read<RtMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<RtMsg>())..]);
        IPAddress? dst = null, gw = null;
        int oif = 0, table = rtm.Table;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            switch (type)
            {
                case Rtnl.RTA_DST: dst = ReplyReader.Ip(v) ?? dst; break;
                case Rtnl.RTA_GATEWAY: gw = ReplyReader.Ip(v) ?? gw; break;
                case Rtnl.RTA_OIF: oif = (int)AttributeReader.U32(v); break;
                case Rtnl.RTA_TABLE: table = (int)AttributeReader.U32(v); break;
            }
        }
        dst ??= rtm.Family == Rtnl.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteInfo { Dst = new CidrAddress(dst, rtm.DstLen), Gateway = gw, Oif = oif, Table = table };
    }
}
