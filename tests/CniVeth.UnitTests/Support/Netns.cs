using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Support;

/// <summary>
/// Runs test code on a dedicated thread moved into a fresh network namespace (unshare(CLONE_NEWNET) only
/// affects the calling thread), so the machine's real firewall is never touched. Threads started from that
/// thread inherit its namespace. Root only: <see cref="IsRoot"/> lets tests return early otherwise.
/// </summary>
internal static partial class Netns
{
    private const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc")]
    private static partial int gettid();

    public static bool IsRoot => geteuid() == 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData { public uint Effective, Permitted, Inheritable; }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capget(CapHeader* h, CapData* d);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int capset(CapHeader* h, CapData* d);

    /// <summary>Drops a capability from the calling thread's effective set (capabilities are per thread).</summary>
    public static unsafe void DropEffectiveCapability(int cap)
    {
        var h = new CapHeader { Version = 0x20080522 }; // _LINUX_CAPABILITY_VERSION_3
        CapData* d = stackalloc CapData[2];
        if (capget(&h, d) != 0) throw new InvalidOperationException($"capget: errno {Marshal.GetLastPInvokeError()}");
        d[cap / 32].Effective &= ~(1u << (cap % 32));
        if (capset(&h, d) != 0) throw new InvalidOperationException($"capset: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Runs <paramref name="body"/> in a new network namespace; rethrows its exception.</summary>
    public static void Run(Action<NetnsContext> body)
    {
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                if (unshare(CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"unshare(CLONE_NEWNET) failed: errno {Marshal.GetLastPInvokeError()}");
                body(new NetnsContext($"/proc/{Environment.ProcessId}/task/{gettid()}/ns/net"));
            }
            catch (Exception e) { failure = e; }
        }, 4 * 1024 * 1024);
        t.Start();
        t.Join();
        if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
    }
}

internal sealed class NetnsContext(string nsPath)
{
    /// <summary>The namespace file of the thread: valid while the thread runs.</summary>
    public string NsPath { get; } = nsPath;

    /// <summary>Runs a command inside the namespace (through nsenter, so it does not depend on which thread
    /// forks) and returns stdout; throws on a non-zero exit.</summary>
    public string Sh(string script)
    {
        var psi = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--net=" + NsPath);
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"`{script}` exited {p.ExitCode}: {err.Result}{output}");
        return output;
    }

    public Ruleset Ruleset() => new(JsonDocument.Parse(Sh("nft -j list ruleset")));
}

/// <summary>Reads `nft -j list ruleset`.</summary>
internal sealed class Ruleset(JsonDocument doc)
{
    public string Raw => doc.RootElement.GetRawText();

    private IEnumerable<JsonElement> Objects(string kind) =>
        doc.RootElement.GetProperty("nftables").EnumerateArray()
           .Where(o => o.TryGetProperty(kind, out _)).Select(o => o.GetProperty(kind));

    public bool HasTable(string family, string name) =>
        Objects("table").Any(t => t.GetProperty("family").GetString() == family && t.GetProperty("name").GetString() == name);

    public JsonElement? Chain(string family, string table, string name) =>
        Objects("chain").Cast<JsonElement?>().FirstOrDefault(c => c!.Value.GetProperty("family").GetString() == family
            && c.Value.GetProperty("table").GetString() == table && c.Value.GetProperty("name").GetString() == name);

    public List<JsonElement> Rules(string family, string table, string chain) =>
        Objects("rule").Where(r => r.GetProperty("family").GetString() == family && r.GetProperty("table").GetString() == table
            && r.GetProperty("chain").GetString() == chain).ToList();

    public List<string> SetNames(string family, string table) =>
        Objects("set").Concat(Objects("map"))
            .Where(s => s.GetProperty("family").GetString() == family && s.GetProperty("table").GetString() == table)
            .Select(s => s.GetProperty("name").GetString()!).ToList();

    public JsonElement? Set(string family, string table, string name) =>
        Objects("set").Concat(Objects("map")).Cast<JsonElement?>()
            .FirstOrDefault(s => s!.Value.GetProperty("family").GetString() == family
                && s.Value.GetProperty("table").GetString() == table && s.Value.GetProperty("name").GetString() == name);

    /// <summary>Elements rendered compactly: plain values as text, prefixes "a/n", concatenations "a . b",
    /// map entries "k : v". Missing set: null.</summary>
    public List<string>? Elements(string family, string table, string name)
    {
        JsonElement? s = Set(family, table, name);
        if (s == null) return null;
        if (!s.Value.TryGetProperty("elem", out JsonElement elems)) return new List<string>();
        return elems.EnumerateArray().Select(Render).OrderBy(x => x, StringComparer.Ordinal).ToList();
    }

    private static string Render(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Array => string.Join(" : ", e.EnumerateArray().Select(Render)),
        JsonValueKind.Object when e.TryGetProperty("prefix", out JsonElement p) =>
            $"{p.GetProperty("addr").GetString()}/{p.GetProperty("len").GetInt32()}",
        JsonValueKind.Object when e.TryGetProperty("concat", out JsonElement c) => string.Join(" . ", c.EnumerateArray().Select(Render)),
        JsonValueKind.Object when e.TryGetProperty("elem", out JsonElement v) => Render(v.GetProperty("val")),
        _ => e.GetRawText(),
    };
}
