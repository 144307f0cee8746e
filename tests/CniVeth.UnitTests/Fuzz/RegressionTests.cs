using System.Text;
using CniVeth.Cni;
using CniVeth.Ipam.Allocation;
using CniVeth.Ipam.Config;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using CniVeth.UnitTests.Cni;
using CniVeth.UnitTests.Skel;

namespace CniVeth.UnitTests.Fuzz;

/// <summary>The bugs the reliability suites found, pinned at unit level.</summary>
public class RegressionTests
{
    [Theory]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("010.98.0.0/24")]
    [InlineData("10.98/16")]
    public void SubnetInInetAtonFormIsRejected(string subnet)
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse(subnet, null, null, null));
        Assert.Equal(ErrorCode.InvalidNetworkConfig, e.Code);
    }

    [Theory]
    [InlineData("10.98.0.0/24", "fd00::1")]
    [InlineData("fd00:98::/64", "10.98.0.1")]
    public void GatewayOfTheOtherFamilyIsRejected(string subnet, string gateway)
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse(subnet, null, null, gateway));
        Assert.Contains("address family", e.Message);
    }

    [Fact]
    public void RouteGatewayOfTheOtherFamilyOrInShortFormIsRejected()
    {
        Assert.Throws<CniException>(() => RouteParser.Parse([new RouteConf { Dst = "0.0.0.0/0", Gw = "fd00::1" }]));
        Assert.Throws<CniException>(() => RouteParser.Parse([new RouteConf { Dst = "0.0.0.0/0", Gw = "10.1" }]));
        Assert.Throws<CniException>(() => RouteParser.Parse([new RouteConf { Dst = "0x0a.0.0.0/8" }]));
    }

    [Fact]
    public void DataDirWithNulIsRejected()
    {
        var conf = new NetConf { Name = "n", Ipam = new IpamConf { Type = "host-local", DataDir = "/tmp\0/x" } };
        var e = Assert.Throws<CniException>(() => StoreLocation.FromConf(conf));
        Assert.Equal(ErrorCode.InvalidNetworkConfig, e.Code);
    }

    [Fact]
    public void VersionWithInvalidUtf8CniVersionAnswersLatest()
    {
        byte[] stdin = [.. "{\"cniVersion\":\""u8.ToArray(), 0xff, 0xfe, .. "\"}"u8.ToArray()];
        var run = HostHarness.Run(new FakePlugin(), new Dictionary<string, string> { ["CNI_COMMAND"] = "VERSION" }, stdin);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\"1.1.0\"", run.Stdout);
    }

    [Fact]
    public void PrevResultWithInvalidUtf8IsADecodeError()
    {
        byte[] stdin = [.. Encoding.UTF8.GetBytes("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"cniveth\",\"prevResult\":{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\""),
            0xff, .. "\"}]}}"u8.ToArray()];
        var run = HostHarness.Run(new FakePlugin(), HostHarness.Env("CHECK"), stdin);
        Assert.Equal(ErrorCode.DecodeFailure, run.Code);
        Assert.Contains("UTF-8", run.Msg);
    }

    [Fact]
    public void TruncatedNetlinkRepliesAreNetlinkExceptions()
    {
        byte[] shortLink = new byte[20];
        BitConverter.TryWriteBytes(shortLink, 20);
        Assert.Throws<NetlinkException>(() => LinkInfo.Parse(shortLink));
        Assert.Throws<NetlinkException>(() => RouteInfo.Parse(shortLink[..16]));
        Assert.Throws<NetlinkException>(() => NetlinkSocket.ParseError(shortLink[..17]));
    }
}
