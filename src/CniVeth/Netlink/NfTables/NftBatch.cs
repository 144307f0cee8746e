using System.Buffers.Binary;
using System.Text;

namespace CniVeth.Netlink.NfTables;

/// <summary>One element of a set or map: key, optional map data, optional flags (interval end).</summary>
internal readonly record struct NftElement(byte[] Key, byte[]? Data = null, uint Flags = 0);

/// <summary>
/// Encodes one nf_tables transaction: NFNL_MSG_BATCH_BEGIN, any number of table / chain / set / element /
/// rule messages, NFNL_MSG_BATCH_END. The kernel applies such a batch atomically (all or nothing). Every
/// inner message asks for an ack and is recorded as a NetlinkOp (its description and, once
/// NfTablesClient.Send ran, its outcome), so the caller learns which request failed and why.
/// nf_tables integer attributes are big-endian.
/// </summary>
internal sealed class NftBatch
{
    private readonly NetlinkMessageBuilder _b = new();
    private readonly List<NetlinkOp> _ops = new();
    private uint _setIds;
    private bool _ended;

    public NftBatch()
    {
        _b.BeginMessage(Nft.NFNL_MSG_BATCH_BEGIN, 0)
          .Struct(new NfGenMsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES))
          .EndMessage();
    }

    /// <summary>Requests between begin and end, in order.</summary>
    public IReadOnlyList<NetlinkOp> Ops => _ops;
    public int Count => _ops.Count;

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

    private NetlinkOp End(string description, int[] tolerated)
    {
        _b.EndMessage();
        var op = new NetlinkOp(description, tolerated);
        _ops.Add(op);
        return op;
    }

    /// <summary>NFT_MSG_NEWTABLE with NLM_F_CREATE: succeeds when the table exists.</summary>
    public NetlinkOp AddTable(byte family, string table, string? comment = null)
    {
        var b = Begin(Nft.MSG_NEWTABLE, family, Nl.F_CREATE);
        b.String(Nft.TABLE_NAME, table);
        if (comment != null) b.Attr(Nft.TABLE_USERDATA, Udata(Nft.UDATA_TABLE_COMMENT, comment));
        return End($"table {Nft.FamilyName(family)} {table}", []);
    }

    /// <summary>NFT_MSG_NEWCHAIN for a base chain with NLM_F_CREATE (an identical existing chain is fine).</summary>
    public NetlinkOp AddBaseChain(byte family, string table, string chain, string type, uint hook, int priority, uint policy)
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
        return End($"chain {Nft.FamilyName(family)} {table} {chain}", []);
    }

    /// <summary>NFT_MSG_NEWSET. With <paramref name="exclusive"/> an existing set is EEXIST, which lets
    /// "create the set and its rule" happen once however many processes race.</summary>
    public NetlinkOp AddSet(byte family, string table, string set, uint flags, uint keyType, uint keyLen,
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
        return End($"creating set {Nft.FamilyName(family)} {table} {set}", []);
    }

    /// <summary>NFT_MSG_NEWSETELEM with NLM_F_CREATE: an identical existing element is not an error, a map
    /// element with other data (or an overlapping interval) is EEXIST.</summary>
    public NetlinkOp AddElements(byte family, string table, string set, IEnumerable<NftElement> elements)
        => Elements(Nft.MSG_NEWSETELEM, Nl.F_CREATE, family, table, set, elements, $"adding to set {Nft.FamilyName(family)} {table} {set}");

    /// <summary>NFT_MSG_DELSETELEM: a missing element (or set, or table) is ENOENT and fails the batch.</summary>
    public NetlinkOp DelElements(byte family, string table, string set, IEnumerable<NftElement> elements)
        => Elements(Nft.MSG_DELSETELEM, 0, family, table, set, elements, $"removing from set {Nft.FamilyName(family)} {table} {set}");

    private NetlinkOp Elements(byte msg, ushort flags, byte family, string table, string set, IEnumerable<NftElement> elements,
        string description)
    {
        var b = Begin(msg, family, flags);
        b.String(Nft.SET_ELEM_LIST_TABLE, table).String(Nft.SET_ELEM_LIST_SET, set);
        b.BeginNested(Nft.SET_ELEM_LIST_ELEMENTS);
        foreach (NftElement e in elements) WriteElement(b, e);
        b.EndNested();
        return End(description, []);
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
    public NetlinkOp AddRule(byte family, string table, string chain, Action<NftExprWriter> expressions, string? comment = null)
    {
        var b = Begin(Nft.MSG_NEWRULE, family, (ushort)(Nl.F_CREATE | Nl.F_APPEND));
        b.String(Nft.RULE_TABLE, table).String(Nft.RULE_CHAIN, chain);
        b.BeginNested(Nft.RULE_EXPRESSIONS);
        expressions(new NftExprWriter(b));
        b.EndNested();
        if (comment != null) b.Attr(Nft.RULE_USERDATA, Udata(Nft.UDATA_RULE_COMMENT, comment));
        return End($"adding rule to chain {Nft.FamilyName(family)} {table} {chain}", []);
    }

    /// <summary>NFT_MSG_DELRULE of one rule by its handle: ENOENT when it is gone.</summary>
    public NetlinkOp DelRule(byte family, string table, string chain, ulong handle)
    {
        var b = Begin(Nft.MSG_DELRULE, family, 0);
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(h, handle);
        b.String(Nft.RULE_TABLE, table).String(Nft.RULE_CHAIN, chain).Attr(Nft.RULE_HANDLE, h);
        return End("deleting rule " + handle.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + " of chain " + Nft.FamilyName(family) + " " + table + " " + chain, []);
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
}

