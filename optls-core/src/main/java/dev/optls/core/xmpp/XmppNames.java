package dev.optls.core.xmpp;

import dev.optls.core.Capabilities;
import java.util.ArrayList;
import java.util.List;

/**
 * XMPP namespaces (RFC 6120 §11.2 and the XEPs named) and the mapping between {@code <stream:features/>}
 * and {@link Capabilities} entries used by both dialects.
 *
 * <p>Capability entries: {@code starttls} (or {@code starttls required}), {@code mechanisms PLAIN
 * SCRAM-SHA-1} (SASL, RFC 6120 §6.4.1), and the local name of any other feature ({@code bind}, {@code
 * session}, {@code dialback}, {@code sm}, {@code csi}, ...).
 */
public final class XmppNames {
    /** RFC 6120 §4.2: the stream namespace. */
    public static final String STREAMS = "http://etherx.jabber.org/streams";
    /** RFC 6120 §5.4: STARTTLS. */
    public static final String TLS = "urn:ietf:params:xml:ns:xmpp-tls";
    /** RFC 6120 §4.9.2: stream error conditions. */
    public static final String STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";
    /** RFC 6120 §6.4.1: SASL. */
    public static final String SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
    /** RFC 6120 §4.8.3: the content namespace of client-to-server streams. */
    public static final String CLIENT = "jabber:client";
    /** RFC 6120 §4.8.3: the content namespace of server-to-server streams. */
    public static final String SERVER = "jabber:server";
    /** XEP-0220: the dialback namespace, declared on s2s stream headers. */
    public static final String DIALBACK = "jabber:server:dialback";

    private static final String[][] KNOWN_FEATURES = {
        {"bind", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"},
        {"session", "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"},
        {"dialback", "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"},
        {"sm", "<sm xmlns='urn:xmpp:sm:3'/>"},
        {"csi", "<csi xmlns='urn:xmpp:csi:0'/>"},
        {"ver", "<ver xmlns='urn:xmpp:features:rosterver'/>"},
    };

    private XmppNames() {}

    /** The advertised features as capability entries, in order. */
    public static Capabilities capabilities(XmlElement features) {
        List<String> entries = new ArrayList<>();
        for (XmlElement f : features.children()) {
            if (f.is(TLS, "starttls")) {
                // RFC 6120 §5.4.1: <required/> marks STARTTLS as mandatory-to-negotiate.
                entries.add(f.child(TLS, "required").isPresent() ? "starttls required" : "starttls");
            } else if (f.is(SASL, "mechanisms")) {
                StringBuilder sb = new StringBuilder("mechanisms");
                for (XmlElement m : f.children()) {
                    if (m.is(SASL, "mechanism") && !m.text().isBlank()) {
                        sb.append(' ').append(m.text().strip());
                    }
                }
                entries.add(sb.toString());
            } else {
                entries.add(f.localName());
            }
        }
        return new Capabilities(entries);
    }

    /**
     * The {@code <stream:features/>} children for capability entries ({@code starttls} entries are left
     * out: the dialect decides about STARTTLS). An entry starting with {@code <} is copied as XML.
     *
     * @throws IllegalArgumentException for an entry that names no known feature
     */
    public static String featuresXml(Capabilities capabilities) {
        StringBuilder sb = new StringBuilder();
        for (String entry : capabilities.entries()) {
            if (entry.startsWith("<")) {
                sb.append(entry);
                continue;
            }
            String keyword = entry.split(" ", 2)[0];
            if (keyword.equalsIgnoreCase("starttls")) {
                continue;
            }
            if (keyword.equals("mechanisms")) {
                sb.append("<mechanisms xmlns='").append(SASL).append("'>");
                for (String m : entry.substring(keyword.length()).strip().split(" ")) {
                    if (!m.isEmpty()) {
                        sb.append("<mechanism>").append(escape(m)).append("</mechanism>");
                    }
                }
                sb.append("</mechanisms>");
                continue;
            }
            sb.append(known(keyword, entry));
        }
        return sb.toString();
    }

    private static String known(String keyword, String entry) {
        for (String[] f : KNOWN_FEATURES) {
            if (f[0].equals(keyword)) {
                return f[1];
            }
        }
        throw new IllegalArgumentException("unknown XMPP stream feature '" + entry + "': use mechanisms, bind,"
                + " session, dialback, sm, csi, ver, or the feature's XML starting with '<'");
    }

    /** Escapes text for an XML attribute value or character data. */
    public static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '\'' -> sb.append("&apos;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
