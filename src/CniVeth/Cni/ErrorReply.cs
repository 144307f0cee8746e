namespace CniVeth.Cni;

/// <summary>The error object every failure prints on stdout (libcni parses stdout, not stderr).</summary>
internal static class ErrorReply
{
    public static byte[] ToJson(string cniVersion, CniError error) =>
        CniJsonWriter.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", cniVersion);
            w.WriteNumber("code", error.Code);
            w.WriteString("msg", error.Message);
            w.WriteString("details", error.Details);
            w.WriteEndObject();
        });

    /// <summary>Any exception as a CNI error object (see CniError), never a stack trace.</summary>
    public static byte[] FromException(string cniVersion, Exception e) => ToJson(cniVersion, CniError.From(e));
}
