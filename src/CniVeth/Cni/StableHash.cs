using System.Text;

namespace CniVeth.Cni;

/// <summary>
/// FNV-1a (32 bit) of a string's UTF-8 bytes as 8 hex digits, for names derived from identities (host veth
/// names, nftables set names). Stable across processes and versions, unlike string.GetHashCode, and
/// without System.Security.Cryptography, which would make the binary load libssl on every start.
/// </summary>
internal static class StableHash
{
    public static string Hex8(string s) => Fnv1a32(s).ToString("x8");

    public static uint Fnv1a32(string s)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) h = (h ^ b) * 16777619;
        return h;
    }
}
