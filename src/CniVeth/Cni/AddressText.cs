using System.Globalization;
using System.Net;

namespace CniVeth.Cni;

/// <summary>
/// Strict parsing of the address texts found in configs, results and CNI_ARGS. IPAddress.TryParse
/// alone is too lenient for this: it takes "10.1" as 10.0.0.1 and "010.0.0.1" as octal, where Go
/// (and so every other CNI plugin) rejects both.
/// </summary>
internal static class AddressText
{
    public static bool TryParseIp(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || text.Contains('%')) return false; // no zone ids
        if (!text.Contains(':') && !IsDottedQuad(text)) return false;
        if (!IPAddress.TryParse(text, out var parsed)) return false;
        address = parsed;
        return true;
    }

    /// <summary>"addr/prefix" with host bits allowed (10.88.0.5/24).</summary>
    public static bool TryParseCidr(string? text, out CidrAddress cidr)
    {
        cidr = default;
        if (string.IsNullOrEmpty(text)) return false;
        int slash = text.IndexOf('/');
        if (slash <= 0) return false;
        if (!TryParseIp(text[..slash], out var ip)) return false;
        string prefixText = text[(slash + 1)..];
        if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit)) return false;
        if (prefixText.Length > 1 && prefixText[0] == '0') return false;
        int prefix = int.Parse(prefixText, CultureInfo.InvariantCulture);
        int max = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        if (prefix > max) return false;
        cidr = new CidrAddress(ip, prefix);
        return true;
    }

    /// <summary>An IP with an optional prefix that is ignored ("10.1.2.3" or "10.1.2.3/24").</summary>
    public static bool TryParseIpMaybeCidr(string? text, out IPAddress address)
    {
        if (text is not null && text.Contains('/'))
        {
            bool ok = TryParseCidr(text, out var cidr);
            address = ok ? cidr.Address : IPAddress.None;
            return ok;
        }
        return TryParseIp(text, out address);
    }

    /// <summary>A unicast Ethernet MAC, "c2:11:22:33:44:55" (or with '-'); returned lower-case with ':'.</summary>
    public static bool TryParseMac(string? text, out string normalized, out string problem)
    {
        normalized = "";
        problem = "expected six hex octets such as c2:11:22:33:44:55";
        if (string.IsNullOrEmpty(text) || text.Length != 17) return false;
        char separator = text[2];
        if (separator is not (':' or '-')) return false;
        var bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && text[i * 3 - 1] != separator) return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                return false;
        }
        if ((bytes[0] & 1) == 1) { problem = "a multicast address cannot be an interface address"; return false; }
        if (bytes.All(b => b == 0)) { problem = "the all-zero address cannot be an interface address"; return false; }
        normalized = string.Join(":", bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        return true;
    }

    public static byte[] MacBytes(string normalizedMac) =>
        normalizedMac.Split(':').Select(h => byte.Parse(h, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)).ToArray();

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4) return false;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit)) return false;
            if (part.Length > 1 && part[0] == '0') return false; // Go rejects leading zeros (octal ambiguity)
        }
        return true;
    }
}
