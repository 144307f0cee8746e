using System.Text;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

public class NetConfTests
{
    private static NetConf Parse(string json) => NetConfReader.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void EveryBridgeAndHostLocalKeyIsRead()
    {
        var c = Parse("""
            {"cniVersion":"1.1.0","name":"n","type":"bridge","bridge":"br0","isGateway":true,"isDefaultGateway":true,
             "forceAddress":true,"ipMasq":true,"ipMasqBackend":"nftables","mtu":1400,"hairpinMode":true,"promiscMode":false,
             "vlan":5,"vlanTrunk":[{"id":7}],"preserveDefaultVlan":true,"enabledad":true,"macspoofchk":true,
             "disableContainerInterface":false,"portIsolation":true,
             "ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.10","rangeEnd":"10.0.0.20","gateway":"10.0.0.1"}]],
                     "routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dataDir":"/tmp/d","resolvConf":"/etc/r"},
             "dns":{"nameservers":["1.1.1.1"]},
             "runtimeConfig":{"ips":["10.0.0.5"],"mac":"c2:00:00:00:00:01","ipRanges":[[{"subnet":"10.1.0.0/24"}]]},
             "args":{"cni":{"ips":["10.0.0.6"],"mac":"c2:00:00:00:00:02"}}}
            """);
        Assert.Equal(("br0", true, true, true, true, "nftables", 1400, true), (c.BridgeName, c.IsGateway, c.IsDefaultGateway, c.ForceAddress, c.IpMasq, c.IpMasqBackend, c.Mtu, c.HairpinMode));
        Assert.Equal((5, 7, true, true, true, true), (c.Vlan, c.VlanTrunk![0].Id!.Value, c.PreserveDefaultVlan, c.EnableDad, c.MacSpoofChk, c.PortIsolation));
        Assert.Equal("10.0.0.20", c.Ipam!.Ranges![0][0].RangeEnd);
        Assert.Equal("/tmp/d", c.Ipam.DataDir);
        Assert.Equal("10.1.0.0/24", c.RuntimeConfig!.IpRanges![0][0].Subnet);
        Assert.Equal("c2:00:00:00:00:02", c.Args!.Cni!.Mac);
        Assert.True(c.HasIpam);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void NetnsOverrideLikeSkel(string? value, bool expected) =>
        Assert.Equal(expected, CniEnvironment.FromProcess(n => n == "CNI_NETNS_OVERRIDE" ? value : null).NetNsOverride);

    [Fact]
    public void ReaderOptionsMatchTheGeneratedContextSettings()
    {
        var generated = CniJsonContext.Default.Options;
        var used = NetConfReader.Options;
        Assert.Equal(
            (generated.PropertyNameCaseInsensitive, generated.ReadCommentHandling, generated.AllowTrailingCommas, generated.NumberHandling),
            (used.PropertyNameCaseInsensitive, used.ReadCommentHandling, used.AllowTrailingCommas, used.NumberHandling));
        Assert.Same(MinimalJsonEncoder.Instance, used.Encoder);
    }
}
