using System.Net;
using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// A result of any supported version (prevResult on stdin) -> the internal Result. The shape is chosen
/// by the result's own cniVersion, falling back to the request's: 0.1.0/0.2.0 use ip4/ip6, later ones ips[].
/// Wrong JSON types are code 6, well-typed but invalid values code 7; messages name the field path
/// (e.g. prevResult.ips[0].address).
/// </summary>
internal static class ResultParser
{
    public static Result Parse(JsonElement json, string requestVersion, string path = "prevResult")
    {
        RequireKind(json, JsonValueKind.Object, path, "an object");
        string version = OptionalString(json, "cniVersion", path) ?? requestVersion;
        if (!CniVersions.IsSupported(version))
            throw CniException.Config($"{path}.cniVersion: unsupported version \"{version}\"",
                $"supported versions are {CniVersions.QuotedList}");

        var result = new Result();
        if (CniVersions.IsLegacy(version))
        {
            ParseLegacyIp(json, "ip4", path, result);
            ParseLegacyIp(json, "ip6", path, result);
        }
        else
        {
            ForEach(json, "interfaces", path, (item, p) => result.Interfaces.Add(ParseInterface(item, p)));
            ForEach(json, "ips", path, (item, p) => result.Ips.Add(ParseIp(item, p)));
            ForEach(json, "routes", path, (item, p) => result.Routes.Add(ParseRoute(item, p)));
        }
        result.Dns = ParseDns(json, path);
        return result;
    }

    private static ResultInterface ParseInterface(JsonElement item, string path) => new()
    {
        Name = OptionalString(item, "name", path) ?? "",
        Mac = OptionalString(item, "mac", path),
        Mtu = OptionalInt(item, "mtu", path),
        Sandbox = OptionalString(item, "sandbox", path),
        SocketPath = OptionalString(item, "socketPath", path),
        PciId = OptionalString(item, "pciID", path),
    };

    private static ResultIp ParseIp(JsonElement item, string path)
    {
        int? index = OptionalInt(item, "interface", path);
        if (index < 0)
            throw CniException.Config($"{path}.interface: must not be negative, got {index}");
        return new ResultIp
        {
            Address = RequiredCidr(item, "address", path),
            Gateway = OptionalIp(item, "gateway", path),
            Interface = index,
        };
    }

    private static ResultRoute ParseRoute(JsonElement item, string path) => new()
    {
        Dst = RequiredCidr(item, "dst", path),
        Gw = OptionalIp(item, "gw", path),
        Mtu = OptionalInt(item, "mtu", path),
        AdvMss = OptionalInt(item, "advmss", path),
        Priority = OptionalInt(item, "priority", path),
        Table = OptionalInt(item, "table", path),
        Scope = OptionalInt(item, "scope", path),
    };

    /// <summary>0.1.0/0.2.0 {ip, gateway, routes} -> one address plus its routes.</summary>
    private static void ParseLegacyIp(JsonElement json, string name, string path, Result result)
    {
        if (!TryGet(json, name, out var ipConfig)) return;
        string p = $"{path}.{name}";
        RequireKind(ipConfig, JsonValueKind.Object, p, "an object");
        result.Ips.Add(new ResultIp { Address = RequiredCidr(ipConfig, "ip", p), Gateway = OptionalIp(ipConfig, "gateway", p) });
        ForEach(ipConfig, "routes", p, (item, rp) => result.Routes.Add(ParseRoute(item, rp)));
    }

    private static Dns? ParseDns(JsonElement json, string path)
    {
        if (!TryGet(json, "dns", out var dns)) return null;
        string p = $"{path}.dns";
        RequireKind(dns, JsonValueKind.Object, p, "an object");
        var parsed = new Dns
        {
            Nameservers = OptionalStrings(dns, "nameservers", p),
            Domain = OptionalString(dns, "domain", p),
            Search = OptionalStrings(dns, "search", p),
            Options = OptionalStrings(dns, "options", p),
        };
        return parsed.IsEmpty ? null : parsed;
    }

    // ---- typed accessors: null and absent are the same, like Go's omitempty ----

    private static bool TryGet(JsonElement obj, string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static void ForEach(JsonElement obj, string name, string path, Action<JsonElement, string> parse)
    {
        if (!TryGet(obj, name, out var array)) return;
        RequireKind(array, JsonValueKind.Array, $"{path}.{name}", "an array");
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string p = $"{path}.{name}[{i++}]";
            RequireKind(item, JsonValueKind.Object, p, "an object");
            parse(item, p);
        }
    }

    private static string? OptionalString(JsonElement obj, string name, string path)
    {
        if (!TryGet(obj, name, out var v)) return null;
        RequireKind(v, JsonValueKind.String, $"{path}.{name}", "a string");
        return Text(v, $"{path}.{name}");
    }

    /// <summary>prevResult is kept as raw JSON, whose strings are only UTF-8-checked when read.</summary>
    private static string Text(JsonElement v, string path)
    {
        try { return v.GetString()!; }
        catch (InvalidOperationException)
        {
            throw new CniException(ErrorCode.DecodeFailure, $"{path}: the string is not valid UTF-8");
        }
    }

    private static List<string>? OptionalStrings(JsonElement obj, string name, string path)
    {
        if (!TryGet(obj, name, out var v)) return null;
        RequireKind(v, JsonValueKind.Array, $"{path}.{name}", "an array of strings");
        var list = new List<string>();
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            RequireKind(item, JsonValueKind.String, $"{path}.{name}[{i}]", "a string");
            list.Add(Text(item, $"{path}.{name}[{i++}]"));
        }
        return list;
    }

    private static int? OptionalInt(JsonElement obj, string name, string path)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n))
            throw new CniException(ErrorCode.DecodeFailure, $"{path}.{name}: expected an integer, got {Describe(v)}");
        return n;
    }

    private static IPAddress? OptionalIp(JsonElement obj, string name, string path)
    {
        string? text = OptionalString(obj, name, path);
        if (text is null) return null;
        return AddressText.TryParseIp(text, out var ip)
            ? ip
            : throw CniException.Config($"{path}.{name}: invalid IP address \"{text}\"");
    }

    private static CidrAddress RequiredCidr(JsonElement obj, string name, string path)
    {
        string? text = OptionalString(obj, name, path)
            ?? throw CniException.Config($"{path}.{name}: missing (an address/prefix such as 10.88.0.5/24 is required)");
        return AddressText.TryParseCidr(text, out var cidr)
            ? cidr
            : throw CniException.Config($"{path}.{name}: invalid CIDR \"{text}\"");
    }

    private static void RequireKind(JsonElement v, JsonValueKind kind, string path, string expected)
    {
        if (v.ValueKind != kind)
            throw new CniException(ErrorCode.DecodeFailure, $"{path}: expected {expected}, got {Describe(v)}");
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
