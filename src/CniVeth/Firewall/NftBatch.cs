using System.Buffers.Binary;
using System.Text;
using CniVeth.Netlink;

namespace CniVeth.Firewall;

/// <summary>One element of a set or map: key, optional map data, optional flags (interval end).</summary>
internal readonly record struct NftElement(byte[] Key, byte[]? Data = null, uint Flags = 0);

/// <summary>
/// Encodes one nf_tables transaction: NFNL_MSG_BATCH_BEGIN, any number of table / chain / set / element /
/// rule messages, NFNL_MSG_BATCH_END. The kernel applies such a batch atomically (all or nothing). Every
/// inner message asks for an ack, so the caller learns which message failed; each Add*/Del* method returns
/// the index of its ack. nf_tables integer attributes are big-endian.
/// </summary>
internal sealed class NftBatch
{
    private readonly NetlinkMessageBuilder _b = new();
    private int _acks;
    private uint _setIds;
    private bool _ended;

    public NftBatch()
    {
        _b.BeginMessage(Nft.NFNL_MSG_BATCH_BEGIN, 0)
          .Struct(new NfGenMsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES))
          .EndMessage();
    }

    /// <summary>Messages between begin and end.</summary>
    public int Count => _acks;

    /// <summary>Closes the batch (idempotent) and returns the encoded messages.</summary>
    public NetlinkMessageBuilder Finish()
    {
        if (!_ended)
        {
            _b.BeginMessage(Nft.NFNL_MSG_BATCH_END, 0)
              .Struct(new NfGenMsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES))
              .EndMessage();
            _ended = true;
        }
        return _b;
    }

    private NetlinkMessageBuilder Begin(byte msg, byte family, ushort flags)
    {
        if (_ended) throw new InvalidOperationException("batch already finished");
        return _b.BeginMessage(Nft.Type(msg), (ushort)(flags | Nl.F_ACK)).Struct(new NfGenMsg(family));
    }

    private int End()
    {
        _b.EndMessage();
        return _acks++;
    }

    /// <summary>NFT_MSG_NEWTABLE with NLM_F_CREATE: succeeds when the table exists.</summary>
    public int AddTable(byte family, string table, string? comment = null)
    {
        var b = Begin(Nft.MSG_NEWTABLE, family, Nl.F_CREATE);
        b.String(Nft.TABLE_NAME, table);
        if (comment != null) b.Attr(Nft.TABLE_USERDATA, Udata(Nft.UDATA_TABLE_COMMENT, comment));
        return End();
    }

    /// <summary>NFT_MSG_NEWCHAIN for a base chain with NLM_F_CREATE (an identical existing chain is fine).</summary>
    public int AddBaseChain(byte family, string table, string chain, string type, uint hook, int priority, uint policy)
    {
        var b = Begin(Nft.MSG_NEWCHAIN, family, Nl.F_CREATE);
        b.String(Nft.CHAIN_TABLE, table)
         .String(Nft.CHAIN_NAME, chain)
         .String(Nft.CHAIN_TYPE, type)
         .U32Be(Nft.CHAIN_POLICY, policy)
         .BeginNested(Nft.CHAIN_HOOK)
            .U32Be(Nft.HOOK_HOOKNUM, hook)
            .U32Be(Nft.HOOK_PRIORITY, unchecked((uint)priority))
         .EndNested();
        return End();
    }

    /// <summary>NFT_MSG_NEWSET. With <paramref name="exclusive"/> an existing set is EEXIST, which lets
    /// "create the set and its rule" happen once however many processes race.</summary>
    public int AddSet(byte family, string table, string set, uint flags, uint keyType, uint keyLen,
        uint dataType = 0, uint dataLen = 0, string? comment = null, bool exclusive = false,
        uint keyByteOrder = 0, uint dataByteOrder = 0)
    {
        var b = Begin(Nft.MSG_NEWSET, family, (ushort)(Nl.F_CREATE | (exclusive ? Nl.F_EXCL : 0)));
        b.String(Nft.SET_TABLE, table)
         .String(Nft.SET_NAME, set)
         .U32Be(Nft.SET_FLAGS, flags)
         .U32Be(Nft.SET_KEY_TYPE, keyType)
         .U32Be(Nft.SET_KEY_LEN, keyLen);
        if ((flags & Nft.SET_F_MAP) != 0)
        {
            b.U32Be(Nft.SET_DATA_TYPE, dataType).U32Be(Nft.SET_DATA_LEN, dataLen);
        }
        b.U32Be(Nft.SET_ID, ++_setIds); // required by the kernel: names the set within the transaction
        // Userdata is for nft(8) only: byte order hints (a string key like ifname is host order, which nft
        // cannot guess without them) and the comment.
        var ud = new List<byte>();
        if (keyByteOrder != 0) ud.AddRange(UdataU32(Nft.UDATA_SET_KEYBYTEORDER, keyByteOrder));
        if (dataByteOrder != 0) ud.AddRange(UdataU32(Nft.UDATA_SET_DATABYTEORDER, dataByteOrder));
        if (comment != null) ud.AddRange(Udata(Nft.UDATA_SET_COMMENT, comment));
        if (ud.Count > 0) b.Attr(Nft.SET_USERDATA, ud.ToArray());
        return End();
    }

    /// <summary>NFT_MSG_NEWSETELEM with NLM_F_CREATE: an identical existing element is not an error, a map
    /// element with other data (or an overlapping interval) is EEXIST.</summary>
    public int AddElements(byte family, string table, string set, IEnumerable<NftElement> elements)
        => Elements(Nft.MSG_NEWSETELEM, Nl.F_CREATE, family, table, set, elements);

    /// <summary>NFT_MSG_DELSETELEM: a missing element (or set, or table) is ENOENT and fails the batch.</summary>
    public int DelElements(byte family, string table, string set, IEnumerable<NftElement> elements)
        => Elements(Nft.MSG_DELSETELEM, 0, family, table, set, elements);

    private int Elements(byte msg, ushort flags, byte family, string table, string set, IEnumerable<NftElement> elements)
    {
        var b = Begin(msg, family, flags);
        b.String(Nft.SET_ELEM_LIST_TABLE, table).String(Nft.SET_ELEM_LIST_SET, set);
        b.BeginNested(Nft.SET_ELEM_LIST_ELEMENTS);
        foreach (NftElement e in elements) WriteElement(b, e);
        b.EndNested();
        return End();
    }

    internal static void WriteElement(NetlinkMessageBuilder b, NftElement e)
    {
        b.BeginNested(Nft.LIST_ELEM);
        b.BeginNested(Nft.SET_ELEM_KEY).Attr(Nft.DATA_VALUE, e.Key).EndNested();
        if (e.Data != null) b.BeginNested(Nft.SET_ELEM_DATA).Attr(Nft.DATA_VALUE, e.Data).EndNested();
        if (e.Flags != 0) b.U32Be(Nft.SET_ELEM_FLAGS, e.Flags);
        b.EndNested();
    }

    /// <summary>NFT_MSG_NEWRULE appended to the chain (NLM_F_CREATE | NLM_F_APPEND).</summary>
    public int AddRule(byte family, string table, string chain, Action<NftExprWriter> expressions, string? comment = null)
    {
        var b = Begin(Nft.MSG_NEWRULE, family, (ushort)(Nl.F_CREATE | Nl.F_APPEND));
        b.String(Nft.RULE_TABLE, table).String(Nft.RULE_CHAIN, chain);
        b.BeginNested(Nft.RULE_EXPRESSIONS);
        expressions(new NftExprWriter(b));
        b.EndNested();
        if (comment != null) b.Attr(Nft.RULE_USERDATA, Udata(Nft.UDATA_RULE_COMMENT, comment));
        return End();
    }

    /// <summary>A libnftnl userdata TLV holding a NUL-terminated string (comments); at most 254 bytes of text.</summary>
    internal static byte[] Udata(byte type, string text)
    {
        byte[] s = Encoding.UTF8.GetBytes(text);
        int n = Math.Min(s.Length, 254);
        var r = new byte[2 + n + 1];
        r[0] = type;
        r[1] = (byte)(n + 1);
        s.AsSpan(0, n).CopyTo(r.AsSpan(2));
        return r;
    }

    /// <summary>A userdata TLV holding a host-order u32 (nft's byte order hints).</summary>
    internal static byte[] UdataU32(byte type, uint v)
    {
        var r = new byte[6];
        r[0] = type;
        r[1] = 4;
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(2), v);
        return r;
    }

    /// <summary>The comment string inside a userdata blob, or null.</summary>
    internal static string? ReadUdata(ReadOnlySpan<byte> udata, byte type)
    {
        while (udata.Length >= 2)
        {
            int len = udata[1];
            if (2 + len > udata.Length) return null;
            if (udata[0] == type) return AttributeReader.String(udata.Slice(2, len));
            udata = udata[(2 + len)..];
        }
        return null;
    }
}

