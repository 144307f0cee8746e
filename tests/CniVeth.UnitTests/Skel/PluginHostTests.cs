using System.Text;
using CniVeth.Cni;
using CniVeth.UnitTests.Cni;
using CniVeth.Skel;

namespace CniVeth.UnitTests.Skel;

public class PluginHostTests
{
    [Fact]
    public void NoCommandPrintsAboutOnStderrAndExitsZero()
    {
        var run = HostHarness.Run(new FakePlugin(), new Dictionary<string, string>());
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith("CNI plugin fake v", run.Stderr);
        Assert.Contains("CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0", run.Stderr);
    }

    [Fact]
    public void PluginVersionIsTheAssemblysInformationalVersionWithTheCommitCutTo7Digits()
    {
        // BuildInfo is written at build time so the plugin needs no reflection; it must say what the attribute says
        string stamped = typeof(PluginHost).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(BuildInfo.InformationalVersion, stamped);
        int plus = stamped.IndexOf('+');
        Assert.Equal(plus < 0 ? stamped : stamped[..(plus + 8)], PluginHost.PluginVersion);
        Assert.Matches(@"^\d+\.\d+\.\d+(\+[0-9a-f]{7})?$", PluginHost.PluginVersion);
    }

    [Fact]
    public void UnknownCommandIsCode4()
    {
        var run = HostHarness.Run("ADDD");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(4, run.Code);
        Assert.Equal("unknown CNI_COMMAND: ADDD", run.Msg);
    }

