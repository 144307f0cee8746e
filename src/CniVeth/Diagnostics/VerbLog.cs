using System.Diagnostics;
using System.Globalization;
using System.Text;
using CniVeth.Cni;

namespace CniVeth.Diagnostics;

/// <summary>How much the optional log file gets (config key <c>logLevel</c>).</summary>
internal enum VerbLogLevel
{
    /// <summary>Only the verbs that failed.</summary>
    Error,
    /// <summary>One line for every verb (the default once <c>logFile</c> is set).</summary>
    Info,
    /// <summary>The info line plus what the runtime sent: netns, protocol version, prevResult present,
    /// the names (never the values) of CNI_ARGS.</summary>
    Debug,
}

/// <summary>
/// Optional diagnostics (config keys <c>logFile</c>, <c>logLevel</c>): one line per verb appended to an
/// absolute path, in logfmt:
/// <c>2024-05-01T12:00:00.123Z ADD network=n container=c ifname=eth0 duration_ms=3 result=ok</c>, or
/// <c>... result=error code=7 msg="..."</c>. Never stdout, never the config or CNI_ARGS values, and a log
/// that cannot be written never fails the verb. Without <c>logFile</c> nothing here runs beyond one null check.
/// </summary>
internal sealed class VerbLog
{
    private const uint FileMode = 0x1A0; // 0640: container IDs and addresses are not for everyone

    private readonly string _path;
    private readonly VerbLogLevel _level;
    private readonly string _plugin;
    private readonly string _verb;
    private readonly string _network;
    private readonly string _containerId;
    private readonly string _ifName;
    private readonly string? _debugFields;

    private VerbLog(string path, VerbLogLevel level, string plugin, string verb, string network,
        string containerId, string ifName, string? debugFields)
    {
        _path = path;
        _level = level;
        _plugin = plugin;
        _verb = verb;
        _network = network;
        _containerId = containerId;
        _ifName = ifName;
        _debugFields = debugFields;
    }


    /// <summary>The log of one invocation, or null when the config asks for none (or for an unusable
    /// one: a relative path is ignored with a note on stderr, never written relative to the runtime's cwd).</summary>
    public static VerbLog? Start(string pluginName, string verb, NetConf conf, CniEnvironment env, TextWriter? stderr = null)
    {
        if (string.IsNullOrEmpty(conf.LogFile)) return null;
        try
        {
            if (!System.IO.Path.IsPathFullyQualified(conf.LogFile))
            {
                Note(stderr, $"cniveth: logFile \"{conf.LogFile}\" is not an absolute path; not logging");
                return null;
            }
            VerbLogLevel level = ParseLevel(conf.LogLevel, out bool known);
            if (!known) Note(stderr, $"cniveth: unknown logLevel \"{conf.LogLevel}\"; using info");
            string? debug = level == VerbLogLevel.Debug ? DebugFields(conf, env) : null;
            bool perContainer = verb is "ADD" or "DEL" or "CHECK";
            return new VerbLog(conf.LogFile, level, ShortName(pluginName), verb, conf.Name ?? "",
                perContainer ? env.ContainerId : "", perContainer ? env.IfName : "", debug);
        }
        catch (Exception)
        {
            return null; // diagnostics never fail the verb
        }
    }

