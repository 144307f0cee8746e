using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using CniVeth.Cni;

namespace CniVeth.UnitTests.Cni;

/// <summary>
/// A canonical text of everything a NetConf holds: every public property, walked by reflection, so a field
/// added to the config cannot be left out of the comparison. Strings are quoted with every non-ASCII or
/// control character escaped; nulls inside lists are shown; RawJson as its offsets, kind and bytes.
/// </summary>
internal static class NetConfDump
{
    public static string Of(NetConf conf)
    {
        var sb = new StringBuilder();
        Value(sb, conf, "");
        return sb.ToString();
    }

    private static void Value(StringBuilder sb, object? value, string indent)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case string s: Quote(sb, s); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case RawJson raw:
                sb.Append("raw(").Append(raw.Start).Append('+').Append(raw.Length).Append(' ').Append(raw.Kind).Append(") ");
                Quote(sb, Encoding.UTF8.GetString(raw.Bytes.Span));
                break;
            case IList list:
                sb.Append('[');
                foreach (object? item in list) { sb.Append('\n').Append(indent).Append("  "); Value(sb, item, indent + "  "); }
                sb.Append(']');
                break;
            default:
                Type type = value.GetType();
                if (type.Namespace != typeof(NetConf).Namespace) throw new InvalidOperationException("no dump for " + type);
                sb.Append(type.Name).Append(" {");
                foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                             .OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    sb.Append('\n').Append(indent).Append("  ").Append(p.Name).Append(": ");
                    Value(sb, p.GetValue(value), indent + "  ");
                }
                sb.Append('}');
                break;
        }
    }

    private static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            if (c is >= ' ' and < (char)0x7f and not '"' and not '\\') sb.Append(c);
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        sb.Append('"');
    }
}
