namespace CniVeth.Netlink.NfTables;

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
