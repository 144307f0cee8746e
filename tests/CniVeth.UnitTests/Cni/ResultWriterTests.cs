using System.Text;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

public class ResultWriterTests
{
    private static string Write(Result r, string version) => Encoding.UTF8.GetString(ResultWriter.ToJson(r, version));

    [Fact] public void Version110HasEverything() => Assert.Equal(SampleResults.Expected110, Write(SampleResults.Full(), "1.1.0"));

    [Fact] public void Version100DropsThe11Fields() => Assert.Equal(SampleResults.Expected100, Write(SampleResults.Full(), "1.0.0"));

    [Theory]
    [InlineData("0.3.0")]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    public void Versions03xAnd040AddIpVersion(string version) =>
        Assert.Equal(SampleResults.Expected04x(version), Write(SampleResults.Full(), version));

    [Theory]
    [InlineData("0.1.0")]
    [InlineData("0.2.0")]
    public void Versions01And02UseIp4Ip6(string version) =>
        Assert.Equal(SampleResults.Expected02x(version), Write(SampleResults.Full(), version));

    [Theory]
    [InlineData("0.1.0")]
    [InlineData("0.2.0")]
    public void LegacyVersionsCannotExpressNoAddresses(string version)
    {
        var r = new Result();
        r.Interfaces.Add(new ResultInterface { Name = "eth0" });
        var e = Assert.Throws<CniException>(() => ResultWriter.ToJson(r, version));
        Assert.Equal(999, e.Code);
        Assert.Equal("cannot convert: no valid IP addresses", e.Message);
    }

    [Fact]
    public void LegacyWithOnlyIpv6OmitsIp4()
    {
        var r = new Result();
        r.Ips.Add(new ResultIp { Address = SampleResults.Cidr("fd00::5/64") });
        r.Routes.Add(new ResultRoute { Dst = SampleResults.Cidr("10.0.0.0/8") }); // no ip4: dropped
        Assert.Equal("""
            {
                "cniVersion": "0.2.0",
                "ip6": {
                    "ip": "fd00::5/64"
                },
                "dns": {}
            }

            """, Write(r, "0.2.0"));
    }

    [Fact]
    public void EmptyResultPrintsEmptyDnsLikeTheReference() =>
        Assert.Equal("""
            {
                "cniVersion": "1.0.0",
                "dns": {}
            }

            """, Write(new Result(), "1.0.0"));

    [Fact]
    public void IpamShapedResultHasNoInterfaces()
    {
        Assert.Equal("""
            {
                "cniVersion": "1.0.0",
                "ips": [
                    {
                        "address": "10.88.0.5/24",
                        "gateway": "10.88.0.1"
                    }
                ],
                "routes": [
                    {
                        "dst": "0.0.0.0/0"
                    }
                ],
                "dns": {}
            }

            """, Write(SampleResults.Ipam(), "1.0.0"));
        Assert.Contains("\"version\": \"4\"", Write(SampleResults.Ipam(), "0.4.0"));
    }

    [Fact]
    public void ZeroRouteOptionsAreOmittedButTableAndScopeZeroAreKept()
    {
        var r = new Result();
        r.Routes.Add(new ResultRoute { Dst = SampleResults.Cidr("10.1.0.0/16"), Mtu = 0, AdvMss = 0, Priority = 0, Table = 0, Scope = 253 });
        string json = Write(r, "1.1.0");
        Assert.DoesNotContain("mtu", json);
        Assert.DoesNotContain("advmss", json);
        Assert.DoesNotContain("priority", json);
        Assert.Contains("\"table\": 0", json);
        Assert.Contains("\"scope\": 253", json);
    }

    [Fact]
    public void QuotesAreEscapedReadably()
    {
        var r = new Result();
        r.Interfaces.Add(new ResultInterface { Name = "a\"b" });
        Assert.Contains("\"name\": \"a\\\"b\"", Write(r, "1.1.0"));
    }

    [Fact]
    public void UnsupportedVersionIsInternalError() =>
        Assert.Equal(999, Assert.Throws<CniException>(() => ResultWriter.ToJson(new Result(), "2.0.0")).Code);
}
