using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

public class ResultParserTests
{
    private static Result Parse(string json, string requestVersion = "1.1.0") =>
        ResultParser.Parse(RawJson.Of(System.Text.Encoding.UTF8.GetBytes(json)), requestVersion);

    private static CniException Fails(string json, string requestVersion = "1.1.0") =>
        Assert.Throws<CniException>(() => Parse(json, requestVersion));

    [Theory]
    [InlineData("1.1.0")]
    [InlineData("1.0.0")]
    [InlineData("0.4.0")]
    [InlineData("0.3.1")]
    [InlineData("0.3.0")]
    [InlineData("0.2.0")]
    [InlineData("0.1.0")]
    public void RoundTripsEveryVersionsOwnOutput(string version)
    {
        string written = System.Text.Encoding.UTF8.GetString(ResultWriter.ToJson(SampleResults.Full(), version));
        var parsed = Parse(written, requestVersion: "1.1.0"); // the result's own cniVersion decides the shape
        Assert.Equal(written, System.Text.Encoding.UTF8.GetString(ResultWriter.ToJson(parsed, version)));
    }

    [Fact]
    public void OwnVersionDecidesTheShapeWhereverItStands()
    {
        var r = Parse("""{"ip4":{"ip":"10.1.0.5/16","routes":[{"dst":"0.0.0.0/0"}]}, "cniVersion" : "0.2.0"}""", requestVersion: "1.1.0");
        Assert.Equal("10.1.0.5/16", Assert.Single(r.Ips).Address.ToString());
        Assert.Single(r.Routes);
    }

    [Fact]
    public void RepeatedKeyLastOneCountsAsInGo()
    {
        var r = Parse("""{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8"}],"ips":[{"address":"10.0.0.2/8","address":"10.0.0.3/8"}]}""");
        Assert.Equal("10.0.0.3/8", Assert.Single(r.Ips).Address.ToString());
    }

    [Fact]
    public void EscapedKeysAndStringsAreDecoded()
    {
        var r = Parse("""{"cniVersion":"1.0.0","interfaces":[{"n\u0061me":"eth\u0030"}],"ips":[]}""");
        Assert.Equal("eth0", Assert.Single(r.Interfaces).Name);
    }

    [Fact]
    public void ModernShapeEveryField()
    {
        var r = Parse("""
            {"cniVersion":"1.1.0",
             "interfaces":[{"name":"eth0","mac":"02:00:0a:58:4d:c8","mtu":1400,"sandbox":"/run/netns/c1","socketPath":"/s","pciID":"0000:04:00.5"}],
             "ips":[{"address":"10.88.0.5/24","gateway":"10.88.0.1","interface":0}],
             "routes":[{"dst":"10.1.2.0/16","gw":"10.88.0.1","mtu":1400,"advmss":1360,"priority":5,"table":100,"scope":253}],
             "dns":{"nameservers":["1.1.1.1"],"domain":"d","search":["s"],"options":["o"]}}
            """);
        var i = Assert.Single(r.Interfaces);
        Assert.Equal(("eth0", "02:00:0a:58:4d:c8", 1400, "/run/netns/c1", "/s", "0000:04:00.5"), (i.Name, i.Mac, i.Mtu, i.Sandbox, i.SocketPath, i.PciId));
        var ip = Assert.Single(r.Ips);
        Assert.Equal(("10.88.0.5/24", "10.88.0.1", 0), (ip.Address.ToString(), ip.Gateway!.ToString(), ip.Interface));
        var route = Assert.Single(r.Routes);
        Assert.Equal("10.1.2.0/16", route.Dst.ToString()); // kept as given
        Assert.Equal((1400, 1360, 5, 100, 253), (route.Mtu, route.AdvMss, route.Priority, route.Table, route.Scope));
        Assert.Equal(["1.1.1.1"], r.Dns!.Nameservers!);
        Assert.Equal("d", r.Dns.Domain);
    }

    [Fact]
    public void IpamShapeAndVersionFieldAreAccepted()
    {
        var r = Parse("""{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.88.0.5/24"}],"dns":{}}""");
        Assert.Empty(r.Interfaces);
        Assert.Null(Assert.Single(r.Ips).Interface);
        Assert.Null(r.Dns); // empty dns is no dns
    }

