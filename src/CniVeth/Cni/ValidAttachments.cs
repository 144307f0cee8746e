using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// GC's list of attachments to keep: "cni.dev/valid-attachments" (libcni also sends the older spelling
/// "cni.dev/attachments"; both are read, as one list). The one definition used by bridge GC and host-local GC.
/// GC deletes what is NOT listed, so the list must be there and well-formed: anything else is a config error
/// (code 7) that changes nothing — a typo in a key must never read as "nothing is valid". An entry without
/// "ifname" protects every interface of its container.
/// </summary>
internal sealed class ValidAttachments
{
    public const string Key = "cni.dev/valid-attachments";
    public const string LegacyKey = "cni.dev/attachments";

    private readonly List<(string ContainerId, string? IfName)> _entries = new();
    private readonly HashSet<(string ContainerId, string IfName)> _exact = new();
    private readonly HashSet<string> _wholeContainers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>Every entry as listed; a null or empty ifname stands for all interfaces of the container.</summary>
    public IReadOnlyList<(string ContainerId, string? IfName)> Entries => _entries;

    /// <summary>Is (container, ifname) listed? A null ifname (a legacy reservation that recorded none)
    /// is protected by any entry of its container.</summary>
    public bool Protects(string containerId, string? ifName) =>
        _wholeContainers.Contains(containerId)
        || (ifName is null ? _containers.Contains(containerId) : _exact.Contains((containerId, ifName)));

    public void Add(string containerId, string? ifName)
    {
        _entries.Add((containerId, ifName));
        _containers.Add(containerId);
        if (string.IsNullOrEmpty(ifName)) _wholeContainers.Add(containerId);
        else _exact.Add((containerId, ifName));
    }

    /// <summary>Reads both keys of a GC request; throws code 7 naming the key when the list is missing,
    /// null or malformed.</summary>
    public static ValidAttachments FromConfig(NetConf conf)
    {
        if (conf.ValidAttachmentsSection is null && conf.LegacyAttachmentsSection is null)
            throw CniException.Config($"GC needs \"{Key}\": the list of attachments to keep is missing or null",
                "GC removes every attachment not in that list, so without it nothing is removed; send the list (it may be [])");
        var valid = new ValidAttachments();
        if (conf.ValidAttachmentsSection is { } current) valid.Read(current, Key);
        if (conf.LegacyAttachmentsSection is { } legacy) valid.Read(legacy, LegacyKey);
        return valid;
    }

    private void Read(RawJson section, string key)
    {
        var reader = new Utf8JsonReader(section.Bytes.Span);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray) throw Malformed(key, "", "an array of {\"containerID\", \"ifname\"} objects");
        int index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string at = "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
            if (reader.TokenType != JsonTokenType.StartObject) throw Malformed(key, at, "an object");
            string? containerId = null, ifName = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = PropertyName(ref reader, key, at);
                reader.Read();
                if (name.Equals("containerID", StringComparison.OrdinalIgnoreCase)) containerId = String(ref reader, key, at + ".containerID");
                else if (name.Equals("ifname", StringComparison.OrdinalIgnoreCase)) ifName = String(ref reader, key, at + ".ifname");
                else reader.Skip();
            }
            if (string.IsNullOrEmpty(containerId)) throw Malformed(key, at, "an entry with a non-empty \"containerID\"");
            Add(containerId, ifName);
            index++;
        }
    }

    private static string PropertyName(ref Utf8JsonReader reader, string key, string at)
    {
        try { return reader.GetString()!; }
        catch (InvalidOperationException) { throw Malformed(key, at, "keys in valid UTF-8"); }
    }

    private static string? String(ref Utf8JsonReader reader, string key, string at)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.String) throw Malformed(key, at, "a string");
        try { return reader.GetString(); }
        catch (InvalidOperationException) { throw Malformed(key, at, "a valid UTF-8 string"); }
    }

    private static CniException Malformed(string key, string at, string expected) =>
        CniException.Config($"\"{key}\"{at} must be {expected}; GC removed nothing",
            "GC removes every attachment not in that list, so a list it cannot read is never guessed at");
}
