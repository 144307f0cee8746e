namespace CniVeth.Cni;

/// <summary>CNI_ARGS (K=V;K=V). Parsed by CniArgs.Parse.</summary>
internal sealed class CniArgs
{
    public static readonly CniArgs Empty = new();
    public string? Ip { get; init; }
    public string? Mac { get; init; }
    public string? K8sPodName { get; init; }
    public string? K8sPodNamespace { get; init; }
    public string? K8sPodInfraContainerId { get; init; }
    public string? K8sPodUid { get; init; }
}
