using System.Net;
using CniVeth.Cni;
using CniVeth.Ipam.Allocation;

namespace CniVeth.Ipam.Config;

/// <summary>Static addresses asked for by the runtime. Precedence: runtimeConfig.ips, then args.cni.ips
/// when present, otherwise the CNI_ARGS IP= value. Prefix lengths are ignored (the subnet's is used).</summary>
internal static class RequestedAddresses
{
    public static IReadOnlyList<IPAddress> FromRequest(CniRequest request)
    {
        var texts = new List<string>();
        if (request.Conf.RuntimeConfig?.Ips is { } runtimeIps) texts.AddRange(runtimeIps);
        if (request.Conf.Args?.Cni?.Ips is { Count: > 0 } argIps) texts.AddRange(argIps);
        else if (!string.IsNullOrEmpty(request.Args.Ip)) texts.AddRange(request.Args.Ip.Split(','));

        var result = new List<IPAddress>();
        foreach (string text in texts)
        {
            if (!IpMath.TryParseAddress(text, out var address))
                throw CniException.Config($"cannot understand requested ip \"{text}\"");
            if (!result.Contains(address)) result.Add(address);
        }
        return result;
    }
}
