using System.Text.Json;

namespace CniVeth.Cni;

/// <summary>
/// Stdin bytes -> NetConf: the one place that knows the config's JSON keys, every level of them. Read with
/// <see cref="JsonFieldReader"/> (System.Text.Json's Utf8JsonReader, no reflection or metadata); errors are
/// code 6 and name the field in config terms: `field "ipam.ranges[0][0].subnet": expected a string`.
/// </summary>
/// <remarks>
/// The rare sections (cniVersions, vlanTrunk, dns, runtimeConfig, args) are bound after the rest of stdin has
/// been read, as the System.Text.Json reader before this one did: their errors come after every other error
/// in stdin and carry no position. prevResult and GC's attachment lists stay raw (RawJson): their readers
/// (ResultParser, ValidAttachments) read them in place.
/// </remarks>
internal static class NetConfReader
{
    public static NetConf Parse(byte[] json)
    {
        try
        {
            var r = new JsonFieldReader(json);
            r.ReadFirst();
            Deferred later = default;
            NetConf conf = ReadRoot(ref r, json, ref later);

            // As the old reader did: each section on its own, once the rest of stdin has been read.
            if (later.CniVersions.Length > 0)
            {
                var s = Section(json, later.CniVersions, "cniVersions");
                conf.CniVersions = s.Strings();
            }
            if (later.VlanTrunk.Length > 0)
            {
                var s = Section(json, later.VlanTrunk, "vlanTrunk");
                conf.VlanTrunk = ReadVlanTrunks(ref s);
            }
            if (later.Dns.Length > 0)
            {
                var s = Section(json, later.Dns, "dns");
                conf.Dns = ReadDns(ref s);
            }
            if (later.RuntimeConfig.Length > 0)
            {
                var s = Section(json, later.RuntimeConfig, "runtimeConfig");
                conf.RuntimeConfig = ReadRuntimeConfig(ref s);
            }
            if (later.Args.Length > 0)
            {
                var s = Section(json, later.Args, "args");
                conf.Args = ReadArgs(ref s);
            }
            return conf;
        }
        catch (JsonException e)
        {
            throw JsonFieldReader.SyntaxError(e);
        }
    }

    private static JsonFieldReader Section(byte[] json, (int Start, int Length) at, string key)
    {
        var r = new JsonFieldReader(json.AsSpan(at.Start, at.Length), key);
        r.ReadFirst(); // already validated as part of stdin
        return r;
    }

    /// <summary>Where the rare sections are in stdin (length 0: absent or null).</summary>
    private struct Deferred
    {
        public (int Start, int Length) CniVersions, VlanTrunk, Dns, RuntimeConfig, Args;
    }

