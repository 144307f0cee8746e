using System.Diagnostics;
using System.Runtime.CompilerServices;
using CniVeth.Cni;
using CniVeth.Diagnostics;
using CniVeth.Namespaces;

namespace CniVeth.Skel;

/// <summary>
/// The CNI "skel": reads CNI_* and stdin, validates them like the reference skel, dispatches the verb,
/// and writes the one reply (result, VERSION answer or error object) to stdout in a single write.
/// Every failure becomes {"cniVersion","code","msg","details"} on stdout and exit code 1.
/// Validation order: env vars -> stdin -> JSON -> network name -> version -> verb gate ->
/// container id -> ifname -> own netns -> CNI_ARGS -> prevResult -> plugin.
/// </summary>
internal static class PluginHost
{
    private const int Failure = 1;
    private static int _replied; // set once the process has answered (see the unhandled-exception guard)

    public static int Run(ICniPlugin plugin)
    {
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        int exitCode = Run(plugin, Environment.GetEnvironmentVariable, StdStreams.Stdin(), StdStreams.Stdout(), StdStreams.Stderr());
        Interlocked.Exchange(ref _replied, 1);
        return exitCode;
    }

    /// <summary>The whole invocation against injectable environment and streams; returns the exit code.</summary>
    public static int Run(ICniPlugin plugin, Func<string, string?> getenv, Stream stdin, Stream stdout,
        TextWriter stderr, Func<string, bool>? isOwnNetNs = null)
    {
        string command = getenv("CNI_COMMAND") ?? "";
        if (command.Length == 0)
        {
            stderr.Write(AboutText(plugin));
            stderr.Flush();
            return 0;
        }

        // The version errors are reported in: the request's once it is known and supported.
        var replyVersion = new StrongBox<string>(CniVersions.Latest);
        long started = Stopwatch.GetTimestamp();
        var log = new StrongBox<VerbLog?>(); // set only when the config has a logFile
        CniError? failure = null;
        byte[] reply;
        try
        {
            reply = command switch
            {
                "VERSION" => VersionReply.ToJson(ReadVersionRequest(stdin)),
                "ADD" or "DEL" or "CHECK" or "GC" or "STATUS" =>
                    Dispatch(plugin, command, getenv, stdin, isOwnNetNs ?? NamespaceIdentity.IsOwn, replyVersion, log, stderr),
                _ => throw new CniException(ErrorCode.InvalidEnvironment, $"unknown CNI_COMMAND: {command}",
                    "CNI_COMMAND must be one of ADD, DEL, CHECK, GC, STATUS, VERSION"),
            };
        }
        catch (Exception e)
        {
            failure = CniError.From(e);
            reply = ErrorReply.ToJson(replyVersion.Value ?? CniVersions.Latest, failure.Value);
        }
        bool delivered = WriteReply(stdout, reply, stderr);
        log.Value?.End(started, failure);
        return failure is null && delivered ? 0 : Failure;
    }

    public static string AboutText(ICniPlugin plugin) =>
        $"CNI plugin {plugin.Name} v{PluginVersion}\n" +
        $"CNI protocol versions supported: {string.Join(", ", CniVersions.Supported)}\n";

    /// <summary>The informational version, with the source commit (when stamped) cut to 7 digits. A constant
    /// written at build time (BuildInfo): reading the assembly's attribute would keep the reflection runtime
    /// in the image, whose statics alone cost every call ~70,000 instructions of start-up.</summary>
    public static string PluginVersion
    {
        get
        {
            string v = BuildInfo.InformationalVersion;
            if (v.Length == 0) return "unknown";
            int plus = v.IndexOf('+');
            return plus >= 0 && v.Length > plus + 8 ? v[..(plus + 8)] : v;
        }
    }

