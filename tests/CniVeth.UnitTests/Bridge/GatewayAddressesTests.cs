using System.Net;
using CniVeth.Bridge;
using CniVeth.Values;

namespace CniVeth.UnitTests.Bridge;

/// <summary>The reference's rule for addresses already on a bridge that gets a gateway.</summary>
public class GatewayAddressesTests
{
    private static CidrAddress C(string s) => CidrAddress.TryParse(s, out var c) ? c : throw new ArgumentException(s);

    [Fact]
    public void AnyOtherIpv4AddressConflicts() =>
        Assert.Equal([C("192.168.7.1/24")], GatewayAddresses.Conflicts([C("10.88.0.1/16")], [C("10.88.0.1/16"), C("192.168.7.1/24")]));

    [Fact]
    public void Ipv6ConflictsOnlyWhenPrefixesOverlapAndNeverLinkLocal()
    {
        var ours = new[] { C("fd00:88::1/64") };
        Assert.Equal([C("fd00:88::2/64")], GatewayAddresses.Conflicts(ours, [C("fd00:88::2/64"), C("fd00:99::1/64"), C("fe80::1/64")]));
        Assert.Equal([C("fd00::1/16")], GatewayAddresses.Conflicts(ours, [C("fd00::1/16")])); // contains ours
    }

    [Fact]
    public void AFamilyWeDoNotServeIsLeftAlone() =>
        Assert.Empty(GatewayAddresses.Conflicts([C("10.88.0.1/16")], [C("fd00:88::2/64")]));
}
