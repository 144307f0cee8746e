using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// VERSION: {"cniVersion": the request's, "supportedVersions": [...]}. Runtimes send VERSION with
/// dummy values in the other variables (podman: CNI_NETNS=dummy), so nothing else is validated, and
/// a missing or unreadable request never fails: the answer then names the latest version.
/// </summary>
internal static class VersionReply
{
    public static byte[] ToJson(byte[]? request)
    {
        string version = RequestedVersion(request) ?? CniVersions.Latest;
        return CniJsonWriter.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", version);
            w.WriteStartArray("supportedVersions");
            foreach (var v in CniVersions.Supported) w.WriteStringValue(v);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static string? RequestedVersion(byte[]? request)
    {
        if (request is null || request.Length == 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(request);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("cniVersion", out var v)
                && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
                ? s : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // InvalidOperationException: a cniVersion string that is not valid UTF-8
        }
    }
}
