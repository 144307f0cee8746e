using System.Buffers.Binary;

namespace CniVeth.Netlink.NfTables;

/// <summary>One expression of a rule as the kernel lists it: its name and, for the kinds we recognise
/// rules by, the fields that matter (which set a lookup reads, whether it is inverted or writes a register,
/// the verdict an immediate loads).</summary>
internal sealed class NftExpr
{
    public required string Name { get; init; }
    /// <summary>lookup: the set name.</summary>
    public string? Set { get; init; }
    /// <summary>lookup: "not in set" (NFT_LOOKUP_F_INV).</summary>
    public bool Inverted { get; init; }
    /// <summary>lookup: has a destination register (a map lookup that loads the element's data).</summary>
    public bool HasDreg { get; init; }
    /// <summary>immediate into the verdict register: the verdict code.</summary>
    public uint? Verdict { get; init; }

    public bool IsLookup(string set, bool inverted) => Name == "lookup" && Set == set && Inverted == inverted;
}

/// <summary>A rule read back from the kernel (NFT_MSG_NEWRULE of a GETRULE dump). Arrays and loops, no
/// List or LINQ over these types: every generic instantiation over a new type adds static bases that a
/// NativeAOT process initialises at start-up, in every call.</summary>
internal sealed class NftRule
{
    public byte Family { get; init; }
    public string Table { get; init; } = "";
    public string Chain { get; init; } = "";
    public ulong Handle { get; init; }
    public NftExpr[] Expressions { get; init; } = [];

    /// <summary>Whether the rule looks <paramref name="set"/> up (as a plain "in set" test when
    /// <paramref name="inverted"/> is false, "not in set" when true; a map lookup that loads data does not count).</summary>
    public bool Looks(string set, bool inverted)
    {
        foreach (NftExpr e in Expressions)
            if (e.IsLookup(set, inverted) && !e.HasDreg) return true;
        return false;
    }

    public bool Has(string expressionName)
    {
        foreach (NftExpr e in Expressions)
            if (e.Name == expressionName) return true;
        return false;
    }

    public bool Drops
    {
        get
        {
            foreach (NftExpr e in Expressions)
                if (e.Verdict == Nft.NF_DROP) return true;
            return false;
        }
    }

    /// <summary>Parses a NEWRULE message (netlink header included).</summary>
    internal static NftRule Parse(ReadOnlySpan<byte> msg)
    {
        if (msg.Length < Nl.HeaderSize + 4) return new NftRule();
        byte family = msg[Nl.HeaderSize];
        string table = "", chain = "";
        ulong handle = 0;
        NftExpr[] exprs = [];
        var r = new AttributeReader(msg[(Nl.HeaderSize + 4)..]);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            switch (t)
            {
                case Nft.RULE_TABLE: table = AttributeReader.String(v); break;
                case Nft.RULE_CHAIN: chain = AttributeReader.String(v); break;
                case Nft.RULE_HANDLE: handle = v.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(v) : 0; break;
                case Nft.RULE_EXPRESSIONS:
                    int n = 0;
                    var count = new AttributeReader(v);
                    while (count.Next(out ushort ct, out _)) if (ct == Nft.LIST_ELEM) n++;
                    exprs = new NftExpr[n];
                    n = 0;
                    var list = new AttributeReader(v);
                    while (list.Next(out ushort lt, out ReadOnlySpan<byte> e))
                        if (lt == Nft.LIST_ELEM) exprs[n++] = ParseExpr(e);
                    break;
            }
        }
        return new NftRule { Family = family, Table = table, Chain = chain, Handle = handle, Expressions = exprs };
    }

    private static NftExpr ParseExpr(ReadOnlySpan<byte> elem)
    {
        string name = "";
        ReadOnlySpan<byte> data = default;
        var r = new AttributeReader(elem);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t == Nft.EXPR_NAME) name = ExprName(v);
            else if (t == Nft.EXPR_DATA) data = v;
        }
        string? set = null;
        bool inverted = false, dreg = false;
        uint? verdict = null;
        var d = new AttributeReader(data);
        if (name == "lookup")
        {
            while (d.Next(out ushort t, out ReadOnlySpan<byte> v))
            {
                if (t == Nft.LOOKUP_SET) set = AttributeReader.String(v);
                else if (t == Nft.LOOKUP_DREG) dreg = true;
                else if (t == Nft.LOOKUP_FLAGS) inverted = (AttributeReader.U32Be(v) & Nft.LOOKUP_F_INV) != 0;
            }
        }
        else if (name == "immediate")
        {
            uint reg = uint.MaxValue;
            uint? code = null;
            while (d.Next(out ushort t, out ReadOnlySpan<byte> v))
            {
                if (t == Nft.IMMEDIATE_DREG) reg = AttributeReader.U32Be(v);
                else if (t == Nft.IMMEDIATE_DATA) code = VerdictCode(v);
            }
            if (reg == Nft.REG_VERDICT) verdict = code;
        }
        return new NftExpr { Name = name, Set = set, Inverted = inverted, HasDreg = dreg, Verdict = verdict };
    }

    /// <summary>The expression names of our rules as literals (no string built per expression).</summary>
    private static string ExprName(ReadOnlySpan<byte> v)
    {
        int nul = v.IndexOf((byte)0);
        ReadOnlySpan<byte> n = nul >= 0 ? v[..nul] : v;
        if (n.SequenceEqual("lookup"u8)) return "lookup";
        if (n.SequenceEqual("meta"u8)) return "meta";
        if (n.SequenceEqual("payload"u8)) return "payload";
        if (n.SequenceEqual("cmp"u8)) return "cmp";
        if (n.SequenceEqual("immediate"u8)) return "immediate";
        if (n.SequenceEqual("masq"u8)) return "masq";
        if (n.SequenceEqual("bitwise"u8)) return "bitwise";
        return AttributeReader.String(n);
    }

    private static uint? VerdictCode(ReadOnlySpan<byte> immediateData)
    {
        var r = new AttributeReader(immediateData);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t != Nft.DATA_VERDICT) continue;
            var vr = new AttributeReader(v);
            while (vr.Next(out ushort vt, out ReadOnlySpan<byte> vv))
                if (vt == Nft.VERDICT_CODE) return AttributeReader.U32Be(vv);
        }
        return null;
    }
}

/// <summary>A chain as GETCHAIN lists it: a base chain has a hook and a type.</summary>
internal sealed record NftChainInfo(string Name, uint? Hook, string? Type);
