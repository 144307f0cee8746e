namespace CniVeth.Netlink.Route;

/// <summary>Typed rtnetlink operations over one socket (one namespace): reads (links, addresses, routes)
/// and batches of changes (RouteBatch). Encoding lives in RouteRequests, decoding in LinkInfo,
/// AddressInfo and RouteInfo; this class only sends and pairs.</summary>
internal sealed class RouteClient(NetlinkSocket socket) : IDisposable
{
    private readonly NetlinkMessageBuilder _query = new();

    public static RouteClient Open() => new(NetlinkSocket.Open(Nl.NETLINK_ROUTE));

    /// <summary>A new, empty batch of changes on this socket.</summary>
    public RouteBatch Batch() => new(socket);

    /// <summary>The changes <paramref name="requests"/> adds to a new batch, sent at once; returns what it
    /// returns (typically the NetlinkOp of a single request, for its outcome).</summary>
    public T Send<T>(Func<RouteBatch, T> requests)
    {
        var batch = Batch();
        T result = requests(batch);
        batch.Send();
        return result;
    }

    public LinkInfo? GetLink(string name)
    {
        RouteRequests.GetLink(Query(), name);
        byte[]? reply = socket.Get(_query, $"looking up link \"{name}\"", Errno.ENODEV);
        return reply is null ? null : LinkInfo.Parse(reply);
    }

    /// <summary>Only the index of a link, 0 when missing. Unlike RTM_GETLINK it does not run a new link's
    /// pending state change in the caller (docs/BENCHMARKS.md, session 3: 1.7 ms of an ADD at 1,000 ports).</summary>
    public int IndexOf(string name) => socket.InterfaceIndex(name);

    public LinkInfo? GetLink(int index)
    {
        RouteRequests.GetLink(Query(), index);
        byte[]? reply = socket.Get(_query, $"looking up link #{index}", Errno.ENODEV);
        return reply is null ? null : LinkInfo.Parse(reply);
    }

    /// <summary>The namespace-wide forwarding switch of a family (net.ipv4.ip_forward,
    /// net.ipv6.conf.all.forwarding); null when the kernel does not report it (IPv6 off at boot).
    /// Read over netlink, not /proc/sys: a /proc/sys lookup walks one dentry per network namespace that
    /// looked up the same directory, 5 ms per ADD with 3,000 namespaces (docs/BENCHMARKS.md, session 6).</summary>
    public int? GetForwarding(byte family)
    {
        RouteRequests.GetNetconfAll(Query(), family);
        byte[]? reply = socket.Get(_query, $"reading the {(family == Rtnl.AF_INET6 ? "IPv6" : "IPv4")} forwarding setting",
            Errno.EOPNOTSUPP, Errno.EAFNOSUPPORT);
        return reply is null ? null : NetconfInfo.Parse(reply).Forwarding;
    }

    public List<LinkInfo> DumpLinks()
    {
        RouteRequests.DumpLinks(Query());
        return socket.Dump(_query, "listing links").ConvertAll(m => LinkInfo.Parse(m));
    }

    /// <summary>Addresses of one family (AF_UNSPEC: both) on one link (0: every link).</summary>
    public List<AddressInfo> DumpAddresses(byte family, int index)
    {
        RouteRequests.DumpAddresses(Query(), family, index);
        var all = socket.Dump(_query, "listing addresses").ConvertAll(m => AddressInfo.Parse(m));
        return index == 0 ? all : all.FindAll(a => a.Index == index);
    }

    public List<RouteInfo> DumpRoutes(byte family)
    {
        RouteRequests.DumpRoutes(Query(), family);
        return socket.Dump(_query, "listing routes").ConvertAll(m => RouteInfo.Parse(m));
    }

    private NetlinkMessageBuilder Query()
    {
        _query.Clear();
        return _query;
    }

    public void Dispose() => socket.Dispose();
}
