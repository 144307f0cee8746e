using System.Buffers.Binary;
using System.Net;
using CniVeth.Cni;
using CniVeth.Firewall;
using CniVeth.Netlink;

namespace CniVeth.UnitTests.Firewall;

/// <summary>
/// Exact bytes of the nf_tables encoder. The expected payloads are hand-assembled from the kernel layouts
/// (linux/netfilter/nf_tables.h) and cross-checked against `nft --debug=mnl` (nftables 1.0.6) for the same
/// objects; the only deliberate differences from nft are documented per test (we send no NFTA_LOOKUP_SET_ID /
/// NFTA_SET_ELEM_LIST_SET_ID, no table flags and no byte-order userdata).
/// </summary>
public class NftEncoderTests
{
    private const ushort Req = 0x1, Ack = 0x4, Excl = 0x200, Create = 0x400, Append = 0x800;

    private static List<(ushort Type, ushort Flags, string Payload)> Messages(NetlinkMessageBuilder b)
    {
        var r = new List<(ushort, ushort, string)>();
        ReadOnlySpan<byte> s = b.Span;
        foreach (int off in b.MessageOffsets)
        {
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[off..]);
            r.Add((BinaryPrimitives.ReadUInt16LittleEndian(s[(off + 4)..]),
                   BinaryPrimitives.ReadUInt16LittleEndian(s[(off + 6)..]),
                   Convert.ToHexStringLower(s.Slice(off + 16, len - 16))));
        }
        return r;
    }

    private static List<(ushort Type, ushort Flags, string Payload)> One(Action<NftBatch> add)
    {
        var batch = new NftBatch();
        add(batch);
        var m = Messages(batch.Finish());
        Assert.Equal(3, m.Count);
        return m;
    }

    private static void AssertMsg(ushort type, ushort flags, string payload, (ushort Type, ushort Flags, string Payload) m)
    {
        Assert.Equal(type, m.Type);
        Assert.Equal(flags, m.Flags);
        Assert.Equal(payload, m.Payload);
    }

    [Fact]
    public void BatchBeginAndEnd()
    {
        var m = Messages(new NftBatch().Finish());
        Assert.Equal(2, m.Count);
        // NFNL_MSG_BATCH_BEGIN (16) / END (17), NLM_F_REQUEST only; nfgenmsg AF_UNSPEC, v0, res_id = htons(10)
        AssertMsg(0x10, Req, "0000000a", m[0]);
        AssertMsg(0x11, Req, "0000000a", m[1]);
    }

    [Fact]
    public void BatchHeaderLengthsAreExact()
    {
        var b = new NftBatch().Finish();
        Assert.Equal("14000000100001000000000000000000" + "0000000a" + "14000000110001000000000000000000" + "0000000a",
            Convert.ToHexStringLower(b.Span));
    }

    [Fact]
    public void NewTableWithComment()
    {
        var m = One(b => Assert.Equal(0, b.AddTable(Nft.NFPROTO_INET, "cniveth", "x")));
        AssertMsg(0x0a00, Req | Ack | Create,
            "01000000" +                          // nfgenmsg NFPROTO_INET
            "0c000100" + "636e697665746800" +     // NFTA_TABLE_NAME "cniveth"
            "08000600" + "00027800",              // NFTA_TABLE_USERDATA: udata comment (type 0, len 2, "x\0")
            m[1]);
    }

    [Fact]
    public void NewBaseChainNatPostrouting()
    {
        var m = One(b => b.AddBaseChain(Nft.NFPROTO_INET, "cniveth", "postrouting", "nat", 4, 100, 1));
        AssertMsg(0x0a03, Req | Ack | Create,
            "01000000" +
            "0c000100636e697665746800" +                       // NFTA_CHAIN_TABLE
            "10000300706f7374726f7574696e6700" +               // NFTA_CHAIN_NAME "postrouting"
            "080007006e617400" +                               // NFTA_CHAIN_TYPE "nat"
            "0800050000000001" +                               // NFTA_CHAIN_POLICY NF_ACCEPT (be32)
            "14000480" + "0800010000000004" + "0800020000000064", // NFTA_CHAIN_HOOK { HOOKNUM 4, PRIORITY 100 }
            m[1]);
    }

    [Fact]
    public void NewBaseChainBridgeNegativePriority()
    {
        var m = One(b => b.AddBaseChain(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", "filter", 0, -300, 1));
        AssertMsg(0x0a03, Req | Ack | Create,
            "07000000" +
            "0c000100636e697665746800" +
            "0f000300707265726f7574696e670000" +
            "0b00070066696c7465720000" +
            "0800050000000001" +
            "14000480" + "0800010000000000" + "08000200fffffed4", // priority -300 as be32
            m[1]);
    }

    [Fact]
    public void NewSetExclusiveWithComment()
    {
        var m = One(b => b.AddSet(Nft.NFPROTO_INET, "cniveth", "saddr4-aa", 0, 7, 4, comment: "c", exclusive: true));
        AssertMsg(0x0a09, Req | Ack | Create | Excl,
            "01000000" +
            "0c000100636e697665746800" +                 // NFTA_SET_TABLE
            "0e0002007361646472342d6161000000" +         // NFTA_SET_NAME "saddr4-aa"
            "0800030000000000" +                         // NFTA_SET_FLAGS 0
            "0800040000000007" +                         // NFTA_SET_KEY_TYPE ipv4_addr (7)
            "0800050000000004" +                         // NFTA_SET_KEY_LEN 4
            "08000a0000000001" +                         // NFTA_SET_ID 1 (mandatory)
            "08000d0007026300",                          // NFTA_SET_USERDATA: comment TLV (type 7) "c"
            m[1]);
    }

    [Fact]
    public void NewIntervalSetIpv6()
    {
        var m = One(b => b.AddSet(Nft.NFPROTO_INET, "cniveth", "subnet6-aa", Nft.SET_F_INTERVAL, 8, 16));
        AssertMsg(0x0a09, Req | Ack | Create,
            "01000000" +
            "0c000100636e697665746800" +
            "0f0002007375626e6574362d61610000" +            // NFTA_SET_NAME "subnet6-aa" (len 15, padded)
            "0800030000000004" +                          // NFT_SET_INTERVAL
            "0800040000000008" +                          // ipv6_addr (8)
            "0800050000000010" +                          // 16
            "08000a0000000001",                           // NFTA_SET_ID
            m[1]);
    }

    [Fact]
    public void NewMapIfnameToEtherAddrAndConcatSet()
    {
        var batch = new NftBatch();
        batch.AddSet(Nft.NFPROTO_BRIDGE, "cniveth", "ports", Nft.SET_F_MAP, 41, 16, 9, 6);
        batch.AddSet(Nft.NFPROTO_BRIDGE, "cniveth", "allowed", 0, (41 << 6) | 9, 24);
        var m = Messages(batch.Finish());
        AssertMsg(0x0a09, Req | Ack | Create,
            "07000000" + "0c000100636e697665746800" +
            "0a000200706f727473000000" +                  // "ports"
            "0800030000000008" +                          // NFT_SET_MAP
            "0800040000000029" + "0800050000000010" +     // key ifname (41), 16
            "0800060000000009" + "0800070000000006" +     // data ether_addr (9), 6
            "08000a0000000001",                           // NFTA_SET_ID 1
            m[1]);
        AssertMsg(0x0a09, Req | Ack | Create,
            "07000000" + "0c000100636e697665746800" +
            "0c000200616c6c6f77656400" +                  // "allowed"
            "0800030000000000" +
            "0800040000000a49" +                          // ifname . ether_addr = 41 << 6 | 9
            "0800050000000018" +                          // 16 + 8
            "08000a0000000002",                           // NFTA_SET_ID 2: unique within the batch
            m[2]);
    }

    [Fact]
    public void NewSetElemInterval()
    {
        NftElement[] e = NftFirewall.IntervalElements(new CidrAddress(IPAddress.Parse("10.88.0.0"), 16));
        var m = One(b => b.AddElements(Nft.NFPROTO_INET, "cniveth", "subnet4-aa", e));
        AssertMsg(0x0a0c, Req | Ack | Create,
            "01000000" + "0c000100636e697665746800" +
            "0f0002007375626e6574342d61610000" +                      // NFTA_SET_ELEM_LIST_SET
            "2c000380" +                                              // NFTA_SET_ELEM_LIST_ELEMENTS
            "10000180" + "0c000180" + "080001000a580000" +            //   { KEY { VALUE 10.88.0.0 } }
            "18000180" + "0c000180" + "080001000a590000" +            //   { KEY { VALUE 10.89.0.0 },
                         "0800030000000001",                          //     FLAGS INTERVAL_END }
            m[1]);
    }

    [Fact]
    public void DelSetElem()
    {
        var m = One(b => b.DelElements(Nft.NFPROTO_INET, "cniveth", "saddr4-aa", [new NftElement([10, 88, 0, 5])]));
        // identical to nft's "delete element inet cniveth saddr4-aa { 10.88.0.5 }"
        AssertMsg(0x0a0e, Req | Ack,
            "010000000c000100636e6976657468000e0002007361646472342d616100000014000380100001800c000180080001000a580005",
            m[1]);
    }

    [Fact]
    public void NewMapElemAndConcatElem()
    {
        byte[] name = NftFirewall.IfName("veth1234abcd");
        byte[] mac = NftFirewall.ParseMac("02:00:00:00:00:01");
        var batch = new NftBatch();
        batch.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", "ports", [new NftElement(name, mac)]);
        batch.AddElements(Nft.NFPROTO_BRIDGE, "cniveth", "allowed", [new NftElement(NftFirewall.PortMacKey(name, mac))]);
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
            w => NftFirewall.MasqueradeRule(w, false, "saddr4-aa", "subnet4-aa"), "c"));
        AssertMsg(0x0a06, Req | Ack | Create | Append, MasqRuleV4, m[1]);
    }

    [Fact]
    public void MasqueradeRuleIpv6()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_INET, "cniveth", "postrouting",
            w => NftFirewall.MasqueradeRule(w, true, "saddr6-aa", "subnet6-aa")));
        AssertMsg(0x0a06, Req | Ack | Create | Append, MasqRuleV6, m[1]);
    }

    [Fact]
    public void SpoofCheckRule()
    {
        var m = One(b => b.AddRule(Nft.NFPROTO_BRIDGE, "cniveth", "prerouting", NftFirewall.SpoofRule, "macspoofchk"));
        AssertMsg(0x0a06, Req | Ack | Create | Append, SpoofRuleHex, m[1]);
    }

    [Fact]
    public void AckIndexesCountInnerMessages()
    {
        var b = new NftBatch();
        Assert.Equal(0, b.AddTable(Nft.NFPROTO_INET, "t"));
        Assert.Equal(1, b.AddElements(Nft.NFPROTO_INET, "t", "s", [new NftElement([1, 2, 3, 4])]));
        Assert.Equal(2, b.Count);
        Assert.Equal(4, b.Finish().Count);
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
        NftElement[] e = NftFirewall.IntervalElements(new CidrAddress(IPAddress.Parse(addr), prefix));
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
        var r = NftFirewall.NormalizeSubnets([
            new CidrAddress(IPAddress.Parse("10.88.0.5"), 16), new CidrAddress(IPAddress.Parse("10.88.0.0"), 16),
            new CidrAddress(IPAddress.Parse("10.88.3.0"), 24), new CidrAddress(IPAddress.Parse("10.0.0.0"), 24),
            new CidrAddress(IPAddress.Parse("fd00::"), 64)]);
        Assert.Equal(["10.88.0.0/16", "10.0.0.0/24", "fd00::/64"], r.Select(s => s.ToString()).ToArray());
    }

    [Fact]
    public void SetNamesAreShortStableAndDistinct()
    {
        string longName = new string('n', 200);
        string a = NftFirewall.AddrSetName(longName, false), b = NftFirewall.AddrSetName(longName + "x", false);
        Assert.StartsWith("saddr4-", a);
        Assert.True(a.Length <= 7 + 9 + 32);
        Assert.NotEqual(a, b);
        Assert.Equal(a, NftFirewall.AddrSetName(longName, false));
        Assert.Equal("saddr6-" + NftFirewall.AddrSetName("demonet", false)[7..], NftFirewall.AddrSetName("demonet", true));
        Assert.Matches("^subnet4-[0-9a-f]{8}-demonet$", NftFirewall.SubnetSetName("demonet", false));
    }

    [Theory]
    [InlineData("", "811c9dc5")]          // FNV-1a 32 offset basis
    [InlineData("a", "e40c292c")]         // published FNV-1a test vector
    [InlineData("demonet", "d885ebd9")]
    public void NetworkHashIsFnv1a32(string name, string hex) => Assert.Equal(hex, NftFirewall.Hash8(name));

    [Fact]
    public void SetNamesOfDemonet()
    {
        Assert.Equal("saddr4-d885ebd9-demonet", NftFirewall.AddrSetName("demonet", false));
        Assert.Equal("subnet6-d885ebd9-demonet", NftFirewall.SubnetSetName("demonet", true));
    }

    [Theory]
    [InlineData("veth0123abcd", true)]
    [InlineData("vethABCDEF01", false)]
    [InlineData("veth0123abc", false)]
    [InlineData("eth0", false)]
    [InlineData("veth0123abcdz", false)]
    public void OurPortNames(string n, bool ours) => Assert.Equal(ours, NftFirewall.IsOurPortName(n));

    [Theory]
    [InlineData("02:00:00:00:00:01", "020000000001")]
    [InlineData("0A-1b-2C-3d-4E-5f", "0a1b2c3d4e5f")]
    public void MacParsing(string mac, string hex) => Assert.Equal(hex, Convert.ToHexStringLower(NftFirewall.ParseMac(mac)));

    [Theory]
    [InlineData("02:00:00:00:00")]
    [InlineData("02:00:00:00:00:0g")]
    [InlineData("")]
    public void BadMacRejected(string mac) => Assert.Throws<ArgumentException>(() => NftFirewall.ParseMac(mac));

    [Fact]
    public void ParsesElementDump()
    {
        // A NEWSETELEM reply: nlmsghdr, nfgenmsg, LIST_TABLE, LIST_SET, ELEMENTS { {KEY, DATA}, {KEY(end), FLAGS} }
        string hex = "00000000" + "0c0a" + "0200" + "0000000000000000" + "07000000" +
            "0c000100636e697665746800" + "0a000200706f727473000000" +
            "3c000380" +
            "2c000180" + "18000180" + "14000100" + "76657468313233346162636400000000" +
            "10000280" + "0a000100" + "020000000001" + "0000" +
            "10000180" + "0c000180" + "080001000a590000" + "0800030000000001";
        byte[] msg = Convert.FromHexString(hex);
        BinaryPrimitives.WriteUInt32LittleEndian(msg, (uint)msg.Length);
        var r = new List<(byte[] Key, byte[]? Data)>();
        NftFirewall.ParseElements(msg, r);
        var only = Assert.Single(r); // interval end elements are skipped
        Assert.Equal("veth1234abcd", AttributeReader.String(only.Key));
        Assert.Equal("020000000001", Convert.ToHexStringLower(only.Data!));
    }

    [Fact]
    public void UdataComment()
    {
        Assert.Equal("070461626300", Convert.ToHexStringLower(NftBatch.Udata(7, "abc")));
        Assert.Equal("demonet", NftBatch.ReadUdata(NftBatch.Udata(0, "demonet"), 0));
    }
}
