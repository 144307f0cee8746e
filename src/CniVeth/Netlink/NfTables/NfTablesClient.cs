namespace CniVeth.Netlink.NfTables;

/// <summary>An element of one set of a table (a class, not a tuple: generic code over it is shared, which
/// keeps the binary small).</summary>
internal sealed record SetElement(byte Family, string Set, NftElement Element);

/// <summary>
/// nf_tables over one NETLINK_NETFILTER socket: atomic batches (NftBatch) and element reads. No knowledge
/// of what the tables mean; that is Firewall's. Missing tables, sets and elements read as absent.
/// </summary>
internal sealed class NfTablesClient(NetlinkSocket socket) : IDisposable
{
    /// <summary>Elements per batch when many go at once (GC): keeps messages and the kernel's error echoes
    /// well below the socket buffers.</summary>
    private const int ChunkMessages = 256;
    private const int MaxAttempts = 8;

    /// <summary>Opens a NETLINK_NETFILTER socket in the calling thread's network namespace.</summary>
    public static NfTablesClient Open() => new(NetlinkSocket.Open(Nl.NETLINK_NETFILTER));

    /// <summary>Closing a socket whose batch deleted elements waits for the kernel to free them (an RCU
    /// grace period): callers order slow work before Dispose to overlap that wait.</summary>
    public void Dispose() => socket.Dispose();

    /// <summary>Sends one atomic batch and completes its ops; true when every request succeeded (then the
    /// batch was applied; otherwise nothing of it was).</summary>
    public bool Send(NftBatch batch, string operation)
    {
        NetlinkAck[] acks = socket.ExecuteBatch(batch.Finish(), operation);
        bool all = true;
        for (int i = 0; i < acks.Length; i++)
        {
            batch.Ops[i].Complete(acks[i]);
            all &= acks[i].Ok;
        }
        return all;
    }

    /// <summary>Deletes elements (of any family) in as few atomic batches as possible: one, unless some are
    /// already gone (then the batch is retried without them) or there are very many.</summary>
    public void DeleteElements(string table, IReadOnlyList<SetElement> items, string operation)
    {
        for (int start = 0; start < items.Count; start += ChunkMessages)
        {
            var chunk = new List<SetElement>(items.Skip(start).Take(ChunkMessages));
            for (int attempt = 0; chunk.Count > 0; attempt++)
            {
                var batch = new NftBatch();
                foreach (SetElement e in chunk) batch.DelElements(e.Family, table, e.Set, [e.Element]);
                if (Send(batch, operation)) break;
                NetlinkOp? bad = batch.Ops.FirstOrDefault(o => !o.Succeeded && o.Errno != Errno.ENOENT);
                if (bad is not null || attempt >= MaxAttempts)
                {
                    NetlinkOp failed = bad ?? batch.Ops.First(o => !o.Succeeded);
                    throw new NetlinkException($"{operation} ({failed.Description})", failed.Errno, failed.KernelMessage);
                }
                // The missing ones are gone already; the rest failed only because the batch did.
                var kept = new List<SetElement>(chunk.Count);
                for (int i = 0; i < chunk.Count; i++) if (batch.Ops[i].Succeeded) kept.Add(chunk[i]);
                chunk = kept;
            }
        }
    }

