package dev.optls.core.xmpp;

/** What {@link XmlStreamScanner} produces: the stream header, complete top-level elements, the close. */
public sealed interface XmlEvent {

    /**
     * The opening {@code <stream:stream>} tag (RFC 6120 §4.2), namespaces resolved. It has no children.
     *
     * @param header the stream element's name and attributes
     * @param contentNamespace the default namespace declared on it ({@code jabber:client}, {@code
     *     jabber:server}), empty if none
     */
    record StreamOpen(XmlElement header, String contentNamespace) implements XmlEvent {}

    /**
     * A complete first-level child of the stream ({@code <stream:features/>}, {@code <proceed/>}, a
     * stanza).
     *
     * @param element the element tree
     * @param raw its bytes exactly as received, from {@code <} to the final {@code >}
     */
    record Element(XmlElement element, byte[] raw) implements XmlEvent {
        public Element {
            raw = raw.clone();
        }

        @Override
        public byte[] raw() {
            return raw.clone();
        }
    }

    /** The closing {@code </stream:stream>} tag (RFC 6120 §4.4). */
    record StreamClose() implements XmlEvent {}
}
