using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.UnitTests.Values;

public class IpTextTests
{
    [Theory]
    [InlineData("10.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::", true)]
    [InlineData("10.1", false)]           // IPAddress.TryParse would say 10.0.0.1
    [InlineData("010.0.0.1", false)]      // octal ambiguity, Go rejects
    [InlineData("10.0.0.256", false)]
    [InlineData("10.0.0.1 ", false)]
    [InlineData("fe80::1%2", false)]
    [InlineData("", false)]
    [InlineData("1", false)]
    [InlineData("1.2.3.4.5", false)]
    [InlineData("1..2.3", false)]
    [InlineData("1.2.3.", false)]
    [InlineData("+1.2.3.4", false)]
    public void StrictIp(string text, bool ok) => Assert.Equal(ok, IpText.TryParseIp(text, out _));

    [Theory]
    [InlineData("10.0.0.5/24", true)]
    [InlineData("10.0.0.5/0", true)]
    [InlineData("10.0.0.5/32", true)]
    [InlineData("fd00::5/128", true)]
    [InlineData("10.0.0.5/33", false)]
    [InlineData("10.0.0.5/024", false)]
    [InlineData("10.0.0.5/", false)]
    [InlineData("/24", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("10.0.0.5/-1", false)]
    [InlineData("fd00::5/129", false)]
    [InlineData("10.0.0.5/+24", false)]   // int.TryParse would take these
    [InlineData("10.0.0.5/ 24", false)]
    [InlineData("10.0.0.5/24 ", false)]
    public void StrictCidr(string text, bool ok) => Assert.Equal(ok, CidrAddress.TryParse(text, out _));

    [Fact]
    public void CidrKeepsHostBits()
    {
        Assert.True(CidrAddress.TryParse("10.88.0.5/24", out var c));
        Assert.Equal("10.88.0.5/24", c.ToString());
        Assert.True(c.IsIPv4);
    }
}
