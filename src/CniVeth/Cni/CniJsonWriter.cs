using System.Text.Encodings.Web;
using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>Output formatting shared by results, errors and VERSION: 4-space indent like the Go
/// plugins' MarshalIndent, quotes escaped as \" rather than \u0022.</summary>
internal static class CniJsonWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        IndentSize = 4,
        Encoder = MinimalJsonEncoder.Instance,
    };

    /// <summary>Runs <paramref name="write"/> on a fresh writer; returns the UTF-8 bytes plus a newline.</summary>
    public static byte[] Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
            write(writer);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
