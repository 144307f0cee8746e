using System.Globalization;

namespace CniVeth.Values;

/// <summary>The one parser and formatter for Ethernet MACs: "c2:11:22:33:44:55" (or with '-'),
/// printed lower-case with ':'.</summary>
internal static class MacAddress
{
    /// <summary>A unicast, non-zero MAC; <paramref name="problem"/> says why a text is not one.</summary>
    public static bool TryParse(string? text, out byte[] mac, out string problem)
    {
        mac = [];
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
        if (Array.TrueForAll(bytes, b => b == 0)) { problem = "the all-zero address cannot be an interface address"; return false; }
        mac = bytes;
        return true;
    }

    /// <summary>"c2:11:22:33:44:55" for the first six bytes (empty for null or shorter input).</summary>
    public static string Format(ReadOnlySpan<byte> mac)
    {
        if (mac.Length < 6) return "";
        var chars = new char[17];
        for (int i = 0; i < 6; i++)
        {
            if (i > 0) chars[i * 3 - 1] = ':';
            chars[i * 3] = HexDigit(mac[i] >> 4);
            chars[i * 3 + 1] = HexDigit(mac[i] & 0xF);
        }
        return new string(chars);
    }

    /// <summary>Normalized text of a valid MAC text (lower-case, ':').</summary>
    public static bool TryNormalize(string? text, out string normalized, out string problem)
    {
        bool ok = TryParse(text, out byte[] mac, out problem);
        normalized = ok ? Format(mac) : "";
        return ok;
    }

    private static char HexDigit(int v) => (char)(v < 10 ? '0' + v : 'a' + v - 10);
}
