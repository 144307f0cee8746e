using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni.Oracle;

public class OracleTests
{
    [Fact]
    public void OracleOptionsMatchTheGeneratedContextSettings()
    {
        var generated = CniJsonContext.Default.Options;
        var used = OracleNetConfReader.Options;
        Assert.Equal(
            (generated.PropertyNameCaseInsensitive, generated.ReadCommentHandling, generated.AllowTrailingCommas, generated.NumberHandling),
            (used.PropertyNameCaseInsensitive, used.ReadCommentHandling, used.AllowTrailingCommas, used.NumberHandling));
        Assert.Same(MinimalJsonEncoder.Instance, used.Encoder);
    }
}
