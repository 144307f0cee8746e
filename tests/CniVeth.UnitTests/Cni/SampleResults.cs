using System.Net;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.UnitTests.Cni;

/// <summary>A result exercising every field, and its exact rendering in each version.</summary>
internal static class SampleResults
{
    public static Result Full()
    {
        var r = new Result();
        r.Interfaces.Add(new ResultInterface { Name = "cni0", Mac = "2e:55:af:5f:fe:92", Mtu = 1500 });
        r.Interfaces.Add(new ResultInterface
        {
            Name = "eth0", Mac = "02:00:0a:58:4d:c8", Mtu = 1400, Sandbox = "/run/netns/c1",
            SocketPath = "/run/sock", PciId = "0000:04:00.5",
        });
        r.Ips.Add(new ResultIp { Address = Cidr("10.88.0.5/24"), Gateway = IPAddress.Parse("10.88.0.1"), Interface = 1 });
        r.Ips.Add(new ResultIp { Address = Cidr("10.99.0.5/24"), Interface = 1 });
        r.Ips.Add(new ResultIp { Address = Cidr("fd00::5/64"), Gateway = IPAddress.Parse("fd00::1"), Interface = 1 });
        r.Routes.Add(new ResultRoute { Dst = Cidr("0.0.0.0/0"), Gw = IPAddress.Parse("10.88.0.1"), Mtu = 1400, AdvMss = 1360, Priority = 10, Table = 100, Scope = 0 });
        r.Routes.Add(new ResultRoute { Dst = Cidr("::/0") });
        r.Dns = new CniVeth.Cni.Dns { Nameservers = ["10.88.0.1"], Domain = "example.org", Search = ["example.org"], Options = ["ndots:2"] };
        return r;
    }

    /// <summary>What host-local prints standalone: no interfaces, ips without interface.</summary>
    public static Result Ipam()
    {
        var r = new Result();
        r.Ips.Add(new ResultIp { Address = Cidr("10.88.0.5/24"), Gateway = IPAddress.Parse("10.88.0.1") });
        r.Routes.Add(new ResultRoute { Dst = Cidr("0.0.0.0/0") });
        return r;
    }

    public static CidrAddress Cidr(string s) =>
        CidrAddress.TryParse(s, out var c) ? c : throw new ArgumentException(s);

    private const string DnsBlock = """
            "dns": {
                "nameservers": [
                    "10.88.0.1"
                ],
                "domain": "example.org",
                "search": [
                    "example.org"
                ],
                "options": [
                    "ndots:2"
                ]
            }
        """;

    public static readonly string Expected110 = """
        {
            "cniVersion": "1.1.0",
            "interfaces": [
                {
                    "name": "cni0",
                    "mac": "2e:55:af:5f:fe:92",
                    "mtu": 1500
                },
                {
                    "name": "eth0",
                    "mac": "02:00:0a:58:4d:c8",
                    "mtu": 1400,
                    "sandbox": "/run/netns/c1",
                    "socketPath": "/run/sock",
                    "pciID": "0000:04:00.5"
                }
            ],
            "ips": [
                {
                    "interface": 1,
                    "address": "10.88.0.5/24",
                    "gateway": "10.88.0.1"
                },
                {
                    "interface": 1,
                    "address": "10.99.0.5/24"
                },
                {
                    "interface": 1,
                    "address": "fd00::5/64",
                    "gateway": "fd00::1"
                }
            ],
            "routes": [
                {
                    "dst": "0.0.0.0/0",
                    "gw": "10.88.0.1",
                    "mtu": 1400,
                    "advmss": 1360,
                    "priority": 10,
                    "table": 100,
                    "scope": 0
                },
                {
                    "dst": "::/0"
                }
            ],
        """ + "\n" + DnsBlock + "\n}\n";

    public static readonly string Expected100 = """
        {
            "cniVersion": "1.0.0",
            "interfaces": [
                {
                    "name": "cni0",
                    "mac": "2e:55:af:5f:fe:92"
                },
                {
                    "name": "eth0",
                    "mac": "02:00:0a:58:4d:c8",
                    "sandbox": "/run/netns/c1"
                }
            ],
            "ips": [
                {
                    "interface": 1,
                    "address": "10.88.0.5/24",
                    "gateway": "10.88.0.1"
                },
                {
                    "interface": 1,
                    "address": "10.99.0.5/24"
                },
                {
                    "interface": 1,
                    "address": "fd00::5/64",
                    "gateway": "fd00::1"
                }
            ],
            "routes": [
                {
                    "dst": "0.0.0.0/0",
                    "gw": "10.88.0.1"
                },
                {
                    "dst": "::/0"
                }
            ],
        """ + "\n" + DnsBlock + "\n}\n";

    /// <summary>0.3.0, 0.3.1 and 0.4.0 share this shape; {0} is the version.</summary>
    private const string Expected04xTemplate = """
        {
            "cniVersion": "VERSION",
            "interfaces": [
                {
                    "name": "cni0",
                    "mac": "2e:55:af:5f:fe:92"
                },
                {
                    "name": "eth0",
                    "mac": "02:00:0a:58:4d:c8",
                    "sandbox": "/run/netns/c1"
                }
            ],
            "ips": [
                {
                    "version": "4",
                    "interface": 1,
                    "address": "10.88.0.5/24",
                    "gateway": "10.88.0.1"
                },
                {
                    "version": "4",
                    "interface": 1,
                    "address": "10.99.0.5/24"
                },
                {
                    "version": "6",
                    "interface": 1,
                    "address": "fd00::5/64",
                    "gateway": "fd00::1"
                }
            ],
            "routes": [
                {
                    "dst": "0.0.0.0/0",
                    "gw": "10.88.0.1"
                },
                {
                    "dst": "::/0"
                }
            ],
        """;

    public static string Expected04x(string version) =>
        Expected04xTemplate.Replace("VERSION", version) + "\n" + DnsBlock + "\n}\n";

    public static readonly string Expected031 = Expected04x("0.3.1");

    /// <summary>0.1.0 and 0.2.0: first address per family, routes split by family.</summary>
    private const string Expected02xTemplate = """
        {
            "cniVersion": "VERSION",
            "ip4": {
                "ip": "10.88.0.5/24",
                "gateway": "10.88.0.1",
                "routes": [
                    {
                        "dst": "0.0.0.0/0",
                        "gw": "10.88.0.1"
                    }
                ]
            },
            "ip6": {
                "ip": "fd00::5/64",
                "gateway": "fd00::1",
                "routes": [
                    {
                        "dst": "::/0"
                    }
                ]
            },
        """;

    public static string Expected02x(string version) =>
        Expected02xTemplate.Replace("VERSION", version) + "\n" + DnsBlock + "\n}\n";
}
