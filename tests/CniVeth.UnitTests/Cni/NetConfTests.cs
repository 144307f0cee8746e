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

    private static (int Code, string Message, string Details) Error(string json)
    {
        var e = Assert.Throws<CniException>(() => Parse(json));
        return (e.Code, e.Message, e.Details);
    }

    [Fact]
    public void NonMasqueradeCidrsIsAListOfStringsThatMayBeAbsentOrNull()
    {
        Assert.Equal(["10.0.0.0/8", "fd00::/8"], Parse("""{"name":"n","nonMasqueradeCIDRs":["10.0.0.0/8","fd00::/8"]}""").NonMasqueradeCidrs!);
        Assert.Empty(Parse("""{"name":"n","nonmasqueradecidrs":[]}""").NonMasqueradeCidrs!);
        Assert.Null(Parse("""{"name":"n"}""").NonMasqueradeCidrs);
        Assert.Null(Parse("""{"name":"n","nonMasqueradeCIDRs":null}""").NonMasqueradeCidrs);
        Assert.Equal((6, "error decoding network config: field \"nonMasqueradeCIDRs\": expected an array", "at line 1, byte 46"),
            Error("""{"name":"n","nonMasqueradeCIDRs":"10.0.0.0/8"}"""));
        Assert.Equal((6, "error decoding network config: field \"nonMasqueradeCIDRs[1]\": expected a string", "at line 1, byte 49"),
            Error("""{"name":"n","nonMasqueradeCIDRs":["10.0.0.0/8",8]}"""));
    }

    [Fact]
    public void KeysMatchIgnoringCaseAndEscapesAndErrorsNameThemAsSpelled()
    {
        var c = Parse("""{"NAME":"n","IsGateWay":true,"\u006dtu":1400,"IPAM":{"Ranges":[[{"SUBNET":"10.0.0.0/24"}]]}}""");
        Assert.Equal(("n", true, 1400, "10.0.0.0/24"), (c.Name, c.IsGateway, c.Mtu, c.Ipam!.Ranges![0][0].Subnet));
        Assert.Equal((6, "error decoding network config: field \"IPAM.Ranges[0][1].SUBNET\": expected a string", "at line 1, byte 48"),
            Error("""{"IPAM":{"Ranges":[[{"subnet":"a"},{"SUBNET":10}]]}}"""));
        // Only ASCII letters fold: "ıpam" (dotless i) is another key, ignored like any unknown one.
        Assert.Null(Parse("""{"name":"n","ıpam":{"type":5}}""").Ipam);
    }

    [Fact]
    public void OfRepeatedKeysTheLastCountsAndNullMakesAReferenceFieldAbsent()
    {
        var c = Parse("""{"name":"a","mtu":1,"name":"b","mtu":2,"ipam":{"type":"x"},"ipam":null,"dns":{"domain":"d"},"dns":null,"bridge":null}""");
        Assert.Equal(("b", 2), (c.Name, c.Mtu));
        Assert.Null(c.Ipam);
        Assert.Null(c.Dns);
        Assert.Null(c.Bridge);
        Assert.Equal((6, "error decoding network config: field \"isGateway\": expected a boolean", "at line 1, byte 29"),
            Error("""{"name":"n","isGateway":null}"""));
        Assert.Equal((6, "error decoding network config: field \"mtu\": expected an integer (32-bit)", "at line 1, byte 25"),
            Error("""{"name":"n","mtu":1500.5}"""));
    }

    [Fact]
    public void RareSectionsAreCheckedAfterTheRestAndTheirErrorsCarryNoPosition()
    {
        // dns comes first in the text, but its error is only reported once everything else has been read
        Assert.Equal((6, "error decoding network config: field \"mtu\": expected an integer (32-bit)", "at line 1, byte 41"),
            Error("""{"name":"x","dns":{"domain":1},"mtu":"x"}"""));
        Assert.Equal((6, "error decoding network config: field \"dns.NameServers[1]\": expected a string", ""),
            Error("""{"name":"x","DNS":{"NameServers":["a",2]}}"""));
        Assert.Equal((6, "error decoding network config: field \"vlanTrunk[0].id\": expected an integer (32-bit)", ""),
            Error("""{"name":"x","vlanTrunk":[{"id":"7"}]}"""));
    }

    [Theory]
    [InlineData("", "invalid JSON: The input does not contain any JSON tokens. Expected the input to start with a valid JSON token, when isFinalBlock is true", "at line 1, byte 1")]
    [InlineData("{\"name\":\"x\"}}", "invalid JSON: '}' is invalid after a single JSON value. Expected end of data", "at line 1, byte 13")]
    [InlineData("null", "stdin must be a JSON object, got null", "")]
    [InlineData("[1", "stdin must be an object", "")]
    [InlineData("{\"name\":\"x\",\n \"mtu\":\"1\"}", "field \"mtu\": expected an integer (32-bit)", "at line 2, byte 11")]
    public void StdinThatIsNotAConfigObjectIsADecodeError(string json, string message, string details) =>
        Assert.Equal((6, "error decoding network config: " + message, details), Error(json));
}
