using System.Net;
using System.Text;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.UnitTests.Cni;

public class RequestedValuesTests
{
    private static CniRequest Request(string fields, string cniArgs = "") => new()
    {
        Env = new CniEnvironment { Command = "ADD", Args = cniArgs },
        Conf = NetConfReader.Parse(Encoding.UTF8.GetBytes($$"""{"cniVersion":"1.1.0","name":"n"{{(fields.Length > 0 ? "," + fields : "")}}}""")),
        RawConfig = [],
        Version = "1.1.0",
        Args = CniArgs.Parse(cniArgs),
    };

    [Fact]
    public void NoMacRequested() => Assert.Null(Request("").Mac);

    [Fact]
    public void MacPrecedenceRuntimeConfigOverArgsOverCniArgs()
    {
        Assert.Equal("c2:00:00:00:00:01", Request("", "MAC=C2-00-00-00-00-01").Mac);
        Assert.Equal("c2:00:00:00:00:02", Request("\"args\":{\"cni\":{\"mac\":\"c2:00:00:00:00:02\"}}", "MAC=c2:00:00:00:00:01").Mac);
        Assert.Equal("c2:00:00:00:00:03", Request("\"args\":{\"cni\":{\"mac\":\"c2:00:00:00:00:02\"}},\"runtimeConfig\":{\"mac\":\"c2:00:00:00:00:03\"}", "MAC=c2:00:00:00:00:01").Mac);
    }

    [Theory]
    [InlineData("\"runtimeConfig\":{\"mac\":\"zz:00:00:00:00:01\"}", "", "runtimeConfig.mac")]
    [InlineData("\"args\":{\"cni\":{\"mac\":\"c2:00:00:00:00\"}}", "", "args.cni.mac")]
    [InlineData("", "MAC=c2:00:00:00:00:01:02", "CNI_ARGS MAC")]
    [InlineData("", "MAC=01:00:5e:00:00:01", "CNI_ARGS MAC")]
    [InlineData("", "MAC=00:00:00:00:00:00", "CNI_ARGS MAC")]
    [InlineData("", "MAC=c2:00:00-00:00:01", "CNI_ARGS MAC")]
    public void InvalidMacIsCode7NamingItsSource(string fields, string cniArgs, string source)
    {
        var request = Request(fields, cniArgs);
        var e = Assert.Throws<CniException>(() => request.Mac);
        Assert.Equal(7, e.Code);
        Assert.Contains($"in {source}", e.Message);
    }

    [Fact]
    public void MacBytes()
    {
        Assert.True(MacAddress.TryParse("c2:11:22:33:44:55", out byte[] mac, out _));
        Assert.Equal(new byte[] { 0xc2, 0x11, 0x22, 0x33, 0x44, 0x55 }, mac);
    }

    [Fact]
    public void IpsMergeRuntimeConfigThenArgsAndIgnorePrefixes()
    {
        var ips = Request("\"runtimeConfig\":{\"ips\":[\"10.0.0.5/24\",\"fd00::5\"]},\"args\":{\"cni\":{\"ips\":[\"10.0.0.6\",\"10.0.0.5\"]}}", "IP=10.0.0.9").RequestedIps;
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("fd00::5"), IPAddress.Parse("10.0.0.6")], ips);
    }

    [Fact]
    public void CniArgsIpUsedWhenArgsHaveNone()
    {
        var ips = Request("\"runtimeConfig\":{\"ips\":[\"10.0.0.5\"]}", "IP=10.0.0.9/24, 10.0.0.10").RequestedIps;
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.9"), IPAddress.Parse("10.0.0.10")], ips);
    }

    [Fact]
    public void NoIpsRequested() => Assert.Empty(Request("").RequestedIps);

    [Theory]
    [InlineData("\"runtimeConfig\":{\"ips\":[\"10.0.0\"]}", "", "invalid IP address \"10.0.0\" in runtimeConfig.ips")]
    [InlineData("\"args\":{\"cni\":{\"ips\":[\"x\"]}}", "", "invalid IP address \"x\" in args.cni.ips")]
    [InlineData("", "IP=10.0.0.1/99", "invalid IP address \"10.0.0.1/99\" in CNI_ARGS IP")]
    public void InvalidIpIsCode7NamingItsSource(string fields, string cniArgs, string message)
    {
        var request = Request(fields, cniArgs);
        var e = Assert.Throws<CniException>(() => request.RequestedIps);
        Assert.Equal(7, e.Code);
        Assert.Equal(message, e.Message);
    }
}
