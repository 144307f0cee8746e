using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// A config value kept as its bytes in stdin, to be read later (prevResult, whose shape depends on its own
/// cniVersion; GC's attachment lists). Unlike JsonElement it costs no JsonDocument: no copy, and no ArrayPool
/// traffic, whose per-CPU cache calibrates itself (~150 µs) the first time two buffers of one size are
/// returned in a row, as a small JsonDocument does.
/// </summary>
internal sealed class RawJson(int start, int length, JsonTokenType kind)
{
    public int Start { get; } = start;
    public int Length { get; } = length;
    public JsonTokenType Kind { get; } = kind;

    /// <summary>The value's bytes; set by NetConfReader, which owns the stdin buffer the offsets refer to.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    public RawJson Within(byte[] document)
    {
        Bytes = document.AsMemory(Start, Length);
        return this;
    }

    public static RawJson Of(ReadOnlyMemory<byte> json)
    {
        var reader = new Utf8JsonReader(json.Span);
        reader.Read();
        return new RawJson(0, json.Length, reader.TokenType) { Bytes = json };
    }
}
