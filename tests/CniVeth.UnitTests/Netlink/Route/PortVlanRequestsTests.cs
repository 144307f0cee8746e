using System.Text.Json;
using CniVeth.Bridge;
using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using static CniVeth.UnitTests.Netlink.NetlinkMessageBuilderTests;

namespace CniVeth.UnitTests.Netlink.Route;

/// <summary>The exact bytes of bridge VLAN filtering requests (what `ip link add type bridge vlan_filtering 1`
/// and `bridge vlan add|del dev X vid ... master` send), so the feature is right on kernels that have it.</summary>
public class PortVlanRequestsTests
{
    private static NetConf Conf(string fields) =>
        NetConfReader.Parse(System.Text.Encoding.UTF8.GetBytes("{\"name\":\"n\",\"type\":\"cniveth\"" + (fields.Length > 0 ? "," + fields : "") + "}"));

    private const string SetLinkHeader = "1300" + "0500" + "00000000" + "00000000"; // RTM_SETLINK, REQUEST|ACK
    private const string DelLinkHeader = "1100" + "0500" + "00000000" + "00000000"; // RTM_DELLINK, REQUEST|ACK
    private static string BridgeIfInfo(int index) => "07" + "00" + "0000" + index.ToString("x2") + "000000" + "00000000" + "00000000";
    private const string MasterFlags = "0600" + "0000" + "0100" + "0000";           // IFLA_BRIDGE_FLAGS = BRIDGE_FLAGS_MASTER
    private static string VlanInfo(string flags, ushort vid) =>
        "0800" + "0200" + flags + Hex(BitConverter.GetBytes(vid));                    // IFLA_BRIDGE_VLAN_INFO {flags, vid}

