using CniVeth.Cni;

namespace CniVeth.UnitTests;

public class SmokeTests
{
    [Fact]
    public void ErrorCarriesCode() => Assert.Equal(7, CniException.Config("x").Code);
}
