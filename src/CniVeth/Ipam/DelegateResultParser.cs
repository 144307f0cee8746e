using System.Net;
using Dns = CniVeth.Cni.Dns;
using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.Ipam;

/// <summary>Reads a delegated IPAM plugin's stdout: a result of any spec version (0.1/0.2 "ip4"/"ip6"
/// objects or 0.3+ "ips") or an error object.</summary>
internal static class DelegateResultParser
{
    public static Result ParseResult(string json, string plugin)
    {
        using var doc = Parse(json, plugin);
        var root = doc.RootElement;
        var result = new Result();
        if (root.TryGetProperty("ips", out var ips) && ips.ValueKind == JsonValueKind.Array)
        {
            foreach (var ip in ips.EnumerateArray())
                result.Ips.Add(new ResultIp { Address = Cidr(ip, "address", plugin), Gateway = Address(ip, "gateway") });
            AddRoutes(root, result, plugin);
        }
        foreach (string legacy in (string[])["ip4", "ip6"])
        {
            if (!root.TryGetProperty(legacy, out var block) || block.ValueKind != JsonValueKind.Object) continue;
            result.Ips.Add(new ResultIp { Address = Cidr(block, "ip", plugin), Gateway = Address(block, "gateway") });
            AddRoutes(block, result, plugin);
        }
        if (root.TryGetProperty("dns", out var dns) && dns.ValueKind == JsonValueKind.Object)
        {
            var parsed = new Dns
            {
                Nameservers = Strings(dns, "nameservers"),
                Domain = dns.TryGetProperty("domain", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null,
                Search = Strings(dns, "search"),
                Options = Strings(dns, "options"),
            };
            if (!parsed.IsEmpty) result.Dns = parsed;
        }
        return result;
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

    private static void AddRoutes(JsonElement owner, Result result, string plugin)
    {
        if (!owner.TryGetProperty("routes", out var routes) || routes.ValueKind != JsonValueKind.Array) return;
        foreach (var route in routes.EnumerateArray())
            result.Routes.Add(new ResultRoute { Dst = Cidr(route, "dst", plugin), Gw = Address(route, "gw") });
    }

    private static CidrAddress Cidr(JsonElement owner, string name, string plugin)
    {
        string text = owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        int slash = text.IndexOf('/');
        if (slash > 0 && IPAddress.TryParse(text[..slash], out var address) && int.TryParse(text[(slash + 1)..], out int prefix))
            return new CidrAddress(address, prefix);
        throw new CniException(ErrorCode.DecodeFailure, $"IPAM plugin {plugin} returned an invalid {name} \"{text}\"");
    }

    private static IPAddress? Address(JsonElement owner, string name) =>
        owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && IPAddress.TryParse(v.GetString(), out var a) ? a : null;

    private static List<string>? Strings(JsonElement owner, string name) =>
        owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : null;
}
