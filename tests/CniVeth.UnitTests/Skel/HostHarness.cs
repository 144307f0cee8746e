using System.Text;
using System.Text.Json;
using CniVeth.Cni;
using CniVeth.Skel;

namespace CniVeth.UnitTests.Skel;

/// <summary>Records what the host hands to the plugin; behaviour per verb is configurable.</summary>
internal sealed class FakePlugin : ICniPlugin
{
    public string Name => "fake";
    public CniRequest? Seen { get; private set; }
    public string? SeenVerb { get; private set; }
    public Func<CniRequest, Result> OnAdd { get; set; } = _ => new Result();
    public Action<CniRequest>? OnOther { get; set; }

    public Result Add(CniRequest r) { Record("ADD", r); return OnAdd(r); }
    public void Del(CniRequest r) { Record("DEL", r); OnOther?.Invoke(r); }
    public void Check(CniRequest r) { Record("CHECK", r); OnOther?.Invoke(r); }
    public void Gc(CniRequest r) { Record("GC", r); OnOther?.Invoke(r); }
    public void Status(CniRequest r) { Record("STATUS", r); OnOther?.Invoke(r); }

    private void Record(string verb, CniRequest r) { SeenVerb = verb; Seen = r; }
}

internal sealed record HostRun(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
    public int Code => Json.GetProperty("code").GetInt32();
    public string Msg => Json.GetProperty("msg").GetString()!;
    public string Details => Json.GetProperty("details").GetString()!;
}

/// <summary>Runs PluginHost against an in-memory environment and streams.</summary>
internal static class HostHarness
{
    public const string Conf = """{"cniVersion":"1.1.0","name":"testnet","type":"cniveth"}""";

    public static Dictionary<string, string> Env(string command) => new()
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = "abc123",
        ["CNI_NETNS"] = "/run/netns/c1",
        ["CNI_IFNAME"] = "eth0",
        ["CNI_PATH"] = "/opt/cni/bin",
    };

    public static HostRun Run(ICniPlugin plugin, IDictionary<string, string> env, string? stdin = Conf,
        Func<string, bool>? isOwnNetNs = null) =>
        Run(plugin, env, stdin is null ? [] : Encoding.UTF8.GetBytes(stdin), isOwnNetNs);

    public static HostRun Run(ICniPlugin plugin, IDictionary<string, string> env, byte[] stdin,
        Func<string, bool>? isOwnNetNs = null)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = PluginHost.Run(plugin, name => env.TryGetValue(name, out var v) ? v : null,
            new MemoryStream(stdin), stdout, stderr, isOwnNetNs ?? (_ => false));
        return new HostRun(exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    public static HostRun Run(string command, string? stdin = Conf) => Run(new FakePlugin(), Env(command), stdin);
}
