using System.Net;
using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// The internal (1.1-shaped) Result printed in the shape of the requested version, following the
/// conversions of cni:pkg/types/100, 040 and 020: 1.x as is (1.1-only fields dropped for 1.0.0),
/// 0.3.x/0.4.0 with ips[].version and reduced interfaces/routes, 0.1.0/0.2.0 as ip4/ip6.
/// Zero/empty optional fields are omitted like Go's omitempty; "dns" is always an object.
/// </summary>
internal static class ResultWriter
{
    public static byte[] ToJson(Result result, string version)
    {
        if (!CniVersions.IsSupported(version))
            throw CniException.Internal($"cannot convert result to unsupported version \"{version}\"");
        if (CniVersions.IsLegacy(version))
            return WriteLegacy(result, version);
        return CniJsonWriter.Build(w => WriteModern(w, result, version));
    }

    private static void WriteModern(Utf8JsonWriter w, Result result, string version)
    {
        bool v11 = version == "1.1.0";
        bool ipVersionField = CniVersions.HasIpVersionField(version);

        w.WriteStartObject();
        w.WriteString("cniVersion", version);
        if (result.Interfaces.Count > 0)
        {
            w.WriteStartArray("interfaces");
            foreach (var iface in result.Interfaces)
            {
                w.WriteStartObject();
                w.WriteString("name", iface.Name);
                WriteIfSet(w, "mac", iface.Mac);
                if (v11 && iface.Mtu is > 0) w.WriteNumber("mtu", iface.Mtu.Value);
                WriteIfSet(w, "sandbox", iface.Sandbox);
                if (v11) WriteIfSet(w, "socketPath", iface.SocketPath);
                if (v11) WriteIfSet(w, "pciID", iface.PciId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (result.Ips.Count > 0)
        {
            w.WriteStartArray("ips");
            foreach (var ip in result.Ips)
            {
                w.WriteStartObject();
                if (ipVersionField) w.WriteString("version", ip.Address.IsIPv4 ? "4" : "6");
                if (ip.Interface is { } index) w.WriteNumber("interface", index);
                w.WriteString("address", ip.Address.ToString());
                if (ip.Gateway is not null) w.WriteString("gateway", ip.Gateway.ToString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (result.Routes.Count > 0)
        {
            w.WriteStartArray("routes");
            foreach (var route in result.Routes)
                WriteRoute(w, route, withRouteOptions: v11);
            w.WriteEndArray();
        }
        WriteDns(w, result.Dns);
        w.WriteEndObject();
    }

    /// <summary>0.1.0/0.2.0: only the first address of each family, routes split by family.</summary>
    private static byte[] WriteLegacy(Result result, string version)
    {
        var ip4 = result.Ips.FirstOrDefault(ip => ip.Address.IsIPv4);
        var ip6 = result.Ips.FirstOrDefault(ip => !ip.Address.IsIPv4);
        if (ip4 is null && ip6 is null)
            throw CniException.Internal("cannot convert: no valid IP addresses",
                $"CNI {version} results must carry an IP address; use cniVersion 0.3.0 or later for a config without addresses");
        return CniJsonWriter.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", version);
            if (ip4 is not null) WriteLegacyIp(w, "ip4", ip4, result.Routes.Where(r => r.Dst.IsIPv4));
            if (ip6 is not null) WriteLegacyIp(w, "ip6", ip6, result.Routes.Where(r => !r.Dst.IsIPv4));
            WriteDns(w, result.Dns);
            w.WriteEndObject();
        });
    }

    private static void WriteLegacyIp(Utf8JsonWriter w, string name, ResultIp ip, IEnumerable<ResultRoute> routes)
    {
        w.WriteStartObject(name);
        w.WriteString("ip", ip.Address.ToString());
        if (ip.Gateway is not null) w.WriteString("gateway", ip.Gateway.ToString());
        var list = routes.ToList();
        if (list.Count > 0)
        {
            w.WriteStartArray("routes");
            foreach (var route in list) WriteRoute(w, route, withRouteOptions: false);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteRoute(Utf8JsonWriter w, ResultRoute route, bool withRouteOptions)
    {
        w.WriteStartObject();
        w.WriteString("dst", route.Dst.ToString());
        if (route.Gw is IPAddress gw) w.WriteString("gw", gw.ToString());
        if (withRouteOptions)
        {
            if (route.Mtu is > 0) w.WriteNumber("mtu", route.Mtu.Value);
            if (route.AdvMss is > 0) w.WriteNumber("advmss", route.AdvMss.Value);
            if (route.Priority is > 0) w.WriteNumber("priority", route.Priority.Value);
            if (route.Table is { } table) w.WriteNumber("table", table);
            if (route.Scope is { } scope) w.WriteNumber("scope", scope);
        }
        w.WriteEndObject();
    }

    /// <summary>Always present (the reference prints "dns": {} when empty).</summary>
    private static void WriteDns(Utf8JsonWriter w, Dns? dns)
    {
        w.WriteStartObject("dns");
        if (dns is not null)
        {
            WriteList(w, "nameservers", dns.Nameservers);
            WriteIfSet(w, "domain", dns.Domain);
            WriteList(w, "search", dns.Search);
            WriteList(w, "options", dns.Options);
        }
        w.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter w, string name, List<string>? values)
    {
        if (values is null || values.Count == 0) return;
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value)) w.WriteString(name, value);
    }
}
