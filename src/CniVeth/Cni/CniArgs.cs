namespace CniVeth.Cni;

/// <summary>
/// CNI_ARGS ("K=V;K=V"), parsed like the reference's types.LoadArgs: keys are case-sensitive, a pair
/// must split into exactly two on '=', unknown keys fail unless IgnoreUnknown is 1/true/True.
/// Deliberate differences: the Kubernetes keys are always known (kubelet, containerd and CRI-O send
/// them), and empty segments ("A=1;") are tolerated instead of being an invalid pair.
/// </summary>
internal sealed class CniArgs
{
    public static readonly CniArgs Empty = new();
    public bool IgnoreUnknown { get; init; }
    /// <summary>IP= as given: one or more addresses, comma-separated, each with an optional /prefix.</summary>
    public string? Ip { get; init; }
    public string? Mac { get; init; }
    public string? K8sPodName { get; init; }
    public string? K8sPodNamespace { get; init; }
    public string? K8sPodInfraContainerId { get; init; }
    public string? K8sPodUid { get; init; }

    public static readonly IReadOnlyList<string> KnownKeys =
        ["IgnoreUnknown", "IP", "MAC", "K8S_POD_NAME", "K8S_POD_NAMESPACE", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"];

    /// <summary>Throws CniException (code 4, invalid environment) with the reference's "ARGS: ..." texts.</summary>
    public static CniArgs Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return Empty;

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknownPairs = new List<string>();
        foreach (var pair in text.Split(';'))
        {
            if (pair.Length == 0) continue;
            var kv = pair.Split('=');
            if (kv.Length != 2)
                throw Invalid($"ARGS: invalid pair {GoQuote(pair)}", "each CNI_ARGS entry must be KEY=VALUE; values cannot contain '=' or ';'");
            if (KnownKeys.Contains(kv[0], StringComparer.Ordinal))
                values[kv[0]] = kv[1];
            else
                unknownPairs.Add(pair);
        }

        bool ignoreUnknown = false;
        if (values.TryGetValue("IgnoreUnknown", out var ignoreText))
        {
            ignoreUnknown = ignoreText switch
            {
                "1" or "true" or "True" => true,
                "0" or "false" or "False" => false,
                _ => throw Invalid($"ARGS: error parsing value of pair {GoQuote("IgnoreUnknown=" + ignoreText)}: boolean unmarshal error: invalid input {ignoreText}",
                    "IgnoreUnknown takes 1, true, True, 0, false or False"),
            };
        }
        if (unknownPairs.Count > 0 && !ignoreUnknown)
            throw Invalid($"ARGS: unknown args [{string.Join(" ", unknownPairs.Select(GoQuote))}]",
                $"known CNI_ARGS keys are {string.Join(", ", KnownKeys)} (case-sensitive); add IgnoreUnknown=1 to skip others");

        return new CniArgs
        {
            IgnoreUnknown = ignoreUnknown,
            Ip = values.GetValueOrDefault("IP"),
            Mac = values.GetValueOrDefault("MAC"),
            K8sPodName = values.GetValueOrDefault("K8S_POD_NAME"),
            K8sPodNamespace = values.GetValueOrDefault("K8S_POD_NAMESPACE"),
            K8sPodInfraContainerId = values.GetValueOrDefault("K8S_POD_INFRA_CONTAINER_ID"),
            K8sPodUid = values.GetValueOrDefault("K8S_POD_UID"),
        };
    }

    private static CniException Invalid(string message, string details) =>
        new(ErrorCode.InvalidEnvironment, message, details);

    private static string GoQuote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
