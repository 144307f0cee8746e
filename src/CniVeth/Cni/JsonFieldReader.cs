using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// Typed reads over a <see cref="Utf8JsonReader"/> for NetConfReader: one value at a time, type-checked, with
/// the path of the value being read kept for error messages. Behaves as the source-generated System.Text.Json
/// deserializer it replaces (PropertyNameCaseInsensitive, strict numbers, no comments or trailing commas,
/// depth 64), and its errors read as that reader's did (the differential test in the unit tests holds both
/// to the same output). No reflection, no metadata, no pooled buffers: a plugin call is a few milliseconds,
/// and System.Text.Json's metadata set-up alone cost ~25 µs per type (a fifth of an ADD).
/// </summary>
/// <remarks>
/// Keys match case-insensitively (OrdinalIgnoreCase over the unescaped, leniently decoded name, as
/// System.Text.Json and Go do); of repeated keys the last one counts. JSON null leaves a reference-typed
/// field absent and is a type error for bool and int fields. Errors name the field as spelled in the input.
/// </remarks>
internal ref struct JsonFieldReader
{
    private const int DecodeFailure = ErrorCode.DecodeFailure;
    private const string Prefix = "error decoding network config: ";

    private Utf8JsonReader _reader;
    /// <summary>The bytes the reader walks; error positions are counted in them.</summary>
    private readonly ReadOnlySpan<byte> _input;
    /// <summary>Set when reading a section of stdin on its own: errors name it and carry no position.</summary>
    private readonly string? _section;

    // The path of the value the reader is on: _depth segments, each a key (as spelled in the input) or an
    // index. The schema nests 5 deep at most (ipam.ranges[0][0].subnet); unknown values are skipped whole.
    private readonly Segment[] _path = new Segment[8];
    private int _depth;

    // The current key: its bytes when plain ASCII, else its text (unescaped and decoded as System.Text.Json
    // does: invalid UTF-8 becomes U+FFFD, so it matches nothing).
    private ReadOnlySpan<byte> _keyBytes;
    private string? _keyText;

    public JsonFieldReader(ReadOnlySpan<byte> input, string? section = null)
    {
        _input = input;
        _section = section;
        _reader = new Utf8JsonReader(input); // default options: depth 64, no comments, no trailing commas
    }

    public readonly JsonTokenType TokenType => _reader.TokenType;

    /// <summary>Moves to the first token of the input (throws JsonException on bad or empty input).</summary>
    public void ReadFirst() => _reader.Read();

    /// <summary>After the root value: nothing but whitespace may follow (throws JsonException otherwise).</summary>
    public void ReadEnd() => _reader.Read();

    // ---- objects and arrays ----

    /// <summary>On null: false. On an object: true, ready for <see cref="NextMember"/>. Else a type error.</summary>
    public bool BeginObject()
    {
        if (_reader.TokenType == JsonTokenType.Null) return false;
        if (_reader.TokenType != JsonTokenType.StartObject) throw TypeError("an object");
        _path[_depth++] = default;
        return true;
    }

    /// <summary>Moves to the next member's value; false at the end of the object. Match its key with <see cref="Is"/>.</summary>
    public bool NextMember()
    {
        _reader.Read();
        if (_reader.TokenType == JsonTokenType.EndObject)
        {
            _depth--;
            return false;
        }
        ReadKey();
        _path[_depth - 1] = default;
        _reader.Read();
        return true;
    }

    /// <summary>On null: false. On an array: true, ready for <see cref="NextElement"/>. Else a type error.</summary>
    public bool BeginArray()
    {
        if (_reader.TokenType == JsonTokenType.Null) return false;
        if (_reader.TokenType != JsonTokenType.StartArray) throw TypeError("an array");
        _path[_depth++] = default;
        return true;
    }

    /// <summary>Moves to the next element; false at the end of the array. <paramref name="index"/> is the
    /// number of elements read so far (the element's index, for errors).</summary>
    public bool NextElement(int index)
    {
        _reader.Read();
        if (_reader.TokenType == JsonTokenType.EndArray)
        {
            _depth--;
            return false;
        }
        _path[_depth - 1] = new Segment(null, index);
        return true;
    }

    /// <summary>Does the current member's key match <paramref name="key"/> (ignoring case)? On a match the key,
    /// as spelled in the input, becomes the value's name in errors.</summary>
    public bool Is(string key)
    {
        bool exact;
        if (_keyText is null)
        {
            ReadOnlySpan<byte> name = _keyBytes;
            if (name.Length != key.Length) return false;
            exact = true;
            for (int i = 0; i < name.Length; i++)
            {
                int b = name[i], c = key[i];
                if (b == c) continue;
                int lower = b | 0x20;
                if (lower != (c | 0x20) || lower < 'a' || lower > 'z') return false;
                exact = false;
            }
        }
        else
        {
            if (!string.Equals(_keyText, key, StringComparison.OrdinalIgnoreCase)) return false;
            exact = string.Equals(_keyText, key, StringComparison.Ordinal);
        }
        _path[_depth - 1] = new Segment(exact ? key : _keyText ?? Encoding.UTF8.GetString(_keyBytes), 0);
        return true;
    }

    /// <summary>Skips the current value (the value of a key nobody asked for).</summary>
    public void Skip() => _reader.Skip();

    private void ReadKey()
    {
        ReadOnlySpan<byte> raw = _reader.ValueSpan;
        if (!_reader.ValueIsEscaped)
        {
            bool ascii = System.Text.Ascii.IsValid(raw);
            _keyBytes = ascii ? raw : default;
            _keyText = ascii ? null : Encoding.UTF8.GetString(raw);
            return;
        }
        // Unescaped to bytes first, then decoded leniently, as System.Text.Json looks keys up. An escape it cannot
        // unescape (a lone surrogate) failed there as "could not be converted to" the object's type.
        Span<byte> unescaped = raw.Length <= 256 ? stackalloc byte[256] : new byte[raw.Length];
        if (!TryUnescape(raw, unescaped, out int written)) throw TypeError("an object", _depth - 1);
        _keyBytes = default;
        _keyText = Encoding.UTF8.GetString(unescaped[..written]);
    }

    /// <summary>
    /// A key's escapes resolved (the reader has checked their syntax); other bytes are copied as they are, not
    /// checked as UTF-8, like System.Text.Json's own unescaping. False for a \u escape that is half of a
    /// UTF-16 surrogate pair without the other half.
    /// </summary>
    private static bool TryUnescape(ReadOnlySpan<byte> source, Span<byte> into, out int written)
    {
        written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b != (byte)'\\')
            {
                into[written++] = b;
                continue;
            }
            b = source[++i];
            if (b != (byte)'u')
            {
                into[written++] = b switch
                {
                    (byte)'n' => (byte)'\n',
                    (byte)'r' => (byte)'\r',
                    (byte)'t' => (byte)'\t',
                    (byte)'b' => (byte)'\b',
                    (byte)'f' => (byte)'\f',
                    _ => b, // " \ /
                };
                continue;
            }
            int scalar = Hex4(source.Slice(i + 1, 4));
            i += 4;
            if (scalar is >= 0xDC00 and <= 0xDFFF) return false;
            if (scalar is >= 0xD800 and <= 0xDBFF)
            {
                if (source.Length < i + 7 || source[i + 1] != (byte)'\\' || source[i + 2] != (byte)'u') return false;
                int low = Hex4(source.Slice(i + 3, 4));
                i += 6;
                if (low is < 0xDC00 or > 0xDFFF) return false;
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00);
            }
            written += new Rune(scalar).EncodeToUtf8(into[written..]);
        }
        return true;
    }

    private static int Hex4(ReadOnlySpan<byte> digits)
    {
        int value = 0;
        foreach (byte d in digits)
            value = value * 16 + (d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
        return value;
    }

    // ---- values ----

    public string? String()
    {
        if (_reader.TokenType == JsonTokenType.Null) return null;
        if (_reader.TokenType != JsonTokenType.String) throw TypeError("a string");
        try { return _reader.GetString(); }
        catch (InvalidOperationException) { throw TypeError("a string"); } // invalid UTF-8 or a lone surrogate
    }

    public bool Bool() => _reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw TypeError("a boolean"),
    };

    public int Int() =>
        _reader.TokenType == JsonTokenType.Number && _reader.TryGetInt32(out int value) ? value : throw TypeError("an integer (32-bit)");

    public int? NullableInt() => _reader.TokenType == JsonTokenType.Null ? null : Int();

    /// <summary>A list of strings (null elements kept as null, as System.Text.Json did); null when absent.</summary>
    public List<string>? Strings()
    {
        if (!BeginArray()) return null;
        var list = new List<string>();
        while (NextElement(list.Count)) list.Add(String()!);
        return list;
    }

    /// <summary>The current value kept raw (see RawJson); null for JSON null.</summary>
    public RawJson? Raw(byte[] document)
    {
        JsonTokenType kind = _reader.TokenType;
        if (kind == JsonTokenType.Null) return null;
        var (start, length) = Span();
        return new RawJson(start, length, kind).Within(document);
    }

    /// <summary>Where the current value lies in the input, skipped; (0, 0) for JSON null.</summary>
    public (int Start, int Length) Span()
    {
        if (_reader.TokenType == JsonTokenType.Null) return default;
        int start = checked((int)_reader.TokenStartIndex);
        _reader.Skip();
        return (start, checked((int)_reader.BytesConsumed) - start);
    }

    // ---- errors ----

    /// <summary>The value at the current path (or its first <paramref name="depth"/> segments) is not
    /// <paramref name="expected"/>: System.Text.Json's "could not be converted" in config terms.</summary>
    public readonly CniException TypeError(string expected, int depth = -1)
    {
        string field = Field(depth < 0 ? _depth : depth);
        if (_section is not null)
            field = field.Length == 0 ? _section : field[0] == '[' ? _section + field : _section + "." + field;
        if (field.Length == 0)
            return new CniException(DecodeFailure, Prefix + "stdin must be " + expected);
        // Positions inside a section read on its own would count from the section: left out.
        return new CniException(DecodeFailure, Prefix + "field \"" + field + "\": expected " + expected,
            _section is null ? Position((int)_reader.BytesConsumed) : "");
    }

    /// <summary>A syntax error (or depth beyond 64) from the reader.</summary>
    public static CniException SyntaxError(JsonException e)
    {
        // "'x' is invalid after a single JSON value. Expected end of data. LineNumber: 0 | BytePositionInLine: 5."
        string message = e.Message;
        int at = message.LastIndexOf(" LineNumber: ", StringComparison.Ordinal);
        if (at > 0) message = message[..at];
        return new CniException(DecodeFailure, Prefix + "invalid JSON: " + message.TrimEnd('.', ' '),
            e.LineNumber is { } line ? "at line " + Number(line + 1) + ", byte " + Number((e.BytePositionInLine ?? 0) + 1) : "");
    }

    private readonly string Field(int depth)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            Segment s = _path[i];
            if (s.Name is null) sb.Append('[').Append(Number(s.Index)).Append(']');
            else (sb.Length == 0 ? sb : sb.Append('.')).Append(s.Name);
        }
        return sb.ToString();
    }

    /// <summary>"at line L, byte B" (1-based) of the reader's position: the reader counts lines at '\n', which
    /// valid JSON has only between tokens.</summary>
    private readonly string Position(int consumed)
    {
        ReadOnlySpan<byte> before = _input[..consumed];
        int line = before.Count((byte)'\n');
        int lineStart = before.LastIndexOf((byte)'\n') + 1;
        return "at line " + Number(line + 1) + ", byte " + Number(consumed - lineStart + 1);
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Segment(string? Name, int Index);
}
