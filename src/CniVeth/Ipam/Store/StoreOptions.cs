namespace CniVeth.Ipam.Store;

/// <summary>Environment of the store; tests replace the boot identity and the lock timeout.</summary>
internal sealed class StoreOptions
{
    /// <summary>Test hook: CNIVETH_BOOT_ID_FILE, when set, replaces /proc/sys/kernel/random/boot_id so a
    /// test can simulate a reboot. Not meant for production use.</summary>
    public const string BootIdFileVariable = "CNIVETH_BOOT_ID_FILE";

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public required Func<string> BootId { get; init; }
    /// <summary>When this boot started (btime of /proc/stat).</summary>
    public required Func<DateTimeOffset> BootTime { get; init; }

    public static StoreOptions FromEnvironment() => new()
    {
        BootId = () => ReadBootId(Environment.GetEnvironmentVariable(BootIdFileVariable) is { Length: > 0 } path
            ? path : "/proc/sys/kernel/random/boot_id"),
        BootTime = ReadBootTime,
    };

    private static string ReadBootId(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static DateTimeOffset ReadBootTime()
    {
        foreach (string line in File.ReadLines("/proc/stat"))
            if (line.StartsWith("btime ", StringComparison.Ordinal) && long.TryParse(line[6..].Trim(), out long seconds))
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
        return DateTimeOffset.MinValue; // unknown: release nothing
    }
}
