namespace CniVeth.Cni;

/// <summary>Reads the whole request from stdin, refusing anything larger than a config can sensibly be.</summary>
internal static class StdinReader
{
    /// <summary>1 MiB: real configs are a few KiB; the cap keeps a runaway writer from exhausting memory.</summary>
    public const int MaxBytes = 1 << 20;

    public static byte[] ReadAll(Stream stdin)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = stdin.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + n > MaxBytes)
                    throw new CniException(ErrorCode.IoFailure,
                        $"stdin is larger than {MaxBytes} bytes (1 MiB); refusing to read the network config",
                        "a CNI network config is normally a few KiB: check what the runtime sends");
                buffer.Write(chunk, 0, n);
            }
        }
        catch (IOException e)
        {
            throw new CniException(ErrorCode.IoFailure, $"error reading from stdin: {e.Message}");
        }
        return buffer.ToArray();
    }
}
