using System.Net;
using CniVeth.Values;

namespace CniVeth.Cni;

/// <summary>
/// The values a runtime can ask for in three places, merged by the CNI conventions:
/// CNI_ARGS is the deprecated channel, `args.cni` the structured one, `runtimeConfig` the capability one.
/// </summary>
internal static class RequestedValues
{
    /// <summary>CNI_ARGS MAC &lt; args.cni.mac &lt; runtimeConfig.mac (the reference bridge's order).
    /// Null when none is set; throws code 7 naming the source of an invalid MAC.</summary>
    public static string? Mac(NetConf conf, CniArgs args)
    {
        (string? value, string source) =
            !string.IsNullOrEmpty(conf.RuntimeConfig?.Mac) ? (conf.RuntimeConfig.Mac, "runtimeConfig.mac")
            : !string.IsNullOrEmpty(conf.Args?.Cni?.Mac) ? (conf.Args.Cni.Mac, "args.cni.mac")
            : !string.IsNullOrEmpty(args.Mac) ? (args.Mac, "CNI_ARGS MAC")
            : ((string?)null, "");
        if (value is null) return null;
        return MacAddress.TryNormalize(value, out var mac, out var problem)
            ? mac
            : throw CniException.Config($"invalid MAC address \"{value}\" in {source}: {problem}");
    }

    /// <summary>runtimeConfig.ips, then args.cni.ips, or CNI_ARGS IP= when args.cni.ips is absent
    /// (args wins over CNI_ARGS). Prefixes are accepted and ignored; duplicates dropped; order kept.</summary>
    public static IReadOnlyList<IPAddress> Ips(NetConf conf, CniArgs args)
    {
        var result = new List<IPAddress>();
        Add(result, conf.RuntimeConfig?.Ips, "runtimeConfig.ips");
        if (conf.Args?.Cni?.Ips is { Count: > 0 } argIps)
            Add(result, argIps, "args.cni.ips");
        else if (!string.IsNullOrEmpty(args.Ip))
            Add(result, args.Ip.Split(',').Select(s => s.Trim()).ToList(), "CNI_ARGS IP");
        return result;
    }

    private static void Add(List<IPAddress> into, List<string>? texts, string source)
    {
        if (texts is null) return;
        foreach (var text in texts)
        {
            if (!IpText.TryParseIpMaybeCidr(text, out var ip))
                throw CniException.Config($"invalid IP address \"{text}\" in {source}",
                    "expected an address such as 10.88.0.5 or 2001:db8::5, optionally with /prefix");
            if (!into.Contains(ip)) into.Add(ip);
        }
    }
}
