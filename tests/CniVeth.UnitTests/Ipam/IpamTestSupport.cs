using System.Text.Json;
using CniVeth.Cni;
using CniVeth.Ipam;
using CniVeth.Ipam.Store;

namespace CniVeth.UnitTests.Ipam;

/// <summary>Requests and throw-away data directories for the IPAM tests.</summary>
internal sealed class IpamFixture : IDisposable
{
    public string DataDir { get; } = Directory.CreateTempSubdirectory("cniveth-ipam-").FullName;
    public string BootId { get; set; } = "boot-1";
    /// <summary>The diagnostic lines the store wrote (one per use of the store at most).</summary>
    public List<string> Notes { get; } = new();

    public string NetDir => Path.Combine(DataDir, "net1");

    public StoreOptions Options => new()
    {
        BootId = () => BootId, LockTimeout = TimeSpan.FromSeconds(5), Note = line => { lock (Notes) Notes.Add(line); },
    };

    public HostLocalIpam Ipam => new(Options);

    /// <summary>An ipam section on top of a minimal conf; <paramref name="ipam"/> is the inner JSON.</summary>
    public string Conf(string ipam, string version = "1.0.0", string extra = "") =>
        $$"""{"cniVersion":"{{version}}","name":"net1","type":"cniveth",{{extra}}"ipam":{"type":"host-local","dataDir":"{{DataDir}}",{{ipam}} } }""";

    public string SimpleConf(string subnet = "10.1.2.0/24", string extraRange = "") =>
        Conf($$"""
            "ranges":[[{"subnet":"{{subnet}}"{{extraRange}}}]]
            """);

    public static CniRequest Request(string json, string containerId = "c1", string ifName = "eth0",
        string? cniArgsIp = null, Result? prevResult = null)
    {
        var conf = NetConfReader.Parse(System.Text.Encoding.UTF8.GetBytes(json));
        return new CniRequest
        {
            Env = new CniEnvironment { Command = "ADD", ContainerId = containerId, IfName = ifName, Path = "/usr/lib/cni" },
            Conf = conf,
            RawConfig = System.Text.Encoding.UTF8.GetBytes(json),
            Version = conf.CniVersion ?? "0.1.0",
            Args = cniArgsIp is null ? CniArgs.Empty : new CniArgs { Ip = cniArgsIp },
            PrevResult = prevResult,
        };
    }

    public string ReadReservation(string ip) => File.ReadAllText(Path.Combine(NetDir, ip));

    public string[] ReservationNames() => Directory.GetFiles(NetDir)
        .Select(Path.GetFileName).Where(n => HostLocalStore.TryParseReservationName(n!, out _)).Order().ToArray()!;

    public void Dispose() => Directory.Delete(DataDir, recursive: true);
}
