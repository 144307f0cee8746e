using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

public class CniArgsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(";")]
    public void EmptyIsEmpty(string? text) => Assert.Null(CniArgs.Parse(text).Ip);

    [Fact]
    public void KnownKeysIncludingKubernetesOnesNeedNoIgnoreUnknown()
    {
        var a = CniArgs.Parse("IP=10.0.0.5;MAC=c2:11:22:33:44:55;K8S_POD_NAME=web;K8S_POD_NAMESPACE=ns;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1;");
        Assert.Equal("10.0.0.5", a.Ip);
        Assert.Equal("c2:11:22:33:44:55", a.Mac);
        Assert.Equal("web", a.K8sPodName);
        Assert.Equal("ns", a.K8sPodNamespace);
        Assert.Equal("abc", a.K8sPodInfraContainerId);
        Assert.Equal("u-1", a.K8sPodUid);
        Assert.False(a.IgnoreUnknown);
    }

    [Fact]
    public void UnknownKeysFailListingThePairs()
    {
        var e = Assert.Throws<CniException>(() => CniArgs.Parse("FOO=1;IP=10.0.0.1;bar=2"));
        Assert.Equal(4, e.Code);
        Assert.Equal("ARGS: unknown args [\"FOO=1\" \"bar=2\"]", e.Message);
        Assert.Contains("IgnoreUnknown=1", e.Details);
    }

    [Fact]
    public void KeysAreCaseSensitive() =>
        Assert.Equal("ARGS: unknown args [\"ip=10.0.0.1\"]", Assert.Throws<CniException>(() => CniArgs.Parse("ip=10.0.0.1")).Message);

    [Theory]
    [InlineData("IgnoreUnknown=1")]
    [InlineData("IgnoreUnknown=true")]
    [InlineData("IgnoreUnknown=True")]
    public void IgnoreUnknownAcceptsGoBooleans(string flag)
    {
        var a = CniArgs.Parse($"FOO=1;{flag};IP=10.0.0.1");
        Assert.True(a.IgnoreUnknown);
        Assert.Equal("10.0.0.1", a.Ip);
    }

    [Theory]
    [InlineData("IgnoreUnknown=0")]
    [InlineData("IgnoreUnknown=false")]
    public void IgnoreUnknownFalseStillRejects(string flag) =>
        Assert.Throws<CniException>(() => CniArgs.Parse($"FOO=1;{flag}"));

    [Fact]
    public void IgnoreUnknownWithBadValueFails()
    {
        var e = Assert.Throws<CniException>(() => CniArgs.Parse("IgnoreUnknown=yes"));
        Assert.Equal(4, e.Code);
        Assert.Equal("ARGS: error parsing value of pair \"IgnoreUnknown=yes\": boolean unmarshal error: invalid input yes", e.Message);
    }

    [Theory]
    [InlineData("IP", "ARGS: invalid pair \"IP\"")]
    [InlineData("IP=10.0.0.1;MAC", "ARGS: invalid pair \"MAC\"")]
    [InlineData("K8S_POD_NAME=a=b", "ARGS: invalid pair \"K8S_POD_NAME=a=b\"")]
    [InlineData("IgnoreUnknown=1;X==", "ARGS: invalid pair \"X==\"")]
    public void MalformedPairsFailEvenWithIgnoreUnknown(string text, string message)
    {
        var e = Assert.Throws<CniException>(() => CniArgs.Parse(text));
        Assert.Equal(4, e.Code);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void EmptyValueIsAllowed() => Assert.Equal("", CniArgs.Parse("K8S_POD_NAME=").K8sPodName);
}
