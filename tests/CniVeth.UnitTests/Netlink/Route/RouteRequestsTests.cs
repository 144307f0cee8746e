using System.Net;
using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using static CniVeth.UnitTests.Netlink.NetlinkMessageBuilderTests;
using CniVeth.Values;

namespace CniVeth.UnitTests.Netlink.Route;

public class RouteRequestsTests
{
    [Fact]
    public void VethIsOneNewLinkWithThePeerBornInTheContainerNamespace()
    {
        var b = new NetlinkMessageBuilder();
        using var fd = new SafeFd(-1);
        RouteRequests.NewVeth(b, "veth01020304", masterIndex: 5, mtu: 1400, "eth0", new SafeFd(), null);
        string h = Hex(b.Span);
        Assert.Equal(1, b.Count);
        Assert.Equal("1000", h.Substring(8, 4));           // RTM_NEWLINK
        Assert.Equal("0506", h.Substring(12, 4));          // REQUEST|ACK|EXCL|CREATE = 0x0605
        string body = h[32..];
        // ifinfomsg: family 0, type 0, index 0, flags IFF_UP, change IFF_UP
        Assert.StartsWith("00000000" + "00000000" + "01000000" + "01000000", body);
        Assert.Contains("1100" + "0300" + Hex("veth01020304\0"u8), body);  // IFLA_IFNAME
        Assert.Contains("0800" + "0400" + "78050000", body);                // IFLA_MTU 1400
        Assert.Contains("0800" + "0a00" + "05000000", body);                // IFLA_MASTER 5
        Assert.Contains("0900" + "0100" + Hex("veth\0"u8), body);          // IFLA_INFO_KIND
        // VETH_INFO_PEER carries an ifinfomsg followed by the peer's name and IFLA_NET_NS_FD (28)
        int peer = body.IndexOf("0180" + "00000000000000000000000000000000", StringComparison.Ordinal);
        Assert.True(peer > 0, body);
        Assert.Contains("0900" + "0300" + Hex("eth0\0"u8), body[peer..]);
        Assert.Contains("0800" + "1c00" + "ffffffff", body[peer..]);
    }

