using System.Net;
using System.Text;
using System.Text.Json;
using CniVeth.Values;

namespace CniVeth.Cni;

/// <summary>
/// A result of any supported version (prevResult on stdin) -> the internal Result. The shape is chosen
/// by the result's own cniVersion, falling back to the request's: 0.1.0/0.2.0 use ip4/ip6, later ones ips[].
/// Wrong JSON types are code 6, well-typed but invalid values code 7; messages name the field path
/// (e.g. prevResult.ips[0].address). Null and absent are the same, like Go's omitempty; of repeated keys
/// the last one counts, as in Go.
/// </summary>
/// <remarks>Reads with Utf8JsonReader over the stdin bytes: a JsonDocument would cost a copy and ArrayPool
/// traffic that makes the pool calibrate its per-CPU cache (~150 µs of a CHECK). Each object's members
/// are indexed first, so fields are checked in a fixed order whatever their order in the text.</remarks>
internal static class ResultParser
{
    public static Result Parse(RawJson json, string requestVersion, string path = "prevResult") =>
        Parse(new Value(json.Bytes, json.Kind), requestVersion, path);

    private static Result Parse(Value json, string requestVersion, string path)
    {
        Members root = ObjectAt(json, path);
        string version = OptionalString(root, "cniVersion", path) ?? requestVersion;
        if (!CniVersions.IsSupported(version))
            throw CniException.Config($"{path}.cniVersion: unsupported version \"{version}\"",
                $"supported versions are {CniVersions.QuotedList}");

        var result = new Result();
        if (CniVersions.IsLegacy(version))
        {
            ParseLegacyIp(root, "ip4", path, result);
            ParseLegacyIp(root, "ip6", path, result);
        }
        else
        {
            ForEach(root, "interfaces", path, (item, p) => result.Interfaces.Add(ParseInterface(item, p)));
            ForEach(root, "ips", path, (item, p) => result.Ips.Add(ParseIp(item, p)));
            ForEach(root, "routes", path, (item, p) => result.Routes.Add(ParseRoute(item, p)));
        }
        result.Dns = ParseDns(root, path);
        return result;
    }

    private static ResultInterface ParseInterface(Members item, string path) => new()
    {
        Name = OptionalString(item, "name", path) ?? "",
        Mac = OptionalString(item, "mac", path),
        Mtu = OptionalInt(item, "mtu", path),
        Sandbox = OptionalString(item, "sandbox", path),
        SocketPath = OptionalString(item, "socketPath", path),
        PciId = OptionalString(item, "pciID", path),
    };

    private static ResultIp ParseIp(Members item, string path)
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

    private static ResultRoute ParseRoute(Members item, string path) => new()
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
    private static void ParseLegacyIp(Members json, string name, string path, Result result)
    {
        if (!json.TryGet(name, out var ipConfig)) return;
        string p = path + "." + name;
        Members ip = ObjectAt(ipConfig, p);
        result.Ips.Add(new ResultIp { Address = RequiredCidr(ip, "ip", p), Gateway = OptionalIp(ip, "gateway", p) });
        ForEach(ip, "routes", p, (item, rp) => result.Routes.Add(ParseRoute(item, rp)));
    }

    private static Dns? ParseDns(Members json, string path)
    {
        if (!json.TryGet("dns", out var dnsValue)) return null;
        string p = path + ".dns";
        Members dns = ObjectAt(dnsValue, p);
        var parsed = new Dns
        {
            Nameservers = OptionalStrings(dns, "nameservers", p),
            Domain = OptionalString(dns, "domain", p),
            Search = OptionalStrings(dns, "search", p),
            Options = OptionalStrings(dns, "options", p),
        };
        return parsed.IsEmpty ? null : parsed;
    }

    // ---- typed accessors ----

    private static void ForEach(Members obj, string name, string path, Action<Members, string> parse)
    {
        if (!obj.TryGet(name, out var array)) return;
        string p = path + "." + name;
        int i = 0;
        foreach (Value item in Elements(array, p, "an array"))
        {
            string ip = p + "[" + Index(i++) + "]";
            parse(ObjectAt(item, ip), ip);
        }
    }

    private static string? OptionalString(Members obj, string name, string path) =>
        obj.TryGet(name, out var v) ? Text(v, path + "." + name) : null;

