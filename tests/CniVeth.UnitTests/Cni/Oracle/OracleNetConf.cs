using System.Text.Json;
using System.Text.Json.Serialization;

namespace CniVeth.UnitTests.Cni.Oracle;

// The config schema as the source-generated System.Text.Json reader bound it until issue 16 (the classes of
// src/CniVeth/Cni/NetConf.cs at 9eda80f, attributes and all), kept as the differential test's oracle for
// CniVeth.Cni.NetConfReader. Only change since: the bridge key "nonMasqueradeCIDRs" (issue 16 adds it to both).
// Test-only: reflection and System.Text.Json metadata cost nothing here.

internal sealed class NetConf
{
    [JsonPropertyName("cniVersion")] public string? CniVersion { get; set; }
    [JsonPropertyName("cniVersions")] public RawJson? CniVersionsSection { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }

    [JsonPropertyName("bridge")] public string? Bridge { get; set; }
    [JsonPropertyName("isGateway")] public bool IsGateway { get; set; }
    [JsonPropertyName("isDefaultGateway")] public bool IsDefaultGateway { get; set; }
    [JsonPropertyName("forceAddress")] public bool ForceAddress { get; set; }
    [JsonPropertyName("ipMasq")] public bool IpMasq { get; set; }
    [JsonPropertyName("ipMasqBackend")] public string? IpMasqBackend { get; set; }
    [JsonPropertyName("nonMasqueradeCIDRs")] public List<string>? NonMasqueradeCidrs { get; set; }
    [JsonPropertyName("mtu")] public int Mtu { get; set; }
    [JsonPropertyName("hairpinMode")] public bool HairpinMode { get; set; }
    [JsonPropertyName("promiscMode")] public bool PromiscMode { get; set; }
    [JsonPropertyName("vlan")] public int Vlan { get; set; }
    [JsonPropertyName("vlanTrunk")] public RawJson? VlanTrunkSection { get; set; }
    [JsonPropertyName("preserveDefaultVlan")] public bool PreserveDefaultVlan { get; set; }
    [JsonPropertyName("enabledad")] public bool EnableDad { get; set; }
    [JsonPropertyName("macspoofchk")] public bool MacSpoofChk { get; set; }
    [JsonPropertyName("disableContainerInterface")] public bool DisableContainerInterface { get; set; }
    [JsonPropertyName("portIsolation")] public bool PortIsolation { get; set; }

    [JsonPropertyName("ipam")] public IpamConf? Ipam { get; set; }
    [JsonPropertyName("dns")] public RawJson? DnsSection { get; set; }

    [JsonPropertyName("runtimeConfig")] public RawJson? RuntimeConfigSection { get; set; }
    [JsonPropertyName("args")] public RawJson? ArgsSection { get; set; }
    [JsonPropertyName("prevResult")] public RawJson? PrevResult { get; set; }

    [JsonPropertyName("cni.dev/valid-attachments")] public RawJson? ValidAttachmentsSection { get; set; }
    [JsonPropertyName("cni.dev/attachments")] public RawJson? LegacyAttachmentsSection { get; set; }

    internal List<string>? CniVersions { get; set; }
    internal List<VlanTrunk>? VlanTrunk { get; set; }
    internal Dns? Dns { get; set; }
    internal RuntimeConfig? RuntimeConfig { get; set; }
    internal ConfArgs? Args { get; set; }

    [JsonPropertyName("logFile")] public string? LogFile { get; set; }
    [JsonPropertyName("logLevel")] public string? LogLevel { get; set; }
}

internal sealed class VlanTrunk
{
    [JsonPropertyName("minID")] public int? MinId { get; set; }
    [JsonPropertyName("maxID")] public int? MaxId { get; set; }
    [JsonPropertyName("id")] public int? Id { get; set; }
}

internal sealed class IpamConf
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("ranges")] public List<List<RangeConf>>? Ranges { get; set; }
    [JsonPropertyName("subnet")] public string? Subnet { get; set; }
    [JsonPropertyName("rangeStart")] public string? RangeStart { get; set; }
    [JsonPropertyName("rangeEnd")] public string? RangeEnd { get; set; }
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
    [JsonPropertyName("routes")] public List<RouteConf>? Routes { get; set; }
    [JsonPropertyName("dataDir")] public string? DataDir { get; set; }
    [JsonPropertyName("resolvConf")] public string? ResolvConf { get; set; }
}

internal sealed class RangeConf
{
    [JsonPropertyName("subnet")] public string? Subnet { get; set; }
    [JsonPropertyName("rangeStart")] public string? RangeStart { get; set; }
    [JsonPropertyName("rangeEnd")] public string? RangeEnd { get; set; }
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
}

internal sealed class RouteConf
{
    [JsonPropertyName("dst")] public string? Dst { get; set; }
    [JsonPropertyName("gw")] public string? Gw { get; set; }
    [JsonPropertyName("mtu")] public int? Mtu { get; set; }
    [JsonPropertyName("advmss")] public int? AdvMss { get; set; }
    [JsonPropertyName("priority")] public int? Priority { get; set; }
    [JsonPropertyName("table")] public int? Table { get; set; }
    [JsonPropertyName("scope")] public int? Scope { get; set; }
}

internal sealed class Dns
{
    [JsonPropertyName("nameservers")] public List<string>? Nameservers { get; set; }
    [JsonPropertyName("domain")] public string? Domain { get; set; }
    [JsonPropertyName("search")] public List<string>? Search { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }
}

internal sealed class RuntimeConfig
{
    [JsonPropertyName("ips")] public List<string>? Ips { get; set; }
    [JsonPropertyName("mac")] public string? Mac { get; set; }
    [JsonPropertyName("ipRanges")] public List<List<RangeConf>>? IpRanges { get; set; }
}

internal sealed class ConfArgs
{
    [JsonPropertyName("cni")] public CniConfArgs? Cni { get; set; }
}

internal sealed class CniConfArgs
{
    [JsonPropertyName("ips")] public List<string>? Ips { get; set; }
    [JsonPropertyName("mac")] public string? Mac { get; set; }
}

/// <summary>A value kept as its offsets in stdin (the old RawJson with its converter).</summary>
[JsonConverter(typeof(RawJsonConverter))]
internal sealed class RawJson(int start, int length, JsonTokenType kind)
{
    public int Start { get; } = start;
    public int Length { get; } = length;
    public JsonTokenType Kind { get; } = kind;
}

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        int start = checked((int)reader.TokenStartIndex);
        JsonTokenType kind = reader.TokenType;
        reader.Skip();
        return new RawJson(start, checked((int)reader.BytesConsumed) - start, kind);
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        throw new NotSupportedException("raw config values are never written back");
}

[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(NetConf))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<VlanTrunk>))]
[JsonSerializable(typeof(Dns))]
[JsonSerializable(typeof(RuntimeConfig))]
[JsonSerializable(typeof(ConfArgs))]
internal sealed partial class CniJsonContext : JsonSerializerContext;
