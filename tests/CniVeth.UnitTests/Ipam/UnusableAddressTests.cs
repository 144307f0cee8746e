using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam.Allocation;

namespace CniVeth.UnitTests.Ipam;

/// <summary>
/// Property: no container is ever given an address no container can use (unspecified, loopback, multicast,
/// reserved, IPv4-mapped): a range made only of them is a config error (code 7), and inside a larger range
/// they are skipped — in whole blocks, so a huge range costs no more than a small one.
/// </summary>
public class UnusableAddressTests
{
    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("::/0")]
    public void ASlashZeroSubnetIsAConfigError(string subnet)
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse(subnet, null, null, null));
        Assert.Equal(7, e.Code);
        Assert.Contains("/0", e.Message);
    }

    [Theory]
    [InlineData("0.0.0.0/8", null, null)]
    [InlineData("127.0.0.0/8", null, null)]
    [InlineData("127.0.0.0/30", null, null)]
    [InlineData("224.0.0.0/4", null, null)]
    [InlineData("240.0.0.0/4", null, null)]
    [InlineData("255.255.255.252/30", null, null)]
    [InlineData("192.0.0.0/2", "224.0.0.1", "255.255.255.254")]
    [InlineData("ff00::/8", null, null)]
    [InlineData("ff02::/64", null, null)]
    [InlineData("::/126", null, "::1")]
    public void ARangeWithOnlyUnusableAddressesIsAConfigError(string subnet, string? start, string? end)
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse(subnet, start, end, null));
        Assert.Equal(7, e.Code);
        Assert.Contains("no usable address", e.Message);
    }

    private static string[] Walk(string subnet, string? start = null, string? end = null, string? last = null, int take = 6) =>
        RangeIterator.Candidates(new RangeSet([IpRange.Parse(subnet, start, end, null)]), last is null ? null : IPAddress.Parse(last))
            .Take(take).Select(c => c.Address.ToString()).ToArray();

    [Fact]
    public void LoopbackInsideALargerRangeIsSkipped() =>
        Assert.Equal(["126.255.255.253", "126.255.255.254", "126.255.255.255"], Walk("126.0.0.0/7", "126.255.255.253"));

    [Fact]
    public void ThisNetworkBlockAtTheStartOfARangeIsSkippedInOneStep()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(["1.0.0.0", "1.0.0.1"], Walk("0.0.0.0/1", take: 2));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void MulticastAndReservedAtTheEndOfARangeWrapToItsStart() =>
        Assert.Equal(["223.255.255.255", "192.0.0.2", "192.0.0.3"], Walk("192.0.0.0/2", last: "223.255.255.254", take: 3));

    [Fact]
    public void Ipv6LoopbackAndMappedAddressesAreSkipped()
    {
        Assert.Equal(["::2", "::3"], Walk("::/64", "::", "::3"));
        Assert.Equal(["::fffe:ffff:ffff", "::1:0:0:0"], Walk("::/64", "::fffe:ffff:ffff", "::1:0:0:0"));
    }

    [Fact]
    public void ARequestedUnusableAddressIsAConfigError()
    {
        using var f = new IpamFixture();
        string conf = f.SimpleConf("126.0.0.0/7");
        var e = Assert.Throws<CniException>(() => f.Ipam.Add(IpamFixture.Request(conf, cniArgsIp: "127.0.0.1")));
        Assert.Equal(7, e.Code);
        Assert.Contains("127.0.0.1", e.Message);
    }
}
