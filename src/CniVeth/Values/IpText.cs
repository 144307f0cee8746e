using System.Net;

namespace CniVeth.Values;

/// <summary>
/// The one parser for address texts in configs, results and CNI_ARGS. IPAddress.TryParse alone is too
/// lenient: it takes "10.1" as 10.0.0.1 and "010.0.0.1" as octal, where Go (and so every other CNI plugin)
/// rejects both; int.TryParse would take "+24" or " 24" as a prefix.
/// </summary>
internal static class IpText
{
    /// <summary>A plain IPv4 dotted quad (no leading zeros) or an IPv6 address without zone.</summary>
    public static bool TryParseIp(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || text.Contains('%')) return false; // no zone ids
        if (!text.Contains(':') && !IsDottedQuad(text)) return false;
        if (!IPAddress.TryParse(text, out var parsed)) return false;
        address = parsed;
        return true;
    }

    /// <summary>"addr/prefix" with host bits allowed (10.88.0.5/24); the prefix is 0..32 or 0..128,
    /// decimal digits only, no sign and no leading zero.</summary>
    public static bool TryParseCidr(string? text, out CidrAddress cidr)
    {
        cidr = default;
        if (string.IsNullOrEmpty(text)) return false;
        int slash = text.IndexOf('/');
        if (slash <= 0) return false;
        if (!TryParseIp(text[..slash], out var ip)) return false;
        if (!TryParsePrefix(text.AsSpan(slash + 1), IpMath.BitLength(ip.AddressFamily), out int prefix)) return false;
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

    private static bool TryParsePrefix(ReadOnlySpan<char> text, int max, out int prefix)
    {
        prefix = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0')) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            prefix = prefix * 10 + (c - '0');
        }
        return prefix <= max;
    }

    private static bool IsDottedQuad(string text)
    {
        int parts = 0, digits = 0;
        char first = '\0';
        foreach (char c in text)
        {
            if (c == '.')
            {
                if (digits == 0) return false;
                parts++;
                digits = 0;
                continue;
            }
            if (!char.IsAsciiDigit(c) || digits == 3) return false;
            if (digits == 0) first = c;
            else if (first == '0') return false; // Go rejects leading zeros (octal ambiguity)
            digits++;
        }
        return digits > 0 && parts == 3;
    }
}
