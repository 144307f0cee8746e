using CniVeth.Cni;

namespace CniVeth.Netlink.Route;

/// <summary>Typed rtnetlink operations over one socket (one namespace). Encoding lives in Messages,
/// decoding in LinkInfo/AddressInfo/RouteInfo; this class only pairs requests with replies.</summary>
internal sealed class RouteClient : IDisposable
{
    private readonly NetlinkMessageBuilder _b = new();
    public NetlinkSocket Socket { get; }

    public RouteClient(NetlinkSocket socket) => Socket = socket;

    public static RouteClient Open() => new(NetlinkSocket.Open(Nl.NETLINK_ROUTE));

    /// <summary>A fresh builder for a batch of requests (see Execute).</summary>
    public NetlinkMessageBuilder Batch()
    {
        _b.Clear();
        return _b;
    }

    public NetlinkAck[] Execute(NetlinkMessageBuilder batch) => Socket.Execute(batch);

    public LinkInfo? GetLink(string name)
    {
        var b = Batch();
        Messages.GetLink(b, name);
        byte[]? reply = Socket.Get(b, $"looking up link \"{name}\"", Errno.ENODEV);
        return reply is null ? null : LinkInfo.Parse(reply);
    }

    public LinkInfo? GetLink(int index)
    {
        var b = Batch();
        Messages.GetLink(b, index);
        byte[]? reply = Socket.Get(b, $"looking up link #{index}", Errno.ENODEV);
        return reply is null ? null : LinkInfo.Parse(reply);
    }

    public List<LinkInfo> DumpLinks()
    {
        var b = Batch();
        Messages.DumpLinks(b);
        return Socket.Dump(b, "listing links").Select(m => LinkInfo.Parse(m)).ToList();
    }

    public List<AddressInfo> DumpAddresses(byte family, int index)
    {
        var b = Batch();
        Messages.DumpAddresses(b, family, index);
        return Socket.Dump(b, "listing addresses").Select(m => AddressInfo.Parse(m))
            .Where(a => index == 0 || a.Index == index).ToList();
    }

    public List<RouteInfo> DumpRoutes(byte family)
    {
        var b = Batch();
        Messages.DumpRoutes(b, family);
        return Socket.Dump(b, "listing routes").Select(m => RouteInfo.Parse(m)).ToList();
    }

    /// <summary>Runs one request; throws NetlinkException(operation) unless it succeeded or failed with an
    /// errno in <paramref name="tolerated"/>. Returns the errno (0 on success).</summary>
    public int Do(Action<NetlinkMessageBuilder> encode, string operation, params int[] tolerated)
    {
        var b = Batch();
        encode(b);
        NetlinkAck ack = Socket.Execute(b)[0];
        if (ack.Ok || Array.IndexOf(tolerated, ack.Errno) >= 0) return ack.Errno;
        throw new NetlinkException(operation, ack.Errno, ack.KernelMessage);
    }

    public void Dispose() => Socket.Dispose();
}
