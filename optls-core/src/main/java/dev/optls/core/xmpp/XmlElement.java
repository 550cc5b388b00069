package dev.optls.core.xmpp;

import java.util.List;
import java.util.Optional;

/**
 * One complete element of an XMPP stream, with names resolved to namespaces (Namespaces in XML 1.0
 * §6). A small immutable tree: the scanner bounds its depth, size and number of nodes.
 *
 * @param namespace the namespace URI of the element, empty for none
 * @param localName the local part of the name
 * @param qualifiedName the name as written ({@code stream:features})
 * @param attributes the attributes other than namespace declarations, in order
 * @param children the child elements, in order
 * @param text the character data directly inside the element, concatenated (references resolved)
 */
public record XmlElement(
        String namespace,
        String localName,
        String qualifiedName,
        List<Attribute> attributes,
        List<XmlElement> children,
        String text) {

    /**
     * One attribute.
     *
     * @param namespace its namespace URI; empty for an unprefixed attribute (Namespaces in XML §6.2)
     * @param localName the local part of its name
     * @param value the normalised value, references resolved
     */
    public record Attribute(String namespace, String localName, String value) {}

    public XmlElement {
        attributes = List.copyOf(attributes);
        children = List.copyOf(children);
    }

    /** Whether this element has this expanded name. */
    public boolean is(String ns, String local) {
        return namespace.equals(ns) && localName.equals(local);
    }

    /** The value of the unprefixed attribute {@code local}, if present. */
    public Optional<String> attribute(String local) {
        return attribute("", local);
    }

    /** The value of the attribute with this expanded name, if present. */
    public Optional<String> attribute(String ns, String local) {
        for (Attribute a : attributes) {
            if (a.namespace().equals(ns) && a.localName().equals(local)) {
                return Optional.of(a.value());
            }
        }
        return Optional.empty();
    }

    /** The first child with this expanded name, if present. */
    public Optional<XmlElement> child(String ns, String local) {
        for (XmlElement c : children) {
            if (c.is(ns, local)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** The first child in namespace {@code ns}, whatever its name (stream error conditions). */
    public Optional<XmlElement> firstChildIn(String ns) {
        for (XmlElement c : children) {
            if (c.namespace().equals(ns)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
