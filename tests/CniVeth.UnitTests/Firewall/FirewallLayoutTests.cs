using System.Buffers.Binary;
using System.Net;
using CniVeth.Firewall;
using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;
using CniVeth.UnitTests.Support;
using CniVeth.Values;
using static CniVeth.UnitTests.Support.NftMessages;

namespace CniVeth.UnitTests.Firewall;

/// <summary>What the ruleset is made of: rule expressions (exact bytes), set names, port names, intervals.</summary>
public class FirewallLayoutTests
{
    [Fact]
    public void NewMapElemAndConcatElem()
    {
        byte[] name = FirewallLayout.IfName("veth1234abcd");
        byte[] mac = FirewallLayout.ParseMac("02:00:00:00:00:01");
        var batch = new NftBatch();
        batch.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", "ports", [new NftElement(name, mac)]);
        batch.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", "allowed", [new NftElement(FirewallLayout.PortMacKey(name, mac))]);
        var m = Messages(batch.Finish());
        AssertMsg(0x0a0c, Req | Ack | Create,
            "07000000" + "0c000100636e697665746800" + "0a000200706f727473000000" +
            "30000380" + "2c000180" +
            "18000180" + "14000100" + "76657468313233346162636400000000" +   // KEY "veth1234abcd" padded to IFNAMSIZ
            "10000280" + "0a000100" + "020000000001" + "0000",               // DATA 02:00:00:00:00:01
            m[1]);
        AssertMsg(0x0a0c, Req | Ack | Create,
            "07000000" + "0c000100636e697665746800" + "0c000200616c6c6f77656400" +
            "28000380" + "24000180" + "20000180" + "1c000100" +
            "76657468313233346162636400000000" + "0200000000010000",        // name . mac (+2 bytes padding)
            m[2]);
    }

    // nft 1.0.6 --debug=mnl for the rules of NftFirewall, minus NFTA_LOOKUP_SET_ID in the lookups.
    private const string MasqRuleV4 =
        "01000000" +
        "0c000100636e697665746800" +
        "10000200706f7374726f7574696e6700" +
        "d4010480" +   // NFTA_RULE_EXPRESSIONS
        "24000180090001006d6574610000000014000280080002000000000f0800010000000001" +   // meta load nfproto => reg 1
        "2c00018008000100636d700020000280080001000000000108000200000000000c0003800500010002000000" +   // cmp eq reg 1 ipv4
        "340001800c0001007061796c6f6164002400028008000100000000010800020000000001080003000000000c0800040000000004" +   // payload 4b @ nh + 12
        "2c0001800b0001006c6f6f6b757000001c00028008000200000000010e0001007361646472342d6161000000" +   // lookup @saddr4-aa
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000100800040000000004" +   // payload 4b @ nh + 16
        "340001800b0001006c6f6f6b757000002400028008000200000000010f0001007375626e6574342d616100000800050000000001" +   // lookup != @subnet4-aa
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000100800040000000004" +   // payload 4b @ nh + 16
        "440001800c0001006269747769736500340002800800010000000001080002000000000108000300000000040c00048008000100f00000000c0005800800010000000000" +   // bitwise & f0000000
        "2c00018008000100636d700020000280080001000000000108000200000000010c00038008000100e0000000" +   // cmp neq e0000000
        "14000180090001006d6173710000000004000280" +   // masq
        "0800070000026300";                            // userdata comment "c"

    private const string MasqRuleV6 =
        "01000000" +
        "0c000100636e697665746800" +
        "10000200706f7374726f7574696e6700" +
        "90010480" +
        "24000180090001006d6574610000000014000280080002000000000f0800010000000001" +   // meta nfproto
        "2c00018008000100636d700020000280080001000000000108000200000000000c000380050001000a000000" +   // cmp eq ipv6
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000080800040000000010" +   // payload 16b @ nh + 8
        "2c0001800b0001006c6f6f6b757000001c00028008000200000000010e0001007361646472362d6161000000" +   // lookup @saddr6-aa
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000180800040000000010" +   // payload 16b @ nh + 24
        "340001800b0001006c6f6f6b757000002400028008000200000000010f0001007375626e6574362d616100000800050000000001" +   // lookup != @subnet6-aa
        "340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300000000180800040000000001" +   // payload 1b @ nh + 24
        "2c00018008000100636d700020000280080001000000000108000200000000010c00038005000100ff000000" +   // cmp neq ff
        "14000180090001006d6173710000000004000280";    // masq

