using System.Net;
using System.Runtime.InteropServices;
using CniVeth.Cni;

namespace CniVeth.Netlink.Route;

/// <summary>What the plugin reads back about a link.</summary>
internal sealed class LinkInfo
{
    public int Index { get; init; }
    public string Name { get; init; } = "";
    public string? Kind { get; init; }
    public string? SlaveKind { get; init; }
    public byte[]? Mac { get; init; }
    public int Mtu { get; init; }
    public uint Flags { get; init; }
    public int MasterIndex { get; init; }
    /// <summary>IFLA_LINK: for a veth, the peer's index (in the peer's namespace).</summary>
    public int LinkIndex { get; init; }
    public byte OperState { get; init; }
    public string? Alias { get; init; }
    public bool HasLinkNetNsId { get; init; }

    public bool IsUp => (Flags & Rtnl.IFF_UP) != 0;
    public bool IsPromisc => (Flags & Rtnl.IFF_PROMISC) != 0;
    public string MacString => Mac is null ? "" : Convert.ToHexString(Mac).ToLowerInvariant()
        .Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + ":" + b);

    /// <summary>Decodes an RTM_NEWLINK message (header included).</summary>
    public static LinkInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = Reply.Body(msg, Marshal.SizeOf<IfInfoMsg>(), "link");
        IfInfoMsg ifi = MemoryMarshal.Read<IfInfoMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<IfInfoMsg>())..]);
        string name = "", kind = "", slaveKind = "";
        string? alias = null;
        byte[]? mac = null;
        int mtu = 0, master = 0, link = 0;
        byte oper = 0;
        bool netnsid = false;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            switch (type)
            {
                case Rtnl.IFLA_IFNAME: name = AttributeReader.String(v); break;
                case Rtnl.IFLA_ADDRESS: mac = v.ToArray(); break;
                case Rtnl.IFLA_MTU: mtu = (int)AttributeReader.U32(v); break;
                case Rtnl.IFLA_MASTER: master = (int)AttributeReader.U32(v); break;
                case Rtnl.IFLA_LINK: link = (int)AttributeReader.U32(v); break;
                case Rtnl.IFLA_OPERSTATE: oper = AttributeReader.U8(v); break;
                case Rtnl.IFLA_IFALIAS: alias = AttributeReader.String(v); break;
                case Rtnl.IFLA_LINK_NETNSID: netnsid = true; break;
                case Rtnl.IFLA_LINKINFO:
                    var li = new AttributeReader(v);
                    while (li.Next(out ushort t2, out ReadOnlySpan<byte> v2))
                    {
                        if (t2 == Rtnl.IFLA_INFO_KIND) kind = AttributeReader.String(v2);
                        else if (t2 == Rtnl.IFLA_INFO_SLAVE_KIND) slaveKind = AttributeReader.String(v2);
                    }
                    break;
            }
        }
        return new LinkInfo
        {
            Index = ifi.Index, Name = name, Kind = kind, SlaveKind = slaveKind, Mac = mac, Mtu = mtu,
            Flags = ifi.Flags, MasterIndex = master, LinkIndex = link, OperState = oper, Alias = alias,
            HasLinkNetNsId = netnsid,
        };
    }
}

/// <summary>An address read back from the kernel.</summary>
internal sealed class AddressInfo
{
    public int Index { get; init; }
    public required CidrAddress Address { get; init; }
    public uint Flags { get; init; }
    public byte Scope { get; init; }

    public static AddressInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = Reply.Body(msg, Marshal.SizeOf<IfAddrMsg>(), "address");
        IfAddrMsg ifa = MemoryMarshal.Read<IfAddrMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<IfAddrMsg>())..]);
        IPAddress? local = null, address = null;
        uint flags = ifa.Flags;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            if (type == Rtnl.IFA_LOCAL) local = Reply.Ip(v) ?? local;
            else if (type == Rtnl.IFA_ADDRESS) address = Reply.Ip(v) ?? address;
            else if (type == Rtnl.IFA_FLAGS) flags = AttributeReader.U32(v);
        }
        return new AddressInfo
        {
            Index = ifa.Index, Flags = flags, Scope = ifa.Scope,
            Address = new CidrAddress(local ?? address ?? IPAddress.None, ifa.PrefixLen),
        };
    }
}

/// <summary>A route read back from the kernel.</summary>
internal sealed class RouteInfo
{
    public required CidrAddress Dst { get; init; }
    public IPAddress? Gateway { get; init; }
    public int Oif { get; init; }
    public int Table { get; init; }

    public static RouteInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = Reply.Body(msg, Marshal.SizeOf<RtMsg>(), "route");
        RtMsg rtm = MemoryMarshal.Read<RtMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<RtMsg>())..]);
        IPAddress? dst = null, gw = null;
        int oif = 0, table = rtm.Table;
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            switch (type)
            {
                case Rtnl.RTA_DST: dst = Reply.Ip(v) ?? dst; break;
                case Rtnl.RTA_GATEWAY: gw = Reply.Ip(v) ?? gw; break;
                case Rtnl.RTA_OIF: oif = (int)AttributeReader.U32(v); break;
                case Rtnl.RTA_TABLE: table = (int)AttributeReader.U32(v); break;
            }
        }
        dst ??= rtm.Family == Rtnl.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteInfo { Dst = new CidrAddress(dst, rtm.DstLen), Gateway = gw, Oif = oif, Table = table };
    }
}

/// <summary>Length checks for decoded replies: a truncated message is a NetlinkException, never an
/// ArgumentOutOfRangeException, and an address attribute of the wrong size is ignored.</summary>
internal static class Reply
{
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> msg, int fixedSize, string what)
    {
        if (msg.Length < Nl.HeaderSize + Nl.Align(fixedSize))
            throw new NetlinkException($"decoding a {what} reply (truncated: {msg.Length} bytes)", Errno.EIO);
        return msg[Nl.HeaderSize..];
    }

    public static IPAddress? Ip(ReadOnlySpan<byte> v) => v.Length is 4 or 16 ? new IPAddress(v) : null;
}
