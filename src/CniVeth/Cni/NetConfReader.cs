using System.Text.Json;
using System.Text.RegularExpressions;

namespace CniVeth.Cni;

/// <summary>
/// Stdin bytes -> NetConf with the source-generated context (no reflection), turning System.Text.Json's
/// exceptions into CNI errors that name the offending field in config terms.
/// </summary>
internal static partial class NetConfReader
{
    public static NetConf Parse(byte[] json)
    {
        NetConf? conf;
        try
        {
            conf = JsonSerializer.Deserialize(json, CniJsonContext.Default.NetConf);
        }
        catch (JsonException e)
        {
            throw FromJsonException(e);
        }
        return conf ?? throw new CniException(ErrorCode.DecodeFailure,
            "error decoding network config: stdin must be a JSON object, got null");
    }

    /// <summary>
    /// Wrong-type values ("The JSON value could not be converted to System.Boolean. Path: $.isGateway")
    /// become `field "isGateway": expected a boolean`; syntax errors keep the reader's position text.
    /// </summary>
    public static CniException FromJsonException(JsonException e)
    {
        var conversion = ConversionFailure().Match(e.Message);
        if (conversion.Success)
        {
            string field = FieldName(e.Path);
            string expected = Describe(conversion.Groups[1].Value);
            return field.Length == 0
                ? new CniException(ErrorCode.DecodeFailure, $"error decoding network config: stdin must be {expected}")
                : new CniException(ErrorCode.DecodeFailure, $"error decoding network config: field \"{field}\": expected {expected}",
                    $"at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}");
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
        return BracketedName().Replace(p, m => (m.Index == 0 ? "" : ".") + m.Groups[1].Value);
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

    [GeneratedRegex(@"could not be converted to ([^ ]+?)\.( Path:|$)")]
    private static partial Regex ConversionFailure();

    [GeneratedRegex(@"\['([^']*)'\]")]
    private static partial Regex BracketedName();
}
