using System.Net;
using CniVeth.Cni;
using CniVeth.Values;
using CniVeth.Ipam.Allocation;

namespace CniVeth.Ipam.Config;

/// <summary>ipam.routes → result routes, returned exactly as given (like the reference).</summary>
internal static class RouteParser
{
    public static List<ResultRoute> Parse(IEnumerable<RouteConf>? routes)
    {
        var result = new List<ResultRoute>();
        foreach (var route in routes ?? [])
        {
            string dst = route.Dst ?? "";
            if (!IpText.TryParseCidr(dst, out CidrAddress parsedDst))
                throw CniException.Config($"invalid route dst \"{dst}\" in ipam.routes");
            IPAddress address = parsedDst.Address;
            int prefix = parsedDst.PrefixLength;
            IPAddress? gw = null;
            if (!string.IsNullOrEmpty(route.Gw))
            {
                if (!IpText.TryParseIp(route.Gw, out var parsedGw))
                    throw CniException.Config($"invalid route gw \"{route.Gw}\" in ipam.routes");
                if (parsedGw.AddressFamily != address.AddressFamily)
                    throw CniException.Config($"route gw {parsedGw} is not of the address family of dst \"{dst}\" in ipam.routes");
                gw = parsedGw;
            }
            result.Add(new ResultRoute
            {
                Dst = new CidrAddress(address, prefix),
                Gw = gw, Mtu = route.Mtu, AdvMss = route.AdvMss, Priority = route.Priority,
                Table = route.Table, Scope = route.Scope,
            });
        }
        return result;
    }
}
