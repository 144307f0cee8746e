using System.Net;
using CniVeth.Values;

namespace CniVeth.UnitTests.Values;

/// <summary>One parser each for MAC, CNI names and "network + 1"; hashing that names host objects.</summary>
public class ValueParsingTests
{
    [Theory]
    [InlineData("c2:11:22:33:44:55", "c2:11:22:33:44:55")]
    [InlineData("C2-11-22-33-44-55", "c2:11:22:33:44:55")]
    public void MacsAreNormalized(string text, string normalized)
    {
        Assert.True(MacAddress.TryNormalize(text, out string n, out _));
        Assert.Equal(normalized, n);
    }

    [Theory]
    [InlineData("c3:11:22:33:44:55", "multicast")]
    [InlineData("00:00:00:00:00:00", "all-zero")]
    [InlineData("c2:11:22:33:44", "six hex octets")]
    [InlineData("c2:11-22:33:44:55", "six hex octets")]
    [InlineData("g2:11:22:33:44:55", "six hex octets")]
    public void BadMacsSayWhy(string text, string problem)
    {
        Assert.False(MacAddress.TryParse(text, out _, out string why));
        Assert.Contains(problem, why);
    }

    [Fact]
    public void MacFormatting() => Assert.Equal("02:0a:ff:00:10:01", MacAddress.Format([0x02, 0x0a, 0xff, 0x00, 0x10, 0x01]));

    [Theory]
    [InlineData("a", true)]
    [InlineData("net-1_x.y", true)]
    [InlineData("0abc", true)]
    [InlineData("", false)]
    [InlineData("-a", false)]
    [InlineData(".a", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a\n", false)]
    [InlineData("é", false)]
    public void CniNames(string name, bool valid) => Assert.Equal(valid, CniName.IsValid(name));

    [Theory]
    [InlineData("10.88.0.5", 16, "10.88.0.1")]
    [InlineData("10.88.7.0", 24, "10.88.7.1")]
    [InlineData("fd00:88::5", 64, "fd00:88::1")]
    public void FirstHostIsNetworkPlusOne(string address, int prefix, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), IpMath.FirstHost(new CidrAddress(IPAddress.Parse(address), prefix)));

    [Fact]
    public void SubnetClearsHostBits() =>
        Assert.Equal("10.88.0.0/16", new CidrAddress(IPAddress.Parse("10.88.3.4"), 16).Subnet.ToString());

    [Fact]
    public void Fnv128MatchesTheReferenceVectors()
    {
        Assert.NotEqual(StableHash.Hex32("a"), StableHash.Hex32("b"));
        Assert.Equal("6c62272e07bb014262b821756295c58d", StableHash.Hex32("")); // FNV-1a 128 offset basis
        Assert.Equal("d228cb696f1a8caf78912b704e4a8964", StableHash.Hex32("a"));
    }
}