/// <summary>Writes the expressions of one rule (each an NFTA_LIST_ELEM with name and data).</summary>
internal readonly struct NftExprWriter
{
    private readonly NetlinkMessageBuilder _b;

    public NftExprWriter(NetlinkMessageBuilder b) => _b = b;

    private NetlinkMessageBuilder Open(string name) =>
        _b.BeginNested(Nft.LIST_ELEM).String(Nft.EXPR_NAME, name).BeginNested(Nft.EXPR_DATA);

    private void Close() => _b.EndNested().EndNested();

    /// <summary>meta load KEY => reg DREG.</summary>
    public NftExprWriter Meta(uint key, uint dreg = Nft.REG_1)
    {
        Open("meta").U32Be(Nft.META_KEY, key).U32Be(Nft.META_DREG, dreg);
        Close();
        return this;
    }

    /// <summary>payload load LEN b @ BASE + OFFSET => reg DREG.</summary>
    public NftExprWriter Payload(uint @base, uint offset, uint len, uint dreg = Nft.REG_1)
    {
        Open("payload").U32Be(Nft.PAYLOAD_DREG, dreg).U32Be(Nft.PAYLOAD_BASE, @base)
            .U32Be(Nft.PAYLOAD_OFFSET, offset).U32Be(Nft.PAYLOAD_LEN, len);
        Close();
        return this;
    }

    /// <summary>cmp OP reg SREG DATA.</summary>
    public NftExprWriter Cmp(uint op, ReadOnlySpan<byte> data, uint sreg = Nft.REG_1)
    {
        Open("cmp").U32Be(Nft.CMP_SREG, sreg).U32Be(Nft.CMP_OP, op)
            .BeginNested(Nft.CMP_DATA).Attr(Nft.DATA_VALUE, data).EndNested();
        Close();
        return this;
    }

    /// <summary>bitwise reg DREG = (reg SREG &amp; MASK) ^ XOR.</summary>
    public NftExprWriter Bitwise(ReadOnlySpan<byte> mask, ReadOnlySpan<byte> xor, uint sreg = Nft.REG_1, uint dreg = Nft.REG_1)
    {
        if (mask.Length != xor.Length) throw new ArgumentException("mask and xor lengths differ");
        Open("bitwise").U32Be(Nft.BITWISE_SREG, sreg).U32Be(Nft.BITWISE_DREG, dreg)
            .U32Be(Nft.BITWISE_LEN, (uint)mask.Length)
            .BeginNested(Nft.BITWISE_MASK).Attr(Nft.DATA_VALUE, mask).EndNested()
            .BeginNested(Nft.BITWISE_XOR).Attr(Nft.DATA_VALUE, xor).EndNested();
        Close();
        return this;
    }

    /// <summary>lookup reg SREG set SET (inverted: "not in set").</summary>
    public NftExprWriter Lookup(string set, bool invert = false, uint sreg = Nft.REG_1)
    {
        var b = Open("lookup").U32Be(Nft.LOOKUP_SREG, sreg).String(Nft.LOOKUP_SET, set);
        if (invert) b.U32Be(Nft.LOOKUP_FLAGS, Nft.LOOKUP_F_INV);
        Close();
        return this;
    }

    /// <summary>masq (source NAT to the outgoing interface's address).</summary>
    public NftExprWriter Masquerade()
    {
        Open("masq");
        Close();
        return this;
    }

    /// <summary>immediate reg 0 VERDICT (accept / drop).</summary>
    public NftExprWriter Verdict(uint code)
    {
        Open("immediate").U32Be(Nft.IMMEDIATE_DREG, Nft.REG_VERDICT)
            .BeginNested(Nft.IMMEDIATE_DATA)
                .BeginNested(Nft.DATA_VERDICT).U32Be(Nft.VERDICT_CODE, code).EndNested()
            .EndNested();
        Close();
        return this;
    }
}
