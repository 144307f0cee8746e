using System.Net;
using CniVeth.Ipam.Allocation;

namespace CniVeth.UnitTests.Ipam;

public class RangeIteratorTests
{
    private static RangeSet Set(params (string Subnet, string? Start, string? End)[] ranges) =>
        new(ranges.Select(r => IpRange.Parse(r.Subnet, r.Start, r.End, null)).ToList());

    private static string[] Walk(RangeSet set, string? last) =>
        RangeIterator.Candidates(set, last is null ? null : IPAddress.Parse(last)).Select(c => c.Address.ToString()).ToArray();

    [Fact]
    public void NoLastReservedStartsAtFirstRangeStartSkippingGateway()
    {
        var all = Walk(Set(("10.0.0.0/29", null, null)), null);
        Assert.Equal(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"], all);
    }

    [Fact]
    public void StartsAfterLastReservedAndWraps()
    {
        var all = Walk(Set(("10.0.0.0/29", null, null)), "10.0.0.4");
        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3", "10.0.0.4"], all);
    }

    [Fact]
    public void LastReservedAtEndOfOneRangeContinuesInTheNext()
    {
        var set = Set(("10.0.0.0/29", null, null), ("10.0.1.0/29", null, null));
        var all = Walk(set, "10.0.0.6");
        Assert.Equal("10.0.1.2", all[0]);
        Assert.Equal(10, all.Length);
        Assert.Equal("10.0.0.6", all[^1]);
    }

    [Fact]
    public void WrapsAcrossRangesCyclically()
    {
        var set = Set(("10.0.0.0/29", null, null), ("10.0.1.0/29", null, null));
        var all = Walk(set, "10.0.1.3");
        Assert.Equal(["10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.1.2", "10.0.1.3"], all);
    }

    [Fact]
    public void LastReservedOutsideTheSetStartsAtTheBeginning() =>
        Assert.Equal("10.0.0.2", Walk(Set(("10.0.0.0/29", null, null)), "192.168.0.9")[0]);

    [Fact]
    public void NeverYieldsNetworkGatewayOrBroadcastEvenWithExplicitBounds()
    {
        var set = new RangeSet([IpRange.Parse("10.0.0.0/29", "10.0.0.0", "10.0.0.7", "10.0.0.3")]);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"], Walk(set, null));
    }

    [Fact]
    public void Ipv6LastAddressIsUsable()
    {
        var set = new RangeSet([IpRange.Parse("2001:db8::/126", null, null, null)]);
        Assert.Equal(["2001:db8::2", "2001:db8::3"], Walk(set, null));
    }

    [Fact]
    public void EveryAddressExactlyOnceInALargeRange()
    {
        var all = Walk(Set(("10.0.0.0/22", null, null)), "10.0.2.77");
        Assert.Equal(1021, all.Length); // 1024 - network - broadcast - gateway
        Assert.Equal(all.Length, all.Distinct().Count());
    }
}
