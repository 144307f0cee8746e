using CniVeth.Cni;
using CniVeth.Ipam.Allocation;

namespace CniVeth.UnitTests.Ipam;

public class IpRangeTests
{
    [Fact]
    public void Ipv4DefaultsSkipNetworkAndBroadcast()
    {
        var r = IpRange.Parse("10.1.2.0/24", null, null, null);
        Assert.Equal("10.1.2.1", r.Start.ToString());
        Assert.Equal("10.1.2.254", r.End.ToString());
        Assert.Equal("10.1.2.1", r.Gateway.ToString());
        Assert.Equal("10.1.2.1-10.1.2.254", r.ToString());
    }

    [Fact]
    public void Ipv6DefaultsEndAtLastAddress()
    {
        var r = IpRange.Parse("2001:db8:1::/64", null, null, null);
        Assert.Equal("2001:db8:1::1", r.Start.ToString());
        Assert.Equal("2001:db8:1:0:ffff:ffff:ffff:ffff", r.End.ToString());
        Assert.Equal("2001:db8:1::1", r.Gateway.ToString());
    }

    [Fact]
    public void SmallestV4SubnetHasTwoHosts()
    {
        var r = IpRange.Parse("10.0.0.0/30", null, null, null);
        Assert.Equal("10.0.0.1-10.0.0.2", r.ToString());
    }

    [Theory]
    [InlineData("10.1.2.0/31")]
    [InlineData("10.1.2.1/32")]
    [InlineData("2001:db8::/127")]
    [InlineData("2001:db8::/128")]
    public void TooSmall(string subnet)
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse(subnet, null, null, null));
        Assert.Equal(7, e.Code);
        Assert.Contains("too small to allocate from", e.Message);
    }

    [Fact]
    public void HostBitsSet()
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse("10.1.2.5/24", null, null, null));
        Assert.Equal("Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0", e.Message);
    }

    [Fact]
    public void StartOutsideSubnet()
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse("10.1.2.0/24", "10.1.3.1", null, null));
        Assert.Equal("RangeStart 10.1.3.1 not in network 10.1.2.0/24", e.Message);
    }

    [Fact]
    public void EndOutsideSubnet()
    {
        var e = Assert.Throws<CniException>(() => IpRange.Parse("10.1.2.0/24", null, "10.1.1.9", null));
        Assert.Equal("RangeEnd 10.1.1.9 not in network 10.1.2.0/24", e.Message);
    }

    [Fact]
    public void StartAfterEndIsRejected() =>
        Assert.Throws<CniException>(() => IpRange.Parse("10.1.2.0/24", "10.1.2.50", "10.1.2.40", null));

    [Theory]
    [InlineData("garbage")]
    [InlineData("10.1.2.0")]
    [InlineData("10.1.2.0/33")]
    public void InvalidCidr(string subnet) =>
        Assert.Equal(7, Assert.Throws<CniException>(() => IpRange.Parse(subnet, null, null, null)).Code);

    [Fact]
    public void ContainsHonoursStartAndEnd()
    {
        var r = IpRange.Parse("10.1.2.0/24", "10.1.2.10", "10.1.2.20", null);
        Assert.True(r.Contains(System.Net.IPAddress.Parse("10.1.2.10")));
        Assert.True(r.Contains(System.Net.IPAddress.Parse("10.1.2.20")));
        Assert.False(r.Contains(System.Net.IPAddress.Parse("10.1.2.21")));
        Assert.False(r.Contains(System.Net.IPAddress.Parse("2001:db8::1")));
    }

    [Theory]
    [InlineData("10.0.0.0/24", null, null, "10.0.0.0/24", null, null, true)]
    [InlineData("10.0.0.0/24", "10.0.0.1", "10.0.0.100", "10.0.0.0/24", "10.0.0.101", null, false)]
    [InlineData("10.0.0.0/16", null, null, "10.0.5.0/24", null, null, true)]
    [InlineData("10.0.0.0/24", null, null, "10.0.1.0/24", null, null, false)]
    public void Overlaps(string s1, string? a1, string? b1, string s2, string? a2, string? b2, bool expected) =>
        Assert.Equal(expected, IpRange.Parse(s1, a1, b1, null).Overlaps(IpRange.Parse(s2, a2, b2, null)));

    [Fact]
    public void RangeSetRejectsMixedFamilies()
    {
        var e = Assert.Throws<CniException>(() => new RangeSet([
            IpRange.Parse("10.0.0.0/24", null, null, null), IpRange.Parse("2001:db8::/64", null, null, null)]));
        Assert.Equal("mixed address families", e.Message);
    }

    [Fact]
    public void RangeSetRejectsOverlap()
    {
        var e = Assert.Throws<CniException>(() => new RangeSet([
            IpRange.Parse("10.0.0.0/24", null, null, null), IpRange.Parse("10.0.0.0/25", null, null, null)]));
        Assert.StartsWith("subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.126 overlap", e.Message);
    }
}
