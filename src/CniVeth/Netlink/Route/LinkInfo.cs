using System.Runtime.InteropServices;
using CniVeth.Values;

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
    /// <summary>IFLA_GROUP: the link group (0 unless an administrator or GC set one).</summary>
    public uint Group { get; init; }
    public string? Alias { get; init; }
    public bool HasLinkNetNsId { get; init; }
    /// <summary>A bridge: whether it filters by VLAN (IFLA_BR_VLAN_FILTERING).</summary>
    public bool VlanFiltering { get; init; }
    /// <summary>A bridge: whether this kernel can filter by VLAN at all. Only such kernels report the
    /// bridge's default PVID (CONFIG_BRIDGE_VLAN_FILTERING); the filtering flag itself is always reported.</summary>
    public bool VlanFilteringAvailable { get; init; }

    public bool IsUp => (Flags & Rtnl.IFF_UP) != 0;
    public bool IsPromisc => (Flags & Rtnl.IFF_PROMISC) != 0;
    public string MacString => Mac is null ? "" : MacAddress.Format(Mac);

    /// <summary>Decodes an RTM_NEWLINK message (header included).</summary>
    public static LinkInfo Parse(ReadOnlySpan<byte> msg)
    {
        ReadOnlySpan<byte> body = ReplyReader.Body(msg, Marshal.SizeOf<IfInfoMsg>(), "link");
        IfInfoMsg ifi = MemoryMarshal.Read<IfInfoMsg>(body);
        var r = new AttributeReader(body[Nl.Align(Marshal.SizeOf<IfInfoMsg>())..]);
        string name = "", kind = "", slaveKind = "";
        string? alias = null;
        byte[]? mac = null;
        int mtu = 0, master = 0, link = 0;
        byte oper = 0;
        uint group = 0;
        bool netnsid = false, vlanFiltering = false, vlanAvailable = false;
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
                case Rtnl.IFLA_GROUP: group = AttributeReader.U32(v); break;
                case Rtnl.IFLA_IFALIAS: alias = AttributeReader.String(v); break;
                case Rtnl.IFLA_LINK_NETNSID: netnsid = true; break;
                case Rtnl.IFLA_LINKINFO:
                    var li = new AttributeReader(v);
                    while (li.Next(out ushort t2, out ReadOnlySpan<byte> v2))
                    {
                        if (t2 == Rtnl.IFLA_INFO_KIND) kind = AttributeReader.String(v2);
                        else if (t2 == Rtnl.IFLA_INFO_SLAVE_KIND) slaveKind = AttributeReader.String(v2);
                        // The kernel puts IFLA_INFO_KIND first; data attribute numbers mean something else per kind.
                        else if (t2 == Rtnl.IFLA_INFO_DATA && kind == "bridge") ReadBridgeData(v2, ref vlanFiltering, ref vlanAvailable);
                    }
                    break;
            }
        }
        return new LinkInfo
        {
            Index = ifi.Index, Name = name, Kind = kind, SlaveKind = slaveKind, Mac = mac, Mtu = mtu,
            Flags = ifi.Flags, MasterIndex = master, LinkIndex = link, OperState = oper, Group = group, Alias = alias,
            HasLinkNetNsId = netnsid, VlanFiltering = vlanFiltering, VlanFilteringAvailable = vlanAvailable,
        };
    }

    /// <summary>IFLA_INFO_DATA of a bridge.</summary>
    private static void ReadBridgeData(ReadOnlySpan<byte> data, ref bool vlanFiltering, ref bool vlanAvailable)
    {
        var r = new AttributeReader(data);
        while (r.Next(out ushort type, out ReadOnlySpan<byte> v))
        {
            if (type == Rtnl.IFLA_BR_VLAN_FILTERING) vlanFiltering = AttributeReader.U8(v) != 0;
            else if (type == Rtnl.IFLA_BR_VLAN_DEFAULT_PVID) vlanAvailable = true;
        }
    }
}
