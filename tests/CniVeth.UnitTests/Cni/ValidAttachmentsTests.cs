using System.Text;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

/// <summary>GC's list of attachments to keep: GC deletes what is NOT listed, so a list it cannot read is
/// an error (code 7, naming the key), never "nothing is valid".</summary>
public class ValidAttachmentsTests
{
    private static ValidAttachments Read(string keys) =>
        ValidAttachments.FromConfig(NetConfReader.Parse(Encoding.UTF8.GetBytes($$"""{"cniVersion":"1.1.0","name":"n"{{keys}}}""")));

    [Fact]
    public void BothSpellingsAreOneList()
    {
        var valid = Read("""
            ,"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],
             "cni.dev/attachments":[{"containerID":"a","ifname":"eth0"},{"containerID":"b","ifname":"eth1"}]
            """);
        Assert.True(valid.Protects("a", "eth0"));
        Assert.True(valid.Protects("b", "eth1"));
        Assert.False(valid.Protects("a", "eth1"));
        Assert.False(valid.Protects("c", "eth0"));
    }

    [Fact]
    public void AnEmptyListProtectsNothing()
    {
        var valid = Read(""","cni.dev/valid-attachments":[]""");
        Assert.Equal(0, valid.Count);
        Assert.False(valid.Protects("a", "eth0"));
    }

    [Fact]
    public void AnEntryWithoutIfnameProtectsEveryInterfaceOfItsContainer()
    {
        var valid = Read(""","cni.dev/valid-attachments":[{"containerID":"a"},{"containerID":"b","ifname":null},{"containerID":"c","ifname":""}]""");
        foreach (string c in new[] { "a", "b", "c" })
        {
            Assert.True(valid.Protects(c, "eth0"));
            Assert.True(valid.Protects(c, "net1"));
        }
        Assert.False(valid.Protects("d", "eth0"));
    }

    [Fact]
    public void AReservationWithoutIfnameIsProtectedByAnyEntryOfItsContainer()
    {
        var valid = Read(""","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth1"}]""");
        Assert.True(valid.Protects("a", null));
        Assert.False(valid.Protects("b", null));
    }

    [Fact]
    public void KeysMatchCaseInsensitivelyAndUnknownFieldsAreIgnored()
    {
        var valid = Read(""","cni.dev/valid-attachments":[{"ContainerID":"a","IFNAME":"eth0","podName":"x"}]""");
        Assert.True(valid.Protects("a", "eth0"));
    }

    [Theory]
    [InlineData("", "cni.dev/valid-attachments\": the list of attachments to keep is missing or null")]
    [InlineData(",\"cni.dev/valid-attachments\":null", "is missing or null")]
    [InlineData(",\"cni.dev/valid_attachments\":[]", "is missing or null")]                  // misspelled
    [InlineData(",\"cni.dev/valid-attachments\":{}", "\"cni.dev/valid-attachments\" must be an array")]
    [InlineData(",\"cni.dev/attachments\":\"a\"", "\"cni.dev/attachments\" must be an array")]
    [InlineData(",\"cni.dev/valid-attachments\":[3]", "\"cni.dev/valid-attachments\"[0] must be an object")]
    [InlineData(",\"cni.dev/valid-attachments\":[{\"ifname\":\"eth0\"}]", "[0] must be an entry with a non-empty \"containerID\"")]
    [InlineData(",\"cni.dev/valid-attachments\":[{\"containerID\":\"\"}]", "[0] must be an entry with a non-empty \"containerID\"")]
    [InlineData(",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"},{\"containerID\":\"b\",\"ifname\":3}]", "[1].ifname must be a string")]
    public void AMissingOrMalformedListIsCode7NamingTheKey(string keys, string fragment)
    {
        var e = Assert.Throws<CniException>(() => Read(keys));
        Assert.Equal(ErrorCode.InvalidNetworkConfig, e.Code);
        Assert.Contains(fragment, e.Message);
    }
}
