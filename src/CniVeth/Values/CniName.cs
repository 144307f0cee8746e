namespace CniVeth.Values;

/// <summary>The CNI rule for network names and container IDs, ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ (ASCII only,
/// no trailing-newline loophole): such a name never contains a path separator, a space or "..".</summary>
internal static class CniName
{
    public static bool IsValid(string? s)
    {
        if (string.IsNullOrEmpty(s) || !char.IsAsciiLetterOrDigit(s[0])) return false;
        foreach (char c in s)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        return true;
    }
}
