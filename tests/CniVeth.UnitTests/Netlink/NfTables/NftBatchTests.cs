using System.Buffers.Binary;
using System.Net;
using CniVeth.Firewall;
using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;
using CniVeth.UnitTests.Support;
using CniVeth.Values;
using static CniVeth.UnitTests.Support.NftMessages;

namespace CniVeth.UnitTests.Netlink.NfTables;

/// <summary>
/// Exact bytes of the nf_tables encoder. The expected payloads are hand-assembled from the kernel layouts
/// (linux/netfilter/nf_tables.h) and cross-checked against `nft --debug=mnl` (nftables 1.0.6) for the same
/// objects; the only deliberate differences from nft are documented per test (we send no NFTA_LOOKUP_SET_ID /
/// NFTA_SET_ELEM_LIST_SET_ID, no table flags and no byte-order userdata).
/// </summary>
public class NftBatchTests
{
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
        var m = One(b => Assert.Equal("table inet cniveth", b.AddTable(Nft.NFPROTO_INET, "cniveth", "x").Description));
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
        NftElement[] e = SubnetIntervals.Elements(new CidrAddress(IPAddress.Parse("10.88.0.0"), 16));
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
    public void EveryInnerMessageIsOneOpInOrder()
    {
        var b = new NftBatch();
        NetlinkOp table = b.AddTable(Nft.NFPROTO_INET, "t");
        NetlinkOp elements = b.AddElements(Nft.NFPROTO_INET, "t", "s", [new NftElement([1, 2, 3, 4])]);
        Assert.Equal([table, elements], b.Ops);
        Assert.Equal("adding to set inet t s", elements.Description);
        Assert.Equal(2, b.Count);
        Assert.Equal(4, b.Finish().Count);
    }

    [Fact]
    public void ParsesElementDump()
    {
        // A NEWSETELEM reply: nlmsghdr, nfgenmsg, LIST_TABLE, LIST_SET, ELEMENTS { {KEY, DATA}, {KEY, FLAGS = interval end} }
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(0x0a0c, 2).Struct(new NfGenMsg(Nft.NFPROTO_BRIDGE))
         .String(Nft.SET_ELEM_LIST_TABLE, "cniveth").String(Nft.SET_ELEM_LIST_SET, "ports")
         .BeginNested(Nft.SET_ELEM_LIST_ELEMENTS);
        NftBatch.WriteElement(b, new NftElement(FirewallLayout.IfName("veth1234abcd"), Convert.FromHexString("020000000001")));
        NftBatch.WriteElement(b, new NftElement(Convert.FromHexString("0a590000"), null, Nft.SET_ELEM_INTERVAL_END));
        b.EndNested().EndMessage();
        byte[] msg = b.Span.ToArray();
        var r = new List<(byte[] Key, byte[]? Data, uint Flags)>();
        NfTablesClient.ParseElements(msg, r);
        Assert.Equal(2, r.Count);
        Assert.Equal("veth1234abcd", AttributeReader.String(r[0].Key));
        Assert.Equal("020000000001", Convert.ToHexStringLower(r[0].Data!));
        Assert.Equal(0u, r[0].Flags);
        Assert.Equal("0a590000", Convert.ToHexStringLower(r[1].Key)); // an interval end, flagged
        Assert.Null(r[1].Data);
        Assert.Equal(Nft.SET_ELEM_INTERVAL_END, r[1].Flags);
    }

    [Fact]
    public void UdataComment()
    {
        Assert.Equal("070461626300", Convert.ToHexStringLower(NftBatch.Udata(7, "abc")));
    }
}
