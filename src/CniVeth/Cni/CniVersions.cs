namespace CniVeth.Cni;

/// <summary>The spec versions this plugin speaks, and the ordering rules the verbs are gated on.</summary>
internal static class CniVersions
{
    public const string Latest = "1.1.0";

    /// <summary>What a config without cniVersion means (cni:pkg/types/create).</summary>
    public const string Implicit = "0.1.0";

    public static readonly IReadOnlyList<string> Supported =
        ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    /// <summary>String-equal match, like the reference reconciler: "1.0" or "v1.0.0" are not accepted.</summary>
    public static bool IsSupported(string version) => Supported.Contains(version, StringComparer.Ordinal);

    /// <summary>Orders two supported versions; only meaningful for members of <see cref="Supported"/>.</summary>
    public static bool AtLeast(string version, string minimum) =>
        IndexOf(version) >= IndexOf(minimum);

    /// <summary>0.1.0/0.2.0 results use the ip4/ip6 shape.</summary>
    public static bool IsLegacy(string version) => !AtLeast(version, "0.3.0");

    /// <summary>0.3.0 to 0.4.0 results carry ips[].version.</summary>
    public static bool HasIpVersionField(string version) => AtLeast(version, "0.3.0") && !AtLeast(version, "1.0.0");

    /// <summary>Reference formatting of the list, Go's %q of a []string: ["0.1.0" "0.2.0" ...].</summary>
    public static string QuotedList => "[" + string.Join(" ", Supported.Select(v => $"\"{v}\"")) + "]";

    private static int IndexOf(string version)
    {
        for (int i = 0; i < Supported.Count; i++)
            if (Supported[i] == version) return i;
        throw new ArgumentException($"unsupported CNI version \"{version}\"", nameof(version));
    }
}
