using System.Text;
using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Reads a delegated IPAM plugin's stdout: a result of any spec version, or an error object.</summary>
/// <remarks>With Utf8JsonReader, not JsonDocument: a JsonDocument's duplicate-key set seeds System.Text.Json's
/// string hashing from RandomNumberGenerator (OpenSSL), which the static executable cannot load.</remarks>
internal static class DelegateResultParser
{
    /// <summary>The delegate's result in any version shape, through the same parser as prevResult.</summary>
    public static Result ParseResult(string json, string plugin, string requestVersion)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        try
        {
            var reader = new Utf8JsonReader(bytes);
            while (reader.Read()) { } // the whole text must be one JSON value; the parser then reads it in place
        }
        catch (JsonException e)
        {
            throw new CniException(ErrorCode.DecodeFailure, $"cannot parse the result of IPAM plugin {plugin}: {e.Message}");
        }
        return ResultParser.Parse(RawJson.Of(bytes), requestVersion, $"result of IPAM plugin {plugin}");
    }

    /// <summary>The delegate's error object as a CniException (its last "code", "msg" and "details", as
    /// JSON readers take duplicate keys), or a description of its garbled output.</summary>
    public static CniException ParseError(string output, string plugin, int exitCode)
    {
        int? code = null;
        string msg = "", details = "";
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(output));
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    string key = reader.GetString()!;
                    reader.Read();
                    switch (key)
                    {
                        case "code": code = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int c) ? c : null; break;
                        case "msg": msg = StringOrEmpty(ref reader); break;
                        case "details": details = StringOrEmpty(ref reader); break;
                        default: reader.Skip(); break;
                    }
                }
                while (reader.Read()) { } // nothing but whitespace may follow the object
                if (code is int found) return new CniException(found, msg, details);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }
        return CniException.Internal($"IPAM plugin {plugin} failed (exit {exitCode})", output.Trim());
    }

    private static string StringOrEmpty(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.GetString()!;
        reader.Skip();
        return "";
    }
}