    [Fact]
    public void VersionEchoesRequestVersionAndListsAll()
    {
        // podman: dummy values and an empty container id must not matter
        var env = new Dictionary<string, string> { ["CNI_COMMAND"] = "VERSION", ["CNI_NETNS"] = "dummy", ["CNI_IFNAME"] = "dummy" };
        var run = HostHarness.Run(new FakePlugin(), env, """{"cniVersion":"1.0.0"}""");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("""
            {
                "cniVersion": "1.0.0",
                "supportedVersions": [
                    "0.1.0",
                    "0.2.0",
                    "0.3.0",
                    "0.3.1",
                    "0.4.0",
                    "1.0.0",
                    "1.1.0"
                ]
            }

            """, run.Stdout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{"name":"x"}""")]
    public void VersionWithoutUsableRequestAnswersLatest(string? stdin)
    {
        var run = HostHarness.Run(new FakePlugin(), new Dictionary<string, string> { ["CNI_COMMAND"] = "VERSION" }, stdin);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("1.1.0", run.Json.GetProperty("cniVersion").GetString());
    }

    [Theory]
    [InlineData("ADD", "CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH")]
    [InlineData("CHECK", "CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH")]
    [InlineData("DEL", "CNI_CONTAINERID,CNI_IFNAME,CNI_PATH")]
    [InlineData("GC", "CNI_PATH")]
    [InlineData("STATUS", "CNI_PATH")]
    public void MissingVariablesAreAllNamedAtOnce(string command, string missing)
    {
        var run = HostHarness.Run(new FakePlugin(), new Dictionary<string, string> { ["CNI_COMMAND"] = command });
        Assert.Equal(4, run.Code);
        Assert.Equal($"required env variables [{missing}] missing", run.Msg);
    }

    [Fact]
    public void DelDoesNotNeedNetns()
    {
        var env = HostHarness.Env("DEL");
        env.Remove("CNI_NETNS");
        var plugin = new FakePlugin();
        var run = HostHarness.Run(plugin, env);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal("DEL", plugin.SeenVerb);
    }

    [Fact]
    public void GcAndStatusIgnoreContainerVariables()
    {
        var env = new Dictionary<string, string> { ["CNI_COMMAND"] = "GC", ["CNI_PATH"] = "/bin", ["CNI_IFNAME"] = "bad/name" };
        Assert.Equal(0, HostHarness.Run(new FakePlugin(), env).ExitCode);
        env["CNI_COMMAND"] = "STATUS";
        Assert.Equal(0, HostHarness.Run(new FakePlugin(), env).ExitCode);
    }

    [Theory]
    [InlineData("-abc", 4)]
    [InlineData("abc def", 4)]
    [InlineData("abc/def", 4)]
    [InlineData("abc\n", 4)]
    public void BadContainerIdIsRejected(string id, int code)
    {
        var env = HostHarness.Env("ADD");
        env["CNI_CONTAINERID"] = id;
        var run = HostHarness.Run(new FakePlugin(), env);
        Assert.Equal(code, run.Code);
        Assert.Equal("invalid characters in containerID", run.Msg);
    }

    [Theory]
    [InlineData("0123456789abcdef", "interface name is too long")]
    [InlineData(".", "interface name is . or ..")]
    [InlineData("..", "interface name is . or ..")]
    [InlineData("eth/0", "interface name contains / or : or whitespace characters")]
    [InlineData("eth:0", "interface name contains / or : or whitespace characters")]
    [InlineData("eth 0", "interface name contains / or : or whitespace characters")]
    [InlineData("eth\t0", "interface name contains / or : or whitespace characters")]
    [InlineData("éééééééé", "interface name is too long")] // 8 chars, 16 bytes
    public void BadInterfaceNameIsCode4(string ifName, string message)
    {
        var env = HostHarness.Env("ADD");
        env["CNI_IFNAME"] = ifName;
        var run = HostHarness.Run(new FakePlugin(), env);
        Assert.Equal(4, run.Code);
        Assert.Equal(message, run.Msg);
    }

    [Fact]
    public void FifteenByteInterfaceNameIsAccepted()
    {
        var env = HostHarness.Env("ADD");
        env["CNI_IFNAME"] = "0123456789abcde";
        Assert.Equal(0, HostHarness.Run(new FakePlugin(), env).ExitCode);
    }

    [Theory]
    [InlineData("""{"cniVersion":"1.1.0","type":"x"}""", "missing network name")]
    [InlineData("""{"cniVersion":"1.1.0","name":""}""", "missing network name")]
    [InlineData("""{"cniVersion":"1.1.0","name":"bad name"}""", "invalid characters found in network name")]
    [InlineData("""{"cniVersion":"1.1.0","name":"_x"}""", "invalid characters found in network name")]
    public void BadNetworkNameIsCode7(string conf, string message)
    {
        var run = HostHarness.Run("ADD", conf);
        Assert.Equal(7, run.Code);
        Assert.Equal(message, run.Msg);
    }

    [Fact]
    public void OwnNetnsIsRefusedUnlessOverridden()
    {
        var plugin = new FakePlugin();
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), HostHarness.Conf, isOwnNetNs: p => p == "/run/netns/c1");
        Assert.Equal(4, run.Code);
        Assert.Contains("own network namespace", run.Msg);
        Assert.Null(plugin.SeenVerb);

        var env = HostHarness.Env("ADD");
        env["CNI_NETNS_OVERRIDE"] = "1";
        Assert.Equal(0, HostHarness.Run(plugin, env, HostHarness.Conf, isOwnNetNs: _ => true).ExitCode);
    }

    [Theory]
    [InlineData("9.9.9")]
    [InlineData("1.0")]
    [InlineData("v1.0.0")]
    public void UnsupportedVersionIsCode1ListingSupported(string version)
    {
        var run = HostHarness.Run("ADD", $$"""{"cniVersion":"{{version}}","name":"n"}""");
        Assert.Equal(1, run.Code);
        Assert.Equal("incompatible CNI versions", run.Msg);
        Assert.Equal($"config is \"{version}\", plugin supports [\"0.1.0\" \"0.2.0\" \"0.3.0\" \"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]", run.Details);
    }

    [Fact]
    public void MissingVersionMeans010()
    {
        var plugin = new FakePlugin { OnAdd = _ => SampleResults.Full() };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), """{"name":"n"}""");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("0.1.0", plugin.Seen!.Version);
        Assert.Equal("0.1.0", run.Json.GetProperty("cniVersion").GetString());
        Assert.True(run.Json.TryGetProperty("ip4", out _));
    }

    [Theory]
    [InlineData("CHECK", "0.3.1", false)]
    [InlineData("CHECK", "0.4.0", true)]
    [InlineData("CHECK", "0.1.0", false)]
    [InlineData("GC", "1.0.0", false)]
    [InlineData("GC", "1.1.0", true)]
    [InlineData("STATUS", "1.0.0", false)]
    [InlineData("STATUS", "0.4.0", false)]
    [InlineData("STATUS", "1.1.0", true)]
    [InlineData("DEL", "0.1.0", true)]
    public void VerbsAreGatedOnVersion(string command, string version, bool allowed)
    {
        var run = HostHarness.Run(command, $$"""{"cniVersion":"{{version}}","name":"n"}""");
        if (allowed)
        {
            Assert.Equal(0, run.ExitCode);
            return;
        }
        Assert.Equal(1, run.Code);
        Assert.Equal($"config version \"{version}\" does not allow {command}", run.Msg);
    }

    [Theory]
    [InlineData("", "invalid JSON")]
    [InlineData("{", "invalid JSON")]
    [InlineData("""{"name":"n",}""", "invalid JSON")]
    [InlineData("[]", "stdin must be an object")]
    [InlineData("null", "stdin must be a JSON object")]
    public void MalformedJsonIsCode6(string stdin, string fragment)
    {
        var run = HostHarness.Run("ADD", stdin);
        Assert.Equal(6, run.Code);
        Assert.Contains(fragment, run.Msg);
    }

    [Theory]
    [InlineData("\"isGateway\":\"true\"", "field \"isGateway\": expected a boolean")]
    [InlineData("\"mtu\":\"1500\"", "field \"mtu\": expected an integer (32-bit)")]
    [InlineData("\"mtu\":1500.5", "field \"mtu\": expected an integer (32-bit)")]
    [InlineData("\"vlan\":99999999999", "field \"vlan\": expected an integer (32-bit)")]
    [InlineData("\"bridge\":7", "field \"bridge\": expected a string")]
    [InlineData("\"ipam\":[]", "field \"ipam\": expected an object")]
    [InlineData("\"ipam\":{\"ranges\":[[{\"subnet\":1}]]}", "field \"ipam.ranges[0][0].subnet\": expected a string")]
    [InlineData("\"vlanTrunk\":{}", "field \"vlanTrunk\": expected an array")]
    [InlineData("\"runtimeConfig\":{\"ips\":\"10.0.0.1\"}", "field \"runtimeConfig.ips\": expected an array")]
    [InlineData("\"dns\":{\"nameservers\":[\"10.0.0.1\",2]}", "field \"dns.nameservers[1]\": expected a string")]
    [InlineData("\"args\":{\"cni\":{\"mac\":true}}", "field \"args.cni.mac\": expected a string")]
    [InlineData("\"cniVersions\":\"1.0.0\"", "field \"cniVersions\": expected an array")]
    [InlineData("\"vlanTrunk\":[{\"minID\":\"1\"}]", "field \"vlanTrunk[0].minID\": expected an integer (32-bit)")]
    public void WrongTypeIsCode6NamingTheField(string field, string message)
    {
        var run = HostHarness.Run("ADD", $$"""{"cniVersion":"1.1.0","name":"n",{{field}}}""");
        Assert.Equal(6, run.Code);
        Assert.Equal($"error decoding network config: {message}", run.Msg);
    }

    [Fact]
    public void WrongTypeCniVersionIsCode6()
    {
        var run = HostHarness.Run("ADD", """{"cniVersion":1.1,"name":"n"}""");
        Assert.Equal(6, run.Code);
        Assert.Contains("field \"cniVersion\": expected a string", run.Msg);
    }

    [Fact]
    public void UnknownFieldsAndOtherCaseKeysAreTolerated()
    {
        var plugin = new FakePlugin();
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"),
            """{"cniVersion":"1.1.0","name":"n","capabilities":{"ips":true},"future":[1,{"x":null}],"isgateway":true,"MTU":1400}""");
        Assert.Equal(0, run.ExitCode);
        Assert.True(plugin.Seen!.Conf.IsGateway);
        Assert.Equal(1400, plugin.Seen.Conf.Mtu);
    }

    [Fact]
    public void StdinOverOneMebibyteIsRefused()
    {
        string padding = new(' ', StdinReader.MaxBytes);
        var run = HostHarness.Run("ADD", """{"cniVersion":"1.1.0","name":"n"}""" + padding);
        Assert.Equal(5, run.Code);
        Assert.Contains("larger than 1048576 bytes", run.Msg);
    }

    [Fact]
    public void StdinOfExactlyOneMebibyteIsAccepted()
    {
        string conf = """{"cniVersion":"1.1.0","name":"n"}""";
        var run = HostHarness.Run("ADD", conf + new string(' ', StdinReader.MaxBytes - conf.Length));
        Assert.Equal(0, run.ExitCode);
    }

    [Fact]
    public void RequestCarriesEverything()
    {
        var plugin = new FakePlugin();
        var env = HostHarness.Env("ADD");
        env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=web;FOO=bar";
        string conf = """{"cniVersion":"1.0.0","name":"n","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}}""";
        HostHarness.Run(plugin, env, conf);
        var r = plugin.Seen!;
        Assert.Equal("1.0.0", r.Version);
        Assert.Equal("n", r.NetworkName);
        Assert.Equal("abc123", r.Env.ContainerId);
        Assert.Equal("web", r.Args.K8sPodName);
        Assert.Equal(Encoding.UTF8.GetBytes(conf), r.RawConfig);
        Assert.Equal("10.0.0.2/24", r.PrevResult!.Ips[0].Address.ToString());
    }

    [Fact]
    public void RawValuesAreReadInPlaceWhateverTheLayout()
    {
        // prevResult and the deferred sections are read from their offsets in stdin: spaces, newlines,
        // escapes and multi-byte text before them must not shift anything.
        var plugin = new FakePlugin();
        string conf = "{ \"cniVersion\" : \"1.0.0\",\n  \"name\":\"n\", \"x-note\":\"r\u00e9seau été ☃\", \"dns\" :\n {\"nameservers\": [ \"10.0.0.53\" ] } ,"
            + " \"prevResult\" :\t{ \"ips\" : [ { \"address\" : \"10.0.0.2/24\" } ] , \"cniVersion\":\"1.0.0\" } ,"
            + " \"runtimeConfig\": {\"ips\": [\"10.0.0.9\"]} }";
        HostHarness.Run(plugin, HostHarness.Env("ADD"), conf);
        var r = plugin.Seen!;
        Assert.Equal("10.0.0.2/24", r.PrevResult!.Ips[0].Address.ToString());
        Assert.Equal(["10.0.0.53"], r.Conf.Dns!.Nameservers!);
        Assert.Equal(["10.0.0.9"], r.Conf.RuntimeConfig!.Ips!);
    }

    [Fact]
    public void ByteOrderMarkIsRefusedAsByTheReference()
    {
        // Go's decoder refuses a BOM too; and no input is ever shifted under the raw values' offsets.
        var run = HostHarness.Run("ADD", "\uFEFF{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ips\":[]}}");
        Assert.Equal(6, run.Code);
        Assert.Contains("invalid JSON", run.Msg);
    }

    [Fact]
    public void AddPrintsResultInRequestedVersion()
    {
        var plugin = new FakePlugin { OnAdd = _ => SampleResults.Full() };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), """{"cniVersion":"0.3.1","name":"n"}""");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(SampleResults.Expected031, run.Stdout);
    }

