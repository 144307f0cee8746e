namespace CniVeth.Cni;

/// <summary>The request's cniVersion against what we speak and what the verb needs (all code 1).</summary>
internal static class VersionGate
{
    /// <summary>Returns the effective version: the config's, or 0.1.0 when it has none.</summary>
    public static string Check(string? configVersion, string command)
    {
        string version = string.IsNullOrEmpty(configVersion) ? CniVersions.Implicit : configVersion;
        if (!CniVersions.IsSupported(version))
            throw new CniException(ErrorCode.IncompatibleVersion, "incompatible CNI versions",
                $"config is \"{version}\", plugin supports {CniVersions.QuotedList}");
        string? minimum = command switch
        {
            "CHECK" => "0.4.0",
            "GC" or "STATUS" => "1.1.0",
            _ => null,
        };
        if (minimum is not null && !CniVersions.AtLeast(version, minimum))
            throw new CniException(ErrorCode.IncompatibleVersion,
                $"config version \"{version}\" does not allow {command}",
                $"{command} needs cniVersion {minimum} or later");
        return version;
    }
}
