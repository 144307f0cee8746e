namespace CniVeth.Cni;

/// <summary>The CNI_* variables of one invocation.</summary>
internal sealed record CniEnvironment
{
    public string Command { get; init; } = "";
    public string ContainerId { get; init; } = "";
    public string NetNs { get; init; } = "";
    public string IfName { get; init; } = "";
    public string Args { get; init; } = "";
    public string Path { get; init; } = "";
    /// <summary>CNI_NETNS_OVERRIDE: skip the "CNI_NETNS is our own namespace" check.</summary>
    public bool NetNsOverride { get; init; }

    public static CniEnvironment FromProcess(Func<string, string?> get) => new()
    {
        Command = get("CNI_COMMAND") ?? "",
        ContainerId = get("CNI_CONTAINERID") ?? "",
        NetNs = get("CNI_NETNS") ?? "",
        IfName = get("CNI_IFNAME") ?? "",
        Args = get("CNI_ARGS") ?? "",
        Path = get("CNI_PATH") ?? "",
        // skel compares case-insensitively with "true", or "1"
        NetNsOverride = get("CNI_NETNS_OVERRIDE") is { } o && (o == "1" || o.Equals("true", StringComparison.OrdinalIgnoreCase)),
    };
}
