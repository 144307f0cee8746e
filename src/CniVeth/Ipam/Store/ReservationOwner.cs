using System.Text;

namespace CniVeth.Ipam.Store;

/// <summary>
/// Who holds an address: the content of a reservation file, "containerID\r\nifname" (reference
/// format) or the legacy "containerID" (IfName null). Readers trim surrounding whitespace.
/// </summary>
internal readonly record struct ReservationOwner(string ContainerId, string? IfName)
{
    public bool IsLegacy => IfName is null;

    public string FileContent => IfName is null ? ContainerId : $"{ContainerId}\r\n{IfName}";

    public static ReservationOwner? Parse(string? content)
    {
        if (content is null) return null;
        string trimmed = content.Trim();
        if (trimmed.Length == 0) return null;
        int newline = trimmed.IndexOf("\r\n", StringComparison.Ordinal);
        if (newline < 0) return new ReservationOwner(trimmed, null);
        return new ReservationOwner(trimmed[..newline], trimmed[(newline + 2)..]);
    }

    /// <summary>This owner in the owner index: escaped id [+ "+" + escaped ifname]. Escaping keeps the key
    /// one token (no spaces, newlines or slashes, whatever the id holds) and the pair unambiguous.</summary>
    public string IndexKey => IfName is null ? Escape(ContainerId) : Escape(ContainerId) + "+" + Escape(IfName);

    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') builder.Append(c);
            else builder.Append('%').Append(b.ToString("X2"));
        }
        return builder.ToString();
    }
}
