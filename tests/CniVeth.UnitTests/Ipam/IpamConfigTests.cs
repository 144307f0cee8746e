using CniVeth.Cni;
using CniVeth.Ipam.Config;

namespace CniVeth.UnitTests.Ipam;

public class IpamConfigTests : IDisposable
{
    private readonly IpamFixture _f = new();
    public void Dispose() => _f.Dispose();

    private IpamConfig Load(string json, string? cniArgsIp = null) =>
        IpamConfig.FromRequest(IpamFixture.Request(json, cniArgsIp: cniArgsIp));

    private CniException Fails(string json, string? cniArgsIp = null)
    {
        var e = Assert.Throws<CniException>(() => Load(json, cniArgsIp));
        Assert.Equal(7, e.Code);
        return e;
    }

    [Fact]
    public void OrderIsRuntimeRangesThenLegacyThenRanges()
    {
        var c = Load(_f.Conf("""
            "subnet":"10.2.0.0/24","ranges":[[{"subnet":"10.3.0.0/24"}]]
            """, extra: """
            "runtimeConfig":{"ipRanges":[[{"subnet":"10.1.0.0/24"}]]},
            """));
        Assert.Equal(["10.1.0.1-10.1.0.254", "10.2.0.1-10.2.0.254", "10.3.0.1-10.3.0.254"],
            c.RangeSets.Select(s => s.ToString()));
    }

    [Fact]
    public void LegacyFieldsAreHonoured()
    {
        var c = Load(_f.Conf("""
            "subnet":"10.2.0.0/24","rangeStart":"10.2.0.10","rangeEnd":"10.2.0.20","gateway":"10.2.0.254"
            """));
        var r = c.RangeSets[0].Ranges[0];
        Assert.Equal("10.2.0.10-10.2.0.20", r.ToString());
        Assert.Equal("10.2.0.254", r.Gateway.ToString());
    }

    [Fact]
    public void DefaultsDataDir()
    {
        var c = IpamConfig.FromRequest(IpamFixture.Request("""
            {"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local","subnet":"10.0.0.0/24"}}
            """));
        Assert.Equal("/var/lib/cni/networks/n", c.Location.NetworkDir);
    }

    [Fact]
    public void NoRanges() => Assert.Equal("no IP ranges specified", Fails(_f.Conf("\"routes\":[]")).Message);

    [Fact]
    public void InvalidRangeIsNamedBySetIndex() =>
        Assert.StartsWith("invalid range set 1: Network has host bits set", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.9/24"}]]
            """)).Message);

    [Fact]
    public void OverlapBetweenSets() =>
        Assert.Equal("range set 0 overlaps with 1", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/16"}],[{"subnet":"10.1.2.0/24"}]]
            """)).Message);

    [Fact]
    public void OverlapWithinSet() =>
        Assert.Contains("overlap", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/16"},{"subnet":"10.1.2.0/24"}]]
            """)).Message);

    [Fact]
    public void MixedFamiliesInSet() =>
        Assert.Equal("invalid range set 0: mixed address families", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/16"},{"subnet":"2001:db8::/64"}]]
            """)).Message);

    [Fact]
    public void TooManyRangesForOldVersion() =>
        Assert.Equal("CNI version 0.2.0 does not support more than 1 address per family", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.0/24"}]]
            """, version: "0.2.0")).Message);

    [Fact]
    public void OneOfEachFamilyIsFineForOldVersion() =>
        Assert.Equal(2, Load(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"2001:db8::/64"}]]
            """, version: "0.2.0")).RangeSets.Count);

    [Fact]
    public void RelativeDataDir()
    {
        var e = Fails("""{"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local","subnet":"10.0.0.0/24","dataDir":"var/x"}}""");
        Assert.Contains("absolute", e.Message);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void BadNetworkName(string name)
    {
        var e = Fails($$"""{"cniVersion":"1.0.0","name":"{{name}}","ipam":{"type":"host-local","subnet":"10.0.0.0/24"} }""");
        Assert.Contains("name", e.Message);
    }

    [Fact]
    public void RequestedIpAssignedToItsSetPrefixIgnored()
    {
        var c = Load(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"2001:db8::/64"}]]
            """, extra: """
            "args":{"cni":{"ips":["2001:db8::99/64","10.1.0.9"]}},
            """));
        Assert.Equal("10.1.0.9", c.Requested[0]!.ToString());
        Assert.Equal("2001:db8::99", c.Requested[1]!.ToString());
    }

    [Fact]
    public void CniArgsIpUsedWithoutArgsIps() =>
        Assert.Equal("10.1.0.7", Load(_f.SimpleConf("10.1.0.0/24"), cniArgsIp: "10.1.0.7/24").Requested[0]!.ToString());

    [Fact]
    public void ArgsIpsWinOverCniArgsAndRuntimeIpsAreAdded()
    {
        var c = Load(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.0/24"}]]
            """, extra: """
            "args":{"cni":{"ips":["10.2.0.5"]}},"runtimeConfig":{"ips":["10.1.0.5"]},
            """), cniArgsIp: "10.1.0.99");
        Assert.Equal(["10.1.0.5", "10.2.0.5"], c.Requested.Select(a => a!.ToString()));
    }

    [Fact]
    public void RequestedIpOutsideRanges() =>
        Assert.Equal("failed to allocate all requested IPs: 10.9.0.5",
            Fails(_f.SimpleConf("10.1.0.0/24"), cniArgsIp: "10.9.0.5").Message);

    [Fact]
    public void TwoRequestedIpsInOneSet() =>
        Assert.Equal("failed to allocate all requested IPs: 10.1.0.6", Fails(_f.Conf("""
            "ranges":[[{"subnet":"10.1.0.0/24"}]]
            """, extra: """
            "runtimeConfig":{"ips":["10.1.0.5","10.1.0.6"]},
            """)).Message);

    [Fact]
    public void RequestedGateway() =>
        Assert.Equal("requested ip 10.1.0.1 is subnet's gateway",
            Fails(_f.SimpleConf("10.1.0.0/24"), cniArgsIp: "10.1.0.1").Message);

    [Fact]
    public void UnparsableRequestedIp() => Fails(_f.SimpleConf("10.1.0.0/24"), cniArgsIp: "nope");

    [Fact]
    public void RoutesAreParsed()
    {
        var c = Load(_f.Conf("""
            "subnet":"10.1.0.0/24","routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.1.0.254"}]
            """));
        Assert.Equal("0.0.0.0/0", c.Routes[0].Dst.ToString());
        Assert.Null(c.Routes[0].Gw);
        Assert.Equal("10.1.0.254", c.Routes[1].Gw!.ToString());
    }

    [Fact]
    public void BadRoute() => Fails(_f.Conf("\"subnet\":\"10.1.0.0/24\",\"routes\":[{\"dst\":\"x\"}]"));
}
