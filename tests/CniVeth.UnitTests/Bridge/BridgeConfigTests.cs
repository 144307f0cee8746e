using System.Text;
using CniVeth.Cni;
using CniVeth.Bridge;

namespace CniVeth.UnitTests.Bridge;

public class BridgeConfigTests
{
    private static NetConf Conf(string fields) =>
        NetConfReader.Parse(Encoding.UTF8.GetBytes($$"""{"cniVersion":"1.1.0","name":"n","type":"bridge"{{(fields.Length > 0 ? "," + fields : "")}}}"""));

    private static string Fails(string fields, string version = "1.1.0")
    {
        var e = Assert.Throws<CniException>(() => BridgeConfig.Validate(Conf(fields), version));
        Assert.Equal(7, e.Code);
        return e.Message;
    }

    private const string Ipam = "\"ipam\":{\"type\":\"host-local\"}";

    [Theory]
    [InlineData("")]
    [InlineData("\"vlan\":0")]
    [InlineData("\"vlan\":4094")]
    [InlineData("\"mtu\":9000")]
    [InlineData("\"hairpinMode\":true")]
    [InlineData("\"promiscMode\":true")]
    [InlineData("\"ipMasqBackend\":\"nftables\"")]
    [InlineData("\"ipMasqBackend\":\"iptables\"")]
    [InlineData("\"bridge\":\"0123456789abcde\"")]
    [InlineData("\"disableContainerInterface\":true")]
    [InlineData("\"vlanTrunk\":[{\"id\":5},{\"minID\":100,\"maxID\":200}]")]
    public void ValidConfigsPass(string fields) => BridgeConfig.Validate(Conf(fields), "1.1.0");

    [Theory]
    [InlineData("\"vlan\":-1", "invalid VLAN ID -1 (must be between 0 and 4094)")]
    [InlineData("\"vlan\":4095", "invalid VLAN ID 4095 (must be between 0 and 4094)")]
    [InlineData("\"hairpinMode\":true,\"promiscMode\":true", "cannot set hairpin mode and promiscuous mode at the same time")]
    [InlineData("\"disableContainerInterface\":true," + Ipam, "cannot use IPAM when DisableContainerInterface flag is set")]
    [InlineData("\"mtu\":-1", "invalid MTU -1 (must be positive, or 0 for the kernel default)")]
    [InlineData("\"ipMasqBackend\":\"ebtables\"", "unknown ipMasqBackend \"ebtables\" (must be \"iptables\" or \"nftables\")")]
    [InlineData("\"bridge\":\"0123456789abcdef\"", "invalid bridge name \"0123456789abcdef\": interface name is too long")]
    [InlineData("\"bridge\":\"br 0\"", "invalid bridge name \"br 0\": interface name contains / or : or whitespace characters")]
    [InlineData("\"bridge\":\"br/0\"", "invalid bridge name \"br/0\": interface name contains / or : or whitespace characters")]
    [InlineData("\"bridge\":\"..\"", "invalid bridge name \"..\": interface name is . or ..")]
    [InlineData("\"vlanTrunk\":[{\"minID\":0,\"maxID\":5}]", "incorrect trunk minID parameter")]
    [InlineData("\"vlanTrunk\":[{\"minID\":1,\"maxID\":4095}]", "incorrect trunk maxID parameter")]
    [InlineData("\"vlanTrunk\":[{\"minID\":10,\"maxID\":5}]", "minID is greater than maxID in trunk parameter")]
    [InlineData("\"vlanTrunk\":[{\"maxID\":5}]", "minID and maxID should be configured simultaneously, minID is missing")]
    [InlineData("\"vlanTrunk\":[{\"minID\":5}]", "minID and maxID should be configured simultaneously, maxID is missing")]
    [InlineData("\"vlanTrunk\":[{\"id\":0}]", "incorrect trunk id parameter")]
    [InlineData("\"vlanTrunk\":[{\"id\":4095}]", "incorrect trunk id parameter")]
    public void InvalidConfigsUseReferenceTexts(string fields, string message) => Assert.Equal(message, Fails(fields));

    [Fact]
    public void L2OnlyCannotBeAnsweredInLegacyVersions()
    {
        Assert.Contains("cannot express a result without IP addresses", Fails("", "0.2.0"));
        BridgeConfig.Validate(Conf(Ipam), "0.2.0");
        BridgeConfig.Validate(Conf(""), "0.3.0");
    }

    [Fact]
    public void TrunkExpandsToSortedDistinctVids() =>
        Assert.Equal([3, 5, 6, 7, 10],
            BridgeConfig.ValidatedTrunkVids(Conf("\"vlanTrunk\":[{\"id\":10},{\"minID\":5,\"maxID\":7},{\"id\":6},{\"id\":3}]")));

    [Fact]
    public void NoTrunkIsEmpty() => Assert.Empty(BridgeConfig.ValidatedTrunkVids(Conf("")));

    [Theory]
    [InlineData("\"nonMasqueradeCIDRs\":[\"10.1\"]", "invalid nonMasqueradeCIDRs[0] \"10.1\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"10.244.0.0/16\",\"10.0.0.0\"]", "invalid nonMasqueradeCIDRs[1] \"10.0.0.0\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"10.244.0.0/33\"]", "invalid nonMasqueradeCIDRs[0] \"10.244.0.0/33\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"010.244.0.0/16\"]", "invalid nonMasqueradeCIDRs[0] \"010.244.0.0/16\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"10.244.0.0/+16\"]", "invalid nonMasqueradeCIDRs[0] \"10.244.0.0/+16\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"fd00::/129\"]", "invalid nonMasqueradeCIDRs[0] \"fd00::/129\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[\"\"]", "invalid nonMasqueradeCIDRs[0] \"\"")]
    [InlineData("\"nonMasqueradeCIDRs\":[null]", "invalid nonMasqueradeCIDRs[0] null")]
    public void NonMasqueradeCidrsAreStrictCidrs(string fields, string message) =>
        Assert.StartsWith(message + ": expected a CIDR such as", Fails(fields));

    [Fact]
    public void NonMasqueradeCidrsOfTheWrongTypeAreDecodeErrors()
    {
        var e = Assert.Throws<CniException>(() => Conf("\"nonMasqueradeCIDRs\":\"10.244.0.0/16\""));
        Assert.Equal(6, e.Code);
        Assert.Contains("\"nonMasqueradeCIDRs\": expected an array", e.Message);
    }

    [Fact]
    public void NonMasqueradeCidrsAreMaskedToTheirPrefix()
    {
        var conf = Conf("\"nonMasqueradeCIDRs\":[\"10.244.1.5/16\",\"fd00:244::1/56\"]");
        BridgeConfig.Validate(conf, "1.1.0");
        Assert.Equal(["10.244.0.0/16", "fd00:244::/56"], BridgeConfig.NonMasqueradeCidrs(conf).Select(c => c.ToString()).ToArray());
        Assert.Empty(BridgeConfig.NonMasqueradeCidrs(Conf("")));
    }

    [Fact]
    public void DefaultBridgeNameIsCni0() => Assert.Equal("cni0", Conf("").BridgeName);
}
