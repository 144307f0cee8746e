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

    /// <summary>The request's top-level cniVersion when the whole request is one valid JSON object and its
    /// last cniVersion key holds a non-empty string; otherwise null. Read with Utf8JsonReader rather than a
    /// JsonDocument: the document's duplicate-key set seeds System.Text.Json's string hashing from
    /// RandomNumberGenerator, i.e. OpenSSL, which a static executable cannot load.</summary>
    private static string? RequestedVersion(byte[]? request)
    {
        if (request is null || request.Length == 0) return null;
        try
        {
            var reader = new Utf8JsonReader(request);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            string? version = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isVersion = reader.ValueTextEquals("cniVersion"u8);
                reader.Read();
                if (isVersion) version = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                else reader.Skip();
            }
            while (reader.Read()) { } // the rest must be valid JSON too (nothing may follow the object)
            return version is { Length: > 0 } ? version : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // InvalidOperationException: a cniVersion string that is not valid UTF-8
        }
    }
}
