using System.Runtime.InteropServices;

namespace CniVeth.Netlink.Route;

/// <summary>rtnetlink message types, attributes and flags (linux/rtnetlink.h, if_link.h, if_addr.h).</summary>
internal static class Rtnl
{
    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort RTM_GETNETCONF = 82;

    public const byte AF_UNSPEC = 0, AF_INET = 2, AF_BRIDGE = 7, AF_INET6 = 10;

    // IFLA_*
    public const ushort IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5, IFLA_MASTER = 10,
        IFLA_PROTINFO = 12, IFLA_OPERSTATE = 16, IFLA_LINKINFO = 18, IFLA_IFALIAS = 20, IFLA_AF_SPEC = 26, IFLA_GROUP = 27,
        IFLA_NET_NS_FD = 28, IFLA_EXT_MASK = 29, IFLA_LINK_NETNSID = 37;
    public const ushort IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, IFLA_INFO_SLAVE_KIND = 4;
    public const ushort VETH_INFO_PEER = 1;
    public const ushort IFLA_BR_VLAN_FILTERING = 7, IFLA_BR_VLAN_DEFAULT_PVID = 39;
    public const ushort IFLA_BRPORT_MODE = 4, IFLA_BRPORT_ISOLATED = 33;
    public const ushort IFLA_INET_CONF = 1;
    public const ushort IPV4_DEVCONF_ARP_NOTIFY = 22;

    // Bridge VLANs (IFLA_AF_SPEC of AF_BRIDGE)
    public const ushort IFLA_BRIDGE_FLAGS = 0, IFLA_BRIDGE_VLAN_INFO = 2;
    public const ushort BRIDGE_FLAGS_MASTER = 1;
    public const ushort MaxVlanId = 4094;
    public const ushort BRIDGE_VLAN_INFO_PVID = 0x2, BRIDGE_VLAN_INFO_UNTAGGED = 0x4,
        BRIDGE_VLAN_INFO_RANGE_BEGIN = 0x8, BRIDGE_VLAN_INFO_RANGE_END = 0x10;
    public const uint RTEXT_FILTER_BRVLAN = 1 << 1;

    public const uint IFF_UP = 0x1, IFF_PROMISC = 0x100, IFF_LOWER_UP = 0x10000;
    public const byte IF_OPER_UNKNOWN = 0, IF_OPER_DOWN = 2, IF_OPER_LOWERLAYERDOWN = 5, IF_OPER_UP = 6;

    // IFA_*
    public const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_BROADCAST = 4, IFA_FLAGS = 8;
    public const uint IFA_F_NODAD = 0x02, IFA_F_DADFAILED = 0x08, IFA_F_TENTATIVE = 0x40, IFA_F_PERMANENT = 0x80;

    // RTA_*
    public const ushort RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_METRICS = 8, RTA_TABLE = 15;
    public const ushort RTAX_MTU = 2, RTAX_ADVMSS = 8;
    public const byte RTN_UNICAST = 1, RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254;
    public const byte RT_TABLE_MAIN = 254;

    // NETCONFA_* (linux/netconf.h): a family's per-namespace settings, e.g. forwarding
    public const ushort NETCONFA_IFINDEX = 1, NETCONFA_FORWARDING = 2;
    public const int NETCONFA_IFINDEX_ALL = -1;
}

/// <summary>struct netconfmsg: one family byte; the kernel reads attributes from the next 4-byte boundary.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetconfMsg
{
    public byte Family;
    public byte Pad1;
    public ushort Pad2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IfInfoMsg
{
    public byte Family;
    public byte Pad;
    public ushort Type;
    public int Index;
    public uint Flags;
    public uint Change;
}

[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg
{
    public byte Family;
    public byte PrefixLen;
    public byte Flags;
    public byte Scope;
    public int Index;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg
{
    public byte Family;
    public byte DstLen;
    public byte SrcLen;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct BridgeVlanInfo
{
    public ushort Flags;
    public ushort Vid;
}
