using System.Text;

namespace CniVeth.Values;

/// <summary>
/// FNV-1a (32 bit) of a string's UTF-8 bytes as 8 hex digits, for names derived from identities (host veth
/// names, nftables set names). Stable across processes and versions, unlike string.GetHashCode, and
/// without System.Security.Cryptography, which would make the binary load libssl on every start.
/// </summary>
internal static class StableHash
{
    public static string Hex8(string s) => Fnv1a32(s).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    public static uint Fnv1a32(string s)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) h = (h ^ b) * 16777619;
        return h;
    }

    /// <summary>FNV-1a (128 bit) as 32 hex digits: a name too long to keep verbatim, with collisions out of
    /// reach by chance (not a cryptographic hash: the runtime picks the names it hashes).</summary>
    public static string Hex32(string s)
    {
        UInt128 h = new(0x6c62272e07bb0142, 0x62b821756295c58d);
        UInt128 prime = new(0x0000000001000000, 0x000000000000013B);
        foreach (byte b in Encoding.UTF8.GetBytes(s)) h = (h ^ b) * prime;
        return h.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
    }
}
