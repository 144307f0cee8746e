namespace CniVeth.Cni;

/// <summary>A plugin served by PluginHost: one method per verb (VERSION is answered by the host).</summary>
internal interface ICniPlugin
{
    /// <summary>Name for the "about" text, e.g. "cniveth (bridge)".</summary>
    string Name { get; }
    Result Add(CniRequest request);
    void Del(CniRequest request);
    void Check(CniRequest request);
    void Gc(CniRequest request);
    void Status(CniRequest request);
}
