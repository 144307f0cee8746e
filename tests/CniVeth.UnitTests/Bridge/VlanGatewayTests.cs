using System.Text;
using CniVeth.Bridge;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Bridge;

public class VlanGatewayTests
{
    private static NetConf Conf(string fields) =>
        NetConfReader.Parse(Encoding.UTF8.GetBytes("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"bridge\"," + fields + "}"));

    [Theory]
    [InlineData("\"vlan\":5,\"isGateway\":true", true)]
    [InlineData("\"vlan\":5,\"isDefaultGateway\":true", true)]
    [InlineData("\"vlan\":5", false)]
    [InlineData("\"isGateway\":true", false)]
    [InlineData("\"vlanTrunk\":[{\"id\":5}],\"isGateway\":true", false)]
    public void WantedOnlyForAnAccessVlanWithAGatewayAndIpam(string fields, bool wanted)
    {
        Assert.Equal(wanted, VlanGateway.Wanted(Conf(fields + ",\"ipam\":{\"type\":\"host-local\"}")));
        Assert.False(VlanGateway.Wanted(Conf(fields))); // L2-only: no gateway
    }

    [Fact]
    public void NamesFollowTheReferenceAndTheBridgePortIsDerived()
    {
        NetConf conf = Conf("\"bridge\":\"br7\",\"vlan\":100,\"isGateway\":true,\"ipam\":{\"type\":\"host-local\"}");
        Assert.Equal("br7.100", VlanGateway.NameFor(conf));
        Assert.Equal("cniveth-vlan-gateway br7.100", VlanGateway.PortAlias(conf));
        string port = VlanGateway.PortNameFor(conf);
        Assert.Matches("^veth[0-9a-f]{8}$", port);
        Assert.Equal(port, VlanGateway.PortNameFor("br7.100"));
        Assert.NotEqual(port, VlanGateway.PortNameFor("br7.101"));
    }

    [Fact]
    public void AGatewayNameOverFifteenBytesIsAConfigError()
    {
        VlanGateway.Validate(Conf("\"bridge\":\"bridge012\",\"vlan\":4094,\"isGateway\":true,\"ipam\":{\"type\":\"host-local\"}")); // 14 bytes
        var e = Assert.Throws<CniException>(() =>
            VlanGateway.Validate(Conf("\"bridge\":\"bridge01234\",\"vlan\":4094,\"isGateway\":true,\"ipam\":{\"type\":\"host-local\"}")));
        Assert.Equal(7, e.Code);
        Assert.Contains("bridge01234.4094", e.Message);
        VlanGateway.Validate(Conf("\"bridge\":\"bridge01234\",\"vlan\":4094")); // no gateway: no interface, no limit
    }
}
