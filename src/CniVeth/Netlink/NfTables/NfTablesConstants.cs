using System.Runtime.InteropServices;

namespace CniVeth.Netlink.NfTables;

/// <summary>nfnetlink / nf_tables uapi values (linux/netfilter/nfnetlink.h, nf_tables.h, netfilter.h)
/// and the userdata TLV types nft(8) uses for comments and byte order hints (libnftnl udata.h).</summary>
internal static class Nft
{
    // nfnetlink
    public const byte NFNL_SUBSYS_NFTABLES = 10;
    public const ushort NFNL_MSG_BATCH_BEGIN = 0x10, NFNL_MSG_BATCH_END = 0x11;

    // NFT_MSG_* (message type = NFNL_SUBSYS_NFTABLES << 8 | msg)
    public const byte MSG_NEWTABLE = 0, MSG_GETTABLE = 1, MSG_DELTABLE = 2, MSG_NEWCHAIN = 3, MSG_GETCHAIN = 4,
        MSG_DELCHAIN = 5, MSG_NEWRULE = 6, MSG_GETRULE = 7, MSG_DELRULE = 8, MSG_NEWSET = 9, MSG_GETSET = 10,
        MSG_DELSET = 11, MSG_NEWSETELEM = 12, MSG_GETSETELEM = 13, MSG_DELSETELEM = 14;

    public static ushort Type(byte msg) => (ushort)((NFNL_SUBSYS_NFTABLES << 8) | msg);

    /// <summary>"inet", "bridge", ... as nft(8) names table families in messages.</summary>
    public static string FamilyName(byte family) => family switch
    {
        NFPROTO_INET => "inet",
        NFPROTO_BRIDGE => "bridge",
        NFPROTO_IPV4 => "ip",
        NFPROTO_IPV6 => "ip6",
        _ => "family " + family,
    };

    // NFPROTO_*
    public const byte NFPROTO_UNSPEC = 0, NFPROTO_INET = 1, NFPROTO_IPV4 = 2, NFPROTO_BRIDGE = 7, NFPROTO_IPV6 = 10;

    // hooks
    public const uint NF_INET_POST_ROUTING = 4, NF_BR_PRE_ROUTING = 0;
    public const int NF_IP_PRI_NAT_SRC = 100, NF_BR_PRI_NAT_DST_BRIDGED = -300;

    // verdicts
    public const uint NF_DROP = 0, NF_ACCEPT = 1;

    // enum nft_table_attributes
    public const ushort TABLE_NAME = 1, TABLE_FLAGS = 2, TABLE_USERDATA = 6;
    // enum nft_table_flags
    public const uint TABLE_F_DORMANT = 0x1;
    // enum nft_chain_attributes
    public const ushort CHAIN_TABLE = 1, CHAIN_NAME = 3, CHAIN_HOOK = 4, CHAIN_POLICY = 5, CHAIN_TYPE = 7;
    // enum nft_hook_attributes
    public const ushort HOOK_HOOKNUM = 1, HOOK_PRIORITY = 2;
    // enum nft_rule_attributes
    public const ushort RULE_TABLE = 1, RULE_CHAIN = 2, RULE_HANDLE = 3, RULE_EXPRESSIONS = 4, RULE_USERDATA = 7;
    // enum nft_set_attributes
    public const ushort SET_TABLE = 1, SET_NAME = 2, SET_FLAGS = 3, SET_KEY_TYPE = 4, SET_KEY_LEN = 5,
        SET_DATA_TYPE = 6, SET_DATA_LEN = 7, SET_ID = 10, SET_USERDATA = 13;
    // enum nft_set_flags
    public const uint SET_F_INTERVAL = 0x4, SET_F_MAP = 0x8;
    // enum nft_set_elem_list_attributes
    public const ushort SET_ELEM_LIST_TABLE = 1, SET_ELEM_LIST_SET = 2, SET_ELEM_LIST_ELEMENTS = 3;
    // enum nft_set_elem_attributes
    public const ushort SET_ELEM_KEY = 1, SET_ELEM_DATA = 2, SET_ELEM_FLAGS = 3;
    public const uint SET_ELEM_INTERVAL_END = 0x1;
    // enum nft_list_attributes / nft_expr_attributes / nft_data_attributes / nft_verdict_attributes
    public const ushort LIST_ELEM = 1, EXPR_NAME = 1, EXPR_DATA = 2, DATA_VALUE = 1, DATA_VERDICT = 2, VERDICT_CODE = 1;

    // registers
    public const uint REG_VERDICT = 0, REG_1 = 1, REG_2 = 2;

    // expressions
    public const ushort META_DREG = 1, META_KEY = 2;
    public const uint META_IIFNAME = 6, META_NFPROTO = 15;
    public const ushort PAYLOAD_DREG = 1, PAYLOAD_BASE = 2, PAYLOAD_OFFSET = 3, PAYLOAD_LEN = 4;
    public const uint PAYLOAD_LL_HEADER = 0, PAYLOAD_NETWORK_HEADER = 1;
    public const ushort CMP_SREG = 1, CMP_OP = 2, CMP_DATA = 3;
    public const uint CMP_EQ = 0, CMP_NEQ = 1;
    public const ushort BITWISE_SREG = 1, BITWISE_DREG = 2, BITWISE_LEN = 3, BITWISE_MASK = 4, BITWISE_XOR = 5;
    public const ushort LOOKUP_SET = 1, LOOKUP_SREG = 2, LOOKUP_DREG = 3, LOOKUP_FLAGS = 5;
    public const uint LOOKUP_F_INV = 1;
    public const ushort IMMEDIATE_DREG = 1, IMMEDIATE_DATA = 2;

    // nft(8) datatypes (key types of named sets; concatenations are (a << 6) | b)
    public const uint TYPE_IPADDR = 7, TYPE_IP6ADDR = 8, TYPE_ETHERADDR = 9, TYPE_IFNAME = 41;
    public const int IFNAMSIZ = 16;

    // libnftnl userdata TLVs (u8 type, u8 len, value)
    public const byte UDATA_TABLE_COMMENT = 0, UDATA_CHAIN_COMMENT = 0, UDATA_RULE_COMMENT = 0;
    public const byte UDATA_SET_KEYBYTEORDER = 0, UDATA_SET_DATABYTEORDER = 1, UDATA_SET_COMMENT = 7;
    public const uint BYTEORDER_HOST = 1, BYTEORDER_BIG = 2;
}

/// <summary>struct nfgenmsg: the family header of every nfnetlink message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NfGenMsg
{
    public byte Family;
    public byte Version;
    /// <summary>Network byte order (batch messages carry the subsystem id here).</summary>
    public ushort ResIdBe;

    public NfGenMsg(byte family, ushort resId = 0)
    {
        Family = family;
        Version = 0; // NFNETLINK_V0
        ResIdBe = BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(resId) : resId;
    }
}
