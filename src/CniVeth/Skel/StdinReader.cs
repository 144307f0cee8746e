using CniVeth.Cni;

namespace CniVeth.Skel;

/// <summary>Reads the whole request from stdin, refusing anything larger than a config can sensibly be.</summary>
internal static class StdinReader
{
    /// <summary>1 MiB: real configs are a few KiB; the cap keeps a runaway writer from exhausting memory.</summary>
    public const int MaxBytes = 1 << 20;

    public static byte[] ReadAll(Stream stdin)
    {
        // Start small and grow: a config is a few KiB, and every byte allocated here is zeroed and
        // faulted in by a process that lives a few milliseconds.
        byte[] buffer = GC.AllocateUninitializedArray<byte>(8 * 1024);
        int length = 0;
        try
        {
            int n;
            while ((n = stdin.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += n;
                if (length > MaxBytes)
                    throw new CniException(ErrorCode.IoFailure,
                        $"stdin is larger than {MaxBytes} bytes (1 MiB); refusing to read the network config",
                        "a CNI network config is normally a few KiB: check what the runtime sends");
                if (length == buffer.Length) Array.Resize(ref buffer, Math.Min(buffer.Length * 4, MaxBytes + 1));
            }
        }
        catch (IOException e)
        {
            throw new CniException(ErrorCode.IoFailure, $"error reading from stdin: {e.Message}");
        }
        return buffer.AsSpan(0, length).ToArray();
    }
}
