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

    /// <summary>Name of this owner's index file: "o-" + escaped id [+ "+" + escaped ifname].
    /// Escaping keeps any id or ifname a single safe file name and the pair unambiguous.</summary>
    public string IndexFileName => IfName is null ? $"o-{Escape(ContainerId)}" : $"o-{Escape(ContainerId)}+{Escape(IfName)}";

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
