using System.Text;
using System.Text.Json;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

/// <summary>VERSION reads the request's cniVersion with Utf8JsonReader; it must answer exactly what reading
/// it through a JsonDocument (the oracle, as before) would.</summary>
public class VersionReplyTests
{
    private static string Answer(byte[] request)
    {
        using var doc = JsonDocument.Parse(VersionReply.ToJson(request));
        return doc.RootElement.GetProperty("cniVersion").GetString()!;
    }

    private static string Oracle(byte[] request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("cniVersion", out var v)
                && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
                ? s : CniVersions.Latest;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return CniVersions.Latest;
        }
    }

    [Theory]
    [InlineData("""{"cniVersion":"0.4.0"}""", "0.4.0")]
    [InlineData("""  {"name":"n","cniVersion":"1.0.0","plugins":[{"cniVersion":"0.3.1"}]}  """, "1.0.0")]
    [InlineData("""{"plugins":[{"cniVersion":"0.3.1"}]}""", "1.1.0")] // nested keys are not the request's
    [InlineData("""{"cniVersion":"0.3.1","cniVersion":"0.4.0"}""", "0.4.0")] // the last one, as JsonDocument
    [InlineData("""{"cniVersion":"0.3.1","cniVersion":4}""", "1.1.0")]
    [InlineData("""{"cniVersion":""}""", "1.1.0")]
    [InlineData("""{"cniVersion":null}""", "1.1.0")]
    [InlineData("""{"cniVersion":"0.4.0"} {}""", "1.1.0")] // more than one value
    [InlineData("""{"cniVersion":"0.4.0"} x""", "1.1.0")]
    [InlineData("""{"cniVersion":"0.4.0",}""", "1.1.0")] // trailing comma
    [InlineData("""{"cniVersion":"0.4.0" /* c */}""", "1.1.0")] // comments
    [InlineData("""["cniVersion","0.4.0"]""", "1.1.0")]
    [InlineData("\"0.4.0\"", "1.1.0")]
    [InlineData("""{"cniVersion":"0.4.0","x":{"y":[1,2,{"z":"w"}]}}""", "0.4.0")]
    [InlineData("""{"cni\u0056ersion":"0.4.0"}""", "0.4.0")] // escaped key
    [InlineData("""{"cniVersion":"0.4.0""", "1.1.0")] // truncated
    public void AnswersTheRequestsTopLevelVersion(string request, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(request);
        Assert.Equal(expected, Oracle(bytes));
        Assert.Equal(expected, Answer(bytes));
    }

    [Fact]
    public void InvalidUtf8InTheVersionAnswersLatest()
    {
        byte[] bytes = [.. "{\"cniVersion\":\"0."u8, 0xff, .. "\"}"u8];
        Assert.Equal(Oracle(bytes), Answer(bytes));
        Assert.Equal(CniVersions.Latest, Answer(bytes));
    }

    [Fact]
    public void AgreesWithJsonDocumentOnMutatedRequests()
    {
        var rng = new Random(16);
        byte[] seed = Encoding.UTF8.GetBytes("""{"cniVersion":"0.4.0","name":"n","plugins":[{"type":"cniveth","cniVersion":"1.0.0"}],"cniVersion":"1.0.0"}""");
        byte[] alphabet = "{}[]\",: 0.4x\\n"u8.ToArray();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] m = (byte[])seed.Clone();
            int edits = rng.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = rng.Next(m.Length);
                switch (rng.Next(3))
                {
                    case 0: m[at] = alphabet[rng.Next(alphabet.Length)]; break;
                    case 1: m = [.. m[..at], .. m[(at + 1)..]]; break;
                    default: m = [.. m[..at], alphabet[rng.Next(alphabet.Length)], .. m[at..]]; break;
                }
            }
            Assert.True(Oracle(m) == Answer(m), Encoding.UTF8.GetString(m));
        }
    }
}
