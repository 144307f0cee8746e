using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Reads a delegated IPAM plugin's stdout: a result of any spec version, or an error object.</summary>
internal static class DelegateResultParser
{
    /// <summary>The delegate's result in any version shape, through the same parser as prevResult.</summary>
    public static Result ParseResult(string json, string plugin, string requestVersion)
    {
        using (Parse(json, plugin)) { } // the whole text must be JSON; the parser then reads it in place
        return ResultParser.Parse(RawJson.Of(System.Text.Encoding.UTF8.GetBytes(json)), requestVersion, $"result of IPAM plugin {plugin}");
    }

    /// <summary>Throws the delegate's error object (or a description of its garbled output).</summary>
    public static CniException ParseError(string output, string plugin, int exitCode)
    {
        try
        {
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("code", out var code) && code.TryGetInt32(out int c))
                return new CniException(c,
                    root.TryGetProperty("msg", out var m) ? m.GetString() ?? "" : "",
                    root.TryGetProperty("details", out var d) ? d.GetString() ?? "" : "");
        }
        catch (JsonException) { }
        return CniException.Internal($"IPAM plugin {plugin} failed (exit {exitCode})", output.Trim());
    }

    private static JsonDocument Parse(string json, string plugin)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e)
        {
            throw new CniException(ErrorCode.DecodeFailure, $"cannot parse the result of IPAM plugin {plugin}: {e.Message}");
        }
    }
}
