using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// Stdin bytes -> NetConf with the source-generated context (no reflection), turning System.Text.Json's
/// exceptions into CNI errors that name the offending field in config terms.
/// </summary>
internal static partial class NetConfReader
{
    /// <summary>
    /// The generated context's settings plus our encoder: System.Text.Json escapes every property name
    /// while building metadata, and without an encoder it builds the default JavaScriptEncoder's
    /// allow-list (~2% of an ADD) for names that are plain ASCII.
    /// </summary>
    private static readonly CniJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        Encoder = MinimalJsonEncoder.Instance,
    });

    /// <summary>The options in use (a unit test keeps them equal to the generated context's attribute).</summary>
    internal static JsonSerializerOptions Options => Context.Options;

    /// <summary>
    /// Metadata set-up looks up JsonPolymorphicAttribute / JsonDerivedTypeAttribute on every type, and the
    /// lookup returns arrays of them. Naming the array types here makes the compiler emit them; otherwise
    /// the runtime's type loader builds both array types from metadata in every process.
    /// </summary>
    internal static readonly Attribute[][] PrebuiltAttributeArrays =
        [Array.Empty<System.Text.Json.Serialization.JsonPolymorphicAttribute>(),
         Array.Empty<System.Text.Json.Serialization.JsonDerivedTypeAttribute>()];

    public static NetConf Parse(byte[] json)
    {
        NetConf? conf;
        try
        {
            conf = JsonSerializer.Deserialize(json, Context.NetConf);
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }
        if (conf is null)
            throw new CniException(ErrorCode.DecodeFailure, "error decoding network config: stdin must be a JSON object, got null");
        conf.PrevResult?.Within(json);
        conf.ValidAttachmentsSection?.Within(json);
        conf.LegacyAttachmentsSection?.Within(json);
        conf.CniVersions = Section(json, conf.CniVersionsSection, static () => Context.ListString, "cniVersions");
        conf.NonMasqueradeCidrs = Section(json, conf.NonMasqueradeCidrsSection, static () => Context.ListString, "nonMasqueradeCIDRs");
        conf.VlanTrunk = Section(json, conf.VlanTrunkSection, static () => Context.ListVlanTrunk, "vlanTrunk");
        conf.Dns = Section(json, conf.DnsSection, static () => Context.Dns, "dns");
        conf.RuntimeConfig = Section(json, conf.RuntimeConfigSection, static () => Context.RuntimeConfig, "runtimeConfig");
        conf.Args = Section(json, conf.ArgsSection, static () => Context.ConfArgs, "args");
        return conf;
    }

    /// <summary>Binds one raw section (see NetConf) with its generated metadata; errors name the field
    /// from the top of the config, as they would had the section been bound with the rest.</summary>
    private static T? Section<T>(byte[] json, RawJson? raw, Func<System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>> info, string key)
        where T : class
    {
        if (raw is null) return null;
        try
        {
            // Metadata built only now, when the key is present; positions in errors count from the section.
            return JsonSerializer.Deserialize(json.AsSpan(raw.Start, raw.Length), info());
        }
        catch (JsonException e)
        {
            throw FromJsonException(e, key);
        }
    }

    /// <summary>
    /// Wrong-type values ("The JSON value could not be converted to System.Boolean. Path: $.isGateway")
    /// become `field "isGateway": expected a boolean`; syntax errors keep the reader's position text.
    /// </summary>
    public static CniException FromJsonException(JsonException e, string? section = null)
    {
        if (ConvertedType(e.Message) is string clrType)
        {
            string field = FieldName(e.Path);
            if (section is not null)
                field = field.Length == 0 ? section : field[0] == '[' ? section + field : section + "." + field;
            string expected = Describe(clrType);
            return field.Length == 0
                ? new CniException(ErrorCode.DecodeFailure, $"error decoding network config: stdin must be {expected}")
                : new CniException(ErrorCode.DecodeFailure, $"error decoding network config: field \"{field}\": expected {expected}",
                    // Positions inside a section count from the section, not from stdin: leave them out.
                    section is null ? $"at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}" : "");
        }
        string message = e.Message;
        int pathAt = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (pathAt > 0) message = message[..pathAt];
        return new CniException(ErrorCode.DecodeFailure, $"error decoding network config: invalid JSON: {message.TrimEnd('.', ' ')}",
            e.LineNumber is { } line ? $"at line {line + 1}, byte {e.BytePositionInLine + 1}" : "");
    }

    /// <summary>"$.ipam.ranges[0][1].subnet" -> "ipam.ranges[0][1].subnet"; "$['cni.dev/x']" -> "cni.dev/x".</summary>
    public static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        string p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        // ['name'] segments (keys with dots or slashes) become .name, or name at the start.
        var sb = new System.Text.StringBuilder(p.Length);
        for (int i = 0; i < p.Length; i++)
        {
            int close = string.CompareOrdinal(p, i, "['", 0, 2) == 0 ? p.IndexOf("']", i + 2, StringComparison.Ordinal) : -1;
            if (close < 0) { sb.Append(p[i]); continue; }
            if (i > 0) sb.Append('.');
            sb.Append(p, i + 2, close - i - 2);
            i = close + 1;
        }
        return sb.ToString();
    }

    /// <summary>The CLR type in System.Text.Json's "... could not be converted to X. Path: ..." message.
    /// (No Regex: it would add a megabyte and start-up work to a binary that runs for milliseconds.)</summary>
    private static string? ConvertedType(string message)
    {
        const string marker = "could not be converted to ";
        int at = message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        int start = at + marker.Length;
        int end = message.IndexOf(". Path:", start, StringComparison.Ordinal);
        if (end < 0) end = message.EndsWith('.') ? message.Length - 1 : message.Length;
        string type = message[start..end];
        return type.Length == 0 || type.Contains(' ') ? null : type;
    }

    private static string Describe(string clrType) => clrType switch
    {
        "System.Boolean" => "a boolean",
        "System.String" => "a string",
        "System.Int32" or "System.Nullable`1[System.Int32]" => "an integer (32-bit)",
        "System.Text.Json.JsonElement" or "System.Nullable`1[System.Text.Json.JsonElement]" => "a JSON value",
        _ when clrType.StartsWith("System.Collections.Generic.List", StringComparison.Ordinal) => "an array",
        _ => "an object",
    };
}