    /// <summary>error, info (also for null/empty), debug; case-insensitive; anything else is info.</summary>
    public static VerbLogLevel ParseLevel(string? text, out bool known)
    {
        known = true;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "info": return VerbLogLevel.Info;
            case "error": return VerbLogLevel.Error;
            case "debug": return VerbLogLevel.Debug;
            default:
                known = false;
                return VerbLogLevel.Info;
        }
    }

    /// <summary>Appends the verb's line (if the level wants it). Never throws.</summary>
    /// <param name="startedTimestamp">Stopwatch.GetTimestamp() at the start of the invocation.</param>
    /// <param name="error">The failure the runtime was told about, or null on success.</param>
    public void End(long startedTimestamp, CniError? error, DateTimeOffset? now = null)
    {
        try
        {
            if (error is null && _level == VerbLogLevel.Error) return;
            double ms = Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds;
            string line = FormatLine(now ?? DateTimeOffset.UtcNow, ms, error);
            Append(_path, Encoding.UTF8.GetBytes(line));
        }
        catch (Exception)
        {
            // a full disk, a missing directory or a read-only log must not fail the container
        }
    }

    internal string FormatLine(DateTimeOffset time, double durationMs, Exception? error) =>
        FormatLine(time, durationMs, error is null ? null : CniError.From(error));

    /// <param name="error">As the runtime was told (the same mapping as the error reply).</param>
    internal string FormatLine(DateTimeOffset time, double durationMs, CniError? error)
    {
        var sb = new StringBuilder(160);
        sb.Append(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        sb.Append(' ').Append(_verb);
        Field(sb, "network", _network);
        Field(sb, "container", _containerId);
        Field(sb, "ifname", _ifName);
        sb.Append(" duration_ms=").Append(Math.Max(0, durationMs).ToString("0.0", CultureInfo.InvariantCulture));
        if (error is not { } e)
        {
            sb.Append(" result=ok");
        }
        else
        {
            sb.Append(" result=error code=").Append(e.Code.ToString(CultureInfo.InvariantCulture));
            Field(sb, "msg", e.Message, alwaysQuote: true);
        }
        Field(sb, "plugin", _plugin);
        if (_debugFields is not null) sb.Append(_debugFields);
        sb.Append('\n');
        return sb.ToString();
    }

    private static string DebugFields(NetConf conf, CniEnvironment env)
    {
        var sb = new StringBuilder(96);
        Field(sb, "cniVersion", conf.CniVersion ?? "");
        Field(sb, "netns", env.NetNs, alwaysQuote: true);
        sb.Append(" prevResult=").Append(conf.PrevResult is not null ? "true" : "false");
        Field(sb, "args", ArgNames(env.Args));
        return sb.ToString();
    }

    /// <summary>The keys of CNI_ARGS ("K1=V1;K2=V2" gives "K1,K2"): values may be anything a runtime
    /// puts there, so they are never written.</summary>
    internal static string ArgNames(string? cniArgs)
    {
        if (string.IsNullOrEmpty(cniArgs)) return "";
        var names = new List<string>();
        foreach (string pair in cniArgs.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            names.Add(eq < 0 ? pair : pair[..eq]);
        }
        return string.Join(',', names);
    }

    private static string ShortName(string pluginName)
    {
        int space = pluginName.IndexOf(' ');
        return space > 0 ? pluginName[..space] : pluginName;
    }

    /// <summary>key=value, quoted (with escapes) when empty or when the value has spaces, quotes, '=' or
    /// control characters, so one event is always exactly one parseable line.</summary>
    internal static void Field(StringBuilder sb, string key, string value, bool alwaysQuote = false)
    {
        sb.Append(' ').Append(key).Append('=');
        bool quote = alwaysQuote || value.Length == 0;
        if (!quote)
        {
            foreach (char c in value)
            {
                if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) { quote = true; break; }
            }
        }
        if (!quote)
        {
            sb.Append(value);
            return;
        }
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ' || c == 0x7f) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>One write(2) on an O_APPEND descriptor: lines from concurrent plugin processes never interleave.</summary>
    private static void Append(string path, byte[] bytes)
    {
        // O_NONBLOCK: a FIFO as logFile fails (ENXIO without a reader) instead of blocking every call.
        using SafeFd fd = Interop.Libc.Open(path, Interop.Libc.O_WRONLY | Interop.Libc.O_CREAT | Interop.Libc.O_APPEND | Interop.Libc.O_NONBLOCK, FileMode);
        if (fd.IsInvalid) return;
        Interop.Libc.Write(fd, bytes);
    }

    private static void Note(TextWriter? stderr, string text)
    {
        try
        {
            stderr?.WriteLine(text);
            stderr?.Flush();
        }
        catch (Exception)
        {
        }
    }
}