    [Fact]
    public void NewBridgeWithVlanFilteringCarriesIflaBrVlanFilteringInInfoData()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.NewBridge(b, "cni0", 0, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55], vlanFiltering: true);
        Assert.Equal(
            "54000000" + "1000" + "0506" + "00000000" + "00000000" +          // RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            "00" + "00" + "0000" + "00000000" + "01000000" + "01000000" +    // ifinfomsg: IFF_UP
            "0900" + "0300" + Hex("cni0\0"u8) + "000000" +                   // IFLA_IFNAME
            "0a00" + "0100" + "021122334455" + "0000" +                      // IFLA_ADDRESS
            "1c00" + "1280" +                                                 // IFLA_LINKINFO
            "0b00" + "0100" + Hex("bridge\0"u8) + "00" +                     //   IFLA_INFO_KIND
            "0c00" + "0280" +                                                 //   IFLA_INFO_DATA
            "0500" + "0700" + "01" + "000000",                               //     IFLA_BR_VLAN_FILTERING = 1
            Hex(b.Span));
    }

    [Fact]
    public void NewBridgeWithoutVlansHasNoInfoData()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.NewBridge(b, "cni0", 1400, [0x02, 0, 0, 0, 0, 1], vlanFiltering: false);
        string h = Hex(b.Span);
        Assert.Contains("0800" + "0400" + "78050000", h);                 // IFLA_MTU 1400
        Assert.EndsWith("1000" + "1280" + "0b00" + "0100" + Hex("bridge\0"u8) + "00", h);
    }

    [Fact]
    public void AccessVlanIsPvidAndUntagged()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.PortVlans(b, 9, delete: false, [new PortVlan(100, 100, BridgeVlans.Access)]);
        Assert.Equal(
            "34000000" + SetLinkHeader + BridgeIfInfo(9) +
            "1400" + "1a80" + MasterFlags + VlanInfo("0600", 100),           // IFLA_AF_SPEC; PVID|UNTAGGED vid 100
            Hex(b.Span));
    }

    [Fact]
    public void TrunkRangeIsARangeBeginEndPair()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.PortVlans(b, 9, delete: false, [new PortVlan(20, 30), new PortVlan(42, 42)]);
        Assert.Equal(
            "44000000" + SetLinkHeader + BridgeIfInfo(9) +
            "2400" + "1a80" + MasterFlags +
            VlanInfo("0800", 20) + VlanInfo("1000", 30) +                    // RANGE_BEGIN 20, RANGE_END 30
            VlanInfo("0000", 42),                                              // single tagged vid
            Hex(b.Span));
    }

    [Fact]
    public void RemovingTheDefaultVlansIsOneDelLinkOfTheWholeRange()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.PortVlans(b, 5, delete: true, [new PortVlan(1, 4094)]);
        Assert.Equal(
            "3c000000" + DelLinkHeader + BridgeIfInfo(5) +
            "1c00" + "1a80" + MasterFlags + VlanInfo("0800", 1) + VlanInfo("1000", 4094),
            Hex(b.Span));
    }

    [Fact]
    public void InvalidEntriesAreRefusedBeforeTheKernelSeesThem()
    {
        var b = new NetlinkMessageBuilder();
        Assert.Throws<ArgumentException>(() => RouteRequests.PortVlans(b, 5, false, [new PortVlan(10, 20, BridgeVlans.Access)]));
        b.Clear();
        Assert.Throws<ArgumentOutOfRangeException>(() => RouteRequests.PortVlans(b, 5, false, [new PortVlan(0, 0)]));
        b.Clear();
        Assert.Throws<ArgumentOutOfRangeException>(() => RouteRequests.PortVlans(b, 5, false, [new PortVlan(4000, 4095)]));
    }

    [Fact]
    public void VlanWithoutPreserveRemovesDefaultsThenAddsAccessVlan()
    {
        var b = new NetlinkMessageBuilder();
        Assert.Equal(2, Encode(b, 9, Conf("\"vlan\":100")));
        Assert.Equal(2, b.Count);
        var expected = new NetlinkMessageBuilder();
        RouteRequests.PortVlans(expected, 9, true, [new PortVlan(1, 4094)]);
        RouteRequests.PortVlans(expected, 9, false, [new PortVlan(100, 100, BridgeVlans.Access)]);
        Assert.Equal(Hex(expected.Span), Hex(b.Span));
    }

    [Fact]
    public void PreserveDefaultVlanKeepsThemAndSendsOnlyTheAddition()
    {
        var b = new NetlinkMessageBuilder();
        Assert.Equal(1, Encode(b, 9, Conf("\"vlan\":100,\"preserveDefaultVlan\":true")));
        Assert.Equal("1300", Hex(b.Span).Substring(8, 4));
    }

    [Fact]
    public void NoVlanSettingsSendNothing()
    {
        var b = new NetlinkMessageBuilder();
        Assert.Equal(0, Encode(b, 9, Conf("\"preserveDefaultVlan\":true")));
        Assert.Equal(0, Encode(b, 9, Conf("\"vlanTrunk\":[]")));
        Assert.Equal(0, b.Count);
    }

    [Fact]
    public void TrunkEntriesAreCompressedAndTheNativeVlanComesLast()
    {
        // trunk 10, 20-30, 31, 5 and the access VLAN 25 inside the range: 25 stays PVID+untagged
        var entries = BridgeVlans.Entries(Conf(
            "\"vlan\":25,\"vlanTrunk\":[{\"id\":10},{\"minID\":20,\"maxID\":30},{\"id\":31},{\"id\":5}]"));
        Assert.Equal(
            [new PortVlan(5, 5), new PortVlan(10, 10), new PortVlan(20, 24), new PortVlan(26, 31), new PortVlan(25, 25, BridgeVlans.Access)],
            entries);
    }

    [Fact]
    public void TrunkWithoutVlanGetsNativeVlan1()
    {
        var entries = BridgeVlans.Entries(Conf("\"vlanTrunk\":[{\"minID\":100,\"maxID\":200}]"));
        Assert.Equal([new PortVlan(100, 200), new PortVlan(1, 1, BridgeVlans.Access)], entries);
    }

    [Fact]
    public void NotAvailableNamesTheFeatureAndTheKeys()
    {
        CniException e = BridgeVlans.NotAvailable(Conf("\"vlan\":7,\"vlanTrunk\":[{\"id\":3},{\"minID\":10,\"maxID\":12}]"));
        Assert.Equal(ErrorCode.UnsupportedField, e.Code);
        Assert.Equal("bridge VLAN filtering is not available in this kernel (CONFIG_BRIDGE_VLAN_FILTERING): "
            + "\"vlan\": 7 and \"vlanTrunk\": 3,10-12 cannot be used", e.Message);
    }

    /// <summary>BridgeVlans' requests for a port, encoded as RouteBatch would send them.</summary>
    private static int Encode(NetlinkMessageBuilder b, int port, NetConf conf)
    {
        var requests = BridgeVlans.Requests(conf);
        foreach (var (delete, vlans) in requests) RouteRequests.PortVlans(b, port, delete, vlans);
        return requests.Count;
    }
}