    private const string SpoofRuleHex =
        "07000000" +
        "0c000100636e697665746800" +
        "0f000200707265726f7574696e670000" +
        "20010480" +
        "24000180090001006d657461000000001400028008000200000000060800010000000001" +   // meta load iifname => reg 1
        "340001800b0001006c6f6f6b757000002400028008000200000000011500010073706f6f6663686b2d636865636b656400000000" +   // lookup @spoofchk-checked
        "24000180090001006d657461000000001400028008000200000000060800010000000001" +   // meta load iifname => reg 1
        "340001800c0001007061796c6f616400240002800800010000000002080002000000000008000300000000060800040000000006" +   // payload 6b @ ll + 6 => reg 2
        "3c0001800b0001006c6f6f6b757000002c00028008000200000000011500010073706f6f6663686b2d616c6c6f776564000000000800050000000001" +   // lookup != @spoofchk-allowed
        "300001800e000100696d6d6564696174650000001c0002800800010000000000100002800c0002800800010000000000" +   // immediate drop
        "12000700000c6d616373706f6f6663686b000000";   // comment "macspoofchk"

    [Fact]
    public void MasqueradeRuleIpv4()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_INET, "cniveth", "postrouting",
            w => FirewallLayout.MasqueradeRule(w, false, "saddr4-aa", "subnet4-aa"), "c"));
        AssertMsg(0x0a06, Req | Ack | Create | Append, MasqRuleV4, m[1]);
    }

    [Fact]
    public void MasqueradeRuleIpv6()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_INET, "cniveth", "postrouting",
            w => FirewallLayout.MasqueradeRule(w, true, "saddr6-aa", "subnet6-aa")));
        AssertMsg(0x0a06, Req | Ack | Create | Append, MasqRuleV6, m[1]);
    }

    [Fact]
    public void SpoofCheckRule()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", FirewallLayout.SpoofRule, "macspoofchk"));
        AssertMsg(0x0a06, Req | Ack | Create | Append, SpoofRuleHex, m[1]);
    }

    /// <summary>The rule of earlier releases (what ADD migrates from): the map looked up without a register.</summary>
    [Fact]
    public void LegacySpoofCheckRule()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", FirewallLayout.LegacySpoofRule, "macspoofchk"));
        string legacy = SpoofRuleHex
            .Replace("20010480", "1c010480")
            .Replace("340001800b0001006c6f6f6b757000002400028008000200000000011500010073706f6f6663686b2d636865636b656400000000",
                     "300001800b0001006c6f6f6b757000002000028008000200000000011300010073706f6f6663686b2d706f7274730000");
        AssertMsg(0x0a06, Req | Ack | Create | Append, legacy, m[1]);
    }

    /// <summary>NFT_MSG_DELRULE: table, chain and the handle as a big-endian u64.</summary>
    [Fact]
    public void DeleteRuleByHandle()
    {
        var m = One(b => Assert.Equal("deleting rule 7 of chain bridge cniveth prerouting", b.DelRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", 7).Description));
        AssertMsg(0x0a08, Req | Ack,
            "07000000" + "0c000100636e697665746800" + "0f000200707265726f7574696e670000" +
            "0c000300" + "0000000000000007",
            m[1]);
    }

    /// <summary>Our rules read back (the request bytes are a NEWRULE message too) are recognised by the sets
    /// they read and their action, and only for their own network, family and shape.</summary>
    [Fact]
    public void RulesAreRecognisedByWhatTheyReference()
    {
        NftRule Encoded(Action<NftBatch> add)
        {
            var batch = new NftBatch();
            add(batch);
            var msgs = batch.Finish();
            int off = msgs.MessageOffsets[1], len = BinaryPrimitives.ReadInt32LittleEndian(msgs.Span[off..]);
            return NftRule.Parse(msgs.Span.Slice(off, len));
        }
        NftRule masq4 = Encoded(b => FirewallLayout.DeclareMasqueradeRule(b, "demonet", false));
        NftRule masq6 = Encoded(b => FirewallLayout.DeclareMasqueradeRule(b, "demonet", true));
        NftRule spoof = Encoded(FirewallLayout.DeclareSpoofRule);
        NftRule legacy = Encoded(b => b.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", FirewallLayout.LegacySpoofRule));

        Assert.Equal("postrouting", masq4.Chain);
        Assert.True(FirewallLayout.IsMasqueradeRule(masq4, "demonet", false));
        Assert.False(FirewallLayout.IsMasqueradeRule(masq4, "demonet", true));
        Assert.False(FirewallLayout.IsMasqueradeRule(masq4, "othernet", false));
        Assert.True(FirewallLayout.IsMasqueradeRule(masq6, "demonet", true));
        Assert.False(FirewallLayout.IsSpoofRule(masq4));

        Assert.True(FirewallLayout.IsSpoofRule(spoof));
        Assert.False(FirewallLayout.IsLegacySpoofRule(spoof));
        Assert.True(FirewallLayout.IsLegacySpoofRule(legacy));
        Assert.False(FirewallLayout.IsSpoofRule(legacy));

        // the same sets with another action is not our rule
        NftRule accept = Encoded(b => b.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", w =>
            w.Meta(Nft.META_IIFNAME).Lookup(FirewallLayout.CheckedSet).Meta(Nft.META_IIFNAME)
             .Payload(Nft.PAYLOAD_LL_HEADER, 6, 6, Nft.REG_2).Lookup(FirewallLayout.AllowedSet, invert: true).Verdict(Nft.NF_ACCEPT)));
        Assert.False(FirewallLayout.IsSpoofRule(accept));
    }

    /// <summary>A rule as a GETRULE dump lists it: handle, and lookups with NFTA_LOOKUP_FLAGS always present
    /// (0 when not inverted) and a destination register for a map lookup.</summary>
    [Fact]
    public void ParsesDumpedRule()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(0x0a06, 2).Struct(new NfGenMsg(Nft.NFPROTO_BRIDGE))
         .String(Nft.RULE_TABLE, "cniveth").String(Nft.RULE_CHAIN, "prerouting");
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(h, 42);
        b.Attr(Nft.RULE_HANDLE, h).BeginNested(Nft.RULE_EXPRESSIONS);
        b.BeginNested(Nft.LIST_ELEM).String(Nft.EXPR_NAME, "lookup").BeginNested(Nft.EXPR_DATA)
         .String(Nft.LOOKUP_SET, "spoofchk-ports").U32Be(Nft.LOOKUP_SREG, 1).U32Be(Nft.LOOKUP_DREG, 2).U32Be(Nft.LOOKUP_FLAGS, 0)
         .EndNested().EndNested();
        b.BeginNested(Nft.LIST_ELEM).String(Nft.EXPR_NAME, "lookup").BeginNested(Nft.EXPR_DATA)
         .String(Nft.LOOKUP_SET, "spoofchk-allowed").U32Be(Nft.LOOKUP_SREG, 1).U32Be(Nft.LOOKUP_FLAGS, 1)
         .EndNested().EndNested();
        new NftExprWriter(b).Verdict(Nft.NF_DROP);
        b.EndNested().EndMessage();
        NftRule r = NftRule.Parse(b.Span);
        Assert.Equal(Nft.NFPROTO_BRIDGE, r.Family);
        Assert.Equal(("cniveth", "prerouting", 42ul), (r.Table, r.Chain, r.Handle));
        Assert.Equal(["lookup", "lookup", "immediate"], r.Expressions.Select(e => e.Name).ToArray());
        Assert.True(r.Expressions[0].HasDreg);
        Assert.False(r.Expressions[0].Inverted);
        Assert.True(r.Expressions[1].Inverted);
        Assert.Equal(Nft.NF_DROP, r.Expressions[2].Verdict);
        Assert.False(r.Looks("spoofchk-ports", inverted: false)); // a map lookup that loads data is not a set test
        Assert.True(r.Looks("spoofchk-allowed", inverted: true));
        Assert.True(r.Drops);
    }

    [Theory]
    [InlineData("10.88.0.0", 16, "0a580000", "0a590000")]
    [InlineData("10.88.7.9", 24, "0a580700", "0a580800")]
    [InlineData("10.255.255.255", 8, "0a000000", "0b000000")]
    [InlineData("192.168.1.1", 32, "c0a80101", "c0a80102")]
    [InlineData("240.0.0.0", 4, "f0000000", null)]          // runs to the end of the space: no end element
    [InlineData("0.0.0.0", 0, "00000000", null)]
    [InlineData("fd00:88::1", 64, "fd000088000000000000000000000000", "fd000088000000010000000000000000")]
    [InlineData("fd00:88:0:ffff::", 48, "fd000088000000000000000000000000", "fd000088000100000000000000000000")]
    public void IntervalElementsOfPrefix(string addr, int prefix, string start, string? end)
    {
        NftElement[] e = SubnetIntervals.Elements(new CidrAddress(IPAddress.Parse(addr), prefix));
        Assert.Equal(start, Convert.ToHexStringLower(e[0].Key));
        Assert.Equal(0u, e[0].Flags);
        if (end == null) { Assert.Single(e); return; }
        Assert.Equal(2, e.Length);
        Assert.Equal(end, Convert.ToHexStringLower(e[1].Key));
        Assert.Equal(Nft.SET_ELEM_INTERVAL_END, e[1].Flags);
    }

    [Fact]
    public void SubnetsAreNormalized()
    {
        var r = SubnetIntervals.Normalize([
            new CidrAddress(IPAddress.Parse("10.88.0.5"), 16), new CidrAddress(IPAddress.Parse("10.88.0.0"), 16),
            new CidrAddress(IPAddress.Parse("10.88.3.0"), 24), new CidrAddress(IPAddress.Parse("10.0.0.0"), 24),
            new CidrAddress(IPAddress.Parse("fd00::"), 64)]);
        Assert.Equal(["10.88.0.0/16", "10.0.0.0/24", "fd00::/64"], r.Select(s => s.ToString()).ToArray());
    }

    private static AddressRange R(string cidr) =>
        AddressRange.Of(new CidrAddress(IPAddress.Parse(cidr.Split('/')[0]), int.Parse(cidr.Split('/')[1])));

    private static (byte[], byte[]?, uint)[] ElementsOf(params string[] cidrs) =>
        cidrs.SelectMany(c => R(c).Elements()).Select(e => (e.Key, e.Data, e.Flags)).ToArray();

    [Fact]
    public void IntervalSetContentsReadBackAsRanges()
    {
        // any order, adjacent ranges, a range to the end of the space, and a stray end (ignored)
        var elems = ElementsOf("10.0.1.0/24", "10.88.0.0/16", "240.0.0.0/4", "10.0.0.0/24").Reverse().ToList();
        elems.Add((Convert.FromHexString("00000000"), null, Nft.SET_ELEM_INTERVAL_END));
        var ranges = SubnetIntervals.FromElements(elems);
        Assert.Equal(["10.0.0.0/24", "10.0.1.0/24", "10.88.0.0/16", "240.0.0.0/4"], ranges.Select(r => r.ToString()).ToArray());
        Assert.Equal("10.0.0.0-10.0.2.255", new AddressRange(R("10.0.0.0/24").First, R("10.0.2.0/24").Last).ToString());
    }

    [Theory]
    // wider wanted prefix swallows what it contains
    [InlineData("10.244.1.0/24,10.244.7.0/24,10.88.0.0/16", "10.244.0.0/16", "10.244.1.0/24,10.244.7.0/24", "10.244.0.0/16")]
    // already covered: nothing to do
    [InlineData("10.244.0.0/16", "10.244.1.0/24", "", "")]
    [InlineData("10.244.0.0/16", "10.244.0.0/16", "", "")]
    // disjoint: only added
    [InlineData("10.88.0.0/16", "10.244.0.0/16", "", "10.244.0.0/16")]
    // adjacent ranges stay apart
    [InlineData("10.0.0.0/24", "10.0.1.0/24", "", "10.0.1.0/24")]
    [InlineData("", "10.244.0.0/16,10.88.0.0/16", "", "10.88.0.0/16,10.244.0.0/16")]
    [InlineData("fd00:88::/64", "fd00::/16", "fd00:88::/64", "fd00::/16")]
    public void MergeIsTheUnion(string existing, string wanted, string delete, string add)
    {
        List<AddressRange> L(string s) => s.Length == 0 ? [] : s.Split(',').Select(R).ToList();
        var (d, a) = SubnetIntervals.Merge(L(existing), L(wanted));
        Assert.Equal(delete, string.Join(",", d));
        Assert.Equal(add, string.Join(",", a));
    }

    private static string Hex(IEnumerable<NftElement> e) =>
        string.Join(",", e.Select(x => Convert.ToHexStringLower(x.Key) + ((x.Flags & Nft.SET_ELEM_INTERVAL_END) != 0 ? "e" : "")));

    [Fact]
    public void MergeDeletesTheElementsTheWiderPrefixSwallows()
    {
        // 10.244.1.0/24 and 10.88.0.0/16 in the set; 10.244.0.0/16 wanted
        var (d, a) = SubnetIntervals.MergeElements(ElementsOf("10.244.1.0/24", "10.88.0.0/16"), [R("10.244.0.0/16")]);
        Assert.Equal("0af40100,0af40200e", Hex(d));
        Assert.Equal("0af40000,0af50000e", Hex(a));
        // covered already: nothing
        (d, a) = SubnetIntervals.MergeElements(ElementsOf("10.244.0.0/16"), [R("10.244.7.0/24"), R("10.244.0.0/16")]);
        Assert.Empty(d);
        Assert.Empty(a);
    }

    /// <summary>The kernel takes a prefix whose end equals the end of one it contains as a duplicate end and
    /// inserts only its start: 192.168.88.128/25 then 192.168.88.0/24 leaves starts .0 and .128 and one end.
    /// Widening that to /16 deletes exactly those three elements; it never names an element that is not there.</summary>
    [Fact]
    public void MergeWorksOnASetWithTwoStartsBeforeOneEnd()
    {
        var raw = new (byte[], byte[]?, uint)[]
        {
            (Convert.FromHexString("c0a85880"), null, 0), (Convert.FromHexString("c0a85900"), null, Nft.SET_ELEM_INTERVAL_END),
            (Convert.FromHexString("c0a85800"), null, 0),
        };
        Assert.True(SubnetIntervals.Covers(SubnetIntervals.FromElements(raw), R("192.168.88.0/24")));
        var (d, a) = SubnetIntervals.MergeElements(raw, [R("192.168.88.0/24")]);
        Assert.Equal("c0a85880", Hex(d));                    // the redundant start goes
        Assert.Empty(a);
        (d, a) = SubnetIntervals.MergeElements(raw, [R("192.168.0.0/16")]);
        Assert.Equal("c0a85800,c0a85880,c0a85900e", Hex(d));
        Assert.Equal("c0a80000,c0a90000e", Hex(a));
        // the same start stays when the wider range starts there
        (d, a) = SubnetIntervals.MergeElements(ElementsOf("192.168.0.0/24"), [R("192.168.0.0/16")]);
        Assert.Equal("c0a80100e", Hex(d));
        Assert.Equal("c0a90000e", Hex(a));
    }

    [Theory]
    [InlineData("10.244.0.0/16", "10.244.3.0/24", true)]
    [InlineData("10.244.0.0/17,10.244.128.0/17", "10.244.0.0/16", true)]   // together
    [InlineData("10.244.0.0/17", "10.244.0.0/16", false)]
    [InlineData("10.0.0.0/24,10.0.2.0/24", "10.0.0.0/22", false)]          // a gap
    [InlineData("", "10.244.0.0/16", false)]
    [InlineData("0.0.0.0/0", "255.255.255.255/32", true)]
    public void CoversChecksEveryAddress(string ranges, string wanted, bool covered) =>
        Assert.Equal(covered, SubnetIntervals.Covers(ranges.Length == 0 ? [] : ranges.Split(',').Select(R).ToList(), R(wanted)));

    [Fact]
    public void SetNamesAreShortStableAndDistinct()
    {
        string longName = new string('n', 200);
        string a = FirewallLayout.AddrSetName(longName, false), b = FirewallLayout.AddrSetName(longName + "x", false);
        Assert.StartsWith("saddr4-", a);
        Assert.True(a.Length <= 7 + 9 + 32);
        Assert.NotEqual(a, b);
        Assert.Equal(a, FirewallLayout.AddrSetName(longName, false));
        Assert.Equal("saddr6-" + FirewallLayout.AddrSetName("demonet", false)[7..], FirewallLayout.AddrSetName("demonet", true));
        Assert.Matches("^subnet4-[0-9a-f]{8}-demonet$", FirewallLayout.SubnetSetName("demonet", false));
    }

    [Theory]
    [InlineData("", "811c9dc5")]          // FNV-1a 32 offset basis
    [InlineData("a", "e40c292c")]         // published FNV-1a test vector
    [InlineData("demonet", "d885ebd9")]
    public void NetworkHashIsFnv1a32(string name, string hex) => Assert.Equal(hex, FirewallLayout.Hash8(name));

    [Fact]
    public void SetNamesOfDemonet()
    {
        Assert.Equal("saddr4-d885ebd9-demonet", FirewallLayout.AddrSetName("demonet", false));
        Assert.Equal("subnet6-d885ebd9-demonet", FirewallLayout.SubnetSetName("demonet", true));
    }

    [Theory]
    [InlineData("veth0123abcd", true)]
    [InlineData("vethABCDEF01", false)]
    [InlineData("veth0123abc", false)]
    [InlineData("eth0", false)]
    [InlineData("veth0123abcdz", false)]
    public void OurPortNames(string n, bool ours) => Assert.Equal(ours, FirewallLayout.IsOurPortName(n));

    [Theory]
    [InlineData("02:00:00:00:00:01", "020000000001")]
    [InlineData("0A-1b-2C-3d-4E-5f", "0a1b2c3d4e5f")]
    public void MacParsing(string mac, string hex) => Assert.Equal(hex, Convert.ToHexStringLower(FirewallLayout.ParseMac(mac)));

    [Theory]
    [InlineData("02:00:00:00:00")]
    [InlineData("02:00:00:00:00:0g")]
    [InlineData("")]
    public void BadMacRejected(string mac) => Assert.Throws<ArgumentException>(() => FirewallLayout.ParseMac(mac));

    [Fact]
    public void CommentsCarryLongNetworkNamesCutSoUserdataStaysInTheKernelsLimit()
    {
        string name = new('n', 250);
        string cut = FirewallLayout.CommentName(name);
        Assert.Equal(64, cut.Length);
        Assert.EndsWith("...", cut);
        Assert.Equal("demonet", FirewallLayout.CommentName("demonet"));
        Assert.True(FirewallLayout.MasqueradeComment(name).Length <= 128); // nft(8)'s limit for comments
    }
}
