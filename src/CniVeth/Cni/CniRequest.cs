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

    private string? _mac;
    private bool _macResolved;
    private IReadOnlyList<System.Net.IPAddress>? _requestedIps;

    /// <summary>Container MAC asked for (runtimeConfig.mac &gt; args.cni.mac &gt; CNI_ARGS MAC), normalized to
    /// "c2:11:22:33:44:55"; null when none. Throws CniException code 7 on first access if invalid, so
    /// only verbs that use it (ADD) fail on a bad value.</summary>
    public string? Mac
    {
        get
        {
            if (!_macResolved) { _mac = RequestedValues.Mac(Conf, Args); _macResolved = true; }
            return _mac;
        }
    }

    /// <summary>Static addresses asked for: runtimeConfig.ips + (args.cni.ips, else CNI_ARGS IP).
    /// Prefixes ignored. Throws CniException code 7 on first access if one is invalid.</summary>
    public IReadOnlyList<System.Net.IPAddress> RequestedIps => _requestedIps ??= RequestedValues.Ips(Conf, Args);
}
