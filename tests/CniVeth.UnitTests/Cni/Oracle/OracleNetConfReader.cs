using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni.Oracle;

/// <summary>
/// The stdin reader as it was until issue 16 (src/CniVeth/Cni/NetConfReader.cs at 9eda80f): source-generated
/// System.Text.Json, its exceptions turned into CNI errors. <see cref="Parse"/> returns what it bound as a
/// CniVeth.Cni.NetConf, so the differential test compares the two readers through one canonical dump.
/// </summary>
internal static class OracleNetConfReader
{
    private static readonly CniJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        Encoder = MinimalJsonEncoder.Instance,
    });

    internal static JsonSerializerOptions Options => Context.Options;

    public static CniVeth.Cni.NetConf Parse(byte[] json) => ToNetConf(ParseOracle(json), json);

    public static NetConf ParseOracle(byte[] json)
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
        conf.CniVersions = Section(json, conf.CniVersionsSection, static () => Context.ListString, "cniVersions");
        conf.VlanTrunk = Section(json, conf.VlanTrunkSection, static () => Context.ListVlanTrunk, "vlanTrunk");
        conf.Dns = Section(json, conf.DnsSection, static () => Context.Dns, "dns");
        conf.RuntimeConfig = Section(json, conf.RuntimeConfigSection, static () => Context.RuntimeConfig, "runtimeConfig");
        conf.Args = Section(json, conf.ArgsSection, static () => Context.ConfArgs, "args");
        return conf;
    }

    private static T? Section<T>(byte[] json, RawJson? raw, Func<System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>> info, string key)
        where T : class
    {
        if (raw is null) return null;
        try
        {
            return JsonSerializer.Deserialize(json.AsSpan(raw.Start, raw.Length), info());
        }
        catch (JsonException e)
        {
            throw FromJsonException(e, key);
        }
    }

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
                    section is null ? $"at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}" : "");
        }
        string message = e.Message;
        int pathAt = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (pathAt > 0) message = message[..pathAt];
        return new CniException(ErrorCode.DecodeFailure, $"error decoding network config: invalid JSON: {message.TrimEnd('.', ' ')}",
            e.LineNumber is { } line ? $"at line {line + 1}, byte {e.BytePositionInLine + 1}" : "");
    }

    public static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "";
        string p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
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

    // ---- the oracle's classes -> the plugin's NetConf (every field; NetConfDump checks none is left out) ----

    private static CniVeth.Cni.NetConf ToNetConf(NetConf o, byte[] json) => new()
    {
        CniVersion = o.CniVersion,
        Name = o.Name,
        Type = o.Type,
        Bridge = o.Bridge,
        IsGateway = o.IsGateway,
        IsDefaultGateway = o.IsDefaultGateway,
        ForceAddress = o.ForceAddress,
        IpMasq = o.IpMasq,
        IpMasqBackend = o.IpMasqBackend,
        NonMasqueradeCidrs = o.NonMasqueradeCidrs,
        Mtu = o.Mtu,
        HairpinMode = o.HairpinMode,
        PromiscMode = o.PromiscMode,
        Vlan = o.Vlan,
        PreserveDefaultVlan = o.PreserveDefaultVlan,
        EnableDad = o.EnableDad,
        MacSpoofChk = o.MacSpoofChk,
        DisableContainerInterface = o.DisableContainerInterface,
        PortIsolation = o.PortIsolation,
        Ipam = o.Ipam is null ? null : new CniVeth.Cni.IpamConf
        {
            Type = o.Ipam.Type,
            Ranges = RangeSets(o.Ipam.Ranges),
            Subnet = o.Ipam.Subnet,
            RangeStart = o.Ipam.RangeStart,
            RangeEnd = o.Ipam.RangeEnd,
            Gateway = o.Ipam.Gateway,
            Routes = o.Ipam.Routes?.ConvertAll(r => r is null ? null! : new CniVeth.Cni.RouteConf
            {
                Dst = r.Dst, Gw = r.Gw, Mtu = r.Mtu, AdvMss = r.AdvMss, Priority = r.Priority, Table = r.Table, Scope = r.Scope,
            }),
            DataDir = o.Ipam.DataDir,
            ResolvConf = o.Ipam.ResolvConf,
        },
        PrevResult = Raw(o.PrevResult, json),
        ValidAttachmentsSection = Raw(o.ValidAttachmentsSection, json),
        LegacyAttachmentsSection = Raw(o.LegacyAttachmentsSection, json),
        CniVersions = o.CniVersions,
        VlanTrunk = o.VlanTrunk?.ConvertAll(v => v is null ? null! : new CniVeth.Cni.VlanTrunk { MinId = v.MinId, MaxId = v.MaxId, Id = v.Id }),
        Dns = o.Dns is null ? null : new CniVeth.Cni.Dns
        {
            Nameservers = o.Dns.Nameservers, Domain = o.Dns.Domain, Search = o.Dns.Search, Options = o.Dns.Options,
        },
        RuntimeConfig = o.RuntimeConfig is null ? null : new CniVeth.Cni.RuntimeConfig
        {
            Ips = o.RuntimeConfig.Ips, Mac = o.RuntimeConfig.Mac, IpRanges = RangeSets(o.RuntimeConfig.IpRanges),
        },
        Args = o.Args is null ? null : new CniVeth.Cni.ConfArgs
        {
            Cni = o.Args.Cni is null ? null : new CniVeth.Cni.CniConfArgs { Ips = o.Args.Cni.Ips, Mac = o.Args.Cni.Mac },
        },
        LogFile = o.LogFile,
        LogLevel = o.LogLevel,
    };

    private static List<List<CniVeth.Cni.RangeConf>>? RangeSets(List<List<RangeConf>>? sets) =>
        sets?.ConvertAll(set => set?.ConvertAll(r => r is null ? null! : new CniVeth.Cni.RangeConf
        {
            Subnet = r.Subnet, RangeStart = r.RangeStart, RangeEnd = r.RangeEnd, Gateway = r.Gateway,
        })!);

    private static CniVeth.Cni.RawJson? Raw(RawJson? raw, byte[] json) =>
        raw is null ? null : new CniVeth.Cni.RawJson(raw.Start, raw.Length, raw.Kind).Within(json);
}
