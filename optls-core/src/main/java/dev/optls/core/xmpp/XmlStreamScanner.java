package dev.optls.core.xmpp;

import dev.optls.core.Limits;
import dev.optls.core.internal.InputBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bounded, namespace-aware scanner for one XMPP stream (RFC 6120 §4, §11): it reads the stream header,
 * then complete first-level elements, then the stream close, straight from the dialect's {@link
 * InputBuffer}, and consumes the bytes of a unit only once the unit is complete.
 *
 * <p>It is not a general XML parser, on purpose (no {@code javax.xml}: no DTD machinery, nothing
 * unbounded):
 *
 * <ul>
 *   <li>UTF-8 only (RFC 6120 §11.6); malformed UTF-8 is not well-formed. An XML declaration is accepted
 *       only at the very start of a stream (XML 1.0 §2.8) and must not name another encoding.
 *   <li>RFC 6120 §11.1: comments, processing instructions, DTDs ({@code <!DOCTYPE}) and entity references
 *       other than the five predefined ones are refused ({@code restricted-xml}); character references
 *       ({@code &#169;}) and CDATA sections are allowed.
 *   <li>Namespaces in XML 1.0: {@code xmlns} and {@code xmlns:p} scopes; an element's name is resolved,
 *       so {@code <stream:features>} and {@code <features xmlns='http://etherx.jabber.org/streams'>} are
 *       the same thing (protocols.md §5.5). Attribute values may use {@code '} or {@code "}.
 *   <li>Whitespace between first-level elements (RFC 6120 §4.6.1 keep-alives) is skipped; other
 *       character data there is refused ({@code bad-format}).
 *   <li>Bounds: one tag (with its attributes) at most {@link Limits#maxLineLength()} bytes; the text of one
 *       element at most {@link Limits#maxLineLength()} bytes; at most {@link Limits#maxReplyLines()}
 *       elements in one first-level element; {@link #MAX_DEPTH} levels; {@link #MAX_ATTRIBUTES}
 *       attributes per tag; the whole first-level element is bounded by the input buffer ({@link
 *       Limits#maxBufferedBytes()}). Text is consumed as it arrives and a tag is re-read only while it is
 *       incomplete, so the work per input byte is bounded by the tag limit.
 * </ul>
 *
 * <p>A new XML document starts after TLS (RFC 6120 §5.4.3.3): call {@link #reset()}.
 */
public final class XmlStreamScanner {
    /** Most nested elements inside one first-level element, itself included. */
    public static final int MAX_DEPTH = 16;

    /** Most attributes (namespace declarations included) in one tag. */
    public static final int MAX_ATTRIBUTES = 32;

    /** The namespace bound to the {@code xml} prefix (Namespaces in XML 1.0 §3). */
    public static final String XML_NS = "http://www.w3.org/XML/1998/namespace";

    /** What is wrong with the input, mapped by the dialects to RFC 6120 §4.9.3 stream error conditions. */
    public enum Problem {
        /** Not well-formed XML ({@code not-well-formed}, RFC 6120 §4.9.3.13). */
        NOT_WELL_FORMED("not-well-formed"),
        /** Comments, PIs, DTDs, entity references ({@code restricted-xml}, RFC 6120 §4.9.3.18). */
        RESTRICTED_XML("restricted-xml"),
        /** Well-formed but not an XMPP stream, e.g. text between stanzas ({@code bad-format}, §4.9.3.1). */
        BAD_FORMAT("bad-format"),
        /** The stream element is not in the streams namespace ({@code invalid-namespace}, §4.9.3.10). */
        INVALID_NAMESPACE("invalid-namespace"),
        /** The XML declaration names an encoding other than UTF-8 ({@code unsupported-encoding}, §4.9.3.22). */
        UNSUPPORTED_ENCODING("unsupported-encoding"),
        /** A bound was exceeded ({@code policy-violation}, §4.9.3.14). */
        LIMIT("policy-violation");

        private final String condition;

        Problem(String condition) {
            this.condition = condition;
        }

        /** The RFC 6120 stream error condition that reports this problem. */
        public String condition() {
            return condition;
        }
    }

    /** The input is not an acceptable XMPP stream. */
    public static final class XmlException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final Problem problem;

        XmlException(Problem problem, String message) {
            super(message, null, false, false);
            this.problem = problem;
        }

        /** What kind of problem. */
        public Problem problem() {
            return problem;
        }
    }

    private final int maxTag;
    private final int maxText;
    private final int maxElements;

    private boolean documentStart;
    private boolean streamOpen;
    private boolean closed;
    private Map<String, String> streamScope;
    private String streamName;

    /** Bytes of the current unit already tokenised (the unit starts at buffer offset 0). */
    private int pos;

    private int elements;
    private final List<Builder> stack = new ArrayList<>();

    /** A scanner bounded by {@code limits}. */
    public XmlStreamScanner(Limits limits) {
        this.maxTag = limits.maxLineLength();
        this.maxText = limits.maxLineLength();
        this.maxElements = limits.maxReplyLines();
        reset();
    }

    /** Starts a new XML document: the next unit must be a stream header (RFC 6120 §5.4.3.3, §6.4.6). */
    public void reset() {
        documentStart = true;
        streamOpen = false;
        closed = false;
        streamScope = Map.of("xml", XML_NS);
        streamName = null;
        pos = 0;
        elements = 0;
        stack.clear();
    }

    /** Whether the stream header has been read and the stream not closed yet. */
    public boolean inStream() {
        return streamOpen && !closed;
    }

    /**
     * The next complete unit, consuming its bytes (and any whitespace before it) from {@code in}; null
     * when more input is needed.
     *
     * @throws XmlException when the input is not an acceptable XMPP stream
     */
    public XmlEvent next(InputBuffer in) {
        if (closed) {
            return null;
        }
        while (true) {
            if (stack.isEmpty()) {
                XmlEvent event = between(in);
                if (event != null || stack.isEmpty()) {
                    return event;
                }
            }
            int c = at(in, pos);
            if (c < 0) {
                return null;
            }
            if (c == '<') {
                int c1 = at(in, pos + 1);
                if (c1 < 0) {
                    return null;
                }
                if (c1 == '/') {
                    XmlEvent done = endTag(in);
                    if (done == INCOMPLETE) {
                        return null;
                    }
                    if (done != null) {
                        return done;
                    }
                } else if (c1 == '!') {
                    if (!cdata(in)) {
                        return null;
                    }
                } else if (c1 == '?') {
                    throw restricted("a processing instruction");
                } else if (!startTag(in)) {
                    return null;
                }
            } else if (c == '&') {
                int end = reference(in, pos, top().text);
                if (end < 0) {
                    return null;
                }
                pos = end;
            } else {
                text(in);
            }
        }
    }

    /** Between units: whitespace, the XML declaration, the stream header or close, or a new element. */
    private XmlEvent between(InputBuffer in) {
        while (true) {
            int c = at(in, 0);
            if (c < 0) {
                return null;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                // RFC 6120 §4.6.1: whitespace between elements (keep-alives) carries nothing.
                in.take(1);
                documentStart = false;
                continue;
            }
            if (c != '<') {
                throw new XmlException(
                        streamOpen ? Problem.BAD_FORMAT : Problem.NOT_WELL_FORMED,
                        streamOpen
                                ? "character data between stream elements (only whitespace is allowed there)"
                                : "the stream does not start with '<'");
            }
            int c1 = at(in, 1);
            if (c1 < 0) {
                return null;
            }
            if (c1 == '?') {
                if (documentStart && !streamOpen) {
                    int decl = declaration(in);
                    if (decl == 1) {
                        return null;
                    }
                    if (decl == 2) {
                        return xmlDeclaration(in) ? between(in) : null;
                    }
                }
                throw restricted("a processing instruction");
            }
            if (c1 == '!') {
                throw restricted(streamOpen ? "a comment, CDATA section or DTD between stanzas" : "a DTD or comment");
            }
            if (c1 == '/') {
                if (!streamOpen) {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "an end tag before the stream header");
                }
                XmlEvent e = endTag(in);
                return e == INCOMPLETE ? null : e;
            }
            pos = 0;
            if (!startTag(in)) {
                return null;
            }
            if (!streamOpen) {
                return streamHeader(in);
            }
            return completedTopLevel(in);
        }
    }

    private static final byte[] XML_DECL = "<?xml".getBytes(StandardCharsets.US_ASCII);

    /** 0: not an XML declaration; 1: cannot tell yet; 2: {@code <?xml} followed by white space. */
    private static int declaration(InputBuffer in) {
        for (int i = 0; i <= XML_DECL.length; i++) {
            int c = at(in, i);
            if (c < 0) {
                return 1;
            }
            if (i == XML_DECL.length) {
                return c == ' ' || c == '\t' || c == '\r' || c == '\n' ? 2 : 0;
            }
            if (c != XML_DECL[i]) {
                return 0;
            }
        }
        return 0;
    }

    /** XML 1.0 §2.8: {@code <?xml version='1.0' ...?>}; consumes it when complete. */
    private boolean xmlDeclaration(InputBuffer in) {
        int i = XML_DECL.length;
        while (true) {
            int c = bounded(in, i, 0);
            if (c < 0) {
                return false;
            }
            if (c == '?') {
                int c1 = bounded(in, i + 1, 0);
                if (c1 < 0) {
                    return false;
                }
                if (c1 == '>') {
                    break;
                }
            }
            if (c == '<' || c == '>') {
                throw new XmlException(Problem.NOT_WELL_FORMED, "malformed XML declaration");
            }
            i++;
        }
        byte[] decl = in.take(i + 2);
        documentStart = false;
        String text = new String(decl, StandardCharsets.ISO_8859_1);
        int enc = text.indexOf("encoding");
        if (enc >= 0) {
            int q = enc + "encoding".length();
            while (q < text.length() && (text.charAt(q) == ' ' || text.charAt(q) == '=')) {
                q++;
            }
            if (q < text.length() && (text.charAt(q) == '\'' || text.charAt(q) == '"')) {
                int close = text.indexOf(text.charAt(q), q + 1);
                String name = close < 0 ? "" : text.substring(q + 1, close);
                // RFC 6120 §11.6: XMPP is UTF-8 only.
                if (!name.equalsIgnoreCase("UTF-8")) {
                    throw new XmlException(
                            Problem.UNSUPPORTED_ENCODING, "the XML declaration names encoding " + name + ", not UTF-8");
                }
            }
        }
        return true;
    }

    /** The stream header tag was read into a builder: check it, consume it, and report it. */
    private XmlEvent streamHeader(InputBuffer in) {
        Builder b = stack.get(0);
        if (!b.closed) {
            stack.clear();
        } else {
            throw new XmlException(Problem.NOT_WELL_FORMED, "the stream header <" + b.qname + "/> is an empty element");
        }
        if (!b.namespace.equals(XmppNames.STREAMS) || !b.local.equals("stream")) {
            // RFC 6120 §4.9.3.10: the stream element must be {http://etherx.jabber.org/streams}stream.
            throw new XmlException(
                    Problem.INVALID_NAMESPACE,
                    "the stream header is <" + b.qname + "> in namespace '" + b.namespace + "', not <stream> in "
                            + XmppNames.STREAMS);
        }
        in.take(pos);
        pos = 0;
        elements = 0;
        documentStart = false;
        streamOpen = true;
        streamScope = b.scope;
        streamName = b.qname;
        return new XmlEvent.StreamOpen(b.build(), b.scope.getOrDefault("", ""));
    }

    private XmlEvent completedTopLevel(InputBuffer in) {
        Builder b = stack.get(stack.size() - 1);
        if (!b.closed) {
            return null; // children follow
        }
        stack.clear();
        return unitDone(in, b.build());
    }

    private XmlEvent unitDone(InputBuffer in, XmlElement element) {
        byte[] raw = in.take(pos);
        pos = 0;
        elements = 0;
        return new XmlEvent.Element(element, raw);
    }

    /** A marker for "the end tag is incomplete". */
    private static final XmlEvent INCOMPLETE = new XmlEvent.StreamClose();

    /**
     * An end tag at {@code pos}: closes the current element, the first-level element (returned) or the
     * stream. Returns {@link #INCOMPLETE} when more input is needed, null when an inner element closed.
     */
    private XmlEvent endTag(InputBuffer in) {
        int start = pos;
        int nameEnd = name(in, start + 2, start);
        if (nameEnd < 0) {
            return INCOMPLETE;
        }
        String qname = utf8(in, start + 2, nameEnd);
        int i = skipSpace(in, nameEnd, start);
        int c = bounded(in, i, start);
        if (c < 0) {
            return INCOMPLETE;
        }
        if (c != '>') {
            throw new XmlException(Problem.NOT_WELL_FORMED, "malformed end tag </" + qname);
        }
        pos = i + 1;
        if (stack.isEmpty()) {
            // RFC 6120 §4.4: the stream ends with the close tag of the stream element.
            if (!qname.equals(streamName)) {
                throw new XmlException(
                        Problem.NOT_WELL_FORMED, "end tag </" + qname + "> does not close <" + streamName + ">");
            }
            in.take(pos);
            pos = 0;
            closed = true;
            return new XmlEvent.StreamClose();
        }
        Builder b = stack.remove(stack.size() - 1);
        if (!qname.equals(b.qname)) {
            throw new XmlException(
                    Problem.NOT_WELL_FORMED, "end tag </" + qname + "> does not match <" + b.qname + ">");
        }
        XmlElement element = b.build();
        if (stack.isEmpty()) {
            return unitDone(in, element);
        }
        top().children.add(element);
        return null;
    }

    /** A start tag at {@code pos}; false when incomplete. The element is pushed (or added, if empty). */
    private boolean startTag(InputBuffer in) {
        int start = pos;
        int nameEnd = name(in, start + 1, start);
        if (nameEnd < 0) {
            return false;
        }
        String qname = utf8(in, start + 1, nameEnd);
        List<String[]> rawAttributes = new ArrayList<>();
        int i = nameEnd;
        boolean empty;
        while (true) {
            int afterSpace = skipSpace(in, i, start);
            int c = bounded(in, afterSpace, start);
            if (c < 0) {
                return false;
            }
            if (c == '>') {
                i = afterSpace + 1;
                empty = false;
                break;
            }
            if (c == '/') {
                int c1 = bounded(in, afterSpace + 1, start);
                if (c1 < 0) {
                    return false;
                }
                if (c1 != '>') {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "malformed tag <" + qname);
                }
                i = afterSpace + 2;
                empty = true;
                break;
            }
            if (afterSpace == i) {
                throw new XmlException(Problem.NOT_WELL_FORMED, "no space before an attribute in <" + qname);
            }
            int attrEnd = name(in, afterSpace, start);
            if (attrEnd < 0) {
                return false;
            }
            String attrName = utf8(in, afterSpace, attrEnd);
            int eq = skipSpace(in, attrEnd, start);
            int ce = bounded(in, eq, start);
            if (ce < 0) {
                return false;
            }
            if (ce != '=') {
                throw new XmlException(Problem.NOT_WELL_FORMED, "attribute " + attrName + " has no value");
            }
            int q = skipSpace(in, eq + 1, start);
            int quote = bounded(in, q, start);
            if (quote < 0) {
                return false;
            }
            if (quote != '\'' && quote != '"') {
                throw new XmlException(Problem.NOT_WELL_FORMED, "attribute " + attrName + " is not quoted");
            }
            Bytes value = new Bytes(maxTag);
            int v = q + 1;
            while (true) {
                int cv = bounded(in, v, start);
                if (cv < 0) {
                    return false;
                }
                if (cv == quote) {
                    break;
                }
                if (cv == '<') {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "'<' in the value of attribute " + attrName);
                }
                if (cv == '&') {
                    int end = reference(in, v, value);
                    if (end < 0) {
                        return false;
                    }
                    v = end;
                    continue;
                }
                checkChar(cv);
                // XML 1.0 §3.3.3: literal white space in an attribute value is normalised to a space.
                value.add(cv == '\t' || cv == '\r' || cv == '\n' ? ' ' : cv);
                v++;
            }
            if (rawAttributes.size() + 1 > MAX_ATTRIBUTES) {
                throw new XmlException(Problem.LIMIT, "more than " + MAX_ATTRIBUTES + " attributes in <" + qname + ">");
            }
            for (String[] a : rawAttributes) {
                if (a[0].equals(attrName)) {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "attribute " + attrName + " repeated");
                }
            }
            rawAttributes.add(new String[] {attrName, value.utf8()});
            i = v + 1;
        }
        if (stack.size() + 1 > MAX_DEPTH) {
            throw new XmlException(Problem.LIMIT, "elements nested deeper than " + MAX_DEPTH + " levels");
        }
        if (++elements > maxElements) {
            throw new XmlException(Problem.LIMIT, "more than " + maxElements + " elements in one stanza");
        }
        Map<String, String> parentScope = stack.isEmpty() ? streamScope : top().scope;
        Builder b = new Builder(qname, resolveScope(parentScope, rawAttributes), maxText);
        b.resolve(rawAttributes);
        pos = i;
        if (empty) {
            b.closed = true;
            if (!stack.isEmpty()) {
                top().children.add(b.build());
                return true;
            }
        }
        stack.add(b);
        return true;
    }

    private static Map<String, String> resolveScope(Map<String, String> parent, List<String[]> rawAttributes) {
        Map<String, String> scope = null;
        for (String[] a : rawAttributes) {
            String prefix;
            if (a[0].equals("xmlns")) {
                prefix = "";
            } else if (a[0].startsWith("xmlns:")) {
                prefix = a[0].substring(6);
                // Namespaces in XML 1.0 §3: a prefix cannot be undeclared, and xmlns/xml are reserved.
                if (a[1].isEmpty() || prefix.equals("xmlns") || prefix.equals("xml") && !a[1].equals(XML_NS)) {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "illegal namespace declaration " + a[0]);
                }
            } else {
                continue;
            }
            if (scope == null) {
                scope = new HashMap<>(parent);
            }
            scope.put(prefix, a[1]);
        }
        return scope == null ? parent : Map.copyOf(scope);
    }

    /** {@code <![CDATA[...]]>} at {@code pos}, appended to the text; comments and DTDs are refused. */
    private boolean cdata(InputBuffer in) {
        byte[] open = "<![CDATA[".getBytes(StandardCharsets.US_ASCII);
        int start = pos;
        for (int k = 2; k < open.length; k++) {
            int c = bounded(in, start + k, start);
            if (c < 0) {
                return false;
            }
            if (c != open[k]) {
                // RFC 6120 §11.1: no comments, no DTDs.
                throw restricted(c == '-' && k == 2 ? "a comment" : "a DTD or other markup declaration");
            }
        }
        int i = start + open.length;
        Bytes text = top().text;
        int mark = text.size();
        while (true) {
            int c = bounded(in, i, start);
            if (c < 0) {
                text.truncate(mark);
                return false;
            }
            if (c == ']' && at(in, i + 1) == ']' && at(in, i + 2) == '>') {
                pos = i + 3;
                return true;
            }
            if (c == ']' && (at(in, i + 1) < 0 || at(in, i + 1) == ']' && at(in, i + 2) < 0)) {
                text.truncate(mark);
                return false;
            }
            checkChar(c);
            text.add(c);
            i++;
        }
    }

    /** Character data at {@code pos} up to the next markup or the end of the input, appended to the text. */
    private void text(InputBuffer in) {
        Bytes text = top().text;
        int i = pos;
        while (true) {
            int c = at(in, i);
            if (c < 0 || c == '<' || c == '&') {
                break;
            }
            checkChar(c);
            text.add(c);
            i++;
        }
        pos = i;
    }

    /**
     * A reference at {@code i} ({@code &amp;}, {@code &#x41;}), appended to {@code target}; returns the
     * index after it, or -1 when incomplete.
     */
    private int reference(InputBuffer in, int i, Bytes target) {
        int j = i + 1;
        StringBuilder name = new StringBuilder();
        while (true) {
            int c = at(in, j);
            if (c < 0) {
                return -1;
            }
            if (c == ';') {
                break;
            }
            if (name.length() >= 10 || c <= ' ' || c == '<' || c == '&') {
                throw new XmlException(Problem.NOT_WELL_FORMED, "malformed reference &" + name);
            }
            name.append((char) c);
            j++;
        }
        String n = name.toString();
        int codePoint;
        switch (n) {
            case "amp" -> codePoint = '&';
            case "lt" -> codePoint = '<';
            case "gt" -> codePoint = '>';
            case "quot" -> codePoint = '"';
            case "apos" -> codePoint = '\'';
            default -> {
                if (!n.startsWith("#")) {
                    // RFC 6120 §11.1: only the five predefined entities may be referenced.
                    throw restricted("the entity reference &" + n + ";");
                }
                codePoint = characterReference(n);
            }
        }
        target.addUtf8(codePoint);
        return j + 1;
    }

    private static int characterReference(String n) {
        boolean hex = n.startsWith("#x");
        String digits = n.substring(hex ? 2 : 1);
        int value;
        try {
            value = digits.isEmpty() || digits.charAt(0) == '+' || digits.charAt(0) == '-'
                    ? -1
                    : Integer.parseInt(digits, hex ? 16 : 10);
        } catch (NumberFormatException e) {
            value = -1;
        }
        // XML 1.0 §2.2 Char and §4.1 WFC: Legal Character.
        boolean legal = value == 0x9
                || value == 0xA
                || value == 0xD
                || value >= 0x20 && value <= 0xD7FF
                || value >= 0xE000 && value <= 0xFFFD
                || value >= 0x10000 && value <= 0x10FFFF;
        if (!legal) {
            throw new XmlException(Problem.NOT_WELL_FORMED, "character reference &" + n + "; is not a legal character");
        }
        return value;
    }

    /** XML 1.0 §2.2: control characters other than tab, CR and LF are not allowed. */
    private static void checkChar(int c) {
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') {
            throw new XmlException(
                    Problem.NOT_WELL_FORMED, "control character 0x" + Integer.toHexString(c) + " in the stream");
        }
    }

    /**
     * The end of a name starting at {@code i}, or -1 when the input ends inside it. Names are checked
     * loosely (XML 1.0 §2.3, ASCII part; bytes above 0x7F are accepted and checked as UTF-8).
     */
    private int name(InputBuffer in, int i, int tagStart) {
        int j = i;
        int colons = 0;
        while (true) {
            int c = bounded(in, j, tagStart);
            if (c < 0) {
                return -1;
            }
            boolean nameChar = c >= 0x80
                    || c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c == '_'
                    || c == ':'
                    || j > i && (c >= '0' && c <= '9' || c == '-' || c == '.');
            if (!nameChar) {
                break;
            }
            if (c == ':') {
                colons++;
            }
            j++;
        }
        if (j == i || colons > 1 || in.get(i) == ':' || in.get(j - 1) == ':') {
            throw new XmlException(Problem.NOT_WELL_FORMED, "malformed name in a tag");
        }
        return j;
    }

    private int skipSpace(InputBuffer in, int i, int tagStart) {
        int j = i;
        while (true) {
            int c = bounded(in, j, tagStart);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                return j;
            }
            j++;
        }
    }

    /** The byte at {@code i} (unsigned) or -1 past the input; a tag longer than the limit is refused. */
    private int bounded(InputBuffer in, int i, int tagStart) {
        if (i - tagStart >= maxTag) {
            throw new XmlException(Problem.LIMIT, "a tag longer than " + maxTag + " bytes");
        }
        return at(in, i);
    }

    private static int at(InputBuffer in, int i) {
        return i < in.size() ? in.get(i) & 0xff : -1;
    }

    private static String utf8(InputBuffer in, int from, int to) {
        byte[] b = new byte[to - from];
        for (int k = 0; k < b.length; k++) {
            b[k] = in.get(from + k);
        }
        return Bytes.decode(b);
    }

    private Builder top() {
        return stack.get(stack.size() - 1);
    }

    private static XmlException restricted(String what) {
        return new XmlException(Problem.RESTRICTED_XML, what + " is not allowed in XMPP (RFC 6120 §11.1)");
    }

    /** An element being read. */
    private static final class Builder {
        final String qname;
        final Map<String, String> scope;
        final List<XmlElement> children = new ArrayList<>();
        final Bytes text;
        final List<XmlElement.Attribute> attributes = new ArrayList<>();
        String namespace;
        String local;
        boolean closed;

        Builder(String qname, Map<String, String> scope, int maxText) {
            this.qname = qname;
            this.scope = scope;
            this.text = new Bytes(maxText);
            int colon = qname.indexOf(':');
            String prefix = colon < 0 ? "" : qname.substring(0, colon);
            this.local = qname.substring(colon + 1);
            String ns = scope.get(prefix);
            if (ns == null) {
                if (!prefix.isEmpty()) {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "unbound namespace prefix in <" + qname + ">");
                }
                ns = "";
            }
            this.namespace = ns;
        }

        void resolve(List<String[]> rawAttributes) {
            for (String[] a : rawAttributes) {
                String name = a[0];
                if (name.equals("xmlns") || name.startsWith("xmlns:")) {
                    continue;
                }
                int colon = name.indexOf(':');
                if (colon < 0) {
                    attributes.add(new XmlElement.Attribute("", name, a[1]));
                    continue;
                }
                String ns = scope.get(name.substring(0, colon));
                if (ns == null) {
                    throw new XmlException(Problem.NOT_WELL_FORMED, "unbound namespace prefix in attribute " + name);
                }
                attributes.add(new XmlElement.Attribute(ns, name.substring(colon + 1), a[1]));
            }
        }

        XmlElement build() {
            return new XmlElement(namespace, local, qname, attributes, children, text.utf8());
        }
    }

    /** A bounded growable byte array (no java.io in the core). */
    private static final class Bytes {
        private final int max;
        private byte[] b = new byte[32];
        private int n;

        Bytes(int max) {
            this.max = max;
        }

        int size() {
            return n;
        }

        void truncate(int size) {
            n = size;
        }

        void add(int c) {
            if (n >= max) {
                throw new XmlException(Problem.LIMIT, "text or attribute value longer than " + max + " bytes");
            }
            if (n == b.length) {
                b = Arrays.copyOf(b, Math.min(max, b.length * 2));
            }
            b[n++] = (byte) c;
        }

        void addUtf8(int codePoint) {
            byte[] enc = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
            for (byte x : enc) {
                add(x & 0xff);
            }
        }

        String utf8() {
            return decode(Arrays.copyOf(b, n));
        }

        /** Strict UTF-8 (RFC 3629): malformed, overlong and surrogate sequences are not well-formed. */
        static String decode(byte[] bytes) {
            int i = 0;
            while (i < bytes.length) {
                int c = bytes[i] & 0xff;
                int extra;
                int min;
                if (c < 0x80) {
                    i++;
                    continue;
                } else if (c >= 0xC2 && c <= 0xDF) {
                    extra = 1;
                    min = 0x80;
                } else if (c >= 0xE0 && c <= 0xEF) {
                    extra = 2;
                    min = 0x800;
                } else if (c >= 0xF0 && c <= 0xF4) {
                    extra = 3;
                    min = 0x10000;
                } else {
                    throw badUtf8();
                }
                if (i + extra >= bytes.length) {
                    throw badUtf8();
                }
                int cp = c & (0x3F >> extra);
                for (int k = 1; k <= extra; k++) {
                    int cc = bytes[i + k] & 0xff;
                    if ((cc & 0xC0) != 0x80) {
                        throw badUtf8();
                    }
                    cp = cp << 6 | cc & 0x3F;
                }
                if (cp < min || cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
                    throw badUtf8();
                }
                i += extra + 1;
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }

        private static XmlException badUtf8() {
            return new XmlException(Problem.NOT_WELL_FORMED, "malformed UTF-8 (RFC 6120 §11.6: XMPP is UTF-8)");
        }
    }
}
