namespace CniVeth.Cni;

/// <summary>(stub, replaced by the contract branch)</summary>
internal static class NetConfValidator
{
    public static void ValidateBridge(NetConf conf, string version) { }
}
