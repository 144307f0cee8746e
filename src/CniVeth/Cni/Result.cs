using System.Net;
using CniVeth.Values;

namespace CniVeth.Cni;

/// <summary>The one internal result model, shaped like spec 1.1. Converted on output (ResultWriter).</summary>
internal sealed class Result
{
    public List<ResultInterface> Interfaces { get; } = new();
    public List<ResultIp> Ips { get; } = new();
    public List<ResultRoute> Routes { get; } = new();
    public Dns? Dns { get; set; }
}

internal sealed class ResultInterface
{
    public required string Name { get; set; }
    public string? Mac { get; set; }
    public int? Mtu { get; set; }
    /// <summary>Netns path for an interface inside the container; null for host interfaces.</summary>
    public string? Sandbox { get; set; }
    public string? SocketPath { get; set; }
    public string? PciId { get; set; }
}

internal sealed class ResultIp
{
    public required CidrAddress Address { get; set; }
    public IPAddress? Gateway { get; set; }
    /// <summary>Index into Interfaces; null in IPAM results.</summary>
    public int? Interface { get; set; }
}

internal sealed class ResultRoute
{
    /// <summary>Destination network, kept exactly as given (host bits are not cleared).</summary>
    public required CidrAddress Dst { get; set; }
    public IPAddress? Gw { get; set; }
    public int? Mtu { get; set; }
    public int? AdvMss { get; set; }
    public int? Priority { get; set; }
    public int? Table { get; set; }
    public int? Scope { get; set; }
}