    [Fact]
    public void LegacyShapeSplitsIntoIpsAndRoutes()
    {
        var r = Parse("""
            {"cniVersion":"0.2.0",
             "ip4":{"ip":"10.88.0.5/24","gateway":"10.88.0.1","routes":[{"dst":"0.0.0.0/0"}]},
             "ip6":{"ip":"fd00::5/64","routes":[{"dst":"::/0","gw":"fd00::1"}]}}
            """);
        Assert.Equal(["10.88.0.5/24", "fd00::5/64"], r.Ips.Select(i => i.Address.ToString()));
        Assert.Equal(["0.0.0.0/0", "::/0"], r.Routes.Select(x => x.Dst.ToString()));
        Assert.Equal("fd00::1", r.Routes[1].Gw!.ToString());
    }

    [Fact]
    public void MissingOwnVersionFallsBackToTheRequests()
    {
        Assert.Single(Parse("""{"ip4":{"ip":"10.0.0.2/8"}}""", requestVersion: "0.2.0").Ips);
        Assert.Single(Parse("""{"ips":[{"address":"10.0.0.2/8"}]}""", requestVersion: "1.0.0").Ips);
    }

    [Fact]
    public void NullFieldsAreAbsent() =>
        Assert.Empty(Parse("""{"cniVersion":"1.0.0","interfaces":null,"ips":null,"routes":null,"dns":null}""").Ips);

    [Theory]
    [InlineData("""{"ips":[{"address":"nope"}]}""", 7, "prevResult.ips[0].address: invalid CIDR \"nope\"")]
    [InlineData("""{"ips":[{"address":"10.0.0.1"}]}""", 7, "prevResult.ips[0].address: invalid CIDR \"10.0.0.1\"")]
    [InlineData("""{"ips":[{"address":"10.0.0.1/33"}]}""", 7, "prevResult.ips[0].address: invalid CIDR \"10.0.0.1/33\"")]
    [InlineData("""{"ips":[{"gateway":"10.0.0.1"}]}""", 7, "prevResult.ips[0].address: missing (an address/prefix such as 10.88.0.5/24 is required)")]
    [InlineData("""{"ips":[{"address":"10.0.0.2/8","gateway":"10.0.0"}]}""", 7, "prevResult.ips[0].gateway: invalid IP address \"10.0.0\"")]
    [InlineData("""{"ips":[{"address":"10.0.0.2/8","interface":-1}]}""", 7, "prevResult.ips[0].interface: must not be negative, got -1")]
    [InlineData("""{"ips":[{"address":"10.0.0.2/8","interface":"0"}]}""", 6, "prevResult.ips[0].interface: expected an integer, got a string")]
    [InlineData("""{"ips":{}}""", 6, "prevResult.ips: expected an array, got an object")]
    [InlineData("""{"ips":[3]}""", 6, "prevResult.ips[0]: expected an object, got the number 3")]
    [InlineData("""{"interfaces":[{"name":1}]}""", 6, "prevResult.interfaces[0].name: expected a string, got the number 1")]
    [InlineData("""{"routes":[{"dst":"10.0.0.0/8","table":1.5}]}""", 6, "prevResult.routes[0].table: expected an integer, got the number 1.5")]
    [InlineData("""{"routes":[{"gw":"10.0.0.1"}]}""", 7, "prevResult.routes[0].dst: missing (an address/prefix such as 10.88.0.5/24 is required)")]
    [InlineData("""{"dns":{"nameservers":"1.1.1.1"}}""", 6, "prevResult.dns.nameservers: expected an array of strings, got a string")]
    [InlineData("""{"dns":[]}""", 6, "prevResult.dns: expected an object, got an array")]
    [InlineData("""{"cniVersion":"7.0.0"}""", 7, "prevResult.cniVersion: unsupported version \"7.0.0\"")]
    [InlineData("""{"cniVersion":"0.2.0","ip4":{"ip":"x"}}""", 7, "prevResult.ip4.ip: invalid CIDR \"x\"")]
    [InlineData("""{"cniVersion":"0.2.0","ip4":"10.0.0.1/8"}""", 6, "prevResult.ip4: expected an object, got a string")]
    [InlineData("""[]""", 6, "prevResult: expected an object, got an array")]
    public void BadShapesNameTheField(string json, int code, string message)
    {
        var e = Fails(json);
        Assert.Equal(code, e.Code);
        Assert.Equal(message, e.Message);
    }
}
