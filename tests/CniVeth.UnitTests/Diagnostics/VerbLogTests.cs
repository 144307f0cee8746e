using System.Text.RegularExpressions;
using CniVeth.Cni;
using CniVeth.Diagnostics;
using CniVeth.UnitTests.Cni;
using CniVeth.UnitTests.Skel;

namespace CniVeth.UnitTests.Diagnostics;

public sealed class VerbLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cniveth-log-").FullName;
    private string LogPath => Path.Combine(_dir, "cniveth.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Conf(string? level = null, string? file = null, string extra = "") =>
        "{\"cniVersion\":\"1.0.0\",\"name\":\"testnet\",\"type\":\"cniveth\",\"logFile\":\"" + (file ?? LogPath) + "\"" +
        (level is null ? "" : ",\"logLevel\":\"" + level + "\"") + extra + "}";

    private string[] Lines() => File.Exists(LogPath) ? File.ReadAllLines(LogPath) : [];

    private static readonly Regex InfoLine = new(
        @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ADD|DEL|CHECK|GC|STATUS) network=\S+ container=\S+ ifname=\S+ duration_ms=\d+\.\d result=(ok|error code=\d+ msg=""[^""]*"") plugin=\S+");

    [Fact]
    public void AddSuccessIsOneInfoLineAndStdoutIsUnchanged()
    {
        var plain = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), HostHarness.Conf);
        var logged = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf());
        Assert.Equal(0, logged.ExitCode);
        Assert.Equal(plain.Stdout.Replace("1.1.0", "1.0.0"), logged.Stdout);
        Assert.Equal("", logged.Stderr);
        string line = Assert.Single(Lines());
        Assert.Matches(InfoLine, line);
        Assert.Contains(" ADD network=testnet container=abc123 ifname=eth0 ", line);
        Assert.EndsWith("result=ok plugin=fake", line);
    }

    [Fact]
    public void EveryVerbAppendsOneLine()
    {
        foreach (string verb in new[] { "ADD", "CHECK", "DEL", "STATUS" })
        {
            var run = HostHarness.Run(new FakePlugin(), HostHarness.Env(verb), Conf().Replace("1.0.0", "1.1.0"));
            Assert.True(run.ExitCode == 0, run.Stdout);
        }
        var lines = Lines();
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.Matches(InfoLine, l.Replace("container=\"\" ifname=\"\"", "container=- ifname=-")));
        Assert.Contains(" STATUS network=testnet container=\"\" ifname=\"\" ", lines[3]);
    }

    [Fact]
    public void FailureIsLoggedWithCodeAndMessage()
    {
        var plugin = new FakePlugin { OnAdd = _ => throw CniException.Config("bad \"subnet\"\nsecond line") };
        var run = HostHarness.Run(plugin, HostHarness.Env("ADD"), Conf());
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(7, run.Code);
        string line = Assert.Single(Lines());
        Assert.Contains("result=error code=7 msg=\"bad \\\"subnet\\\"\\nsecond line\"", line);
    }

    [Fact]
    public void UnexpectedExceptionIsLoggedAs999()
    {
        var plugin = new FakePlugin { OnAdd = _ => throw new InvalidOperationException("boom") };
        HostHarness.Run(plugin, HostHarness.Env("ADD"), Conf());
        Assert.Contains("result=error code=999 msg=\"internal error: boom\"", Assert.Single(Lines()));
    }

    [Fact]
    public void ErrorLevelLogsOnlyFailures()
    {
        HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf("error"));
        Assert.Empty(Lines());
        var failing = new FakePlugin { OnOther = _ => throw new CniException(ErrorCode.TryAgainLater, "busy") };
        HostHarness.Run(failing, HostHarness.Env("DEL"), Conf("error"));
        Assert.Contains("DEL network=testnet container=abc123 ifname=eth0", Assert.Single(Lines()));
    }

    [Fact]
    public void DebugAddsRequestShapeButNeverArgValues()
    {
        var env = HostHarness.Env("DEL");
        env["CNI_NETNS"] = "";
        env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=secret-pod;IP=10.1.2.3";
        string prev = ",\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\"}]}";
        var run = HostHarness.Run(new FakePlugin(), env, Conf("DEBUG", extra: prev + ",\"password\":\"hunter2\""));
        Assert.Equal(0, run.ExitCode);
        string line = Assert.Single(Lines());
        Assert.Contains(" cniVersion=1.0.0 netns=\"\" prevResult=true args=IgnoreUnknown,K8S_POD_NAME,IP", line);
        Assert.DoesNotContain("secret-pod", line);
        Assert.DoesNotContain("10.1.2.3", line);
        Assert.DoesNotContain("hunter2", line);
    }

    [Fact]
    public void InfoDoesNotCarryDebugFields()
    {
        HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf("info"));
        Assert.DoesNotContain("netns=", Assert.Single(Lines()));
    }

    [Fact]
    public void UnwritableLogNeverFailsTheVerb()
    {
        // a directory where the file should be, and a path under a regular file: both unwritable
        Directory.CreateDirectory(LogPath);
        var run = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf());
        Assert.Equal(0, run.ExitCode);
        File.WriteAllText(Path.Combine(_dir, "plain"), "");
        run = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf(file: Path.Combine(_dir, "plain", "x.log")));
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public void RelativePathIsIgnoredWithANoteOnStderr()
    {
        var run = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf(file: "relative.log"));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("not an absolute path", run.Stderr);
        Assert.False(File.Exists("relative.log"));
    }

    [Fact]
    public void UnknownLevelFallsBackToInfo()
    {
        var run = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"), Conf("verbose"));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("unknown logLevel", run.Stderr);
        Assert.Single(Lines());
    }

    [Fact]
    public void NoLogFileMeansNoLogObject()
    {
        var conf = new NetConf { Name = "n", CniVersion = "1.0.0" };
        Assert.Null(VerbLog.Start("cniveth (bridge)", "ADD", conf, new CniEnvironment()));
        conf.LogFile = "";
        Assert.Null(VerbLog.Start("cniveth (bridge)", "ADD", conf, new CniEnvironment()));
    }

    [Fact]
    public void ConfigErrorsAfterParsingAreLogged()
    {
        // an unsupported version is found after the config is read: the operator sees it in the log
        var run = HostHarness.Run(new FakePlugin(), HostHarness.Env("ADD"),
            Conf().Replace("\"1.0.0\"", "\"9.9.9\""));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("result=error code=1 ", Assert.Single(Lines()));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("IgnoreUnknown=1", "IgnoreUnknown")]
    [InlineData("A=1;B=x=y;;C", "A,B,C")]
    public void ArgNamesKeepsKeysOnly(string args, string expected) => Assert.Equal(expected, VerbLog.ArgNames(args));

    [Theory]
    [InlineData(null, "Info", true)]
    [InlineData("info", "Info", true)]
    [InlineData("Error", "Error", true)]
    [InlineData(" debug ", "Debug", true)]
    [InlineData("trace", "Info", false)]
    public void Levels(string? text, string level, bool known)
    {
        Assert.Equal(level, VerbLog.ParseLevel(text, out bool k).ToString());
        Assert.Equal(known, k);
    }

    [Fact]
    public void TimeIsRfc3339Utc()
    {
        var conf = new NetConf { Name = "n", CniVersion = "1.0.0", LogFile = LogPath };
        var log = VerbLog.Start("host-local (cniveth)", "ADD", conf, new CniEnvironment { ContainerId = "c", IfName = "eth0" })!;
        string line = log.FormatLine(new DateTimeOffset(2024, 5, 1, 14, 0, 0, 7, TimeSpan.FromHours(2)), 3.14159, (Exception?)null);
        Assert.Equal("2024-05-01T12:00:00.007Z ADD network=n container=c ifname=eth0 duration_ms=3.1 result=ok plugin=host-local\n", line);
    }
}