    [Theory]
    [InlineData("DEL")]
    [InlineData("CHECK")]
    [InlineData("GC")]
    [InlineData("STATUS")]
    public void OtherVerbsPrintNothingOnSuccess(string command)
    {
        var plugin = new FakePlugin();
        var run = HostHarness.Run(plugin, HostHarness.Env(command), HostHarness.Conf);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Equal(command, plugin.SeenVerb);
    }

    [Fact]
    public void PluginCniExceptionKeepsItsCode()
    {
        var plugin = new FakePlugin { OnOther = _ => throw new CniException(ErrorCode.NotAvailable, "range exhausted", "free some") };
        var run = HostHarness.Run(plugin, HostHarness.Env("STATUS"), HostHarness.Conf);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(50, run.Code);
        Assert.Equal("range exhausted", run.Msg);
        Assert.Equal("free some", run.Details);
        Assert.Equal("1.1.0", run.Json.GetProperty("cniVersion").GetString());
    }

    [Fact]
    public void AnyOtherExceptionIs999WithoutStackTrace()
    {
        var plugin = new FakePlugin { OnAdd = _ => throw new InvalidOperationException("boom") };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), HostHarness.Conf);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(999, run.Code);
        Assert.Equal("internal error: boom", run.Msg);
        Assert.DoesNotContain(" at ", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public void ErrorCarriesTheRequestVersionOnceKnown()
    {
        var plugin = new FakePlugin { OnAdd = _ => throw CniException.Config("bad") };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), """{"cniVersion":"0.4.0","name":"n"}""");
        Assert.Equal("0.4.0", run.Json.GetProperty("cniVersion").GetString());
    }

    [Fact]
    public void ResultConversionFailureIs999()
    {
        var plugin = new FakePlugin { OnAdd = _ => new Result() };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), """{"cniVersion":"0.2.0","name":"n"}""");
        Assert.Equal(999, run.Code);
        Assert.Equal("cannot convert: no valid IP addresses", run.Msg);
    }

    [Fact]
    public void BadCniArgsIsCode4BeforeThePluginRuns()
    {
        var plugin = new FakePlugin();
        var env = HostHarness.Env("ADD");
        env["CNI_ARGS"] = "FOO=bar";
        var run = HostHarness.Run(plugin, env, HostHarness.Conf);
        Assert.Equal(4, run.Code);
        Assert.Equal("ARGS: unknown args [\"FOO=bar\"]", run.Msg);
        Assert.Null(plugin.SeenVerb);
    }

    [Fact]
    public void BadPrevResultFailsAddButNotDel()
    {
        string conf = """{"cniVersion":"1.0.0","name":"n","prevResult":{"ips":[{"address":"nope"}]}}""";
        var add = HostHarness.Run("ADD", conf);
        Assert.Equal(7, add.Code);
        Assert.Equal("prevResult.ips[0].address: invalid CIDR \"nope\"", add.Msg);

        var plugin = new FakePlugin();
        var del = HostHarness.Run(plugin, HostHarness.Env("DEL"), conf);
        Assert.Equal(0, del.ExitCode);
        Assert.Null(plugin.Seen!.PrevResult);
    }
}