    [Fact]
    public void GroupDeleteIsOneDelLinkWithoutIndexCarryingTheGroup()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.DelLinkGroup(b, 0x1abcd);
        Assert.Equal(
            "28000000" + "1100" + "0500" + "00000000" + "00000000" +   // RTM_DELLINK, REQUEST|ACK
            "00000000" + "00000000" + "00000000" + "00000000" +         // ifinfomsg: index 0 (the group decides)
            "0800" + "1b00" + "cdab0100",                               // IFLA_GROUP 0x1abcd
            Hex(b.Span));
    }

    [Fact]
    public void SettingTheGroupOfALinkChangesNothingElse()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.SetLink(b, 9, new LinkChange(Group: 0x10001));
        Assert.Equal(
            "28000000" + "1000" + "0500" + "00000000" + "00000000" +   // RTM_NEWLINK, REQUEST|ACK
            "00000000" + "09000000" + "00000000" + "00000000" +         // index 9, no flag changes
            "0800" + "1b00" + "01000100",                               // IFLA_GROUP
            Hex(b.Span));
    }

    [Fact]
    public void GatewayAddressOnBridgeIsExclusiveWithBroadcast()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.NewAddress(b, 7, new CidrAddress(IPAddress.Parse("10.88.0.1"), 16), noDad: true);
        Assert.Equal("10.88.255.255", new IPAddress(Convert.FromHexString("0a58ffff")).ToString());
        Assert.Equal(
            "30000000" + "1400" + "0506" + "00000000" + "00000000" +
            "02" + "10" + "00" + "00" + "07000000" +
            "0800" + "0200" + "0a580001" +   // IFA_LOCAL
            "0800" + "0100" + "0a580001" +   // IFA_ADDRESS
            "0800" + "0400" + "0a58ffff",    // IFA_BROADCAST (no IFA_FLAGS for IPv4)
            Hex(b.Span));
    }

    [Fact]
    public void Ipv6AddressWithoutDadCarriesNoDadFlag()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.NewAddress(b, 3, new CidrAddress(IPAddress.Parse("fd00::2"), 64), noDad: true);
        Assert.EndsWith("0800" + "0800" + "02000000", Hex(b.Span)); // IFA_FLAGS = IFA_F_NODAD
    }

    [Fact]
    public void DefaultRouteViaGateway()
    {
        var b = new NetlinkMessageBuilder();
        var route = new RouteSpec(new CidrAddress(IPAddress.Any, 0), IPAddress.Parse("10.88.0.1"));
        RouteRequests.NewRoute(b, 4, route);
        Assert.Equal(
            "2c000000" + "1800" + "0506" + "00000000" + "00000000" +
            "02" + "00" + "00" + "00" + "fe" + "03" + "00" + "01" + "00000000" + // rtmsg: main table, boot, universe, unicast
            "0800" + "0500" + "0a580001" +   // RTA_GATEWAY
            "0800" + "0400" + "04000000",    // RTA_OIF
            Hex(b.Span));
    }

    [Fact]
    public void RouteWithoutGatewayIsLinkScopeAndMetricsAreNested()
    {
        var b = new NetlinkMessageBuilder();
        var route = new RouteSpec(new CidrAddress(IPAddress.Parse("192.168.0.0"), 16), null, Mtu: 1400, Priority: 10);
        RouteRequests.NewRoute(b, 2, route);
        string h = Hex(b.Span);
        Assert.Equal("fd", h.Substring(32 + 12, 2));                 // RT_SCOPE_LINK
        Assert.Contains("0800" + "0100" + "c0a80000", h);             // RTA_DST
        Assert.Contains("0800" + "0600" + "0a000000", h);             // RTA_PRIORITY
        Assert.Contains("0c00" + "0880" + "0800" + "0200" + "78050000", h); // RTA_METRICS { RTAX_MTU }
    }

    [Fact]
    public void BridgePortFlagsUseAfBridgeProtinfo()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.SetBridgePort(b, 9, hairpin: true, isolated: false);
        Assert.Equal(
            "34000000" + "1300" + "0500" + "00000000" + "00000000" +
            "07" + "00" + "0000" + "09000000" + "00000000" + "00000000" +
            "1400" + "0c80" + "0500" + "0400" + "01000000" + "0500" + "2100" + "00000000",
            Hex(b.Span));
    }

    [Fact]
    public void ArpNotifyGoesThroughAfSpecInetConf()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.SetLink(b, 2, new LinkChange(Up: true, ArpNotify: true));
        string h = Hex(b.Span);
        Assert.Contains("01000000" + "01000000", h); // flags/change IFF_UP
        Assert.Contains("1400" + "1a80" + "1000" + "0280" + "0c00" + "0180" + "0800" + "1600" + "01000000", h);
    }

    [Fact]
    public void LinkInfoParsesWhatTheKernelSends()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(Rtnl.RTM_NEWLINK, 0)
         .Struct(new IfInfoMsg { Index = 12, Flags = Rtnl.IFF_UP | Rtnl.IFF_LOWER_UP })
         .String(Rtnl.IFLA_IFNAME, "veth0a0b0c0d")
         .Attr(Rtnl.IFLA_ADDRESS, new byte[] { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 })
         .U32(Rtnl.IFLA_MTU, 1500).U32(Rtnl.IFLA_MASTER, 3).U32(Rtnl.IFLA_LINK, 2).U8(Rtnl.IFLA_OPERSTATE, 6)
         .String(Rtnl.IFLA_IFALIAS, "cniveth net c1 eth0").U32(Rtnl.IFLA_GROUP, 0x10005)
         .BeginNested(Rtnl.IFLA_LINKINFO).String(Rtnl.IFLA_INFO_KIND, "veth").EndNested().EndMessage();
        LinkInfo l = LinkInfo.Parse(b.Span);
        Assert.Equal(12, l.Index);
        Assert.Equal("veth0a0b0c0d", l.Name);
        Assert.Equal("veth", l.Kind);
        Assert.Equal("02:42:ac:11:00:02", l.MacString);
        Assert.Equal(3, l.MasterIndex);
        Assert.Equal(2, l.LinkIndex);
        Assert.Equal(Rtnl.IF_OPER_UP, l.OperState);
        Assert.True(l.IsUp);
        Assert.Equal("cniveth net c1 eth0", l.Alias);
        Assert.Equal(0x10005u, l.Group);
    }

    [Fact]
    public void AddressAndRouteInfoParse()
    {
        var b = new NetlinkMessageBuilder();
        b.BeginMessage(Rtnl.RTM_NEWADDR, 0).Struct(new IfAddrMsg { Family = Rtnl.AF_INET, PrefixLen = 24, Index = 4 })
         .Attr(Rtnl.IFA_LOCAL, new byte[] { 10, 1, 2, 3 }).U32(Rtnl.IFA_FLAGS, Rtnl.IFA_F_PERMANENT).EndMessage();
        AddressInfo a = AddressInfo.Parse(b.Span);
        Assert.Equal("10.1.2.3/24", a.Address.ToString());
        Assert.Equal(4, a.Index);

        b.Clear();
        b.BeginMessage(Rtnl.RTM_NEWROUTE, 0).Struct(new RtMsg { Family = Rtnl.AF_INET, DstLen = 0, Table = 254 })
         .Attr(Rtnl.RTA_GATEWAY, new byte[] { 10, 1, 2, 1 }).U32(Rtnl.RTA_OIF, 4).EndMessage();
        RouteInfo r = RouteInfo.Parse(b.Span);
        Assert.Equal("0.0.0.0/0", r.Dst.ToString());
        Assert.Equal("10.1.2.1", r.Gateway!.ToString());
        Assert.Equal(4, r.Oif);
    }

    [Fact]
    public void ForwardingIsReadWithOneGetNetconfForAllInterfaces()
    {
        var b = new NetlinkMessageBuilder();
        RouteRequests.GetNetconfAll(b, Rtnl.AF_INET);
        Assert.Equal(
            "1c000000" + "5200" + "0100" + "00000000" + "00000000" +   // RTM_GETNETCONF, REQUEST (no ACK: the reply answers)
            "02000000" +                                                // netconfmsg: AF_INET, padded to 4
            "0800" + "0100" + "ffffffff",                               // NETCONFA_IFINDEX = NETCONFA_IFINDEX_ALL
            Hex(b.Span));
    }

    [Theory]
    // RTM_NEWNETCONF replies as a 6.18 kernel sent them (AF_INET with ip_forward 1, AF_INET6 with forwarding 0)
    [InlineData("4c0000005000000007000000c67700000200000008000100ffffffff080002000100000008000300000000000800040000000000080008000000000008000500000000000800060000000000", 1)]
    [InlineData("3c0000005000000007000000c67700000a00000008000100ffffffff0800020000000000080004000000000008000500000000000800060000000000", 0)]
    // without NETCONFA_FORWARDING: unknown, not off
    [InlineData("1c0000005000000007000000c67700000200000008000100ffffffff", null)]
    public void NetconfReplyGivesTheForwardingSwitch(string reply, int? forwarding)
    {
        NetconfInfo n = NetconfInfo.Parse(Convert.FromHexString(reply));
        Assert.Equal(-1, n.Index);
        Assert.Equal(forwarding, n.Forwarding);
    }

    [Fact]
    public void TruncatedNetconfReplyIsANetlinkError() =>
        Assert.Throws<NetlinkException>(() => NetconfInfo.Parse(Convert.FromHexString("1000000050000000070000000000000002")));
}