    private static List<string>? OptionalStrings(Members obj, string name, string path)
    {
        if (!obj.TryGet(name, out var v)) return null;
        string p = path + "." + name;
        var list = new List<string>();
        int i = 0;
        foreach (Value item in Elements(v, p, "an array of strings"))
            list.Add(Text(item, p + "[" + Index(i++) + "]"));
        return list;
    }

    private static int? OptionalInt(Members obj, string name, string path)
    {
        if (!obj.TryGet(name, out var v)) return null;
        var reader = v.Reader();
        if (v.Kind != JsonTokenType.Number || !reader.TryGetInt32(out int n))
            throw new CniException(ErrorCode.DecodeFailure, $"{path}.{name}: expected an integer, got {Describe(v)}");
        return n;
    }

    private static IPAddress? OptionalIp(Members obj, string name, string path)
    {
        string? text = OptionalString(obj, name, path);
        if (text is null) return null;
        return IpText.TryParseIp(text, out var ip)
            ? ip
            : throw CniException.Config($"{path}.{name}: invalid IP address \"{text}\"");
    }

    private static CidrAddress RequiredCidr(Members obj, string name, string path)
    {
        string? text = OptionalString(obj, name, path)
            ?? throw CniException.Config($"{path}.{name}: missing (an address/prefix such as 10.88.0.5/24 is required)");
        return IpText.TryParseCidr(text, out var cidr)
            ? cidr
            : throw CniException.Config($"{path}.{name}: invalid CIDR \"{text}\"");
    }

    /// <summary>The text is kept raw until here, so its UTF-8 is only checked when read.</summary>
    private static string Text(Value v, string path)
    {
        Require(v, JsonTokenType.String, path, "a string");
        var reader = v.Reader();
        try { return reader.GetString()!; }
        catch (InvalidOperationException)
        {
            throw new CniException(ErrorCode.DecodeFailure, $"{path}: the string is not valid UTF-8");
        }
    }

    private static Members ObjectAt(Value v, string path)
    {
        Require(v, JsonTokenType.StartObject, path, "an object");
        var members = new Members();
        var reader = v.Reader();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name;
            try { name = reader.GetString()!; }
            catch (InvalidOperationException) { throw new CniException(ErrorCode.DecodeFailure, $"{path}: a key is not valid UTF-8"); }
            reader.Read();
            members.Set(name, Current(ref reader, v));
        }
        return members;
    }

    private static List<Value> Elements(Value v, string path, string expected)
    {
        Require(v, JsonTokenType.StartArray, path, expected);
        var items = new List<Value>();
        var reader = v.Reader();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            items.Add(Current(ref reader, v));
        return items;
    }

    /// <summary>The value the reader is on, as a slice of <paramref name="within"/>; leaves the reader at its end.</summary>
    private static Value Current(ref Utf8JsonReader reader, Value within)
    {
        int start = (int)reader.TokenStartIndex;
        JsonTokenType kind = reader.TokenType;
        reader.Skip();
        return new Value(within.Bytes.Slice(start, (int)reader.BytesConsumed - start), kind);
    }

    private static void Require(Value v, JsonTokenType kind, string path, string expected)
    {
        if (v.Kind != kind)
            throw new CniException(ErrorCode.DecodeFailure, $"{path}: expected {expected}, got {Describe(v)}");
    }

    private static string Describe(Value v) => v.Kind switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "the number " + Encoding.UTF8.GetString(v.Bytes.Span),
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => "null",
    };

    private static string Index(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One JSON value: its bytes (already validated by the reader that found it) and its first token.</summary>
    private readonly record struct Value(ReadOnlyMemory<byte> Bytes, JsonTokenType Kind)
    {
        public Utf8JsonReader Reader()
        {
            var reader = new Utf8JsonReader(Bytes.Span);
            reader.Read();
            return reader;
        }
    }

    /// <summary>An object's members by name; null members count as absent.</summary>
    private sealed class Members
    {
        private readonly Dictionary<string, Value> _byName = new(StringComparer.Ordinal);

        public void Set(string name, Value value) => _byName[name] = value;

        public bool TryGet(string name, out Value value) =>
            _byName.TryGetValue(name, out value) && value.Kind != JsonTokenType.Null;
    }
}
