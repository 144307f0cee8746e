using CniVeth.Values;

namespace CniVeth.Cni;

/// <summary>
/// The reference skel's checks on CNI_* variables and names (cni:pkg/skel, cni:pkg/utils), with the
/// same codes and messages so runtimes and people see what they would see with the Go plugins.
/// </summary>
internal static class EnvironmentValidator
{
    public const int MaxInterfaceNameBytes = 15; // IFNAMSIZ - 1

    /// <summary>Throws code 4 naming every required-but-empty variable of the verb at once.</summary>
    public static void RequireVariables(string command, Func<string, string?> getenv)
    {
        var missing = RequiredFor(command).Where(name => string.IsNullOrEmpty(getenv(name))).ToList();
        if (missing.Count > 0)
            throw new CniException(ErrorCode.InvalidEnvironment,
                $"required env variables [{string.Join(",", missing)}] missing",
                $"{command} needs {string.Join(", ", RequiredFor(command))} to be set and non-empty");
    }

    /// <summary>cni-features.md §1.2: CNI_NETNS is optional for DEL (the namespace may be gone).</summary>
    public static IReadOnlyList<string> RequiredFor(string command) => command switch
    {
        "ADD" or "CHECK" => ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"],
        "DEL" => ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"],
        "GC" or "STATUS" => ["CNI_COMMAND", "CNI_PATH"],
        _ => ["CNI_COMMAND"],
    };

    public static void ValidateContainerId(string containerId)
    {
        if (containerId.Length == 0)
            throw new CniException(ErrorCode.UnknownContainer, "missing containerID");
        if (!CniName.IsValid(containerId))
            throw new CniException(ErrorCode.InvalidEnvironment, "invalid characters in containerID", containerId);
    }

    public static void ValidateInterfaceName(string ifName)
    {
        if (ifName.Length == 0)
            throw new CniException(ErrorCode.InvalidEnvironment, "interface name is empty");
        if (System.Text.Encoding.UTF8.GetByteCount(ifName) > MaxInterfaceNameBytes)
            throw new CniException(ErrorCode.InvalidEnvironment, "interface name is too long",
                $"interface name should be less than {MaxInterfaceNameBytes + 1} characters");
        if (ifName is "." or "..")
            throw new CniException(ErrorCode.InvalidEnvironment, "interface name is . or ..");
        if (ifName.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)))
            throw new CniException(ErrorCode.InvalidEnvironment, "interface name contains / or : or whitespace characters", ifName);
    }

    public static void ValidateNetworkName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            throw new CniException(ErrorCode.InvalidNetworkConfig, "missing network name", "the config needs a \"name\"");
        if (!CniName.IsValid(name))
            throw new CniException(ErrorCode.InvalidNetworkConfig, "invalid characters found in network name", name);
    }
}
