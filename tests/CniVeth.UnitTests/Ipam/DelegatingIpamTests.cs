using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.UnitTests.Skel;

namespace CniVeth.UnitTests.Ipam;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DelegatingIpamTests : IDisposable
{
    private readonly string _bin = Directory.CreateTempSubdirectory("cniveth-delegate-").FullName;
    public void Dispose() => Directory.Delete(_bin, recursive: true);

    /// <summary>A fake IPAM plugin that records its verb and stdin and prints <paramref name="stdout"/>.</summary>
    private void FakePlugin(string name, string stdout, int exit = 0)
    {
        string path = Path.Combine(_bin, name);
        File.WriteAllText(path, $"#!/bin/sh\necho \"$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME\" > {_bin}/env\ncat > {_bin}/stdin\ncat <<'OUT'\n{stdout}\nOUT\nexit {exit}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
    }

    private CniRequest Request(string json = """{"cniVersion":"1.0.0","name":"n","ipam":{"type":"fake"}}""")
    {
        var r = IpamFixture.Request(json, "ctr", "eth1");
        return new CniRequest { Env = new CniEnvironment { ContainerId = "ctr", IfName = "eth1", Path = "/nonexistent:" + _bin },
            Conf = r.Conf, RawConfig = r.RawConfig, Version = r.Version, Args = r.Args };
    }

    [Fact]
    public void AddPassesStdinAndEnvAndParsesCurrentResult()
    {
        FakePlugin("fake", """{"cniVersion":"1.0.0","ips":[{"address":"10.3.0.7/16","gateway":"10.3.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.3.0.53"]}}""");
        var request = Request();
        var result = new DelegatingIpam("fake").Add(request);
        Assert.Equal("10.3.0.7/16", result.Ips[0].Address.ToString());
        Assert.Equal("10.3.0.1", result.Ips[0].Gateway!.ToString());
        Assert.Equal("0.0.0.0/0", result.Routes[0].Dst.ToString());
        Assert.Equal(["10.3.0.53"], result.Dns!.Nameservers!);
        Assert.Equal("ADD ctr eth1", File.ReadAllText(Path.Combine(_bin, "env")).Trim());
        Assert.Equal(request.RawConfig, File.ReadAllBytes(Path.Combine(_bin, "stdin")));
    }

    [Fact]
    public void ParsesLegacyResultShape()
    {
        var result = DelegateResultParser.ParseResult(
            """{"cniVersion":"0.2.0","ip4":{"ip":"10.3.0.7/16","gateway":"10.3.0.1","routes":[{"dst":"0.0.0.0/0"}]},"ip6":{"ip":"2001:db8::7/64"}}""", "x", "0.2.0");
        Assert.Equal(["10.3.0.7/16", "2001:db8::7/64"], result.Ips.Select(i => i.Address.ToString()));
        Assert.Single(result.Routes);
    }

    [Fact]
    public void DelegateErrorIsPassedThrough()
    {
        FakePlugin("fake", """{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"later"}""", exit: 1);
        var e = Assert.Throws<CniException>(() => new DelegatingIpam("fake").Del(Request()));
        Assert.Equal((11, "busy", "later"), (e.Code, e.Message, e.Details));
        Assert.StartsWith("DEL", File.ReadAllText(Path.Combine(_bin, "env")));
    }

    [Theory]
    [InlineData("""{"code":11,"msg":"busy","details":"later"}""", 11, "busy", "later")]
    [InlineData("""{"code":7,"msg":"first","code":11,"msg":"last"}""", 11, "last", "")] // the last key wins, as in JSON readers
    [InlineData("""{"code":11,"msg":42,"details":{"x":1}}""", 11, "", "")] // a malformed msg does not hide the code
    [InlineData("""{"code":"11","msg":"busy"}""", 999, "IPAM plugin x failed (exit 1)", null)]
    [InlineData("""{"code":11.5}""", 999, "IPAM plugin x failed (exit 1)", null)]
    [InlineData("""{"code":11} trailing""", 999, "IPAM plugin x failed (exit 1)", null)]
    [InlineData("""[{"code":11}]""", 999, "IPAM plugin x failed (exit 1)", null)]
    [InlineData("", 999, "IPAM plugin x failed (exit 1)", "")]
    public void DelegateErrorOutputIsReadAsTheSpecsErrorObject(string output, int code, string msg, string? details)
    {
        var e = DelegateResultParser.ParseError(output, "x", 1);
        Assert.Equal((code, msg, details ?? output), (e.Code, e.Message, e.Details));
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{"cniVersion":"1.0.0","ips":[]} {}""")]
    [InlineData("""{"cniVersion":"1.0.0",""")]
    public void ResultThatIsNotOneJsonValueIsADecodeFailure(string output)
    {
        var e = Assert.Throws<CniException>(() => DelegateResultParser.ParseResult(output, "x", "1.0.0"));
        Assert.Equal(ErrorCode.DecodeFailure, e.Code);
        Assert.StartsWith("cannot parse the result of IPAM plugin x: ", e.Message);
    }

    [Fact]
    public void GarbledFailureIsInternalError()
    {
        FakePlugin("fake", "panic: oops", exit: 2);
        Assert.Equal(999, Assert.Throws<CniException>(() => new DelegatingIpam("fake").Check(Request())).Code);
    }

    [Theory]
    [InlineData("../fake")]
    [InlineData("/usr/bin/fake")]
    [InlineData("..")]
    public void TypeMustBeABareName(string type) =>
        Assert.Contains("not a path", Assert.Throws<CniException>(() => DelegatingIpam.FindPlugin(type, _bin)).Message);

    [Fact]
    public void MissingPluginNamesThePath() =>
        Assert.Contains("failed to find plugin \"nope\"", Assert.Throws<CniException>(() => DelegatingIpam.FindPlugin("nope", _bin)).Message);

    [Fact]
    public void FactoryBuildsHostLocalInProcessAndDelegatesOthers()
    {
        var conf = new NetConf { Ipam = new IpamConf { Type = "host-local" } };
        Assert.IsType<HostLocalIpam>(IpamFactory.Create(conf));
        conf.Ipam.Type = "dhcp";
        Assert.Equal("dhcp", Assert.IsType<DelegatingIpam>(IpamFactory.Create(conf)).PluginType);
    }

}
