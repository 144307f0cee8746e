namespace CniVeth.Netlink;

/// <summary>Generic netlink header values (linux/netlink.h).</summary>
internal static class Nl
{
    public const int HeaderSize = 16;
    public const int AttrHeaderSize = 4;

    public const ushort NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3;

    public const ushort F_REQUEST = 0x1, F_MULTI = 0x2, F_ACK = 0x4, F_ECHO = 0x8, F_DUMP_INTR = 0x10;
    public const ushort F_ROOT = 0x100, F_MATCH = 0x200, F_DUMP = F_ROOT | F_MATCH;
    public const ushort F_REPLACE = 0x100, F_EXCL = 0x200, F_CREATE = 0x400, F_APPEND = 0x800;
    /// <summary>On NLMSG_ERROR: extended-ack attributes follow.</summary>
    public const ushort F_ACK_TLVS = 0x200, F_CAPPED = 0x100;
    public const ushort NLMSGERR_ATTR_MSG = 1;

    public const ushort NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000, NLA_TYPE_MASK = 0x3fff;

    public const int NETLINK_ROUTE = 0, NETLINK_NETFILTER = 12;
    /// <summary>SOL_NETLINK socket options (not in Tmds.LibC 0.5.0).</summary>
    public const int NETLINK_EXT_ACK = 11, NETLINK_GET_STRICT_CHK = 12;

    public static int Align(int len) => (len + 3) & ~3;
}
