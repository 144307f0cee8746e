namespace CniVeth.Cni;

/// <summary>Everything a verb needs: the validated environment, the parsed config and the raw stdin.</summary>
internal sealed class CniRequest
{
    public required CniEnvironment Env { get; init; }
    public required NetConf Conf { get; init; }
    /// <summary>Stdin as received: delegated IPAM plugins get exactly these bytes.</summary>
    public required byte[] RawConfig { get; init; }
    /// <summary>The request's cniVersion ("0.1.0" when the config has none).</summary>
    public required string Version { get; init; }
    public required CniArgs Args { get; init; }
    /// <summary>prevResult converted to the internal model, when present.</summary>
    public Result? PrevResult { get; init; }

    public string NetworkName => Conf.Name ?? "";
}
