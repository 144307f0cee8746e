namespace CniVeth.Cni;

/// <summary>
/// The per-plugin request object on stdin: every key of the reference bridge plugin and of host-local.
/// Plain data: NetConfReader is the one place that knows the JSON keys (named in the comments here) and
/// binds them. Unknown keys are tolerated (runtimes pass them through).
/// </summary>
internal sealed class NetConf
{
    public string? CniVersion { get; set; }          // cniVersion
    public List<string>? CniVersions { get; set; }   // cniVersions
    public string? Name { get; set; }                // name
    public string? Type { get; set; }                // type

    // Bridge plugin keys (cni-features.md §2.1).
    public string? Bridge { get; set; }              // bridge
    public bool IsGateway { get; set; }              // isGateway
    public bool IsDefaultGateway { get; set; }       // isDefaultGateway
    public bool ForceAddress { get; set; }           // forceAddress
    public bool IpMasq { get; set; }                 // ipMasq
    public string? IpMasqBackend { get; set; }       // ipMasqBackend
    /// <summary>Destinations the masquerade rule leaves alone (nonMasqueradeCIDRs; null when absent).</summary>
    public List<string>? NonMasqueradeCidrs { get; set; }
    public int Mtu { get; set; }                     // mtu
    public bool HairpinMode { get; set; }            // hairpinMode
    public bool PromiscMode { get; set; }            // promiscMode
    public int Vlan { get; set; }                    // vlan
    public List<VlanTrunk>? VlanTrunk { get; set; }  // vlanTrunk
    public bool PreserveDefaultVlan { get; set; }    // preserveDefaultVlan
    public bool EnableDad { get; set; }              // enabledad
    public bool MacSpoofChk { get; set; }            // macspoofchk
    public bool DisableContainerInterface { get; set; } // disableContainerInterface
    public bool PortIsolation { get; set; }          // portIsolation

    public IpamConf? Ipam { get; set; }              // ipam
    public Dns? Dns { get; set; }                    // dns

    public RuntimeConfig? RuntimeConfig { get; set; } // runtimeConfig
    public ConfArgs? Args { get; set; }              // args
    /// <summary>prevResult, kept raw: its shape depends on its own cniVersion (parsed by ResultParser).</summary>
    public RawJson? PrevResult { get; set; }

    // GC (spec 1.1). libcni sends both spellings; read by ValidAttachments, in place.
    public RawJson? ValidAttachmentsSection { get; set; }  // cni.dev/valid-attachments
    public RawJson? LegacyAttachmentsSection { get; set; } // cni.dev/attachments

    // Diagnostics (never stdout).
    public string? LogFile { get; set; }             // logFile
    public string? LogLevel { get; set; }            // logLevel

    /// <summary>Effective bridge name: the reference default is cni0.</summary>
    public string BridgeName => string.IsNullOrEmpty(Bridge) ? "cni0" : Bridge!;
    public bool HasIpam => !string.IsNullOrEmpty(Ipam?.Type);
}

internal sealed class VlanTrunk
{
    public int? MinId { get; set; }   // minID
    public int? MaxId { get; set; }   // maxID
    public int? Id { get; set; }      // id
}

internal sealed class IpamConf
{
    public string? Type { get; set; }                      // type
    public List<List<RangeConf>>? Ranges { get; set; }     // ranges
    // Legacy single-range form.
    public string? Subnet { get; set; }                    // subnet
    public string? RangeStart { get; set; }                // rangeStart
    public string? RangeEnd { get; set; }                  // rangeEnd
    public string? Gateway { get; set; }                   // gateway
    public List<RouteConf>? Routes { get; set; }           // routes
    public string? DataDir { get; set; }                   // dataDir
    public string? ResolvConf { get; set; }                // resolvConf
}

internal sealed class RangeConf
{
    public string? Subnet { get; set; }       // subnet
    public string? RangeStart { get; set; }   // rangeStart
    public string? RangeEnd { get; set; }     // rangeEnd
    public string? Gateway { get; set; }      // gateway
}

internal sealed class RouteConf
{
    public string? Dst { get; set; }     // dst
    public string? Gw { get; set; }      // gw
    public int? Mtu { get; set; }        // mtu
    public int? AdvMss { get; set; }     // advmss
    public int? Priority { get; set; }   // priority
    public int? Table { get; set; }      // table
    public int? Scope { get; set; }      // scope
}

/// <summary>The config's "dns" section, and a result's.</summary>
internal sealed class Dns
{
    public List<string>? Nameservers { get; set; }   // nameservers
    public string? Domain { get; set; }              // domain
    public List<string>? Search { get; set; }        // search
    public List<string>? Options { get; set; }       // options

    public bool IsEmpty => (Nameservers is null || Nameservers.Count == 0) && string.IsNullOrEmpty(Domain)
        && (Search is null || Search.Count == 0) && (Options is null || Options.Count == 0);
}

internal sealed class RuntimeConfig
{
    public List<string>? Ips { get; set; }                 // ips
    public string? Mac { get; set; }                       // mac
    public List<List<RangeConf>>? IpRanges { get; set; }   // ipRanges
}

internal sealed class ConfArgs
{
    public CniConfArgs? Cni { get; set; }   // cni
}

internal sealed class CniConfArgs
{
    public List<string>? Ips { get; set; }   // ips
    public string? Mac { get; set; }         // mac
}