    /// <summary>The rules of one table, of one chain when <paramref name="chain"/> is given: one dump,
    /// filtered by the kernel. Empty when the table or chain does not exist. (With NFPROTO_UNSPEC the kernel
    /// stops after the first table of that name, whatever its family: name the family.)</summary>
    public NftRule[] DumpRules(byte family, string table, string? chain, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETRULE), Nl.F_DUMP).Struct(new NfGenMsg(family)).String(Nft.RULE_TABLE, table);
        if (chain is not null) req.String(Nft.RULE_CHAIN, chain);
        req.EndMessage();
        List<byte[]> msgs;
        try { msgs = socket.Dump(req, $"{operation} (listing the rules of table {Nft.FamilyName(family)} {table})"); }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT) { return []; }
        var rules = new NftRule[msgs.Count];
        for (int i = 0; i < msgs.Count; i++) rules[i] = NftRule.Parse(msgs[i]);
        return rules;
    }

    /// <summary>A table's flags (NFT_TABLE_F_DORMANT, ...), or null when it does not exist.</summary>
    public uint? GetTableFlags(byte family, string table, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETTABLE), 0).Struct(new NfGenMsg(family)).String(Nft.TABLE_NAME, table).EndMessage();
        byte[]? reply = socket.Get(req, $"{operation} (reading table {Nft.FamilyName(family)} {table})", Errno.ENOENT);
        if (reply is null) return null;
        uint flags = 0;
        var r = new AttributeReader(reply.AsSpan(Nl.HeaderSize + 4));
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
            if (t == Nft.TABLE_FLAGS) flags = AttributeReader.U32Be(v);
        return flags;
    }

    /// <summary>One chain (its hook and type when it is a base chain), or null when it or its table does not exist.</summary>
    public NftChainInfo? GetChain(byte family, string table, string chain, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETCHAIN), 0).Struct(new NfGenMsg(family))
           .String(Nft.CHAIN_TABLE, table).String(Nft.CHAIN_NAME, chain).EndMessage();
        byte[]? reply = socket.Get(req, $"{operation} (reading chain {Nft.FamilyName(family)} {table} {chain})", Errno.ENOENT);
        if (reply is null) return null;
        uint? hook = null;
        string? type = null;
        var r = new AttributeReader(reply.AsSpan(Nl.HeaderSize + 4));
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t == Nft.CHAIN_TYPE) type = AttributeReader.String(v);
            else if (t == Nft.CHAIN_HOOK)
            {
                var h = new AttributeReader(v);
                while (h.Next(out ushort ht, out ReadOnlySpan<byte> hv))
                    if (ht == Nft.HOOK_HOOKNUM) hook = AttributeReader.U32Be(hv);
            }
        }
        return new NftChainInfo(chain, hook, type);
    }

    /// <summary>Every element of a set but interval ends (keys, map data); null when the set or table does
    /// not exist.</summary>
    public List<(byte[] Key, byte[]? Data, uint Flags)>? DumpElements(byte family, string table, string set, string operation)
    {
        var all = DumpElementsWithFlags(family, table, set, operation);
        all?.RemoveAll(static e => (e.Flags & Nft.SET_ELEM_INTERVAL_END) != 0);
        return all;
    }

    /// <summary>Every element of a set with its flags, interval ends included (an interval set's contents);
    /// null when the set or table does not exist.</summary>
    public List<(byte[] Key, byte[]? Data, uint Flags)>? DumpElementsWithFlags(byte family, string table, string set, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETSETELEM), Nl.F_DUMP)
           .Struct(new NfGenMsg(family))
           .String(Nft.SET_ELEM_LIST_TABLE, table)
           .String(Nft.SET_ELEM_LIST_SET, set)
           .EndMessage();
        List<byte[]> msgs;
        try { msgs = socket.Dump(req, $"{operation} (listing set {Nft.FamilyName(family)} {table} {set})"); }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT) { return null; }
        var result = new List<(byte[], byte[]?, uint)>();
        foreach (byte[] m in msgs) ParseElements(m, result);
        return result;
    }

    /// <summary>Whether one element is in a set; a missing set or table counts as missing.</summary>
    public bool HasElement(byte family, string table, string set, byte[] key, string operation) =>
        GetElement(family, table, set, key, $"{operation} (reading set {Nft.FamilyName(family)} {table} {set})") is not null;

    /// <summary>The data of one map element, or null when it is missing.</summary>
    public byte[]? GetMapData(byte family, string table, string map, byte[] key, string operation)
    {
        byte[]? reply = GetElement(family, table, map, key, $"{operation} (reading map {Nft.FamilyName(family)} {table} {map})");
        if (reply == null) return null;
        var elems = new List<(byte[] Key, byte[]? Data, uint Flags)>();
        ParseElements(reply, elems);
        return elems.Count > 0 ? elems[0].Data : null;
    }

    /// <summary>One element looked up by key (GETSETELEM without NLM_F_DUMP): the kernel's NEWSETELEM reply,
    /// or null when the element, set or table does not exist.</summary>
    private byte[]? GetElement(byte family, string table, string set, byte[] key, string operation)
    {
        var req = new NetlinkMessageBuilder();
        req.BeginMessage(Nft.Type(Nft.MSG_GETSETELEM), 0)
           .Struct(new NfGenMsg(family))
           .String(Nft.SET_ELEM_LIST_TABLE, table)
           .String(Nft.SET_ELEM_LIST_SET, set)
           .BeginNested(Nft.SET_ELEM_LIST_ELEMENTS);
        NftBatch.WriteElement(req, new NftElement(key));
        req.EndNested().EndMessage();
        return socket.Get(req, operation, Errno.ENOENT);
    }

    /// <summary>Parses a NEWSETELEM message (header included) into (key, data, flags) triples.</summary>
    internal static void ParseElements(ReadOnlySpan<byte> msg, List<(byte[] Key, byte[]? Data, uint Flags)> into)
    {
        if (msg.Length < Nl.HeaderSize + 4) return;
        var r = new AttributeReader(msg[(Nl.HeaderSize + 4)..]);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t != Nft.SET_ELEM_LIST_ELEMENTS) continue;
            var list = new AttributeReader(v);
            while (list.Next(out ushort lt, out ReadOnlySpan<byte> elem))
            {
                if (lt != Nft.LIST_ELEM) continue;
                byte[]? key = null, data = null;
                uint flags = 0;
                var er = new AttributeReader(elem);
                while (er.Next(out ushort et, out ReadOnlySpan<byte> ev))
                {
                    if (et == Nft.SET_ELEM_KEY) key = DataValue(ev);
                    else if (et == Nft.SET_ELEM_DATA) data = DataValue(ev);
                    else if (et == Nft.SET_ELEM_FLAGS) flags = AttributeReader.U32Be(ev);
                }
                if (key != null) into.Add((key, data, flags));
            }
        }
    }

    private static byte[]? DataValue(ReadOnlySpan<byte> nested)
    {
        var r = new AttributeReader(nested);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
            if (t == Nft.DATA_VALUE) return v.ToArray();
        return null;
    }
}
