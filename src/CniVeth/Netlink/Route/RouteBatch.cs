using CniVeth.Values;

namespace CniVeth.Netlink.Route;

/// <summary>
/// rtnetlink changes sent together: each method encodes one request and returns its NetlinkOp (its
/// description, the errnos it tolerates and, after Send, its outcome). Reads as intent in the caller:
/// <code>
/// var gw = batch.AddAddress(bridge.Index, gateway, noDad: true, "adding gateway ...", Errno.EEXIST);
/// batch.Send();
/// if (gw.Succeeded) ... // we added it (EEXIST: it was there)
/// </code>
/// </summary>
internal sealed class RouteBatch(NetlinkSocket socket)
{
    private readonly RequestBatch _batch = new();

    public int Count => _batch.Count;

    /// <summary>A bridge, created up with a fixed MAC (and VLAN filtering when asked).</summary>
    public NetlinkOp CreateBridge(string name, int mtu, byte[] mac, bool vlanFiltering, string description, params int[] tolerated)
    {
        RouteRequests.NewBridge(_batch.Messages, name, mtu, mac, vlanFiltering);
        return _batch.Record(description, tolerated);
    }

    /// <summary>A veth pair in one request: the host end up and enslaved, the peer born in its namespace.</summary>
    public NetlinkOp CreateVeth(string hostName, int masterIndex, int mtu, string peerName, SafeFd? peerNetNs, byte[]? peerMac,
        string description, params int[] tolerated)
    {
        RouteRequests.NewVeth(_batch.Messages, hostName, masterIndex, mtu, peerName, peerNetNs, peerMac);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp SetBridgeVlanFiltering(int index, bool on, string description, params int[] tolerated)
    {
        RouteRequests.SetBridgeVlanFiltering(_batch.Messages, index, on);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp DeleteLink(int index, string description, params int[] tolerated)
    {
        RouteRequests.DelLink(_batch.Messages, index);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp DeleteLinkGroup(uint group, string description, params int[] tolerated)
    {
        RouteRequests.DelLinkGroup(_batch.Messages, group);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp DeleteLink(string name, string description, params int[] tolerated)
    {
        RouteRequests.DelLink(_batch.Messages, name);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp SetLink(int index, LinkChange change, string description, params int[] tolerated)
    {
        RouteRequests.SetLink(_batch.Messages, index, change);
        return _batch.Record(description, tolerated);
    }

    /// <summary>Hairpin and isolation flags of a bridge port.</summary>
    public NetlinkOp SetBridgePort(int index, bool hairpin, bool isolated, string description, params int[] tolerated)
    {
        RouteRequests.SetBridgePort(_batch.Messages, index, hairpin, isolated);
        return _batch.Record(description, tolerated);
    }

    /// <summary>Adds (or removes) VLANs of a bridge port.</summary>
    public NetlinkOp SetPortVlans(int index, bool delete, IEnumerable<PortVlan> vlans, string description, params int[] tolerated)
    {
        RouteRequests.PortVlans(_batch.Messages, index, delete, vlans);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp AddAddress(int index, CidrAddress address, bool noDad, string description, params int[] tolerated)
    {
        RouteRequests.NewAddress(_batch.Messages, index, address, noDad);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp DeleteAddress(int index, CidrAddress address, string description, params int[] tolerated)
    {
        RouteRequests.DelAddress(_batch.Messages, index, address);
        return _batch.Record(description, tolerated);
    }

    public NetlinkOp AddRoute(int oif, RouteSpec route, string description, params int[] tolerated)
    {
        RouteRequests.NewRoute(_batch.Messages, oif, route);
        return _batch.Record(description, tolerated);
    }

    /// <summary>Sends every request; throws the first failure that is not tolerated (see RequestBatch).</summary>
    public void Send() => _batch.Send(socket);
}
