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

/// <summary>A rule read back from the kernel (NFT_MSG_NEWRULE of a GETRULE dump).</summary>
internal sealed class NftRule
{
    public byte Family { get; init; }
    public string Table { get; init; } = "";
    public string Chain { get; init; } = "";
    public ulong Handle { get; init; }
    public List<NftExpr> Expressions { get; } = new();

    /// <summary>Whether the rule looks <paramref name="set"/> up (as a plain "in set" test when
    /// <paramref name="inverted"/> is false, "not in set" when true; a map lookup that loads data does not count).</summary>
    public bool Looks(string set, bool inverted) => Expressions.Exists(e => e.IsLookup(set, inverted) && !e.HasDreg);

    public bool Has(string expressionName) => Expressions.Exists(e => e.Name == expressionName);

    public bool Drops => Expressions.Exists(e => e.Verdict == Nft.NF_DROP);

    /// <summary>Parses a NEWRULE message (netlink header included).</summary>
    internal static NftRule Parse(ReadOnlySpan<byte> msg)
    {
        if (msg.Length < Nl.HeaderSize + 4) return new NftRule();
        byte family = msg[Nl.HeaderSize];
        string table = "", chain = "";
        ulong handle = 0;
        var exprs = new List<NftExpr>();
        var r = new AttributeReader(msg[(Nl.HeaderSize + 4)..]);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            switch (t)
            {
                case Nft.RULE_TABLE: table = AttributeReader.String(v); break;
                case Nft.RULE_CHAIN: chain = AttributeReader.String(v); break;
                case Nft.RULE_HANDLE: handle = v.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(v) : 0; break;
                case Nft.RULE_EXPRESSIONS:
                    var list = new AttributeReader(v);
                    while (list.Next(out ushort lt, out ReadOnlySpan<byte> e))
                        if (lt == Nft.LIST_ELEM) exprs.Add(ParseExpr(e));
                    break;
            }
        }
        var rule = new NftRule { Family = family, Table = table, Chain = chain, Handle = handle };
        rule.Expressions.AddRange(exprs);
        return rule;
    }

    private static NftExpr ParseExpr(ReadOnlySpan<byte> elem)
    {
        string name = "";
        ReadOnlySpan<byte> data = default;
        var r = new AttributeReader(elem);
        while (r.Next(out ushort t, out ReadOnlySpan<byte> v))
        {
            if (t == Nft.EXPR_NAME) name = AttributeReader.String(v);
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
