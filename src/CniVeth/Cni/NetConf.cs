using System.Text.Json;
using System.Text.Json.Serialization;

namespace CniVeth.Cni;

/// <summary>
/// The per-plugin request object on stdin: every key of the reference bridge plugin and of
/// host-local. Unknown keys are tolerated (runtimes pass them through).
/// </summary>
internal sealed class NetConf
{
    [JsonPropertyName("cniVersion")] public string? CniVersion { get; set; }
    [JsonPropertyName("cniVersions")] public RawJson? CniVersionsSection { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }

    // Bridge plugin keys (cni-features.md §2.1).
    [JsonPropertyName("bridge")] public string? Bridge { get; set; }
    [JsonPropertyName("isGateway")] public bool IsGateway { get; set; }
    [JsonPropertyName("isDefaultGateway")] public bool IsDefaultGateway { get; set; }
    [JsonPropertyName("forceAddress")] public bool ForceAddress { get; set; }
    [JsonPropertyName("ipMasq")] public bool IpMasq { get; set; }
    [JsonPropertyName("ipMasqBackend")] public string? IpMasqBackend { get; set; }
    /// <summary>Destinations never masqueraded (ip-masq-agent's setting of that name), CIDR strings.</summary>
    [JsonPropertyName("nonMasqueradeCIDRs")] public RawJson? NonMasqueradeCidrsSection { get; set; }
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
    /// <summary>Kept raw: its shape depends on its own cniVersion (parsed by ResultParser).</summary>
    [JsonPropertyName("prevResult")] public RawJson? PrevResult { get; set; }

    // GC (spec 1.1). libcni sends both spellings; read by ValidAttachments, in place.
    [JsonPropertyName("cni.dev/valid-attachments")] public RawJson? ValidAttachmentsSection { get; set; }
    [JsonPropertyName("cni.dev/attachments")] public RawJson? LegacyAttachmentsSection { get; set; }

    // The keys above that end in "Section" are bound by NetConfReader, and only when present. System.Text.Json
    // builds metadata for the type of every property of a class on first use, ~25 µs per type in a NativeAOT
    // process (attribute lookups through reflection), and most calls carry none of these keys.
    // Internal, so the source generator leaves them out.
    internal List<string>? CniVersions { get; set; }
    internal List<string>? NonMasqueradeCidrs { get; set; }
    internal List<VlanTrunk>? VlanTrunk { get; set; }
    internal Dns? Dns { get; set; }
    internal RuntimeConfig? RuntimeConfig { get; set; }
    internal ConfArgs? Args { get; set; }

    // Diagnostics (never stdout).
    [JsonPropertyName("logFile")] public string? LogFile { get; set; }
    [JsonPropertyName("logLevel")] public string? LogLevel { get; set; }

    /// <summary>Effective bridge name: the reference default is cni0.</summary>
    [JsonIgnore] public string BridgeName => string.IsNullOrEmpty(Bridge) ? "cni0" : Bridge!;
    [JsonIgnore] public bool HasIpam => !string.IsNullOrEmpty(Ipam?.Type);
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
    // Legacy single-range form.
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

    [JsonIgnore]
    public bool IsEmpty => (Nameservers is null || Nameservers.Count == 0) && string.IsNullOrEmpty(Domain)
        && (Search is null || Search.Count == 0) && (Options is null || Options.Count == 0);
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

[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    // Go's encoding/json matches keys case-insensitively: configs that work with the reference
    // plugins ("isgateway", "MTU") must work here too.
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