    private static NetConf ReadRoot(ref JsonFieldReader r, byte[] json, ref Deferred later)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            r.ReadEnd();
            throw new CniException(ErrorCode.DecodeFailure, "error decoding network config: stdin must be a JSON object, got null");
        }
        r.BeginObject();
        var c = new NetConf();
        while (r.NextMember())
        {
            if (r.Is("cniVersion")) c.CniVersion = r.String();
            else if (r.Is("cniVersions")) later.CniVersions = r.Span();
            else if (r.Is("name")) c.Name = r.String();
            else if (r.Is("type")) c.Type = r.String();
            else if (r.Is("bridge")) c.Bridge = r.String();
            else if (r.Is("isGateway")) c.IsGateway = r.Bool();
            else if (r.Is("isDefaultGateway")) c.IsDefaultGateway = r.Bool();
            else if (r.Is("forceAddress")) c.ForceAddress = r.Bool();
            else if (r.Is("ipMasq")) c.IpMasq = r.Bool();
            else if (r.Is("ipMasqBackend")) c.IpMasqBackend = r.String();
            else if (r.Is("nonMasqueradeCIDRs")) c.NonMasqueradeCidrs = r.Strings();
            else if (r.Is("mtu")) c.Mtu = r.Int();
            else if (r.Is("hairpinMode")) c.HairpinMode = r.Bool();
            else if (r.Is("promiscMode")) c.PromiscMode = r.Bool();
            else if (r.Is("vlan")) c.Vlan = r.Int();
            else if (r.Is("vlanTrunk")) later.VlanTrunk = r.Span();
            else if (r.Is("preserveDefaultVlan")) c.PreserveDefaultVlan = r.Bool();
            else if (r.Is("enabledad")) c.EnableDad = r.Bool();
            else if (r.Is("macspoofchk")) c.MacSpoofChk = r.Bool();
            else if (r.Is("disableContainerInterface")) c.DisableContainerInterface = r.Bool();
            else if (r.Is("portIsolation")) c.PortIsolation = r.Bool();
            else if (r.Is("ipam")) c.Ipam = ReadIpam(ref r);
            else if (r.Is("dns")) later.Dns = r.Span();
            else if (r.Is("runtimeConfig")) later.RuntimeConfig = r.Span();
            else if (r.Is("args")) later.Args = r.Span();
            else if (r.Is("prevResult")) c.PrevResult = r.Raw(json);
            else if (r.Is(ValidAttachments.Key)) c.ValidAttachmentsSection = r.Raw(json);
            else if (r.Is(ValidAttachments.LegacyKey)) c.LegacyAttachmentsSection = r.Raw(json);
            else if (r.Is("logFile")) c.LogFile = r.String();
            else if (r.Is("logLevel")) c.LogLevel = r.String();
            else r.Skip();
        }
        r.ReadEnd();
        return c;
    }

    private static IpamConf? ReadIpam(ref JsonFieldReader r)
    {
        if (!r.BeginObject()) return null;
        var ipam = new IpamConf();
        while (r.NextMember())
        {
            if (r.Is("type")) ipam.Type = r.String();
            else if (r.Is("ranges")) ipam.Ranges = ReadRangeSets(ref r);
            else if (r.Is("subnet")) ipam.Subnet = r.String();
            else if (r.Is("rangeStart")) ipam.RangeStart = r.String();
            else if (r.Is("rangeEnd")) ipam.RangeEnd = r.String();
            else if (r.Is("gateway")) ipam.Gateway = r.String();
            else if (r.Is("routes")) ipam.Routes = ReadRoutes(ref r);
            else if (r.Is("dataDir")) ipam.DataDir = r.String();
            else if (r.Is("resolvConf")) ipam.ResolvConf = r.String();
            else r.Skip();
        }
        return ipam;
    }

    // Null elements stay null in every list, as they did (the consumers check for them).

    private static List<List<RangeConf>>? ReadRangeSets(ref JsonFieldReader r)
    {
        if (!r.BeginArray()) return null;
        var sets = new List<List<RangeConf>>();
        while (r.NextElement(sets.Count))
        {
            List<RangeConf>? set = null;
            if (r.BeginArray())
            {
                set = new List<RangeConf>();
                while (r.NextElement(set.Count)) set.Add(ReadRange(ref r)!);
            }
            sets.Add(set!);
        }
        return sets;
    }

    private static RangeConf? ReadRange(ref JsonFieldReader r)
    {
        if (!r.BeginObject()) return null;
        var range = new RangeConf();
        while (r.NextMember())
        {
            if (r.Is("subnet")) range.Subnet = r.String();
            else if (r.Is("rangeStart")) range.RangeStart = r.String();
            else if (r.Is("rangeEnd")) range.RangeEnd = r.String();
            else if (r.Is("gateway")) range.Gateway = r.String();
            else r.Skip();
        }
        return range;
    }

    private static List<RouteConf>? ReadRoutes(ref JsonFieldReader r)
    {
        if (!r.BeginArray()) return null;
        var routes = new List<RouteConf>();
        while (r.NextElement(routes.Count))
        {
            RouteConf? route = null;
            if (r.BeginObject())
            {
                route = new RouteConf();
                while (r.NextMember())
                {
                    if (r.Is("dst")) route.Dst = r.String();
                    else if (r.Is("gw")) route.Gw = r.String();
                    else if (r.Is("mtu")) route.Mtu = r.NullableInt();
                    else if (r.Is("advmss")) route.AdvMss = r.NullableInt();
                    else if (r.Is("priority")) route.Priority = r.NullableInt();
                    else if (r.Is("table")) route.Table = r.NullableInt();
                    else if (r.Is("scope")) route.Scope = r.NullableInt();
                    else r.Skip();
                }
            }
            routes.Add(route!);
        }
        return routes;
    }

    private static List<VlanTrunk>? ReadVlanTrunks(ref JsonFieldReader r)
    {
        if (!r.BeginArray()) return null;
        var trunks = new List<VlanTrunk>();
        while (r.NextElement(trunks.Count))
        {
            VlanTrunk? trunk = null;
            if (r.BeginObject())
            {
                trunk = new VlanTrunk();
                while (r.NextMember())
                {
                    if (r.Is("minID")) trunk.MinId = r.NullableInt();
                    else if (r.Is("maxID")) trunk.MaxId = r.NullableInt();
                    else if (r.Is("id")) trunk.Id = r.NullableInt();
                    else r.Skip();
                }
            }
            trunks.Add(trunk!);
        }
        return trunks;
    }

    private static Dns? ReadDns(ref JsonFieldReader r)
    {
        if (!r.BeginObject()) return null;
        var dns = new Dns();
        while (r.NextMember())
        {
            if (r.Is("nameservers")) dns.Nameservers = r.Strings();
            else if (r.Is("domain")) dns.Domain = r.String();
            else if (r.Is("search")) dns.Search = r.Strings();
            else if (r.Is("options")) dns.Options = r.Strings();
            else r.Skip();
        }
        return dns;
    }

    private static RuntimeConfig? ReadRuntimeConfig(ref JsonFieldReader r)
    {
        if (!r.BeginObject()) return null;
        var rc = new RuntimeConfig();
        while (r.NextMember())
        {
            if (r.Is("ips")) rc.Ips = r.Strings();
            else if (r.Is("mac")) rc.Mac = r.String();
            else if (r.Is("ipRanges")) rc.IpRanges = ReadRangeSets(ref r);
            else r.Skip();
        }
        return rc;
    }

    private static ConfArgs? ReadArgs(ref JsonFieldReader r)
    {
        if (!r.BeginObject()) return null;
        var args = new ConfArgs();
        while (r.NextMember())
        {
            if (r.Is("cni"))
            {
                CniConfArgs? cni = null;
                if (r.BeginObject())
                {
                    cni = new CniConfArgs();
                    while (r.NextMember())
                    {
                        if (r.Is("ips")) cni.Ips = r.Strings();
                        else if (r.Is("mac")) cni.Mac = r.String();
                        else r.Skip();
                    }
                }
                args.Cni = cni;
            }
            else r.Skip();
        }
        return args;
    }
}
