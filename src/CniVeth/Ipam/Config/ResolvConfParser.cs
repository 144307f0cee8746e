using CniVeth.Cni;

namespace CniVeth.Ipam.Config;

/// <summary>resolv.conf → result dns: nameserver (first argument of each line), domain, search and
/// options (all arguments); '#' and ';' start comments.</summary>
internal static class ResolvConfParser
{
    public static Dns ParseFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CniException.Config($"cannot read resolvConf \"{path}\": {e.Message}");
        }
        return Parse(text);
    }

    public static Dns Parse(string text)
    {
        var dns = new Dns();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine;
            int comment = line.IndexOfAny(['#', ';']);
            if (comment >= 0) line = line[..comment];
            string[] fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            switch (fields[0])
            {
                case "nameserver":
                    (dns.Nameservers ??= new()).Add(fields[1]);
                    break;
                case "domain":
                    dns.Domain = fields[1];
                    break;
                case "search":
                    (dns.Search ??= new()).AddRange(fields[1..]);
                    break;
                case "options":
                    (dns.Options ??= new()).AddRange(fields[1..]);
                    break;
            }
        }
        return dns;
    }
}
