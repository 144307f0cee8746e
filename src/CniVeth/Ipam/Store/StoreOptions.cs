using CniVeth.Ipam.Config;

namespace CniVeth.Ipam.Store;

/// <summary>Environment of the store; tests replace the boot identity, the lock timeout and the
/// diagnostics sink.</summary>
internal sealed class StoreOptions
{
    /// <summary>Test hook: CNIVETH_BOOT_ID_FILE, when set, replaces /proc/sys/kernel/random/boot_id so a
    /// test can simulate a reboot. Not meant for production use.</summary>
    public const string BootIdFileVariable = "CNIVETH_BOOT_ID_FILE";
    private const string KernelBootIdFile = "/proc/sys/kernel/random/boot_id";

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The current boot's id; "" when unknown (then no reservation is ever released as pre-boot).</summary>
    public required Func<string> BootId { get; init; }
    /// <summary>Receives the one diagnostic line of a store use (repairs, skipped entries, the reboot sweep).</summary>
    public Action<string> Note { get; init; } = WriteToStderr;

    public static StoreOptions FromEnvironment() => new()
    {
        BootId = () => ReadBootId(Environment.GetEnvironmentVariable(BootIdFileVariable) is { Length: > 0 } path
            ? path : KernelBootIdFile),
    };

    /// <summary>The id in the file, or "" when it cannot be read or is not a plausible id.</summary>
    public static string ReadBootId(string path)
    {
        var read = BoundedFile.Read(path, 256);
        string id = read.Outcome == BoundedFile.Outcome.Text ? read.Text.Trim() : "";
        return BootTag.IsValidBootId(id) ? id : "";
    }

    private static void WriteToStderr(string line)
    {
        try
        {
            var stderr = Skel.StdStreams.Stderr();
            stderr.WriteLine(line);
            stderr.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // stderr closed: the line is only a diagnostic
        }
    }
}