    /// <returns>The bytes to print: the converted result for ADD, nothing for the other verbs.</returns>
    private static byte[] Dispatch(ICniPlugin plugin, string command, Func<string, string?> getenv, Stream stdin,
        Func<string, bool> isOwnNetNs, StrongBox<string> replyVersion, StrongBox<VerbLog?> log, TextWriter stderr)
    {
        EnvironmentValidator.RequireVariables(command, getenv);
        var env = CniEnvironment.FromProcess(getenv);
        byte[] raw = StdinReader.ReadAll(stdin);
        NetConf conf = NetConfReader.Parse(raw);
        log.Value = VerbLog.Start(plugin.Name, command, conf, env, stderr);
        EnvironmentValidator.ValidateNetworkName(conf.Name);
        string version = VersionGate.Check(conf.CniVersion, command);
        replyVersion.Value = version;

        bool perContainer = command is "ADD" or "DEL" or "CHECK";
        if (perContainer)
        {
            EnvironmentValidator.ValidateContainerId(env.ContainerId);
            EnvironmentValidator.ValidateInterfaceName(env.IfName);
            if (env.NetNs.Length > 0 && !env.NetNsOverride && isOwnNetNs(env.NetNs))
            {
                // DEL still cleans up the host side: a stale bind mount left pointing at the host's own
                // namespace must not make an attachment undeletable. The container side is never touched
                // there: it would be the host's own interfaces.
                if (command != "DEL")
                    throw new CniException(ErrorCode.InvalidEnvironment,
                        $"CNI_NETNS \"{env.NetNs}\" is the plugin's own network namespace; refusing to configure it as a container",
                        "pass the container's namespace (e.g. /run/netns/NAME); set CNI_NETNS_OVERRIDE=1 only if this is really intended");
                Note(stderr, $"cniveth: CNI_NETNS \"{env.NetNs}\" is the plugin's own network namespace; DEL cleans up the host side only");
                env = env with { NetNs = "" };
            }
        }

        var request = new CniRequest
        {
            Env = env,
            Conf = conf,
            RawConfig = raw,
            Version = version,
            Args = perContainer ? CniArgs.Parse(env.Args) : CniArgs.Empty,
            PrevResult = ParsePrevResult(conf, version, lenient: command == "DEL"),
        };

        switch (command)
        {
            case "ADD": return ResultWriter.ToJson(plugin.Add(request), version);
            case "DEL": plugin.Del(request); break;
            case "CHECK": plugin.Check(request); break;
            case "GC": plugin.Gc(request); break;
            case "STATUS": plugin.Status(request); break;
        }
        return [];
    }

    /// <summary>DEL must succeed even with a damaged cache, so there an unreadable prevResult is dropped.</summary>
    private static Result? ParsePrevResult(NetConf conf, string version, bool lenient)
    {
        if (conf.PrevResult is not { } prev) return null;
        try
        {
            return ResultParser.Parse(prev, version);
        }
        catch (CniException) when (lenient)
        {
            return null;
        }
    }

    private static byte[]? ReadVersionRequest(Stream stdin)
    {
        try { return StdinReader.ReadAll(stdin); }
        catch (CniException) { return null; }
    }

    /// <summary>Writes the reply; false (with one line on stderr) when stdout is closed or gone: the runtime
    /// cannot have the answer, so the exit code must not claim success.</summary>
    private static bool WriteReply(Stream stdout, byte[] reply, TextWriter stderr)
    {
        if (reply.Length == 0) return true;
        try
        {
            stdout.Write(reply);
            stdout.Flush();
            return true;
        }
        catch (IOException e)
        {
            Note(stderr, "cniveth: could not deliver the reply: " + e.Message);
            return false;
        }
    }

    private static void Note(TextWriter stderr, string line)
    {
        try
        {
            stderr.WriteLine(line);
            stderr.Flush();
        }
        catch (Exception)
        {
            // stderr closed as well: the exit code is all that is left
        }
    }

    /// <summary>A crash on another thread would otherwise print a .NET stack trace on stderr.</summary>
    private static void OnUnhandledException(object sender, UnhandledExceptionEventArgs args)
    {
        if (Interlocked.Exchange(ref _replied, 1) == 0)
        {
            try
            {
                var e = args.ExceptionObject as Exception ?? new InvalidOperationException("unknown failure");
                StdStreams.Stdout().Write(ErrorReply.FromException(CniVersions.Latest, e));
            }
            catch (IOException)
            {
            }
        }
        Environment.Exit(Failure);
    }
}
