using System.Diagnostics;
using System.Net;
using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Any other ipam.type: the plugin binary of that name in CNI_PATH, run with our stdin and
/// environment and the verb in CNI_COMMAND, exactly as the reference plugins delegate.</summary>
internal sealed class DelegatingIpam(string pluginType) : IIpam
{
    public string PluginType => pluginType;

    public Result Add(CniRequest request) => DelegateResultParser.ParseResult(Run(request, "ADD"), pluginType, request.Version);

    public IReadOnlyList<IPAddress> Del(CniRequest request, Action<ReleaseScope>? beforeRelease = null)
    {
        beforeRelease?.Invoke(new ReleaseScope([], null)); // a delegate does not say what it holds
        Run(request, "DEL");
        return []; // a delegate does not say what it released
    }

    public void Check(CniRequest request) => Run(request, "CHECK");

    public IReadOnlyList<ReleasedAddress> Gc(CniRequest request, ValidAttachments valid, Action<IReadOnlyList<IPAddress>>? beforeRelease = null)
    {
        Run(request, "GC"); // the valid attachments travel in the stdin config
        return [];
    }

    public void Status(CniRequest request) => Run(request, "STATUS");

    /// <summary>Finds the plugin binary: a bare name looked up in the CNI_PATH directories.</summary>
    public static string FindPlugin(string type, string cniPath)
    {
        if (type.Length == 0 || type.Contains('/') || type.Contains('\0') || type is "." or "..")
            throw CniException.Config($"invalid ipam type \"{type}\": it must be a plugin name, not a path");
        var dirs = cniPath.Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string dir in dirs)
        {
            string candidate = Path.Combine(dir, type);
            if (File.Exists(candidate)) return candidate;
        }
        throw CniException.Config($"failed to find plugin \"{type}\" in path [{string.Join(" ", dirs)}]");
    }

    private string Run(CniRequest request, string verb)
    {
        string path = FindPlugin(pluginType, request.Env.Path);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["CNI_COMMAND"] = verb;
        start.Environment["CNI_CONTAINERID"] = request.Env.ContainerId;
        start.Environment["CNI_NETNS"] = request.Env.NetNs;
        start.Environment["CNI_IFNAME"] = request.Env.IfName;
        start.Environment["CNI_ARGS"] = request.Env.Args;
        start.Environment["CNI_PATH"] = request.Env.Path;

        using var process = Process.Start(start)
            ?? throw CniException.Internal($"cannot start IPAM plugin {path}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            process.StandardInput.BaseStream.Write(request.RawConfig);
            process.StandardInput.Close();
        }
        catch (IOException) { } // the plugin exited without reading; its exit status tells why
        string output = stdout.GetAwaiter().GetResult();
        process.WaitForExit();
        if (process.ExitCode != 0) throw DelegateResultParser.ParseError(output, pluginType, process.ExitCode);
        return output;
    }
}
